/* syslog_remote.c - RFC 5424 messages over UDP (RFC 5426); host names are
 * resolved off the agent thread (see syslog_remote.h). */
#include "idt_build.h"
#include "syslog_remote.h"
#include "config.h"
#include "log.h"
#include "queue.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

struct syslog_remote {
    pthread_mutex_t lock;       /* guards q and refs */
    struct queue *q;            /* NULL once closed: a lookup ending later posts nothing */
    int refs;                   /* the owner, a running lookup, a posted result */

    /* agent thread only */
    int fd;                     /* connected UDP socket, -1 while the address is unknown */
    int resolving;              /* a lookup for this handle has not been handled yet */
    int warned;                 /* the "dropped while resolving" line was logged */
    uint64_t dropped;
    int facility;               /* LOG_DAEMON etc. (already shifted) */
    char server[256];           /* as configured */
    char host[256];             /* our own name, for the HOSTNAME field */

    /* set before the lookup thread starts, read-only afterwards */
    char name[256], port[8];
    /* written by the lookup thread before it posts; read by the agent thread
     * after popping the message (the queue's mutex orders the two) */
    int gai, gai_errno;
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

static void unref(struct syslog_remote *r)
{
    pthread_mutex_lock(&r->lock);
    int last = --r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last) {
        pthread_mutex_destroy(&r->lock);
        free(r);
    }
}

static int connect_udp(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, sa, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void *lookup_thread(void *arg)
{
    struct syslog_remote *r = arg;
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
    int g = getaddrinfo(r->name, r->port, &hints, &ai);
    r->gai = g;
    r->gai_errno = errno;
    if (g == 0) {
        size_t n = ai->ai_addrlen < sizeof r->addr ? ai->ai_addrlen : sizeof r->addr;
        memcpy(&r->addr, ai->ai_addr, n);
        r->addrlen = (socklen_t)n;
        freeaddrinfo(ai);
    }
    struct msg m;
    memset(&m, 0, sizeof m);
    m.type = MSG_SYSLOG_RESOLVED;
    m.ptr = r;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        if (!r->q)
            break;
        if (queue_push(r->q, &m) == 0) {
            /* our reference now travels with the message */
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
        pthread_mutex_unlock(&r->lock);
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);   /* queue full: rare */
    }
    pthread_mutex_unlock(&r->lock);
    unref(r);
    return NULL;
}

static int start_lookup(struct syslog_remote *r)
{
    pthread_attr_t at;
    pthread_t th;
    if (pthread_attr_init(&at) != 0)
        return -1;
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    r->refs++;                      /* the thread's; nobody else sees r yet */
    int e = pthread_create(&th, &at, lookup_thread, r);
    pthread_attr_destroy(&at);
    if (e != 0) {
        r->refs--;
        errno = e;
        return -1;
    }
    return 0;
}

struct syslog_remote *syslog_remote_open(const char *server, int facility, struct queue *q,
                                         const struct syslog_remote *prev, char *err,
                                         size_t errlen)
{
    char host[256];
    uint16_t portnum;
    const char *why = NULL;
    if (idt_hostport_parse(server, host, sizeof host, &portnum, &why) < 0) {
        snprintf(err, errlen, "syslog.server %s: %s", server, why ? why : "expected host:port");
        return NULL;
    }
    struct syslog_remote *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->refs = 1;
    r->q = q;
    r->fd = -1;
    r->facility = facility;
    snprintf(r->server, sizeof r->server, "%s", server);
    snprintf(r->name, sizeof r->name, "%s", host);
    snprintf(r->port, sizeof r->port, "%u", portnum);
    if (gethostname(r->host, sizeof r->host) < 0)
        snprintf(r->host, sizeof r->host, "-");

    /* A numeric address needs no lookup: connect now. */
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
                              .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai = NULL;
    if (getaddrinfo(r->name, r->port, &hints, &ai) == 0) {
        r->fd = connect_udp(ai->ai_addr, ai->ai_addrlen);
        int e = errno;
        freeaddrinfo(ai);
        if (r->fd < 0) {
            snprintf(err, errlen, "syslog.server %s: cannot open a UDP socket: %s", server,
                     strerror(e));
            unref(r);
            return NULL;
        }
        return r;
    }
    /* A name: keep sending to the previous address of the same server while
     * it is looked up again. */
    if (prev && prev->fd >= 0 && !strcmp(prev->server, server))
        r->fd = fcntl(prev->fd, F_DUPFD_CLOEXEC, 0);
    r->resolving = 1;
    if (start_lookup(r) < 0) {
        snprintf(err, errlen, "syslog.server %s: cannot start the name lookup thread: %s", server,
                 strerror(errno));
        if (r->fd >= 0)
            close(r->fd);
        unref(r);
        return NULL;
    }
    log_debug("syslog.server %s: looking up %s in the background", server, r->name);
    return r;
}

static void resolved(struct syslog_remote *r)
{
    char lost[96] = "";
    if (r->dropped)
        snprintf(lost, sizeof lost, "; %llu message%s dropped while resolving",
                 (unsigned long long)r->dropped, r->dropped == 1 ? " was" : "s were");
    if (r->gai != 0) {
        const char *why = r->gai == EAI_SYSTEM ? strerror(r->gai_errno) : gai_strerror(r->gai);
        if (r->fd >= 0)
            log_err("syslog.server %s: %s; still sending to the previously resolved address%s",
                    r->server, why, lost);
        else
            log_err("syslog.server %s: %s; alerts go to the local syslog only%s", r->server, why,
                    lost);
        return;
    }
    char a[NI_MAXHOST] = "?";
    getnameinfo((const struct sockaddr *)&r->addr, r->addrlen, a, sizeof a, NULL, 0,
                NI_NUMERICHOST);
    int fd = connect_udp((const struct sockaddr *)&r->addr, r->addrlen);
    if (fd < 0) {
        log_err("syslog.server %s: cannot open a UDP socket to %s: %s; alerts go to the local "
                "syslog only%s", r->server, a, strerror(errno), lost);
        if (r->fd >= 0)
            close(r->fd);
        r->fd = -1;
        return;
    }
    if (r->fd >= 0)
        close(r->fd);
    r->fd = fd;
    log_info("syslog.server %s: resolved to %s%s", r->server, a, lost);
}

void syslog_remote_resolved(struct syslog_remote *cur, void *ptr)
{
    struct syslog_remote *r = ptr;
    if (!r)
        return;
    /* r is still referenced by this message, so a live handle at the same
     * address is r itself, not a new one. */
    if (r == cur && r->resolving) {
        r->resolving = 0;
        resolved(r);
    }
    unref(r);
}

void syslog_remote_send(struct syslog_remote *s, int severity, const char *msgid, const char *text)
{
    if (!s)
        return;
    if (s->fd < 0) {
        if (s->resolving) {
            s->dropped++;
            if (!s->warned)
                log_warn("syslog.server %s: %s is not resolved yet; remote syslog messages are "
                         "dropped until it is (the local log has them)", s->server, s->name);
            s->warned = 1;
        }
        return;
    }
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
    pthread_mutex_lock(&s->lock);
    s->q = NULL;
    pthread_mutex_unlock(&s->lock);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->resolving = 0;
    unref(s);
}
