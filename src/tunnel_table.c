/* tunnel_table.c - configured and discovered tunnels, looked up by their
 * unordered pair of outer addresses through a small open-addressing hash. */
#include "tunnel_table.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tunnel_table {
    struct tunnel *slot;        /* nslots entries */
    uint32_t nslots;            /* allocated */
    uint32_t count;             /* used */
    uint32_t ndiscovered;
    uint32_t max_discovered;
    uint64_t next_index;        /* next discovered index */
    uint32_t *hash;             /* 0 = empty, else slot + 1 */
    uint32_t hmask;
};

int idt_addr_cmp(const struct idt_addr *a, const struct idt_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->a, b->a, a->family == 4 ? 4 : 16);
}

static uint64_t pair_hash(const struct idt_addr *a, const struct idt_addr *b)
{
    const struct idt_addr *lo = a, *hi = b;
    if (idt_addr_cmp(a, b) > 0) {
        lo = b;
        hi = a;
    }
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ lo->family;
    uint64_t w;
    for (int i = 0; i < 2; i++) {
        memcpy(&w, lo->a + 8 * i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        memcpy(&w, hi->a + 8 * i, 8);
        h = (h ^ w) * 0x94d049bb133111ebULL;
        h ^= h >> 29;
    }
    return h;
}

static int pair_match(const struct tunnel *tu, const struct idt_addr *a,
                      const struct idt_addr *b)
{
    return (idt_addr_eq(&tu->local, a) && idt_addr_eq(&tu->remote, b)) ||
           (idt_addr_eq(&tu->local, b) && idt_addr_eq(&tu->remote, a));
}

static void hash_insert(struct tunnel_table *t, uint32_t s)
{
    uint32_t i = (uint32_t)pair_hash(&t->slot[s].local, &t->slot[s].remote) & t->hmask;
    while (t->hash[i])
        i = (i + 1) & t->hmask;
    t->hash[i] = s + 1;
}

static int hash_rebuild(struct tunnel_table *t)
{
    uint32_t cap = 16;
    while (cap < 2 * t->nslots)
        cap <<= 1;
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h)
        return -1;
    free(t->hash);
    t->hash = h;
    t->hmask = cap - 1;
    for (uint32_t s = 0; s < t->nslots; s++)
        if (t->slot[s].used)
            hash_insert(t, s);
    return 0;
}

struct tunnel *tunnel_table_find(struct tunnel_table *t, const struct idt_addr *a,
                                 const struct idt_addr *b)
{
    uint32_t i = (uint32_t)pair_hash(a, b) & t->hmask;
    while (t->hash[i]) {
        struct tunnel *tu = &t->slot[t->hash[i] - 1];
        if (pair_match(tu, a, b))
            return tu;
        i = (i + 1) & t->hmask;
    }
    return NULL;
}

void tunnel_make_name(char *buf, size_t len, const struct idt_addr *local,
                      const struct idt_addr *remote, uint32_t index)
{
    char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
    idt_addr_str(local, l, sizeof l);
    idt_addr_str(remote, r, sizeof r);
    if (strlen(l) + 1 + strlen(r) <= IDT_NAME_MAX - 1 && len >= IDT_NAME_MAX)
        snprintf(buf, len, "%s-%s", l, r);
    else
        snprintf(buf, len, "tunnel-%u", index);
}

void tunnel_alert_params(const struct idt_config *cfg, const struct tunnel *tu,
                         struct alert_params *p)
{
    const struct idt_tunnel_conf *tc =
        tu->conf_pos != UINT32_MAX && tu->conf_pos < cfg->ntunnels ? &cfg->tunnels[tu->conf_pos] : NULL;
    p->lost = cfg->alert_lost;
    p->interval_s = cfg->alert_interval;
    p->ppm = cfg->alert_ppm;
    p->repeat_s = cfg->alert_repeat;
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
    struct alert_params ap;
    tunnel_alert_params(cfg, tu, &ap);
    alert_init(&tu->alert, &ap, now_us);
}

static uint64_t first_discovered_index(const struct idt_config *cfg)
{
    uint64_t mx = 0;
    for (size_t i = 0; i < cfg->ntunnels; i++)
        if (cfg->tunnels[i].index > mx)
            mx = cfg->tunnels[i].index;
    return mx + 1;
}

struct tunnel_table *tunnel_table_create(const struct idt_config *cfg,
                                         uint32_t max_discovered, uint64_t now_us)
{
    struct tunnel_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max_discovered = max_discovered;
    t->nslots = (uint32_t)cfg->ntunnels + 8;
    t->slot = calloc(t->nslots, sizeof *t->slot);
    if (!t->slot) {
        free(t);
        return NULL;
    }
    for (uint32_t i = 0; i < cfg->ntunnels; i++)
        init_configured(&t->slot[i], cfg, i, now_us);
    t->count = (uint32_t)cfg->ntunnels;
    t->next_index = first_discovered_index(cfg);
    if (hash_rebuild(t) < 0) {
        tunnel_table_destroy(t);
        return NULL;
    }
    return t;
}

void tunnel_table_destroy(struct tunnel_table *t)
{
    if (!t)
        return;
    free(t->slot);
    free(t->hash);
    free(t);
}

static int grow(struct tunnel_table *t)
{
    uint32_t n = t->nslots * 2;
    struct tunnel *s = realloc(t->slot, (size_t)n * sizeof *s);
    if (!s)
        return -1;
    memset(s + t->nslots, 0, (size_t)(n - t->nslots) * sizeof *s);
    t->slot = s;
    t->nslots = n;
    return hash_rebuild(t);
}

struct tunnel *tunnel_table_add_discovered(struct tunnel_table *t,
                                           const struct idt_addr *local,
                                           const struct idt_addr *remote,
                                           uint64_t now_us)
{
    if (t->ndiscovered >= t->max_discovered || t->next_index > UINT32_MAX)
        return NULL;
    if (t->count == t->nslots && grow(t) < 0)
        return NULL;
    uint32_t s = 0;
    while (t->slot[s].used)
        s++;
    struct tunnel *tu = &t->slot[s];
    memset(tu, 0, sizeof *tu);
    tu->used = 1;
    tu->origin = TUNNEL_DISCOVERED;
    tu->index = (uint32_t)t->next_index++;
    tu->local = *local;
    tu->remote = *remote;
    tu->conf_pos = UINT32_MAX;
    tu->created_us = now_us;
    tunnel_make_name(tu->name, sizeof tu->name, local, remote, tu->index);
    t->count++;
    t->ndiscovered++;
    /* the caller sets alert params (it knows the config) */
    if (2 * t->nslots > t->hmask + 1) {
        if (hash_rebuild(t) < 0) {
            tu->used = 0;
            t->count--;
            t->ndiscovered--;
            return NULL;
        }
    } else {
        hash_insert(t, s);
    }
    return tu;
}

void tunnel_table_remove(struct tunnel_table *t, struct tunnel *tu)
{
    if (!tu->used)
        return;
    if (tu->origin == TUNNEL_DISCOVERED)
        t->ndiscovered--;
    tu->used = 0;
    t->count--;
    hash_rebuild(t);    /* rare (aging/reload); keeps probing chains exact */
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
    return t->nslots;
}

uint32_t tunnel_table_count(const struct tunnel_table *t)
{
    return t->count;
}

int tunnel_table_reconfigure(struct tunnel_table *t, const struct idt_config *cfg,
                             uint64_t now_us)
{
    /* Work on a copy so that failure leaves the table unchanged. */
    uint32_t n = t->nslots + (uint32_t)cfg->ntunnels + 8;
    struct tunnel *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    uint32_t pos = 0;
    for (uint32_t i = 0; i < cfg->ntunnels; i++) {
        const struct idt_tunnel_conf *tc = &cfg->tunnels[i];
        struct tunnel *old = NULL;
        for (uint32_t k = 0; k < t->nslots && !old; k++)
            if (t->slot[k].used && t->slot[k].origin == TUNNEL_CONFIGURED &&
                strcmp(t->slot[k].name, tc->name) == 0)
                old = &t->slot[k];
        if (old) {
            s[pos] = *old;
            s[pos].index = tc->index;
            s[pos].local = tc->local;
            s[pos].remote = tc->remote;
            s[pos].conf_pos = i;
            struct alert_params ap;
            tunnel_alert_params(cfg, &s[pos], &ap);
            alert_set_params(&s[pos].alert, &ap, now_us);
        } else {
            init_configured(&s[pos], cfg, i, now_us);
        }
        pos++;
    }
    uint32_t ndisc = 0;
    for (uint32_t k = 0; k < t->nslots; k++) {
        struct tunnel *tu = &t->slot[k];
        if (!tu->used || tu->origin != TUNNEL_DISCOVERED)
            continue;
        int clash = 0;
        for (uint32_t i = 0; i < cfg->ntunnels && !clash; i++)
            clash = cfg->tunnels[i].index == tu->index ||
                    pair_match(tu, &cfg->tunnels[i].local, &cfg->tunnels[i].remote);
        if (clash)
            continue;   /* its SAs are re-attached by the engine */
        s[pos] = *tu;
        struct alert_params ap;
        tunnel_alert_params(cfg, &s[pos], &ap);
        alert_set_params(&s[pos].alert, &ap, now_us);
        pos++;
        ndisc++;
    }
    free(t->slot);
    t->slot = s;
    t->nslots = n;
    t->count = pos;
    t->ndiscovered = ndisc;
    uint64_t fi = first_discovered_index(cfg);
    if (fi > t->next_index)
        t->next_index = fi;
    return hash_rebuild(t);
}
