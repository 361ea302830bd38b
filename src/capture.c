/* capture.c - the daemon's capture thread.
 *
 * The thread owns the engine: pcap -> engine_packet (allocation-free),
 * once a second pcap_stats + engine_tick + snapshot publication.  It
 * reports alerts and drops to the agent thread through the queue. */
#include "idt_build.h"
#include "capture.h"
#include "capture_open.h"
#include "clock.h"
#include "engine_ike.h"
#include "event_log.h"
#include "local_addrs.h"
#include "log.h"
#include "snapshot.h"
#include "state_file.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ the thread */

struct capture {
    pthread_t th;
    struct queue *q;
    const struct idt_config *cfg;
    _Atomic(const struct idt_config *) pending;
    atomic_int stop;
    pcap_t *p;
    int dlt;
    struct engine eng;
    struct event_log *elog;
    char elog_path[4096];
    struct drop_state drops;
    uint64_t drop_total;            /* kernel drops over every handle, 64-bit */
    uint32_t last_raw_drop;         /* the current handle's 32-bit counter */
    uint64_t batch_mono_us;         /* CLOCK_MONOTONIC time of the packets being read */
    uint64_t ev_real_us;            /* wall-clock time for event-log lines */
    uint64_t last_publish_packets;
    uint64_t next_publish_us;       /* adaptive: builds cost at most ~5% of a core */
    int dirty;                      /* an event changed figures without a packet */
    uint64_t last_build_us;
    uint64_t retry_at, backoff_s;
    int open_failed_logged;
    int wake_fd;                    /* eventfd: stop or a new config */
    /* "discovered"/"aged out" lines: one by one up to TUNNEL_LINES_PER_S a
     * second, the rest counted and summed up once a second (a spray of
     * sources or a mass ageing must not become a syslog flood) */
    uint32_t new_lines, aged_lines;
    uint64_t new_quiet, aged_quiet;
    struct state_file *state;       /* tunnel identities across restarts */
    /* IKE views from the VICI client: the newest waits here (ike_mu);
     * a newer one replaces it, taking over its events */
    pthread_mutex_t ike_mu;
    struct ike_view *ike_pending;
    uint64_t ike_due;               /* apply the waiting view from then on (apply_ike) */
    uint64_t ike_waiting_since;     /* a view has been waiting since then; 0 = none */
};

static void drain_wake(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) == (ssize_t)sizeof v)
        ;
}

/* At start and whenever a config is applied (every SIGHUP): the same path
 * is opened again, so that a file renamed by logrotate is left behind. */
static void open_event_log(struct capture *c)
{
    const char *path = c->cfg->event_log;
    if (c->elog && !strcmp(path, c->elog_path)) {
        event_log_reopen(c->elog);
        return;
    }
    event_log_close(c->elog);
    c->elog = NULL;
    c->elog_path[0] = '\0';
    c->eng.want_ranges = 0;
    if (!path[0])
        return;
    char err[512];
    c->elog = event_log_open(path, err, sizeof err);
    if (!c->elog) {
        log_err("%s; gap logging is off, capture and SNMP go on", err);
        return;
    }
    snprintf(c->elog_path, sizeof c->elog_path, "%s", path);
    c->eng.want_ranges = 1;
}

#define TUNNEL_LINES_PER_S 20u

static void tunnel_lines_summary(struct capture *c)
{
    if (c->new_quiet)
        log_info("%llu more tunnels discovered in the last second (logged one by one up to %u "
                 "a second)", (unsigned long long)c->new_quiet, TUNNEL_LINES_PER_S);
    if (c->aged_quiet)
        log_info("%llu more discovered tunnels aged out in the last second (logged one by one "
                 "up to %u a second)", (unsigned long long)c->aged_quiet, TUNNEL_LINES_PER_S);
    c->new_lines = c->aged_lines = 0;
    c->new_quiet = c->aged_quiet = 0;
}

static void on_engine_event(void *ctx, const struct engine_event *ev)
{
    struct capture *c = ctx;
    if (ev->kind != ENGINE_EV_LOST && ev->kind != ENGINE_EV_LATE)
        c->dirty = 1;
    switch (ev->kind) {
    case ENGINE_EV_ALERT: {
        struct msg m;
        memset(&m, 0, sizeof m);
        m.type = MSG_ALERT;
        m.index = ev->tunnel->index;
        memcpy(m.name, ev->tunnel->name, sizeof m.name);
        m.time_us = ev->time_us;
        m.event = ev->alert;
        m.lost = ev->fig.lost;
        m.total_lost = ev->tunnel->in.lost;
        m.interval_s = ev->fig.interval_s;
        m.rate_ppm = ev->fig.rate_ppm;
        struct alert_params ap;
        tunnel_alert_params(c->cfg, ev->tunnel, &ap);
        m.threshold = ap.lost;
        m.threshold_ppm = ap.ppm;
        m.received = ev->fig.received;
        m.criterion = ev->fig.criterion;
        m.reminders = ev->fig.reminders;
        m.lost_while_dropping = ev->tunnel->lost_while_dropping;
        m.local = ev->tunnel->local;
        m.remote = ev->tunnel->remote;
        m.spi = ev->tunnel->spi_hint;
        if (queue_push(c->q, &m) < 0)
            log_warn("event queue full: alert for tunnel %s dropped", ev->tunnel->name);
        break;
    }
    case ENGINE_EV_LOST:
    case ENGINE_EV_LATE:
        if (c->elog && ev->sa) {
            struct idt_addr s = { .family = ev->sa->key.family }, d = { .family = ev->sa->key.family };
            memcpy(s.a, ev->sa->key.src, 16);
            memcpy(d.a, ev->sa->key.dst, 16);
            event_log_gap(c->elog, c->ev_real_us, ev->tunnel ? ev->tunnel->name : "", &s, &d,
                          ev->sa->key.spi, ev->first_seq, ev->last_seq,
                          ev->kind == ENGINE_EV_LOST ? "lost" : "late");
        }
        break;
    case ENGINE_EV_SA_UNTRACKED:
        log_warn("SA table full (loss.max_sas = %u): new SAs are counted in ipsecDiagUntrackedSAs, "
                 "not tracked", c->cfg->max_sas);
        break;
    case ENGINE_EV_SA_PRESSURE: {
        struct msg m = { .type = MSG_SA_PRESSURE, .time_us = ev->time_us,
                         .evicted = c->eng.st.sas_evicted, .refused = c->eng.st.untracked_sas,
                         .active_sas = sa_table_count(c->eng.sas),
                         .tentative_sas = sa_table_tentative_count(c->eng.sas),
                         .max_sas = sa_table_capacity(c->eng.sas) };
        queue_push(c->q, &m);
        break;
    }
    case ENGINE_EV_TUNNEL_IDLE:
    case ENGINE_EV_TUNNEL_ACTIVE: {
        struct msg m = { .type = MSG_TUNNEL_STATE, .index = ev->tunnel->index,
                         .time_us = ev->time_us, .event = ev->tunnel->notified_state,
                         .prev_state = ev->prev_state,
                         .interval_s = tunnel_idle_timeout(c->cfg, ev->tunnel),
                         .last_seen_us = ev->tunnel->last_seen_us,
                         .local = ev->tunnel->local, .remote = ev->tunnel->remote };
        memcpy(m.name, ev->tunnel->name, sizeof m.name);
        if (queue_push(c->q, &m) < 0)
            log_warn("event queue full: state change of tunnel %s dropped", ev->tunnel->name);
        break;
    }
    case ENGINE_EV_IKE_UP:
    case ENGINE_EV_IKE_DOWN: {
        struct msg m = { .type = MSG_TUNNEL_IKE, .index = ev->tunnel->index,
                         .time_us = ev->time_us, .event = ev->tunnel->ike_state,
                         .prev_state = ev->prev_state,
                         .local = ev->tunnel->local, .remote = ev->tunnel->remote };
        memcpy(m.name, ev->tunnel->name, sizeof m.name);
        if (queue_push(c->q, &m) < 0)
            log_warn("event queue full: IKE %s of tunnel %s dropped",
                     ev->kind == ENGINE_EV_IKE_UP ? "up" : "down", ev->tunnel->name);
        break;
    }
    case ENGINE_EV_TUNNEL_NEW:
        if (c->new_lines++ < TUNNEL_LINES_PER_S)
            log_info("discovered tunnel %s (index %u)", ev->tunnel->name, ev->tunnel->index);
        else
            c->new_quiet++;
        break;
    case ENGINE_EV_TUNNEL_REMOVED:
        if (c->aged_lines++ < TUNNEL_LINES_PER_S)
            log_info("discovered tunnel %s (index %u) aged out", ev->tunnel->name,
                     ev->tunnel->index);
        else
            c->aged_quiet++;
        break;
    default:
        break;
    }
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct capture *c = (struct capture *)(void *)user;
    /* The engine runs on the monotonic clock read once per batch; the
     * packet's own (wall-clock) stamp only dates event-log lines. */
    c->ev_real_us = (uint64_t)h->ts.tv_sec * 1000000ULL + (uint64_t)h->ts.tv_usec;
    engine_packet(&c->eng, c->dlt, c->batch_mono_us, data, h->caplen, h->len);
}

static void try_open(struct capture *c, uint64_t now)
{
    char err[PCAP_ERRBUF_SIZE + 256];
    if (now < c->retry_at)
        return;
    c->p = capture_open_live(c->cfg->interface, c->cfg->snaplen, c->cfg->buffer_kb, err, sizeof err);
    if (!c->p) {
        c->backoff_s = c->backoff_s ? (c->backoff_s * 2 > 30 ? 30 : c->backoff_s * 2) : 1;
        c->retry_at = now + c->backoff_s * 1000000ULL;
        if (!c->open_failed_logged)
            log_err("%s; retrying with backoff (up to every 30 s)", err);
        c->open_failed_logged = 1;
        return;
    }
    c->dlt = pcap_datalink(c->p);
    if (!esp_dlt_supported(c->dlt))
        log_warn("capture on %s: link type %d is not supported; nothing will be counted",
                 c->cfg->interface, c->dlt);
    if (c->open_failed_logged)
        log_notice("capture on %s resumed", c->cfg->interface);
    else
        log_info("capturing on %s (link type %s, snaplen %u)", c->cfg->interface,
                 pcap_datalink_val_to_name(c->dlt) ? pcap_datalink_val_to_name(c->dlt) : "?",
                 c->cfg->snaplen);
    c->open_failed_logged = 0;
    c->backoff_s = 0;
    c->last_raw_drop = 0;   /* a new handle's counters start at 0; drop_total already has the old */
}

/* Before each batch: a rise of the kernel's drop counter sets the
 * engine's dropping flag at once (the packets after a drop reveal the gap
 * in this or a later batch; engine.h: such loss raises no alarm); the
 * policy and its notifications stay with read_stats() at the tick. */
static void note_drops(struct capture *c)
{
    struct pcap_stat ps;
    if (c->p && pcap_stats(c->p, &ps) == 0 && ps.ps_drop != c->last_raw_drop)
        c->eng.dropping = 1;
}

static void read_stats(struct capture *c, uint64_t now)
{
    if (c->p) {
        struct pcap_stat ps;
        if (pcap_stats(c->p, &ps) == 0) {
            /* ps_drop: frames that passed the filter but found no room in
             * the capture buffer.  ps_ifdrop (the interface's rx_dropped,
             * any protocol, e.g. frames of no use to the host) is not the
             * capture's loss and is left out. */
            uint32_t raw = ps.ps_drop;
            /* extend the 32-bit counter (it may wrap) */
            c->drop_total += (uint32_t)(raw - c->last_raw_drop);
            c->last_raw_drop = raw;
        }
    }
    c->eng.st.pcap_drops = c->drop_total;
    struct drop_figures f;
    enum drop_event ev = drop_update(&c->drops, now, c->eng.st.pcap_drops, &f);
    c->eng.dropping = f.dropping;
    if (ev == DROP_DROPPING || ev == DROP_STOPPED) {
        struct msg m;
        memset(&m, 0, sizeof m);
        m.type = ev == DROP_DROPPING ? MSG_DROPPING : MSG_DROPPING_CLEARED;
        m.time_us = now;
        m.drops = c->eng.st.pcap_drops;
        m.captured = c->eng.st.packets;
        queue_push(c->q, &m);
    }
}

/* Publish a new snapshot for SNMP: once a second while anything changes,
 * but never spending more than about 5% of the capture thread on it (a
 * build that took T waits 20 T before the next; with a million SAs the
 * figures are then a few seconds old instead of the capture dropping). */
static void publish(struct capture *c, uint64_t now, int force)
{
    if (!force) {
        if (now < c->next_publish_us)
            return;
        if (c->eng.st.packets == c->last_publish_packets && !c->dirty &&
            now - c->last_build_us < 10000000ULL)   /* sliding rates: every 10 s */
            return;
    }
    uint64_t t0 = idt_mono_us();
    struct snapshot *s = snapshot_build(&c->eng, now, c->eng.dropping);
    if (s) {
        snapshot_publish(s);
        c->last_publish_packets = c->eng.st.packets;
        c->last_build_us = now;
        c->dirty = 0;
    }
    uint64_t cost = idt_mono_us() - t0, wait = 20 * cost;
    c->next_publish_us = now + (wait > 1000000ULL ? wait : 1000000ULL) - 100000ULL;
}

/* Adopt a new config (reload) all or nothing: if the engine cannot take
 * it, the old one stays in force and the agent thread is told to drop
 * the new one; otherwise the agent may free the old one. */
static void apply_config(struct capture *c, const struct idt_config *nc, uint64_t now)
{
    const struct idt_config *old = c->cfg;
    struct msg m = { .type = MSG_CONFIG_RELEASED, .ptr = (void *)old };
    if (engine_reconfigure(&c->eng, nc) < 0) {
        m.type = MSG_CONFIG_REJECTED;
        m.ptr = (void *)nc;
    } else {
        int iface_changed = strcmp(old->interface, nc->interface) != 0 ||
                            old->snaplen != nc->snaplen || old->buffer_kb != nc->buffer_kb;
        state_file_set_dir(c->state, c->eng.tunnels, nc->state_dir);
        c->cfg = nc;
        open_event_log(c);
        if (iface_changed && c->p) {
            read_stats(c, now);     /* count the old handle's last drops */
            pcap_close(c->p);
            c->p = NULL;
            c->retry_at = 0;
        }
    }
    while (queue_push(c->q, &m) < 0 && !atomic_load(&c->stop))
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    publish(c, now, 1);
}

/* The VICI client's latest view, if one is waiting: applied to the
 * engine once every packet that reached the capture ring before charon
 * was read has been dispatched (a block is handed over at most
 * CAPTURE_TIMEOUT_MS after it opened), so that a gateway-drop reading
 * never misses captured packets charon already counted (engine_ike.h);
 * until then c->ike_due says when to look again.  Views that keep
 * replacing each other faster than that are not held back for longer
 * than IKE_APPLY_MAX_WAIT_US. */
#define IKE_APPLY_AFTER_US ((CAPTURE_TIMEOUT_MS + 20) * 1000ULL)
#define IKE_APPLY_MAX_WAIT_US 1000000ULL

static void apply_ike(struct capture *c, uint64_t now)
{
    c->ike_due = UINT64_MAX;
    if (!__atomic_load_n(&c->ike_pending, __ATOMIC_ACQUIRE)) {
        c->ike_waiting_since = 0;
        return;             /* the usual case: no lock taken */
    }
    pthread_mutex_lock(&c->ike_mu);
    struct ike_view *v = c->ike_pending;
    if (v && !c->ike_waiting_since)
        c->ike_waiting_since = now;
    if (v && c->p && now < v->taken_us + IKE_APPLY_AFTER_US &&
        now - c->ike_waiting_since < IKE_APPLY_MAX_WAIT_US) {
        c->ike_due = v->taken_us + IKE_APPLY_AFTER_US;
        v = NULL;           /* not yet: the ring may still hold such packets */
    } else {
        __atomic_store_n(&c->ike_pending, NULL, __ATOMIC_RELEASE);
        c->ike_waiting_since = 0;
    }
    pthread_mutex_unlock(&c->ike_mu);
    if (!v)
        return;
    if (engine_ike_apply(&c->eng, v, now) < 0)
        log_err("ike: out of memory applying IKE view %llu; the next one is applied in full",
                (unsigned long long)v->generation);
    log_debug("ike: view %llu: %zu IKE SAs, %zu children, %zu events%s",
              (unsigned long long)v->generation, v->nsa, v->nchild, v->nevent,
              v->connected ? "" : " (charon not connected)");
    ike_view_unref(v);
    c->dirty = 1;
}

static void *capture_thread(void *arg)
{
    struct capture *c = arg;
    uint64_t next_tick = idt_mono_us() + 1000000ULL;
    open_event_log(c);
    publish(c, idt_mono_us(), 1);
    while (!atomic_load(&c->stop)) {
        uint64_t now = idt_mono_us();
        const struct idt_config *nc = atomic_exchange(&c->pending, NULL);
        if (nc)
            apply_config(c, nc, now);
        apply_ike(c, now);
        if (!c->p)
            try_open(c, now);
        /* Sleep in poll() until the next duty (a kernel block of packets,
         * the once-a-second tick, an open retry, or a wake-up), so that an
         * idle capture costs one wake-up a second. */
        if (c->p) {
            struct pollfd pfd[2] = {
                { .fd = pcap_get_selectable_fd(c->p), .events = POLLIN },
                { .fd = c->wake_fd, .events = POLLIN },
            };
            uint64_t until = c->ike_due < next_tick ? c->ike_due : next_tick;
            int r = poll(pfd, 2, idt_poll_ms(now * 1000u, until * 1000u, 1000));
            if (r > 0 && (pfd[1].revents & POLLIN))
                drain_wake(c->wake_fd);
            c->batch_mono_us = now = idt_mono_us();
            if (r >= 0) {
                note_drops(c);
                int n = pcap_dispatch(c->p, -1, on_packet, (u_char *)(void *)c);
                if (n < 0) {
                    log_err("capture on %s failed: %s; retrying with backoff", c->cfg->interface,
                            pcap_geterr(c->p));
                    read_stats(c, now);
                    pcap_close(c->p);
                    c->p = NULL;
                    c->backoff_s = 1;
                    c->retry_at = now + 1000000ULL;
                    c->open_failed_logged = 1;
                }
            } else if (errno != EINTR) {
                nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
            }
        } else {
            /* no interface yet: sleep until the retry or the tick */
            struct pollfd pfd = { .fd = c->wake_fd, .events = POLLIN };
            uint64_t until = c->retry_at < next_tick ? c->retry_at : next_tick;
            if (poll(&pfd, 1, idt_poll_ms(now * 1000u, until * 1000u, 1000)) > 0)
                drain_wake(c->wake_fd);
        }
        now = idt_mono_us();
        if (now >= next_tick) {
            read_stats(c, now);
            c->ev_real_us = idt_real_us();
            engine_tick(&c->eng, now);
            tunnel_lines_summary(c);
            state_file_save(c->state, c->eng.tunnels, 0);
            event_log_flush(c->elog);
            publish(c, now, 0);
            next_tick = now + 1000000ULL;
        }
    }
    tunnel_lines_summary(c);
    event_log_close(c->elog);
    c->elog = NULL;
    state_file_close(c->state, c->eng.tunnels);
    c->state = NULL;
    if (c->p)
        pcap_close(c->p);
    c->p = NULL;
    return NULL;
}

struct capture *capture_start(const struct idt_config *cfg, struct queue *q, pcap_t *pre_opened,
                              char *err, size_t errlen)
{
    struct capture *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->q = q;
    c->cfg = cfg;
    pthread_mutex_init(&c->ike_mu, NULL);
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->wake_fd < 0) {
        snprintf(err, errlen, "capture: eventfd: %s", strerror(errno));
        free(c);
        return NULL;
    }
    uint64_t now = idt_mono_us();
    if (engine_init(&c->eng, cfg, 0, now) < 0) {
        snprintf(err, errlen, "out of memory for %u SAs (loss.max_sas)", cfg->max_sas);
        close(c->wake_fd);
        free(c);
        return NULL;
    }
    c->state = state_file_open(cfg->state_dir, c->eng.tunnels);
    c->eng.on_event = on_engine_event;
    c->eng.event_ctx = c;
    c->eng.is_local = local_addrs_has;
    struct drop_params dp;
    drop_params_default(&dp);
    drop_init(&c->drops, &dp, now, 0);
    if (pre_opened) {
        c->p = pre_opened;
        c->dlt = pcap_datalink(c->p);
        log_info("capturing on %s (link type %s, snaplen %u)", cfg->interface,
                 pcap_datalink_val_to_name(c->dlt) ? pcap_datalink_val_to_name(c->dlt) : "?",
                 cfg->snaplen);
    }
    if (pthread_create(&c->th, NULL, capture_thread, c) != 0) {
        snprintf(err, errlen, "cannot start the capture thread");
        state_file_close(c->state, c->eng.tunnels);
        engine_free(&c->eng);
        close(c->wake_fd);
        free(c);
        return NULL;
    }
    return c;
}

static void wake(struct capture *c)
{
    uint64_t one = 1;
    if (write(c->wake_fd, &one, sizeof one) < 0) {
        /* EAGAIN: the counter is saturated, a wake-up is pending anyway */
    }
}

void capture_reconfigure(struct capture *c, const struct idt_config *cfg)
{
    atomic_store(&c->pending, cfg);
    wake(c);
}

void capture_ike_update(struct capture *c, struct ike_view *v)
{
    pthread_mutex_lock(&c->ike_mu);
    struct ike_view *old = c->ike_pending;
    if (old && old->nevent) {
        struct ike_view *m = ike_view_merge_events(old, v);
        if (m) {
            ike_view_unref(v);
            v = m;
        } else {
            log_err("ike: out of memory: %zu IKE events of view %llu are lost", old->nevent,
                    (unsigned long long)old->generation);
        }
    }
    __atomic_store_n(&c->ike_pending, v, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->ike_mu);
    ike_view_unref(old);
    wake(c);
}

void capture_stop(struct capture *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    wake(c);
    pthread_join(c->th, NULL);
    ike_view_unref(c->ike_pending);
    pthread_mutex_destroy(&c->ike_mu);
    engine_free(&c->eng);
    close(c->wake_fd);
    free(c);
}
