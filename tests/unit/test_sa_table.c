/* test_sa_table.c - SA hash table: insert/find/remove, capacity, free-list
 * reuse, colliding keys, iteration, backward-shift deletion under random
 * churn (checked against a plain array model), memory per SA.
 *
 * Sizes (x86-64): sizeof(struct sa_key) = 40, sizeof(struct sa_entry) =
 * 136 (40 key + 8 tunnel/encap/direction/flags + 8 timestamps (2 x 32-bit
 * seconds) + 8 octets + 72 rw_state); slot stride = 136 + RW_WORDS(W) * 8:
 * W=64 -> 144, W=100 -> 152, W=4096 -> 648.  Index: 4 bytes per bucket, 2..4 buckets per SA
 * (8..16 bytes); free list 4; FIFO links of tentative entries 8; live
 * bitmap 1/8.  Per SA: W=64 <= 165, W=4096 <= 669.  (test_sizes prints
 * the real numbers.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sa_table.h"

static uint64_t rng = 0x5A7AB1Eull;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Key number n: IPv4 10.x.y.z -> 192.168.0.1, SPI n (distinct for
 * distinct n < 2^32). */
static struct sa_key key4(uint32_t n)
{
    struct sa_key k;
    memset(&k, 0, sizeof(k));
    k.family = 4;
    k.spi = n;
    k.src[0] = 10;
    k.src[1] = (uint8_t)(n >> 16);
    k.src[2] = (uint8_t)(n >> 8);
    k.src[3] = (uint8_t)n;
    k.dst[0] = 192; k.dst[1] = 168; k.dst[2] = 0; k.dst[3] = 1;
    return k;
}

static struct sa_key key6(uint32_t n)
{
    struct sa_key k;
    memset(&k, 0, sizeof(k));
    k.family = 6;
    k.spi = 0x1000u;
    k.src[0] = 0x20; k.src[1] = 0x01; k.src[2] = 0x0d; k.src[3] = 0xb8;
    memcpy(&k.src[12], &n, 4);
    k.dst[0] = 0xfe; k.dst[1] = 0x80; k.dst[15] = 1;
    return k;
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct sa_key), 40);
    /* 56 bytes of key and bookkeeping + 8 octets + struct rw_state (72) */
    assert_int_equal(sizeof(struct rw_state), 72);
    assert_int_equal(sizeof(struct sa_entry), 136);
    static const struct { uint32_t w, stride; size_t budget; } c[] = {
        { 32, 144, 256 }, { 64, 144, 256 }, { 100, 152, 256 },
        { 1000, 264, 512 }, { 4096, 648, 768 },
    };
    static const uint32_t caps[] = { 1, 3, 1000, 1024, 1025, 65536, 65537 };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        for (size_t j = 0; j < sizeof(caps) / sizeof(caps[0]); j++) {
            struct sa_table *t = sa_table_create_seeded(caps[j], c[i].w, 1);
            assert_non_null(t);
            assert_int_equal(sa_table_window(t), c[i].w);
            assert_int_equal(sa_table_capacity(t), caps[j]);
            assert_int_equal(sa_table_slot_stride(t), c[i].stride);
            if (caps[j] >= 1000)
                assert_true(sa_table_entry_size(t) <= c[i].budget);
            if (caps[j] == 65536 || caps[j] == 65537)
                printf("# W=%-4u max_sas=%-6u stride=%zu index buckets=%u "
                       "bytes/SA=%zu\n", c[i].w, caps[j], sa_table_slot_stride(t),
                       sa_table_index_capacity(t), sa_table_entry_size(t));
            /* index: reserved for the next power of two >= 2 * max_sas
             * buckets, 1024 of them in use at first */
            uint32_t want = 1;
            while (want < 2u * caps[j])
                want <<= 1;
            assert_int_equal(sa_table_index_capacity(t), want < 1024u ? want : 1024u);
            sa_table_destroy(t);
        }
    }
    /* limits */
    assert_null(sa_table_create(0, 64));
    assert_null(sa_table_create((1u << 28) + 1u, 64));
    struct sa_table *t = sa_table_create(10, 5);     /* window clamped */
    assert_non_null(t);
    assert_int_equal(sa_table_window(t), 32);
    sa_table_destroy(t);
    sa_table_destroy(NULL);
}

static void test_basic(void **state)
{
    (void)state;
    struct sa_table *t = sa_table_create(16, 100);
    assert_non_null(t);
    assert_int_equal(sa_table_count(t), 0);

    struct sa_key k1 = key4(1), k2 = key6(1);
    assert_null(sa_table_find(t, &k1));

    int created = -1;
    struct sa_entry *e1 = sa_table_insert(t, &k1, &created);
    assert_non_null(e1);
    assert_int_equal(created, 1);
    assert_memory_equal(&e1->key, &k1, sizeof(k1));
    assert_int_equal(e1->rw.window, 100);
    assert_int_equal(e1->rw.started, 0);
    assert_int_equal(e1->rw.received, 0);
    assert_int_equal(e1->tunnel, 0);
    assert_int_equal(e1->last_seen_s, 0);
    assert_int_equal(sa_table_count(t), 1);
    assert_ptr_equal(((uintptr_t)e1) % 8, 0);

    /* the bitmap is usable inline */
    assert_int_equal(rw_update(&e1->rw, e1->bits, 7, NULL, NULL, NULL, NULL), RW_NEW);
    assert_int_equal(rw_update(&e1->rw, e1->bits, 9, NULL, NULL, NULL, NULL), RW_NEXT);
    e1->tunnel = 42;

    /* same key: found, not created */
    created = -1;
    assert_ptr_equal(sa_table_insert(t, &k1, &created), e1);
    assert_int_equal(created, 0);
    assert_int_equal(sa_table_count(t), 1);
    assert_ptr_equal(sa_table_find(t, &k1), e1);
    /* a v6 key with the same SPI and leading bytes is different */
    assert_null(sa_table_find(t, &k2));
    struct sa_entry *e2 = sa_table_insert(t, &k2, NULL);
    assert_non_null(e2);
    assert_ptr_not_equal(e1, e2);
    assert_int_equal(sa_table_count(t), 2);
    assert_int_equal(e1->tunnel, 42);
    assert_int_equal(e1->rw.high, 9);

    sa_table_remove(t, e1);
    assert_int_equal(sa_table_count(t), 1);
    assert_null(sa_table_find(t, &k1));
    assert_ptr_equal(sa_table_find(t, &k2), e2);
    /* removing a pointer that is not a live entry is ignored */
    sa_table_remove(t, e1);
    sa_table_remove(t, NULL);
    assert_int_equal(sa_table_count(t), 1);

    /* reinsert: fresh zeroed entry (the slot is reused), window re-inited */
    struct sa_entry *e3 = sa_table_insert(t, &k1, &created);
    assert_int_equal(created, 1);
    assert_ptr_equal(e3, e1);            /* LIFO free list: same slot */
    assert_int_equal(e3->tunnel, 0);
    assert_int_equal(e3->rw.started, 0);
    assert_int_equal(e3->rw.received, 0);
    assert_int_equal(e3->rw.window, 100);
    assert_int_equal(e3->bits[0], 0);
    assert_int_equal(e3->bits[1], 0);
    sa_table_destroy(t);
}

static void test_full(void **state)
{
    (void)state;
    const uint32_t cap = 100;
    struct sa_table *t = sa_table_create(cap, 64);
    struct sa_entry *e[100];
    for (uint32_t i = 0; i < cap; i++) {
        struct sa_key k = key4(i);
        int c = 0;
        e[i] = sa_table_insert(t, &k, &c);
        assert_non_null(e[i]);
        assert_int_equal(c, 1);
    }
    assert_int_equal(sa_table_count(t), cap);
    struct sa_key extra = key4(1000);
    int c = -1;
    assert_null(sa_table_insert(t, &extra, &c));
    assert_int_equal(c, 0);
    assert_int_equal(sa_table_count(t), cap);
    /* existing keys are still found when full */
    for (uint32_t i = 0; i < cap; i++) {
        struct sa_key k = key4(i);
        assert_ptr_equal(sa_table_insert(t, &k, &c), e[i]);
        assert_int_equal(c, 0);
    }
    /* remove one, the extra one fits, then full again */
    sa_table_remove(t, e[37]);
    assert_ptr_equal(sa_table_insert(t, &extra, &c), e[37]);
    assert_int_equal(c, 1);
    struct sa_key k37 = key4(37);
    assert_null(sa_table_insert(t, &k37, &c));
    assert_null(sa_table_find(t, &k37));
    /* capacity 1 */
    struct sa_table *t1 = sa_table_create(1, 4096);
    struct sa_key a = key4(1), b = key4(2);
    struct sa_entry *ea = sa_table_insert(t1, &a, NULL);
    assert_non_null(ea);
    assert_null(sa_table_insert(t1, &b, NULL));
    sa_table_remove(t1, ea);
    assert_non_null(sa_table_insert(t1, &b, NULL));
    assert_null(sa_table_find(t1, &a));
    sa_table_destroy(t1);
    sa_table_destroy(t);
}

/* The index starts at 1024 buckets and doubles when an insert would load
 * it past 3/4: inserting the c-th entry grows it when 4c > 3 * buckets, so
 * by hand 769 -> 2048, 1537 -> 4096, 3073 -> 8192, 6145 -> 16384;
 * 12,288 entries fit in 16384 and the 12,289th doubles it again, of the
 * 131072 reserved for max_sas 65536.  Every key stays findable across the rehashes, also
 * after removals, and a full small table never grows past its reserve. */
static void test_index_growth(void **state)
{
    (void)state;
    struct sa_table *t = sa_table_create_seeded(65536, 64, 42);
    assert_int_equal(sa_table_index_capacity(t), 1024);
    static const struct { uint32_t n, buckets; } steps[] = {
        { 768, 1024 }, { 769, 2048 }, { 1536, 2048 }, { 1537, 4096 },
        { 3073, 8192 }, { 6145, 16384 }, { 12288, 16384 }, { 12289, 32768 },
    };
    uint32_t n = 0;
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        for (; n < steps[k].n; n++) {
            int created = 0;
            struct sa_key key = (n & 1) ? key6(n) : key4(n);
            struct sa_entry *e = sa_table_insert(t, &key, &created);
            assert_non_null(e);
            assert_int_equal(created, 1);
            e->tunnel = n;
        }
        assert_int_equal(sa_table_index_capacity(t), steps[k].buckets);
    }
    for (uint32_t i = 0; i < n; i += 3)  {
        struct sa_key key = (i & 1) ? key6(i) : key4(i);
        sa_table_remove(t, sa_table_find(t, &key));
    }
    for (uint32_t i = 0; i < n; i++) {
        struct sa_key key = (i & 1) ? key6(i) : key4(i);
        struct sa_entry *e = sa_table_find(t, &key);
        if (i % 3 == 0) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->tunnel, i);
        }
    }
    sa_table_destroy(t);

    t = sa_table_create_seeded(300, 64, 7);      /* reserve 1024: never grows */
    for (uint32_t i = 0; i < 400; i++) {
        struct sa_key key = key4(i);
        struct sa_entry *e = sa_table_insert(t, &key, NULL);
        if (i < 300)
            assert_non_null(e);
        else
            assert_null(e);
    }
    assert_int_equal(sa_table_index_capacity(t), 1024);
    sa_table_destroy(t);
}

/* Keys that all share one home bucket (found by search with the table's
 * own bucket function), including a cluster that wraps around the end
 * of the index.  Remove from the middle, the front, the back; every
 * other key must remain findable (backward shift). */
static void test_collisions(void **state)
{
    (void)state;
    const uint32_t cap = 512;       /* index 1024 buckets */
    for (int round = 0; round < 2; round++) {
        struct sa_table *t = sa_table_create_seeded(cap, 64, 0xC0111DE + (uint64_t)round);
        uint32_t nb = sa_table_index_capacity(t);
        assert_int_equal(nb, 1024);
        /* round 0: home bucket 5; round 1: the last bucket (wraps) */
        uint32_t target = round == 0 ? 5 : nb - 1;
        enum { N = 200 };
        struct sa_key keys[N];
        struct sa_entry *ent[N];
        int present[N];
        uint32_t found = 0;
        for (uint32_t n = 0; found < N; n++) {
            struct sa_key k = (n & 1) ? key6(n) : key4(n);
            if (sa_table_bucket_of(t, &k) == target)
                keys[found++] = k;
        }
        for (uint32_t i = 0; i < N; i++) {
            ent[i] = sa_table_insert(t, &keys[i], NULL);
            assert_non_null(ent[i]);
            ent[i]->tunnel = i;
            present[i] = 1;
        }
        /* plus 50 keys homed in the 8 buckets from the target on, so
         * that the cluster mixes home buckets */
        for (uint32_t n = 0, extra = 0; extra < 50; n++) {
            struct sa_key k = key4(0x80000000u + n);
            uint32_t b = sa_table_bucket_of(t, &k);
            if (((b - target) & (nb - 1)) < 8u) {
                struct sa_entry *x = sa_table_insert(t, &k, NULL);
                assert_non_null(x);
                x->tunnel = 0xFFFF0000u + extra++;
            }
        }
        assert_int_equal(sa_table_count(t), N + 50);
        static const uint32_t order[] = { 100, 0, 199, 1, 150, 2, 198, 50, 51, 52 };
        for (size_t r = 0; r < sizeof(order) / sizeof(order[0]); r++) {
            sa_table_remove(t, ent[order[r]]);
            present[order[r]] = 0;
            for (uint32_t i = 0; i < N; i++) {
                struct sa_entry *f = sa_table_find(t, &keys[i]);
                if (present[i]) {
                    assert_ptr_equal(f, ent[i]);
                    assert_int_equal(f->tunnel, i);
                } else {
                    assert_null(f);
                }
            }
        }
        /* remove all the rest, table must be empty and every bucket free:
         * a full refill must work */
        for (uint32_t i = 0; i < N; i++)
            if (present[i])
                sa_table_remove(t, ent[i]);
        uint32_t cur = 0;
        struct sa_entry *e;
        while ((e = sa_table_next(t, &cur)) != NULL)
            sa_table_remove(t, e);
        assert_int_equal(sa_table_count(t), 0);
        for (uint32_t i = 0; i < cap; i++) {
            struct sa_key k = key4(i);
            assert_non_null(sa_table_insert(t, &k, NULL));
        }
        assert_int_equal(sa_table_count(t), cap);
        sa_table_destroy(t);
    }
}

static void test_iteration(void **state)
{
    (void)state;
    const uint32_t cap = 300;
    struct sa_table *t = sa_table_create(cap, 64);
    uint32_t cur = 0;
    assert_null(sa_table_next(t, &cur));
    for (uint32_t i = 0; i < 250; i++) {
        struct sa_key k = key4(i);
        struct sa_entry *e = sa_table_insert(t, &k, NULL);
        e->tunnel = i;
    }
    /* remove every third */
    for (uint32_t i = 0; i < 250; i += 3) {
        struct sa_key k = key4(i);
        sa_table_remove(t, sa_table_find(t, &k));
    }
    uint8_t seen[250];
    memset(seen, 0, sizeof(seen));
    cur = 0;
    struct sa_entry *e;
    uint32_t n = 0;
    while ((e = sa_table_next(t, &cur)) != NULL) {
        assert_true(e->tunnel < 250);
        assert_int_not_equal(e->tunnel % 3, 0);
        assert_int_equal(seen[e->tunnel], 0);
        seen[e->tunnel] = 1;
        n++;
    }
    assert_int_equal(n, 250 - 84);         /* 0, 3, ..., 249: 84 removed */
    assert_int_equal(sa_table_count(t), 166);
    assert_null(sa_table_next(t, &cur));   /* stays at the end */

    /* removing while iterating: remove every visited entry with odd tag,
     * each live entry is still visited exactly once */
    memset(seen, 0, sizeof(seen));
    cur = 0;
    n = 0;
    while ((e = sa_table_next(t, &cur)) != NULL) {
        assert_int_equal(seen[e->tunnel], 0);
        seen[e->tunnel] = 1;
        n++;
        if (e->tunnel & 1)
            sa_table_remove(t, e);
    }
    assert_int_equal(n, 166);
    /* odd tags not divisible by 3 in 0..249: 125 odd - 42 odd multiples
     * of 3 (3, 9, ..., 249) = 83 */
    assert_int_equal(sa_table_count(t), 166 - 83);
    n = 0;
    cur = 0;
    while ((e = sa_table_next(t, &cur)) != NULL) {
        assert_int_equal(e->tunnel & 1, 0);
        n++;
    }
    assert_int_equal(n, 83);

    /* removing everything during one pass */
    cur = 0;
    while ((e = sa_table_next(t, &cur)) != NULL)
        sa_table_remove(t, e);
    assert_int_equal(sa_table_count(t), 0);
    cur = 0;
    assert_null(sa_table_next(t, &cur));
    sa_table_destroy(t);
}

/* Random churn against a plain array model. */
static void churn(uint32_t cap, uint32_t universe, uint32_t ops, uint64_t seed)
{
    struct sa_table *t = sa_table_create_seeded(cap, 64, seed);
    struct sa_entry **model = calloc(universe, sizeof(*model));
    uint8_t *seen = calloc(universe, 1);
    assert_non_null(t);
    uint32_t live = 0;
    for (uint32_t op = 0; op < ops; op++) {
        uint32_t id = (uint32_t)(rnd() % universe);
        struct sa_key k = (id & 1) ? key6(id) : key4(id);
        uint32_t what = (uint32_t)(rnd() % 10);
        if (what < 5) {
            int c = -1;
            struct sa_entry *e = sa_table_insert(t, &k, &c);
            if (model[id]) {
                assert_ptr_equal(e, model[id]);
                assert_int_equal(c, 0);
            } else if (live == cap) {
                assert_null(e);
                assert_int_equal(c, 0);
            } else {
                assert_non_null(e);
                assert_int_equal(c, 1);
                e->tunnel = id;
                model[id] = e;
                live++;
            }
        } else if (what < 9) {
            if (model[id]) {
                sa_table_remove(t, model[id]);
                model[id] = NULL;
                live--;
            }
            assert_null(sa_table_find(t, &k));
        } else {
            assert_ptr_equal(sa_table_find(t, &k), model[id]);
        }
        assert_int_equal(sa_table_count(t), live);
        if (op % 997 == 0 || op == ops - 1) {
            /* full check: every key, and iteration */
            for (uint32_t i = 0; i < universe; i++) {
                struct sa_key ki = (i & 1) ? key6(i) : key4(i);
                struct sa_entry *f = sa_table_find(t, &ki);
                assert_ptr_equal(f, model[i]);
                if (f) {
                    assert_int_equal(f->tunnel, i);
                    assert_memory_equal(&f->key, &ki, sizeof(ki));
                }
            }
            memset(seen, 0, universe);
            uint32_t cur = 0, n = 0;
            struct sa_entry *e;
            while ((e = sa_table_next(t, &cur)) != NULL) {
                assert_true(e->tunnel < universe);
                assert_ptr_equal(model[e->tunnel], e);
                assert_int_equal(seen[e->tunnel], 0);
                seen[e->tunnel] = 1;
                n++;
            }
            assert_int_equal(n, live);
        }
    }
    free(seen);
    free(model);
    sa_table_destroy(t);
}

static void test_churn(void **state)
{
    (void)state;
    churn(1, 4, 2000, 1);               /* index of 2 buckets */
    churn(3, 10, 5000, 2);              /* 8 buckets, wrap-around */
    churn(64, 200, 50000, 3);           /* often full: load 1/2 */
    churn(1000, 1500, 200000, 4);
    churn(4096, 20000, 200000, 5);      /* mostly full */
}

/* 1,000,000 distinct insert attempts into a 65536 table: the first 65536
 * succeed, everything after returns NULL and the table stays consistent. */
static void test_million(void **state)
{
    (void)state;
    struct sa_table *t = sa_table_create(65536, 64);
    uint32_t ok = 0;
    for (uint32_t i = 0; i < 1000000; i++) {
        struct sa_key k = key4(i * 2654435761u);    /* distinct: odd multiplier */
        int c = -1;
        struct sa_entry *e = sa_table_insert(t, &k, &c);
        if (i < 65536) {
            assert_non_null(e);
            assert_int_equal(c, 1);
            ok++;
        } else if (e != NULL) {
            fail_msg("insert %u succeeded past capacity", i);
        }
    }
    assert_int_equal(ok, 65536);
    assert_int_equal(sa_table_count(t), 65536);
    for (uint32_t i = 0; i < 65536; i += 17) {
        struct sa_key k = key4(i * 2654435761u);
        assert_non_null(sa_table_find(t, &k));
    }
    sa_table_destroy(t);
}

/* Slab pages are only backed when used: a 1,000,000-SA table at W=4096
 * reserves ~660 MB but its RSS grows by far less until entries are
 * inserted. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_lazy_memory(void **state)
{
    (void)state;
    long before = rss_kb();
    if (before < 0)
        skip();
    struct sa_table *t = sa_table_create(1000000, 4096);
    assert_non_null(t);
    long after_create = rss_kb();
    printf("# 1e6 x W=4096: reserved %zu bytes/SA (%zu MB), RSS +%ld kB after create\n",
           sa_table_entry_size(t), sa_table_entry_size(t) * 1000000u >> 20,
           after_create - before);
    assert_true(after_create - before < 16 * 1024);
    for (uint32_t i = 0; i < 1000; i++) {
        struct sa_key k = key4(i);
        assert_non_null(sa_table_insert(t, &k, NULL));
    }
    long after_insert = rss_kb();
    printf("# RSS +%ld kB after 1000 inserts\n", after_insert - before);
    /* 1000 slots * 632 bytes = 617 kB of slab, plus touched index pages */
    assert_true(after_insert - before < 16 * 1024);
    sa_table_destroy(t);
}

/* Two tables with different seeds place the same keys differently (the
 * seed is really used). */
static void test_seed(void **state)
{
    (void)state;
    struct sa_table *a = sa_table_create_seeded(1024, 64, 1);
    struct sa_table *b = sa_table_create_seeded(1024, 64, 2);
    struct sa_table *c = sa_table_create_seeded(1024, 64, 1);
    uint32_t differ = 0;
    for (uint32_t i = 0; i < 100; i++) {
        struct sa_key k = key4(i);
        differ += sa_table_bucket_of(a, &k) != sa_table_bucket_of(b, &k);
        assert_int_equal(sa_table_bucket_of(a, &k), sa_table_bucket_of(c, &k));
    }
    assert_true(differ > 90);
    sa_table_destroy(a);
    sa_table_destroy(b);
    sa_table_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_index_growth),
        cmocka_unit_test(test_collisions),
        cmocka_unit_test(test_iteration),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_million),
        cmocka_unit_test(test_lazy_memory),
        cmocka_unit_test(test_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
