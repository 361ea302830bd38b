/* syslog_remote.h - optional direct RFC 5424 syslog over UDP to a central
 * collector (syslog.server = "host:port"), next to syslog(3).
 *
 * Everything here runs on the agent thread, except the name lookup: a host
 * name is resolved by a short-lived detached thread, which posts
 * MSG_SYSLOG_RESOLVED (ptr = the handle) to the queue; the agent thread
 * hands that message to syslog_remote_resolved(), which creates the socket.
 * A numeric address needs no lookup and is usable at once. */
#ifndef IDT_SYSLOG_REMOTE_H
#define IDT_SYSLOG_REMOTE_H

#include <stddef.h>

struct syslog_remote;
struct queue;

/* server "host:port" or "[v6]:port".  NULL with a message in err when the
 * string is malformed or no socket/thread can be had.  While a name is being
 * resolved, messages go to `prev`'s address when prev is connected to the
 * same server string (a reload), otherwise they are dropped and counted
 * (one log line; the count is logged when the lookup ends).  prev is not
 * closed or kept: the caller still closes it. */
struct syslog_remote *syslog_remote_open(const char *server, int facility, struct queue *q,
                                         const struct syslog_remote *prev, char *err,
                                         size_t errlen);
/* Handles a MSG_SYSLOG_RESOLVED message (ptr): when it belongs to `cur`, cur
 * is connected to the resolved address (or the failure is logged); a result
 * for a handle closed meanwhile is discarded.  Always releases ptr; cur may
 * be NULL (shutdown). */
void syslog_remote_resolved(struct syslog_remote *cur, void *ptr);
/* severity: LOG_WARNING etc.  msgid: e.g. "LOSS". */
void syslog_remote_send(struct syslog_remote *r, int severity, const char *msgid, const char *text);
/* A lookup still running keeps the memory until it ends; it posts nothing. */
void syslog_remote_close(struct syslog_remote *r);

#endif
