/* service.c - "install" and "uninstall"/"remove": set up or tear down the
 * systemd service (unit file, system user, config, log and state directory).
 *
 * Every check that can fail is done before the first change, so a refused
 * install leaves nothing behind.  --dry-run prints each action and changes
 * nothing.  --root DIR works on an offline tree (image build): systemd need
 * not be running, and enabling uses "systemctl --root=DIR", which works
 * without a running manager.
 *
 * This file holds the steps of the two commands; their command line is
 * service_args.c, the single actions they are made of service_ops.c.
 *
 * The files are not composed here: the build makes the unit, the sysusers.d
 * and the tmpfiles.d snippet once from conf/ (Makefile.am) and compiles them
 * in (ipsecdiagtool_files.h); "install" places those bytes where "make
 * install" puts the same files, and has systemd's own tools apply the
 * snippets (systemd-sysusers: the user; systemd-tmpfiles: the directories). */
#include "idt_build.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_file.h"
#include "service.h"
#include "service_args.h"
#include "service_ops.h"

#if !defined(SYSCONFDIR) || !defined(LOCALSTATEDIR) || !defined(SYSTEMDUNITDIR) || \
    !defined(SYSUSERSDIR) || !defined(TMPFILESDIR)
#error "build with -DSYSCONFDIR=... -DLOCALSTATEDIR=... -DSYSTEMDUNITDIR=... -DSYSUSERSDIR=... -DTMPFILESDIR=... (Makefile.am AM_CPPFLAGS)"
#endif

#define STATE_DIR "/var/lib/ipsecdiagtool"   /* StateDirectory= (always /var/lib) */
#define WANTS_LINK "/etc/systemd/system/multi-user.target.wants/" SERVICE_UNIT_NAME

#include "ipsecdiagtool_files.h"   /* IDT_UNIT_TEXT, IDT_SYSUSERS_TEXT, IDT_TMPFILES_TEXT */

/* The files install places, as the build made them. */
enum { F_UNIT, F_SYSUSERS, F_TMPFILES, F_COUNT };
static const struct placed {
    const char *what, *path, *text;
} placed[F_COUNT] = {
    [F_UNIT] = { "unit", SYSTEMDUNITDIR "/" SERVICE_UNIT_NAME, IDT_UNIT_TEXT },
    [F_SYSUSERS] = { "sysusers.d snippet", SYSUSERSDIR "/ipsecdiagtool.conf", IDT_SYSUSERS_TEXT },
    [F_TMPFILES] = { "tmpfiles.d snippet", TMPFILESDIR "/ipsecdiagtool.conf", IDT_TMPFILES_TEXT },
};

/* Built-in config, written when there is no config to copy: every key
 * takes its default (an empty config is valid). */
static const char default_config_text[] =
"# ipsecdiagtool.conf - see ipsecdiagtool.conf(5).\n"
"# Written by \"ipsecdiagtool install\": every setting has its default.\n"
"# Add tunnels (names, MTU discovery targets) and alert thresholds here,\n"
"# check with \"ipsecdiagtool check-config -c FILE\" and reload with\n"
"# \"systemctl reload ipsecdiagtool\".\n";

static const char snmpd_conf_lines[] =
"    master agentx\n"
"    agentXSocket unix:/var/agentx/master\n"
"    agentXPerms 0660 0755 root " SERVICE_USER "\n";

/* ------------------------------------------------------------------ checks */

static int systemd_running(void)
{
    struct stat st;   /* what sd_booted() checks */
    return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* Common preconditions.  0 ok, else the exit status. */
static int preflight(struct svc *s)
{
    if (s->rooted) {
        if (!svc_is_dir(s->root[0] ? s->root : "/")) {
            svc_err(s, "--root %s: not a directory", s->root[0] ? s->root : "/");
            return 1;
        }
        return 0;
    }
    if (!systemd_running()) {
        char cfg[PATH_MAX];
        snprintf(cfg, sizeof cfg, "%s/ipsecdiagtool.conf", SYSCONFDIR);
        fflush(stdout);
        int inst = !strcmp(s->cmd, "install");
        fprintf(stderr,
            PROG " %s: systemd is not running on this host; %s the unit by hand "
            "(nothing was changed):\n"
            "  " PROG " %s --root / --dry-run   # shows each step\n"
            "  " PROG " %s --root /             # does them (%s)\n",
            s->cmd, inst ? "install" : "remove", s->cmd, s->cmd,
            inst ? "user, config, log directory, unit; starts nothing"
                 : "disables and removes the unit; stops nothing");
        if (inst)
            fprintf(stderr, "or have your init system start \"%s/" PROG " run -c %s\" as root\n"
                    "(after opening its sockets it switches to user " SERVICE_USER " itself).\n",
                    svc_sbin_dir(), cfg);
        return 1;
    }
    if (!s->dry && geteuid() != 0) {
        svc_err(s, "must be run as root (try --dry-run to see what it would do)");
        return 1;
    }
    return 0;
}

static void print_snmpd_help(const struct svc *s)
{
    char snmpd[PATH_MAX];
    if (svc_rpath(s, snmpd, sizeof snmpd, "/etc/snmp/snmpd.conf") < 0)
        snprintf(snmpd, sizeof snmpd, "/etc/snmp/snmpd.conf");
    printf("\n"
           "snmpd must be the AgentX master and let group " SERVICE_USER " use its socket.\n"
           "Put these lines in %s and restart snmpd (systemctl restart snmpd):\n"
           "%s"
           "Then check that the subagent is connected:\n"
           "    snmpwalk -v2c -c public localhost IPSECDIAG-MIB::ipsecDiagGlobals\n"
           "    journalctl -u ipsecdiagtool\n"
           "(the MIB must be loadable: -m +IPSECDIAG-MIB, or \"mibs +IPSECDIAG-MIB\" in snmp.conf)\n",
           snmpd, snmpd_conf_lines);
}

/* ------------------------------------------------------------------ install */

/* Write placed[i] to ROOT/its path, unless it is there with the same bytes. */
static int place(struct svc *s, int i)
{
    char path[PATH_MAX], dir[PATH_MAX];
    if (svc_rpath(s, path, sizeof path, placed[i].path) < 0)
        return -1;
    memcpy(dir, path, sizeof dir);
    *strrchr(dir, '/') = '\0';
    if (svc_mkdir_p(s, dir, 0755) < 0)
        return -1;
    const char *text = placed[i].text;
    char *old = NULL;
    size_t oldlen = 0;
    int same = svc_read_file(path, &old, &oldlen) == 0 && oldlen == strlen(text) &&
               !memcmp(old, text, oldlen);
    free(old);
    if (same) {
        svc_act(s, "%s %s is up to date", placed[i].what, path);
        return 0;
    }
    svc_act(s, "write %s %s", placed[i].what, path);
    return s->dry ? 0 : svc_write_replace(s, path, text);
}

/* Run a systemd tool on the snippet placed[i]: "systemd-sysusers [--root=R]
 * FILE" or "systemd-tmpfiles --create [--root=R] FILE". */
static int apply(const struct svc *s, int i, const char *tool, const char *opt)
{
    char path[PATH_MAX], rootopt[PATH_MAX + 16];
    char *argv[6];
    size_t n = 0;
    if (svc_rpath(s, path, sizeof path, placed[i].path) < 0)
        return -1;
    argv[n++] = (char *)tool;
    if (opt)
        argv[n++] = (char *)opt;
    if (s->rooted) {
        snprintf(rootopt, sizeof rootopt, "--root=%s", s->root[0] ? s->root : "/");
        argv[n++] = rootopt;
    }
    argv[n++] = path;
    argv[n] = NULL;
    int rc = svc_run(s, argv);
    if (rc != 0) {
        svc_err(s, "%s failed (exit status %d) on %s", tool, rc, path);
        return -1;
    }
    return 0;
}

/* The service user and group (sysusers.d), then the log and state
 * directories owned by them (tmpfiles.d).  A tree without a user database
 * (--root of a bare tree) gets them when it boots: systemd applies both
 * snippets then. */
static int user_and_dirs(struct svc *s, const char *log_dir, const char *state_dir)
{
    if (s->rooted) {
        char pw[PATH_MAX];
        if (svc_rpath(s, pw, sizeof pw, "/etc/passwd") < 0)
            return -1;
        if (!svc_exists(pw) || !svc_find_in_path("systemd-sysusers") ||
            !svc_find_in_path("systemd-tmpfiles")) {
            svc_act(s, "skip: create system user %s and directories %s, %s: %s; systemd "
                "creates them from the snippets when that system boots (or run "
                "systemd-sysusers and systemd-tmpfiles --create in it)", SERVICE_USER,
                log_dir, state_dir, !svc_exists(pw) ? "the tree has no /etc/passwd"
                                                : "systemd-sysusers/systemd-tmpfiles not found");
            return 0;
        }
    }
    svc_act(s, "create system user %s (if missing)", SERVICE_USER);
    if (apply(s, F_SYSUSERS, "systemd-sysusers", NULL) < 0)
        return -1;
    svc_act(s, "create directories %s and %s (owner %s, mode 0750)", log_dir, state_dir,
        SERVICE_USER);
    return apply(s, F_TMPFILES, "systemd-tmpfiles", "--create");
}

int service_install_main(int argc, char **argv, const char *default_config)
{
    struct svc s;
    int rc = svc_parse(&s, argc, argv, 1);
    if (rc >= 0)
        return rc;
    if ((rc = preflight(&s)) != 0)
        return rc;

    char conf[PATH_MAX], conf_dir[PATH_MAX];
    char log_dir[PATH_MAX], state_dir[PATH_MAX], bin[PATH_MAX], src_buf[PATH_MAX];
    if (svc_rpath(&s, conf_dir, sizeof conf_dir, SYSCONFDIR) < 0 ||
        svc_rpath(&s, conf, sizeof conf, SYSCONFDIR "/ipsecdiagtool.conf") < 0 ||
        svc_rpath(&s, log_dir, sizeof log_dir, LOCALSTATEDIR "/log/ipsecdiagtool") < 0 ||
        svc_rpath(&s, state_dir, sizeof state_dir, LOCALSTATEDIR "/lib/ipsecdiagtool") < 0)
        return 1;
    if (snprintf(src_buf, sizeof src_buf, "%s/" PROG, svc_sbin_dir()) >= (int)sizeof src_buf ||
        svc_rpath(&s, bin, sizeof bin, src_buf) < 0)
        return 1;

    /* ---- checks (nothing changed yet) */
    if (access(bin, X_OK) != 0) {
        if (!s.rooted) {
            svc_err(&s, "%s does not exist: install the program first (make install)", bin);
            return 1;
        }
        svc_act(&s, "note: %s does not exist (yet); the unit starts it from there", bin);
    }

    /* Which config to put in place, if there is none at the destination. */
    const char *src = NULL;           /* NULL: the built-in default text */
    int have_dst = svc_exists(conf);
    if (s.config_src) {
        if (access(s.config_src, R_OK) != 0) {
            svc_err(&s, "-c %s: %s", s.config_src, strerror(errno));
            return 1;
        }
        src = s.config_src;
    } else if (default_config && access(default_config, R_OK) == 0) {
        src = default_config;
    }
    if (src) {
        struct idt_config cfg;
        char msg[512];
        if (config_load(src, &cfg, msg, sizeof msg) < 0) {
            if (have_dst && !s.config_src) {
                /* the host's config is only the template; the target's stays */
                src = NULL;
            } else {
                svc_err(&s, "invalid config, nothing was changed: %s", msg);
                return 2;
            }
        } else {
            config_free(&cfg);
        }
    }
    if (have_dst) {
        struct idt_config cfg;
        char msg[512];
        if (config_load(conf, &cfg, msg, sizeof msg) < 0)
            fprintf(stderr, PROG " %s: warning: the existing config is invalid, the service "
                    "will not start until it is fixed: %s\n", s.cmd, msg);
        else
            config_free(&cfg);
    }

    /* ---- actions */
    rc = 1;
    for (int i = 0; i < F_COUNT; i++)
        if (place(&s, i) < 0)
            goto out;
    if (user_and_dirs(&s, log_dir, state_dir) < 0)
        goto out;

    /* config */
    if (svc_mkdir_p(&s, conf_dir, 0755) < 0)
        goto out;
    if (have_dst) {
        svc_act(&s, "keep existing config %s (not overwritten)", conf);
    } else if (src) {
        svc_act(&s, "copy config %s -> %s", src, conf);
        if (!s.dry) {
            char *data;
            size_t len;
            if (svc_read_file(src, &data, &len) < 0) {
                svc_err(&s, "cannot read %s: %s", src, strerror(errno));
                goto out;
            }
            int w = svc_write_new(&s, conf, data, len);
            free(data);
            if (w < 0)
                goto out;
        }
    } else {
        svc_act(&s, "write default config %s", conf);
        if (!s.dry && svc_write_new(&s, conf, default_config_text, strlen(default_config_text)) < 0)
            goto out;
    }

    /* enable (and start) */
    if (s.rooted) {
        if (svc_find_in_path("systemctl")) {
            if (svc_systemctl(&s, "enable", SERVICE_UNIT_NAME, NULL) != 0) {
                svc_err(&s, "systemctl --root=%s enable failed", s.root);
                goto out;
            }
        } else {
            char link[PATH_MAX], wants[PATH_MAX];
            if (svc_rpath(&s, link, sizeof link, WANTS_LINK) < 0 ||
                svc_rpath(&s, wants, sizeof wants,
                          "/etc/systemd/system/multi-user.target.wants") < 0)
                goto out;
            if (svc_mkdir_p(&s, wants, 0755) < 0)
                goto out;
            if (!svc_exists(link)) {
                svc_act(&s, "enable (systemctl not found): symlink %s -> %s", link,
                    SYSTEMDUNITDIR "/" SERVICE_UNIT_NAME);
                if (!s.dry && symlink(SYSTEMDUNITDIR "/" SERVICE_UNIT_NAME, link) < 0) {
                    svc_err(&s, "cannot create %s: %s", link, strerror(errno));
                    goto out;
                }
            }
        }
        svc_act(&s, "not started (--root); it starts at the next boot of that system");
    } else {
        if (svc_systemctl(&s, "daemon-reload", NULL, NULL) != 0) {
            svc_err(&s, "systemctl daemon-reload failed");
            goto out;
        }
        if (svc_systemctl(&s, "enable", "--now", SERVICE_UNIT_NAME) != 0) {
            svc_err(&s, "systemctl enable --now %s failed; see: journalctl -u ipsecdiagtool",
                SERVICE_UNIT_NAME);
            goto out;
        }
    }
    rc = 0;
    if (s.dry)
        printf("[dry-run] nothing was changed.\n");
    else
        printf("done: ipsecdiagtool %s.\n", s.rooted ? "is installed and enabled in the tree"
                                                      : "is installed, enabled and started");
    print_snmpd_help(&s);
out:
    return rc;
}

/* ------------------------------------------------------------------ uninstall */

int service_uninstall_main(int argc, char **argv, const char *default_config)
{
    struct svc s;
    int rc = svc_parse(&s, argc, argv, 0);
    if (rc >= 0)
        return rc;
    if ((rc = preflight(&s)) != 0)
        return rc;

    char unit[PATH_MAX], conf[PATH_MAX], log_dir[PATH_MAX], state_dir[PATH_MAX];
    char link[PATH_MAX], state_dir2[PATH_MAX];
    const char *cfg_abs = default_config ? default_config : SYSCONFDIR "/ipsecdiagtool.conf";
    if (svc_rpath(&s, unit, sizeof unit, SYSTEMDUNITDIR "/" SERVICE_UNIT_NAME) < 0 ||
        svc_rpath(&s, conf, sizeof conf, cfg_abs) < 0 ||
        svc_rpath(&s, log_dir, sizeof log_dir, LOCALSTATEDIR "/log/ipsecdiagtool") < 0 ||
        svc_rpath(&s, state_dir, sizeof state_dir, STATE_DIR) < 0 ||
        svc_rpath(&s, state_dir2, sizeof state_dir2, LOCALSTATEDIR "/lib/ipsecdiagtool") < 0 ||
        svc_rpath(&s, link, sizeof link, WANTS_LINK) < 0)
        return 1;

    if (svc_exists(unit)) {
        if (s.rooted) {
            if (svc_find_in_path("systemctl")) {
                if (svc_systemctl(&s, "disable", SERVICE_UNIT_NAME, NULL) != 0) {
                    svc_err(&s, "systemctl --root=%s disable failed", s.root);
                    return 1;
                }
            }
        } else if (svc_systemctl(&s, "disable", "--now", SERVICE_UNIT_NAME) != 0) {
            svc_err(&s, "systemctl disable --now %s failed; nothing removed", SERVICE_UNIT_NAME);
            return 1;
        }
        /* a link "install" made by hand (no systemctl), or left over */
        if (s.rooted && svc_exists(link) && !(s.dry && svc_find_in_path("systemctl"))) {
            svc_act(&s, "remove %s", link);
            if (!s.dry && unlink(link) < 0) {
                svc_err(&s, "cannot remove %s: %s", link, strerror(errno));
                return 1;
            }
        }
        svc_act(&s, "remove unit %s", unit);
        if (!s.dry && unlink(unit) < 0) {
            svc_err(&s, "cannot remove %s: %s", unit, strerror(errno));
            return 1;
        }
        if (!s.rooted && svc_systemctl(&s, "daemon-reload", NULL, NULL) != 0) {
            svc_err(&s, "systemctl daemon-reload failed");
            return 1;
        }
    } else {
        svc_act(&s, "unit %s is not installed", unit);
    }
    /* the snippets; what they made (user, directories) stays unless --purge */
    for (int i = F_SYSUSERS; i <= F_TMPFILES; i++) {
        char path[PATH_MAX];
        if (svc_rpath(&s, path, sizeof path, placed[i].path) < 0)
            return 1;
        if (!svc_exists(path))
            continue;
        svc_act(&s, "remove %s %s", placed[i].what, path);
        if (!s.dry && unlink(path) < 0) {
            svc_err(&s, "cannot remove %s: %s", path, strerror(errno));
            return 1;
        }
    }

    if (s.purge) {
        if (svc_remove_tree(&s, conf) < 0 || svc_remove_tree(&s, log_dir) < 0 ||
            svc_remove_tree(&s, state_dir) < 0 ||
            (strcmp(state_dir2, state_dir) != 0 && svc_remove_tree(&s, state_dir2) < 0))
            return 1;
        svc_act(&s, "keep user %s (remove it with: userdel %s)", SERVICE_USER, SERVICE_USER);
    } else {
        svc_act(&s, "keep config %s and logs %s (--purge removes them)", conf, log_dir);
    }
    printf("%s.\n", s.dry ? "[dry-run] nothing was changed" : "done: ipsecdiagtool service removed");
    return 0;
}
