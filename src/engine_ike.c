/* engine_ike.c - the engine's view of IKE (engine_ike.h): tunnels, names,
 * direction, IKE state, rekeys and gateway drops from the views of the
 * VICI client.  Everything here runs at apply time (a view every few
 * seconds at most); the per-packet path only reads the known-SPI hash
 * (engine_ike_known_dir, called for the first packet of a new SA). */
#include "engine_ike.h"
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* One direction of a child SA of an IKE pair. */
struct known {
    struct idt_addr local, remote;  /* the IKE pair, IKE's order */
    uint32_t spi;
    uint8_t dir;                    /* SA_INBOUND (spi-in) / SA_OUTBOUND (spi-out) */
    uint8_t live;                   /* in the last connected view */
    uint8_t based;                  /* baselines taken (inbound) */
    char name[IDT_NAME_MAX];        /* "ike/child" */
    uint32_t ike_uid;
    /* inbound: captured packets, summed over re-creations of the SA entry */
    uint64_t cap_acc, cap_last;
    uint64_t cap_base, charon_base;
    uint64_t gw_drops;
};

/* One address pair of the last view's IKE SAs. */
struct pair {
    struct idt_addr local, remote;
    char name[IDT_NAME_MAX];
    uint8_t state;                  /* enum tunnel_ike_state */
    uint32_t uid;                   /* IKE SA unique id (one of them) */
};

/* IKE SA unique id -> its pair (for events). */
struct uidref {
    uint32_t uid;
    uint32_t pair;
};

struct engine_ike {
    struct known *k;
    size_t nk;
    uint32_t *hash;                 /* known SPIs: index into k + 1; 0 empty */
    uint32_t hmask;
    struct pair *p;                 /* sorted by canonical pair */
    size_t np;
    struct uidref *u;               /* sorted by uid */
    size_t nu;
    int started;                    /* a connected view was applied */
};

/* ------------------------------------------------------------ helpers */

static void norm(struct idt_addr *a)
{
    if (a->family == 4)
        memset(a->a + 4, 0, 12);
    else if (a->family != 6)
        memset(a, 0, sizeof *a);
}

static int addr_cmp(const struct idt_addr *a, const struct idt_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->a, b->a, 16);
}

/* Order of unordered pairs: (lower, higher) address. */
static int pair_cmp(const struct idt_addr *a1, const struct idt_addr *b1,
                    const struct idt_addr *a2, const struct idt_addr *b2)
{
    const struct idt_addr *l1 = addr_cmp(a1, b1) <= 0 ? a1 : b1, *h1 = l1 == a1 ? b1 : a1;
    const struct idt_addr *l2 = addr_cmp(a2, b2) <= 0 ? a2 : b2, *h2 = l2 == a2 ? b2 : a2;
    int c = addr_cmp(l1, l2);
    return c ? c : addr_cmp(h1, h2);
}

static int same_pair(const struct idt_addr *a1, const struct idt_addr *b1,
                     const struct idt_addr *a2, const struct idt_addr *b2)
{
    return (idt_addr_eq(a1, a2) && idt_addr_eq(b1, b2)) ||
           (idt_addr_eq(a1, b2) && idt_addr_eq(b1, a2));
}

static uint32_t spi_hash(uint32_t spi, const struct idt_addr *a, const struct idt_addr *b)
{
    uint64_t h = tunnel_ids_pair_hash(a, b) ^ ((uint64_t)spi * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 32;
    return (uint32_t)h;
}

static int in_up(uint8_t st)
{
    return st == TUNNEL_IKE_ESTABLISHED || st == TUNNEL_IKE_REKEYING;
}

/* Rank of a state among the pair's IKE SAs: the highest wins. */
static int rank(uint8_t st)
{
    switch (st) {
    case TUNNEL_IKE_REKEYING: return 4;
    case TUNNEL_IKE_ESTABLISHED: return 3;
    case TUNNEL_IKE_CONNECTING: return 2;
    case TUNNEL_IKE_DELETING: return 1;
    default: return 0;
    }
}

/* The tunnel state one IKE SA stands for.  A state we do not know
 * counts as connecting. */
static uint8_t sa_state(const struct ike_view *v, const struct ike_sa *s)
{
    switch (s->state) {
    case IKE_ST_ESTABLISHED:
    case IKE_ST_PASSIVE:
        for (size_t i = 0; i < s->nchild && s->first_child + i < v->nchild; i++)
            if (v->child[s->first_child + i].state == CHILD_ST_REKEYING)
                return TUNNEL_IKE_REKEYING;
        return TUNNEL_IKE_ESTABLISHED;
    case IKE_ST_REKEYING:
    case IKE_ST_REKEYED:
        return TUNNEL_IKE_REKEYING;
    case IKE_ST_DELETING:
    case IKE_ST_DESTROYING:
        return TUNNEL_IKE_DELETING;
    default:
        return TUNNEL_IKE_CONNECTING;
    }
}

static int usable(const struct ike_sa *s)
{
    return (s->local.family == 4 || s->local.family == 6) && s->local.family == s->remote.family &&
           !idt_addr_eq(&s->local, &s->remote);
}

static void emit(struct engine *e, struct engine_event *ev)
{
    if (e->on_event)
        e->on_event(e->event_ctx, ev);
}

static void key_of(struct sa_key *k, const struct idt_addr *src, const struct idt_addr *dst,
                   uint32_t spi)
{
    memset(k, 0, sizeof *k);
    k->family = src->family;
    k->spi = spi;
    memcpy(k->src, src->a, 16);
    memcpy(k->dst, dst->a, 16);
}

/* The SA table entry of a known SPI (its packets' key), or NULL. */
static struct sa_entry *entry_of(struct engine *e, const struct known *k)
{
    struct sa_key key;
    if (k->dir == SA_INBOUND)
        key_of(&key, &k->remote, &k->local, k->spi);
    else
        key_of(&key, &k->local, &k->remote, k->spi);
    return sa_table_find(e->sas, &key);
}

/* ------------------------------------------------------------ lookups */

static const struct known *find_known(const struct engine_ike *ik, uint32_t spi,
                                      const struct idt_addr *a, const struct idt_addr *b)
{
    if (!ik || !ik->hash)
        return NULL;
    for (uint32_t i = spi_hash(spi, a, b) & ik->hmask; ik->hash[i]; i = (i + 1) & ik->hmask) {
        const struct known *k = &ik->k[ik->hash[i] - 1];
        if (k->spi == spi && same_pair(&k->local, &k->remote, a, b))
            return k;
    }
    return NULL;
}

int engine_ike_known_dir(const struct engine *e, const struct sa_key *key)
{
    if (!e->ike || !e->ike->nk)
        return 0;
    struct idt_addr s = { .family = key->family }, d = { .family = key->family };
    memcpy(s.a, key->src, 16);
    memcpy(d.a, key->dst, 16);
    norm(&s);
    norm(&d);
    const struct known *k = find_known(e->ike, key->spi, &s, &d);
    return k ? k->dir : 0;
}

uint32_t engine_ike_reserve(const struct engine *e)
{
    if (!e->ike)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < e->ike->nk; i++)
        n += e->ike->k[i].live;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static const struct pair *find_pair(const struct engine_ike *ik, const struct idt_addr *a,
                                    const struct idt_addr *b)
{
    size_t lo = 0, hi = ik->np;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = pair_cmp(&ik->p[mid].local, &ik->p[mid].remote, a, b);
        if (c == 0)
            return &ik->p[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const struct pair *pair_of_uid(const struct engine_ike *ik, uint32_t uid)
{
    size_t lo = 0, hi = ik->nu;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ik->u[mid].uid == uid)
            return &ik->p[ik->u[mid].pair];
        if (ik->u[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ------------------------------------------------------------ building */

static int cmp_pair(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;
    int c = pair_cmp(&a->local, &a->remote, &b->local, &b->remote);
    return c ? c : strcmp(a->name, b->name);
}

static int cmp_uid(const void *pa, const void *pb)
{
    const struct uidref *a = pa, *b = pb;
    return a->uid < b->uid ? -1 : a->uid > b->uid;
}

/* The pairs of the view's IKE SAs (merged: smallest name, highest-ranked
 * state) into ik->p, and the unique-id map into ik->u.  -1 ENOMEM. */
static int build_pairs(struct engine_ike *ik, const struct ike_view *v)
{
    size_t n = v->connected ? v->nsa : 0;
    ik->p = calloc(n ? n : 1, sizeof *ik->p);
    ik->u = calloc(n ? n : 1, sizeof *ik->u);
    if (!ik->p || !ik->u)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ike_sa *s = &v->sa[i];
        if (!usable(s))
            continue;
        struct pair *p = &ik->p[m++];
        p->local = s->local;
        p->remote = s->remote;
        norm(&p->local);
        norm(&p->remote);
        memcpy(p->name, s->name, sizeof p->name);
        p->name[sizeof p->name - 1] = '\0';
        p->state = sa_state(v, s);
        p->uid = s->unique_id;
    }
    qsort(ik->p, m, sizeof *ik->p, cmp_pair);
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        if (w && pair_cmp(&ik->p[w - 1].local, &ik->p[w - 1].remote, &ik->p[i].local,
                          &ik->p[i].remote) == 0) {
            if (rank(ik->p[i].state) > rank(ik->p[w - 1].state))
                ik->p[w - 1].state = ik->p[i].state;
            continue;                   /* the first (smallest) name stays */
        }
        ik->p[w++] = ik->p[i];
    }
    ik->np = w;
    /* unique ids: every usable IKE SA's, to its merged pair */
    size_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ike_sa *s = &v->sa[i];
        if (!usable(s))
            continue;
        struct idt_addr l = s->local, r = s->remote;
        norm(&l);
        norm(&r);
        const struct pair *p = find_pair(ik, &l, &r);
        ik->u[nu].uid = s->unique_id;
        ik->u[nu++].pair = (uint32_t)(p - ik->p);
    }
    qsort(ik->u, nu, sizeof *ik->u, cmp_uid);
    ik->nu = nu;
    return 0;
}

/* Add k (a copy) to the new table unless its SPI and pair are there. */
static void add_known(struct engine_ike *nk, const struct known *k)
{
    uint32_t i = spi_hash(k->spi, &k->local, &k->remote) & nk->hmask;
    for (; nk->hash[i]; i = (i + 1) & nk->hmask) {
        const struct known *o = &nk->k[nk->hash[i] - 1];
        if (o->spi == k->spi && same_pair(&o->local, &o->remote, &k->local, &k->remote))
            return;
    }
    nk->k[nk->nk] = *k;
    nk->hash[i] = (uint32_t)++nk->nk;
}

/* The known SPIs of the view's children, carrying the figures of the
 * old table over; then the old SAs gone from the view whose SA is still
 * in the SA table.  -1 ENOMEM. */
static int build_known(struct engine *e, struct engine_ike *nk, const struct engine_ike *old,
                       const struct ike_view *v)
{
    size_t cap = old ? old->nk : 0;
    if (v->connected)
        cap += 2 * v->nchild;
    uint32_t hc = 16;
    while (hc < 2 * cap)
        hc <<= 1;
    nk->k = calloc(cap ? cap : 1, sizeof *nk->k);
    nk->hash = calloc(hc, sizeof *nk->hash);
    if (!nk->k || !nk->hash)
        return -1;
    nk->hmask = hc - 1;
    for (size_t i = 0; v->connected && i < v->nsa; i++) {
        const struct ike_sa *s = &v->sa[i];
        if (!usable(s))
            continue;
        for (size_t c = 0; c < s->nchild && s->first_child + c < v->nchild; c++) {
            const struct ike_child *ch = &v->child[s->first_child + c];
            if (!ch->protocol_esp)
                continue;
            for (int d = SA_INBOUND; d <= SA_OUTBOUND; d++) {
                struct known k;
                memset(&k, 0, sizeof k);
                k.local = s->local;
                k.remote = s->remote;
                norm(&k.local);
                norm(&k.remote);
                k.spi = d == SA_INBOUND ? ch->spi_in : ch->spi_out;
                if (!k.spi)
                    continue;
                k.dir = (uint8_t)d;
                k.live = 1;
                k.ike_uid = s->unique_id;
                char nm[2 * IDT_NAME_MAX + 2];
                snprintf(nm, sizeof nm, "%s/%s", s->name, ch->name);
                memcpy(k.name, nm, sizeof k.name - 1);
                k.name[sizeof k.name - 1] = '\0';
                const struct known *o = find_known(old, k.spi, &k.local, &k.remote);
                if (o && o->dir == k.dir) {
                    k.based = o->based;
                    k.cap_acc = o->cap_acc;
                    k.cap_last = o->cap_last;
                    k.cap_base = o->cap_base;
                    k.charon_base = o->charon_base;
                    k.gw_drops = o->gw_drops;
                }
                add_known(nk, &k);
            }
        }
    }
    for (size_t i = 0; old && i < old->nk; i++) {
        struct known k = old->k[i];
        if (!entry_of(e, &k))
            continue;
        k.live = 0;
        add_known(nk, &k);
    }
    return 0;
}

/* ------------------------------------------------------------ tunnels */

/* A discovered tunnel takes IKE's order of the pair (its order was the
 * local-address guess, or remembered from such a guess): local and
 * remote, its two directions' counts and its SAs' directions swap.  O(SAs)
 * once per such tunnel (it has SAs only if they came before IKE did). */
static void take_order(struct engine *e, struct tunnel *tu, const struct pair *p)
{
    if (tu->origin != TUNNEL_DISCOVERED || idt_addr_eq(&tu->local, &p->local))
        return;
    tu->local = p->local;
    tu->remote = p->remote;
    struct loss_counts c = tu->in;
    tu->in = tu->out;
    tu->out = c;
    struct tunnel_id *id = tunnel_ids_find(tunnel_table_ids(e->tunnels), &p->local, &p->remote);
    if (id) {
        id->local = p->local;
        id->remote = p->remote;
        tunnel_table_ids(e->tunnels)->changes++;
    }
    if (!tu->active_sas)
        return;
    uint32_t slot = tunnel_table_slot(e->tunnels, tu), cur = 0;
    struct sa_entry *ent;
    while ((ent = sa_table_next(e->sas, &cur)) != NULL)
        if (ent->tunnel == slot)
            ent->direction = ent->direction == SA_INBOUND ? SA_OUTBOUND : SA_INBOUND;
}

static void name_tunnel(struct engine *e, struct tunnel *tu, const struct pair *p)
{
    if (tu->origin != TUNNEL_DISCOVERED || !p->name[0] ||
        tunnel_table_conf_has_name(e->tunnels, p->name))
        return;
    memcpy(tu->name, p->name, sizeof tu->name);
}

/* The tunnel of every pair of the new view: found, or created. */
static void tunnels_for(struct engine *e, const struct engine_ike *nk, uint64_t now)
{
    for (size_t i = 0; i < nk->np; i++) {
        const struct pair *p = &nk->p[i];
        struct tunnel *tu = tunnel_table_find(e->tunnels, &p->local, &p->remote);
        if (!tu) {
            tu = engine_add_tunnel(e, &p->local, &p->remote, now);
            if (!tu)
                continue;               /* at the cap: no tunnel, as for its packets */
        }
        take_order(e, tu, p);
        name_tunnel(e, tu, p);
        tu->ike_live = 1;
        tu->ike_seen_us = now;
    }
}

/* IKE state transitions of the tunnels of the old and the new view. */
static void transitions(struct engine *e, const struct engine_ike *old,
                        const struct engine_ike *nk, int silent, uint64_t now)
{
    for (size_t i = 0; i < nk->np; i++) {
        const struct pair *p = &nk->p[i];
        struct tunnel *tu = tunnel_table_find(e->tunnels, &p->local, &p->remote);
        if (!tu)
            continue;
        uint8_t prev = tu->ike_state ? tu->ike_state : TUNNEL_IKE_NONE;
        tu->ike_state = p->state;
        if (silent || in_up(prev) == in_up(p->state))
            continue;
        struct engine_event ev = { .kind = in_up(p->state) ? ENGINE_EV_IKE_UP : ENGINE_EV_IKE_DOWN,
                                   .time_us = now, .tunnel = tu, .prev_state = prev };
        emit(e, &ev);
    }
    for (size_t i = 0; old && i < old->np; i++) {
        const struct pair *p = &old->p[i];
        if (find_pair(nk, &p->local, &p->remote))
            continue;
        struct tunnel *tu = tunnel_table_find(e->tunnels, &p->local, &p->remote);
        if (!tu)
            continue;
        uint8_t prev = tu->ike_state ? tu->ike_state : TUNNEL_IKE_NONE;
        tu->ike_state = TUNNEL_IKE_DOWN;
        tu->ike_live = 0;
        tu->ike_seen_us = now;          /* it ages from the moment IKE forgot it */
        engine_watch(e, tu);            /* it may age out now */
        if (in_up(prev)) {
            struct engine_event ev = { .kind = ENGINE_EV_IKE_DOWN, .time_us = now, .tunnel = tu,
                                       .prev_state = prev };
            emit(e, &ev);
        }
    }
}

/* Rekey events counted on the tunnel of their IKE SA. */
static void count_rekeys(struct engine *e, const struct engine_ike *old,
                         const struct engine_ike *nk, const struct ike_view *v)
{
    for (size_t i = 0; i < v->nevent; i++) {
        const struct ike_event *ev = &v->event[i];
        if (ev->kind != IKE_EV_IKE_REKEY && ev->kind != IKE_EV_CHILD_REKEY)
            continue;
        const struct pair *p = pair_of_uid(nk, ev->ike_unique_id);
        if (!p && old)
            p = pair_of_uid(old, ev->ike_unique_id);
        struct tunnel *tu = p ? tunnel_table_find(e->tunnels, &p->local, &p->remote) : NULL;
        if (!tu)
            continue;
        if (ev->kind == IKE_EV_IKE_REKEY)
            tu->ike_rekeys++;
        else
            tu->child_rekeys++;
    }
}

/* ------------------------------------------------------------ SAs */

/* Update k's captured count from its SA entry (a new entry after the old
 * one expired starts again from 0). */
static void captured(struct engine *e, struct known *k)
{
    const struct sa_entry *ent = entry_of(e, k);
    if (!ent) {
        k->cap_last = 0;
        return;
    }
    uint64_t cur = ent->rw.received;
    k->cap_acc += cur >= k->cap_last ? cur - k->cap_last : cur;
    k->cap_last = cur;
}

/* A reading of charon's packets-in for inbound k (engine_ike.h: the
 * rule and its bound).  final: the child's last counters. */
static void reading(struct engine *e, struct known *k, uint64_t charon_in, int final,
                    uint64_t taken_us)
{
    struct tunnel *tu = tunnel_table_find(e->tunnels, &k->local, &k->remote);
    captured(e, k);
    int quiet = final || !tu || !tu->last_in_us ||
                (tu->last_in_us <= taken_us && taken_us - tu->last_in_us >= ENGINE_IKE_QUIET_US);
    if (!k->based) {
        if (!quiet && (k->cap_acc || charon_in))
            return;
        k->cap_base = k->cap_acc;
        k->charon_base = charon_in;
        k->based = 1;
        return;
    }
    if (!quiet || charon_in < k->charon_base)
        return;
    uint64_t cap = k->cap_acc - k->cap_base, acc = charon_in - k->charon_base;
    if (cap <= acc || cap - acc <= k->gw_drops)
        return;
    uint64_t d = cap - acc - k->gw_drops;
    k->gw_drops += d;
    if (tu)
        tu->gw_drops += d;
}

/* Final counters of children that went down (CHILD_DOWN events), applied
 * to the old table before it is carried over. */
static void finals(struct engine *e, struct engine_ike *old, const struct ike_view *v)
{
    for (size_t i = 0; old && i < v->nevent; i++) {
        const struct ike_event *ev = &v->event[i];
        if (ev->kind != IKE_EV_CHILD_DOWN || !ev->has_final || !ev->final.spi_in)
            continue;
        for (size_t j = 0; j < old->nk; j++) {
            struct known *k = &old->k[j];
            if (k->dir == SA_INBOUND && k->spi == ev->final.spi_in &&
                (k->ike_uid == ev->ike_unique_id || !ev->ike_unique_id)) {
                reading(e, k, ev->final.packets_in, 1, v->taken_us);
                break;
            }
        }
    }
}

/* Readings of the live inbound children of the view. */
static void readings(struct engine *e, struct engine_ike *nk, const struct ike_view *v)
{
    for (size_t i = 0; v->connected && i < v->nsa; i++) {
        const struct ike_sa *s = &v->sa[i];
        if (!usable(s))
            continue;
        struct idt_addr l = s->local, r = s->remote;
        norm(&l);
        norm(&r);
        for (size_t c = 0; c < s->nchild && s->first_child + c < v->nchild; c++) {
            const struct ike_child *ch = &v->child[s->first_child + c];
            if (!ch->protocol_esp || !ch->spi_in)
                continue;
            struct known *k = (struct known *)find_known(nk, ch->spi_in, &l, &r);
            if (k && k->dir == SA_INBOUND && k->live)
                reading(e, k, ch->packets_in, 0, v->taken_us);
        }
    }
}

static void move_counts(struct loss_counts *from, struct loss_counts *to, const struct sa_entry *ent)
{
#define MV(f, val) do { uint64_t x_ = (val); from->f -= from->f >= x_ ? x_ : from->f; to->f += x_; } while (0)
    MV(received, ent->rw.received);
    MV(lost, ent->rw.lost);
    MV(late, ent->rw.late);
    MV(duplicate, ent->rw.duplicate);
    MV(reordered, ent->rw.reordered);
    MV(suspect, ent->rw.suspect);
    MV(octets, ent->octets);
#undef MV
}

/* SAs in the table before their SPI was known, in the other direction:
 * moved to the known one, counts and all. */
static void fix_directions(struct engine *e, const struct engine_ike *nk)
{
    for (size_t i = 0; i < nk->nk; i++) {
        const struct known *k = &nk->k[i];
        struct sa_entry *ent = entry_of(e, k);
        if (!ent || ent->direction == k->dir)
            continue;
        struct tunnel *tu = tunnel_table_at(e->tunnels, ent->tunnel);
        if (tu) {
            if (k->dir == SA_INBOUND)
                move_counts(&tu->out, &tu->in, ent);
            else
                move_counts(&tu->in, &tu->out, ent);
        }
        ent->direction = k->dir;
    }
}

/* ------------------------------------------------------------ apply */

static void free_ike(struct engine_ike *ik)
{
    if (!ik)
        return;
    free(ik->k);
    free(ik->hash);
    free(ik->p);
    free(ik->u);
    free(ik);
}

int engine_ike_apply(struct engine *e, struct ike_view *v, uint64_t now_us)
{
    struct engine_ike *old = e->ike;
    /* the final counters of children that went down belong to the old
     * table: settled first (they are true whatever happens next) */
    finals(e, old, v);
    struct engine_ike *nk = calloc(1, sizeof *nk);
    if (!nk || build_pairs(nk, v) < 0 || build_known(e, nk, old, v) < 0) {
        free_ike(nk);
        return -1;
    }
    /* nothing below allocates */
    int silent = v->connected && !(old && old->started);
    nk->started = (old && old->started) || v->connected;
    if (now_us > e->now_us)
        e->now_us = now_us;
    tunnels_for(e, nk, now_us);
    count_rekeys(e, old, nk, v);
    fix_directions(e, nk);
    readings(e, nk, v);
    transitions(e, old, nk, silent, now_us);
    e->ike = nk;
    free_ike(old);
    engine_set_reserve(e);
    return 0;
}

void engine_ike_reapply(struct engine *e)
{
    struct engine_ike *ik = e->ike;
    for (size_t i = 0; ik && i < ik->np; i++) {
        struct tunnel *tu = tunnel_table_find(e->tunnels, &ik->p[i].local, &ik->p[i].remote);
        if (!tu)
            continue;
        name_tunnel(e, tu, &ik->p[i]);
        tu->ike_live = 1;
    }
}

static int cmp_row(const void *pa, const void *pb)
{
    const struct ike_sa_row *a = pa, *b = pb;
    if (a->tindex != b->tindex)
        return a->tindex < b->tindex ? -1 : 1;
    if (a->dir != b->dir)
        return a->dir < b->dir ? -1 : 1;
    return a->spi < b->spi ? -1 : a->spi > b->spi;
}

int engine_ike_rows(struct engine *e, struct ike_sa_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    struct engine_ike *ik = e->ike;
    if (!ik || !ik->nk)
        return 0;
    struct ike_sa_row *r = calloc(ik->nk, sizeof *r);
    if (!r)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < ik->nk; i++) {
        const struct known *k = &ik->k[i];
        const struct tunnel *tu = tunnel_table_find(e->tunnels, &k->local, &k->remote);
        if (!tu)
            continue;
        r[m].tindex = tu->index;
        r[m].spi = k->spi;
        r[m].dir = k->dir;
        memcpy(r[m].name, k->name, sizeof r[m].name);
        r[m].gw_drops = k->gw_drops;
        m++;
    }
    qsort(r, m, sizeof *r, cmp_row);
    *rows = r;
    *n = m;
    return 0;
}

void engine_ike_free(struct engine *e)
{
    free_ike(e->ike);
    e->ike = NULL;
}
