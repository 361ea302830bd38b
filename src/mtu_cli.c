/* mtu_cli.c - the mtu-discovery command.  It finds the tunnel by its name
 * in ipsecDiagTunnelName (or, with --config, in a configuration file),
 * SETs ipsecDiagTunnelMtuDiscover.N (or ipsecDiagMtuDiscoverAll.0) to
 * start(2) through the master agent with Net-SNMP's client options, then
 * polls the tunnel rows until the runs have ended (ipsecDiagTunnelMtuRuns
 * grows) and prints the MTU, or the failure and its reason
 * (ipsecDiagTunnelMtuFailReason). */
#include "idt_build.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config_file.h"
#include "mib_oids.h"
#include "mtu_cli.h"

#define DEFAULT_MAX_WAIT_S 300
#define POLL_MS 500
#define BULK_REPS 32

static const char *g_host = "localhost";

/* Net-SNMP client options that take an argument. */
static int takes_arg(const char *opt)
{
    return opt[1] && !opt[2] && strchr("vcuaAxXlneErtYmMOPILTZC", opt[1]) != NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
"Usage: ipsecdiagtool mtu-discovery [--no-wait] [--max-wait SECONDS] [--config FILE]\n"
"                                   [SNMP options] ([HOST] TUNNEL | --all [HOST])\n"
"  Starts MTU discovery on TUNNEL (with --all or without TUNNEL: on every tunnel\n"
"  with an mtu block) in the running daemon, by an SNMP SET through the master\n"
"  agent on HOST (default localhost), waits until the run has ended and prints\n"
"  the MTU, or the failure and its reason.  Exit status: 0 every run found the\n"
"  MTU, 1 a run failed or the agent refused, 2 usage error or unknown TUNNEL.\n"
"  TUNNEL is a tunnel name as in ipsecDiagTunnelName, looked up through the agent.\n"
"  --all               every tunnel with an mtu block; a single argument is the HOST\n"
"  --no-wait           return as soon as the agent has accepted the start\n"
"  --max-wait SECONDS  give up waiting after SECONDS (default %d)\n"
"  --config FILE       look TUNNEL up in the configuration FILE instead\n"
"  SNMP options are Net-SNMP's (-v 2c -c COMMUNITY, -v 3 -u USER -l authPriv ...,\n"
"  -t TIMEOUT, -r RETRIES), and snmp.conf applies.  So here -c is the community;\n"
"  only a -c argument that contains a '/' is taken as the configuration file\n"
"  (the same as --config; write ./FILE for a file in the current directory).\n",
            DEFAULT_MAX_WAIT_S);
}

/* ------------------------------------------------------------ SNMP errors */

static const char *access_hint(long e)
{
    if (e == SNMP_ERR_NOACCESS || e == SNMP_ERR_NOTWRITABLE || e == SNMP_ERR_AUTHORIZATIONERROR ||
        e == SNMP_ERR_NOSUCHNAME || e == SNMP_ERR_READONLY)
        return " (this community or user may not write here: snmpd.conf needs e.g. "
               "\"rwcommunity private 127.0.0.1\", or a VACM write view that includes "
               "IPSECDIAG-MIB, for SETs)";
    return "";
}

/* Print why a request failed; 1 (the exit status). */
static int request_failed(netsnmp_session *ss, int st, const netsnmp_pdu *resp, const char *what)
{
    if (st == STAT_TIMEOUT || (st == STAT_ERROR && ss->s_snmp_errno == SNMPERR_TIMEOUT)) {
        fprintf(stderr, "ipsecdiagtool: mtu-discovery: no answer from %s to the %s "
                "(is snmpd running there? It also stays silent for a wrong community or "
                "user; without -v the SNMP version is snmp.conf's, by default 3)\n", g_host, what);
    } else if (st != STAT_SUCCESS) {
        char *s = NULL;
        snmp_error(ss, NULL, NULL, &s);
        fprintf(stderr, "ipsecdiagtool: mtu-discovery: %s to %s failed: %s\n", what, g_host,
                s ? s : "unknown error");
        free(s);
    } else {
        fprintf(stderr, "ipsecdiagtool: mtu-discovery: the agent at %s refused the %s: %s%s\n",
                g_host, what, snmp_errstring((int)resp->errstat), access_hint(resp->errstat));
    }
    return 1;
}

static int is_exception(const netsnmp_variable_list *v)
{
    return v->type == SNMP_NOSUCHOBJECT || v->type == SNMP_NOSUCHINSTANCE ||
           v->type == SNMP_ENDOFMIBVIEW;
}

/* ------------------------------------------------------------ rows */

struct row {
    uint32_t index;
    char name[64];
    unsigned long runs0;    /* ipsecDiagTunnelMtuRuns before the SET */
    int done;
};

struct rows {
    struct row *r;
    size_t n, cap;
};

static struct row *rows_add(struct rows *rs, uint32_t index)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->r[i].index == index)
            return &rs->r[i];
    if (rs->n == rs->cap) {
        size_t ncap = rs->cap ? rs->cap * 2 : 16;
        struct row *n = realloc(rs->r, ncap * sizeof *n);
        if (!n)
            return NULL;
        rs->r = n;
        rs->cap = ncap;
    }
    struct row *w = &rs->r[rs->n++];
    memset(w, 0, sizeof *w);
    w->index = index;
    snprintf(w->name, sizeof w->name, "tunnel-%u", index);
    return w;
}

/* Walk ipsecDiagTunnelName (GETBULK, or GETNEXT for v1): a row per
 * instance.  0, or 1 after printing why. */
static int walk_names(netsnmp_session *ss, struct rows *rs)
{
    const oid base[] = { IDT_OID_TUNNEL_ENTRY, 0 };
    size_t blen = OID_LENGTH(base);
    oid cur[MAX_OID_LEN];
    size_t clen = blen;
    memcpy(cur, base, sizeof base);
    cur[blen - 1] = IDT_COL_TUNNEL_NAME;
    for (;;) {
        netsnmp_pdu *pdu = snmp_pdu_create(ss->version == SNMP_VERSION_1 ? SNMP_MSG_GETNEXT
                                                                         : SNMP_MSG_GETBULK);
        netsnmp_pdu *resp = NULL;
        if (pdu->command == SNMP_MSG_GETBULK) {
            pdu->non_repeaters = 0;
            pdu->max_repetitions = BULK_REPS;
        }
        snmp_add_null_var(pdu, cur, clen);
        int st = snmp_synch_response(ss, pdu, &resp);
        if (st != STAT_SUCCESS || resp->errstat != SNMP_ERR_NOERROR) {
            int end = st == STAT_SUCCESS && resp->errstat == SNMP_ERR_NOSUCHNAME; /* v1 end */
            int rc = end ? 0 : request_failed(ss, st, resp, "walk of ipsecDiagTunnelTable");
            if (resp)
                snmp_free_pdu(resp);
            return rc;
        }
        int more = 0;
        for (netsnmp_variable_list *v = resp->variables; v; v = v->next_variable) {
            if (is_exception(v) || v->name_length != blen + 1 ||
                snmp_oid_compare(v->name, blen, cur, blen) != 0) {
                more = 0;
                break;
            }
            struct row *w = rows_add(rs, (uint32_t)v->name[blen]);
            if (!w) {
                snmp_free_pdu(resp);
                fprintf(stderr, "ipsecdiagtool: mtu-discovery: out of memory\n");
                return 1;
            }
            if (v->type == ASN_OCTET_STR) {
                size_t l = v->val_len < sizeof w->name - 1 ? v->val_len : sizeof w->name - 1;
                memcpy(w->name, v->val.string, l);
                w->name[l] = '\0';
            }
            memcpy(cur, v->name, v->name_length * sizeof(oid));
            clen = v->name_length;
            more = 1;
        }
        snmp_free_pdu(resp);
        if (!more)
            return 0;
    }
}

/* GET of MtuStatus, MtuRuns, Mtu, MtuFailReason of one row.  0; 1 after
 * printing why; 2 if the row is gone. */
static int get_mtu_cols(netsnmp_session *ss, uint32_t index, long *status, unsigned long *runs,
                        unsigned long *mtu, long *fail)
{
    static const int cols[4] = { IDT_COL_TUNNEL_MTUSTATUS, IDT_COL_TUNNEL_MTURUNS,
                                 IDT_COL_TUNNEL_MTU, IDT_COL_TUNNEL_MTUFAILREASON };
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET), *resp = NULL;
    for (int i = 0; i < 4; i++) {
        oid o[] = { IDT_OID_TUNNEL_ENTRY, 0, 0 };
        o[IDT_OID_TUNNEL_ENTRY_LEN] = (oid)cols[i];
        o[IDT_OID_TUNNEL_ENTRY_LEN + 1] = index;
        snmp_add_null_var(pdu, o, OID_LENGTH(o));
    }
    int st = snmp_synch_response(ss, pdu, &resp);
    if (st != STAT_SUCCESS || resp->errstat != SNMP_ERR_NOERROR) {
        int rc = request_failed(ss, st, resp, "read of the MTU columns");
        if (resp)
            snmp_free_pdu(resp);
        return rc;
    }
    int rc = 0, i = 0;
    for (netsnmp_variable_list *v = resp->variables; v && i < 4; v = v->next_variable, i++) {
        if (is_exception(v) || !v->val.integer) {
            rc = 2;
            break;
        }
        long x = *v->val.integer;
        if (i == 0)
            *status = x;
        else if (i == 1)
            *runs = (unsigned long)x & 0xffffffffUL;
        else if (i == 2)
            *mtu = (unsigned long)x & 0xffffffffUL;
        else
            *fail = x;
    }
    if (i < 4 && rc == 0)
        rc = 2;
    snmp_free_pdu(resp);
    return rc;
}

/* ipsecDiagTunnelMtuFailReason: name and what it means (from the MIB). */
static const char *fail_text(long r, const char **name)
{
    static const struct { const char *name, *text; } t[] = {
        [IDT_MTU_FAIL_NONE] = { "none", "no failure" },
        [IDT_MTU_FAIL_NOREPLY] = { "noReply", "not even the smallest size was answered: the "
                                   "target is unreachable, does not answer ICMP echo, or the "
                                   "tunnel is down" },
        [IDT_MTU_FAIL_NOTARGET] = { "noTarget", "the tunnel has no mtu block" },
        [IDT_MTU_FAIL_PROBERUNAVAILABLE] = { "proberUnavailable", "the daemon's MTU prober is "
                                             "not running; see its log" },
        [IDT_MTU_FAIL_SENDERROR] = { "sendError", "no probe could be sent (a local firewall, "
                                     "or no route to the target)" },
        [IDT_MTU_FAIL_LOCALLIMIT] = { "localLimit", "the local interface MTU towards the "
                                      "target is below mtu.min" },
        [IDT_MTU_FAIL_NOSTABLEANSWER] = { "noStableAnswer", "the answers contradicted each "
                                          "other in every round (packet loss?); try again" },
        [IDT_MTU_FAIL_SOCKETERROR] = { "socketError", "the raw ICMP socket could not be opened "
                                       "or bound to mtu.source (CAP_NET_RAW? is mtu.source a "
                                       "local address?)" },
        [IDT_MTU_FAIL_BADPARAMETERS] = { "badParameters", "the mtu block's parameters were "
                                         "rejected" },
    };
    if (r >= IDT_MTU_FAIL_NONE && r <= IDT_MTU_FAIL_BADPARAMETERS) {
        *name = t[r].name;
        return t[r].text;
    }
    *name = "unknown";
    return "an unknown reason";
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0)
        ;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Poll until every row's run has ended; print each result.  0 if all
 * succeeded, 1 otherwise. */
static int wait_results(netsnmp_session *ss, struct rows *rs, unsigned max_wait_s)
{
    uint64_t deadline = now_ms() + (uint64_t)max_wait_s * 1000u;
    size_t left = 0;
    int failed = 0;
    for (size_t i = 0; i < rs->n; i++)
        left += !rs->r[i].done;
    while (left) {
        sleep_ms(POLL_MS);
        for (size_t i = 0; i < rs->n; i++) {
            struct row *w = &rs->r[i];
            if (w->done)
                continue;
            long status = 0, fail = 0;
            unsigned long runs = 0, mtu = 0;
            int rc = get_mtu_cols(ss, w->index, &status, &runs, &mtu, &fail);
            if (rc == 1)
                return 1;
            if (rc == 2) {
                printf("mtu discovery on tunnel %s: the row is gone (tunnel removed by a "
                       "configuration reload?)\n", w->name);
            } else if (runs < w->runs0) {
                printf("mtu discovery on tunnel %s: the daemon restarted meanwhile; the "
                       "result is lost\n", w->name);
                rc = 2;
            } else if (runs > w->runs0) {
                const char *fname;
                const char *text = fail_text(fail, &fname);
                if (fail == IDT_MTU_FAIL_NONE) {
                    printf("mtu discovered on tunnel %s: mtu=%lu\n", w->name, mtu);
                } else {
                    printf("mtu discovery failed on tunnel %s: %s (reason=%s)\n", w->name,
                           text, fname);
                    rc = 2;
                }
            } else {
                continue;       /* still running */
            }
            fflush(stdout);
            w->done = 1;
            left--;
            failed |= rc != 0;
        }
        if (left && now_ms() >= deadline) {
            for (size_t i = 0; i < rs->n; i++)
                if (!rs->r[i].done)
                    printf("mtu discovery on tunnel %s: still running after %u s; the result "
                           "will be in ipsecDiagTunnelMtuStatus.%u\n", rs->r[i].name,
                           max_wait_s, rs->r[i].index);
            return 1;
        }
    }
    return failed;
}

/* ------------------------------------------------------------ the command */

struct opts {
    const char *cpath;
    int explicit_cfg, no_wait, all;
    int community_given;    /* a -c COMMUNITY went to Net-SNMP */
    unsigned max_wait_s;
    const char *tunnel;
};

/* Split argv into our options, Net-SNMP's (into nargv) and the host.
 * -1 to continue, else the exit status. */
static int parse(int argc, char **argv, struct opts *o, char **nargv, int *n)
{
    const char *pos[3] = { NULL, NULL, NULL };
    int npos = 0;
    nargv[(*n)++] = (char *)"ipsecdiagtool-mtu";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--no-wait")) {
            o->no_wait = 1;
        } else if (!strcmp(a, "--all")) {
            o->all = 1;
        } else if (!strcmp(a, "--max-wait") || !strncmp(a, "--max-wait=", 11)) {
            const char *v = a[10] == '=' ? a + 11 : i + 1 < argc ? argv[++i] : "";
            char *end;
            unsigned long s = strtoul(v, &end, 10);
            if (!*v || *end || s < 1 || s > 86400) {
                fprintf(stderr, "ipsecdiagtool: mtu-discovery: --max-wait needs a number of "
                        "seconds, 1..86400 (got '%s')\n", v);
                return 2;
            }
            o->max_wait_s = (unsigned)s;
        } else if (!strcmp(a, "--config") || !strncmp(a, "--config=", 9) ||
                   (!strncmp(a, "-c", 2) && strchr(a[2] ? a + 2 : i + 1 < argc ? argv[i + 1] : "",
                                                   '/'))) {
            if (!strcmp(a, "--config") || !strcmp(a, "-c")) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "ipsecdiagtool: mtu-discovery: %s needs a file\n", a);
                    return 2;
                }
                o->cpath = argv[++i];
            } else {
                o->cpath = a[1] == '-' ? a + 9 : a + 2;
            }
            o->explicit_cfg = 1;
        } else if (a[0] == '-' && a[1]) {
            o->community_given |= !strncmp(a, "-c", 2);
            nargv[(*n)++] = argv[i];
            if (takes_arg(a) && i + 1 < argc)
                nargv[(*n)++] = argv[++i];
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "ipsecdiagtool: mtu-discovery: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (o->all && npos == 2) {
        fprintf(stderr, "ipsecdiagtool: mtu-discovery: --all takes no TUNNEL (got '%s')\n",
                pos[1]);
        return 2;
    }
    g_host = npos == 2 || (o->all && npos == 1) ? pos[0] : "localhost";
    o->tunnel = o->all ? NULL : npos == 2 ? pos[1] : npos == 1 ? pos[0] : NULL;
    nargv[(*n)++] = (char *)g_host;
    return -1;
}

/* The MIB must be visible before anything else makes sense. */
static int check_visible(netsnmp_session *ss)
{
    const oid o[] = { IDT_OID_GLOBALS, IDT_SCALAR_REPLAYWINDOW, 0 };
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET), *resp = NULL;
    snmp_add_null_var(pdu, o, OID_LENGTH(o));
    int st = snmp_synch_response(ss, pdu, &resp);
    int rc = 0;
    if (st != STAT_SUCCESS || (resp->errstat != SNMP_ERR_NOERROR &&
                               resp->errstat != SNMP_ERR_NOSUCHNAME)) {
        rc = request_failed(ss, st, resp, "read of ipsecDiagReplayWindow.0");
    } else if (resp->errstat == SNMP_ERR_NOSUCHNAME || !resp->variables ||
               is_exception(resp->variables)) {
        static const oid root[] = { IDT_MIB_ROOT };
        fprintf(stderr, "ipsecdiagtool: mtu-discovery: %s shows no IPSECDIAG-MIB: ipsecdiagtool "
                "is not running or not connected to snmpd (see its log), or the view of this "
                "community or user does not include ", g_host);
        for (size_t i = 0; i < OID_LENGTH(root); i++)
            fprintf(stderr, ".%lu", (unsigned long)root[i]);
        fputc('\n', stderr);
        rc = 1;
    }
    if (resp)
        snmp_free_pdu(resp);
    return rc;
}

/* Find the rows to wait for: the named tunnel, or every tunnel that has
 * an mtu block.  0, or the exit status after printing why. */
static int find_rows(netsnmp_session *ss, const struct opts *o, struct rows *rs)
{
    if (o->tunnel && o->explicit_cfg) {     /* read before any request */
        struct idt_config cfg;
        int rc = load_config_for_command(o->cpath, 1, &cfg);
        if (rc)
            return rc;
        const struct idt_tunnel_conf *tc = config_tunnel_by_name(&cfg, o->tunnel);
        struct row *w = tc ? rows_add(rs, tc->index) : NULL;
        if (w)
            snprintf(w->name, sizeof w->name, "%s", tc->name);
        config_free(&cfg);
        if (!tc) {
            fprintf(stderr, "ipsecdiagtool: mtu-discovery: no tunnel named '%s' in %s\n",
                    o->tunnel, o->cpath);
            return 2;
        }
        return w ? 0 : 1;
    }
    if (walk_names(ss, rs))
        return 1;
    if (!o->tunnel)
        return 0;
    for (size_t i = 0; i < rs->n; i++) {
        if (!strcmp(rs->r[i].name, o->tunnel)) {
            rs->r[0] = rs->r[i];
            rs->n = 1;
            return 0;
        }
    }
    fprintf(stderr, "ipsecdiagtool: mtu-discovery: no tunnel named '%s' at %s", o->tunnel,
            g_host);
    if (rs->n == 0)
        fprintf(stderr, " (its ipsecDiagTunnelTable is empty)");
    for (size_t i = 0; i < rs->n && i < 10; i++)
        fprintf(stderr, "%s%s", i ? ", " : " (tunnels: ", rs->r[i].name);
    fprintf(stderr, "%s\n", rs->n > 10 ? ", ...)" : rs->n ? ")" : "");
    return 2;
}

static int start(netsnmp_session *ss, const struct opts *o, const struct rows *rs)
{
    oid name[MAX_OID_LEN];
    size_t name_len;
    if (o->tunnel) {
        oid t[] = { IDT_OID_TUNNEL_ENTRY, IDT_COL_TUNNEL_MTUDISCOVER, 0 };
        t[IDT_OID_TUNNEL_ENTRY_LEN + 1] = rs->r[0].index;
        name_len = OID_LENGTH(t);
        memcpy(name, t, sizeof t);
    } else {
        oid t[] = { IDT_OID_GLOBALS, IDT_SCALAR_MTUDISCOVERALL, 0 };
        name_len = OID_LENGTH(t);
        memcpy(name, t, sizeof t);
    }
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_SET), *resp = NULL;
    long go = IDT_MTU_DISCOVER_START;
    snmp_pdu_add_variable(pdu, name, name_len, ASN_INTEGER, &go, sizeof go);
    int st = snmp_synch_response(ss, pdu, &resp);
    int rc = 0;
    if (st == STAT_SUCCESS && resp->errstat == SNMP_ERR_INCONSISTENTVALUE) {
        fprintf(stderr, "ipsecdiagtool: mtu-discovery: the agent refused the request: "
                "inconsistentValue (notConfigured: %s)\n",
                o->tunnel ? "the tunnel has no mtu block" : "no tunnel has an mtu block");
        rc = 1;
    } else if (st == STAT_SUCCESS && resp->errstat == SNMP_ERR_RESOURCEUNAVAILABLE) {
        fprintf(stderr, "ipsecdiagtool: mtu-discovery: the agent refused the request: "
                "resourceUnavailable (proberUnavailable: the daemon's MTU prober is not "
                "running; see its log)\n");
        rc = 1;
    } else if (st != STAT_SUCCESS || resp->errstat != SNMP_ERR_NOERROR) {
        rc = request_failed(ss, st, resp, "SET of start(2)");
    }
    if (resp)
        snmp_free_pdu(resp);
    return rc;
}

static int run(netsnmp_session *ss, const struct opts *o)
{
    struct rows rs = { 0 };
    int from_file = o->tunnel && o->explicit_cfg;
    int rc = from_file ? find_rows(ss, o, &rs) : 0;
    if (!rc)
        rc = check_visible(ss);
    if (!rc && !from_file)
        rc = find_rows(ss, o, &rs);
    /* Runs before the SET, to see the run end.  Rows that cannot run
     * (notConfigured) are not waited for. */
    size_t k = 0;
    for (size_t i = 0; !rc && i < rs.n; i++) {
        struct row *w = &rs.r[i];
        long st = 0, fail = 0;
        unsigned long mtu = 0;
        int g = get_mtu_cols(ss, w->index, &st, &w->runs0, &mtu, &fail);
        if (g == 1)
            rc = 1;
        else if (g == 0 && (o->tunnel || st != IDT_MTU_STATUS_NOTCONFIGURED))
            rs.r[k++] = *w;
    }
    rs.n = k;
    if (!rc)
        rc = start(ss, o, &rs);
    if (!rc && o->no_wait) {
        for (size_t i = 0; i < rs.n; i++)
            printf("mtu discovery started on tunnel %s; the result will be in "
                   "ipsecDiagTunnelMtuStatus.%u and ipsecDiagTunnelMtu.%u\n", rs.r[i].name,
                   rs.r[i].index, rs.r[i].index);
    } else if (!rc) {
        for (size_t i = 0; i < rs.n; i++)
            printf("mtu discovery started on tunnel %s (index %u)\n", rs.r[i].name,
                   rs.r[i].index);
        fflush(stdout);
        rc = wait_results(ss, &rs, o->max_wait_s);
    }
    free(rs.r);
    return rc;
}

int mtu_cli_main(int argc, char **argv, const char *default_config)
{
    struct opts o = { .cpath = default_config, .max_wait_s = DEFAULT_MAX_WAIT_S };
    char **nargv = calloc((size_t)argc + 2, sizeof *nargv);
    int n = 0;
    if (!nargv)
        return 1;
    int rc = parse(argc, argv, &o, nargv, &n);
    if (rc >= 0) {
        free(nargv);
        return rc;
    }
    setenv("MIBS", "", 1);      /* numeric OIDs only: no MIB files to load */
    netsnmp_session session, *ss;
    if (snmp_parse_args(n, nargv, &session, "", NULL) < 0) {
        free(nargv);
        return 2;
    }
    ss = snmp_open(&session);       /* copies the session's strings */
    if (o.community_given) {        /* -c: a copy made by snmp_parse_args, ours to free */
        free(session.community);
        session.community = NULL;
    }
    if (!ss) {
        snmp_sess_perror("ipsecdiagtool: mtu-discovery", &session);
        free(nargv);
        return 1;
    }
    rc = run(ss, &o);
    snmp_close(ss);
    free(nargv);
    return rc;
}
