/* config_value.c - typed reading of libconfig settings, with errors in
 * the "FILE:LINE: KEY: reason" form, and values written back in libconfig
 * syntax; shared by config.c and config_tunnels.c. */
#include "config_value.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* errors                                                               */

/* Keep the message on one printable line whatever the input contained. */
static void sanitize_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

int cfg_fail(struct cfg_ctx *x, int line, const char *key, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (!x->err || x->errlen == 0)
        return -1;
    if (line > 0 && key)
        snprintf(x->err, x->errlen, "%s:%d: %s: %s", x->file, line, key, reason);
    else if (line > 0)
        snprintf(x->err, x->errlen, "%s:%d: %s", x->file, line, reason);
    else if (key)
        snprintf(x->err, x->errlen, "%s: %s: %s", x->file, key, reason);
    else
        snprintf(x->err, x->errlen, "%s: %s", x->file, reason);
    sanitize_line(x->err);
    return -1;
}

int cfg_line(const config_setting_t *s)
{
    unsigned l = config_setting_source_line(s);
    return l > INT_MAX ? INT_MAX : (int)l;
}

const char *cfg_quote(const char *s, char *buf, size_t len)
{
    size_t o = 0, i = 0;
    const size_t maxin = 64;
    if (len < 8) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (; i < maxin && s[i] && o + 6 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            snprintf(buf + o, len - o, "\\x%02x", ch);
            o += 4;
        } else {
            buf[o++] = (char)ch;
        }
    }
    if (s[i] && o + 4 < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

const char *cfg_type_desc(int t)
{
    switch (t) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a floating-point number";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    case CONFIG_TYPE_GROUP:
        return "a group";
    default:
        return "an unknown type";
    }
}

/* Levenshtein distance, case-insensitive, for short identifiers. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

int cfg_unknown(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                        const char *const *known)
{
    const char *name = config_setting_name(s);
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; name && known[i]; i++) {
        size_t d = edit_distance(name, known[i]);
        size_t lim = strlen(known[i]) <= 3 ? 1 : 2;
        if (d <= lim && d < bestd) {
            bestd = d;
            best = known[i];
        }
    }
    if (best)
        return cfg_fail(x, cfg_line(s), path, "unknown key (did you mean \"%s\"?)", best);
    return cfg_fail(x, cfg_line(s), path, "unknown key");
}

int cfg_name_in(const char *name, const char *const *known)
{
    for (size_t i = 0; known[i]; i++)
        if (strcmp(name, known[i]) == 0)
            return 1;
    return 0;
}

void cfg_join(char *buf, size_t len, const char *prefix, const char *name)
{
    if (prefix && *prefix)
        snprintf(buf, len, "%s.%s", prefix, name);
    else
        snprintf(buf, len, "%s", name);
}

/* ------------------------------------------------------------------ */
/* typed getters                                                        */

int cfg_get_int(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                   long long lo, long long hi, long long *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
        return cfg_fail(x, cfg_line(s), path, "expected an integer, got %s", cfg_type_desc(t));
    long long v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return cfg_fail(x, cfg_line(s), path, "%lld is out of range (%lld..%lld)", v, lo, hi);
    *out = v;
    return 0;
}

int cfg_get_u32(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                   long long lo, long long hi, uint32_t *out)
{
    long long v = 0;
    if (cfg_get_int(x, s, path, lo, hi, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int cfg_get_double(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                      double lo, double hi, double *out)
{
    int t = config_setting_type(s);
    double v;
    if (t == CONFIG_TYPE_FLOAT)
        v = config_setting_get_float(s);
    else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
        v = (double)config_setting_get_int64(s);
    else
        return cfg_fail(x, cfg_line(s), path, "expected a number, got %s", cfg_type_desc(t));
    if (!(v >= lo && v <= hi))
        return cfg_fail(x, cfg_line(s), path, "%g is out of range (%g..%g)", v, lo, hi);
    *out = v;
    return 0;
}

int cfg_get_bool(struct cfg_ctx *x, const config_setting_t *s, const char *path, int *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_BOOL)
        return cfg_fail(x, cfg_line(s), path, "expected true or false, got %s", cfg_type_desc(t));
    *out = config_setting_get_bool(s) ? 1 : 0;
    return 0;
}

int cfg_get_str(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                   char *buf, size_t bufsz, int allow_empty)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_STRING)
        return cfg_fail(x, cfg_line(s), path, "expected a string, got %s", cfg_type_desc(t));
    const char *v = config_setting_get_string(s);
    if (!v)
        v = "";
    size_t n = strlen(v);
    if (n == 0 && !allow_empty)
        return cfg_fail(x, cfg_line(s), path, "must not be empty");
    if (n >= bufsz)
        return cfg_fail(x, cfg_line(s), path, "too long (%zu characters, at most %zu)", n, bufsz - 1);
    memcpy(buf, v, n + 1);
    return 0;
}

int cfg_get_addr(struct cfg_ctx *x, const config_setting_t *s, const char *path,
                    struct idt_addr *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_STRING)
        return cfg_fail(x, cfg_line(s), path, "expected a string, got %s", cfg_type_desc(t));
    const char *v = config_setting_get_string(s);
    if (idt_addr_parse(v ? v : "", out) < 0) {
        char q[300];
        return cfg_fail(x, cfg_line(s), path, "%s is not an IPv4 or IPv6 address",
                    cfg_quote(v ? v : "", q, sizeof q));
    }
    return 0;
}

int cfg_want_group(struct cfg_ctx *x, const config_setting_t *s, const char *path)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_GROUP)
        return cfg_fail(x, cfg_line(s), path, "expected a group { ... }, got %s", cfg_type_desc(t));
    return 0;
}

const char *cfg_family_name(int family)
{
    return family == 6 ? "IPv6" : "IPv4";
}

/* ------------------------------------------------------------------ */
/* printing                                                             */

void cfg_print_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch == '\t')
            fputs("\\t", out);
        else if (ch == '\r')
            fputs("\\r", out);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\x%02x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

/* Integer in libconfig syntax: values beyond 32 bits need the L suffix. */
void cfg_print_int(FILE *out, long long v)
{
    fprintf(out, "%lld%s", v, (v > INT_MAX || v < INT_MIN) ? "L" : "");
}

/* Shortest text that reads back to the same double, always with a '.'. */
void cfg_print_double(FILE *out, double v)
{
    char b[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (strtod(b, NULL) == v)
            break;
    }
    if (!strpbrk(b, ".eEn"))
        strcat(b, ".0");
    fputs(b, out);
}

void cfg_print_kv_str(FILE *out, const char *ind, const char *k, const char *v)
{
    fprintf(out, "%s%s = ", ind, k);
    cfg_print_str(out, v);
    fputs(";\n", out);
}

void cfg_print_kv_int(FILE *out, const char *ind, const char *k, long long v)
{
    fprintf(out, "%s%s = ", ind, k);
    cfg_print_int(out, v);
    fputs(";\n", out);
}
