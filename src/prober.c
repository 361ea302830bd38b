/* prober.c - in-tunnel MTU discovery with DF ICMP echo probes.
 *
 * Layout:
 *   - the probing core: struct job (one discovery run on one tunnel) and
 *     job_run(), which opens the raw socket, plays the rounds planned by
 *     mtu_search and matches replies.  Used by both modes below.
 *   - the daemon side: a scheduler thread (requests, mtu.interval
 *     schedule, reaping) and one worker thread per running job.
 *   - prober_run_foreground(): the same core, one tunnel after the
 *     other, printing every round.
 */
#include "idt_build.h"
#include "prober.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mtu_search.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1           /* <linux/icmp.h>, SOL_RAW level */
#endif
#ifndef SOL_RAW
#define SOL_RAW 255
#endif

#define ICMP4_ECHO_REPLY   0
#define ICMP4_DEST_UNREACH 3
#define ICMP4_FRAG_NEEDED  4    /* code of DEST_UNREACH */
#define ICMP4_ECHO         8
#define ICMP6_ECHO_REQ     128
#define ICMP6_ECHO_REP     129
#define ICMP6_TOO_BIG      2

#define PROBE_HDR   8u          /* ICMP header */
#define PROBE_DATA  12u         /* token (8) + size (4) at the start of the payload */
#define PKT_BUF     (MTU_SEARCH_MAX_SIZE + 128u)
#define SEND_GAP_NS 1000000ull  /* 1 ms between the probes of a round */

/* ================================================================ time */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000u;
}

static int ms_until(uint64_t deadline_ns, uint64_t now_ns)
{
    if (deadline_ns <= now_ns)
        return 0;
    uint64_t ms = (deadline_ns - now_ns + 999999u) / 1000000u;
    return ms > 3600000u ? 3600000 : (int)ms;
}

/* ================================================================ core */

/* One discovery run on one tunnel. */
struct job {
    /* input */
    uint32_t index;
    char name[IDT_NAME_MAX];
    struct idt_mtu_conf m;
    int stop_fd;            /* readable = abort now; -1 = none */
    FILE *trace;            /* foreground: per-round lines; NULL in the daemon */
    /* output */
    int ok;                 /* 1: mtu found */
    int stopped;            /* aborted through stop_fd */
    uint32_t mtu, rounds, probes;
    double seconds;
    char reason[128];
};

enum slot_state { PS_UNSENT = 0, PS_SENT, PS_ANSWERED, PS_TOO_BIG, PS_SEND_FAILED };

struct slot {
    uint32_t size;
    uint16_t seq;
    uint8_t st;
};

struct probe_ctx {
    struct job *j;
    int fd, v6;
    struct sockaddr_storage dst;
    socklen_t dstlen;
    uint8_t src_a[16], dst_a[16];
    uint8_t token[8];
    uint16_t id, seq;
    struct mtu_search s;
    struct slot slot[MTU_SEARCH_MAX_PROBES];
    unsigned nslot, pending;    /* pending: slots in PS_SENT */
    uint32_t local_limit;       /* authoritative interface limit, 0 = unknown */
    unsigned sent_ok;           /* probes actually transmitted */
    int send_errno;             /* last send error other than EMSGSIZE */
    /* per round, for the trace */
    uint32_t round_hint, round_local;
    char round_hint_from[INET6_ADDRSTRLEN];
    uint8_t buf[PKT_BUF];
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint16_t inet_cksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void fill_sockaddr(const struct idt_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a->a, 16);
        *len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, a->a, 4);
        *len = sizeof *s4;
    }
}

/* Raw ICMP socket, DF/probe mode, error queue, bound to mtu.source.
 * 0, or -1 with j->reason set. */
static int open_socket(struct probe_ctx *c)
{
    struct job *j = c->j;
    char src[INET6_ADDRSTRLEN];
    int fam = c->v6 ? AF_INET6 : AF_INET;
    int on = 1;

    idt_addr_str(&j->m.source, src, sizeof src);
    c->fd = socket(fam, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   c->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    if (c->fd < 0) {
        int e = errno;
        snprintf(j->reason, sizeof j->reason, "cannot open raw %s socket: %s%s",
                 c->v6 ? "ICMPv6" : "ICMP", strerror(e),
                 (e == EPERM || e == EACCES) ? " (CAP_NET_RAW needed)" : "");
        return -1;
    }
    if (c->v6) {
        int pm = IPV6_PMTUDISC_PROBE;
        struct icmp6_filter f;
        ICMP6_FILTER_SETBLOCKALL(&f);
        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REP, &f);
        ICMP6_FILTER_SETPASS(ICMP6_TOO_BIG, &f);
        if (setsockopt(c->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pm, sizeof pm) < 0 ||
            setsockopt(c->fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on, sizeof on) < 0 ||
            setsockopt(c->fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on) < 0 ||
            setsockopt(c->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f) < 0) {
            snprintf(j->reason, sizeof j->reason, "setsockopt on ICMPv6 socket: %s", strerror(errno));
            return -1;
        }
    } else {
        int pm = IP_PMTUDISC_PROBE;
        uint32_t filt = ~((1u << ICMP4_ECHO_REPLY) | (1u << ICMP4_DEST_UNREACH));
        if (setsockopt(c->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pm, sizeof pm) < 0 ||
            setsockopt(c->fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on) < 0) {
            snprintf(j->reason, sizeof j->reason, "setsockopt on ICMP socket: %s", strerror(errno));
            return -1;
        }
        /* only an optimisation: replies are matched anyway */
        (void)setsockopt(c->fd, SOL_RAW, ICMP_FILTER, &filt, sizeof filt);
    }
    int rcvbuf = 1 << 20;
    (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

    struct sockaddr_storage ss;
    socklen_t sl;
    fill_sockaddr(&j->m.source, &ss, &sl);
    if (bind(c->fd, (struct sockaddr *)&ss, sl) < 0) {
        snprintf(j->reason, sizeof j->reason, "cannot bind to mtu.source %s: %s", src, strerror(errno));
        return -1;
    }
    fill_sockaddr(&j->m.target, &c->dst, &c->dstlen);
    return 0;
}

/* Drain the error queue (and the pending socket error).  Returns the
 * interface MTU of a local EMSGSIZE error found there, 0 if none. */
static uint32_t drain_errors(struct probe_ctx *c)
{
    uint32_t limit = 0;
    for (int guard = 0; guard < 1024; guard++) {
        uint8_t data[64];
        union { char buf[512]; struct cmsghdr align; } ctl;
        struct iovec iov = { data, sizeof data };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
        if (recvmsg(c->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            break;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            int ok4 = cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR;
            int ok6 = cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR;
            if (!ok4 && !ok6)
                continue;
            struct sock_extended_err ee;
            if (cm->cmsg_len < CMSG_LEN(sizeof ee))
                continue;
            memcpy(&ee, CMSG_DATA(cm), sizeof ee);
            if (ee.ee_origin == SO_EE_ORIGIN_LOCAL && ee.ee_errno == EMSGSIZE && ee.ee_info > 0)
                limit = ee.ee_info;
            /* ICMP-origin errors are handled from the raw packets */
        }
    }
    int soerr;
    socklen_t l = sizeof soerr;
    (void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
    return limit;
}

static void build_probe(struct probe_ctx *c, uint32_t size, uint16_t seq, size_t *len)
{
    size_t iphdr = c->v6 ? 40 : 20;
    size_t n = size - iphdr;    /* ICMP message length; size >= 576 */
    uint8_t *b = c->buf;
    b[0] = c->v6 ? ICMP6_ECHO_REQ : ICMP4_ECHO;
    b[1] = 0;
    put16(b + 2, 0);
    put16(b + 4, c->id);
    put16(b + 6, seq);
    memcpy(b + PROBE_HDR, c->token, 8);
    put32(b + PROBE_HDR + 8, size);
    for (size_t i = PROBE_HDR + PROBE_DATA; i < n; i++)
        b[i] = (uint8_t)(i & 0xff);
    if (!c->v6)                 /* the kernel computes the ICMPv6 checksum */
        put16(b + 2, inet_cksum(b, n));
    *len = n;
}

static struct slot *find_sent(struct probe_ctx *c, uint16_t seq)
{
    for (unsigned i = 0; i < c->nslot; i++)
        if (c->slot[i].st == PS_SENT && c->slot[i].seq == seq)
            return &c->slot[i];
    return NULL;
}

/* An echo reply (msg = ICMP message of length n) from the target. */
static void on_echo_reply(struct probe_ctx *c, const uint8_t *msg, size_t n)
{
    if (n < PROBE_HDR + PROBE_DATA || get16(msg + 4) != c->id ||
        memcmp(msg + PROBE_HDR, c->token, 8) != 0)
        return;
    struct slot *sl = find_sent(c, get16(msg + 6));
    if (!sl)
        return;                 /* late (earlier round), duplicate or forged */
    uint32_t size = get32(msg + PROBE_HDR + 8);
    if (size != sl->size || n != size - (c->v6 ? 40u : 20u))
        return;
    sl->st = PS_ANSWERED;
    c->pending--;
    mtu_search_result(&c->s, size, 1);
}

/* An ICMP frag-needed / packet-too-big quoting one of our probes. */
static void on_too_big(struct probe_ctx *c, uint32_t mtu, const uint8_t *inner_icmp,
                       size_t inner_len, const char *from)
{
    if (inner_len < 8 || inner_icmp[0] != (c->v6 ? ICMP6_ECHO_REQ : ICMP4_ECHO) ||
        get16(inner_icmp + 4) != c->id)
        return;
    struct slot *sl = find_sent(c, get16(inner_icmp + 6));
    if (!sl || mtu == 0 || mtu >= sl->size)
        return;
    log_debug("mtu probe on tunnel %s: %s reports mtu %u for size %u",
              c->j->name, from, mtu, sl->size);
    mtu_search_hint(&c->s, mtu);
    c->round_hint = mtu;
    snprintf(c->round_hint_from, sizeof c->round_hint_from, "%s", from);
}

static void handle_packet4(struct probe_ctx *c, const uint8_t *b, size_t n)
{
    if (n < 20 || (b[0] >> 4) != 4)
        return;
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    if (ihl < 20 || n < ihl + 8 || b[9] != IPPROTO_ICMP)
        return;
    if (memcmp(b + 16, c->src_a, 4) != 0)
        return;
    const uint8_t *icmp = b + ihl;
    size_t ilen = n - ihl;
    if (inet_cksum(icmp, ilen) != 0)
        return;
    if (icmp[0] == ICMP4_ECHO_REPLY && icmp[1] == 0) {
        if (memcmp(b + 12, c->dst_a, 4) == 0)
            on_echo_reply(c, icmp, ilen);
    } else if (icmp[0] == ICMP4_DEST_UNREACH && icmp[1] == ICMP4_FRAG_NEEDED) {
        const uint8_t *in = icmp + 8;
        size_t inlen = ilen - 8;
        if (inlen < 20 || (in[0] >> 4) != 4)
            return;
        size_t iihl = (size_t)(in[0] & 0x0f) * 4;
        if (iihl < 20 || inlen < iihl + 8 || in[9] != IPPROTO_ICMP ||
            memcmp(in + 12, c->src_a, 4) != 0 || memcmp(in + 16, c->dst_a, 4) != 0)
            return;
        char from[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET, b + 12, from, sizeof from);
        on_too_big(c, get16(icmp + 6), in + iihl, inlen - iihl, from);
    }
}

static void handle_packet6(struct probe_ctx *c, const uint8_t *b, size_t n,
                           const struct sockaddr_in6 *from)
{
    if (n < 8)
        return;
    if (b[0] == ICMP6_ECHO_REP && b[1] == 0) {
        if (memcmp(&from->sin6_addr, c->dst_a, 16) == 0)
            on_echo_reply(c, b, n);
    } else if (b[0] == ICMP6_TOO_BIG) {
        const uint8_t *in = b + 8;
        if (n < 8 + 40 + 8 || (in[0] >> 4) != 6 || in[6] != IPPROTO_ICMPV6 ||
            memcmp(in + 8, c->src_a, 16) != 0 || memcmp(in + 24, c->dst_a, 16) != 0)
            return;
        char fs[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &from->sin6_addr, fs, sizeof fs);
        on_too_big(c, get32(b + 4), in + 40, n - 48, fs);
    }
}

static void receive_all(struct probe_ctx *c)
{
    for (int guard = 0; guard < 4096; guard++) {
        uint8_t b[PKT_BUF];
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(c->fd, b, sizeof b, MSG_DONTWAIT | MSG_TRUNC,
                             (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                drain_errors(c);    /* a pending ICMP error surfaced here */
            return;
        }
        if ((size_t)n > sizeof b)
            continue;               /* truncated: not one of ours */
        if (c->v6)
            handle_packet6(c, b, (size_t)n, (const struct sockaddr_in6 *)&from);
        else
            handle_packet4(c, b, (size_t)n);
    }
}

/* Process replies until deadline (or, with until_answered, until no probe
 * of the round is outstanding).  -1 if a stop was requested. */
static int wait_until(struct probe_ctx *c, uint64_t deadline, int until_answered)
{
    for (;;) {
        uint64_t now = mono_ns();
        if (now >= deadline || (until_answered && c->pending == 0))
            return 0;
        if (mtu_search_state(&c->s) != MTU_SEARCH_RUNNING)
            return 0;
        struct pollfd pf[2] = { { .fd = c->fd, .events = POLLIN },
                                { .fd = c->j->stop_fd, .events = POLLIN } };
        int r = poll(pf, 2, ms_until(deadline, now));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        if (pf[1].revents & POLLIN)
            return -1;
        if (pf[0].revents & POLLIN)
            receive_all(c);
        if (pf[0].revents & POLLERR)
            drain_errors(c);
    }
}

static void note_local_limit(struct probe_ctx *c, uint32_t limit)
{
    if (c->local_limit && limit >= c->local_limit)
        return;
    c->local_limit = limit;
    c->round_local = limit;
    log_debug("mtu probe on tunnel %s: local interface mtu %u", c->j->name, limit);
    mtu_search_local_limit(&c->s, limit);
}

/* Send one probe.  Sets the slot state. */
static void send_probe(struct probe_ctx *c, struct slot *sl)
{
    size_t len;
    for (int attempt = 0; attempt < 2; attempt++) {
        sl->seq = ++c->seq;
        build_probe(c, sl->size, sl->seq, &len);
        ssize_t r = sendto(c->fd, c->buf, len, 0, (struct sockaddr *)&c->dst, c->dstlen);
        if (r >= 0) {
            sl->st = PS_SENT;
            c->pending++;
            c->sent_ok++;
            return;
        }
        int e = errno;
        if (e == EINTR) {
            attempt--;
            continue;
        }
        /* EMSGSIZE from our own send leaves a local error in the queue
         * with the interface MTU; without one, it was a pending ICMP
         * error that surfaced here (the packet was not sent): retry. */
        uint32_t limit = drain_errors(c);
        if (e == EMSGSIZE && limit && limit < sl->size) {
            note_local_limit(c, limit);
            sl->st = PS_TOO_BIG;
            return;
        }
        if (e != EMSGSIZE && e != EHOSTUNREACH && e != ENETUNREACH &&
            e != EAGAIN && e != ENOBUFS && e != EHOSTDOWN && e != ECONNREFUSED &&
            e != EPROTO)
            attempt = 1;        /* e.g. EPERM (firewall): do not retry */
        if (attempt == 1) {
            sl->st = PS_SEND_FAILED;
            if (e != EMSGSIZE)
                c->send_errno = e;
        }
    }
}

/* One round: send sizes[] 1 ms apart, then wait for the replies.  The
 * caller ends the round.  -1 if a stop was requested. */
static int run_round(struct probe_ctx *c, const uint32_t *sizes, unsigned n)
{
    c->nslot = n;
    c->pending = 0;
    c->round_hint = c->round_local = 0;
    for (unsigned i = 0; i < n; i++) {
        c->slot[i].size = sizes[i];
        c->slot[i].seq = 0;
        c->slot[i].st = PS_UNSENT;
    }
    uint64_t next = mono_ns();
    for (unsigned i = 0; i < n; i++) {
        if (mtu_search_state(&c->s) != MTU_SEARCH_RUNNING)
            return 0;           /* a local limit settled it */
        if (i > 0 && wait_until(c, next, 0) < 0)
            return -1;
        struct slot *sl = &c->slot[i];
        if (c->local_limit && sl->size > c->local_limit) {
            sl->st = PS_TOO_BIG;
            continue;
        }
        send_probe(c, sl);
        next = mono_ns() + SEND_GAP_NS;
    }
    uint64_t tmo = (uint64_t)(c->j->m.timeout * 1e9);
    return wait_until(c, mono_ns() + tmo, 1);
}

static void trace_round(struct probe_ctx *c)
{
    FILE *f = c->j->trace;
    unsigned sent = 0, ans = 0;
    for (unsigned i = 0; i < c->nslot; i++) {
        sent += c->slot[i].st == PS_SENT || c->slot[i].st == PS_ANSWERED;
        ans += c->slot[i].st == PS_ANSWERED;
    }
    fprintf(f, "round %u: sent %u, answered %u:", mtu_search_rounds(&c->s), sent, ans);
    for (unsigned i = 0; i < c->nslot; i++) {
        static const char mark[] = { '?', '-', '+', '!', 'x' };
        fprintf(f, " %u%c", c->slot[i].size, mark[c->slot[i].st]);
    }
    fputc('\n', f);
    if (c->round_local)
        fprintf(f, "         local interface mtu %u (larger sizes not sent)\n", c->round_local);
    if (c->round_hint)
        fprintf(f, "         %s reports mtu %u (hint)\n", c->round_hint_from, c->round_hint);
    uint32_t lo, hi;
    mtu_search_range(&c->s, &lo, &hi);
    if (lo >= c->j->m.min)
        fprintf(f, "         range now %u..%u\n", lo, hi - 1);
    else
        fprintf(f, "         range now: nothing answered yet (smallest unanswered size %u)\n", hi);
    fflush(f);
}

/* Run discovery for j (blocking).  Fills the output fields of j. */
static void job_run(struct job *j)
{
    uint64_t t0 = mono_ns();
    j->ok = j->stopped = 0;
    j->mtu = j->rounds = j->probes = 0;
    j->reason[0] = '\0';

    struct probe_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(j->reason, sizeof j->reason, "out of memory");
        goto out;
    }
    c->j = j;
    c->fd = -1;
    c->v6 = j->m.source.family == 6;
    memcpy(c->src_a, j->m.source.a, 16);
    memcpy(c->dst_a, j->m.target.a, 16);
    uint8_t rnd[12];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        /* not fatal: the token then only has to be unguessable enough */
        uint64_t x = mono_ns() ^ wall_us() ^ ((uint64_t)(uintptr_t)c << 16);
        for (size_t i = 0; i < sizeof rnd; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            rnd[i] = (uint8_t)(x >> 56);
    }
    memcpy(c->token, rnd, 8);
    c->id = get16(rnd + 8);
    c->seq = get16(rnd + 10);

    struct mtu_search_params sp = { .min = j->m.min, .max = j->m.max,
                                    .probes = j->m.probes, .retries = j->m.retries,
                                    .max_rounds = 0 };
    if (mtu_search_init(&c->s, &sp) < 0) {
        snprintf(j->reason, sizeof j->reason, "invalid mtu parameters (min %u max %u probes %u retries %u)",
                 j->m.min, j->m.max, j->m.probes, j->m.retries);
        goto out;
    }
    if (open_socket(c) < 0)
        goto out;

    uint32_t sizes[MTU_SEARCH_MAX_PROBES];
    unsigned n;
    while ((n = mtu_search_next_round(&c->s, sizes, MTU_SEARCH_MAX_PROBES)) > 0) {
        int r = run_round(c, sizes, n);
        mtu_search_end_round(&c->s);
        if (r < 0) {
            j->stopped = 1;
            snprintf(j->reason, sizeof j->reason, "stopped");
            break;
        }
        if (j->trace)
            trace_round(c);
    }
    j->rounds = mtu_search_rounds(&c->s);
    j->probes = c->sent_ok;
    if (j->stopped)
        goto out;

    uint32_t lo, hi;
    switch (mtu_search_state(&c->s)) {
    case MTU_SEARCH_DONE:
        j->ok = 1;
        j->mtu = mtu_search_answer(&c->s);
        break;
    case MTU_SEARCH_INCOMPLETE:
        mtu_search_range(&c->s, &lo, &hi);
        snprintf(j->reason, sizeof j->reason,
                 "no stable answer after %u rounds (up to %u answered; packet loss?)",
                 j->rounds, lo);
        break;
    default:
        if (c->local_limit && c->local_limit < j->m.min)
            snprintf(j->reason, sizeof j->reason,
                     "local interface mtu %u is below mtu.min %u", c->local_limit, j->m.min);
        else if (c->sent_ok == 0 && c->send_errno)
            snprintf(j->reason, sizeof j->reason, "cannot send probes: %s",
                     strerror(c->send_errno));
        else
            snprintf(j->reason, sizeof j->reason, "target unreachable or tunnel down");
        break;
    }
out:
    if (c) {
        if (c->fd >= 0)
            close(c->fd);
        free(c);
    }
    j->seconds = (double)(mono_ns() - t0) / 1e9;
}

static void format_result(const struct job *j, const char *previous, char *buf, size_t len)
{
    if (j->ok)
        snprintf(buf, len, "mtu discovered on tunnel %s: mtu=%u previous=%s rounds=%u probes=%u time=%.1fs",
                 j->name, j->mtu, previous, j->rounds, j->probes, j->seconds);
    else
        snprintf(buf, len, "mtu discovery failed on tunnel %s: %s (rounds=%u probes=%u)",
                 j->name, j->reason, j->rounds, j->probes);
}

static void job_from_tunnel(struct job *j, const struct idt_tunnel_conf *t)
{
    memset(j, 0, sizeof *j);
    j->index = t->index;
    snprintf(j->name, sizeof j->name, "%s", t->name);
    j->m = t->mtu;
    j->stop_fd = -1;
}

/* ================================================================ daemon */

enum run_state { RUN_QUEUED = 0, RUN_RUNNING, RUN_DONE };

struct run {
    struct run *next;
    struct prober *p;
    struct job job;
    pthread_t th;
    int started;            /* thread created (scheduler-owned) */
    enum run_state state;   /* under p->lock */
};

struct sched_tunnel {
    uint32_t index;
    char name[IDT_NAME_MAX];
    struct idt_mtu_conf m;
    uint64_t next_due_ns;   /* interval > 0 only */
};

struct last_mtu {
    uint32_t index, mtu;
};

struct prober {
    pthread_mutex_t lock;
    struct queue *q;
    int wake_fd, stop_fd;
    pthread_t thread;
    int stopping;
    /* under lock */
    struct sched_tunnel *tun;
    size_t ntun;
    struct run *runs;       /* FIFO: oldest first */
    struct last_mtu *last;
    size_t nlast, caplast;
};

static void wake(int fd)
{
    uint64_t one = 1;
    ssize_t r = write(fd, &one, sizeof one);
    (void)r;
}

static struct run *find_active(struct prober *p, uint32_t index)
{
    for (struct run *r = p->runs; r; r = r->next)
        if (r->state != RUN_DONE && (index == 0 || r->job.index == index))
            return r;
    return NULL;
}

/* Under lock: append a queued run. 0 ok, -1 out of memory. */
static int enqueue(struct prober *p, const struct sched_tunnel *t)
{
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->p = p;
    r->job.index = t->index;
    snprintf(r->job.name, sizeof r->job.name, "%s", t->name);
    r->job.m = t->m;
    r->job.stop_fd = p->stop_fd;
    r->state = RUN_QUEUED;
    struct run **pp = &p->runs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = r;
    return 0;
}

static uint32_t last_get(struct prober *p, uint32_t index)
{
    for (size_t i = 0; i < p->nlast; i++)
        if (p->last[i].index == index)
            return p->last[i].mtu;
    return 0;
}

static void last_set(struct prober *p, uint32_t index, uint32_t mtu)
{
    for (size_t i = 0; i < p->nlast; i++)
        if (p->last[i].index == index) {
            p->last[i].mtu = mtu;
            return;
        }
    if (p->nlast == p->caplast) {
        size_t nc = p->caplast ? 2 * p->caplast : 16;
        struct last_mtu *n = realloc(p->last, nc * sizeof *n);
        if (!n)
            return;
        p->last = n;
        p->caplast = nc;
    }
    p->last[p->nlast++] = (struct last_mtu){ index, mtu };
}

/* A message about job j to the agent thread. */
static void job_msg(struct msg *m, enum msg_type type, const struct job *j)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->index = j->index;
    snprintf(m->name, sizeof m->name, "%s", j->name);
    m->time_us = wall_us();
}

static void push_started(struct prober *p, const struct job *j)
{
    struct msg m;
    job_msg(&m, MSG_MTU_STARTED, j);
    queue_push(p->q, &m);
}

static void finish(struct prober *p, struct run *r)
{
    struct job *j = &r->job;
    if (!j->stopped) {
        char prev[16] = "none", line[512];
        pthread_mutex_lock(&p->lock);
        uint32_t pm = last_get(p, j->index);
        if (j->ok)
            last_set(p, j->index, j->mtu);
        pthread_mutex_unlock(&p->lock);
        if (pm)
            snprintf(prev, sizeof prev, "%u", pm);
        format_result(j, prev, line, sizeof line);
        if (j->ok)
            log_notice("%s", line);
        else
            log_warn("%s", line);

        struct msg m;
        job_msg(&m, MSG_MTU_RESULT, j);
        m.ok = j->ok;
        m.mtu = j->mtu;
        m.rounds = j->rounds;
        m.probes = j->probes;
        m.seconds = j->seconds;
        snprintf(m.reason, sizeof m.reason, "%s", j->ok ? "" : j->reason);
        queue_push(p->q, &m);
    }
    pthread_mutex_lock(&p->lock);
    r->state = RUN_DONE;
    pthread_mutex_unlock(&p->lock);
    wake(p->wake_fd);
}

static void *worker_main(void *arg)
{
    struct run *r = arg;
    struct prober *p = r->p;
    push_started(p, &r->job);
    log_info("mtu discovery started on tunnel %s", r->job.name);
    job_run(&r->job);
    finish(p, r);
    return NULL;
}

/* Under lock: reap finished runs. */
static void reap(struct prober *p)
{
    struct run **pp = &p->runs;
    while (*pp) {
        struct run *r = *pp;
        if (r->state == RUN_DONE) {
            *pp = r->next;
            if (r->started)     /* the worker no longer needs the lock */
                pthread_join(r->th, NULL);
            free(r);
        } else {
            pp = &r->next;
        }
    }
}

/* Under lock: start queued runs up to the cap. */
static void start_queued(struct prober *p)
{
    unsigned running = 0;
    for (struct run *r = p->runs; r; r = r->next)
        running += r->state == RUN_RUNNING;
    for (struct run *r = p->runs; r && running < PROBER_MAX_JOBS; r = r->next) {
        if (r->state != RUN_QUEUED)
            continue;
        r->state = RUN_RUNNING;
        int e = pthread_create(&r->th, NULL, worker_main, r);
        if (e != 0) {
            log_err("mtu discovery on tunnel %s: cannot create thread: %s", r->job.name, strerror(e));
            r->state = RUN_DONE;
            continue;
        }
        r->started = 1;
        running++;
    }
}

static void *sched_main(void *arg)
{
    struct prober *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        reap(p);
        if (p->stopping)
            break;
        uint64_t now = mono_ns();
        uint64_t next = now + 3600ull * 1000000000ull;
        for (size_t i = 0; i < p->ntun; i++) {
            struct sched_tunnel *t = &p->tun[i];
            if (!t->m.interval)
                continue;
            if (now >= t->next_due_ns) {
                t->next_due_ns = now + (uint64_t)t->m.interval * 1000000000ull;
                if (!find_active(p, t->index)) {
                    log_debug("mtu discovery on tunnel %s: scheduled run", t->name);
                    enqueue(p, t);
                }
            }
            if (t->next_due_ns < next)
                next = t->next_due_ns;
        }
        start_queued(p);
        pthread_mutex_unlock(&p->lock);

        struct pollfd pf[2] = { { .fd = p->wake_fd, .events = POLLIN },
                                { .fd = p->stop_fd, .events = POLLIN } };
        int r = poll(pf, 2, ms_until(next, mono_ns()));
        if (r > 0 && (pf[0].revents & POLLIN)) {
            uint64_t v;
            ssize_t n = read(p->wake_fd, &v, sizeof v);
            (void)n;
        }
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);

    /* stopping: nobody adds runs any more; workers see stop_fd */
    for (struct run *r = p->runs; r; r = r->next)
        if (r->started)
            pthread_join(r->th, NULL);
    while (p->runs) {
        struct run *r = p->runs;
        p->runs = r->next;
        free(r);
    }
    return NULL;
}

/* Under lock (or before the thread exists). */
static int load_tunnels(struct prober *p, const struct idt_config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->ntunnels; i++)
        n += cfg->tunnels[i].mtu.enabled != 0;
    struct sched_tunnel *nt = n ? calloc(n, sizeof *nt) : NULL;
    if (n && !nt)
        return -1;
    uint64_t now = mono_ns();
    size_t k = 0;
    for (size_t i = 0; i < cfg->ntunnels; i++) {
        const struct idt_tunnel_conf *t = &cfg->tunnels[i];
        if (!t->mtu.enabled)
            continue;
        struct sched_tunnel *s = &nt[k++];
        s->index = t->index;
        snprintf(s->name, sizeof s->name, "%s", t->name);
        s->m = t->mtu;
        s->next_due_ns = now + (uint64_t)s->m.interval * 1000000000ull;
        for (size_t o = 0; o < p->ntun; o++)      /* keep the running schedule */
            if (p->tun[o].index == s->index && p->tun[o].m.interval == s->m.interval) {
                s->next_due_ns = p->tun[o].next_due_ns;
                break;
            }
    }
    free(p->tun);
    p->tun = nt;
    p->ntun = n;
    return 0;
}

struct prober *prober_start(const struct idt_config *cfg, struct queue *q,
                            char *err, size_t errlen)
{
    struct prober *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "prober: out of memory");
        return NULL;
    }
    p->q = q;
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->wake_fd < 0 || p->stop_fd < 0) {
        snprintf(err, errlen, "prober: eventfd: %s", strerror(errno));
        goto fail;
    }
    if (load_tunnels(p, cfg) < 0) {
        snprintf(err, errlen, "prober: out of memory");
        goto fail;
    }
    pthread_mutex_init(&p->lock, NULL);
    int e = pthread_create(&p->thread, NULL, sched_main, p);
    if (e != 0) {
        snprintf(err, errlen, "prober: cannot create thread: %s", strerror(e));
        pthread_mutex_destroy(&p->lock);
        goto fail;
    }
    return p;
fail:
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    if (p->stop_fd >= 0)
        close(p->stop_fd);
    free(p->tun);
    free(p);
    return NULL;
}

void prober_set_config(struct prober *p, const struct idt_config *cfg)
{
    pthread_mutex_lock(&p->lock);
    if (load_tunnels(p, cfg) < 0)
        log_err("prober: out of memory on reload; keeping the previous tunnel list");
    pthread_mutex_unlock(&p->lock);
    wake(p->wake_fd);
}

int prober_request(struct prober *p, uint32_t index)
{
    int rc = -1;
    pthread_mutex_lock(&p->lock);
    if (p->stopping)
        goto out;
    if (index == 0) {
        int any = 0, started = 0;
        for (size_t i = 0; i < p->ntun; i++) {
            any = 1;
            if (!find_active(p, p->tun[i].index) && enqueue(p, &p->tun[i]) == 0)
                started = 1;
        }
        rc = !any ? -1 : started ? 0 : 1;
    } else {
        for (size_t i = 0; i < p->ntun; i++) {
            if (p->tun[i].index != index)
                continue;
            if (find_active(p, index))
                rc = 1;
            else
                rc = enqueue(p, &p->tun[i]) == 0 ? 0 : -1;
            break;
        }
    }
out:
    pthread_mutex_unlock(&p->lock);
    if (rc == 0)
        wake(p->wake_fd);
    return rc;
}

int prober_is_running(struct prober *p, uint32_t index)
{
    pthread_mutex_lock(&p->lock);
    int r = find_active(p, index) != NULL;
    pthread_mutex_unlock(&p->lock);
    return r;
}

void prober_stop(struct prober *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_mutex_unlock(&p->lock);
    wake(p->stop_fd);           /* stays readable: every poll sees it */
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    close(p->wake_fd);
    close(p->stop_fd);
    free(p->tun);
    free(p->last);
    free(p);
}

/* ================================================================ foreground */

int prober_run_foreground(const struct idt_config *cfg, const char *tunnel_name)
{
    if (tunnel_name) {
        const struct idt_tunnel_conf *t = config_tunnel_by_name(cfg, tunnel_name);
        if (!t) {
            fprintf(stderr, "ipsecdiagtool: no tunnel named '%s' in the configuration\n", tunnel_name);
            return 2;
        }
        if (!t->mtu.enabled) {
            fprintf(stderr, "ipsecdiagtool: tunnel '%s' has no mtu block\n", tunnel_name);
            return 2;
        }
    }
    int any = 0, failed = 0;
    for (size_t i = 0; i < cfg->ntunnels; i++) {
        const struct idt_tunnel_conf *t = &cfg->tunnels[i];
        if (!t->mtu.enabled || (tunnel_name && strcmp(t->name, tunnel_name) != 0))
            continue;
        any = 1;
        struct job j;
        job_from_tunnel(&j, t);
        j.trace = stdout;
        char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], line[512];
        printf("tunnel %s (index %u): probing %s from %s, sizes %u..%u, %u probes/round, "
               "timeout %.1fs, retries %u\n", j.name, j.index,
               idt_addr_str(&j.m.target, dst, sizeof dst), idt_addr_str(&j.m.source, src, sizeof src),
               j.m.min, j.m.max, j.m.probes, j.m.timeout, j.m.retries);
        fflush(stdout);
        job_run(&j);
        format_result(&j, "none", line, sizeof line);
        printf("%s\n", line);
        fflush(stdout);
        failed |= !j.ok;
    }
    if (!any) {
        fprintf(stderr, "ipsecdiagtool: no tunnel has an mtu block in the configuration\n");
        return 1;
    }
    return failed ? 1 : 0;
}
