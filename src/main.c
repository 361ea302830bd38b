/* main.c - command-line entry point: parse the command and its options,
 * then hand over to the module that does the work. */
#include "idt_build.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_file.h"
#include "daemon.h"
#include "interactive.h"
#include "mtu_cli.h"
#include "service.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ipsecdiagtool.conf"

static void usage(FILE *out)
{
    fprintf(out,
"Usage: ipsecdiagtool COMMAND [OPTIONS]\n"
"\n"
"Passive IPsec ESP packet-loss detection and in-tunnel MTU discovery,\n"
"served over SNMP (AgentX subagent, IPSECDIAG-MIB).\n"
"\n"
"Commands:\n"
"  run                     run the subagent in the foreground (what the service starts)\n"
"  install                 install and enable the systemd service\n"
"  uninstall, remove       stop, disable and remove the service\n"
"  interactive, demo       capture/analyse and print to the console, no SNMP\n"
"  mtu-discovery, mtu [TUNNEL]\n"
"                          ask the running daemon (via SNMP) to discover the MTU of\n"
"                          TUNNEL (by name), wait, and print the MTU or the reason\n"
"  check-config            validate the config and print the effective settings\n"
"  about, version          version, build options, library versions\n"
"  help                    this text\n"
"\n"
"Common options:\n"
"  -c, --config FILE       config file (default " DEFAULT_CONFIG ")\n"
"  -h, --help              help\n"
"\n"
"run options:\n"
"  -x, --agentx-socket S   AgentX socket of the master agent (overrides agentx.socket)\n"
"  -d, --debug             debug logging\n"
"  -f, --foreground        log to stderr even without a terminal\n"
"  -p, --pidfile FILE      write the process id to FILE\n"
"\n"
"interactive options:\n"
"  -r, --read FILE         analyse a pcap or pcapng file, - for stdin (packet\n                          timestamps, no privileges)\n"
"  -i, --interface IFACE   capture live on IFACE until Ctrl-C\n"
"      --window N          replay window in packets (32..4096; overrides loss.window)\n"
"      --json              machine-readable report on stdout\n"
"      --event-log FILE    write lost/late gaps as CSV (overrides loss.event_log)\n"
"      --mtu [TUNNEL]      run MTU discovery in the foreground (all tunnels by default)\n"
"\n"
"install/uninstall options:\n"
"      --root DIR          operate on a different root directory\n"
"      --dry-run           print what would be done\n"
"      --purge             (uninstall) also remove the config and logs\n"
"\n"
"mtu-discovery takes Net-SNMP's usual client options (-v, -c, -u, ... and a\n"
"host, default localhost) and the settings of snmp.conf: there -c is the SNMP\n"
"community, and only a -c argument containing a '/' is the config file.\n"
"See ipsecdiagtool mtu-discovery --help.\n"
"\n"
"Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n"
"See ipsecdiagtool(8) and ipsecdiagtool.conf(5).\n");
}

static int cmd_check_config(int argc, char **argv)
{
    static const struct option lo[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = DEFAULT_CONFIG;
    int c;
    while ((c = getopt_long(argc, argv, "+c:h", lo, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ipsecdiagtool: check-config: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    struct idt_config cfg;
    char err[512];
    if (config_load(path, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "ipsecdiagtool: %s\n", err);
        return 2;
    }
    printf("# %s: configuration is valid\n", path);
    config_print(&cfg, stdout);
    config_free(&cfg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    /* Each command parses its own options from argv[1..]. */
    int sargc = argc - 1;
    char **sargv = argv + 1;

    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "about") || !strcmp(cmd, "version") || !strcmp(cmd, "--version") ||
        !strcmp(cmd, "-V"))
        return daemon_about(stdout);
    if (!strcmp(cmd, "run"))
        return daemon_main(sargc, sargv, DEFAULT_CONFIG);
    if (!strcmp(cmd, "interactive") || !strcmp(cmd, "demo"))
        return interactive_main(sargc, sargv, DEFAULT_CONFIG);
    if (!strcmp(cmd, "check-config"))
        return cmd_check_config(sargc, sargv);
    if (!strcmp(cmd, "mtu-discovery") || !strcmp(cmd, "mtu"))
        return mtu_cli_main(sargc, sargv, DEFAULT_CONFIG);
    if (!strcmp(cmd, "install"))
        return service_install_main(sargc, sargv, DEFAULT_CONFIG);
    if (!strcmp(cmd, "uninstall") || !strcmp(cmd, "remove"))
        return service_uninstall_main(sargc, sargv, DEFAULT_CONFIG);

    fprintf(stderr, "ipsecdiagtool: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
