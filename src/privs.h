/* privs.h - least privilege, and the AgentX socket permission check.
 *
 * The daemon needs one capability, CAP_NET_RAW (capture, raw ICMP).  The
 * systemd unit starts it as user ipsecdiag with CAP_NET_RAW as its only
 * ambient and bounding capability; "run" then calls privs_limit().
 * Started as root (by hand, another init system, or a unit with User=root),
 * "run" opens the capture handle, then calls privs_drop() to become the
 * unprivileged user.  Either way it then calls privs_no_new_privs().
 *
 * No logging in here: errors come back as one line in err (no trailing
 * newline), so the caller can log them and the module can be tested alone. */
#ifndef IDT_PRIVS_H
#define IDT_PRIVS_H

#include <stddef.h>

/* 1 when the effective uid is 0. */
int privs_running_as_root(void);

/* 1 when this process may open a packet capture or a raw socket: root, or
 * CAP_NET_RAW in its effective set.  Without it nothing that captures or
 * probes can ever work in this process. */
int privs_can_capture(void);

/* Switch the process to user (its primary group and its supplementary
 * groups from the group database), keeping CAP_NET_RAW in the permitted
 * and effective sets.  Everything
 * else is cleared: inheritable and ambient sets, the other capabilities,
 * and (as far as the kernel allows) the bounding set.  The drop is checked
 * (setuid(0) must fail afterwards).
 *
 * Capabilities are per thread: call this BEFORE creating any thread.
 * Must run as root.  Returns 0, or -1 with a one-line message in err, e.g.
 *   "cannot switch to user ipsecdiag: no such user (create it with ...)" */
int privs_drop(const char *user, char *err, size_t errlen);

/* Not root: keep CAP_NET_RAW (if permitted) and nothing else in the
 * permitted and effective sets; clear the inheritable and ambient sets
 * (the bounding set is the service manager's).  Per thread: call it
 * before creating any thread.  0, or -1 with a message in err. */
int privs_limit(char *err, size_t errlen);

/* PR_SET_NO_NEW_PRIVS: no exec can ever grant privileges again (setuid
 * binaries, file capabilities).  Per thread, inherited: call it before
 * creating any thread.  0, or -1 with a message in err. */
int privs_no_new_privs(char *err, size_t errlen);

/* Result of privs_check_agentx_socket(). */
enum privs_agentx {
    PRIVS_AGENTX_OK = 0,        /* writable by us, or not a unix socket (tcp:, udp:) */
    PRIVS_AGENTX_MISSING = 1,   /* socket does not exist (yet): snmpd not up? */
    PRIVS_AGENTX_DENIED = 2,    /* exists, but we may not connect */
};

/* Check whether the current (effective) user may connect to the AgentX
 * socket spec: "unix:/path", "/path", or "" (Net-SNMP default
 * /var/agentx/master); other transports are not checked (OK).  group is
 * the group named in the fix (NULL: the current effective group).  For
 * MISSING and DENIED, msg receives one line, e.g.
 *   cannot connect to AgentX socket /var/agentx/master: permission denied;
 *   allow the ipsecdiag group with "agentXPerms 0660 0755 root ipsecdiag"
 *   in snmpd.conf
 * (on one line), or, when a directory on the way is not searchable, one
 * naming that directory ("... permission denied on directory /var/agentx;
 * set "agentXPerms 0660 0755 root ipsecdiag" in snmpd.conf (...chmod 0755
 * /var/agentx)").  The directory mode must be 0755: snmpd creates
 * /var/agentx as root:root, so 0550 locks the group out. */
enum privs_agentx privs_check_agentx_socket(const char *spec, const char *group,
                                            char *msg, size_t msglen);

#define PRIVS_AGENTX_DEFAULT_SOCKET "/var/agentx/master"

#endif
