/* tunnel_table.c - configured and discovered tunnels, looked up by their
 * unordered pair of outer addresses through a small open-addressing hash.
 *
 * Slots: configured tunnels occupy slots 0..nconf-1 in config order;
 * discovered ones take a removed slot (a free list chained through the
 * index field of removed slots), else the next never-used one.  The slots
 * (nconf + max_discovered) and the pair hash are reserved whole when the
 * table is built, so adding a tunnel never grows or rehashes anything:
 * O(1) in the worst case.  Slots are zeroed memory that is only touched
 * when used (calloc of a fresh mapping), so the memory in use follows the
 * most tunnels that existed at once; a reload rebuilds the array for the
 * tunnels that exist.
 *
 * Identities of discovered tunnels (index, name, address order) come from
 * the tunnel_ids map, which remembers them across aging, reloads and (via
 * the state file) restarts.  Configured tunnels win every clash with a
 * remembered identity: its pair is dropped, its index or name replaced. */
#include "tunnel_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* Configured tunnels by name and by index (slot + 1; 0 = empty). */
struct conf_index {
    uint32_t *by_name, *by_index;
    uint32_t mask;
};

struct tunnel_table {
    struct tunnel *slot;        /* nslots entries */
    uint32_t nslots;
    uint32_t count;             /* used */
    uint32_t nconf;             /* configured: slots 0..nconf-1 */
    uint32_t ndiscovered;
    uint32_t max_discovered;
    uint32_t free_head;         /* first removed slot, NONE if none */
    uint32_t fresh;             /* slots fresh..nslots-1 were never used */
    uint32_t *hash;             /* pairs: 0 = empty, else slot + 1 */
    uint32_t hmask;
    struct conf_index ci;
    struct tunnel_ids *ids;     /* capacity max_discovered */
};

int idt_addr_cmp(const struct idt_addr *a, const struct idt_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->a, b->a, a->family == 4 ? 4 : 16);
}

static int pair_match(const struct tunnel *tu, const struct idt_addr *a,
                      const struct idt_addr *b)
{
    return (idt_addr_eq(&tu->local, a) && idt_addr_eq(&tu->remote, b)) ||
           (idt_addr_eq(&tu->local, b) && idt_addr_eq(&tu->remote, a));
}

static uint32_t pair_home(const struct tunnel *tu, uint32_t mask)
{
    return (uint32_t)tunnel_ids_pair_hash(&tu->local, &tu->remote) & mask;
}

static uint32_t hash_cap(uint32_t n)
{
    uint32_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    return cap;
}

static void hash_insert(uint32_t *h, uint32_t mask, const struct tunnel *slots, uint32_t s)
{
    uint32_t i = pair_home(&slots[s], mask);
    while (h[i])
        i = (i + 1) & mask;
    h[i] = s + 1;
}

/* Remove slot s from the pair hash (backward shift, no allocation). */
static void hash_delete(struct tunnel_table *t, uint32_t s)
{
    uint32_t hole = pair_home(&t->slot[s], t->hmask);
    while (t->hash[hole] != s + 1)
        hole = (hole + 1) & t->hmask;
    t->hash[hole] = 0;
    for (uint32_t p = (hole + 1) & t->hmask; t->hash[p]; p = (p + 1) & t->hmask) {
        uint32_t home = pair_home(&t->slot[t->hash[p] - 1], t->hmask);
        if (((p - home) & t->hmask) >= ((p - hole) & t->hmask)) {
            t->hash[hole] = t->hash[p];
            t->hash[p] = 0;
            hole = p;
        }
    }
}

struct tunnel *tunnel_table_find(struct tunnel_table *t, const struct idt_addr *a,
                                 const struct idt_addr *b)
{
    uint32_t i = (uint32_t)tunnel_ids_pair_hash(a, b) & t->hmask;
    while (t->hash[i]) {
        struct tunnel *tu = &t->slot[t->hash[i] - 1];
        if (pair_match(tu, a, b))
            return tu;
        i = (i + 1) & t->hmask;
    }
    return NULL;
}

/* ------------------------------------------------------------ configured names/indexes */

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int conf_alloc(struct conf_index *ci, uint32_t nconf)
{
    uint32_t cap = hash_cap(nconf);
    ci->by_name = calloc(2 * (size_t)cap, sizeof *ci->by_name);
    if (!ci->by_name)
        return -1;
    ci->by_index = ci->by_name + cap;
    ci->mask = cap - 1;
    return 0;
}

static void conf_build(struct conf_index *ci, const struct tunnel *slots, uint32_t nconf)
{
    for (uint32_t s = 0; s < nconf; s++) {
        uint32_t i = name_hash(slots[s].name) & ci->mask;
        while (ci->by_name[i])
            i = (i + 1) & ci->mask;
        ci->by_name[i] = s + 1;
        i = (slots[s].index * 0x9e3779b1u) & ci->mask;
        while (ci->by_index[i])
            i = (i + 1) & ci->mask;
        ci->by_index[i] = s + 1;
    }
}

static int conf_has_name(const struct tunnel_table *t, const char *name)
{
    for (uint32_t i = name_hash(name) & t->ci.mask; t->ci.by_name[i]; i = (i + 1) & t->ci.mask)
        if (strcmp(t->slot[t->ci.by_name[i] - 1].name, name) == 0)
            return 1;
    return 0;
}

static int conf_has_index(const struct tunnel_table *t, uint32_t index)
{
    for (uint32_t i = (index * 0x9e3779b1u) & t->ci.mask; t->ci.by_index[i];
         i = (i + 1) & t->ci.mask)
        if (t->slot[t->ci.by_index[i] - 1].index == index)
            return 1;
    return 0;
}

int tunnel_table_conf_has_name(const struct tunnel_table *t, const char *name)
{
    return conf_has_name(t, name);
}

/* Generated name that no configured tunnel has (tunnel_ids_name scheme). */
static void make_name(const struct tunnel_table *t, char *buf, const struct idt_addr *local,
                      const struct idt_addr *remote, uint32_t index)
{
    uint32_t alt = 0;
    do
        tunnel_ids_name(buf, local, remote, index, alt++);
    while (conf_has_name(t, buf));
}

/* ------------------------------------------------------------ remembered identities */

/* Make the remembered identities agree with the configured tunnels. */
static void reconcile_ids(struct tunnel_table *t)
{
    struct tunnel_ids *m = t->ids;
    uint64_t first = 1;
    for (uint32_t s = 0; s < t->nconf; s++)
        if (t->slot[s].index >= first)
            first = (uint64_t)t->slot[s].index + 1;
    if (m->next_index < first) {
        m->next_index = first;
        m->changes++;
    }
    struct tunnel_id *id = tunnel_ids_first(m), *nx;
    for (; id; id = nx) {
        nx = tunnel_ids_next(m, id);
        struct tunnel *tu = tunnel_table_find(t, &id->local, &id->remote);
        if (tu && tu->origin == TUNNEL_CONFIGURED) {
            tunnel_ids_remove(m, id);
            continue;
        }
        if (conf_has_index(t, id->index)) {
            if (m->next_index > UINT32_MAX) {
                tunnel_ids_remove(m, id);
                continue;
            }
            id->index = (uint32_t)m->next_index++;
            make_name(t, id->name, &id->local, &id->remote, id->index);
            m->changes++;
        } else if (conf_has_name(t, id->name)) {
            make_name(t, id->name, &id->local, &id->remote, id->index);
            m->changes++;
        }
    }
}

struct tunnel_ids *tunnel_table_ids(struct tunnel_table *t)
{
    return t->ids;
}

int tunnel_table_load_ids(struct tunnel_table *t, const char *text, size_t len,
                          char *err, size_t errlen)
{
    if (t->ndiscovered) {
        snprintf(err, errlen, "tunnels were already discovered");
        return -1;
    }
    struct tunnel_ids *m = tunnel_ids_parse(text, len, t->max_discovered, err, errlen);
    if (!m)
        return -1;
    tunnel_ids_destroy(t->ids);
    t->ids = m;
    reconcile_ids(t);
    return 0;
}

/* ------------------------------------------------------------ table */

void tunnel_alert_params(const struct idt_config *cfg, const struct tunnel *tu,
                         struct alert_params *p)
{
    const struct idt_tunnel_conf *tc =
        tu->conf_pos != UINT32_MAX && tu->conf_pos < cfg->ntunnels ? &cfg->tunnels[tu->conf_pos] : NULL;
    p->lost = cfg->alert_lost;
    p->interval_s = cfg->alert_interval;
    p->ppm = cfg->alert_ppm;
    p->repeat_s = cfg->alert_repeat;
    p->min_pkts = cfg->alert_min_pkts;
    p->enabled = 1;
    if (tc) {
        if (tc->alert_lost >= 0)
            p->lost = (uint32_t)tc->alert_lost;
        if (tc->alert_interval >= 0)
            p->interval_s = (uint32_t)tc->alert_interval;
        if (tc->alert_ppm >= 0)
            p->ppm = (uint32_t)tc->alert_ppm;
        p->enabled = tc->alerts;
    }
}

static const struct idt_tunnel_conf *conf_of(const struct idt_config *cfg,
                                             const struct tunnel *tu)
{
    return tu->conf_pos != UINT32_MAX && tu->conf_pos < cfg->ntunnels ? &cfg->tunnels[tu->conf_pos]
                                                                     : NULL;
}

uint32_t tunnel_idle_timeout(const struct idt_config *cfg, const struct tunnel *tu)
{
    const struct idt_tunnel_conf *tc = conf_of(cfg, tu);
    return tc && tc->idle_timeout >= 0 ? (uint32_t)tc->idle_timeout : cfg->idle_timeout;
}

int tunnel_idle_alerts(const struct idt_config *cfg, const struct tunnel *tu)
{
    const struct idt_tunnel_conf *tc = conf_of(cfg, tu);
    return tc ? tc->idle_alerts : cfg->discovered_idle_alerts;
}

static void init_configured(struct tunnel *tu, const struct idt_config *cfg, uint32_t pos,
                            uint64_t now_us)
{
    const struct idt_tunnel_conf *tc = &cfg->tunnels[pos];
    memset(tu, 0, sizeof *tu);
    tu->used = 1;
    tu->origin = TUNNEL_CONFIGURED;
    tu->index = tc->index;
    snprintf(tu->name, sizeof tu->name, "%s", tc->name);
    tu->local = tc->local;
    tu->remote = tc->remote;
    tu->conf_pos = pos;
    tu->created_us = now_us;
    tu->state = tu->notified_state = TUNNEL_NEVER_SEEN;
    struct alert_params ap;
    tunnel_alert_params(cfg, tu, &ap);
    alert_init(&tu->alert, &ap, now_us);
}

/* Slots for nconf configured and max_discovered discovered tunnels. */
static int slots_for(uint32_t nconf, uint32_t max_discovered, uint32_t *out)
{
    uint64_t n = (uint64_t)nconf + max_discovered;
    if (n > UINT32_MAX / 4)
        return -1;
    *out = n ? (uint32_t)n : 1;
    return 0;
}

struct tunnel_table *tunnel_table_create(const struct idt_config *cfg,
                                         uint32_t max_discovered, uint64_t now_us)
{
    struct tunnel_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max_discovered = max_discovered;
    t->nconf = (uint32_t)cfg->ntunnels;
    if (slots_for(t->nconf, max_discovered, &t->nslots) < 0) {
        free(t);
        return NULL;
    }
    t->slot = calloc(t->nslots, sizeof *t->slot);
    t->hmask = hash_cap(t->nslots) - 1;
    t->hash = calloc((size_t)t->hmask + 1, sizeof *t->hash);
    t->ids = tunnel_ids_create(max_discovered ? max_discovered : 1);
    if (!t->slot || !t->hash || !t->ids || conf_alloc(&t->ci, t->nconf) < 0) {
        tunnel_table_destroy(t);
        return NULL;
    }
    for (uint32_t i = 0; i < t->nconf; i++) {
        init_configured(&t->slot[i], cfg, i, now_us);
        hash_insert(t->hash, t->hmask, t->slot, i);
    }
    t->count = t->nconf;
    t->free_head = NONE;
    t->fresh = t->nconf;
    conf_build(&t->ci, t->slot, t->nconf);
    reconcile_ids(t);
    return t;
}

void tunnel_table_destroy(struct tunnel_table *t)
{
    if (!t)
        return;
    free(t->slot);
    free(t->hash);
    free(t->ci.by_name);
    tunnel_ids_destroy(t->ids);
    free(t);
}

struct tunnel *tunnel_table_add_discovered(struct tunnel_table *t,
                                           const struct idt_addr *local,
                                           const struct idt_addr *remote,
                                           uint64_t now_us)
{
    if (t->ndiscovered >= t->max_discovered)
        return NULL;
    struct tunnel_id *id = tunnel_ids_find(t->ids, local, remote);
    if (!id && t->ids->next_index > UINT32_MAX)
        return NULL;
    if (t->free_head == NONE && t->fresh >= t->nslots)
        return NULL;            /* not expected: the slots hold every tunnel allowed */
    uint64_t now_s = now_us / 1000000u;
    if (!id) {
        char name[IDT_NAME_MAX];
        uint32_t index = (uint32_t)t->ids->next_index++;
        make_name(t, name, local, remote, index);
        id = tunnel_ids_insert(t->ids, local, remote, index, name, now_s);
    }
    tunnel_ids_set_live(t->ids, id, 1, now_s);  /* never forgotten while it exists */
    uint32_t s;
    if (t->free_head != NONE) {
        s = t->free_head;
        t->free_head = t->slot[s].index;
    } else {
        s = t->fresh++;
    }
    struct tunnel *tu = &t->slot[s];
    memset(tu, 0, sizeof *tu);
    tu->used = 1;
    tu->origin = TUNNEL_DISCOVERED;
    tu->index = id->index;
    memcpy(tu->name, id->name, sizeof tu->name);
    tu->local = id->local;
    tu->remote = id->remote;
    tu->conf_pos = UINT32_MAX;
    tu->created_us = now_us;
    tu->state = tu->notified_state = TUNNEL_NEVER_SEEN;
    t->count++;
    t->ndiscovered++;
    hash_insert(t->hash, t->hmask, t->slot, s);
    /* the caller sets alert params (it knows the config) */
    return tu;
}

void tunnel_table_remove(struct tunnel_table *t, struct tunnel *tu)
{
    if (!tu->used || tu->origin != TUNNEL_DISCOVERED)
        return;
    uint32_t s = (uint32_t)(tu - t->slot);
    struct tunnel_id *id = tunnel_ids_find(t->ids, &tu->local, &tu->remote);
    if (id)
        tunnel_ids_set_live(t->ids, id, 0, tu->last_seen_us / 1000000u);
    hash_delete(t, s);
    memset(tu, 0, sizeof *tu);
    tu->index = t->free_head;
    t->free_head = s;
    t->ndiscovered--;
    t->count--;
}

uint32_t tunnel_table_slot(const struct tunnel_table *t, const struct tunnel *tu)
{
    return (uint32_t)(tu - t->slot);
}

struct tunnel *tunnel_table_at(struct tunnel_table *t, uint32_t slot)
{
    if (slot >= t->nslots || !t->slot[slot].used)
        return NULL;
    return &t->slot[slot];
}

uint32_t tunnel_table_slots(const struct tunnel_table *t)
{
    return t->fresh;
}

uint32_t tunnel_table_count(const struct tunnel_table *t)
{
    return t->count;
}

/* Old configured tunnel of this name, NULL if none. */
static struct tunnel *old_configured(struct tunnel_table *t, const char *name)
{
    for (uint32_t i = name_hash(name) & t->ci.mask; t->ci.by_name[i]; i = (i + 1) & t->ci.mask)
        if (strcmp(t->slot[t->ci.by_name[i] - 1].name, name) == 0)
            return &t->slot[t->ci.by_name[i] - 1];
    return NULL;
}

int tunnel_table_reconfigure(struct tunnel_table *t, const struct idt_config *cfg,
                             uint64_t now_us)
{
    /* 1. allocate everything; on failure nothing has changed.  The old
     * configured tunnels are counted once more: the SAs of those that go
     * become discovered tunnels, which then need no allocation. */
    uint32_t nconf = (uint32_t)cfg->ntunnels, n;
    if (slots_for(nconf, t->max_discovered, &n) < 0)
        return -1;
    uint32_t hcap = hash_cap(n);
    struct tunnel *s = calloc(n, sizeof *s);
    uint32_t *h = calloc(hcap, sizeof *h);
    struct conf_index ci;
    if (!s || !h || conf_alloc(&ci, nconf) < 0) {
        free(s);
        free(h);
        return -1;
    }

    /* 2. build the new slots (nothing below can fail) */
    for (uint32_t i = 0; i < nconf; i++) {
        const struct idt_tunnel_conf *tc = &cfg->tunnels[i];
        struct tunnel *old = old_configured(t, tc->name);
        if (old) {
            s[i] = *old;
            if (s[i].index != tc->index)
                s[i].created_us = now_us;   /* a new identity for the NMS */
            s[i].index = tc->index;
            s[i].local = tc->local;
            s[i].remote = tc->remote;
            s[i].conf_pos = i;
            struct alert_params ap;
            tunnel_alert_params(cfg, &s[i], &ap);
            alert_set_params(&s[i].alert, &ap, now_us);
        } else {
            init_configured(&s[i], cfg, i, now_us);
        }
        hash_insert(h, hcap - 1, s, i);
    }
    conf_build(&ci, s, nconf);
    uint32_t pos = nconf;
    for (uint32_t k = 0; k < t->fresh; k++) {
        const struct tunnel *tu = &t->slot[k];
        if (tu->used && tu->origin == TUNNEL_DISCOVERED)
            s[pos++] = *tu;
    }

    /* 3. commit */
    free(t->slot);
    free(t->hash);
    free(t->ci.by_name);
    t->slot = s;
    t->nslots = n;
    t->hash = h;
    t->hmask = hcap - 1;
    t->ci = ci;
    t->nconf = nconf;
    t->count = nconf;
    t->ndiscovered = 0;
    uint64_t now_s = now_us / 1000000u;
    for (uint32_t k = nconf; k < pos; k++) {    /* live identities are never evicted */
        struct tunnel_id *id = tunnel_ids_find(t->ids, &s[k].local, &s[k].remote);
        if (!id)
            id = tunnel_ids_insert(t->ids, &s[k].local, &s[k].remote, s[k].index, s[k].name,
                                   now_s);
        tunnel_ids_set_live(t->ids, id, 1, now_s);
    }
    reconcile_ids(t);

    /* discovered tunnels: merged into a configured pair, or their identity */
    uint32_t keep = nconf;
    for (uint32_t k = nconf; k < pos; k++) {
        struct tunnel tu = s[k];
        if (tunnel_table_find(t, &tu.local, &tu.remote))
            continue;   /* now configured: its SAs are re-attached by the engine */
        const struct tunnel_id *id = tunnel_ids_find(t->ids, &tu.local, &tu.remote);
        if (!id)
            continue;   /* index space exhausted: dropped like a capped one */
        if (id->index != tu.index)
            tu.created_us = now_us;
        tu.index = id->index;
        memcpy(tu.name, id->name, sizeof tu.name);
        struct alert_params ap;
        tunnel_alert_params(cfg, &tu, &ap);
        alert_set_params(&tu.alert, &ap, now_us);
        s[keep] = tu;
        hash_insert(t->hash, t->hmask, s, keep);
        keep++;
        t->ndiscovered++;
    }
    t->count = keep;
    t->free_head = NONE;
    t->fresh = keep;
    return 0;
}
