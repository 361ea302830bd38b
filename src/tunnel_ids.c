/* tunnel_ids.c - remembered identities of discovered tunnels and their
 * text form (see tunnel_ids.h). */
#include "tunnel_ids.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE TUNNEL_IDS_NONE
#define TOUCH_SAVE_S 3600u      /* a touch is worth saving after an hour */

static int addr_cmp(const struct idt_addr *a, const struct idt_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->a, b->a, a->family == 4 ? 4 : 16);
}

uint64_t tunnel_ids_pair_hash(const struct idt_addr *a, const struct idt_addr *b)
{
    const struct idt_addr *lo = a, *hi = b;
    if (addr_cmp(a, b) > 0) {
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

static int pair_match(const struct tunnel_id *id, const struct idt_addr *a,
                      const struct idt_addr *b)
{
    return (idt_addr_eq(&id->local, a) && idt_addr_eq(&id->remote, b)) ||
           (idt_addr_eq(&id->local, b) && idt_addr_eq(&id->remote, a));
}

struct tunnel_ids *tunnel_ids_create(uint32_t cap)
{
    if (cap == 0 || cap > (1u << 29))
        return NULL;
    struct tunnel_ids *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    uint32_t hcap = 16;
    while (hcap < 2 * cap)
        hcap <<= 1;
    m->e = calloc(cap, sizeof *m->e);
    m->hash = calloc(hcap, sizeof *m->hash);
    if (!m->e || !m->hash) {
        tunnel_ids_destroy(m);
        return NULL;
    }
    m->cap = cap;
    m->hmask = hcap - 1;
    m->head = m->tail = m->live_first = NONE;
    m->free_head = NONE;        /* entries from fresh onwards were never used */
    m->next_index = 1;
    return m;
}

void tunnel_ids_destroy(struct tunnel_ids *m)
{
    if (!m)
        return;
    free(m->e);
    free(m->hash);
    free(m);
}

/* Hash position holding entry i. */
static uint32_t hash_pos(const struct tunnel_ids *m, uint32_t i)
{
    uint32_t p = (uint32_t)tunnel_ids_pair_hash(&m->e[i].local, &m->e[i].remote) & m->hmask;
    while (m->hash[p] != i + 1)
        p = (p + 1) & m->hmask;
    return p;
}

struct tunnel_id *tunnel_ids_find(struct tunnel_ids *m, const struct idt_addr *a,
                                  const struct idt_addr *b)
{
    uint32_t p = (uint32_t)tunnel_ids_pair_hash(a, b) & m->hmask;
    while (m->hash[p]) {
        struct tunnel_id *id = &m->e[m->hash[p] - 1];
        if (pair_match(id, a, b))
            return id;
        p = (p + 1) & m->hmask;
    }
    return NULL;
}

static void lru_unlink(struct tunnel_ids *m, uint32_t i)
{
    struct tunnel_id *id = &m->e[i];
    if (m->live_first == i)
        m->live_first = id->next;   /* the next one, if any, is live too */
    if (id->prev != NONE)
        m->e[id->prev].next = id->next;
    else
        m->head = id->next;
    if (id->next != NONE)
        m->e[id->next].prev = id->prev;
    else
        m->tail = id->prev;
}

static void lru_append(struct tunnel_ids *m, uint32_t i)
{
    m->e[i].prev = m->tail;
    m->e[i].next = NONE;
    if (m->tail != NONE)
        m->e[m->tail].next = i;
    else
        m->head = i;
    m->tail = i;
}

/* Link entry i as the most recent of its kind: live ones at the tail, the
 * others just before the first live one. */
static void lru_link(struct tunnel_ids *m, uint32_t i)
{
    struct tunnel_id *id = &m->e[i];
    if (id->live || m->live_first == NONE) {
        lru_append(m, i);
        if (id->live && m->live_first == NONE)
            m->live_first = i;
        return;
    }
    uint32_t nx = m->live_first;
    id->next = nx;
    id->prev = m->e[nx].prev;
    if (id->prev != NONE)
        m->e[id->prev].next = i;
    else
        m->head = i;
    m->e[nx].prev = i;
}

void tunnel_ids_remove(struct tunnel_ids *m, struct tunnel_id *id)
{
    if (!id->used)
        return;
    uint32_t i = (uint32_t)(id - m->e);
    /* backward-shift deletion keeps every probe chain intact */
    uint32_t hole = hash_pos(m, i), p = hole;
    m->hash[hole] = 0;
    for (;;) {
        p = (p + 1) & m->hmask;
        if (!m->hash[p])
            break;
        uint32_t j = m->hash[p] - 1;
        uint32_t home = (uint32_t)tunnel_ids_pair_hash(&m->e[j].local, &m->e[j].remote) & m->hmask;
        /* move j into the hole unless its home lies cyclically in (hole, p] */
        if (((p - home) & m->hmask) >= ((p - hole) & m->hmask)) {
            m->hash[hole] = m->hash[p];
            m->hash[p] = 0;
            hole = p;
        }
    }
    lru_unlink(m, i);
    memset(id, 0, sizeof *id);
    id->next = m->free_head;
    m->free_head = i;
    m->count--;
    m->changes++;
}

struct tunnel_id *tunnel_ids_insert(struct tunnel_ids *m, const struct idt_addr *local,
                                    const struct idt_addr *remote, uint32_t index,
                                    const char *name, uint64_t now_s)
{
    uint32_t i;
    if (m->free_head == NONE && m->fresh < m->cap) {
        i = m->fresh++;         /* untouched until now: a big map costs no RSS up front */
    } else {
        if (m->free_head == NONE)   /* the head is live only if all are */
            tunnel_ids_remove(m, &m->e[m->head]);
        i = m->free_head;
        m->free_head = m->e[i].next;
    }
    struct tunnel_id *id = &m->e[i];
    memset(id, 0, sizeof *id);
    id->used = 1;
    id->local = *local;
    id->remote = *remote;
    id->index = index;
    snprintf(id->name, sizeof id->name, "%s", name);
    id->last_seen_s = now_s;
    lru_link(m, i);
    uint32_t p = (uint32_t)tunnel_ids_pair_hash(local, remote) & m->hmask;
    while (m->hash[p])
        p = (p + 1) & m->hmask;
    m->hash[p] = i + 1;
    m->count++;
    m->changes++;
    return id;
}

static void touch_time(struct tunnel_ids *m, struct tunnel_id *id, uint64_t now_s)
{
    if (now_s > id->last_seen_s) {
        if (now_s - id->last_seen_s >= TOUCH_SAVE_S)
            m->changes++;
        id->last_seen_s = now_s;
    }
}

void tunnel_ids_touch(struct tunnel_ids *m, struct tunnel_id *id, uint64_t now_s)
{
    uint32_t i = (uint32_t)(id - m->e);
    if (m->tail != i) {
        lru_unlink(m, i);
        lru_link(m, i);
    }
    touch_time(m, id, now_s);
}

void tunnel_ids_set_live(struct tunnel_ids *m, struct tunnel_id *id, int live, uint64_t now_s)
{
    uint32_t i = (uint32_t)(id - m->e);
    lru_unlink(m, i);
    id->live = live ? 1 : 0;
    lru_link(m, i);
    touch_time(m, id, now_s);
}

struct tunnel_id *tunnel_ids_first(struct tunnel_ids *m)
{
    return m->head == NONE ? NULL : &m->e[m->head];
}

struct tunnel_id *tunnel_ids_next(struct tunnel_ids *m, const struct tunnel_id *id)
{
    return id->next == NONE ? NULL : &m->e[id->next];
}

void tunnel_ids_name(char *buf, const struct idt_addr *local, const struct idt_addr *remote,
                     uint32_t index, uint32_t alt)
{
    char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
    idt_addr_str(local, l, sizeof l);
    idt_addr_str(remote, r, sizeof r);
    size_t ln = strlen(l), rn = strlen(r);
    if (alt == 0 && ln + 1 + rn <= IDT_NAME_MAX - 1) {
        memcpy(buf, l, ln + 1);
        buf[ln] = '-';
        memcpy(buf + ln + 1, r, rn + 1);
    } else if (alt <= 1) {
        snprintf(buf, IDT_NAME_MAX, "tunnel-%" PRIu32, index);
    } else {
        snprintf(buf, IDT_NAME_MAX, "tunnel-%" PRIu32 "-%" PRIu32, index, alt);
    }
}

/* ------------------------------------------------------------ text form */

int tunnel_ids_format(struct tunnel_ids *m, tunnel_ids_writer out, void *ctx)
{
    char line[64 + 2 * INET6_ADDRSTRLEN + IDT_NAME_MAX];
    int n = snprintf(line, sizeof line, "ipsecdiagtool-tunnels %d\nnext-index %" PRIu64 "\n",
                     TUNNEL_IDS_VERSION, m->next_index);
    if (out(ctx, line, (size_t)n) < 0)
        return -1;
    uint32_t count = 0;
    for (struct tunnel_id *id = tunnel_ids_first(m); id; id = tunnel_ids_next(m, id)) {
        char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
        n = snprintf(line, sizeof line, "tunnel %" PRIu32 " %s %s %" PRIu64 " %s\n", id->index,
                     idt_addr_str(&id->local, l, sizeof l), idt_addr_str(&id->remote, r, sizeof r),
                     id->last_seen_s, id->name);
        if (out(ctx, line, (size_t)n) < 0)
            return -1;
        count++;
    }
    n = snprintf(line, sizeof line, "end %" PRIu32 "\n", count);
    return out(ctx, line, (size_t)n);
}

struct parser {
    const char *s;
    size_t len, pos;
    unsigned line;
    char *err;
    size_t errlen;
    const char *f[8];           /* fields of the current line */
    size_t flen[8];
    int nf;
};

static int perr(struct parser *p, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "line %u: ", p->line);
    if (n < 0 || (size_t)n >= p->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Split the next line into space-separated fields. */
static int next_line(struct parser *p)
{
    p->line++;
    if (p->pos >= p->len)
        return perr(p, "missing (the file is truncated)");
    const char *b = p->s + p->pos;
    const char *nl = memchr(b, '\n', p->len - p->pos);
    if (!nl)
        return perr(p, "no end of line (the file is truncated)");
    size_t n = (size_t)(nl - b);
    p->pos += n + 1;
    p->nf = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && b[j] != ' ')
            j++;
        if (j == i)
            return perr(p, "empty field (a stray space or an empty line)");
        if (p->nf == 8)
            return perr(p, "too many fields");
        p->f[p->nf] = b + i;
        p->flen[p->nf] = j - i;
        p->nf++;
        i = j + 1;
    }
    return 0;
}

static int field_is(const struct parser *p, int k, const char *word)
{
    return p->flen[k] == strlen(word) && memcmp(p->f[k], word, p->flen[k]) == 0;
}

/* Decimal without leading zeros, min..max. */
static int get_num(struct parser *p, int k, const char *what, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    const char *s = p->f[k];
    size_t n = p->flen[k];
    uint64_t v = 0;
    int ok = n > 0 && n <= 20 && !(n > 1 && s[0] == '0');
    for (size_t i = 0; ok && i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            ok = 0;
        else
            v = v * 10 + d;
    }
    if (!ok)
        return perr(p, "%s is not a decimal number", what);
    if (v < min || v > max)
        return perr(p, "%s %" PRIu64 " is out of range (%" PRIu64 "..%" PRIu64 ")", what, v,
                    min, max);
    *out = v;
    return 0;
}

static int get_addr(struct parser *p, int k, const char *what, struct idt_addr *out)
{
    char buf[INET6_ADDRSTRLEN], canon[INET6_ADDRSTRLEN];
    if (p->flen[k] >= sizeof buf)
        return perr(p, "%s address is too long", what);
    memcpy(buf, p->f[k], p->flen[k]);
    buf[p->flen[k]] = '\0';
    if (strlen(buf) != p->flen[k] || idt_addr_parse(buf, out) < 0)
        return perr(p, "%s address is not an IPv4 or IPv6 address", what);
    if (strcmp(idt_addr_str(out, canon, sizeof canon), buf) != 0)
        return perr(p, "%s address is not in canonical form (%s)", what, canon);
    return 0;
}

/* Is field k a name the scheme of tunnel_ids_name() gives this tunnel? */
static int name_ok(const struct parser *p, int k, const struct idt_addr *l,
                   const struct idt_addr *r, uint32_t index)
{
    char want[IDT_NAME_MAX];
    const char *s = p->f[k];
    size_t n = p->flen[k];
    if (n >= IDT_NAME_MAX)
        return 0;
    for (uint32_t alt = 0; alt < 2; alt++) {
        tunnel_ids_name(want, l, r, index, alt);
        if (strlen(want) == n && memcmp(want, s, n) == 0)
            return 1;
    }
    size_t m = strlen(want);        /* "tunnel-INDEX" */
    if (n < m + 2 || memcmp(want, s, m) != 0 || s[m] != '-')
        return 0;
    const char *d = s + m + 1;
    size_t dn = n - m - 1;
    if (dn > 10 || d[0] == '0')
        return 0;
    uint64_t alt = 0;
    for (size_t i = 0; i < dn; i++) {
        if (d[i] < '0' || d[i] > '9')
            return 0;
        alt = alt * 10 + (uint64_t)(d[i] - '0');
    }
    return alt >= 2 && alt <= UINT32_MAX;
}

struct index_set {
    uint32_t *h;
    uint32_t mask;
};

/* Add index (non-zero); 1 if it was already there. */
static int index_seen(struct index_set *s, uint32_t index)
{
    uint32_t p = (index * 0x9e3779b1u) & s->mask;
    while (s->h[p]) {
        if (s->h[p] == index)
            return 1;
        p = (p + 1) & s->mask;
    }
    s->h[p] = index;
    return 0;
}

static int parse_tunnel(struct parser *p, struct tunnel_ids *m, struct index_set *seen,
                        uint64_t next_index)
{
    if (p->nf != 6)
        return perr(p, "a tunnel line has 6 fields: tunnel INDEX LOCAL REMOTE SECONDS NAME");
    uint64_t index = 0, secs = 0;
    struct idt_addr l = {0}, r = {0};
    if (get_num(p, 1, "index", 1, next_index - 1, &index) < 0 ||
        get_addr(p, 2, "local", &l) < 0 || get_addr(p, 3, "remote", &r) < 0 ||
        get_num(p, 4, "last-seen seconds", 0, INT64_MAX, &secs) < 0)
        return -1;
    if (l.family != r.family)
        return perr(p, "local and remote addresses are of different families");
    if (idt_addr_eq(&l, &r))
        return perr(p, "local and remote addresses are the same");
    if (!name_ok(p, 5, &l, &r, (uint32_t)index))
        return perr(p, "name is not one this program generates for tunnel %" PRIu64, index);
    if (index_seen(seen, (uint32_t)index))
        return perr(p, "index %" PRIu64 " appears twice", index);
    if (tunnel_ids_find(m, &l, &r))
        return perr(p, "address pair appears twice");
    char name[IDT_NAME_MAX];
    memcpy(name, p->f[5], p->flen[5]);
    name[p->flen[5]] = '\0';
    tunnel_ids_insert(m, &l, &r, (uint32_t)index, name, secs);
    return 0;
}

static int parse_body(struct parser *p, struct tunnel_ids *m, struct index_set *seen)
{
    if (next_line(p) < 0)
        return -1;
    if (!field_is(p, 0, "ipsecdiagtool-tunnels") || p->nf != 2)
        return perr(p, "not an ipsecdiagtool tunnel state file (the first line is not "
                       "\"ipsecdiagtool-tunnels %d\")", TUNNEL_IDS_VERSION);
    if (!field_is(p, 1, "1")) {
        char v[24];
        size_t n = p->flen[1] < sizeof v - 1 ? p->flen[1] : sizeof v - 1;
        for (size_t i = 0; i < n; i++)
            v[i] = (unsigned char)p->f[1][i] < 0x20 || (unsigned char)p->f[1][i] > 0x7e ?
                   '?' : p->f[1][i];
        v[n] = '\0';
        return perr(p, "unknown version \"%s\" (this program reads version %d)", v,
                    TUNNEL_IDS_VERSION);
    }
    uint64_t next_index = 0;
    if (next_line(p) < 0)
        return -1;
    if (!field_is(p, 0, "next-index") || p->nf != 2)
        return perr(p, "expected \"next-index N\"");
    if (get_num(p, 1, "next-index", 1, (uint64_t)UINT32_MAX + 1, &next_index) < 0)
        return -1;
    m->next_index = next_index;
    uint64_t ntunnels = 0;
    for (;;) {
        if (next_line(p) < 0)
            return -1;
        if (field_is(p, 0, "end"))
            break;
        if (!field_is(p, 0, "tunnel"))
            return perr(p, "expected \"tunnel ...\" or \"end N\"");
        if (parse_tunnel(p, m, seen, next_index) < 0)
            return -1;
        ntunnels++;
    }
    uint64_t count = 0;
    if (p->nf != 2)
        return perr(p, "expected \"end N\"");
    if (get_num(p, 1, "end count", 0, UINT64_MAX, &count) < 0)
        return -1;
    if (count != ntunnels)
        return perr(p, "end count %" PRIu64 " does not match the %" PRIu64 " tunnel lines "
                       "(the file is damaged)", count, ntunnels);
    if (p->pos != p->len) {
        p->line++;
        return perr(p, "data after the end line");
    }
    return 0;
}

struct tunnel_ids *tunnel_ids_parse(const char *text, size_t len, uint32_t cap,
                                    char *err, size_t errlen)
{
    struct parser p = { .s = text, .len = len, .err = err, .errlen = errlen };
    if (errlen)
        err[0] = '\0';
    if (len == 0) {
        snprintf(err, errlen, "empty file");
        return NULL;
    }
    size_t lines = 0;
    for (const char *c = text; (c = memchr(c, '\n', len - (size_t)(c - text))) != NULL; c++)
        lines++;
    if (lines > ((size_t)1 << 28)) {
        snprintf(err, errlen, "too many lines");
        return NULL;
    }
    uint32_t hcap = 16;
    while (hcap < 2 * lines)
        hcap <<= 1;
    struct index_set seen = { calloc(hcap, sizeof *seen.h), hcap - 1 };
    struct tunnel_ids *m = tunnel_ids_create(cap);
    if (!seen.h || !m) {
        free(seen.h);
        tunnel_ids_destroy(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int r = parse_body(&p, m, &seen);
    free(seen.h);
    if (r < 0) {
        tunnel_ids_destroy(m);
        return NULL;
    }
    m->changes = 0;
    return m;
}
