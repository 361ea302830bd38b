/* service.c - "install" and "uninstall"/"remove": set up or tear down the
 * systemd service (unit file, system user, config, log and state directory).
 *
 * Every check that can fail is done before the first change, so a refused
 * install leaves nothing behind.  --dry-run prints each action and changes
 * nothing.  --root DIR works on an offline tree (image build): systemd need
 * not be running, and enabling uses "systemctl --root=DIR", which works
 * without a running manager.
 *
 * The files are not composed here: the build makes the unit, the sysusers.d
 * and the tmpfiles.d snippet once from conf/ (Makefile.am) and compiles them
 * in (ipsecdiagtool_files.h); "install" places those bytes where "make
 * install" puts the same files, and has systemd's own tools apply the
 * snippets (systemd-sysusers: the user; systemd-tmpfiles: the directories). */
#include "idt_build.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "config_file.h"
#include "service.h"

#if !defined(SYSCONFDIR) || !defined(LOCALSTATEDIR) || !defined(SYSTEMDUNITDIR) || \
    !defined(SYSUSERSDIR) || !defined(TMPFILESDIR)
#error "build with -DSYSCONFDIR=... -DLOCALSTATEDIR=... -DSYSTEMDUNITDIR=... -DSYSUSERSDIR=... -DTMPFILESDIR=... (Makefile.am AM_CPPFLAGS)"
#endif

#define PROG "ipsecdiagtool"
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

struct svc {
    const char *cmd;        /* "install", "uninstall", "remove" */
    char root[PATH_MAX];    /* "" = the running system; no trailing '/' */
    int rooted;             /* --root given */
    int dry;
    int purge;
    const char *config_src; /* install -c */
    /* --dry-run: directories already announced as created */
    char made[16][PATH_MAX];
    size_t nmade;
};

/* ------------------------------------------------------------------ output */

static void act(const struct svc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void act(const struct svc *s, const char *fmt, ...)
{
    va_list ap;
    fputs(s->dry ? "[dry-run] " : "", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void err(const struct svc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err(const struct svc *s, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, PROG " %s: ", s->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ------------------------------------------------------------------ paths */

/* root + abs into buf.  -1 (with a message) if it does not fit. */
static int rpath(const struct svc *s, char *buf, size_t len, const char *abs)
{
    int n = snprintf(buf, len, "%s%s", s->root, abs);
    if (n < 0 || (size_t)n >= len) {
        err(s, "path too long: %s%s", s->root, abs);
        return -1;
    }
    return 0;
}

static int exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

#ifndef SBINDIR
/* The directory of the running binary, or NULL. */
static const char *self_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return NULL;
    if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    return buf;
}
#endif

static const char *sbin_dir(void)
{
#ifdef SBINDIR
    return SBINDIR;
#else
    /* Without -DSBINDIR from the build, the binary's own directory. */
    static char dir[PATH_MAX];
    const char *d = dir[0] ? dir : self_dir(dir, sizeof dir);
    return d ? d : "/usr/sbin";
#endif
}

static int find_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t dlen = colon ? (size_t)(colon - path) : strlen(path);
        char buf[PATH_MAX];
        if (dlen > 0 && dlen + strlen(prog) + 2 <= sizeof buf) {
            memcpy(buf, path, dlen);
            buf[dlen] = '/';
            strcpy(buf + dlen + 1, prog);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path += dlen;
        if (*path == ':')
            path++;
    }
    return 0;
}

/* ------------------------------------------------------------------ commands */

/* argv as a shell-quoted command line. */
static void format_argv(char *line, size_t len, char *const argv[])
{
    size_t off = 0;
    line[0] = '\0';
    for (size_t i = 0; argv[i]; i++) {
        const char *a = argv[i];
        int plain = *a != '\0';
        for (const char *c = a; *c; c++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789-_./=:+,@", *c))
                plain = 0;
        int n = snprintf(line + off, len - off, plain ? "%s%s" : "%s'%s'", i ? " " : "", a);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
}

/* Run argv (no shell).  Returns its exit status, 127 if it could not be
 * started, 128+N if killed by signal N; 0 in dry-run mode. */
static int run(const struct svc *s, char *const argv[])
{
    char line[2048];
    format_argv(line, sizeof line, argv);
    act(s, "run: %s", line);
    if (s->dry)
        return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        err(s, "fork: %s", strerror(errno));
        return 127;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, PROG ": cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            err(s, "waitpid: %s", strerror(errno));
            return 127;
        }
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* ------------------------------------------------------------------ files */

/* In dry-run mode: was dir already announced (1), else remember it (0). */
static int dry_made(struct svc *s, const char *dir)
{
    for (size_t i = 0; i < s->nmade; i++)
        if (!strcmp(s->made[i], dir))
            return 1;
    if (s->nmade < sizeof s->made / sizeof s->made[0])
        snprintf(s->made[s->nmade++], sizeof s->made[0], "%s", dir);
    return 0;
}

static int mkdir_p(struct svc *s, const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (!is_dir(buf) && !(s->dry && dry_made(s, buf))) {
                if (exists(buf)) {
                    err(s, "%s exists and is not a directory", buf);
                    return -1;
                }
                act(s, "create directory %s", buf);
                if (!s->dry && mkdir(buf, c ? 0755 : mode) < 0 && errno != EEXIST) {
                    err(s, "cannot create directory %s: %s", buf, strerror(errno));
                    return -1;
                }
            }
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

/* Append n bytes of p to the growing buffer *buf (NUL-terminated). */
static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (!*buf || *len + n + 1 > *cap) {
        size_t ncap = (*cap ? *cap : 4096);
        while (*len + n + 1 > ncap)
            ncap *= 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static int read_file(const char *path, char **out, size_t *outlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (append(&buf, &len, &cap, chunk, n) < 0 || len > (16u << 20)) {
            free(buf);
            fclose(f);
            errno = ENOMEM;
            return -1;
        }
    }
    int e = ferror(f);
    fclose(f);
    if (e) {
        free(buf);
        errno = EIO;
        return -1;
    }
    if (!buf && append(&buf, &len, &cap, "", 0) < 0)
        return -1;
    *out = buf;
    *outlen = len;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write text to path atomically (temp file + rename), mode 0644. */
static int write_replace(const struct svc *s, const char *path, const char *text)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp)
        return -1;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        err(s, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0644) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
        err(s, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        err(s, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Create path with text, never replacing an existing file. */
static int write_new(const struct svc *s, const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        err(s, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (write_all(fd, text, len) < 0 || fsync(fd) < 0 || close(fd) < 0) {
        err(s, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    if (rc < 0)
        fprintf(stderr, PROG ": cannot remove %s: %s\n", path, strerror(errno));
    return rc < 0 ? -1 : 0;
}

static int remove_tree(const struct svc *s, const char *path)
{
    if (!exists(path))
        return 0;
    act(s, "remove %s%s", path, is_dir(path) ? " (with its contents)" : "");
    if (s->dry)
        return 0;
    if (!is_dir(path)) {
        if (unlink(path) < 0) {
            err(s, "cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

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
        if (!is_dir(s->root[0] ? s->root : "/")) {
            err(s, "--root %s: not a directory", s->root[0] ? s->root : "/");
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
                    sbin_dir(), cfg);
        return 1;
    }
    if (!s->dry && geteuid() != 0) {
        err(s, "must be run as root (try --dry-run to see what it would do)");
        return 1;
    }
    return 0;
}

static int systemctl(const struct svc *s, const char *a1, const char *a2, const char *a3)
{
    char rootopt[PATH_MAX + 16];
    char *argv[8];
    size_t n = 0;
    argv[n++] = "systemctl";
    if (s->rooted) {
        snprintf(rootopt, sizeof rootopt, "--root=%s", s->root[0] ? s->root : "/");
        argv[n++] = rootopt;
    }
    argv[n++] = (char *)a1;
    if (a2)
        argv[n++] = (char *)a2;
    if (a3)
        argv[n++] = (char *)a3;
    argv[n] = NULL;
    return run(s, argv);
}

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
static int parse(struct svc *s, int argc, char **argv, int install)
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
        err(s, "unexpected argument '%s'", argv[optind]);
        if (install)
            usage_install(stderr);
        else
            usage_uninstall(stderr, s->cmd);
        return 2;
    }
    if (root) {
        if (!*root) {
            err(s, "--root: empty directory name");
            return 2;
        }
        char abs[PATH_MAX];
        if (root[0] != '/') {
            /* keep it absolute: systemctl --root and useradd --root chroot */
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd) ||
                snprintf(abs, sizeof abs, "%s/%s", cwd, root) >= (int)sizeof abs) {
                err(s, "--root %s: path too long", root);
                return 1;
            }
        } else if (snprintf(abs, sizeof abs, "%s", root) >= (int)sizeof abs) {
            err(s, "--root %s: path too long", root);
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

static void print_snmpd_help(const struct svc *s)
{
    char snmpd[PATH_MAX];
    if (rpath(s, snmpd, sizeof snmpd, "/etc/snmp/snmpd.conf") < 0)
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
    if (rpath(s, path, sizeof path, placed[i].path) < 0)
        return -1;
    memcpy(dir, path, sizeof dir);
    *strrchr(dir, '/') = '\0';
    if (mkdir_p(s, dir, 0755) < 0)
        return -1;
    const char *text = placed[i].text;
    char *old = NULL;
    size_t oldlen = 0;
    int same = read_file(path, &old, &oldlen) == 0 && oldlen == strlen(text) &&
               !memcmp(old, text, oldlen);
    free(old);
    if (same) {
        act(s, "%s %s is up to date", placed[i].what, path);
        return 0;
    }
    act(s, "write %s %s", placed[i].what, path);
    return s->dry ? 0 : write_replace(s, path, text);
}

/* Run a systemd tool on the snippet placed[i]: "systemd-sysusers [--root=R]
 * FILE" or "systemd-tmpfiles --create [--root=R] FILE". */
static int apply(const struct svc *s, int i, const char *tool, const char *opt)
{
    char path[PATH_MAX], rootopt[PATH_MAX + 16];
    char *argv[6];
    size_t n = 0;
    if (rpath(s, path, sizeof path, placed[i].path) < 0)
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
    int rc = run(s, argv);
    if (rc != 0) {
        err(s, "%s failed (exit status %d) on %s", tool, rc, path);
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
        if (rpath(s, pw, sizeof pw, "/etc/passwd") < 0)
            return -1;
        if (!exists(pw) || !find_in_path("systemd-sysusers") || !find_in_path("systemd-tmpfiles")) {
            act(s, "skip: create system user %s and directories %s, %s: %s; systemd "
                "creates them from the snippets when that system boots (or run "
                "systemd-sysusers and systemd-tmpfiles --create in it)", SERVICE_USER,
                log_dir, state_dir, !exists(pw) ? "the tree has no /etc/passwd"
                                                : "systemd-sysusers/systemd-tmpfiles not found");
            return 0;
        }
    }
    act(s, "create system user %s (if missing)", SERVICE_USER);
    if (apply(s, F_SYSUSERS, "systemd-sysusers", NULL) < 0)
        return -1;
    act(s, "create directories %s and %s (owner %s, mode 0750)", log_dir, state_dir,
        SERVICE_USER);
    return apply(s, F_TMPFILES, "systemd-tmpfiles", "--create");
}

int service_install_main(int argc, char **argv, const char *default_config)
{
    struct svc s;
    int rc = parse(&s, argc, argv, 1);
    if (rc >= 0)
        return rc;
    if ((rc = preflight(&s)) != 0)
        return rc;

    char conf[PATH_MAX], conf_dir[PATH_MAX];
    char log_dir[PATH_MAX], state_dir[PATH_MAX], bin[PATH_MAX], src_buf[PATH_MAX];
    if (rpath(&s, conf_dir, sizeof conf_dir, SYSCONFDIR) < 0 ||
        rpath(&s, conf, sizeof conf, SYSCONFDIR "/ipsecdiagtool.conf") < 0 ||
        rpath(&s, log_dir, sizeof log_dir, LOCALSTATEDIR "/log/ipsecdiagtool") < 0 ||
        rpath(&s, state_dir, sizeof state_dir, LOCALSTATEDIR "/lib/ipsecdiagtool") < 0)
        return 1;
    if (snprintf(src_buf, sizeof src_buf, "%s/" PROG, sbin_dir()) >= (int)sizeof src_buf ||
        rpath(&s, bin, sizeof bin, src_buf) < 0)
        return 1;

    /* ---- checks (nothing changed yet) */
    if (access(bin, X_OK) != 0) {
        if (!s.rooted) {
            err(&s, "%s does not exist: install the program first (make install)", bin);
            return 1;
        }
        act(&s, "note: %s does not exist (yet); the unit starts it from there", bin);
    }

    /* Which config to put in place, if there is none at the destination. */
    const char *src = NULL;           /* NULL: the built-in default text */
    int have_dst = exists(conf);
    if (s.config_src) {
        if (access(s.config_src, R_OK) != 0) {
            err(&s, "-c %s: %s", s.config_src, strerror(errno));
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
                err(&s, "invalid config, nothing was changed: %s", msg);
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
    if (mkdir_p(&s, conf_dir, 0755) < 0)
        goto out;
    if (have_dst) {
        act(&s, "keep existing config %s (not overwritten)", conf);
    } else if (src) {
        act(&s, "copy config %s -> %s", src, conf);
        if (!s.dry) {
            char *data;
            size_t len;
            if (read_file(src, &data, &len) < 0) {
                err(&s, "cannot read %s: %s", src, strerror(errno));
                goto out;
            }
            int w = write_new(&s, conf, data, len);
            free(data);
            if (w < 0)
                goto out;
        }
    } else {
        act(&s, "write default config %s", conf);
        if (!s.dry && write_new(&s, conf, default_config_text, strlen(default_config_text)) < 0)
            goto out;
    }

    /* enable (and start) */
    if (s.rooted) {
        if (find_in_path("systemctl")) {
            if (systemctl(&s, "enable", SERVICE_UNIT_NAME, NULL) != 0) {
                err(&s, "systemctl --root=%s enable failed", s.root);
                goto out;
            }
        } else {
            char link[PATH_MAX], wants[PATH_MAX];
            if (rpath(&s, link, sizeof link, WANTS_LINK) < 0 ||
                rpath(&s, wants, sizeof wants, "/etc/systemd/system/multi-user.target.wants") < 0)
                goto out;
            if (mkdir_p(&s, wants, 0755) < 0)
                goto out;
            if (!exists(link)) {
                act(&s, "enable (systemctl not found): symlink %s -> %s", link,
                    SYSTEMDUNITDIR "/" SERVICE_UNIT_NAME);
                if (!s.dry && symlink(SYSTEMDUNITDIR "/" SERVICE_UNIT_NAME, link) < 0) {
                    err(&s, "cannot create %s: %s", link, strerror(errno));
                    goto out;
                }
            }
        }
        act(&s, "not started (--root); it starts at the next boot of that system");
    } else {
        if (systemctl(&s, "daemon-reload", NULL, NULL) != 0) {
            err(&s, "systemctl daemon-reload failed");
            goto out;
        }
        if (systemctl(&s, "enable", "--now", SERVICE_UNIT_NAME) != 0) {
            err(&s, "systemctl enable --now %s failed; see: journalctl -u ipsecdiagtool",
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
    int rc = parse(&s, argc, argv, 0);
    if (rc >= 0)
        return rc;
    if ((rc = preflight(&s)) != 0)
        return rc;

    char unit[PATH_MAX], conf[PATH_MAX], log_dir[PATH_MAX], state_dir[PATH_MAX];
    char link[PATH_MAX], state_dir2[PATH_MAX];
    const char *cfg_abs = default_config ? default_config : SYSCONFDIR "/ipsecdiagtool.conf";
    if (rpath(&s, unit, sizeof unit, SYSTEMDUNITDIR "/" SERVICE_UNIT_NAME) < 0 ||
        rpath(&s, conf, sizeof conf, cfg_abs) < 0 ||
        rpath(&s, log_dir, sizeof log_dir, LOCALSTATEDIR "/log/ipsecdiagtool") < 0 ||
        rpath(&s, state_dir, sizeof state_dir, STATE_DIR) < 0 ||
        rpath(&s, state_dir2, sizeof state_dir2, LOCALSTATEDIR "/lib/ipsecdiagtool") < 0 ||
        rpath(&s, link, sizeof link, WANTS_LINK) < 0)
        return 1;

    if (exists(unit)) {
        if (s.rooted) {
            if (find_in_path("systemctl")) {
                if (systemctl(&s, "disable", SERVICE_UNIT_NAME, NULL) != 0) {
                    err(&s, "systemctl --root=%s disable failed", s.root);
                    return 1;
                }
            }
        } else if (systemctl(&s, "disable", "--now", SERVICE_UNIT_NAME) != 0) {
            err(&s, "systemctl disable --now %s failed; nothing removed", SERVICE_UNIT_NAME);
            return 1;
        }
        /* a link "install" made by hand (no systemctl), or left over */
        if (s.rooted && exists(link) && !(s.dry && find_in_path("systemctl"))) {
            act(&s, "remove %s", link);
            if (!s.dry && unlink(link) < 0) {
                err(&s, "cannot remove %s: %s", link, strerror(errno));
                return 1;
            }
        }
        act(&s, "remove unit %s", unit);
        if (!s.dry && unlink(unit) < 0) {
            err(&s, "cannot remove %s: %s", unit, strerror(errno));
            return 1;
        }
        if (!s.rooted && systemctl(&s, "daemon-reload", NULL, NULL) != 0) {
            err(&s, "systemctl daemon-reload failed");
            return 1;
        }
    } else {
        act(&s, "unit %s is not installed", unit);
    }
    /* the snippets; what they made (user, directories) stays unless --purge */
    for (int i = F_SYSUSERS; i <= F_TMPFILES; i++) {
        char path[PATH_MAX];
        if (rpath(&s, path, sizeof path, placed[i].path) < 0)
            return 1;
        if (!exists(path))
            continue;
        act(&s, "remove %s %s", placed[i].what, path);
        if (!s.dry && unlink(path) < 0) {
            err(&s, "cannot remove %s: %s", path, strerror(errno));
            return 1;
        }
    }

    if (s.purge) {
        if (remove_tree(&s, conf) < 0 || remove_tree(&s, log_dir) < 0 ||
            remove_tree(&s, state_dir) < 0 ||
            (strcmp(state_dir2, state_dir) != 0 && remove_tree(&s, state_dir2) < 0))
            return 1;
        act(&s, "keep user %s (remove it with: userdel %s)", SERVICE_USER, SERVICE_USER);
    } else {
        act(&s, "keep config %s and logs %s (--purge removes them)", conf, log_dir);
    }
    printf("%s.\n", s.dry ? "[dry-run] nothing was changed" : "done: ipsecdiagtool service removed");
    return 0;
}
