/* config.c - load and validate the ipsecdiagtool configuration file.
 *
 * The file is libconfig syntax.  Every group and key is optional; anything
 * present is checked strictly (type, range, cross-field rules) and the first
 * problem found, in document order, is reported as ONE line:
 *
 *     FILE:LINE: KEY: reason
 *
 * KEY is the full dotted path; tunnel list entries are written with their
 * 0-based position, e.g. "tunnels[1].mtu.max".
 *
 * Three libconfig 1.5 quirks are handled by a pre-scan of the text that
 * follows libconfig's own scanner and grammar:
 *   - plain integer literals are silently truncated to 32 bits by libconfig
 *     (4294967295 would become -1), so an 'L' suffix is added to literals
 *     that do not fit; literals that do not fit in 64 bits are refused;
 *   - libconfig leaks memory on some syntax errors, so syntax is checked
 *     first and only valid text is handed to it;
 *   - @include would let the file read other files; it is refused.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#define CONF_MAX_FILE_BYTES (16u * 1024u * 1024u)

#ifndef LOCALSTATEDIR                   /* Makefile.am passes it; the fuzzer does not */
#define LOCALSTATEDIR "/var"
#endif
#define IDT_DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/ipsecdiagtool"

/* ------------------------------------------------------------------ */
/* address helpers                                                      */

int idt_addr_parse(const char *s, struct idt_addr *out)
{
    struct idt_addr a;
    memset(&a, 0, sizeof a);
    if (s && inet_pton(AF_INET, s, a.a) == 1) {
        a.family = 4;
    } else if (s && inet_pton(AF_INET6, s, a.a) == 1) {
        a.family = 6;
    } else {
        return -1;
    }
    if (out)
        *out = a;
    return 0;
}

const char *idt_addr_str(const struct idt_addr *a, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    buf[0] = '\0';
    if (!a)
        return buf;
    if (a->family == 4) {
        if (!inet_ntop(AF_INET, a->a, buf, (socklen_t)(len > 0xffff ? 0xffff : len)))
            buf[0] = '\0';
    } else if (a->family == 6) {
        if (!inet_ntop(AF_INET6, a->a, buf, (socklen_t)(len > 0xffff ? 0xffff : len)))
            buf[0] = '\0';
    }
    return buf;
}

int idt_addr_eq(const struct idt_addr *a, const struct idt_addr *b)
{
    if (a->family != b->family)
        return 0;
    if (a->family == 4)
        return memcmp(a->a, b->a, 4) == 0;
    if (a->family == 6)
        return memcmp(a->a, b->a, 16) == 0;
    return 1; /* both unset */
}

static const char *family_name(int family)
{
    return family == 6 ? "IPv6" : "IPv4";
}

/* ------------------------------------------------------------------ */
/* syslog facilities                                                    */

static const struct {
    const char *name;
    int value;
} facilities[] = {
    {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
    {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"kern", LOG_KERN},
    {"lpr", LOG_LPR},       {"mail", LOG_MAIL},         {"news", LOG_NEWS},
    {"syslog", LOG_SYSLOG}, {"user", LOG_USER},         {"uucp", LOG_UUCP},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

/* ------------------------------------------------------------------ */
/* host:port                                                            */

static int valid_hostname(const char *h, size_t n)
{
    /* RFC 1123 host name: labels of [A-Za-z0-9-] (plus '_', seen in the
     * wild), 1..63 each, separated by dots, 253 total. */
    if (n == 0 || n > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)h[i];
        if (ch == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum(ch) || ch == '-' || ch == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0 || n > 1; /* a trailing dot is fine, "." alone is not */
}

int idt_hostport_parse(const char *s, char *host, size_t hostlen, uint16_t *port,
                       const char **why)
{
    const char *dummy = NULL;
    const char **w = why ? why : &dummy;
    const char *hs, *he, *ps;
    *w = NULL;
    if (!s || !*s) {
        *w = "empty";
        return -1;
    }
    if (s[0] == '[') {
        he = strchr(s, ']');
        if (!he) {
            *w = "missing ']' after IPv6 address";
            return -1;
        }
        hs = s + 1;
        if (he[1] != ':') {
            *w = "expected ':port' after ']'";
            return -1;
        }
        ps = he + 2;
        char tmp[INET6_ADDRSTRLEN + 1];
        struct in6_addr a6;
        size_t n = (size_t)(he - hs);
        if (n == 0 || n >= sizeof tmp) {
            *w = "not an IPv6 address inside [...]";
            return -1;
        }
        memcpy(tmp, hs, n);
        tmp[n] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) {
            *w = "not an IPv6 address inside [...]";
            return -1;
        }
    } else {
        he = strrchr(s, ':');
        if (!he) {
            *w = "missing ':port'";
            return -1;
        }
        if (memchr(s, ':', (size_t)(he - s))) {
            *w = "an IPv6 address must be written as [addr]:port";
            return -1;
        }
        hs = s;
        ps = he + 1;
        if (!valid_hostname(hs, (size_t)(he - hs))) {
            *w = "not a valid host name or address";
            return -1;
        }
    }
    if (!*ps) {
        *w = "missing port number";
        return -1;
    }
    unsigned long p = 0;
    for (const char *q = ps; *q; q++) {
        if (*q < '0' || *q > '9' || p > 65535) {
            *w = "port must be a number 1..65535";
            return -1;
        }
        p = p * 10 + (unsigned long)(*q - '0');
    }
    if (p < 1 || p > 65535) {
        *w = "port must be a number 1..65535";
        return -1;
    }
    size_t n = (size_t)(he - hs);
    if (host && hostlen) {
        if (n >= hostlen) {
            *w = "host name too long";
            return -1;
        }
        memcpy(host, hs, n);
        host[n] = '\0';
    }
    if (port)
        *port = (uint16_t)p;
    return 0;
}

/* ------------------------------------------------------------------ */
/* defaults / free / lookup                                             */

void config_defaults(struct idt_config *c)
{
    memset(c, 0, sizeof *c);
    c->ping_interval = 15;
    snprintf(c->interface, sizeof c->interface, "%s", "any");
    c->snaplen = 128;
    c->buffer_kb = 4096;
    c->window = 64;
    c->alert_lost = 10;
    c->alert_interval = 60;
    c->alert_ppm = 0;
    c->alert_repeat = 0;
    c->alert_min_pkts = 100;
    c->sa_idle_timeout = 600;
    c->idle_timeout = 300;
    c->discovered_idle_alerts = 0;
    c->max_sas = 65536;
    c->max_tunnels = 4096;
    c->facility = LOG_DAEMON;
    snprintf(c->facility_name, sizeof c->facility_name, "%s", "daemon");
    c->traps_enabled = 1;
    snprintf(c->state_dir, sizeof c->state_dir, "%s", IDT_DEFAULT_STATE_DIR);
    c->ntunnels = 0;
    c->tunnels = NULL;
}

void config_free(struct idt_config *c)
{
    if (!c)
        return;
    free(c->tunnels);
    c->tunnels = NULL;
    c->ntunnels = 0;
}

const struct idt_tunnel_conf *config_tunnel_by_name(const struct idt_config *c,
                                                    const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->ntunnels; i++)
        if (strcmp(c->tunnels[i].name, name) == 0)
            return &c->tunnels[i];
    return NULL;
}

static void tunnel_defaults(struct idt_tunnel_conf *t)
{
    memset(t, 0, sizeof *t);
    t->alert_lost = -1;
    t->alert_interval = -1;
    t->alert_ppm = -1;
    t->alerts = 1;
    t->idle_timeout = -1;
    t->idle_alerts = 1;
    t->mtu.enabled = 0;
    t->mtu.min = 576;
    t->mtu.max = 1500;
    t->mtu.probes = 16;
    t->mtu.timeout = 2.0;
    t->mtu.retries = 1;
    t->mtu.interval = 0;
}

/* ------------------------------------------------------------------ */
/* error reporting                                                      */

struct ctx {
    const char *file;
    char *err;
    size_t errlen;
};

/* Keep the message on one printable line whatever the input contained. */
static void sanitize_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

__attribute__((format(printf, 4, 5)))
static int fail(struct ctx *x, int line, const char *key, const char *fmt, ...)
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

static int line_of(const config_setting_t *s)
{
    unsigned l = config_setting_source_line(s);
    return l > INT_MAX ? INT_MAX : (int)l;
}

/* Quote a user-supplied string for a message: escaped, truncated. */
static const char *quote(const char *s, char *buf, size_t len)
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

static const char *type_desc(int t)
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

static int fail_unknown(struct ctx *x, const config_setting_t *s, const char *path,
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
        return fail(x, line_of(s), path, "unknown key (did you mean \"%s\"?)", best);
    return fail(x, line_of(s), path, "unknown key");
}

static int name_in(const char *name, const char *const *known)
{
    for (size_t i = 0; known[i]; i++)
        if (strcmp(name, known[i]) == 0)
            return 1;
    return 0;
}

static void join(char *buf, size_t len, const char *prefix, const char *name)
{
    if (prefix && *prefix)
        snprintf(buf, len, "%s.%s", prefix, name);
    else
        snprintf(buf, len, "%s", name);
}

/* ------------------------------------------------------------------ */
/* typed getters                                                        */

static int get_int(struct ctx *x, const config_setting_t *s, const char *path,
                   long long lo, long long hi, long long *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
        return fail(x, line_of(s), path, "expected an integer, got %s", type_desc(t));
    long long v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return fail(x, line_of(s), path, "%lld is out of range (%lld..%lld)", v, lo, hi);
    *out = v;
    return 0;
}

static int get_u32(struct ctx *x, const config_setting_t *s, const char *path,
                   long long lo, long long hi, uint32_t *out)
{
    long long v = 0;
    if (get_int(x, s, path, lo, hi, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int get_double(struct ctx *x, const config_setting_t *s, const char *path,
                      double lo, double hi, double *out)
{
    int t = config_setting_type(s);
    double v;
    if (t == CONFIG_TYPE_FLOAT)
        v = config_setting_get_float(s);
    else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
        v = (double)config_setting_get_int64(s);
    else
        return fail(x, line_of(s), path, "expected a number, got %s", type_desc(t));
    if (!(v >= lo && v <= hi))
        return fail(x, line_of(s), path, "%g is out of range (%g..%g)", v, lo, hi);
    *out = v;
    return 0;
}

static int get_bool(struct ctx *x, const config_setting_t *s, const char *path, int *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_BOOL)
        return fail(x, line_of(s), path, "expected true or false, got %s", type_desc(t));
    *out = config_setting_get_bool(s) ? 1 : 0;
    return 0;
}

/* String into buf (size bufsz, so at most bufsz-1 characters). */
static int get_str(struct ctx *x, const config_setting_t *s, const char *path,
                   char *buf, size_t bufsz, int allow_empty)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_STRING)
        return fail(x, line_of(s), path, "expected a string, got %s", type_desc(t));
    const char *v = config_setting_get_string(s);
    if (!v)
        v = "";
    size_t n = strlen(v);
    if (n == 0 && !allow_empty)
        return fail(x, line_of(s), path, "must not be empty");
    if (n >= bufsz)
        return fail(x, line_of(s), path, "too long (%zu characters, at most %zu)", n, bufsz - 1);
    memcpy(buf, v, n + 1);
    return 0;
}

static int get_addr(struct ctx *x, const config_setting_t *s, const char *path,
                    struct idt_addr *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_STRING)
        return fail(x, line_of(s), path, "expected a string, got %s", type_desc(t));
    const char *v = config_setting_get_string(s);
    if (idt_addr_parse(v ? v : "", out) < 0) {
        char q[300];
        return fail(x, line_of(s), path, "%s is not an IPv4 or IPv6 address",
                    quote(v ? v : "", q, sizeof q));
    }
    return 0;
}

static int want_group(struct ctx *x, const config_setting_t *s, const char *path)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_GROUP)
        return fail(x, line_of(s), path, "expected a group { ... }, got %s", type_desc(t));
    return 0;
}

/* ------------------------------------------------------------------ */
/* groups                                                               */

static int parse_agentx(struct ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"socket", "ping_interval", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        join(path, sizeof path, "agentx", n);
        int r;
        if (strcmp(n, "socket") == 0)
            r = get_str(x, s, path, c->agentx_socket, sizeof c->agentx_socket, 1);
        else if (strcmp(n, "ping_interval") == 0)
            r = get_u32(x, s, path, 1, 3600, &c->ping_interval);
        else
            r = fail_unknown(x, s, path, known);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_capture(struct ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"interface", "snaplen", "buffer_kb", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        join(path, sizeof path, "capture", n);
        int r;
        if (strcmp(n, "interface") == 0)
            r = get_str(x, s, path, c->interface, sizeof c->interface, 0);
        else if (strcmp(n, "snaplen") == 0)
            r = get_u32(x, s, path, 64, 65535, &c->snaplen);
        else if (strcmp(n, "buffer_kb") == 0)
            r = get_u32(x, s, path, 256, 1048576, &c->buffer_kb);
        else
            r = fail_unknown(x, s, path, known);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_loss(struct ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"window", "alert_lost", "alert_interval",
                                        "alert_ppm", "alert_repeat", "alert_min_pkts",
                                        "sa_idle_timeout", "idle_timeout",
                                        "discovered_idle_alerts", "max_sas", "max_tunnels",
                                        "event_log", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        join(path, sizeof path, "loss", n);
        int r;
        if (strcmp(n, "window") == 0)
            r = get_u32(x, s, path, 32, 4096, &c->window);
        else if (strcmp(n, "alert_lost") == 0)
            r = get_u32(x, s, path, 0, 2147483648LL, &c->alert_lost);
        else if (strcmp(n, "alert_interval") == 0)
            r = get_u32(x, s, path, 1, 86400, &c->alert_interval);
        else if (strcmp(n, "alert_ppm") == 0)
            r = get_u32(x, s, path, 0, 1000000, &c->alert_ppm);
        else if (strcmp(n, "alert_repeat") == 0)
            r = get_u32(x, s, path, 0, 604800, &c->alert_repeat);
        else if (strcmp(n, "alert_min_pkts") == 0)
            r = get_u32(x, s, path, 0, 2147483648LL, &c->alert_min_pkts);
        else if (strcmp(n, "idle_timeout") == 0)
            r = get_u32(x, s, path, 0, 604800, &c->idle_timeout);
        else if (strcmp(n, "discovered_idle_alerts") == 0)
            r = get_bool(x, s, path, &c->discovered_idle_alerts);
        else if (strcmp(n, "sa_idle_timeout") == 0)
            r = get_u32(x, s, path, 10, 604800, &c->sa_idle_timeout);
        else if (strcmp(n, "max_sas") == 0)
            r = get_u32(x, s, path, 16, 16777216, &c->max_sas);
        else if (strcmp(n, "max_tunnels") == 0)
            r = get_u32(x, s, path, 1, 1048576, &c->max_tunnels);
        else if (strcmp(n, "event_log") == 0)
            r = get_str(x, s, path, c->event_log, sizeof c->event_log, 1);
        else
            r = fail_unknown(x, s, path, known);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_syslog(struct ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"facility", "server", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        join(path, sizeof path, "syslog", n);
        if (strcmp(n, "facility") == 0) {
            int t = config_setting_type(s);
            if (t != CONFIG_TYPE_STRING)
                return fail(x, line_of(s), path, "expected a string, got %s", type_desc(t));
            const char *v = config_setting_get_string(s);
            size_t k;
            for (k = 0; k < sizeof facilities / sizeof facilities[0]; k++)
                if (v && strcasecmp(v, facilities[k].name) == 0)
                    break;
            if (k == sizeof facilities / sizeof facilities[0]) {
                char q[300];
                return fail(x, line_of(s), path,
                            "unknown facility %s (use auth, authpriv, cron, daemon, ftp, "
                            "kern, lpr, mail, news, syslog, user, uucp or local0..local7)",
                            quote(v ? v : "", q, sizeof q));
            }
            c->facility = facilities[k].value;
            snprintf(c->facility_name, sizeof c->facility_name, "%s", facilities[k].name);
        } else if (strcmp(n, "server") == 0) {
            if (get_str(x, s, path, c->syslog_server, sizeof c->syslog_server, 1) < 0)
                return -1;
            const char *why = NULL;
            if (c->syslog_server[0] &&
                idt_hostport_parse(c->syslog_server, NULL, 0, NULL, &why) < 0) {
                char q[300];
                return fail(x, line_of(s), path, "%s is not in host:port form: %s",
                            quote(c->syslog_server, q, sizeof q), why);
            }
        } else {
            return fail_unknown(x, s, path, known);
        }
    }
    return 0;
}

static int parse_traps(struct ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"enabled", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        join(path, sizeof path, "traps", n);
        int r;
        if (strcmp(n, "enabled") == 0)
            r = get_bool(x, s, path, &c->traps_enabled);
        else
            r = fail_unknown(x, s, path, known);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_state(struct ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"dir", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        join(path, sizeof path, "state", n);
        if (strcmp(n, "dir") != 0)
            return fail_unknown(x, s, path, known);
        if (get_str(x, s, path, c->state_dir, sizeof c->state_dir, 1) < 0)
            return -1;
        if (c->state_dir[0] && c->state_dir[0] != '/') {
            char q[300];
            return fail(x, line_of(s), path,
                        "%s is not an absolute path (use \"\" for no state file)",
                        quote(c->state_dir, q, sizeof q));
        }
    }
    return 0;
}

static int parse_mtu(struct ctx *x, const config_setting_t *g, const char *tpath,
                     struct idt_mtu_conf *m)
{
    static const char *const known[] = {"source", "target", "min", "max", "probes",
                                        "timeout", "retries", "interval", NULL};
    char gpath[96], path[128];
    const config_setting_t *src = NULL, *tgt = NULL, *smin = NULL, *smax = NULL;
    join(gpath, sizeof gpath, tpath, "mtu");
    m->enabled = 1;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        join(path, sizeof path, gpath, n);
        int r;
        if (strcmp(n, "source") == 0) {
            r = get_addr(x, s, path, &m->source);
            src = s;
        } else if (strcmp(n, "target") == 0) {
            r = get_addr(x, s, path, &m->target);
            tgt = s;
        } else if (strcmp(n, "min") == 0) {
            r = get_u32(x, s, path, 576, 9216, &m->min);
            smin = s;
        } else if (strcmp(n, "max") == 0) {
            r = get_u32(x, s, path, 576, 9216, &m->max);
            smax = s;
        } else if (strcmp(n, "probes") == 0) {
            r = get_u32(x, s, path, 1, 64, &m->probes);
        } else if (strcmp(n, "timeout") == 0) {
            r = get_double(x, s, path, 0.1, 60.0, &m->timeout);
        } else if (strcmp(n, "retries") == 0) {
            r = get_u32(x, s, path, 0, 10, &m->retries);
        } else if (strcmp(n, "interval") == 0) {
            r = get_u32(x, s, path, 0, 604800, &m->interval);
        } else {
            r = fail_unknown(x, s, path, known);
        }
        if (r < 0)
            return -1;
    }
    if (!src) {
        join(path, sizeof path, gpath, "source");
        return fail(x, line_of(g), path, "missing (required in an mtu block)");
    }
    if (!tgt) {
        join(path, sizeof path, gpath, "target");
        return fail(x, line_of(g), path, "missing (required in an mtu block)");
    }
    if (m->source.family != m->target.family) {
        join(path, sizeof path, gpath, "target");
        return fail(x, line_of(tgt), path, "%s address but mtu.source is %s",
                    family_name(m->target.family), family_name(m->source.family));
    }
    if (idt_addr_eq(&m->source, &m->target)) {
        join(path, sizeof path, gpath, "target");
        return fail(x, line_of(tgt), path, "must differ from mtu.source");
    }
    if (m->min > m->max) {
        /* Blame the key that was written (the later one if both were). */
        const config_setting_t *at = smax ? smax : smin;
        if (smin && smax && line_of(smin) > line_of(smax))
            at = smin;
        join(path, sizeof path, gpath, at == smin ? "min" : "max");
        return fail(x, line_of(at), path, "mtu.min (%u) is greater than mtu.max (%u)",
                    m->min, m->max);
    }
    return 0;
}

static int valid_tunnel_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > IDT_NAME_MAX - 1)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isascii(ch) && (isalnum(ch) || ch == '.' || ch == '_' || ch == '-')))
            return 0;
    }
    return 1;
}

struct tunnel_lines {
    int group, name, index, remote;
};

static int parse_tunnel(struct ctx *x, const config_setting_t *g, size_t pos,
                        struct idt_config *c, struct tunnel_lines *lines)
{
    static const char *const known[] = {"name", "index", "local", "remote", "alert_lost",
                                        "alert_interval", "alert_ppm", "alerts",
                                        "idle_timeout", "idle_alerts", "mtu", NULL};
    struct idt_tunnel_conf *t = &c->tunnels[pos];
    struct tunnel_lines *ln = &lines[pos];
    char tpath[48], path[128];
    const config_setting_t *sname = NULL, *sindex = NULL, *slocal = NULL, *sremote = NULL;
    long long v;
    snprintf(tpath, sizeof tpath, "tunnels[%zu]", pos);
    tunnel_defaults(t);
    ln->group = line_of(g);

    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return fail(x, line_of(g), tpath, "expected a group { ... }, got %s",
                    type_desc(config_setting_type(g)));

    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        join(path, sizeof path, tpath, n);
        int r = 0;
        if (strcmp(n, "name") == 0) {
            int ty = config_setting_type(s);
            if (ty != CONFIG_TYPE_STRING)
                return fail(x, line_of(s), path, "expected a string, got %s", type_desc(ty));
            const char *nm = config_setting_get_string(s);
            char q[300];
            if (!nm || !valid_tunnel_name(nm))
                return fail(x, line_of(s), path,
                            "invalid tunnel name %s (1..63 characters of A-Z a-z 0-9 . _ -)",
                            quote(nm ? nm : "", q, sizeof q));
            for (size_t k = 0; k < pos; k++)
                if (strcmp(c->tunnels[k].name, nm) == 0)
                    return fail(x, line_of(s), path,
                                "duplicate tunnel name %s (also tunnels[%zu] at line %d)",
                                quote(nm, q, sizeof q), k, lines[k].name);
            snprintf(t->name, sizeof t->name, "%s", nm);
            sname = s;
            ln->name = line_of(s);
        } else if (strcmp(n, "index") == 0) {
            if (get_int(x, s, path, 1, 4294967295LL, &v) < 0)
                return -1;
            for (size_t k = 0; k < pos; k++)
                if (c->tunnels[k].index == (uint32_t)v)
                    return fail(x, line_of(s), path,
                                "duplicate tunnel index %lld (also tunnels[%zu] at line %d)",
                                v, k, lines[k].index);
            t->index = (uint32_t)v;
            sindex = s;
            ln->index = line_of(s);
        } else if (strcmp(n, "local") == 0) {
            r = get_addr(x, s, path, &t->local);
            slocal = s;
        } else if (strcmp(n, "remote") == 0) {
            r = get_addr(x, s, path, &t->remote);
            sremote = s;
            ln->remote = line_of(s);
        } else if (strcmp(n, "alert_lost") == 0) {
            if ((r = get_int(x, s, path, 0, 2147483648LL, &v)) == 0)
                t->alert_lost = v;
        } else if (strcmp(n, "alert_interval") == 0) {
            if ((r = get_int(x, s, path, 1, 86400, &v)) == 0)
                t->alert_interval = v;
        } else if (strcmp(n, "alert_ppm") == 0) {
            if ((r = get_int(x, s, path, 0, 1000000, &v)) == 0)
                t->alert_ppm = v;
        } else if (strcmp(n, "alerts") == 0) {
            r = get_bool(x, s, path, &t->alerts);
        } else if (strcmp(n, "idle_timeout") == 0) {
            if ((r = get_int(x, s, path, 0, 604800, &v)) == 0)
                t->idle_timeout = v;
        } else if (strcmp(n, "idle_alerts") == 0) {
            r = get_bool(x, s, path, &t->idle_alerts);
        } else if (strcmp(n, "mtu") == 0) {
            if ((r = want_group(x, s, path)) == 0)
                r = parse_mtu(x, s, tpath, &t->mtu);
        } else {
            r = fail_unknown(x, s, path, known);
        }
        if (r < 0)
            return -1;
    }

    static const char *const req[] = {"name", "index", "local", "remote"};
    const config_setting_t *have[] = {sname, sindex, slocal, sremote};
    for (size_t k = 0; k < 4; k++) {
        if (!have[k]) {
            join(path, sizeof path, tpath, req[k]);
            return fail(x, line_of(g), path, "missing (every tunnel needs name, index, "
                                             "local and remote)");
        }
    }
    join(path, sizeof path, tpath, "remote");
    if (t->local.family != t->remote.family)
        return fail(x, line_of(sremote), path, "%s address but local is %s",
                    family_name(t->remote.family), family_name(t->local.family));
    if (idt_addr_eq(&t->local, &t->remote))
        return fail(x, line_of(sremote), path, "must differ from local");
    for (size_t k = 0; k < pos; k++) {
        const struct idt_tunnel_conf *o = &c->tunnels[k];
        if ((idt_addr_eq(&o->local, &t->local) && idt_addr_eq(&o->remote, &t->remote)) ||
            (idt_addr_eq(&o->local, &t->remote) && idt_addr_eq(&o->remote, &t->local)))
            return fail(x, line_of(sremote), path,
                        "same local/remote pair as tunnels[%zu] at line %d", k,
                        lines[k].remote);
    }
    return 0;
}

static int parse_tunnels(struct ctx *x, const config_setting_t *l, struct idt_config *c)
{
    int t = config_setting_type(l);
    int n = config_setting_length(l);
    if (t == CONFIG_TYPE_ARRAY && n == 0)
        return 0; /* "tunnels = [];" - empty, fine */
    if (t != CONFIG_TYPE_LIST)
        return fail(x, line_of(l), "tunnels", "expected a list ( { ... }, ... ), got %s",
                    type_desc(t));
    if (n <= 0)
        return 0;
    if (n > IDT_MAX_CONF_TUNNELS)
        return fail(x, line_of(l), "tunnels", "too many tunnels (%d, at most %d)", n,
                    IDT_MAX_CONF_TUNNELS);
    struct tunnel_lines *lines = calloc((size_t)n, sizeof *lines);
    c->tunnels = calloc((size_t)n, sizeof *c->tunnels);
    if (!lines || !c->tunnels) {
        free(lines);
        return fail(x, 0, NULL, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        c->ntunnels = (size_t)i + 1;
        if (parse_tunnel(x, config_setting_get_elem(l, (unsigned)i), (size_t)i, c, lines) < 0) {
            free(lines);
            return -1;
        }
    }
    free(lines);
    return 0;
}

static int parse_root(struct ctx *x, const config_setting_t *root, struct idt_config *c)
{
    static const char *const known[] = {"agentx", "capture", "loss", "syslog",
                                        "traps", "state", "tunnels", NULL};
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *n = config_setting_name(s);
        int r;
        if (!name_in(n, known)) {
            r = fail_unknown(x, s, n, known);
        } else if (strcmp(n, "tunnels") == 0) {
            r = parse_tunnels(x, s, c);
        } else if (want_group(x, s, n) < 0) {
            r = -1;
        } else if (strcmp(n, "agentx") == 0) {
            r = parse_agentx(x, s, c);
        } else if (strcmp(n, "capture") == 0) {
            r = parse_capture(x, s, c);
        } else if (strcmp(n, "loss") == 0) {
            r = parse_loss(x, s, c);
        } else if (strcmp(n, "syslog") == 0) {
            r = parse_syslog(x, s, c);
        } else if (strcmp(n, "state") == 0) {
            r = parse_state(x, s, c);
        } else {
            r = parse_traps(x, s, c);
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* pre-scan: libconfig 1.5 syntax check and integer fix-up               */

/* A tokenizer following libconfig 1.5's scanner.l, and a recursive-descent
 * check of its grammar.y.  libconfig leaks the text of a string token when
 * a syntax error is detected at it, so a text only reaches libconfig once
 * it is known to be syntactically valid.  Line numbers are counted like
 * flex's yylineno: the line on which the offending token ends. */

enum tok {
    T_EOF, T_NAME, T_BOOL, T_INT, T_FLOAT, T_STRING, T_EQUALS, T_COMMA, T_SEMI,
    T_GROUP_START, T_GROUP_END, T_ARRAY_START, T_ARRAY_END, T_LIST_START, T_LIST_END,
    T_GARBAGE, T_INCLUDE
};

#define PRESCAN_MAX_DEPTH 64

struct lexer {
    struct ctx *x;
    const char *s;
    size_t i, n;
    int line;
    char *out;
    size_t o;
    enum tok tok;       /* current token */
    int tok_line;       /* line on which it ends */
    int failed;
};

static size_t m_digits(const char *p, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && p[j] >= '0' && p[j] <= '9')
        j++;
    return j - i;
}

static size_t m_sign(const char *p, size_t n, size_t i)
{
    return i < n && (p[i] == '-' || p[i] == '+') ? 1 : 0;
}

static size_t m_exp(const char *p, size_t n, size_t i)
{
    if (i >= n || (p[i] != 'e' && p[i] != 'E'))
        return 0;
    size_t j = i + 1;
    j += m_sign(p, n, j);
    size_t d = m_digits(p, n, j);
    return d ? j + d - i : 0;
}

static size_t m_suffix(const char *p, size_t n, size_t i)
{
    if (i < n && p[i] == 'L')
        return i + 1 < n && p[i + 1] == 'L' ? 2 : 1;
    return 0;
}

/* Longest numeric token at p[i..]; *kind: 0 none, 1 decimal, 2 decimal L,
 * 3 hex, 4 hex L, 5 float. */
static size_t m_number(const char *p, size_t n, size_t i, int *kind)
{
    size_t best = 0, l;
    *kind = 0;
    /* integer / integer64: [-+]?[0-9]+ L(L)? */
    size_t s = m_sign(p, n, i);
    size_t d = m_digits(p, n, i + s);
    if (d) {
        best = s + d;
        *kind = 1;
        l = m_suffix(p, n, i + s + d);
        if (l) {
            best += l;
            *kind = 2;
        }
    }
    /* hex / hex64: 0[Xx][0-9A-Fa-f]+ L(L)? */
    if (i + 2 < n && p[i] == '0' && (p[i + 1] == 'x' || p[i + 1] == 'X')) {
        size_t j = i + 2;
        while (j < n && isxdigit((unsigned char)p[j]))
            j++;
        if (j > i + 2) {
            l = m_suffix(p, n, j);
            if (j + l - i > best) {
                best = j + l - i;
                *kind = l ? 4 : 3;
            }
        }
    }
    /* float: [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)? */
    d = m_digits(p, n, i + s);
    if (i + s + d < n && p[i + s + d] == '.') {
        size_t j = i + s + d + 1;
        j += m_digits(p, n, j);
        j += m_exp(p, n, j);
        if (j - i > best) {
            best = j - i;
            *kind = 5;
        }
    }
    /* float: [-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+ */
    if (d) {
        size_t j = i + s + d;
        if (j < n && p[j] == '.')
            j += 1 + m_digits(p, n, j + 1);
        l = m_exp(p, n, j);
        if (l && j + l - i > best) {
            best = j + l - i;
            *kind = 5;
        }
    }
    return best;
}

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void lex_copy(struct lexer *L, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        if (L->s[L->i] == '\n')
            L->line++;
        L->out[L->o++] = L->s[L->i++];
    }
}

/* Integer token at L->i of length len: copy it, adding 'L' if it does not
 * fit a 32-bit int; refuse it if it does not fit 64 bits. */
static int lex_int(struct lexer *L, size_t len, int kind)
{
    const char *p = L->s + L->i;
    int neg = p[0] == '-';
    size_t k = (p[0] == '-' || p[0] == '+') ? 1 : 0;
    int hex = kind == 3 || kind == 4;
    if (hex)
        k = 2;
    unsigned long long v = 0;
    int ovf = 0;
    for (; k < len && p[k] != 'L'; k++) {
        unsigned dgt = isdigit((unsigned char)p[k]) ? (unsigned)(p[k] - '0')
                                                     : (unsigned)(tolower((unsigned char)p[k]) - 'a' + 10);
        unsigned base = hex ? 16 : 10;
        if (v > (ULLONG_MAX - dgt) / base)
            ovf = 1;
        else
            v = v * base + dgt;
    }
    unsigned long long lim64 = neg ? (unsigned long long)LLONG_MAX + 1u : (unsigned long long)LLONG_MAX;
    if (ovf || v > lim64) {
        char tok[40];
        size_t tl = len < sizeof tok - 4 ? len : sizeof tok - 4;
        memcpy(tok, p, tl);
        strcpy(tok + tl, len > tl ? "..." : "");
        fail(L->x, L->line, NULL, "syntax error: integer %s is out of range", tok);
        return -1;
    }
    int plain = kind == 1 || kind == 3;
    unsigned long long lim32 = neg ? 2147483648ULL : 2147483647ULL;
    lex_copy(L, len);
    if (plain && v > lim32)
        L->out[L->o++] = 'L';
    return 0;
}

/* Advance to the next token.  Returns -1 (error written) only for an
 * out-of-range integer; other problems become T_GARBAGE/T_INCLUDE. */
static int lex_next(struct lexer *L)
{
    const char *p = L->s;
    size_t n = L->n;
    for (;;) {
        if (L->i >= n) {
            L->tok = T_EOF;
            L->tok_line = L->line;
            return 0;
        }
        char c = p[L->i];
        char nx = L->i + 1 < n ? p[L->i + 1] : '\0';
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            lex_copy(L, 1);
        } else if (c == '#' || (c == '/' && nx == '/')) {
            size_t j = L->i;
            while (j < n && p[j] != '\n')
                j++;
            lex_copy(L, j - L->i);
        } else if (c == '/' && nx == '*') {
            size_t j = L->i + 2;
            while (j < n && !(p[j] == '*' && j + 1 < n && p[j + 1] == '/'))
                j++;
            lex_copy(L, (j < n ? j + 2 : n) - L->i);
        } else {
            break;
        }
    }
    char c = p[L->i];
    int kind;
    size_t len;
    if (c == '"') {
        size_t j = L->i + 1;
        while (j < n && p[j] != '"')
            j += (p[j] == '\\' && j + 1 < n) ? 2 : 1;
        if (j >= n) { /* unterminated: libconfig reaches EOF inside it */
            lex_copy(L, n - L->i);
            L->tok = T_EOF;
        } else {
            lex_copy(L, j + 1 - L->i);
            L->tok = T_STRING;
        }
    } else if (c == '@' && strncmp(p + L->i, "@include", 8) == 0) {
        L->tok = T_INCLUDE;
    } else if (is_name_start(c)) {
        size_t j = L->i + 1;
        while (j < n && is_name_char(p[j]))
            j++;
        len = j - L->i;
        L->tok = ((len == 4 && strncasecmp(p + L->i, "true", 4) == 0) ||
                  (len == 5 && strncasecmp(p + L->i, "false", 5) == 0)) ? T_BOOL : T_NAME;
        lex_copy(L, len);
    } else if ((len = m_number(p, n, L->i, &kind)) > 0) {
        if (kind == 5) {
            lex_copy(L, len);
            L->tok = T_FLOAT;
        } else {
            if (lex_int(L, len, kind) < 0)
                return -1;
            L->tok = T_INT;
        }
    } else {
        static const char punct[] = "=:,;{}[]()";
        static const enum tok ptok[] = {T_EQUALS, T_EQUALS, T_COMMA, T_SEMI,
                                        T_GROUP_START, T_GROUP_END, T_ARRAY_START,
                                        T_ARRAY_END, T_LIST_START, T_LIST_END};
        const char *q = strchr(punct, c);
        L->tok = q ? ptok[q - punct] : T_GARBAGE;
        lex_copy(L, 1);
    }
    L->tok_line = L->line;
    return 0;
}

static int syn_error(struct lexer *L)
{
    if (L->failed)
        return -1;
    L->failed = 1;
    if (L->tok == T_INCLUDE)
        return fail(L->x, L->tok_line, NULL, "@include is not supported");
    return fail(L->x, L->tok_line, NULL, "syntax error");
}

static int lex_advance(struct lexer *L)
{
    if (lex_next(L) < 0) {
        L->failed = 1;
        return -1;
    }
    return 0;
}

static int syn_value(struct lexer *L, int depth);

static int syn_setting(struct lexer *L, int depth)
{
    if (L->tok != T_NAME)
        return syn_error(L);
    if (lex_advance(L) < 0)
        return -1;
    if (L->tok != T_EQUALS)
        return syn_error(L);
    if (lex_advance(L) < 0)
        return -1;
    if (syn_value(L, depth) < 0)
        return -1;
    if (L->tok == T_SEMI || L->tok == T_COMMA)
        return lex_advance(L);
    return 0;
}

static int syn_scalar(struct lexer *L)
{
    if (L->tok == T_BOOL || L->tok == T_INT || L->tok == T_FLOAT)
        return lex_advance(L);
    if (L->tok != T_STRING)
        return syn_error(L);
    while (L->tok == T_STRING) /* adjacent strings are concatenated */
        if (lex_advance(L) < 0)
            return -1;
    return 0;
}

static int syn_value(struct lexer *L, int depth)
{
    if (depth > PRESCAN_MAX_DEPTH) {
        L->failed = 1;
        return fail(L->x, L->tok_line, NULL, "syntax error: nesting too deep");
    }
    switch (L->tok) {
    case T_ARRAY_START:
        if (lex_advance(L) < 0)
            return -1;
        if (L->tok != T_ARRAY_END) {
            if (syn_scalar(L) < 0)
                return -1;
            while (L->tok == T_COMMA) {
                if (lex_advance(L) < 0 || syn_scalar(L) < 0)
                    return -1;
            }
        }
        if (L->tok != T_ARRAY_END)
            return syn_error(L);
        return lex_advance(L);
    case T_LIST_START:
        if (lex_advance(L) < 0)
            return -1;
        if (L->tok != T_LIST_END) {
            if (syn_value(L, depth + 1) < 0)
                return -1;
            while (L->tok == T_COMMA) {
                if (lex_advance(L) < 0 || syn_value(L, depth + 1) < 0)
                    return -1;
            }
        }
        if (L->tok != T_LIST_END)
            return syn_error(L);
        return lex_advance(L);
    case T_GROUP_START:
        if (lex_advance(L) < 0)
            return -1;
        while (L->tok == T_NAME)
            if (syn_setting(L, depth + 1) < 0)
                return -1;
        if (L->tok != T_GROUP_END)
            return syn_error(L);
        return lex_advance(L);
    default:
        return syn_scalar(L);
    }
}

/* Check the syntax of text and return a copy with 'L' added to integer
 * literals that do not fit libconfig's 32-bit plain integers.  NULL on
 * error (err written). */
static char *prescan(struct ctx *x, const char *text)
{
    struct lexer L;
    memset(&L, 0, sizeof L);
    L.x = x;
    L.s = text;
    L.n = strlen(text);
    L.line = 1;
    /* An integer literal needs >= 10 characters to get one more. */
    L.out = malloc(L.n + L.n / 8 + 16);
    if (!L.out) {
        fail(x, 0, NULL, "out of memory");
        return NULL;
    }
    int rc = lex_advance(&L);
    while (rc == 0 && L.tok != T_EOF)
        rc = syn_setting(&L, 0);
    if (rc < 0) {
        free(L.out);
        return NULL;
    }
    /* libconfig 1.5 refuses a comment at the very end without a newline */
    if (L.o == 0 || L.out[L.o - 1] != '\n')
        L.out[L.o++] = '\n';
    L.out[L.o] = '\0';
    return L.out;
}

/* ------------------------------------------------------------------ */
/* load                                                                 */

static int load_text(const char *text, const char *name, const char *path,
                     struct idt_config *c, char *err, size_t errlen)
{
    struct ctx x = {name, err, errlen};
    struct idt_config *tmp = malloc(sizeof *tmp);
    config_t cf;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    if (!tmp) {
        fail(&x, 0, NULL, "out of memory");
        if (c)
            config_defaults(c);
        return -1;
    }
    config_defaults(tmp);
    if (path)
        snprintf(tmp->path, sizeof tmp->path, "%s", path);

    char *buf = prescan(&x, text);
    if (!buf)
        goto out;

    config_init(&cf);
    if (!config_read_string(&cf, buf)) {
        const char *et = config_error_text(&cf);
        int line = config_error_line(&cf);
        if (!et)
            et = "syntax error";
        if (strncmp(et, "syntax error", 12) == 0)
            fail(&x, line, NULL, "%s", et);
        else
            fail(&x, line, NULL, "syntax error: %s", et);
        config_destroy(&cf);
        free(buf);
        goto out;
    }
    rc = parse_root(&x, config_root_setting(&cf), tmp);
    config_destroy(&cf);
    free(buf);

out:
    if (rc < 0) {
        config_free(tmp);
        if (c)
            config_defaults(c);
    } else if (c) {
        *c = *tmp;
    } else {
        config_free(tmp);
    }
    free(tmp);
    return rc;
}

int config_load_string(const char *text, const char *name, struct idt_config *c,
                       char *err, size_t errlen)
{
    if (!name)
        name = "<string>";
    if (!text)
        text = "";
    return load_text(text, name, NULL, c, err, errlen);
}

int config_load(const char *path, struct idt_config *c, char *err, size_t errlen)
{
    struct ctx x = {path ? path : "(null)", err, errlen};
    if (c)
        config_defaults(c);
    if (!path || !*path)
        return fail(&x, 0, NULL, "cannot open: no file name");
    if (strlen(path) >= sizeof c->path)
        return fail(&x, 0, NULL, "cannot open: %s", strerror(ENAMETOOLONG));

    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(&x, 0, NULL, "cannot open: %s", strerror(errno));
    size_t cap = 8192, len = 0;
    char *text = malloc(cap);
    if (!text) {
        fclose(f);
        return fail(&x, 0, NULL, "out of memory");
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > CONF_MAX_FILE_BYTES) {
                free(text);
                fclose(f);
                return fail(&x, 0, NULL, "file is too large (more than %u bytes)",
                            CONF_MAX_FILE_BYTES);
            }
            char *nt = realloc(text, cap * 2);
            if (!nt) {
                free(text);
                fclose(f);
                return fail(&x, 0, NULL, "out of memory");
            }
            text = nt;
            cap *= 2;
        }
        size_t got = fread(text + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(text);
                fclose(f);
                return fail(&x, 0, NULL, "cannot read: %s", strerror(e ? e : EIO));
            }
            break;
        }
    }
    fclose(f);
    text[len] = '\0';
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        free(text);
        return fail(&x, line, NULL, "syntax error: NUL byte in file");
    }
    int rc = load_text(text, path, path, c, err, errlen);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* print                                                                */

static void print_str(FILE *out, const char *s)
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
static void print_int(FILE *out, long long v)
{
    fprintf(out, "%lld%s", v, (v > INT_MAX || v < INT_MIN) ? "L" : "");
}

/* Shortest text that reads back to the same double, always with a '.'. */
static void print_double(FILE *out, double v)
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

static void print_kv_str(FILE *out, const char *ind, const char *k, const char *v)
{
    fprintf(out, "%s%s = ", ind, k);
    print_str(out, v);
    fputs(";\n", out);
}

static void print_kv_int(FILE *out, const char *ind, const char *k, long long v)
{
    fprintf(out, "%s%s = ", ind, k);
    print_int(out, v);
    fputs(";\n", out);
}

void config_print(const struct idt_config *c, FILE *out)
{
    char a[INET6_ADDRSTRLEN];
    fputs("# ipsecdiagtool effective configuration", out);
    if (c->path[0]) {
        fputs(" (from ", out);
        for (const char *p = c->path; *p; p++)
            fputc((unsigned char)*p < 0x20 ? '?' : *p, out);
        fputc(')', out);
    }
    fputs("\n\nagentx: {\n", out);
    print_kv_str(out, "  ", "socket", c->agentx_socket);
    print_kv_int(out, "  ", "ping_interval", c->ping_interval);
    fputs("};\n\ncapture: {\n", out);
    print_kv_str(out, "  ", "interface", c->interface);
    print_kv_int(out, "  ", "snaplen", c->snaplen);
    print_kv_int(out, "  ", "buffer_kb", c->buffer_kb);
    fputs("};\n\nloss: {\n", out);
    print_kv_int(out, "  ", "window", c->window);
    print_kv_int(out, "  ", "alert_lost", c->alert_lost);
    print_kv_int(out, "  ", "alert_interval", c->alert_interval);
    print_kv_int(out, "  ", "alert_ppm", c->alert_ppm);
    print_kv_int(out, "  ", "alert_repeat", c->alert_repeat);
    print_kv_int(out, "  ", "alert_min_pkts", c->alert_min_pkts);
    print_kv_int(out, "  ", "sa_idle_timeout", c->sa_idle_timeout);
    print_kv_int(out, "  ", "idle_timeout", c->idle_timeout);
    fprintf(out, "  discovered_idle_alerts = %s;\n", c->discovered_idle_alerts ? "true" : "false");
    print_kv_int(out, "  ", "max_sas", c->max_sas);
    print_kv_int(out, "  ", "max_tunnels", c->max_tunnels);
    print_kv_str(out, "  ", "event_log", c->event_log);
    fputs("};\n\nsyslog: {\n", out);
    print_kv_str(out, "  ", "facility", c->facility_name);
    print_kv_str(out, "  ", "server", c->syslog_server);
    fputs("};\n\ntraps: {\n", out);
    fprintf(out, "  enabled = %s;\n", c->traps_enabled ? "true" : "false");
    fputs("};\n\nstate: {\n", out);
    print_kv_str(out, "  ", "dir", c->state_dir);
    fputs("};\n\ntunnels = (", out);
    for (size_t i = 0; i < c->ntunnels; i++) {
        const struct idt_tunnel_conf *t = &c->tunnels[i];
        fputs(i ? ",\n  {\n" : "\n  {\n", out);
        print_kv_str(out, "    ", "name", t->name);
        print_kv_int(out, "    ", "index", t->index);
        print_kv_str(out, "    ", "local", idt_addr_str(&t->local, a, sizeof a));
        print_kv_str(out, "    ", "remote", idt_addr_str(&t->remote, a, sizeof a));
        if (t->alert_lost >= 0)
            print_kv_int(out, "    ", "alert_lost", t->alert_lost);
        if (t->alert_interval >= 0)
            print_kv_int(out, "    ", "alert_interval", t->alert_interval);
        if (t->alert_ppm >= 0)
            print_kv_int(out, "    ", "alert_ppm", t->alert_ppm);
        fprintf(out, "    alerts = %s;\n", t->alerts ? "true" : "false");
        if (t->idle_timeout >= 0)
            print_kv_int(out, "    ", "idle_timeout", t->idle_timeout);
        if (!t->idle_alerts)
            fputs("    idle_alerts = false;\n", out);
        if (t->mtu.enabled) {
            const struct idt_mtu_conf *m = &t->mtu;
            fputs("    mtu: {\n", out);
            print_kv_str(out, "      ", "source", idt_addr_str(&m->source, a, sizeof a));
            print_kv_str(out, "      ", "target", idt_addr_str(&m->target, a, sizeof a));
            print_kv_int(out, "      ", "min", m->min);
            print_kv_int(out, "      ", "max", m->max);
            print_kv_int(out, "      ", "probes", m->probes);
            fputs("      timeout = ", out);
            print_double(out, m->timeout);
            fputs(";\n", out);
            print_kv_int(out, "      ", "retries", m->retries);
            print_kv_int(out, "      ", "interval", m->interval);
            fputs("    };\n", out);
        }
        fputs("  }", out);
    }
    fputs(c->ntunnels ? "\n);\n" : ");\n", out);
}
