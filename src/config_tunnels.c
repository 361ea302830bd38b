/* config_tunnels.c - the "tunnels" list of the configuration: each
 * tunnel's defaults, validation (with its mtu block) and printing.  A key
 * of a tunnel or of its mtu block lives here and in config.h. */
#include "config_tunnels.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

static int parse_mtu(struct cfg_ctx *x, const config_setting_t *g, const char *tpath,
                     struct idt_mtu_conf *m)
{
    static const char *const known[] = {"source", "target", "min", "max", "probes",
                                        "timeout", "retries", "interval", NULL};
    char gpath[96], path[128];
    const config_setting_t *src = NULL, *tgt = NULL, *smin = NULL, *smax = NULL;
    cfg_join(gpath, sizeof gpath, tpath, "mtu");
    m->enabled = 1;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        cfg_join(path, sizeof path, gpath, n);
        int r;
        if (strcmp(n, "source") == 0) {
            r = cfg_get_addr(x, s, path, &m->source);
            src = s;
        } else if (strcmp(n, "target") == 0) {
            r = cfg_get_addr(x, s, path, &m->target);
            tgt = s;
        } else if (strcmp(n, "min") == 0) {
            r = cfg_get_u32(x, s, path, 576, 9216, &m->min);
            smin = s;
        } else if (strcmp(n, "max") == 0) {
            r = cfg_get_u32(x, s, path, 576, 9216, &m->max);
            smax = s;
        } else if (strcmp(n, "probes") == 0) {
            r = cfg_get_u32(x, s, path, 1, 64, &m->probes);
        } else if (strcmp(n, "timeout") == 0) {
            r = cfg_get_double(x, s, path, 0.1, 60.0, &m->timeout);
        } else if (strcmp(n, "retries") == 0) {
            r = cfg_get_u32(x, s, path, 0, 10, &m->retries);
        } else if (strcmp(n, "interval") == 0) {
            r = cfg_get_u32(x, s, path, 0, 604800, &m->interval);
        } else {
            r = cfg_unknown(x, s, path, known);
        }
        if (r < 0)
            return -1;
    }
    if (!src) {
        cfg_join(path, sizeof path, gpath, "source");
        return cfg_fail(x, cfg_line(g), path, "missing (required in an mtu block)");
    }
    if (!tgt) {
        cfg_join(path, sizeof path, gpath, "target");
        return cfg_fail(x, cfg_line(g), path, "missing (required in an mtu block)");
    }
    if (m->source.family != m->target.family) {
        cfg_join(path, sizeof path, gpath, "target");
        return cfg_fail(x, cfg_line(tgt), path, "%s address but mtu.source is %s",
                    cfg_family_name(m->target.family), cfg_family_name(m->source.family));
    }
    if (idt_addr_eq(&m->source, &m->target)) {
        cfg_join(path, sizeof path, gpath, "target");
        return cfg_fail(x, cfg_line(tgt), path, "must differ from mtu.source");
    }
    if (m->min > m->max) {
        /* Blame the key that was written (the later one if both were). */
        const config_setting_t *at = smax ? smax : smin;
        if (smin && smax && cfg_line(smin) > cfg_line(smax))
            at = smin;
        cfg_join(path, sizeof path, gpath, at == smin ? "min" : "max");
        return cfg_fail(x, cfg_line(at), path, "mtu.min (%u) is greater than mtu.max (%u)",
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

static int parse_tunnel(struct cfg_ctx *x, const config_setting_t *g, size_t pos,
                        struct idt_config *c, struct tunnel_lines *lines)
{
    static const char *const known[] = {"name", "index", "local", "remote", "alert_lost",
                                        "alert_interval", "alert_ppm", "alerts",
                                        "idle_timeout", "idle_alerts", "mtu",
                                        NULL};
    struct idt_tunnel_conf *t = &c->tunnels[pos];
    struct tunnel_lines *ln = &lines[pos];
    char tpath[48], path[128];
    const config_setting_t *sname = NULL, *sindex = NULL, *slocal = NULL, *sremote = NULL;
    long long v;
    snprintf(tpath, sizeof tpath, "tunnels[%zu]", pos);
    tunnel_defaults(t);
    ln->group = cfg_line(g);

    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return cfg_fail(x, cfg_line(g), tpath, "expected a group { ... }, got %s",
                    cfg_type_desc(config_setting_type(g)));

    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        cfg_join(path, sizeof path, tpath, n);
        int r = 0;
        if (strcmp(n, "name") == 0) {
            int ty = config_setting_type(s);
            if (ty != CONFIG_TYPE_STRING)
                return cfg_fail(x, cfg_line(s), path, "expected a string, got %s", cfg_type_desc(ty));
            const char *nm = config_setting_get_string(s);
            char q[300];
            if (!nm || !valid_tunnel_name(nm))
                return cfg_fail(x, cfg_line(s), path,
                            "invalid tunnel name %s (1..63 characters of A-Z a-z 0-9 . _ -)",
                            cfg_quote(nm ? nm : "", q, sizeof q));
            for (size_t k = 0; k < pos; k++)
                if (strcmp(c->tunnels[k].name, nm) == 0)
                    return cfg_fail(x, cfg_line(s), path,
                                "duplicate tunnel name %s (also tunnels[%zu] at line %d)",
                                cfg_quote(nm, q, sizeof q), k, lines[k].name);
            snprintf(t->name, sizeof t->name, "%s", nm);
            sname = s;
            ln->name = cfg_line(s);
        } else if (strcmp(n, "index") == 0) {
            if (cfg_get_int(x, s, path, 1, 4294967295LL, &v) < 0)
                return -1;
            for (size_t k = 0; k < pos; k++)
                if (c->tunnels[k].index == (uint32_t)v)
                    return cfg_fail(x, cfg_line(s), path,
                                "duplicate tunnel index %lld (also tunnels[%zu] at line %d)",
                                v, k, lines[k].index);
            t->index = (uint32_t)v;
            sindex = s;
            ln->index = cfg_line(s);
        } else if (strcmp(n, "local") == 0) {
            r = cfg_get_addr(x, s, path, &t->local);
            slocal = s;
        } else if (strcmp(n, "remote") == 0) {
            r = cfg_get_addr(x, s, path, &t->remote);
            sremote = s;
            ln->remote = cfg_line(s);
        } else if (strcmp(n, "alert_lost") == 0) {
            if ((r = cfg_get_int(x, s, path, 0, 2147483648LL, &v)) == 0)
                t->alert_lost = v;
        } else if (strcmp(n, "alert_interval") == 0) {
            if ((r = cfg_get_int(x, s, path, 1, 86400, &v)) == 0)
                t->alert_interval = v;
        } else if (strcmp(n, "alert_ppm") == 0) {
            if ((r = cfg_get_int(x, s, path, 0, 1000000, &v)) == 0)
                t->alert_ppm = v;
        } else if (strcmp(n, "alerts") == 0) {
            r = cfg_get_bool(x, s, path, &t->alerts);
        } else if (strcmp(n, "idle_timeout") == 0) {
            if ((r = cfg_get_int(x, s, path, 0, 604800, &v)) == 0)
                t->idle_timeout = v;
        } else if (strcmp(n, "idle_alerts") == 0) {
            r = cfg_get_bool(x, s, path, &t->idle_alerts);
        } else if (strcmp(n, "mtu") == 0) {
            if ((r = cfg_want_group(x, s, path)) == 0)
                r = parse_mtu(x, s, tpath, &t->mtu);
        } else {
            r = cfg_unknown(x, s, path, known);
        }
        if (r < 0)
            return -1;
    }

    static const char *const req[] = {"name", "index", "local", "remote"};
    const config_setting_t *have[] = {sname, sindex, slocal, sremote};
    for (size_t k = 0; k < 4; k++) {
        if (!have[k]) {
            cfg_join(path, sizeof path, tpath, req[k]);
            return cfg_fail(x, cfg_line(g), path, "missing (every tunnel needs name, index, "
                                             "local and remote)");
        }
    }
    cfg_join(path, sizeof path, tpath, "remote");
    if (t->local.family != t->remote.family)
        return cfg_fail(x, cfg_line(sremote), path, "%s address but local is %s",
                    cfg_family_name(t->remote.family), cfg_family_name(t->local.family));
    if (idt_addr_eq(&t->local, &t->remote))
        return cfg_fail(x, cfg_line(sremote), path, "must differ from local");
    for (size_t k = 0; k < pos; k++) {
        const struct idt_tunnel_conf *o = &c->tunnels[k];
        if ((idt_addr_eq(&o->local, &t->local) && idt_addr_eq(&o->remote, &t->remote)) ||
            (idt_addr_eq(&o->local, &t->remote) && idt_addr_eq(&o->remote, &t->local)))
            return cfg_fail(x, cfg_line(sremote), path,
                        "same local/remote pair as tunnels[%zu] at line %d", k,
                        lines[k].remote);
    }
    return 0;
}

int cfg_parse_tunnels(struct cfg_ctx *x, const config_setting_t *l, struct idt_config *c)
{
    int t = config_setting_type(l);
    int n = config_setting_length(l);
    if (t == CONFIG_TYPE_ARRAY && n == 0)
        return 0; /* "tunnels = [];" - empty, fine */
    if (t != CONFIG_TYPE_LIST)
        return cfg_fail(x, cfg_line(l), "tunnels", "expected a list ( { ... }, ... ), got %s",
                    cfg_type_desc(t));
    if (n <= 0)
        return 0;
    if (n > IDT_MAX_CONF_TUNNELS)
        return cfg_fail(x, cfg_line(l), "tunnels", "too many tunnels (%d, at most %d)", n,
                    IDT_MAX_CONF_TUNNELS);
    struct tunnel_lines *lines = calloc((size_t)n, sizeof *lines);
    c->tunnels = calloc((size_t)n, sizeof *c->tunnels);
    if (!lines || !c->tunnels) {
        free(lines);
        return cfg_fail(x, 0, NULL, "out of memory");
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

/* ------------------------------------------------------------------ */
/* print                                                                */

void cfg_print_tunnels(const struct idt_config *c, FILE *out)
{
    char a[INET6_ADDRSTRLEN];
    fputs("tunnels = (", out);
    for (size_t i = 0; i < c->ntunnels; i++) {
        const struct idt_tunnel_conf *t = &c->tunnels[i];
        fputs(i ? ",\n  {\n" : "\n  {\n", out);
        cfg_print_kv_str(out, "    ", "name", t->name);
        cfg_print_kv_int(out, "    ", "index", t->index);
        cfg_print_kv_str(out, "    ", "local", idt_addr_str(&t->local, a, sizeof a));
        cfg_print_kv_str(out, "    ", "remote", idt_addr_str(&t->remote, a, sizeof a));
        if (t->alert_lost >= 0)
            cfg_print_kv_int(out, "    ", "alert_lost", t->alert_lost);
        if (t->alert_interval >= 0)
            cfg_print_kv_int(out, "    ", "alert_interval", t->alert_interval);
        if (t->alert_ppm >= 0)
            cfg_print_kv_int(out, "    ", "alert_ppm", t->alert_ppm);
        fprintf(out, "    alerts = %s;\n", t->alerts ? "true" : "false");
        if (t->idle_timeout >= 0)
            cfg_print_kv_int(out, "    ", "idle_timeout", t->idle_timeout);
        if (!t->idle_alerts)
            fputs("    idle_alerts = false;\n", out);
        if (t->mtu.enabled) {
            const struct idt_mtu_conf *m = &t->mtu;
            fputs("    mtu: {\n", out);
            cfg_print_kv_str(out, "      ", "source", idt_addr_str(&m->source, a, sizeof a));
            cfg_print_kv_str(out, "      ", "target", idt_addr_str(&m->target, a, sizeof a));
            cfg_print_kv_int(out, "      ", "min", m->min);
            cfg_print_kv_int(out, "      ", "max", m->max);
            cfg_print_kv_int(out, "      ", "probes", m->probes);
            fputs("      timeout = ", out);
            cfg_print_double(out, m->timeout);
            fputs(";\n", out);
            cfg_print_kv_int(out, "      ", "retries", m->retries);
            cfg_print_kv_int(out, "      ", "interval", m->interval);
            fputs("    };\n", out);
        }
        fputs("  }", out);
    }
    fputs(c->ntunnels ? "\n);\n" : ");\n", out);
}
