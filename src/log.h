/* log.h - the program's logging: stderr (foreground/tty) or syslog(3). */
#ifndef IDT_LOG_H
#define IDT_LOG_H

#include <syslog.h>

enum log_target { LOG_TO_STDERR = 0, LOG_TO_SYSLOG = 1 };

void log_open(enum log_target target, int facility, int debug);
void log_set_facility(int facility);
void log_close(void);
int  log_debug_enabled(void);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)     log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)    log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   do { if (log_debug_enabled()) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

/* Rate limit for messages a remote party can trigger at will (SNMP SETs):
 * log_limit_allow() returns 1 at most once per interval_s seconds and then
 * reports in *suppressed how many calls were refused since the last one. */
struct log_limit {
    long long next_s;
    unsigned suppressed;
};
int log_limit_allow(struct log_limit *l, unsigned interval_s, unsigned *suppressed);

#endif
