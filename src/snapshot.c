/* snapshot.c - build, publish and share sorted snapshots. */
#include "snapshot.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *g_current;

static int cmp_tun(const void *pa, const void *pb)
{
    const struct snap_tunnel *a = pa, *b = pb;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* SA rows are ordered by a 16-byte key: (tunnel index, direction) in
 * `hi`, SPI and the slot to copy from in `lo` - sorting small keys and
 * copying each row once beats sorting the 80-byte rows themselves. */
struct sa_sort_key {
    uint64_t hi;
    uint32_t spi;
    uint32_t slot;
};

static int cmp_key(const void *pa, const void *pb)
{
    const struct sa_sort_key *a = pa, *b = pb;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    return a->spi < b->spi ? -1 : a->spi > b->spi;
}

static void free_snap(struct snapshot *s)
{
    if (!s)
        return;
    free(s->tun);
    free(s->sa);
    free(s->ike);
    free(s);
}

struct snapshot *snapshot_build(struct engine *e, uint64_t now_us, int dropping)
{
    struct snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    uint32_t nt = tunnel_table_count(e->tunnels), ns = sa_table_count(e->sas);
    s->tun = calloc(nt ? nt : 1, sizeof *s->tun);
    s->sa = calloc(ns ? ns : 1, sizeof *s->sa);
    if (!s->tun || !s->sa || engine_ike_rows(e, &s->ike, &s->nike) < 0) {
        free_snap(s);
        return NULL;
    }
    s->refs = 1;
    s->taken_us = now_us;
    s->st = e->st;
    s->window = sa_table_window(e->sas);
    s->active_sas = ns;
    s->tentative_sas = sa_table_tentative_count(e->sas);
    s->reserved_sas = sa_table_reserve(e->sas);
    s->sa_pressure = e->pressure;
    s->dropping = dropping;

    uint32_t slots = tunnel_table_slots(e->tunnels);
    for (uint32_t i = 0; i < slots && s->ntun < nt; i++) {
        const struct tunnel *tu = tunnel_table_at(e->tunnels, i);
        if (!tu)
            continue;
        struct snap_tunnel *st = &s->tun[s->ntun++];
        struct alert_figures f;
        alert_figures(&tu->alert, now_us, &f);
        st->index = tu->index;
        st->origin = tu->origin;
        st->alarm = (uint8_t)f.alarm;
        memcpy(st->name, tu->name, sizeof st->name);
        st->local = tu->local;
        st->remote = tu->remote;
        st->active_sas = tu->active_sas;
        st->in = tu->in;
        st->loss_rate_ppm = f.rate_ppm;
        st->interval_lost = f.lost > UINT32_MAX ? UINT32_MAX : (uint32_t)f.lost;
        st->lost_while_dropping = tu->lost_while_dropping;
        st->created_us = tu->created_us;
        st->tentative_sas = tu->tentative_sas;
        st->evicted_sas = tu->evicted_sas;
        st->refused_pkts = tu->refused_pkts;
        st->out = tu->out;
        st->state = tu->state;
        st->state_alerts = (uint8_t)tunnel_idle_alerts(e->cfg, tu);
        st->sas_seen = tu->sas_seen;
        st->last_seen_us = tu->last_seen_us;
        st->newest_sa_us = tu->newest_sa_us;
        st->idle_timeout_s = tunnel_idle_timeout(e->cfg, tu);
        struct alert_params ap;
        tunnel_alert_params(e->cfg, tu, &ap);
        st->alert_lost = ap.lost;
        st->alert_ppm = ap.ppm;
        st->alert_interval_s = f.interval_s;
        st->alert_min_pkts = ap.min_pkts;
        st->alerts_enabled = (uint8_t)(ap.enabled != 0);
        st->criterion = (uint8_t)f.criterion;
        st->interval_in = f.received > UINT32_MAX ? UINT32_MAX : (uint32_t)f.received;
        st->reminders = f.reminders;
        st->ike_state = tu->ike_state ? tu->ike_state : TUNNEL_IKE_NONE;
        st->ike_rekeys = tu->ike_rekeys;
        st->child_rekeys = tu->child_rekeys;
        st->gw_drops = tu->gw_drops;
    }
    struct sa_sort_key *keys = malloc((ns ? ns : 1) * sizeof *keys);
    const struct sa_entry **ents = malloc((ns ? ns : 1) * sizeof *ents);
    if (!keys || !ents) {
        free(keys);
        free(ents);
        free_snap(s);
        return NULL;
    }
    uint32_t cur = 0, n = 0;
    const struct sa_entry *ent;
    while ((ent = sa_table_next(e->sas, &cur)) != NULL && n < ns) {
        const struct tunnel *tu = tunnel_table_at(e->tunnels, ent->tunnel);
        if (!tu)
            continue;
        keys[n].hi = (uint64_t)tu->index << 8 | ent->direction;
        keys[n].spi = ent->key.spi;
        keys[n].slot = n;
        ents[n++] = ent;
    }
    qsort(keys, n, sizeof *keys, cmp_key);
    qsort(s->tun, s->ntun, sizeof *s->tun, cmp_tun);
    /* rows and tunnels are both in tunnel index order: one merge pass
     * gives each tunnel its range */
    size_t t = 0, out = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tindex = (uint32_t)(keys[i].hi >> 8);
        for (; t < s->ntun && s->tun[t].index < tindex; t++)
            if (s->tun[t].sa_count == 0)
                s->tun[t].sa_first = (uint32_t)out;
        if (t == s->ntun || s->tun[t].index != tindex)
            continue;                           /* cannot happen: the tunnel was copied */
        if (s->tun[t].sa_count++ == 0)
            s->tun[t].sa_first = (uint32_t)out;
        const struct sa_entry *en = ents[keys[i].slot];
        struct snap_sa *sa = &s->sa[out++];
        sa->spi = en->key.spi;
        sa->dir = en->direction;
        sa->encap = en->encap;
        sa->c.received = en->rw.received;
        sa->c.lost = en->rw.lost;
        sa->c.late = en->rw.late;
        sa->c.duplicate = en->rw.duplicate;
        sa->c.reordered = en->rw.reordered;
        sa->c.suspect = en->rw.suspect;
        sa->c.octets = en->octets;
        sa->high = en->rw.high;
        sa->first_s = en->first_seen_s;
        sa->last_s = en->last_seen_s;
    }
    for (; t < s->ntun; t++)
        if (s->tun[t].sa_count == 0)
            s->tun[t].sa_first = (uint32_t)out;
    s->nsa = out;
    free(keys);
    free(ents);
    return s;
}

void snapshot_publish(struct snapshot *s)
{
    pthread_mutex_lock(&g_lock);
    struct snapshot *old = g_current;
    g_current = s;
    int free_old = old && --old->refs == 0;
    pthread_mutex_unlock(&g_lock);
    if (free_old)
        free_snap(old);
}

struct snapshot *snapshot_acquire(void)
{
    pthread_mutex_lock(&g_lock);
    struct snapshot *s = g_current;
    if (s)
        s->refs++;
    pthread_mutex_unlock(&g_lock);
    return s;
}

void snapshot_release(struct snapshot *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&g_lock);
    int f = --s->refs == 0;
    pthread_mutex_unlock(&g_lock);
    if (f)
        free_snap(s);
}

void snapshot_clear(void)
{
    snapshot_publish(NULL);
}

size_t snapshot_tunnel_lower(const struct snapshot *s, uint32_t index, int strict)
{
    size_t lo = 0, hi = s->ntun;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t v = s->tun[mid].index;
        if (v < index || (strict && v == index))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t snapshot_sa_lower(const struct snapshot *s, uint32_t tindex, uint32_t dir,
                         uint32_t spi, int strict)
{
    size_t ti = snapshot_tunnel_lower(s, tindex, 0);
    if (ti >= s->ntun)
        return s->nsa;
    const struct snap_tunnel *t = &s->tun[ti];
    size_t lo = t->sa_first, hi = (size_t)t->sa_first + t->sa_count;
    if (t->index != tindex)         /* tindex has no row: the next tunnel's first */
        return lo;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct snap_sa *r = &s->sa[mid];
        int c = r->dir != dir ? (r->dir < dir ? -1 : 1)
              : r->spi != spi ? (r->spi < spi ? -1 : 1) : 0;
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct snap_tunnel *snapshot_sa_tunnel(const struct snapshot *s, size_t row)
{
    /* the last tunnel whose range starts at or before row: a tunnel
     * after the owner starts after the owner's last row */
    size_t lo = 0, hi = s->ntun;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->tun[mid].sa_first <= row)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || row >= s->nsa)
        return NULL;
    const struct snap_tunnel *t = &s->tun[lo - 1];
    return row - t->sa_first < t->sa_count ? t : NULL;
}

const struct ike_sa_row *snapshot_sa_ike(const struct snapshot *s, const struct snap_sa *sa)
{
    const struct snap_tunnel *t = snapshot_sa_tunnel(s, (size_t)(sa - s->sa));
    if (!t)
        return NULL;
    size_t lo = 0, hi = s->nike;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ike_sa_row *r = &s->ike[mid];
        int c = r->tindex != t->index ? (r->tindex < t->index ? -1 : 1)
              : r->dir != sa->dir ? (r->dir < sa->dir ? -1 : 1)
              : r->spi != sa->spi ? (r->spi < sa->spi ? -1 : 1) : 0;
        if (c == 0)
            return r;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void snapshot_sa_addrs(const struct snapshot *s, const struct snap_sa *sa,
                       const struct idt_addr **src, const struct idt_addr **dst)
{
    static const struct idt_addr none;
    const struct snap_tunnel *t = snapshot_sa_tunnel(s, (size_t)(sa - s->sa));
    if (!t) {
        *src = *dst = &none;
        return;
    }
    *src = sa->dir == SA_INBOUND ? &t->remote : &t->local;
    *dst = sa->dir == SA_INBOUND ? &t->local : &t->remote;
}
