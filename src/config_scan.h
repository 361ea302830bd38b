/* config_scan.h - the text fix-up config.c applies before libconfig 1.5
 * reads a configuration (see config_scan.c).  Pure: no I/O. */
#ifndef IDT_CONFIG_SCAN_H
#define IDT_CONFIG_SCAN_H

#include <stddef.h>

#define CONFIG_SCAN_MAX_DEPTH 64    /* nested ( [ { at the most */

struct config_scan {
    int refused_line;       /* > 0: a token was refused on this line */
    char why[96];           /* then the reason, for the error message */
    int eof_line;           /* the line the text ends on */
};

/* A malloc'ed copy of text for libconfig: 'L' added to integer literals
 * beyond 32 bits, a newline added after a comment that ends the text.  A
 * refused token (an integer beyond 64 bits, @include, nesting too deep)
 * ends the copy with a character libconfig fails on: report libconfig's
 * error if its line is before r->refused_line, else r->why.  Report
 * libconfig's error lines no later than r->eof_line.  NULL: out of
 * memory. */
char *config_scan(const char *text, struct config_scan *r);

#endif
