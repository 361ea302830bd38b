/* mtu_cli.c - the mtu-discovery command: an SNMP SET of
 * ipsecDiagTunnelMtuDiscover.N (or ipsecDiagMtuDiscoverAll.0) = start(2)
 * to the local master agent, with Net-SNMP's usual client options. */
#include "idt_build.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_file.h"
#include "mib_oids.h"
#include "mtu_cli.h"

/* Net-SNMP client options that take an argument. */
static int takes_arg(const char *opt)
{
    return opt[1] && !opt[2] && strchr("vcuaAxXlneErtYmMOPILTZC", opt[1]) != NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: ipsecdiagtool mtu-discovery [--config FILE] [SNMP options] [[HOST] TUNNEL]\n"
                 "  Starts MTU discovery on TUNNEL (all tunnels if omitted) in the running daemon,\n"
                 "  by an SNMP SET through the master agent on HOST (default localhost).\n"
                 "  SNMP options are Net-SNMP's (-v 2c -c COMMUNITY, -v 3 -u USER -l authPriv ...),\n"
                 "  and snmp.conf applies; so here -c is the community, --config the config file.\n");
}

int mtu_cli_main(int argc, char **argv, const char *default_config)
{
    const char *cpath = default_config;
    int explicit_cfg = 0;
    char **nargv = calloc((size_t)argc + 2, sizeof *nargv);
    const char *pos[3];
    int npos = 0, n = 0;
    if (!nargv)
        return 1;
    nargv[n++] = (char *)"ipsecdiagtool-mtu";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(nargv);
            return 0;
        }
        if (!strcmp(a, "--config") && i + 1 < argc) {
            cpath = argv[++i];
            explicit_cfg = 1;
        } else if (!strncmp(a, "--config=", 9)) {
            cpath = a + 9;
            explicit_cfg = 1;
        } else if (a[0] == '-' && a[1]) {
            nargv[n++] = argv[i];
            if (takes_arg(a) && i + 1 < argc)
                nargv[n++] = argv[++i];
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "ipsecdiagtool: mtu-discovery: unexpected argument '%s'\n", a);
            usage(stderr);
            free(nargv);
            return 2;
        }
    }
    const char *host = npos == 2 ? pos[0] : "localhost";
    const char *tunnel = npos == 2 ? pos[1] : npos == 1 ? pos[0] : NULL;
    nargv[n++] = (char *)host;

    oid name[MAX_OID_LEN];
    size_t name_len;
    if (tunnel) {
        struct idt_config cfg;
        int rc = load_config_for_command(cpath, explicit_cfg, &cfg);
        if (rc) {
            free(nargv);
            return rc;
        }
        const struct idt_tunnel_conf *tc = config_tunnel_by_name(&cfg, tunnel);
        if (!tc) {
            fprintf(stderr, "ipsecdiagtool: mtu-discovery: no tunnel named '%s' in %s\n", tunnel, cpath);
            config_free(&cfg);
            free(nargv);
            return 2;
        }
        oid o[] = { IDT_OID_TUNNEL_ENTRY, IDT_COL_TUNNEL_MTUDISCOVER, 0 };
        o[IDT_OID_TUNNEL_ENTRY_LEN + 1] = tc->index;
        name_len = OID_LENGTH(o);
        memcpy(name, o, sizeof o);
        config_free(&cfg);
    } else {
        oid o[] = { IDT_OID_GLOBALS, IDT_SCALAR_MTUDISCOVERALL, 0 };
        name_len = OID_LENGTH(o);
        memcpy(name, o, sizeof o);
    }

    setenv("MIBS", "", 1);
    netsnmp_session session, *ss;
    int arg = snmp_parse_args(n, nargv, &session, "", NULL);
    if (arg < 0) {
        free(nargv);
        return 2;
    }
    ss = snmp_open(&session);
    if (!ss) {
        snmp_sess_perror("ipsecdiagtool: mtu-discovery", &session);
        free(nargv);
        return 1;
    }
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_SET), *resp = NULL;
    long start = IDT_MTU_DISCOVER_START;
    snmp_pdu_add_variable(pdu, name, name_len, ASN_INTEGER, &start, sizeof start);
    int st = snmp_synch_response(ss, pdu, &resp);
    int rc = 0;
    if (st != STAT_SUCCESS) {
        snmp_sess_perror("ipsecdiagtool: mtu-discovery", ss);
        rc = 1;
    } else if (resp->errstat != SNMP_ERR_NOERROR) {
        long e = resp->errstat;
        fprintf(stderr, "ipsecdiagtool: mtu-discovery: the agent refused the request: %s%s\n",
                snmp_errstring((int)e),
                e == SNMP_ERR_INCONSISTENTVALUE ?
                    (tunnel ? " (notConfigured: the tunnel has no mtu block)"
                            : " (notConfigured: no tunnel has an mtu block)") :
                e == SNMP_ERR_RESOURCEUNAVAILABLE ?
                    " (proberUnavailable: the daemon's MTU prober is not running; see its log)" :
                e == SNMP_ERR_NOSUCHNAME || e == SNMP_ERR_NOTWRITABLE ||
                e == SNMP_ERR_NOCREATION ? " (is ipsecdiagtool running and connected?)" : "");
        rc = 1;
    } else {
        printf("MTU discovery started on %s%s; read ipsecDiagTunnelMtuStatus/ipsecDiagTunnelMtu for the result\n",
               tunnel ? "tunnel " : "all tunnels", tunnel ? tunnel : "");
    }
    if (resp)
        snmp_free_pdu(resp);
    snmp_close(ss);
    free(nargv);
    return rc;
}
