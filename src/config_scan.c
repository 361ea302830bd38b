/* config_scan.c - what libconfig 1.5 gets wrong, fixed before it reads.
 *
 * libconfig 1.5 reads a plain integer literal into an int: 4294967295
 * silently becomes -1.  This scanner walks the text as libconfig's scanner
 * would tokenise it (comments, strings and names are passed over, so that
 * digits inside them are never touched), adds an 'L' to every integer
 * literal that does not fit 32 bits, and refuses literals that do not fit
 * 64 bits.  It also refuses @include (the file must not read other files)
 * and nesting deeper than CONFIG_SCAN_MAX_DEPTH.  The text handed over
 * ends at a refused token, with a character libconfig fails on, so that
 * an earlier error of libconfig's is still reported first.
 *
 * libconfig 1.5 leaks the text of a string token at which it detects a
 * syntax error.  A string can only stand where a value can: after '=' or
 * ':', '[' or '(', ',' inside an array or a list, or after another string
 * (concatenation).  A string anywhere else is handed over as one garbage
 * character where it ends, so libconfig reports the same syntax error on
 * the same line and has no string to leak.  Apart from the refusals,
 * every syntax error is libconfig's to report.
 *
 * Line numbers are counted like flex's yylineno (libconfig's error lines):
 * the line on which the token ends. */
#include "config_scan.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scan {
    const char *s;
    size_t i, n;
    int line;
    char *out;
    size_t o;
};

static void copy(struct scan *S, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        if (S->s[S->i] == '\n')
            S->line++;
        S->out[S->o++] = S->s[S->i++];
    }
}

static size_t digits(const struct scan *S, size_t j)
{
    size_t k = j;
    while (k < S->n && isdigit((unsigned char)S->s[k]))
        k++;
    return k - j;
}

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Length of a comment ('c'), string ('s') or name ('n') at S->i, its kind
 * in *kind; 0 if none starts there.  An unterminated string or comment
 * runs to the end of the text. */
static size_t skippable(const struct scan *S, char *kind)
{
    const char *p = S->s;
    size_t i = S->i, n = S->n, j;
    char c = p[i], nx = i + 1 < n ? p[i + 1] : '\0';
    *kind = 'c';
    if (c == '#' || (c == '/' && nx == '/')) {
        for (j = i; j < n && p[j] != '\n'; j++)
            ;
        return j - i;
    }
    if (c == '/' && nx == '*') {
        for (j = i + 2; j < n && !(p[j] == '*' && j + 1 < n && p[j + 1] == '/'); j++)
            ;
        return (j < n ? j + 2 : n) - i;
    }
    *kind = 's';
    if (c == '"') {
        for (j = i + 1; j < n && p[j] != '"'; j += (p[j] == '\\' && j + 1 < n) ? 2 : 1)
            ;
        return (j < n ? j + 1 : n) - i;
    }
    *kind = 'n';
    if (is_name_start(c)) {
        for (j = i + 1; j < n && is_name_char(p[j]); j++)
            ;
        return j - i;
    }
    return 0;
}

/* A number at S->i: its length (0 if none starts there) and whether it is
 * an integer (decimal or 0x hex, with its L/LL suffix) or a float. */
static size_t number(const struct scan *S, int *is_int, int *hex, size_t *suffix)
{
    const char *p = S->s;
    size_t i = S->i, n = S->n;
    size_t sg = (p[i] == '-' || p[i] == '+') ? 1 : 0;
    size_t d = digits(S, i + sg), j = i + sg + d;
    *is_int = 0;
    *hex = 0;
    *suffix = 0;
    if (p[i] == '0' && i + 2 < n && (p[i + 1] == 'x' || p[i + 1] == 'X') &&
        isxdigit((unsigned char)p[i + 2])) {
        for (j = i + 2; j < n && isxdigit((unsigned char)p[j]); j++)
            ;
        *hex = 1;
    } else {
        /* a float: digits and a '.', or digits and an exponent */
        size_t e = j;
        if (e < n && p[e] == '.')
            e += 1 + digits(S, e + 1);
        size_t x = e < n && (p[e] == 'e' || p[e] == 'E') ? e + 1 : e;
        if (x > e && x < n && (p[x] == '-' || p[x] == '+'))
            x++;
        size_t xd = x > e ? digits(S, x) : 0;
        if (xd)
            e = x + xd;
        if (e > j && (d || e > j + 1))
            return e - i;
        if (!d)
            return 0;
    }
    *is_int = 1;
    if (j < n && p[j] == 'L')
        *suffix = j + 1 < n && p[j + 1] == 'L' ? 2 : 1;
    return j + *suffix - i;
}

/* The integer literal at S->i (len characters, suffix included): copied,
 * with an 'L' added when it has none and does not fit 32 bits.  -1 if it
 * does not fit 64 bits. */
static int integer(struct scan *S, size_t len, int hex, size_t suffix)
{
    const char *p = S->s + S->i;
    int neg = p[0] == '-';
    size_t k = hex ? 2 : (p[0] == '-' || p[0] == '+') ? 1 : 0;
    unsigned base = hex ? 16 : 10;
    unsigned long long v = 0;
    int ovf = 0;
    for (; k < len - suffix; k++) {
        unsigned dg = isdigit((unsigned char)p[k]) ? (unsigned)(p[k] - '0')
                                                    : (unsigned)(tolower((unsigned char)p[k]) - 'a' + 10);
        if (v > (ULLONG_MAX - dg) / base)
            ovf = 1;
        else
            v = v * base + dg;
    }
    if (ovf || v > (neg ? (unsigned long long)LLONG_MAX + 1u : (unsigned long long)LLONG_MAX))
        return -1;
    copy(S, len);
    if (!suffix && v > (neg ? 2147483648ULL : 2147483647ULL))
        S->out[S->o++] = 'L';
    return 0;
}

/* A string token libconfig would reject (see the top of the file): handed
 * over as a garbage character where it ends, its newlines kept, so that
 * libconfig reports the same error on the same line without a string. */
static void defuse(struct scan *S, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        char ch = S->s[S->i++];
        if (k + 1 == len)               /* (an unterminated string may end in '\n') */
            S->out[S->o++] = '!';
        else if (ch != '\n')
            ch = ' ';
        S->line += ch == '\n';
        if (ch == '\n' || k + 1 < len)
            S->out[S->o++] = ch;
    }
}

/* May a string token follow prev (the kind of the previous token: 'n'
 * name, 's' string, '0' number, or its punctuation character) inside
 * the bracket `open` (0 at the top level)?  Only as a value: after '=' or
 * ':', '[' or '(', ',' in an array or a list, or another string. */
static int string_may_follow(char prev, char open)
{
    return (prev && strchr("=:[(s", prev)) || (prev == ',' && (open == '[' || open == '('));
}

/* The token at S->i is refused: the text handed over ends there, with a
 * garbage character on the token's line, so libconfig stops there too;
 * an earlier error of libconfig's is reported before this one. */
static void refuse(struct scan *S, struct config_scan *r, const char *why)
{
    snprintf(r->why, sizeof r->why, "%s", why);
    r->refused_line = S->line;
    S->out[S->o++] = '!';
    S->i = S->n;
}

char *config_scan(const char *text, struct config_scan *r)
{
    struct scan S = {text, 0, strlen(text), 1, NULL, 0};
    char open[CONFIG_SCAN_MAX_DEPTH], prev = 0, kind = 0;
    int depth = 0, open_comment = 0;
    r->refused_line = 0;
    r->why[0] = '\0';
    /* an integer literal needs >= 10 characters to get one more */
    S.out = malloc(S.n + S.n / 8 + 16);
    if (!S.out)
        return NULL;
    while (S.i < S.n) {
        char c = S.s[S.i];
        size_t len = skippable(&S, &kind), suffix;
        int is_int, hex;
        if (len && kind == 's' && !string_may_follow(prev, depth ? open[depth - 1] : 0)) {
            defuse(&S, len);
            prev = 'x';
        } else if (len) {
            open_comment = kind == 'c' && S.i + len == S.n && (c == '#' || S.s[S.i + 1] == '/');
            copy(&S, len);
            prev = kind == 'c' ? prev : kind;
        } else if (c == '@' && strncmp(S.s + S.i, "@include", 8) == 0) {
            refuse(&S, r, "@include is not supported");
        } else if ((len = number(&S, &is_int, &hex, &suffix)) > 0) {
            prev = '0';
            if (!is_int)
                copy(&S, len);
            else if (integer(&S, len, hex, suffix) < 0) {
                char why[sizeof r->why];
                snprintf(why, sizeof why, "syntax error: integer %.*s%s is out of range",
                         len > 36 ? 36 : (int)len, S.s + S.i, len > 36 ? "..." : "");
                refuse(&S, r, why);
            }
        } else if ((c == '(' || c == '[' || c == '{') && depth == CONFIG_SCAN_MAX_DEPTH) {
            refuse(&S, r, "syntax error: nesting too deep");
        } else {
            if (c == '(' || c == '[' || c == '{')
                open[depth++] = c;
            else if ((c == ')' || c == ']' || c == '}') && depth > 0)
                depth--;
            if (!isspace((unsigned char)c))
                prev = c;
            copy(&S, 1);
        }
    }
    r->eof_line = S.line;
    /* libconfig 1.5 refuses a comment at the very end without a newline */
    if (open_comment)
        S.out[S.o++] = '\n';
    S.out[S.o] = '\0';
    return S.out;
}
