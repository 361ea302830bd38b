/* syslog_remote.c - RFC 5424 messages over UDP (RFC 5426). */
#include "idt_build.h"
#include "syslog_remote.h"
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

struct syslog_remote {
    int fd;
    int facility;               /* LOG_DAEMON etc. (already shifted) */
    char host[256];
};

struct syslog_remote *syslog_remote_open(const char *server, int facility, char *err, size_t errlen)
{
    char host[256], port[16];
    uint16_t portnum;
    const char *why = NULL;
    if (idt_hostport_parse(server, host, sizeof host, &portnum, &why) < 0) {
        snprintf(err, errlen, "syslog.server %s: %s", server, why ? why : "expected host:port");
        return NULL;
    }
    snprintf(port, sizeof port, "%u", portnum);
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
    int r = getaddrinfo(host, port, &hints, &ai);
    if (r != 0) {
        snprintf(err, errlen, "syslog.server %s: %s", server, gai_strerror(r));
        return NULL;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        snprintf(err, errlen, "syslog.server %s: cannot open a UDP socket", server);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return NULL;
    }
    freeaddrinfo(ai);
    struct syslog_remote *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = fd;
    s->facility = facility;
    if (gethostname(s->host, sizeof s->host) < 0)
        snprintf(s->host, sizeof s->host, "-");
    return s;
}

void syslog_remote_send(struct syslog_remote *s, int severity, const char *msgid, const char *text)
{
    if (!s)
        return;
    char ts[64], buf[1400];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    int pri = (s->facility & LOG_FACMASK) | (severity & LOG_PRIMASK);
    int n = snprintf(buf, sizeof buf, "<%d>1 %s.%06ldZ %s ipsecdiagtool %d %s - %s", pri, ts,
                     now.tv_nsec / 1000L, s->host, (int)getpid(), msgid, text);
    if (n > 0) {
        ssize_t w = send(s->fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, 0);
        (void)w;
    }
}

void syslog_remote_close(struct syslog_remote *s)
{
    if (!s)
        return;
    close(s->fd);
    free(s);
}
