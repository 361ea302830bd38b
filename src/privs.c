/* privs.c - least privilege for the daemon: switch from root to the
 * service user keeping only CAP_NET_RAW, or (started unprivileged) keep
 * only CAP_NET_RAW; no_new_privs; check AgentX socket permissions. */
#include "idt_build.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <fcntl.h>
#include <unistd.h>

#include <sys/capability.h>

#include "privs.h"

int privs_running_as_root(void)
{
    return geteuid() == 0;
}

int privs_can_capture(void)
{
    if (geteuid() == 0)
        return 1;
    cap_t caps = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    if (caps) {
        if (cap_get_flag(caps, CAP_NET_RAW, CAP_EFFECTIVE, &v) < 0)
            v = CAP_CLEAR;
        cap_free(caps);
    }
    return v == CAP_SET;
}

/* The only capability the daemon uses: AF_PACKET capture (also reopened
 * later, when an interface comes back) and raw ICMP sockets (MTU probes).
 * Nothing needs CAP_NET_ADMIN: the capture is not promiscuous and its
 * ring buffer is no socket buffer beyond rmem_max; no interface is
 * configured; no ioctl and no setsockopt that needs it (SO_MARK,
 * SO_RCVBUFFORCE) is used. */
static const cap_value_t needed[] = {CAP_NET_RAW};
#define NNEEDED ((int)(sizeof needed / sizeof needed[0]))

/* Set the permitted and effective sets to exactly keep[0..n), clear the
 * inheritable set. */
static int set_caps(const cap_value_t *keep, int n)
{
    cap_t caps = cap_init();   /* all clear */
    if (!caps)
        return -1;
    int rc = 0;
    if (n > 0 && (cap_set_flag(caps, CAP_PERMITTED, n, keep, CAP_SET) < 0 ||
                  cap_set_flag(caps, CAP_EFFECTIVE, n, keep, CAP_SET) < 0))
        rc = -1;
    if (rc == 0 && cap_set_proc(caps) < 0)
        rc = -1;
    int e = errno;
    cap_free(caps);
    errno = e;
    return rc;
}

static void clear_ambient(void)
{
#ifdef PR_CAP_AMBIENT
    (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L);
#endif
}

int privs_no_new_privs(char *err, size_t errlen)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) {
        snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -1;
    }
    return 0;
}

int privs_limit(char *err, size_t errlen)
{
    cap_t now = cap_get_proc();
    if (!now) {
        snprintf(err, errlen, "cannot read capabilities: %s", strerror(errno));
        return -1;
    }
    cap_flag_value_t raw = CAP_CLEAR;
    int rc = cap_get_flag(now, CAP_NET_RAW, CAP_PERMITTED, &raw);
    cap_free(now);
    clear_ambient();
    if (rc == 0 && set_caps(needed, raw == CAP_SET ? NNEEDED : 0) == 0)
        return 0;
    snprintf(err, errlen, "cannot limit capabilities to CAP_NET_RAW: %s", strerror(errno));
    return -1;
}

int privs_drop(const char *user, char *err, size_t errlen)
{
    const cap_value_t *keep = needed;
    const int nkeep = NNEEDED;

    if (!user || !*user) {
        snprintf(err, errlen, "cannot switch user: no user name given");
        return -1;
    }
    if (geteuid() != 0) {
        snprintf(err, errlen, "cannot switch to user %s: not running as root", user);
        return -1;
    }
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        if (errno != 0 && errno != ENOENT && errno != ESRCH)
            snprintf(err, errlen, "cannot switch to user %s: user lookup failed: %s",
                     user, strerror(errno));
        else
            snprintf(err, errlen,
                     "cannot switch to user %s: no such user (create it with: "
                     "useradd --system --no-create-home --shell /usr/sbin/nologin "
                     "--user-group %s)", user, user);
        return -1;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (uid == 0) {
        snprintf(err, errlen, "refusing to switch to user %s: it has uid 0", user);
        return -1;
    }

    /* Bounding set: drop all but the kept ones while CAP_SETPCAP is still
     * ours.  EINVAL: a capability the kernel does not know; EPERM: we have
     * no CAP_SETPCAP (e.g. some containers) - the permitted set below is
     * what matters, the bounding set only limits future execs. */
    for (cap_value_t c = 0; c <= CAP_LAST_CAP + 32; c++) {
        int kept = 0;
        for (int i = 0; i < nkeep; i++)
            kept |= keep[i] == c;
        if (kept)
            continue;
        if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) <= 0)
            continue;
        if (cap_drop_bound(c) < 0 && errno != EPERM && errno != EINVAL) {
            snprintf(err, errlen, "cannot drop capability %d from the bounding set: %s",
                     (int)c, strerror(errno));
            return -1;
        }
    }

    if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0) {
        snprintf(err, errlen, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
        return -1;
    }
    if (initgroups(user, gid) < 0) {
        snprintf(err, errlen, "cannot switch to user %s: initgroups: %s", user,
                 strerror(errno));
        return -1;
    }
    if (setresgid(gid, gid, gid) < 0) {
        snprintf(err, errlen, "cannot switch to user %s: setresgid(%lu): %s", user,
                 (unsigned long)gid, strerror(errno));
        return -1;
    }
    if (setresuid(uid, uid, uid) < 0) {
        snprintf(err, errlen, "cannot switch to user %s: setresuid(%lu): %s", user,
                 (unsigned long)uid, strerror(errno));
        return -1;
    }
    /* After setuid with KEEPCAPS: permitted kept, effective cleared.  Now
     * keep only what we need, effective too. */
    if (set_caps(keep, nkeep) < 0) {
        snprintf(err, errlen, "cannot set capabilities for user %s: %s", user,
                 strerror(errno));
        return -1;
    }
    (void)prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    clear_ambient();

    /* Verify: no way back to root, and the ids are what we asked for. */
    if (setuid(0) == 0 || seteuid(0) == 0) {
        snprintf(err, errlen, "privilege drop to user %s failed: could regain root", user);
        return -1;
    }
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
        snprintf(err, errlen, "privilege drop to user %s failed: ids did not change", user);
        return -1;
    }
    return 0;
}

enum privs_agentx privs_check_agentx_socket(const char *spec, const char *group,
                                            char *msg, size_t msglen)
{
    const char *path;
    if (msglen)
        msg[0] = '\0';
    if (!spec || !*spec)
        path = PRIVS_AGENTX_DEFAULT_SOCKET;
    else if (!strncmp(spec, "unix:", 5))
        path = spec + 5;
    else if (spec[0] == '/')
        path = spec;
    else
        return PRIVS_AGENTX_OK;     /* tcp:host:port etc. */

    char gbuf[64];
    if (!group) {
        struct group *gr = getgrgid(getegid());
        if (gr && strlen(gr->gr_name) < sizeof gbuf) {
            snprintf(gbuf, sizeof gbuf, "%s", gr->gr_name);
        } else {
            snprintf(gbuf, sizeof gbuf, "%lu", (unsigned long)getegid());
        }
        group = gbuf;
    }

    /* connect(2) on a unix socket needs search permission on every
     * directory and write permission on the socket itself. */
    if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0)
        return PRIVS_AGENTX_OK;
    int e = errno;
    if (e == ENOENT) {
        snprintf(msg, msglen, "AgentX socket %s does not exist: is snmpd running "
                 "with \"master agentx\" (and \"agentXSocket unix:%s\") in snmpd.conf?",
                 path, path);
        return PRIVS_AGENTX_MISSING;
    }
    if (e == EACCES || e == EPERM) {
        /* Which one: a directory on the way, or the socket itself? */
        char dir[4096];
        const char *slash = strrchr(path, '/');
        size_t dlen = slash ? (size_t)(slash - path) : 0;
        if (dlen == 0 && slash)
            dlen = 1;
        if (slash && dlen < sizeof dir) {
            memcpy(dir, path, dlen);
            dir[dlen] = '\0';
            if (faccessat(AT_FDCWD, dir, X_OK, AT_EACCESS) != 0 && errno == EACCES) {
                snprintf(msg, msglen, "cannot connect to AgentX socket %s: permission denied "
                         "on directory %s; set \"agentXPerms 0660 0755 root %s\" in snmpd.conf "
                         "(snmpd applies the directory mode only when it creates it: "
                         "chmod 0755 %s)", path, dir, group, dir);
                return PRIVS_AGENTX_DENIED;
            }
        }
        snprintf(msg, msglen, "cannot connect to AgentX socket %s: permission denied; "
                 "allow the %s group with \"agentXPerms 0660 0755 root %s\" in snmpd.conf",
                 path, group, group);
        return PRIVS_AGENTX_DENIED;
    }
    if (e == EROFS) {
        /* faccessat reports EROFS for W_OK on a read-only mount, but
         * connect() to a socket is allowed there (ProtectSystem=strict). */
        return PRIVS_AGENTX_OK;
    }
    snprintf(msg, msglen, "cannot connect to AgentX socket %s: %s", path, strerror(e));
    return PRIVS_AGENTX_DENIED;
}
