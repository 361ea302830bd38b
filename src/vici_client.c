/* vici_client.c - the VICI client thread: see vici_client.h. */
#include "vici_client.h"
#include "clock.h"
#include "log.h"
#include "vici_msg.h"
#include "vici_sas.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* the events we register for, list-sa last (it streams list-sas) */
static const char *const reg_events[] = {
    "ike-updown", "child-updown", "ike-rekey", "child-rekey", "list-sa",
};
#define NREG (sizeof reg_events / sizeof reg_events[0])
#define TX_CAP 2048
#define MAX_PENDING 16      /* replies we wait for: NREG registrations + 1 command */

struct vici_client {
    pthread_t th;
    vici_deliver_fn deliver;
    void *ctx;
    int wake_fd;
    atomic_int stop;

    pthread_mutex_t mu;             /* guards the next three */
    char new_path[sizeof ((struct idt_config *)0)->ike_vici];
    int new_explicit;
    uint32_t new_poll_s;
    atomic_int changed;

    /* the thread's own */
    char path[sizeof ((struct idt_config *)0)->ike_vici];
    int explicit_path;
    uint32_t poll_s;
    int fd;                         /* -1: not connected */
    uint64_t retry_at_us, backoff_s;
    int outage;                     /* a failure was logged; cleared by a complete list */
    int lost_delivered;             /* a connected = 0 view went out for this outage */
    uint8_t pending[MAX_PENDING];   /* expected replies, oldest first: 'r' register, 'c' list-sas */
    int npending;
    uint64_t waiting_since_us;      /* oldest reply or partial packet started; 0 = none */
    int listing;                    /* a list-sas is in flight */
    uint64_t relist_at_us;          /* 0 = none wanted; else list-sas at this time */
    uint64_t next_poll_us;
    uint8_t tx[TX_CAP];
    size_t txlen;
    uint8_t hdr[4];
    size_t hdrlen;
    uint8_t *rx;                    /* VICI_MAX_PACKET bytes */
    size_t rxlen, rxwant;
    struct vici_sas sas;
    uint64_t generation;
    struct log_limit refused_lim;
};

/* ------------------------------------------------------------ helpers */

static void wake(int fd)
{
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) < 0) {
        /* EAGAIN: a wake-up is pending anyway */
    }
}

static void deliver_view(struct vici_client *vc, int connected)
{
    uint64_t now = idt_mono_us();
    struct ike_view *v = connected ? vici_sas_view(&vc->sas, now, vc->generation + 1)
                                   : NULL;
    if (!connected) {
        /* the SAs are gone with charon; events received before it went are kept */
        struct vici_sas tmp = vc->sas;
        tmp.nsa = tmp.nchild = 0;
        v = vici_sas_view(&tmp, now, vc->generation + 1);
        if (v)
            v->connected = 0;
    }
    if (!v) {
        log_err("ike: out of memory building an IKE view; the next list-sas tries again");
        return;
    }
    vc->generation++;
    if (vc->sas.events_dropped)
        log_warn("ike: %llu IKE events beyond %d since the last view were dropped",
                 (unsigned long long)vc->sas.events_dropped, VICI_SAS_MAX_EVENTS);
    vici_sas_clear_events(&vc->sas);
    vc->deliver(vc->ctx, v);
}

static void user_name(char *buf, size_t len)
{
    struct passwd pw, *r = NULL;
    char b[1024];
    if (getpwuid_r(geteuid(), &pw, b, sizeof b, &r) == 0 && r)
        snprintf(buf, len, "%s", pw.pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)geteuid());
}

static void group_name(gid_t gid, char *buf, size_t len)
{
    struct group gr, *r = NULL;
    char b[1024];
    if (getgrgid_r(gid, &gr, b, sizeof b, &r) == 0 && r)
        snprintf(buf, len, "%s", gr.gr_name);
    else
        snprintf(buf, len, "%u", (unsigned)gid);
}

/* The first failure of an outage is logged with what to do; the rest of
 * the outage at debug level. */
static void connect_failed(struct vici_client *vc, int err)
{
    char msg[768];
    if (err == ENOENT) {
        snprintf(msg, sizeof msg, "ike: VICI socket %s does not exist (is charon running with "
                 "the vici plugin?); retrying with backoff", vc->path);
    } else if (err == EACCES || err == EPERM) {
        char user[64], grp[64] = "?";
        struct stat st;
        user_name(user, sizeof user);
        int have = stat(vc->path, &st) == 0;
        if (have)
            group_name(st.st_gid, grp, sizeof grp);
        snprintf(msg, sizeof msg, "ike: permission denied connecting to VICI socket %s as user "
                 "%s (socket mode %03o, group %s): add %s to group %s (strongSwan's "
                 "charon.group sets the socket's group), or grant it with "
                 "\"setfacl -m u:%s:rw %s\"; retrying with backoff", vc->path, user,
                 have ? (unsigned)(st.st_mode & 0777) : 0u, grp, user, grp, user, vc->path);
    } else if (err == ECONNREFUSED) {
        snprintf(msg, sizeof msg, "ike: VICI socket %s refuses connections (charon not "
                 "running?); retrying with backoff", vc->path);
    } else {
        snprintf(msg, sizeof msg, "ike: cannot connect to VICI socket %s: %s; retrying with "
                 "backoff", vc->path, strerror(err));
    }
    /* the default socket is used only while it exists: its absence is quiet */
    if (!vc->outage && !(err == ENOENT && !vc->explicit_path)) {
        log_warn("%s", msg);
        vc->outage = 1;
    } else {
        log_debug("%s", msg);
    }
}

static void schedule_retry(struct vici_client *vc, uint64_t now)
{
    vc->retry_at_us = now + vc->backoff_s * 1000000ULL;
    vc->backoff_s = vc->backoff_s * 2 > VICI_BACKOFF_MAX_S ? VICI_BACKOFF_MAX_S : vc->backoff_s * 2;
}

static void close_conn(struct vici_client *vc)
{
    if (vc->fd >= 0)
        close(vc->fd);
    vc->fd = -1;
    vc->npending = 0;
    vc->listing = 0;
    vc->txlen = vc->hdrlen = vc->rxlen = vc->rxwant = 0;
    vc->waiting_since_us = 0;
    vc->relist_at_us = 0;
    vici_sas_clear_sas(&vc->sas);
}

/* Charon went away or broke the protocol: one line per outage, a view
 * with connected = 0, and a reconnect with backoff. */
__attribute__((format(printf, 2, 3)))
static void lose(struct vici_client *vc, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    close_conn(vc);
    uint64_t now = idt_mono_us();
    if (!vc->outage) {
        log_warn("ike: lost charon at %s: %s; reconnecting with backoff", vc->path, why);
        vc->outage = 1;
    } else {
        log_debug("ike: %s: %s", vc->path, why);
    }
    if (!vc->lost_delivered) {
        deliver_view(vc, 0);
        vc->lost_delivered = 1;
    }
    schedule_retry(vc, now);
}

/* ------------------------------------------------------------ sending */

static int queue_packet(struct vici_client *vc, uint8_t type, const char *name, int with_noblock,
                        uint8_t expect)
{
    struct vici_enc e;
    if (vc->npending >= MAX_PENDING)
        return -1;
    vici_enc_init(&e, vc->tx + vc->txlen, TX_CAP - vc->txlen, type, name);
    if (with_noblock)
        vici_enc_kv_str(&e, "noblock", "yes");
    long n = vici_enc_finish(&e);
    if (n < 0)
        return -1;
    vc->txlen += (size_t)n;
    vc->pending[vc->npending++] = expect;
    if (!vc->waiting_since_us)
        vc->waiting_since_us = idt_mono_us();
    return 0;
}

static void start_list(struct vici_client *vc)
{
    if (vc->listing || vc->fd < 0)
        return;
    /* noblock: charon does not wait for IKE SAs that are busy */
    if (queue_packet(vc, VICI_CMD_REQUEST, "list-sas", 1, 'c') < 0) {
        lose(vc, "internal: the request queue is full");
        return;
    }
    vici_sas_clear_sas(&vc->sas);
    vc->listing = 1;
    vc->relist_at_us = 0;
}

static int flush_tx(struct vici_client *vc)
{
    while (vc->txlen) {
        ssize_t n = send(vc->fd, vc->tx, vc->txlen, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            lose(vc, "write: %s", strerror(errno));
            return -1;
        }
        memmove(vc->tx, vc->tx + n, vc->txlen - (size_t)n);
        vc->txlen -= (size_t)n;
    }
    return 0;
}

static void try_connect(struct vici_client *vc, uint64_t now)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", vc->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed(vc, errno);
        schedule_retry(vc, now);
        return;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        connect_failed(vc, e);
        schedule_retry(vc, now);
        return;
    }
    vc->fd = fd;
    log_debug("ike: connected to VICI socket %s", vc->path);
    for (size_t i = 0; i < NREG; i++)
        if (queue_packet(vc, VICI_EVENT_REGISTER, reg_events[i], 0, 'r') < 0) {
            lose(vc, "internal: cannot queue the event registrations");
            return;
        }
    start_list(vc);
}

/* ------------------------------------------------------------ receiving */

static void on_event(struct vici_client *vc, const struct vici_packet *p, uint64_t now)
{
    char err[256];
    int r;
    if (strcmp(p->name, "list-sa") == 0) {
        if (!vc->listing)
            return;     /* not ours: a stray stream */
        r = vici_sas_add_list_sa(&vc->sas, p->msg, p->msglen, err, sizeof err);
    } else {
        r = vici_sas_add_event(&vc->sas, p->name, p->msg, p->msglen, err, sizeof err);
        if (r == VICI_SAS_OK && !vc->relist_at_us)
            vc->relist_at_us = now + VICI_COALESCE_MS * 1000ULL;
    }
    if (r == VICI_SAS_MALFORMED) {
        lose(vc, "%s", err);
    } else if (r == VICI_SAS_REFUSED) {
        unsigned sup = 0;
        if (log_limit_allow(&vc->refused_lim, 60, &sup))
            log_warn("ike: ignored part of a %s message from charon: %s (%u more not logged)",
                     p->name, err, sup);
    } else if (r == VICI_SAS_NOMEM) {
        log_err("ike: out of memory reading a %s message", p->name);
    }
}

static void on_packet(struct vici_client *vc, const uint8_t *buf, size_t len, uint64_t now)
{
    struct vici_packet p;
    int r = vici_packet_parse(buf, len, &p);
    if (r < 0) {
        lose(vc, "malformed packet: %s", vici_strerror(r));
        return;
    }
    if (p.type == VICI_EVENT) {
        on_event(vc, &p, now);
        return;
    }
    if (p.type != VICI_CMD_RESPONSE && p.type != VICI_CMD_UNKNOWN &&
        p.type != VICI_EVENT_CONFIRM && p.type != VICI_EVENT_UNKNOWN) {
        lose(vc, "unexpected packet type %u from the server", p.type);
        return;
    }
    int is_cmd = p.type == VICI_CMD_RESPONSE || p.type == VICI_CMD_UNKNOWN;
    if (vc->npending == 0 || (vc->pending[0] == 'c') != is_cmd) {
        lose(vc, "a reply of type %u that matches no request", p.type);
        return;
    }
    if ((r = vici_msg_check(p.msg, p.msglen)) < 0) {
        lose(vc, "malformed reply: %s", vici_strerror(r));
        return;
    }
    memmove(vc->pending, vc->pending + 1, (size_t)--vc->npending);
    vc->waiting_since_us = vc->npending ? now : 0;
    if (p.type == VICI_EVENT_UNKNOWN) {
        log_warn("ike: charon does not know one of the events ike-updown, child-updown, "
                 "ike-rekey, child-rekey, list-sa; IKE state may lag by ike.poll_interval");
        return;
    }
    if (p.type == VICI_CMD_UNKNOWN) {
        lose(vc, "charon does not know the list-sas command");
        return;
    }
    if (p.type == VICI_CMD_RESPONSE && vc->listing) {
        vc->listing = 0;
        if (vc->outage)
            log_notice("ike: connected to charon at %s (%zu IKE SAs)", vc->path, vc->sas.nsa);
        vc->outage = 0;
        vc->lost_delivered = 0;
        vc->backoff_s = VICI_BACKOFF_MIN_S;
        deliver_view(vc, 1);
        vc->next_poll_us = now + vc->poll_s * 1000000ULL;
    }
}

static void read_input(struct vici_client *vc, uint64_t now)
{
    while (vc->fd >= 0) {
        uint8_t *dst;
        size_t want;
        if (vc->hdrlen < 4) {
            dst = vc->hdr + vc->hdrlen;
            want = 4 - vc->hdrlen;
        } else {
            dst = vc->rx + vc->rxlen;
            want = vc->rxwant - vc->rxlen;
        }
        ssize_t n = recv(vc->fd, dst, want, 0);
        if (n == 0) {
            lose(vc, "charon closed the connection");
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            lose(vc, "read: %s", strerror(errno));
            return;
        }
        if (!vc->waiting_since_us)
            vc->waiting_since_us = now;     /* a packet started: it must complete */
        if (vc->hdrlen < 4) {
            vc->hdrlen += (size_t)n;
            if (vc->hdrlen < 4)
                continue;
            long len = vici_frame_len(vc->hdr);
            if (len < 0) {
                uint32_t raw = (uint32_t)vc->hdr[0] << 24 | (uint32_t)vc->hdr[1] << 16 |
                               (uint32_t)vc->hdr[2] << 8 | vc->hdr[3];
                lose(vc, "a packet of %u bytes: %s", raw, vici_strerror((int)len));
                return;
            }
            vc->rxwant = (size_t)len;
            vc->rxlen = 0;
            continue;
        }
        vc->rxlen += (size_t)n;
        if (vc->rxlen < vc->rxwant)
            continue;
        vc->hdrlen = 0;
        vc->waiting_since_us = vc->npending ? now : 0;
        on_packet(vc, vc->rx, vc->rxlen, now);
    }
}

/* ------------------------------------------------------------ the thread */

static void take_config(struct vici_client *vc, uint64_t now)
{
    if (!atomic_exchange(&vc->changed, 0))
        return;
    pthread_mutex_lock(&vc->mu);
    int path_changed = strcmp(vc->path, vc->new_path) != 0;
    snprintf(vc->path, sizeof vc->path, "%s", vc->new_path);
    vc->explicit_path = vc->new_explicit;
    vc->poll_s = vc->new_poll_s;
    pthread_mutex_unlock(&vc->mu);
    if (!path_changed)
        return;
    int was = vc->fd >= 0;
    close_conn(vc);
    log_notice("ike: VICI socket is now %s", vc->path[0] ? vc->path : "none (IKE awareness off)");
    if (was) {
        deliver_view(vc, 0);
    }
    vc->outage = 0;
    vc->lost_delivered = 0;
    vc->backoff_s = VICI_BACKOFF_MIN_S;
    vc->retry_at_us = now;
}

static void *client_thread(void *arg)
{
    struct vici_client *vc = arg;
    while (!atomic_load(&vc->stop)) {
        uint64_t now = idt_mono_us();
        take_config(vc, now);
        if (vc->fd < 0 && vc->path[0] && now >= vc->retry_at_us)
            try_connect(vc, now);
        if (vc->fd >= 0) {
            if (!vc->listing && ((vc->relist_at_us && now >= vc->relist_at_us) ||
                                 now >= vc->next_poll_us))
                start_list(vc);
            if (vc->waiting_since_us && now > vc->waiting_since_us &&
                now - vc->waiting_since_us > VICI_REPLY_TIMEOUT_MS * 1000ULL)
                lose(vc, "no complete reply within %d s", VICI_REPLY_TIMEOUT_MS / 1000);
        }
        if (vc->fd >= 0)
            flush_tx(vc);

        /* sleep until input, a wake-up, or the next duty */
        uint64_t until = now + 1000000ULL;
        if (vc->fd < 0 && vc->path[0] && vc->retry_at_us < until)
            until = vc->retry_at_us;
        if (vc->fd >= 0 && !vc->listing) {
            if (vc->relist_at_us && vc->relist_at_us < until)
                until = vc->relist_at_us;
            if (vc->next_poll_us < until)
                until = vc->next_poll_us;
        }
        struct pollfd pfd[2] = {
            { .fd = vc->wake_fd, .events = POLLIN },
            { .fd = vc->fd, .events = (short)(POLLIN | (vc->txlen ? POLLOUT : 0)) },
        };
        int timeout = until > now ? (int)((until - now + 999) / 1000) : 0;
        int r = poll(pfd, vc->fd >= 0 ? 2 : 1, timeout);
        if (r > 0 && (pfd[0].revents & POLLIN)) {
            uint64_t v;
            while (read(vc->wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
                ;
        }
        if (r > 0 && vc->fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
            read_input(vc, idt_mono_us());
    }
    close_conn(vc);
    return NULL;
}

/* ------------------------------------------------------------ API */

static void copy_config(struct vici_client *vc, const struct idt_config *cfg)
{
    pthread_mutex_lock(&vc->mu);
    snprintf(vc->new_path, sizeof vc->new_path, "%s", cfg->ike_vici);
    vc->new_explicit = cfg->ike_vici_set;
    vc->new_poll_s = cfg->ike_poll_interval ? cfg->ike_poll_interval : 10;
    pthread_mutex_unlock(&vc->mu);
    atomic_store(&vc->changed, 1);
}

struct vici_client *vici_client_start(const struct idt_config *cfg, vici_deliver_fn deliver,
                                      void *ctx, char *err, size_t errlen)
{
    struct vici_client *vc = calloc(1, sizeof *vc);
    if (!vc || !(vc->rx = malloc(VICI_MAX_PACKET))) {
        snprintf(err, errlen, "ike: out of memory");
        free(vc);
        return NULL;
    }
    vc->deliver = deliver;
    vc->ctx = ctx;
    vc->fd = -1;
    vc->backoff_s = VICI_BACKOFF_MIN_S;
    vici_sas_init(&vc->sas);
    pthread_mutex_init(&vc->mu, NULL);
    vc->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (vc->wake_fd < 0) {
        snprintf(err, errlen, "ike: eventfd: %s", strerror(errno));
        goto fail;
    }
    copy_config(vc, cfg);
    /* the first path is taken quietly (no "is now" line) */
    snprintf(vc->path, sizeof vc->path, "%s", cfg->ike_vici);
    take_config(vc, 0);
    if (pthread_create(&vc->th, NULL, client_thread, vc) != 0) {
        snprintf(err, errlen, "ike: cannot start the VICI client thread");
        close(vc->wake_fd);
        goto fail;
    }
    return vc;
fail:
    pthread_mutex_destroy(&vc->mu);
    free(vc->rx);
    free(vc);
    return NULL;
}

void vici_client_set_config(struct vici_client *vc, const struct idt_config *cfg)
{
    if (!vc)
        return;
    copy_config(vc, cfg);
    wake(vc->wake_fd);
}

void vici_client_stop(struct vici_client *vc)
{
    if (!vc)
        return;
    atomic_store(&vc->stop, 1);
    wake(vc->wake_fd);
    pthread_join(vc->th, NULL);
    close(vc->wake_fd);
    pthread_mutex_destroy(&vc->mu);
    vici_sas_free(&vc->sas);
    free(vc->rx);
    free(vc);
}
