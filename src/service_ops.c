/* service_ops.c - the single steps "install" and "uninstall" are made of,
 * each reported on stdout before it is done and only reported under
 * --dry-run: error messages, paths inside the --root tree, running a
 * command (systemctl and systemd's tools), creating directories, writing
 * files (atomically, or never over an existing one) and removing them. */
#include "idt_build.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service_ops.h"

/* ------------------------------------------------------------------ output */

void svc_act(const struct svc *s, const char *fmt, ...)
{
    va_list ap;
    fputs(s->dry ? "[dry-run] " : "", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void svc_err(const struct svc *s, const char *fmt, ...)
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
int svc_rpath(const struct svc *s, char *buf, size_t len, const char *abs)
{
    int n = snprintf(buf, len, "%s%s", s->root, abs);
    if (n < 0 || (size_t)n >= len) {
        svc_err(s, "path too long: %s%s", s->root, abs);
        return -1;
    }
    return 0;
}

int svc_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

int svc_is_dir(const char *p)
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

const char *svc_sbin_dir(void)
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

int svc_find_in_path(const char *prog)
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
int svc_run(const struct svc *s, char *const argv[])
{
    char line[2048];
    format_argv(line, sizeof line, argv);
    svc_act(s, "run: %s", line);
    if (s->dry)
        return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        svc_err(s, "fork: %s", strerror(errno));
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
            svc_err(s, "waitpid: %s", strerror(errno));
            return 127;
        }
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int svc_systemctl(const struct svc *s, const char *a1, const char *a2, const char *a3)
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
    return svc_run(s, argv);
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

int svc_mkdir_p(struct svc *s, const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (!svc_is_dir(buf) && !(s->dry && dry_made(s, buf))) {
                if (svc_exists(buf)) {
                    svc_err(s, "%s exists and is not a directory", buf);
                    return -1;
                }
                svc_act(s, "create directory %s", buf);
                if (!s->dry && mkdir(buf, c ? 0755 : mode) < 0 && errno != EEXIST) {
                    svc_err(s, "cannot create directory %s: %s", buf, strerror(errno));
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

int svc_read_file(const char *path, char **out, size_t *outlen)
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
int svc_write_replace(const struct svc *s, const char *path, const char *text)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp)
        return -1;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        svc_err(s, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0644) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
        svc_err(s, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        svc_err(s, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Create path with text, never replacing an existing file. */
int svc_write_new(const struct svc *s, const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        svc_err(s, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (write_all(fd, text, len) < 0 || fsync(fd) < 0 || close(fd) < 0) {
        svc_err(s, "cannot write %s: %s", path, strerror(errno));
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

int svc_remove_tree(const struct svc *s, const char *path)
{
    if (!svc_exists(path))
        return 0;
    svc_act(s, "remove %s%s", path, svc_is_dir(path) ? " (with its contents)" : "");
    if (s->dry)
        return 0;
    if (!svc_is_dir(path)) {
        if (unlink(path) < 0) {
            svc_err(s, "cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
