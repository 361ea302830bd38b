/* service_ops.h - the single steps "install" and "uninstall" are made of
 * (service_ops.c), and the state of one such command. */
#ifndef IDT_SERVICE_OPS_H
#define IDT_SERVICE_OPS_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define PROG "ipsecdiagtool"

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

/* Print one action on stdout ("[dry-run] " first under --dry-run). */
void svc_act(const struct svc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "ipsecdiagtool CMD: message" on stderr. */
void svc_err(const struct svc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* root + abs into buf.  -1 (with a message) if it does not fit. */
int svc_rpath(const struct svc *s, char *buf, size_t len, const char *abs);
int svc_exists(const char *p);   /* lstat: a dangling link exists */
int svc_is_dir(const char *p);   /* stat: follows links */
/* Where the binary is installed: SBINDIR, else the running binary's directory. */
const char *svc_sbin_dir(void);
/* Is prog an executable in $PATH (a default path if unset)? */
int svc_find_in_path(const char *prog);

/* Run argv (no shell).  Returns its exit status, 127 if it could not be
 * started, 128+N if killed by signal N; 0 in dry-run mode. */
int svc_run(const struct svc *s, char *const argv[]);
/* "systemctl [--root=R] a1 [a2 [a3]]" through svc_run. */
int svc_systemctl(const struct svc *s, const char *a1, const char *a2, const char *a3);

/* Create path and its missing parents (parents 0755, path mode). */
int svc_mkdir_p(struct svc *s, const char *path, mode_t mode);
/* Whole file into a malloc'ed NUL-terminated buffer (at most 16 MiB). */
int svc_read_file(const char *path, char **out, size_t *outlen);
/* Write text to path atomically (temp file + rename), mode 0644. */
int svc_write_replace(const struct svc *s, const char *path, const char *text);
/* Create path with text, never replacing an existing file. */
int svc_write_new(const struct svc *s, const char *path, const char *text, size_t len);
/* Remove a file, or a directory with its contents; nothing if absent. */
int svc_remove_tree(const struct svc *s, const char *path);

#endif
