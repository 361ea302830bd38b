/* log.c - logging to stderr or syslog(3), thread-safe. */
#include "idt_build.h"
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_target g_target = LOG_TO_STDERR;
static int g_debug;
static int g_open;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void log_open(enum log_target target, int facility, int debug)
{
    g_target = target;
    g_debug = debug;
    if (target == LOG_TO_SYSLOG) {
        openlog("ipsecdiagtool", LOG_PID | LOG_NDELAY, facility);
        g_open = 1;
    }
}

void log_set_facility(int facility)
{
    if (g_target == LOG_TO_SYSLOG) {
        closelog();
        openlog("ipsecdiagtool", LOG_PID | LOG_NDELAY, facility);
    }
}

void log_close(void)
{
    if (g_open)
        closelog();
    g_open = 0;
}

int log_debug_enabled(void)
{
    return g_debug;
}

static const char *prio_name(int prio)
{
    switch (prio) {
    case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "critical";
    case LOG_ERR: return "error";
    case LOG_WARNING: return "warning";
    case LOG_NOTICE: return "notice";
    case LOG_INFO: return "info";
    default: return "debug";
    }
}

void log_msg(int prio, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* strip trailing newlines (Net-SNMP's messages carry one) */
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';

    if (g_target == LOG_TO_SYSLOG) {
        syslog(prio, "%s", buf);
        return;
    }
    struct timespec ts;
    struct tm tm;
    char tbuf[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    pthread_mutex_lock(&g_lock);
    fprintf(stderr, "%s.%03ld ipsecdiagtool %s: %s\n", tbuf, ts.tv_nsec / 1000000L,
            prio_name(prio), buf);
    fflush(stderr);
    pthread_mutex_unlock(&g_lock);
}

int log_limit_allow(struct log_limit *l, unsigned interval_s, unsigned *suppressed)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if ((long long)ts.tv_sec < l->next_s) {
        l->suppressed++;
        return 0;
    }
    *suppressed = l->suppressed;
    l->suppressed = 0;
    l->next_s = (long long)ts.tv_sec + interval_s;
    return 1;
}
