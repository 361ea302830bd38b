/* service_args.c - the command line of "install" and "uninstall"/"remove":
 * their options, usage text and --root made absolute. */
#include "idt_build.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "service_args.h"

#ifndef SYSCONFDIR
#error "build with -DSYSCONFDIR=... (Makefile.am AM_CPPFLAGS)"
#endif

/* ------------------------------------------------------------------ options */

static void usage_install(FILE *out)
{
    fprintf(out,
        "Usage: " PROG " install [--root DIR] [--dry-run] [-c FILE]\n"
        "  --root DIR     install into the tree DIR (offline; systemd need not run)\n"
        "  --dry-run      print every action, change nothing\n"
        "  -c, --config FILE  config to copy to %s/ipsecdiagtool.conf\n"
        "                 (an existing config there is never overwritten)\n",
        SYSCONFDIR);
}

static void usage_uninstall(FILE *out, const char *cmd)
{
    fprintf(out,
        "Usage: " PROG " %s [--root DIR] [--dry-run] [--purge]\n"
        "  --root DIR     operate on the tree DIR (offline)\n"
        "  --dry-run      print every action, change nothing\n"
        "  --purge        also remove the config, the logs and the state directory\n",
        cmd);
}

/* Parse options.  Returns -1 to go on, else an exit status. */
int svc_parse(struct svc *s, int argc, char **argv, int install)
{
    static const struct option lo_inst[] = {
        { "root", required_argument, NULL, 'R' },
        { "dry-run", no_argument, NULL, 'n' },
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const struct option lo_uninst[] = {
        { "root", required_argument, NULL, 'R' },
        { "dry-run", no_argument, NULL, 'n' },
        { "purge", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(s, 0, sizeof *s);
    s->cmd = argc > 0 ? argv[0] : (install ? "install" : "uninstall");
    const char *root = NULL;
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, install ? "+c:h" : "+h",
                            install ? lo_inst : lo_uninst, NULL)) != -1) {
        switch (c) {
        case 'R': root = optarg; break;
        case 'n': s->dry = 1; break;
        case 'P': s->purge = 1; break;
        case 'c': s->config_src = optarg; break;
        case 'h':
            if (install)
                usage_install(stdout);
            else
                usage_uninstall(stdout, s->cmd);
            return 0;
        default:
            if (install)
                usage_install(stderr);
            else
                usage_uninstall(stderr, s->cmd);
            return 2;
        }
    }
    if (optind < argc) {
        svc_err(s, "unexpected argument '%s'", argv[optind]);
        if (install)
            usage_install(stderr);
        else
            usage_uninstall(stderr, s->cmd);
        return 2;
    }
    if (root) {
        if (!*root) {
            svc_err(s, "--root: empty directory name");
            return 2;
        }
        char abs[PATH_MAX];
        if (root[0] != '/') {
            /* keep it absolute: systemctl --root and useradd --root chroot */
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd) ||
                snprintf(abs, sizeof abs, "%s/%s", cwd, root) >= (int)sizeof abs) {
                svc_err(s, "--root %s: path too long", root);
                return 1;
            }
        } else if (snprintf(abs, sizeof abs, "%s", root) >= (int)sizeof abs) {
            svc_err(s, "--root %s: path too long", root);
            return 1;
        }
        size_t len = strlen(abs);
        while (len > 0 && abs[len - 1] == '/')
            abs[--len] = '\0';
        memcpy(s->root, abs, len + 1);
        s->rooted = 1;
    }
    return -1;
}
