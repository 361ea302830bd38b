/* config.c - load and validate the ipsecdiagtool configuration text.
 *
 * The text is libconfig syntax.  Every group and key is optional; anything
 * present is checked strictly (type, range, cross-field rules) and the first
 * problem found, in document order, is reported as ONE line:
 *
 *     FILE:LINE: KEY: reason
 *
 * KEY is the full dotted path; tunnel list entries are written with their
 * 0-based position, e.g. "tunnels[1].mtu.max".
 *
 * This file holds the global groups (agentx, capture, loss, syslog, traps,
 * state, ike): a key's default (config_defaults), its validation (parse_GROUP)
 * and its printing (config_print) are here, its field in config.h.  The
 * tunnels list is in config_tunnels.c, the typed getters in
 * config_value.c, what libconfig 1.5 gets wrong (integers beyond 32 bits,
 * @include, a leak on some syntax errors) is fixed in the text by
 * config_scan.c, and reading a file is config_file.c's.
 */
#include "config.h"
#include "config_scan.h"
#include "config_tunnels.h"
#include "config_value.h"

#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#ifndef LOCALSTATEDIR                   /* Makefile.am passes it; the fuzzer does not */
#define LOCALSTATEDIR "/var"
#endif
#define IDT_DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/ipsecdiagtool"

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
    snprintf(c->ike_vici, sizeof c->ike_vici, "%s", IDT_DEFAULT_VICI);
    c->ike_vici_set = 0;
    c->ike_poll_interval = 10;
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

/* ------------------------------------------------------------------ */
/* groups                                                               */

static int parse_agentx(struct cfg_ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"socket", "ping_interval", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        cfg_join(path, sizeof path, "agentx", n);
        int r;
        if (strcmp(n, "socket") == 0)
            r = cfg_get_str(x, s, path, c->agentx_socket, sizeof c->agentx_socket, 1);
        else if (strcmp(n, "ping_interval") == 0)
            r = cfg_get_u32(x, s, path, 1, 3600, &c->ping_interval);
        else
            r = cfg_unknown(x, s, path, known);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_capture(struct cfg_ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"interface", "snaplen", "buffer_kb", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        cfg_join(path, sizeof path, "capture", n);
        int r;
        if (strcmp(n, "interface") == 0)
            r = cfg_get_str(x, s, path, c->interface, sizeof c->interface, 0);
        else if (strcmp(n, "snaplen") == 0)
            r = cfg_get_u32(x, s, path, 64, 65535, &c->snaplen);
        else if (strcmp(n, "buffer_kb") == 0)
            r = cfg_get_u32(x, s, path, 256, 1048576, &c->buffer_kb);
        else
            r = cfg_unknown(x, s, path, known);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_loss(struct cfg_ctx *x, const config_setting_t *g, struct idt_config *c)
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
        cfg_join(path, sizeof path, "loss", n);
        int r;
        if (strcmp(n, "window") == 0)
            r = cfg_get_u32(x, s, path, 32, 4096, &c->window);
        else if (strcmp(n, "alert_lost") == 0)
            r = cfg_get_u32(x, s, path, 0, 2147483648LL, &c->alert_lost);
        else if (strcmp(n, "alert_interval") == 0)
            r = cfg_get_u32(x, s, path, 1, 86400, &c->alert_interval);
        else if (strcmp(n, "alert_ppm") == 0)
            r = cfg_get_u32(x, s, path, 0, 1000000, &c->alert_ppm);
        else if (strcmp(n, "alert_repeat") == 0)
            r = cfg_get_u32(x, s, path, 0, 604800, &c->alert_repeat);
        else if (strcmp(n, "alert_min_pkts") == 0)
            r = cfg_get_u32(x, s, path, 0, 2147483648LL, &c->alert_min_pkts);
        else if (strcmp(n, "idle_timeout") == 0)
            r = cfg_get_u32(x, s, path, 0, 604800, &c->idle_timeout);
        else if (strcmp(n, "discovered_idle_alerts") == 0)
            r = cfg_get_bool(x, s, path, &c->discovered_idle_alerts);
        else if (strcmp(n, "sa_idle_timeout") == 0)
            r = cfg_get_u32(x, s, path, 10, 604800, &c->sa_idle_timeout);
        else if (strcmp(n, "max_sas") == 0)
            r = cfg_get_u32(x, s, path, 16, 16777216, &c->max_sas);
        else if (strcmp(n, "max_tunnels") == 0)
            r = cfg_get_u32(x, s, path, 1, 1048576, &c->max_tunnels);
        else if (strcmp(n, "event_log") == 0)
            r = cfg_get_str(x, s, path, c->event_log, sizeof c->event_log, 1);
        else
            r = cfg_unknown(x, s, path, known);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_syslog(struct cfg_ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"facility", "server", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        cfg_join(path, sizeof path, "syslog", n);
        if (strcmp(n, "facility") == 0) {
            int t = config_setting_type(s);
            if (t != CONFIG_TYPE_STRING)
                return cfg_fail(x, cfg_line(s), path, "expected a string, got %s", cfg_type_desc(t));
            const char *v = config_setting_get_string(s);
            size_t k;
            for (k = 0; k < sizeof facilities / sizeof facilities[0]; k++)
                if (v && strcasecmp(v, facilities[k].name) == 0)
                    break;
            if (k == sizeof facilities / sizeof facilities[0]) {
                char q[300];
                return cfg_fail(x, cfg_line(s), path,
                            "unknown facility %s (use auth, authpriv, cron, daemon, ftp, "
                            "kern, lpr, mail, news, syslog, user, uucp or local0..local7)",
                            cfg_quote(v ? v : "", q, sizeof q));
            }
            c->facility = facilities[k].value;
            snprintf(c->facility_name, sizeof c->facility_name, "%s", facilities[k].name);
        } else if (strcmp(n, "server") == 0) {
            if (cfg_get_str(x, s, path, c->syslog_server, sizeof c->syslog_server, 1) < 0)
                return -1;
            const char *why = NULL;
            if (c->syslog_server[0] &&
                idt_hostport_parse(c->syslog_server, NULL, 0, NULL, &why) < 0) {
                char q[300];
                return cfg_fail(x, cfg_line(s), path, "%s is not in host:port form: %s",
                            cfg_quote(c->syslog_server, q, sizeof q), why);
            }
        } else {
            return cfg_unknown(x, s, path, known);
        }
    }
    return 0;
}

static int parse_traps(struct cfg_ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"enabled", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        cfg_join(path, sizeof path, "traps", n);
        int r;
        if (strcmp(n, "enabled") == 0)
            r = cfg_get_bool(x, s, path, &c->traps_enabled);
        else
            r = cfg_unknown(x, s, path, known);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_state(struct cfg_ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"dir", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        cfg_join(path, sizeof path, "state", n);
        if (strcmp(n, "dir") != 0)
            return cfg_unknown(x, s, path, known);
        if (cfg_get_str(x, s, path, c->state_dir, sizeof c->state_dir, 1) < 0)
            return -1;
        if (c->state_dir[0] && c->state_dir[0] != '/') {
            char q[300];
            return cfg_fail(x, cfg_line(s), path,
                        "%s is not an absolute path (use \"\" for no state file)",
                        cfg_quote(c->state_dir, q, sizeof q));
        }
    }
    return 0;
}

/* ike.vici: "unix://PATH" (strongSwan's URI form), an absolute PATH, or
 * "none". */
static int parse_ike(struct cfg_ctx *x, const config_setting_t *g, struct idt_config *c)
{
    static const char *const known[] = {"vici", "poll_interval", NULL};
    char path[128];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        cfg_join(path, sizeof path, "ike", n);
        if (strcmp(n, "poll_interval") == 0) {
            if (cfg_get_u32(x, s, path, 1, 3600, &c->ike_poll_interval) < 0)
                return -1;
            continue;
        }
        if (strcmp(n, "vici") != 0)
            return cfg_unknown(x, s, path, known);
        char v[4096], q[300];
        if (cfg_get_str(x, s, path, v, sizeof v, 0) < 0)
            return -1;
        c->ike_vici_set = 1;
        if (strcmp(v, "none") == 0) {
            c->ike_vici[0] = '\0';
            continue;
        }
        const char *p = v;
        if (strncmp(v, "unix://", 7) == 0)
            p = v + 7;
        else if (strstr(v, "://"))
            return cfg_fail(x, cfg_line(s), path,
                            "%s: only unix:// sockets are supported (strongSwan's tcp:// "
                            "VICI is not)", cfg_quote(v, q, sizeof q));
        if (p[0] != '/')
            return cfg_fail(x, cfg_line(s), path,
                            "%s is not unix://PATH, an absolute path or \"none\"",
                            cfg_quote(v, q, sizeof q));
        if (strlen(p) >= sizeof c->ike_vici)
            return cfg_fail(x, cfg_line(s), path,
                            "%s: the socket path is longer than %zu bytes",
                            cfg_quote(v, q, sizeof q), sizeof c->ike_vici - 1);
        snprintf(c->ike_vici, sizeof c->ike_vici, "%s", p);
    }
    return 0;
}

static int parse_root(struct cfg_ctx *x, const config_setting_t *root, struct idt_config *c)
{
    static const char *const known[] = {"agentx", "capture", "loss", "syslog",
                                        "traps", "state", "ike", "tunnels", NULL};
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *n = config_setting_name(s);
        int r;
        if (!cfg_name_in(n, known)) {
            r = cfg_unknown(x, s, n, known);
        } else if (strcmp(n, "tunnels") == 0) {
            r = cfg_parse_tunnels(x, s, c);
        } else if (cfg_want_group(x, s, n) < 0) {
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
        } else if (strcmp(n, "ike") == 0) {
            r = parse_ike(x, s, c);
        } else {
            r = parse_traps(x, s, c);
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* load                                                                 */

int config_load_string(const char *text, const char *name, struct idt_config *c,
                       char *err, size_t errlen)
{
    struct cfg_ctx x = {name ? name : "<string>", err, errlen};
    struct idt_config *tmp = malloc(sizeof *tmp);
    config_t cf;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    if (!tmp) {
        cfg_fail(&x, 0, NULL, "out of memory");
        if (c)
            config_defaults(c);
        return -1;
    }
    config_defaults(tmp);

    struct config_scan scan;
    char *buf = config_scan(text ? text : "", &scan);
    if (!buf) {
        cfg_fail(&x, 0, NULL, "out of memory");
        goto out;
    }

    config_init(&cf);
    int read_ok = config_read_string(&cf, buf);
    if (!read_ok || scan.refused_line) {
        const char *et = read_ok ? NULL : config_error_text(&cf);
        int line = read_ok ? scan.refused_line : config_error_line(&cf);
        if (line > scan.eof_line)       /* at the newline config_scan() added */
            line = scan.eof_line;
        if (!et)
            et = "syntax error";
        if (scan.refused_line && line >= scan.refused_line)
            cfg_fail(&x, scan.refused_line, NULL, "%s", scan.why);
        else if (strncmp(et, "syntax error", 12) == 0)
            cfg_fail(&x, line, NULL, "%s", et);
        else
            cfg_fail(&x, line, NULL, "syntax error: %s", et);
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

/* ------------------------------------------------------------------ */
/* print                                                                */

void config_print(const struct idt_config *c, FILE *out)
{
    fputs("# ipsecdiagtool effective configuration", out);
    if (c->path[0]) {
        fputs(" (from ", out);
        for (const char *p = c->path; *p; p++)
            fputc((unsigned char)*p < 0x20 ? '?' : *p, out);
        fputc(')', out);
    }
    fputs("\n\nagentx: {\n", out);
    cfg_print_kv_str(out, "  ", "socket", c->agentx_socket);
    cfg_print_kv_int(out, "  ", "ping_interval", c->ping_interval);
    fputs("};\n\ncapture: {\n", out);
    cfg_print_kv_str(out, "  ", "interface", c->interface);
    cfg_print_kv_int(out, "  ", "snaplen", c->snaplen);
    cfg_print_kv_int(out, "  ", "buffer_kb", c->buffer_kb);
    fputs("};\n\nloss: {\n", out);
    cfg_print_kv_int(out, "  ", "window", c->window);
    cfg_print_kv_int(out, "  ", "alert_lost", c->alert_lost);
    cfg_print_kv_int(out, "  ", "alert_interval", c->alert_interval);
    cfg_print_kv_int(out, "  ", "alert_ppm", c->alert_ppm);
    cfg_print_kv_int(out, "  ", "alert_repeat", c->alert_repeat);
    cfg_print_kv_int(out, "  ", "alert_min_pkts", c->alert_min_pkts);
    cfg_print_kv_int(out, "  ", "sa_idle_timeout", c->sa_idle_timeout);
    cfg_print_kv_int(out, "  ", "idle_timeout", c->idle_timeout);
    fprintf(out, "  discovered_idle_alerts = %s;\n", c->discovered_idle_alerts ? "true" : "false");
    cfg_print_kv_int(out, "  ", "max_sas", c->max_sas);
    cfg_print_kv_int(out, "  ", "max_tunnels", c->max_tunnels);
    cfg_print_kv_str(out, "  ", "event_log", c->event_log);
    fputs("};\n\nsyslog: {\n", out);
    cfg_print_kv_str(out, "  ", "facility", c->facility_name);
    cfg_print_kv_str(out, "  ", "server", c->syslog_server);
    fputs("};\n\ntraps: {\n", out);
    fprintf(out, "  enabled = %s;\n", c->traps_enabled ? "true" : "false");
    fputs("};\n\nstate: {\n", out);
    cfg_print_kv_str(out, "  ", "dir", c->state_dir);
    fputs("};\n\nike: {\n", out);
    if (!c->ike_vici_set) {     /* printed as a comment: loads back as the default */
        fputs("  # vici = ", out);
        cfg_print_str(out, "unix://" IDT_DEFAULT_VICI);
        fputs(";  (the default: used while the socket exists)\n", out);
    } else if (c->ike_vici[0]) {
        char uri[sizeof c->ike_vici + 8];
        snprintf(uri, sizeof uri, "unix://%s", c->ike_vici);
        cfg_print_kv_str(out, "  ", "vici", uri);
    } else {
        cfg_print_kv_str(out, "  ", "vici", "none");
    }
    cfg_print_kv_int(out, "  ", "poll_interval", c->ike_poll_interval);
    fputs("};\n\n", out);
    cfg_print_tunnels(c, out);
}
