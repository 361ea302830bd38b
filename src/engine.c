/* engine.c - per-packet analysis: parse, SA lookup, replay window, tunnel
 * totals, alert policy.  Allocation-free per packet; O(1) per packet; a
 * tick does a fixed amount of work (engine.h).  The SA table policy
 * (tentative SAs, eviction, the reserve of configured tunnels) is
 * described in engine.h. */
#include "engine.h"
#include "engine_ike.h"

#include <string.h>

#define TICK_US 1000000ULL

static void emit(struct engine *e, struct engine_event *ev)
{
    if (e->on_event)
        e->on_event(e->event_ctx, ev);
}

/* Slots of the SA table reserved for the SAs of configured tunnels. */
static uint32_t reserve_for(const struct idt_config *cfg)
{
    uint64_t r = (uint64_t)cfg->ntunnels * ENGINE_RESERVE_PER_TUNNEL;
    return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;     /* the table clamps */
}

int engine_init(struct engine *e, const struct idt_config *cfg, uint32_t window,
                uint64_t now_us)
{
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    e->sas = sa_table_create(cfg->max_sas, window ? window : cfg->window);
    e->tunnels = tunnel_table_create(cfg, cfg->max_tunnels, now_us);
    if (!e->sas || !e->tunnels) {
        engine_free(e);
        return -1;
    }
    engine_set_reserve(e);
    e->now_us = now_us;
    e->last_tick_us = now_us;
    e->watch_head = e->watch_tail = ENGINE_NO_SLOT;
    idle_wheel_init(&e->idle, now_us / TICK_US);
    return 0;
}

void engine_set_reserve(struct engine *e)
{
    uint64_t r = (uint64_t)reserve_for(e->cfg) + engine_ike_reserve(e);
    sa_table_set_reserve(e->sas, r > UINT32_MAX ? UINT32_MAX : (uint32_t)r);
}

void engine_free(struct engine *e)
{
    engine_ike_free(e);
    sa_table_destroy(e->sas);
    tunnel_table_destroy(e->tunnels);
    e->sas = NULL;
    e->tunnels = NULL;
}

struct range_ctx {
    struct engine *e;
    const struct sa_entry *sa;
    const struct tunnel *tu;
    uint64_t ts;
};

static void on_lost_range(void *ctx, uint64_t first, uint64_t last)
{
    struct range_ctx *rc = ctx;
    struct engine_event ev = {
        .kind = ENGINE_EV_LOST, .time_us = rc->ts, .tunnel = rc->tu, .sa = rc->sa,
        .first_seq = first, .last_seq = last,
    };
    emit(rc->e, &ev);
}

/* ------------------------------------------------------------ watch list */

static int needs_watch(const struct tunnel *tu)
{
    return alert_pending(&tu->alert) ||
           (tu->origin == TUNNEL_DISCOVERED && tu->active_sas == 0 && !tu->ike_live) ||
           tu->state != tu->notified_state;
}

static void watch_add(struct engine *e, struct tunnel *tu)
{
    if (tu->watched)
        return;
    uint32_t s = tunnel_table_slot(e->tunnels, tu);
    tu->watched = 1;
    tu->watch_next = ENGINE_NO_SLOT;
    tu->watch_prev = e->watch_tail;
    if (e->watch_tail != ENGINE_NO_SLOT)
        tunnel_table_at(e->tunnels, e->watch_tail)->watch_next = s;
    else
        e->watch_head = s;
    e->watch_tail = s;
    e->watch_len++;
}

static void watch_del(struct engine *e, struct tunnel *tu)
{
    if (!tu->watched)
        return;
    if (tu->watch_prev != ENGINE_NO_SLOT)
        tunnel_table_at(e->tunnels, tu->watch_prev)->watch_next = tu->watch_next;
    else
        e->watch_head = tu->watch_next;
    if (tu->watch_next != ENGINE_NO_SLOT)
        tunnel_table_at(e->tunnels, tu->watch_next)->watch_prev = tu->watch_prev;
    else
        e->watch_tail = tu->watch_prev;
    tu->watched = 0;
    e->watch_len--;
}

void engine_watch(struct engine *e, struct tunnel *tu)
{
    if (needs_watch(tu))
        watch_add(e, tu);
}

/* After the slots were renumbered (reconfigure): O(tunnels), once. */
static void watch_rebuild(struct engine *e)
{
    e->watch_head = e->watch_tail = ENGINE_NO_SLOT;
    e->watch_len = 0;
    uint32_t n = tunnel_table_slots(e->tunnels);
    for (uint32_t s = 0; s < n; s++) {
        struct tunnel *tu = tunnel_table_at(e->tunnels, s);
        if (!tu)
            continue;
        tu->watched = 0;
        if (needs_watch(tu))
            watch_add(e, tu);
    }
}

/* ------------------------------------------------------------ idle wheel */

/* An active tunnel with an idle timeout waits in the idle wheel for the
 * second its timeout would run out after its packet at last_us. */
static void idle_arm(struct engine *e, struct tunnel *tu, uint64_t last_us)
{
    uint64_t idle = tunnel_idle_timeout(e->cfg, tu);
    if (tu->state != TUNNEL_ACTIVE || !idle)
        return;
    idle_wheel_add(&e->idle, e->tunnels, tu, (last_us + TICK_US - 1) / TICK_US + idle);
}

/* tu->state changed: a tunnel that announces its changes waits on the
 * watch list for a tick to do it; the others record it at once. */
static void state_changed(struct engine *e, struct tunnel *tu)
{
    if (!tunnel_idle_alerts(e->cfg, tu))
        tu->notified_state = tu->state;
    else if (needs_watch(tu))
        watch_add(e, tu);
}

/* A packet of a tunnel that was not active (O(1), nothing is emitted). */
static void become_active(struct engine *e, struct tunnel *tu, uint64_t ts)
{
    tu->state = TUNNEL_ACTIVE;
    state_changed(e, tu);
    idle_arm(e, tu, ts);
}

/* The tunnels of the idle wheel whose second has come, at most
 * ENGINE_TICK_IDLE: idle if their last packet is at least their idle
 * timeout old, else back in the wheel at their new deadline. */
static void tick_idle(struct engine *e, uint64_t now)
{
    for (uint32_t n = 0; n < ENGINE_TICK_IDLE; n++) {
        struct tunnel *tu = idle_wheel_pop(&e->idle, e->tunnels, now / TICK_US);
        if (!tu)
            return;
        uint64_t idle = (uint64_t)tunnel_idle_timeout(e->cfg, tu) * TICK_US;
        if (tu->state != TUNNEL_ACTIVE || !idle)
            continue;
        if (now >= tu->last_seen_us + idle) {
            tu->state = TUNNEL_IDLE;
            state_changed(e, tu);
        } else {
            idle_arm(e, tu, tu->last_seen_us);
        }
    }
}

/* After the slots were renumbered or the idle timeouts changed
 * (reconfigure): O(tunnels), once.  An idle tunnel whose timeout is now
 * 0 is active again, silently. */
static void idle_rebuild(struct engine *e)
{
    idle_wheel_init(&e->idle, e->idle.next_s);
    uint32_t n = tunnel_table_slots(e->tunnels);
    for (uint32_t s = 0; s < n; s++) {
        struct tunnel *tu = tunnel_table_at(e->tunnels, s);
        if (!tu)
            continue;
        tu->idle_queued = 0;
        if (tu->state == TUNNEL_IDLE && !tunnel_idle_timeout(e->cfg, tu))
            tu->state = tu->notified_state = TUNNEL_ACTIVE;
        idle_arm(e, tu, tu->last_seen_us);
    }
}

/* ------------------------------------------------------------ packets */

static void credit_lost(struct engine *e, struct tunnel *tu, const struct sa_entry *sa,
                        uint64_t lost, uint64_t ts)
{
    if (!lost)
        return;
    if (sa->direction == SA_INBOUND) {
        tu->in.lost += lost;
        if (e->dropping)
            tu->lost_while_dropping += lost;    /* not an alarm: engine.h */
        else {
            alert_add(&tu->alert, ts, 0, (uint32_t)(lost > UINT32_MAX ? UINT32_MAX : lost));
            watch_add(e, tu);
        }
    } else {
        tu->out.lost += lost;
    }
}

/* rw_finish() dismisses a tentative far jump: its packets become suspect. */
static void credit_suspect(struct tunnel *tu, const struct sa_entry *sa, uint64_t n)
{
    if (sa->direction == SA_INBOUND)
        tu->in.suspect += n;
    else
        tu->out.suspect += n;
}

static void eval_alert(struct engine *e, struct tunnel *tu, uint64_t ts)
{
    struct engine_event ev = { .kind = ENGINE_EV_ALERT, .time_us = ts, .tunnel = tu };
    ev.alert = alert_eval(&tu->alert, ts, &ev.fig);
    if (ev.alert != ALERT_NONE)
        emit(e, &ev);
}

static void key_addrs(const struct sa_key *k, struct idt_addr *src, struct idt_addr *dst)
{
    src->family = dst->family = k->family;
    memcpy(src->a, k->src, 16);
    memcpy(dst->a, k->dst, 16);
}

/* Create the discovered tunnel of a new address pair; NULL at the cap. */
static struct tunnel *discover(struct engine *e, const struct idt_addr *src,
                               const struct idt_addr *dst, uint64_t ts)
{
    const struct idt_addr *local, *remote;
    if (e->is_local && e->is_local(e->local_ctx, dst)) {
        local = dst;
        remote = src;
    } else if (e->is_local && e->is_local(e->local_ctx, src)) {
        local = src;
        remote = dst;
    } else if (idt_addr_cmp(src, dst) <= 0) {
        local = src;
        remote = dst;
    } else {
        local = dst;
        remote = src;
    }
    return engine_add_tunnel(e, local, remote, ts);
}

struct tunnel *engine_add_tunnel(struct engine *e, const struct idt_addr *local,
                                 const struct idt_addr *remote, uint64_t ts)
{
    struct tunnel *tu = tunnel_table_add_discovered(e->tunnels, local, remote, ts);
    if (!tu)
        return NULL;
    struct alert_params ap;
    tunnel_alert_params(e->cfg, tu, &ap);
    alert_init(&tu->alert, &ap, ts);
    struct engine_event ev = { .kind = ENGINE_EV_TUNNEL_NEW, .time_us = ts, .tunnel = tu };
    emit(e, &ev);
    return tu;
}

/* Direction of an SA in its tunnel: IKE's if it knows the SPI, else
 * toward the tunnel's local address is inbound. */
static uint8_t sa_direction(const struct engine *e, const struct sa_entry *ent,
                            const struct tunnel *tu)
{
    int d = engine_ike_known_dir(e, &ent->key);
    if (d)
        return (uint8_t)d;
    struct idt_addr src, dst;
    key_addrs(&ent->key, &src, &dst);
    return idt_addr_eq(&dst, &tu->local) ? SA_INBOUND : SA_OUTBOUND;
}

/* Attach a new SA to its tunnel tu (from tunnel_table_find; NULL: create
 * a discovered one); returns NULL if no tunnel can be had. */
static struct tunnel *attach(struct engine *e, struct sa_entry *ent, struct tunnel *tu,
                             uint64_t ts)
{
    struct idt_addr src, dst;
    key_addrs(&ent->key, &src, &dst);
    if (!tu && !(tu = discover(e, &src, &dst, ts)))
        return NULL;
    ent->tunnel = tunnel_table_slot(e->tunnels, tu);
    ent->direction = sa_direction(e, ent, tu);
    tu->active_sas++;
    if (ent->flags & SA_F_TENTATIVE)
        tu->tentative_sas++;
    tu->sas_seen++;
    tu->newest_sa_us = ts;
    return tu;
}

/* An SA leaves the table (idle expiry, or eviction of a tentative SA):
 * the holes still in its window are lost, its tunnel forgets it. */
static void retire_sa(struct engine *e, struct sa_entry *ent, uint64_t now, int evicted)
{
    struct tunnel *tu = tunnel_table_at(e->tunnels, ent->tunnel);
    uint64_t lost, suspect = ent->rw.suspect;
    if (e->want_ranges) {
        struct range_ctx rc = { e, ent, tu, now };
        lost = rw_finish(&ent->rw, ent->bits, on_lost_range, &rc);
    } else {
        lost = rw_finish(&ent->rw, ent->bits, NULL, NULL);
    }
    if (tu) {
        credit_suspect(tu, ent, ent->rw.suspect - suspect);
        credit_lost(e, tu, ent, lost, now);
        if (lost && ent->direction == SA_INBOUND)
            eval_alert(e, tu, now);
        if (tu->active_sas)
            tu->active_sas--;
        if ((ent->flags & SA_F_TENTATIVE) && tu->tentative_sas)
            tu->tentative_sas--;
        if (evicted)
            tu->evicted_sas++;
        if (needs_watch(tu))
            watch_add(e, tu);
    }
    struct engine_event ev = { .kind = evicted ? ENGINE_EV_SA_EVICTED : ENGINE_EV_SA_EXPIRED,
                               .time_us = now, .tunnel = tu, .sa = ent };
    emit(e, &ev);
    if (evicted)
        e->st.sas_evicted++;
    else
        e->st.sas_expired++;
    sa_table_remove(e->sas, ent);
}

/* The first packet of an SA not in the table: admit it (evicting the
 * oldest tentative SA it may displace if the table is full) or refuse
 * it.  Returns the new entry and its tunnel, or NULL (counted). */
static struct sa_entry *new_sa(struct engine *e, const struct sa_key *key, uint8_t encap,
                               uint64_t ts, struct tunnel **tup)
{
    struct idt_addr src, dst;
    key_addrs(key, &src, &dst);
    struct tunnel *known = tunnel_table_find(e->tunnels, &src, &dst);
    enum sa_class cls = (known && known->origin == TUNNEL_CONFIGURED) ||
                        engine_ike_known_dir(e, key) ? SA_CLASS_RESERVED : SA_CLASS_OPEN;
    struct sa_entry *victim, *ent = NULL;
    if (sa_table_admit(e->sas, cls, &victim) || victim) {
        if (victim) {
            /* evict only for an SA that can have a tunnel */
            if (!known && !(known = discover(e, &src, &dst, ts))) {
                e->st.untracked_tunnels++;
                return NULL;
            }
            retire_sa(e, victim, ts, 1);
        }
        ent = sa_table_insert_class(e->sas, key, cls, NULL);
    }
    if (!ent) {
        e->st.untracked_sas++;
        if (known)
            known->refused_pkts++;
        if (!e->untracked_logged) {
            e->untracked_logged = 1;
            struct engine_event ev = { .kind = ENGINE_EV_SA_UNTRACKED, .time_us = ts, .tunnel = known };
            emit(e, &ev);
        }
        return NULL;
    }
    ent->encap = encap;
    ent->first_seen_s = (uint32_t)(ts / 1000000ULL);
    struct tunnel *tu = attach(e, ent, known, ts);
    if (!tu) {
        sa_table_remove(e->sas, ent);
        e->st.untracked_tunnels++;
        return NULL;
    }
    *tup = tu;
    return ent;
}

void engine_packet(struct engine *e, int dlt, uint64_t ts, const uint8_t *data,
                   uint32_t caplen, uint32_t wirelen)
{
    struct esp_pkt p;

    e->st.packets++;
    switch (esp_parse(dlt, data, caplen, wirelen, &p, NULL)) {
    case ESP_OK:
        break;
    case ESP_IGNORED:
        e->st.ignored++;
        return;
    default:
        e->st.malformed++;
        return;
    }
    e->st.esp++;
    if (ts > e->now_us)
        e->now_us = ts;
    if (e->now_us - e->last_tick_us >= TICK_US)
        engine_tick(e, e->now_us);

    struct sa_key key;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    {   /* built as five words (family, pad, spi | src | dst): no partial stores */
        uint64_t w[5];
        w[0] = (uint64_t)p.family | ((uint64_t)p.spi << 32);
        memcpy(&w[1], p.src, 8);
        memcpy(&w[2], p.src + 8, 8);
        memcpy(&w[3], p.dst, 8);
        memcpy(&w[4], p.dst + 8, 8);
        memcpy(&key, w, sizeof key);
    }
#else
    memset(&key, 0, sizeof key);
    key.family = p.family;
    key.spi = p.spi;
    memcpy(key.src, p.src, 16);
    memcpy(key.dst, p.dst, 16);
#endif

    struct tunnel *tu;
    struct sa_entry *ent = sa_table_find(e->sas, &key);
    if (!ent) {
        ent = new_sa(e, &key, p.encap, ts, &tu);
        if (!ent)
            return;
        if (ent->direction == SA_INBOUND)
            tu->spi_hint = p.spi;
        struct engine_event ev = { .kind = ENGINE_EV_SA_NEW, .time_us = ts, .tunnel = tu, .sa = ent };
        emit(e, &ev);
    } else {
        tu = tunnel_table_at(e->tunnels, ent->tunnel);
    }
    ent->last_seen_s = (uint32_t)(ts / 1000000ULL);
    ent->octets += p.ip_len;
    tu->last_seen_us = ts;
    if (tu->state != TUNNEL_ACTIVE)
        become_active(e, tu, ts);

    uint64_t lost = 0, s64 = 0, high0 = ent->rw.high;
    enum rw_kind kind;
    /* One packet can settle others (held ones of a tentative far jump):
     * the tunnel gets the SA's counter deltas, not just this kind. */
    const uint64_t late0 = ent->rw.late, dup0 = ent->rw.duplicate;
    const uint64_t reo0 = ent->rw.reordered, sus0 = ent->rw.suspect;
    if (e->want_ranges) {
        struct range_ctx rc = { e, ent, tu, ts };
        kind = rw_update(&ent->rw, ent->bits, p.seq, &lost, &s64, on_lost_range, &rc);
    } else {
        kind = rw_update(&ent->rw, ent->bits, p.seq, &lost, NULL, NULL, NULL);
    }
    /* confirmation: the highest sequence number moved forward by 1..W */
    if ((ent->flags & SA_F_TENTATIVE) && kind == RW_NEXT && ent->rw.high - high0 <= ent->rw.window) {
        sa_table_confirm(e->sas, ent);
        if (tu->tentative_sas)
            tu->tentative_sas--;
    }
    struct loss_counts *c = ent->direction == SA_INBOUND ? &tu->in : &tu->out;
    c->received++;
    c->octets += p.ip_len;
    c->late += ent->rw.late - late0;
    c->duplicate += ent->rw.duplicate - dup0;
    c->reordered += ent->rw.reordered - reo0;
    c->suspect += ent->rw.suspect - sus0;
    if (kind == RW_LATE && e->want_ranges) {
        struct engine_event ev = { .kind = ENGINE_EV_LATE, .time_us = ts, .tunnel = tu,
                                   .sa = ent, .first_seq = s64, .last_seq = s64 };
        emit(e, &ev);
    }
    if (ent->direction == SA_INBOUND) {
        tu->last_in_us = ts;
        alert_add(&tu->alert, ts, 1, 0);
        credit_lost(e, tu, ent, lost, ts);
        if (lost)
            eval_alert(e, tu, ts);
    } else {
        credit_lost(e, tu, ent, lost, ts);
    }
}

/* Tunnel state (engine.h): the token bucket of the announcements. */
static void refill_state_tokens(struct engine *e, uint64_t now)
{
    if (!e->state_refill_us) {
        e->state_refill_us = now;
        e->state_tokens = ENGINE_STATE_BURST;
        return;
    }
    if (now <= e->state_refill_us)
        return;
    uint64_t secs = (now - e->state_refill_us) / 1000000ULL;
    if (!secs)
        return;
    uint64_t t = e->state_tokens + secs * ENGINE_STATE_RATE;
    e->state_tokens = t > ENGINE_STATE_BURST ? ENGINE_STATE_BURST : (uint32_t)t;
    e->state_refill_us += secs * 1000000ULL;
}

/* Announce a changed state (engine.h), if a token is left; else the
 * tunnel stays on the watch list and tries again at a later tick. */
static void announce_state(struct engine *e, struct tunnel *tu, uint64_t now)
{
    if (tu->state == tu->notified_state)
        return;
    if (!tunnel_idle_alerts(e->cfg, tu)) {
        tu->notified_state = tu->state;
        return;
    }
    if (!e->state_tokens) {
        e->st.state_deferred++;
        return;
    }
    e->state_tokens--;
    struct engine_event ev = { .kind = tu->state == TUNNEL_IDLE ? ENGINE_EV_TUNNEL_IDLE
                                                               : ENGINE_EV_TUNNEL_ACTIVE,
                               .time_us = now, .tunnel = tu, .prev_state = tu->notified_state };
    tu->notified_state = tu->state;
    emit(e, &ev);
}

/* SA table pressure (engine.h): evictions or refusals since the last tick. */
static void tick_pressure(struct engine *e, uint64_t now)
{
    uint64_t mark = e->st.sas_evicted + e->st.untracked_sas;
    if (mark != e->pressure_mark) {
        e->pressure_mark = mark;
        e->pressure_last_us = now;
        e->pressure = 1;
    } else if (e->pressure && now - e->pressure_last_us >= ENGINE_PRESSURE_QUIET_US) {
        e->pressure = 0;
    }
    if (e->pressure && (!e->pressure_sent || now - e->pressure_sent_us >= ENGINE_PRESSURE_REPEAT_US)) {
        e->pressure_sent = 1;
        e->pressure_sent_us = now;
        struct engine_event ev = { .kind = ENGINE_EV_SA_PRESSURE, .time_us = now };
        emit(e, &ev);
    }
}

void engine_tick(struct engine *e, uint64_t now)
{
    if (now > e->now_us)
        e->now_us = now;
    now = e->now_us;
    e->last_tick_us = now;
    tick_pressure(e, now);

    uint64_t idle = (uint64_t)e->cfg->sa_idle_timeout * 1000000ULL;
    if (idle) {
        /* SA expiry: a cursor over the table, a fixed budget per tick */
        uint32_t visits = ENGINE_TICK_SA_VISITS, expires = ENGINE_TICK_SA_EXPIRES;
        uint32_t cur = e->expire_cursor;
        struct sa_entry *ent = NULL;
        while (visits && expires && (ent = sa_table_next(e->sas, &cur)) != NULL) {
            visits--;
            uint64_t last = (uint64_t)ent->last_seen_s * 1000000ULL;
            if (now > last && now - last > idle) {
                retire_sa(e, ent, now, 0);
                expires--;
            }
        }
        e->expire_cursor = ent ? cur : 0;
    }

    tick_idle(e, now);
    refill_state_tokens(e, now);
    /* the watch list, oldest first; those still watched go to the back */
    uint32_t n = e->watch_len < ENGINE_TICK_WATCH ? e->watch_len : ENGINE_TICK_WATCH;
    while (n--) {
        struct tunnel *tu = tunnel_table_at(e->tunnels, e->watch_head);
        watch_del(e, tu);
        eval_alert(e, tu, now);
        announce_state(e, tu, now);
        uint64_t last = tu->last_seen_us > tu->ike_seen_us ? tu->last_seen_us : tu->ike_seen_us;
        if (idle && tu->origin == TUNNEL_DISCOVERED && tu->active_sas == 0 && !tu->ike_live &&
            now > last && now - last > idle) {
            struct engine_event ev = { .kind = ENGINE_EV_TUNNEL_REMOVED, .time_us = now, .tunnel = tu };
            emit(e, &ev);
            idle_wheel_del(&e->idle, e->tunnels, tu);
            tunnel_table_remove(e->tunnels, tu);
        } else if (needs_watch(tu)) {
            watch_add(e, tu);
        }
    }
}

void engine_finish(struct engine *e)
{
    uint32_t cur = 0;
    struct sa_entry *ent;
    while ((ent = sa_table_next(e->sas, &cur)) != NULL) {
        struct tunnel *tu = tunnel_table_at(e->tunnels, ent->tunnel);
        uint64_t lost, suspect = ent->rw.suspect;
        if (e->want_ranges) {
            struct range_ctx rc = { e, ent, tu, e->now_us };
            lost = rw_finish(&ent->rw, ent->bits, on_lost_range, &rc);
        } else {
            lost = rw_finish(&ent->rw, ent->bits, NULL, NULL);
        }
        if (tu)
            credit_suspect(tu, ent, ent->rw.suspect - suspect);
        if (tu && lost) {
            if (ent->direction == SA_INBOUND)
                tu->in.lost += lost;
            else
                tu->out.lost += lost;
        }
    }
}

int engine_reconfigure(struct engine *e, const struct idt_config *cfg)
{
    /* All or nothing: the tunnel table allocates everything first (also
     * room for the tunnels that SAs of removed configured tunnels need), so
     * that after it succeeds, re-attaching the SAs by address pair (slots
     * were renumbered) allocates nothing and cannot fail halfway. */
    if (tunnel_table_reconfigure(e->tunnels, cfg, e->now_us) < 0)
        return -1;
    e->cfg = cfg;
    engine_set_reserve(e);
    uint32_t n = tunnel_table_slots(e->tunnels);
    for (uint32_t s = 0; s < n; s++) {
        struct tunnel *tu = tunnel_table_at(e->tunnels, s);
        if (tu)
            tu->active_sas = tu->tentative_sas = 0;
    }
    uint32_t cur = 0;
    struct sa_entry *ent;
    while ((ent = sa_table_next(e->sas, &cur)) != NULL) {
        struct idt_addr src, dst;
        key_addrs(&ent->key, &src, &dst);
        struct tunnel *tu = tunnel_table_find(e->tunnels, &src, &dst);
        if (tu) {
            ent->tunnel = tunnel_table_slot(e->tunnels, tu);
            ent->direction = sa_direction(e, ent, tu);
            tu->active_sas++;
            if (ent->flags & SA_F_TENTATIVE)
                tu->tentative_sas++;
        } else if (!attach(e, ent, NULL, e->now_us)) {
            sa_table_remove(e->sas, ent);
        }
    }
    engine_ike_reapply(e);
    idle_rebuild(e);
    watch_rebuild(e);
    return 0;
}
