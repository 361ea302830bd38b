/* sa_table.c - fixed-capacity open-addressing hash table of SAs.
 *
 * Layout (all reserved once in sa_table_create):
 *  slab   max_sas entries of `stride` bytes (struct sa_entry + bitmap),
 *         mmap'ed anonymous so that pages are only backed once used;
 *         slots are handed out in increasing order (hwm = high-water
 *         mark), removed slots go to a LIFO free list and are reused first
 *  index  uint32 per bucket, 0 = empty, else slot + 1; reserved for the
 *         next power of two >= 2 * max_sas buckets, but used from 1024
 *         buckets on and doubled (rehashed from the slab) whenever the load
 *         would pass 3/4, so that its pages, like the slab's, are touched
 *         in proportion to the live SAs; linear probing, backward-shift
 *         deletion (no tombstones)
 *  live   one bit per slot, for iteration in slab order
 *  links  prev/next slot per slot: the FIFOs of tentative entries (one
 *         per admission class, oldest at the head), so that admission,
 *         confirmation and eviction are O(1)
 *
 * The hash is keyed with a per-table random seed (getrandom), so that an
 * attacker who controls SPIs and addresses cannot precompute colliding
 * keys: 128-bit multiply-fold rounds over the five key words, each word
 * mixed with its own secret.
 */
#include "sa_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define SA_TABLE_MAX_SAS (1u << 28)
#define SA_INDEX_START 1024u    /* buckets in use at first */
#define NIL UINT32_MAX

struct link {
    uint32_t prev, next;
};

struct fifo {
    uint32_t head, tail, n;
};

struct sa_table {
    uint8_t *slab;
    uint32_t *index;
    uint32_t *free_slots;   /* stack of removed slot numbers */
    uint64_t *live;         /* bit per slot */
    struct link *links;     /* FIFO links of tentative slots */
    size_t stride;
    size_t slab_bytes, index_bytes, free_bytes, live_bytes, links_bytes;
    uint32_t max_sas, window;
    uint32_t count, hwm, nfree;
    uint32_t open_count;    /* live entries of SA_CLASS_OPEN */
    uint32_t reserve;       /* slots only SA_CLASS_RESERVED entries may use */
    struct fifo tent[2];    /* tentative entries by class, oldest first */
    uint32_t index_mask;    /* buckets in use - 1 */
    uint32_t index_max;     /* buckets reserved */
    uint64_t secret[6];
};

_Static_assert(sizeof(struct sa_key) == 40, "sa_key must be 40 bytes, no holes");
_Static_assert(sizeof(struct sa_entry) % 8 == 0, "sa_entry alignment");

/* ------------------------------------------------------------- memory */

static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void unmap(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

/* ------------------------------------------------------------- hashing */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* 64x64 -> 128 multiply, folded: hi ^ lo. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    /* 32-bit targets: schoolbook 128-bit product */
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    uint64_t lo = (mid << 32) | (uint32_t)ll;
    uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return lo ^ hi;
#endif
}

/* One 8-byte word of a key (memcpy: no aliasing or alignment issue, and
 * compiled to a single load; loading words straight from the entry and
 * the key keeps them in registers, with no stack copy to stall on). */
static inline uint64_t kw(const struct sa_key *k, unsigned i)
{
    uint64_t v;
    memcpy(&v, (const char *)k + 8u * i, 8);
    return v;
}

static inline uint64_t key_hash(const struct sa_table *t, const struct sa_key *k)
{
    uint64_t a = mum(kw(k, 0) ^ t->secret[0], kw(k, 1) ^ t->secret[1]);
    uint64_t b = mum(kw(k, 2) ^ t->secret[2], kw(k, 3) ^ t->secret[3]);
    return mum(a ^ t->secret[5], b ^ kw(k, 4) ^ t->secret[4]);
}

static inline int key_eq(const struct sa_key *a, const struct sa_key *b)
{
    return ((kw(a, 0) ^ kw(b, 0)) | (kw(a, 1) ^ kw(b, 1)) | (kw(a, 2) ^ kw(b, 2)) |
            (kw(a, 3) ^ kw(b, 3)) | (kw(a, 4) ^ kw(b, 4))) == 0;
}

/* ------------------------------------------------------------- helpers */

static inline struct sa_entry *slot_entry(const struct sa_table *t, uint32_t slot)
{
    return (struct sa_entry *)(void *)(t->slab + (size_t)slot * t->stride);
}

/* Slot number of e, or UINT32_MAX if e is not the start of a slot. */
static inline uint32_t entry_slot(const struct sa_table *t, const struct sa_entry *e)
{
    uintptr_t p = (uintptr_t)e, base = (uintptr_t)t->slab;
    if (p < base || p - base >= t->slab_bytes || (p - base) % t->stride != 0)
        return UINT32_MAX;
    return (uint32_t)((p - base) / t->stride);
}

static inline uint32_t home_bucket(const struct sa_table *t, const struct sa_key *k)
{
    return (uint32_t)key_hash(t, k) & t->index_mask;
}

/* --------------------------------------------------------------- API */

static struct sa_table *create(uint32_t max_sas, uint32_t window, uint64_t seed)
{
    if (max_sas == 0 || max_sas > SA_TABLE_MAX_SAS)
        return NULL;
    if (window < RW_MIN_WINDOW)
        window = RW_MIN_WINDOW;
    if (window > RW_MAX_WINDOW)
        window = RW_MAX_WINDOW;

    struct sa_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->max_sas = max_sas;
    t->window = window;
    t->stride = (sizeof(struct sa_entry) + RW_WORDS(window) * sizeof(uint64_t) + 7u)
                & ~(size_t)7u;

    uint64_t cap = 1;
    while (cap < 2ull * max_sas)
        cap <<= 1;
    t->index_max = (uint32_t)cap;
    t->index_mask = (uint32_t)(cap < SA_INDEX_START ? cap : SA_INDEX_START) - 1u;

    if ((uint64_t)max_sas * t->stride > SIZE_MAX / 2u || cap * 4u > SIZE_MAX / 2u) {
        free(t);                                /* 32-bit address space */
        return NULL;
    }
    t->slab_bytes = (size_t)max_sas * t->stride;
    t->index_bytes = (size_t)cap * sizeof(uint32_t);
    t->free_bytes = (size_t)max_sas * sizeof(uint32_t);
    t->live_bytes = ((size_t)max_sas + 63u) / 64u * sizeof(uint64_t);
    t->links_bytes = (size_t)max_sas * sizeof(struct link);
    t->slab = map_zeroed(t->slab_bytes);
    t->index = map_zeroed(t->index_bytes);
    t->free_slots = map_zeroed(t->free_bytes);
    t->live = map_zeroed(t->live_bytes);
    t->links = map_zeroed(t->links_bytes);
    for (int c = 0; c < 2; c++)
        t->tent[c].head = t->tent[c].tail = NIL;
    if (!t->slab || !t->index || !t->free_slots || !t->live || !t->links) {
        sa_table_destroy(t);
        return NULL;
    }
    for (int i = 0; i < 6; i++)
        t->secret[i] = splitmix64(&seed) | 1u;
    return t;
}

struct sa_table *sa_table_create(uint32_t max_sas, uint32_t window)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
        /* no entropy yet (early boot): still unpredictable enough to not
         * be precomputable offline */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec
               ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts;
    }
    return create(max_sas, window, seed);
}

struct sa_table *sa_table_create_seeded(uint32_t max_sas, uint32_t window, uint64_t seed)
{
    return create(max_sas, window, seed);
}

void sa_table_destroy(struct sa_table *t)
{
    if (!t)
        return;
    unmap(t->slab, t->slab_bytes);
    unmap(t->index, t->index_bytes);
    unmap(t->free_slots, t->free_bytes);
    unmap(t->live, t->live_bytes);
    unmap(t->links, t->links_bytes);
    free(t);
}

struct sa_entry *sa_table_find(struct sa_table *t, const struct sa_key *key)
{
    uint32_t i = home_bucket(t, key);
    for (;;) {
        uint32_t v = t->index[i];
        if (v == 0)
            return NULL;
        struct sa_entry *e = slot_entry(t, v - 1u);
        if (key_eq(&e->key, key))
            return e;
        i = (i + 1u) & t->index_mask;
    }
}

/* Double the buckets in use and re-insert every live entry.  O(count),
 * and it happens log2(max_sas / 512) times at most in a table's life:
 * amortised O(1) per insert; the memory was reserved at create. */
static void grow_index(struct sa_table *t)
{
    uint32_t old = t->index_mask + 1u, size = old * 2u;
    memset(t->index, 0, (size_t)old * sizeof(uint32_t));
    t->index_mask = size - 1u;
    for (uint32_t w = 0; w < (t->hwm + 63u) / 64u; w++) {
        for (uint64_t bits = t->live[w]; bits; bits &= bits - 1u) {
            uint32_t slot = w * 64u + (uint32_t)__builtin_ctzll(bits);
            uint32_t i = home_bucket(t, &slot_entry(t, slot)->key);
            while (t->index[i])
                i = (i + 1u) & t->index_mask;
            t->index[i] = slot + 1u;
        }
    }
}

/* ------------------------------------------------------------- FIFOs */

static void fifo_push(struct sa_table *t, struct fifo *f, uint32_t slot)
{
    t->links[slot].prev = f->tail;
    t->links[slot].next = NIL;
    if (f->tail != NIL)
        t->links[f->tail].next = slot;
    else
        f->head = slot;
    f->tail = slot;
    f->n++;
}

static void fifo_unlink(struct sa_table *t, struct fifo *f, uint32_t slot)
{
    struct link *l = &t->links[slot];
    if (l->prev != NIL)
        t->links[l->prev].next = l->next;
    else
        f->head = l->next;
    if (l->next != NIL)
        t->links[l->next].prev = l->prev;
    else
        f->tail = l->prev;
    f->n--;
}

static inline int has_room(const struct sa_table *t, enum sa_class cls)
{
    if (t->count >= t->max_sas)
        return 0;
    return cls == SA_CLASS_RESERVED || t->open_count < t->max_sas - t->reserve;
}

int sa_table_admit(struct sa_table *t, enum sa_class cls, struct sa_entry **victim)
{
    *victim = NULL;
    if (has_room(t, cls))
        return 1;
    uint32_t slot = t->tent[SA_CLASS_OPEN].head;
    if (slot == NIL && cls == SA_CLASS_RESERVED)
        slot = t->tent[SA_CLASS_RESERVED].head;
    if (slot != NIL)
        *victim = slot_entry(t, slot);
    return 0;
}

void sa_table_confirm(struct sa_table *t, struct sa_entry *e)
{
    if (!(e->flags & SA_F_TENTATIVE))
        return;
    uint32_t slot = entry_slot(t, e);
    if (slot == UINT32_MAX || slot >= t->hwm)
        return;
    fifo_unlink(t, &t->tent[e->flags & SA_F_RESERVED ? 1 : 0], slot);
    e->flags &= (uint16_t)~SA_F_TENTATIVE;
}

void sa_table_set_reserve(struct sa_table *t, uint32_t reserve)
{
    t->reserve = reserve > t->max_sas / 2u ? t->max_sas / 2u : reserve;
}

uint32_t sa_table_reserve(const struct sa_table *t)
{
    return t->reserve;
}

uint32_t sa_table_tentative_count(const struct sa_table *t)
{
    return t->tent[0].n + t->tent[1].n;
}

uint32_t sa_table_open_count(const struct sa_table *t)
{
    return t->open_count;
}

/* ------------------------------------------------------------- insert */

struct sa_entry *sa_table_insert_class(struct sa_table *t, const struct sa_key *key,
                                       enum sa_class cls, int *created)
{
    if (4u * (t->count + 1u) > 3u * (t->index_mask + 1u) && t->index_mask + 1u < t->index_max &&
        has_room(t, cls) && !sa_table_find(t, key))
        grow_index(t);
    uint32_t i = home_bucket(t, key);
    if (created)
        *created = 0;
    for (;;) {
        uint32_t v = t->index[i];
        if (v == 0)
            break;
        struct sa_entry *e = slot_entry(t, v - 1u);
        if (key_eq(&e->key, key))
            return e;
        i = (i + 1u) & t->index_mask;
    }
    if (!has_room(t, cls))
        return NULL;

    uint32_t slot;
    if (t->nfree > 0)
        slot = t->free_slots[--t->nfree];
    else
        slot = t->hwm++;
    struct sa_entry *e = slot_entry(t, slot);
    memset(e, 0, t->stride);
    e->key = *key;
    rw_init(&e->rw, e->bits, t->window);
    e->flags = (uint16_t)(SA_F_TENTATIVE | (cls == SA_CLASS_RESERVED ? SA_F_RESERVED : 0u));
    fifo_push(t, &t->tent[cls == SA_CLASS_RESERVED ? 1 : 0], slot);
    if (cls != SA_CLASS_RESERVED)
        t->open_count++;
    t->live[slot >> 6] |= (uint64_t)1 << (slot & 63u);
    t->index[i] = slot + 1u;
    t->count++;
    if (created)
        *created = 1;
    return e;
}

struct sa_entry *sa_table_insert(struct sa_table *t, const struct sa_key *key,
                                 int *created)
{
    return sa_table_insert_class(t, key, SA_CLASS_OPEN, created);
}

void sa_table_remove(struct sa_table *t, struct sa_entry *e)
{
    if (!t || !e)
        return;
    uint32_t slot = entry_slot(t, e);
    if (slot == UINT32_MAX || slot >= t->hwm || !(t->live[slot >> 6] & ((uint64_t)1 << (slot & 63u))))
        return;                                 /* not a live entry */

    /* find its bucket */
    uint32_t i = home_bucket(t, &e->key);
    while (t->index[i] != slot + 1u) {
        if (t->index[i] == 0)
            return;                             /* cannot happen */
        i = (i + 1u) & t->index_mask;
    }

    /* backward-shift deletion: pull later members of the cluster into
     * the hole when their home bucket is not in (hole, j] cyclically */
    uint32_t hole = i, j = i;
    for (;;) {
        j = (j + 1u) & t->index_mask;
        uint32_t v = t->index[j];
        if (v == 0)
            break;
        uint32_t home = home_bucket(t, &slot_entry(t, v - 1u)->key);
        if (((j - home) & t->index_mask) >= ((j - hole) & t->index_mask)) {
            t->index[hole] = v;
            hole = j;
        }
    }
    t->index[hole] = 0;

    if (e->flags & SA_F_TENTATIVE)
        fifo_unlink(t, &t->tent[e->flags & SA_F_RESERVED ? 1 : 0], slot);
    if (!(e->flags & SA_F_RESERVED))
        t->open_count--;
    e->flags = 0;
    t->live[slot >> 6] &= ~((uint64_t)1 << (slot & 63u));
    t->free_slots[t->nfree++] = slot;
    t->count--;
}

uint32_t sa_table_count(const struct sa_table *t)
{
    return t->count;
}

uint32_t sa_table_capacity(const struct sa_table *t)
{
    return t->max_sas;
}

uint32_t sa_table_window(const struct sa_table *t)
{
    return t->window;
}

struct sa_entry *sa_table_next(struct sa_table *t, uint32_t *cursor)
{
    uint32_t s = *cursor;
    while (s < t->hwm) {
        uint64_t word = t->live[s >> 6] >> (s & 63u);
        if (word) {
            s += (uint32_t)__builtin_ctzll(word);
            if (s >= t->hwm)
                break;
            *cursor = s + 1u;
            return slot_entry(t, s);
        }
        s = (s | 63u) + 1u;                    /* next word */
    }
    *cursor = t->hwm;
    return NULL;
}

size_t sa_table_entry_size(const struct sa_table *t)
{
    size_t total = t->slab_bytes + t->index_bytes + t->free_bytes + t->live_bytes +
                   t->links_bytes;
    return (total + t->max_sas - 1u) / t->max_sas;
}

size_t sa_table_slot_stride(const struct sa_table *t)
{
    return t->stride;
}

uint32_t sa_table_bucket_of(const struct sa_table *t, const struct sa_key *key)
{
    return home_bucket(t, key);
}

uint32_t sa_table_index_capacity(const struct sa_table *t)
{
    return t->index_mask + 1u;
}
