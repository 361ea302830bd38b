/* probe.c - the probing core of in-tunnel MTU discovery (see probe.h):
 * raw socket set-up, one round of DF ICMP echo probes, matching of the
 * replies and ICMP errors, driven by the pure search in mtu_search.c. */
#include "idt_build.h"
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
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

/* ================================================================ core */

enum slot_state { PS_UNSENT = 0, PS_SENT, PS_ANSWERED, PS_TOO_BIG, PS_SEND_FAILED };

struct slot {
    uint32_t size;
    uint16_t seq;
    uint8_t st;
};

struct probe_ctx {
    struct probe_job *j;
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
    struct probe_job *j = c->j;
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
        uint64_t now = idt_mono_ns();
        if (now >= deadline || (until_answered && c->pending == 0))
            return 0;
        if (mtu_search_state(&c->s) != MTU_SEARCH_RUNNING)
            return 0;
        struct pollfd pf[2] = { { .fd = c->fd, .events = POLLIN },
                                { .fd = c->j->stop_fd, .events = POLLIN } };
        int r = poll(pf, 2, idt_poll_ms(now, deadline, 3600000));
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
    uint64_t next = idt_mono_ns();
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
        next = idt_mono_ns() + SEND_GAP_NS;
    }
    uint64_t tmo = (uint64_t)(c->j->m.timeout * 1e9);
    return wait_until(c, idt_mono_ns() + tmo, 1);
}

static void trace_round(struct probe_ctx *c)
{
    FILE *f = c->j->trace;
    unsigned n[5] = { 0 };      /* per enum slot_state */
    for (unsigned i = 0; i < c->nslot; i++)
        n[c->slot[i].st]++;
    /* Every planned size is listed; the counts say which were not sent. */
    fprintf(f, "round %u: %u sizes, sent %u, answered %u", mtu_search_rounds(&c->s), c->nslot,
            n[PS_SENT] + n[PS_ANSWERED], n[PS_ANSWERED]);
    if (n[PS_TOO_BIG])
        fprintf(f, ", %u over the local MTU", n[PS_TOO_BIG]);
    if (n[PS_SEND_FAILED])
        fprintf(f, ", %u send errors", n[PS_SEND_FAILED]);
    if (n[PS_UNSENT])
        fprintf(f, ", %u not needed", n[PS_UNSENT]);
    fputc(':', f);
    for (unsigned i = 0; i < c->nslot; i++) {
        static const char mark[] = { '?', '-', '+', '!', 'x' };   /* see PROBE_TRACE_LEGEND */
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

const char *probe_fail_name(enum probe_fail f)
{
    switch (f) {
    case PROBE_FAIL_NONE: return "none";
    case PROBE_FAIL_NO_REPLY: return "noReply";
    case PROBE_FAIL_UNAVAILABLE: return "proberUnavailable";
    case PROBE_FAIL_SEND: return "sendError";
    case PROBE_FAIL_LOCAL_LIMIT: return "localLimit";
    case PROBE_FAIL_UNSTABLE: return "noStableAnswer";
    case PROBE_FAIL_SOCKET: return "socketError";
    case PROBE_FAIL_PARAMS: return "badParameters";
    }
    return "unknown";
}

void probe_run(struct probe_job *j)
{
    uint64_t t0 = idt_mono_ns();
    j->ok = j->stopped = 0;
    j->fail = PROBE_FAIL_NONE;
    j->mtu = j->rounds = j->probes = 0;
    j->reason[0] = '\0';

    struct probe_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        j->fail = PROBE_FAIL_UNAVAILABLE;
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
        uint64_t x = idt_mono_ns() ^ ((uint64_t)getpid() << 32) ^ ((uint64_t)(uintptr_t)c << 16);
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
        j->fail = PROBE_FAIL_PARAMS;
        snprintf(j->reason, sizeof j->reason, "invalid mtu parameters (min %u max %u probes %u retries %u)",
                 j->m.min, j->m.max, j->m.probes, j->m.retries);
        goto out;
    }
    if (open_socket(c) < 0) {
        j->fail = PROBE_FAIL_SOCKET;
        goto out;
    }

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
        if (j->on_round && mtu_search_state(&c->s) == MTU_SEARCH_RUNNING)
            j->on_round(j, c->sent_ok, j->arg);
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
        j->fail = PROBE_FAIL_UNSTABLE;
        snprintf(j->reason, sizeof j->reason,
                 "no stable answer after %u rounds (up to %u answered; packet loss?)",
                 j->rounds, lo);
        break;
    default:
        if (c->local_limit && c->local_limit < j->m.min) {
            j->fail = PROBE_FAIL_LOCAL_LIMIT;
            snprintf(j->reason, sizeof j->reason,
                     "local interface mtu %u is below mtu.min %u", c->local_limit, j->m.min);
        } else if (c->sent_ok == 0 && c->send_errno) {
            j->fail = PROBE_FAIL_SEND;
            snprintf(j->reason, sizeof j->reason, "cannot send probes: %s",
                     strerror(c->send_errno));
        } else {
            j->fail = PROBE_FAIL_NO_REPLY;
            snprintf(j->reason, sizeof j->reason, "target unreachable or tunnel down");
        }
        break;
    }
out:
    if (c) {
        if (c->fd >= 0)
            close(c->fd);
        free(c);
    }
    j->seconds = (double)(idt_mono_ns() - t0) / 1e9;
}

void probe_format_result(const struct probe_job *j, const char *previous, char *buf, size_t len)
{
    if (j->ok)
        snprintf(buf, len, "mtu discovered on tunnel %s: mtu=%u previous=%s rounds=%u probes=%u time=%.1fs",
                 j->name, j->mtu, previous, j->rounds, j->probes, j->seconds);
    else
        snprintf(buf, len, "mtu discovery failed on tunnel %s: %s (reason=%s rounds=%u probes=%u)",
                 j->name, j->reason, probe_fail_name(j->fail), j->rounds, j->probes);
}

void probe_job_init(struct probe_job *j, const struct idt_tunnel_conf *t)
{
    memset(j, 0, sizeof *j);
    j->index = t->index;
    snprintf(j->name, sizeof j->name, "%s", t->name);
    j->m = t->mtu;
    j->stop_fd = -1;
}
