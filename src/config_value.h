/* config_value.h - for the config_*.c files only: typed reading of
 * libconfig settings with errors in the "FILE:LINE: KEY: reason" form
 * (config.h), and writing values back in libconfig syntax. */
#ifndef IDT_CONFIG_VALUE_H
#define IDT_CONFIG_VALUE_H

#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

/* Where an error goes: the file name for messages, and the caller's buffer. */
struct cfg_ctx {
    const char *file;
    char *err;
    size_t errlen;
};

/* Write "FILE:LINE: KEY: reason" into x->err (LINE and KEY are left out
 * when 0 / NULL) on one printable line.  Always returns -1. */
__attribute__((format(printf, 4, 5)))
int cfg_fail(struct cfg_ctx *x, int line, const char *key, const char *fmt, ...);
/* "unknown key", with the closest of known (NULL-terminated) suggested. */
int cfg_unknown(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                const char *const *known);

int cfg_line(const config_setting_t *s);
/* A user-supplied string for a message: quoted, escaped, truncated. */
const char *cfg_quote(const char *s, char *buf, size_t len);
const char *cfg_type_desc(int type);           /* "an integer", "a group", ... */
const char *cfg_family_name(int family);       /* "IPv4" / "IPv6" */
int cfg_name_in(const char *name, const char *const *known);
/* buf = "prefix.name" ("name" for an empty prefix): a KEY for messages. */
void cfg_join(char *buf, size_t len, const char *prefix, const char *name);

/* Typed getters: 0, or -1 with the error written (wrong type, out of
 * lo..hi, not an address, ...).  path is the KEY for the message. */
int cfg_get_int(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                long long lo, long long hi, long long *out);
int cfg_get_u32(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                long long lo, long long hi, uint32_t *out);
int cfg_get_double(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                   double lo, double hi, double *out);
int cfg_get_bool(struct cfg_ctx *x, const config_setting_t *s, const char *path, int *out);
/* String into buf (size bufsz, so at most bufsz-1 characters). */
int cfg_get_str(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                char *buf, size_t bufsz, int allow_empty);
int cfg_get_addr(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                 struct idt_addr *out);
int cfg_want_group(struct cfg_ctx *x, const config_setting_t *s, const char *path);

/* Values in libconfig syntax, read back to the same value. */
void cfg_print_str(FILE *out, const char *s);
void cfg_print_int(FILE *out, long long v);
void cfg_print_double(FILE *out, double v);
/* IND KEY = VALUE;\n */
void cfg_print_kv_str(FILE *out, const char *ind, const char *k, const char *v);
void cfg_print_kv_int(FILE *out, const char *ind, const char *k, long long v);

#endif
