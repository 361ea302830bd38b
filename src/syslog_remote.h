/* syslog_remote.h - optional direct RFC 5424 syslog over UDP to a central
 * collector (syslog.server = "host:port"), next to syslog(3). */
#ifndef IDT_SYSLOG_REMOTE_H
#define IDT_SYSLOG_REMOTE_H

#include <stddef.h>

struct syslog_remote;

/* server "host:port" or "[v6]:port"; the name is resolved now. */
struct syslog_remote *syslog_remote_open(const char *server, int facility, char *err, size_t errlen);
/* severity: LOG_WARNING etc.  msgid: e.g. "LOSS". */
void syslog_remote_send(struct syslog_remote *r, int severity, const char *msgid, const char *text);
void syslog_remote_close(struct syslog_remote *r);

#endif
