/* test_tunnel_table.c - the tunnel table: stable identities of discovered
 * tunnels across a restart (via the state text) and reloads, configured
 * tunnels winning clashes, unique generated names, reloads that fail at
 * EVERY allocation leaving the table (and the engine) intact and usable,
 * and 1000 reloads leaving slots and memory flat.
 *
 * The allocator is wrapped (-Wl,--wrap=malloc,calloc,realloc,free, see
 * Makefile.am): fail_at = N makes the Nth allocation from then on fail, and
 * live_bytes follows the bytes in use (malloc_usable_size). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>

#include "engine.h"
#include "tunnel_table.h"

/* ------------------------------------------------------------ allocator */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long fail_at;            /* 0 = never, else fail the fail_at-th allocation */
static long nallocs;            /* allocations since fail_at was set */
static long long live_bytes;

static int should_fail(void)
{
    nallocs++;
    return fail_at && nallocs == fail_at;
}

static void arm(long n)
{
    fail_at = n;
    nallocs = 0;
}

void *__wrap_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __real_malloc(n);
    if (p)
        live_bytes += (long long)malloc_usable_size(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (should_fail())
        return NULL;
    void *p = __real_calloc(n, m);
    if (p)
        live_bytes += (long long)malloc_usable_size(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    long long old = p ? (long long)malloc_usable_size(p) : 0;
    void *q = __real_realloc(p, n);
    if (q)
        live_bytes += (long long)malloc_usable_size(q) - old;
    return q;
}

void __wrap_free(void *p)
{
    if (p)
        live_bytes -= (long long)malloc_usable_size(p);
    __real_free(p);
}

/* ------------------------------------------------------------ helpers */

static struct idt_addr A(const char *s)
{
    struct idt_addr a;
    assert_int_equal(idt_addr_parse(s, &a), 0);
    return a;
}

struct conf_tunnel {
    const char *name;
    uint32_t index;
    const char *local, *remote;
};

static void make_cfg(struct idt_config *c, const struct conf_tunnel *t, size_t n,
                     uint32_t max_tunnels)
{
    config_defaults(c);
    c->max_tunnels = max_tunnels;
    c->ntunnels = n;
    c->tunnels = calloc(n ? n : 1, sizeof *c->tunnels);
    for (size_t i = 0; i < n; i++) {
        struct idt_tunnel_conf *tc = &c->tunnels[i];
        snprintf(tc->name, sizeof tc->name, "%s", t[i].name);
        tc->index = t[i].index;
        tc->local = A(t[i].local);
        tc->remote = A(t[i].remote);
        tc->alert_lost = tc->alert_interval = tc->alert_ppm = -1;
        tc->alerts = 1;
    }
}

struct text {
    char s[1 << 16];
    size_t n;
};

static int put(void *ctx, const char *s, size_t n)
{
    struct text *b = ctx;
    if (b->n + n >= sizeof b->s)
        return -1;
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return 0;
}

static void state_text(struct tunnel_table *t, struct text *b)
{
    b->n = 0;
    b->s[0] = '\0';
    assert_int_equal(tunnel_ids_format(tunnel_table_ids(t), put, b), 0);
}

static struct tunnel *disc(struct tunnel_table *t, const char *l, const char *r, uint64_t now_us)
{
    struct idt_addr a = A(l), b = A(r);
    struct tunnel *tu = tunnel_table_add_discovered(t, &a, &b, now_us);
    assert_non_null(tu);
    struct idt_config defaults;         /* as the engine does */
    config_defaults(&defaults);
    struct alert_params ap;
    tunnel_alert_params(&defaults, tu, &ap);
    alert_init(&tu->alert, &ap, now_us);
    return tu;
}

static struct tunnel *find(struct tunnel_table *t, const char *l, const char *r)
{
    struct idt_addr a = A(l), b = A(r);
    return tunnel_table_find(t, &a, &b);
}

static const struct conf_tunnel conf1[] = {
    { "hq", 5, "192.0.2.1", "192.0.2.100" },
};

/* ------------------------------------------------------------ identities */

static void test_restart_reverse_order(void **state)
{
    (void)state;
    struct idt_config cfg;
    make_cfg(&cfg, conf1, 1, 100);
    struct text *txt = malloc(sizeof *txt);
    struct tunnel_table *t = tunnel_table_create(&cfg, cfg.max_tunnels, 1000000);
    /* first run: A, B, C in this order get 6, 7, 8 (configured max is 5) */
    struct tunnel *a = disc(t, "10.0.0.1", "10.0.1.1", 2000000);
    struct tunnel *b = disc(t, "10.0.0.1", "10.0.1.2", 3000000);
    struct tunnel *c = disc(t, "2001:db8:1111:2222:3333:4444:5555:6666",
                            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 4000000);
    assert_int_equal(a->index, 6);
    assert_int_equal(b->index, 7);
    assert_int_equal(c->index, 8);
    assert_string_equal(a->name, "10.0.0.1-10.0.1.1");
    assert_string_equal(c->name, "tunnel-8");
    tunnel_table_remove(t, b);      /* aged out: still remembered */
    state_text(t, txt);
    tunnel_table_destroy(t);

    /* restart: C, B, A (and B with its addresses swapped) */
    char err[256];
    t = tunnel_table_create(&cfg, cfg.max_tunnels, 9000000);
    assert_int_equal(tunnel_table_load_ids(t, txt->s, txt->n, err, sizeof err), 0);
    c = disc(t, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff",
             "2001:db8:1111:2222:3333:4444:5555:6666", 9000000);
    b = disc(t, "10.0.1.2", "10.0.0.1", 9100000);
    a = disc(t, "10.0.1.1", "10.0.0.1", 9200000);
    struct tunnel *d = disc(t, "10.0.0.1", "10.0.1.4", 9300000);
    assert_int_equal(c->index, 8);
    assert_string_equal(c->name, "tunnel-8");
    assert_int_equal(b->index, 7);
    assert_string_equal(b->name, "10.0.0.1-10.0.1.2");     /* remembered order */
    assert_true(idt_addr_eq(&b->local, &(struct idt_addr){0}) == 0);
    struct idt_addr l = A("10.0.0.1");
    assert_true(idt_addr_eq(&b->local, &l));
    assert_int_equal(a->index, 6);
    assert_string_equal(a->name, "10.0.0.1-10.0.1.1");
    assert_int_equal(d->index, 9);                          /* never used before */
    tunnel_table_destroy(t);

    /* a state text that does not parse changes nothing */
    t = tunnel_table_create(&cfg, cfg.max_tunnels, 0);
    assert_int_equal(tunnel_table_load_ids(t, txt->s, txt->n - 1, err, sizeof err), -1);
    assert_string_equal(err, "line 6: no end of line (the file is truncated)");
    assert_int_equal(disc(t, "10.0.0.1", "10.0.1.2", 0)->index, 6);
    /* and loading after a discovery is refused */
    assert_int_equal(tunnel_table_load_ids(t, txt->s, txt->n, err, sizeof err), -1);
    tunnel_table_destroy(t);
    config_free(&cfg);
    free(txt);
}

static void test_configured_wins(void **state)
{
    (void)state;
    struct idt_config cfg, cfg2;
    make_cfg(&cfg, conf1, 1, 100);
    struct text *txt = malloc(sizeof *txt);
    struct tunnel_table *t = tunnel_table_create(&cfg, 100, 0);
    disc(t, "10.0.0.1", "10.0.1.1", 0);     /* 6 */
    disc(t, "10.0.0.1", "10.0.1.2", 0);     /* 7 */
    disc(t, "10.0.0.1", "10.0.1.3", 0);     /* 8 */
    state_text(t, txt);
    tunnel_table_destroy(t);

    /* the new config takes index 6, the name of 7 and the pair of 8 */
    static const struct conf_tunnel conf2[] = {
        { "hq", 5, "192.0.2.1", "192.0.2.100" },
        { "six", 6, "192.0.2.1", "192.0.2.106" },
        { "10.0.0.1-10.0.1.2", 20, "192.0.2.1", "192.0.2.107" },
        { "eight", 21, "10.0.1.3", "10.0.0.1" },
    };
    make_cfg(&cfg2, conf2, 4, 100);
    char err[256];
    t = tunnel_table_create(&cfg2, 100, 0);
    assert_int_equal(tunnel_table_load_ids(t, txt->s, txt->n, err, sizeof err), 0);
    struct tunnel *a = disc(t, "10.0.0.1", "10.0.1.1", 0);
    struct tunnel *b = disc(t, "10.0.0.1", "10.0.1.2", 0);
    struct tunnel *n = disc(t, "10.0.0.1", "10.0.1.9", 0);
    assert_int_equal(a->index, 22);         /* re-indexed above every configured one */
    assert_string_equal(a->name, "10.0.0.1-10.0.1.1");
    assert_int_equal(b->index, 7);          /* renamed */
    assert_string_equal(b->name, "tunnel-7");
    assert_int_equal(n->index, 23);
    struct tunnel *e = find(t, "10.0.0.1", "10.0.1.3");
    assert_non_null(e);
    assert_int_equal(e->origin, TUNNEL_CONFIGURED);
    assert_int_equal(tunnel_table_ids(t)->count, 3);    /* 8's identity was dropped */
    tunnel_table_destroy(t);
    config_free(&cfg);
    config_free(&cfg2);
    free(txt);
}

static void test_long_names_unique(void **state)
{
    (void)state;
    /* configured names that the scheme would generate */
    static const struct conf_tunnel conf[] = {
        { "tunnel-2", 1, "192.0.2.1", "192.0.2.2" },
        { "tunnel-3", 30, "192.0.2.1", "192.0.2.3" },
        { "tunnel-3-2", 31, "192.0.2.1", "192.0.2.4" },
    };
    struct idt_config cfg;
    make_cfg(&cfg, conf, 3, 100);
    struct tunnel_table *t = tunnel_table_create(&cfg, 100, 0);
    struct tunnel *x = disc(t, "2001:db8:1111:2222:3333:4444:5555:6666",
                            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 0);
    struct tunnel *y = disc(t, "2001:db8:1111:2222:3333:4444:5555:6666",
                            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:fff0", 0);
    assert_int_equal(x->index, 32);
    assert_string_equal(x->name, "tunnel-32");
    assert_int_equal(y->index, 33);
    assert_string_equal(y->name, "tunnel-33");
    tunnel_table_destroy(t);
    config_free(&cfg);

    /* index 2 and 3 free for discovery: their names are configured */
    static const struct conf_tunnel conf_b[] = {
        { "tunnel-2", 1, "192.0.2.1", "192.0.2.2" },
    };
    make_cfg(&cfg, conf_b, 1, 100);
    t = tunnel_table_create(&cfg, 100, 0);
    x = disc(t, "2001:db8:1111:2222:3333:4444:5555:6666", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 0);
    assert_int_equal(x->index, 2);
    assert_string_equal(x->name, "tunnel-2-2");
    tunnel_table_destroy(t);
    config_free(&cfg);
}

static void test_reload_index_change(void **state)
{
    (void)state;
    static const struct conf_tunnel c1[] = {
        { "a", 1, "192.0.2.1", "192.0.2.2" }, { "b", 2, "192.0.2.1", "192.0.2.3" },
    };
    static const struct conf_tunnel c2[] = {
        { "a", 1, "192.0.2.1", "192.0.2.2" }, { "b", 9, "192.0.2.1", "192.0.2.3" },
    };
    struct idt_config cfg1, cfg2;
    make_cfg(&cfg1, c1, 2, 10);
    make_cfg(&cfg2, c2, 2, 10);
    struct tunnel_table *t = tunnel_table_create(&cfg1, 10, 1000);
    struct tunnel *d = disc(t, "10.0.0.1", "10.0.0.2", 1500);       /* 3 */
    d->in.received = 77;
    assert_int_equal(d->index, 3);
    assert_int_equal(tunnel_table_reconfigure(t, &cfg2, 5000), 0);
    struct tunnel *a = find(t, "192.0.2.1", "192.0.2.2");
    struct tunnel *b = find(t, "192.0.2.1", "192.0.2.3");
    d = find(t, "10.0.0.1", "10.0.0.2");
    assert_int_equal(a->created_us, 1000);
    assert_int_equal(b->index, 9);
    assert_int_equal(b->created_us, 5000);
    assert_int_equal(d->index, 3);
    assert_int_equal(d->created_us, 1500);
    assert_int_equal(d->in.received, 77);
    /* a new discovered tunnel gets 10, above the new configured 9 */
    assert_int_equal(disc(t, "10.0.0.1", "10.0.0.3", 6000)->index, 10);
    /* a configured tunnel now takes 3: the discovered one is re-indexed */
    static const struct conf_tunnel c3[] = {
        { "a", 1, "192.0.2.1", "192.0.2.2" }, { "c", 3, "192.0.2.1", "192.0.2.4" },
    };
    struct idt_config cfg3;
    make_cfg(&cfg3, c3, 2, 10);
    assert_int_equal(tunnel_table_reconfigure(t, &cfg3, 7000), 0);
    d = find(t, "10.0.0.1", "10.0.0.2");
    assert_int_equal(d->index, 11);
    assert_int_equal(d->created_us, 7000);
    assert_int_equal(d->in.received, 77);
    assert_null(find(t, "192.0.2.1", "192.0.2.3"));       /* b is gone */
    tunnel_table_destroy(t);
    config_free(&cfg1);
    config_free(&cfg2);
    config_free(&cfg3);
}

/* ------------------------------------------------------------ failing reloads */

struct snap {
    uint32_t slots, count;
    struct tunnel *tu;
    struct text txt;
};

static void take(struct tunnel_table *t, struct snap *s)
{
    s->slots = tunnel_table_slots(t);
    s->count = tunnel_table_count(t);
    s->tu = __real_calloc(s->slots, sizeof *s->tu);
    for (uint32_t i = 0; i < s->slots; i++) {
        struct tunnel *tu = tunnel_table_at(t, i);
        if (tu)
            s->tu[i] = *tu;
    }
    state_text(t, &s->txt);
}

static void same(struct tunnel_table *t, const struct snap *s)
{
    assert_int_equal(tunnel_table_slots(t), s->slots);
    assert_int_equal(tunnel_table_count(t), s->count);
    for (uint32_t i = 0; i < s->slots; i++) {
        struct tunnel *tu = tunnel_table_at(t, i);
        if (!tu) {
            assert_int_equal(s->tu[i].used, 0);
            continue;
        }
        assert_memory_equal(tu, &s->tu[i], sizeof *tu);
        assert_ptr_equal(tunnel_table_find(t, &tu->remote, &tu->local), tu);
    }
    struct text *now = malloc(sizeof *now);
    state_text(t, now);
    assert_string_equal(now->s, s->txt.s);
    free(now);
}

static void test_reload_fails_everywhere(void **state)
{
    (void)state;
    static const struct conf_tunnel c1[] = {
        { "a", 1, "192.0.2.1", "192.0.2.2" }, { "b", 2, "192.0.2.1", "192.0.2.3" },
        { "c", 3, "192.0.2.1", "192.0.2.4" },
    };
    static const struct conf_tunnel c2[] = {
        { "a", 4, "192.0.2.1", "192.0.2.2" }, { "d", 5, "10.0.0.1", "10.0.1.2" },
        { "e", 6, "192.0.2.1", "192.0.2.9" },
    };
    struct idt_config cfg1, cfg2;
    make_cfg(&cfg1, c1, 3, 50);
    make_cfg(&cfg2, c2, 3, 50);
    struct tunnel_table *t = tunnel_table_create(&cfg1, 50, 0);
    char l[32], r[32];
    for (int i = 1; i <= 12; i++) {      /* 12 discovered: the slots grow once */
        snprintf(l, sizeof l, "10.0.0.1");
        snprintf(r, sizeof r, "10.0.1.%d", i);
        disc(t, l, r, (uint64_t)i)->in.received = (uint64_t)i * 10;
    }
    struct snap s;
    long k;
    int failed = 0;
    for (k = 1;; k++) {
        take(t, &s);
        arm(k);
        int rc = tunnel_table_reconfigure(t, &cfg2, 1000);
        long used = nallocs;
        arm(0);
        if (rc == 0) {
            assert_true(used < k);          /* it did not meet the failure */
            __real_free(s.tu);
            break;
        }
        failed++;
        same(t, &s);
        /* still usable: a lookup, a discovery, an aging */
        assert_non_null(find(t, "10.0.0.1", "10.0.1.5"));
        struct tunnel *x = disc(t, "10.0.0.1", "10.0.3.1", 2000);
        tunnel_table_remove(t, x);
        __real_free(s.tu);
    }
    assert_int_equal(failed, k - 1);
    assert_true(failed >= 3);               /* slots, hash, configured index */
    /* the reload did happen: d took the pair of 10.0.1.2, e is new, a is 4 */
    assert_int_equal(find(t, "10.0.0.1", "10.0.1.2")->origin, TUNNEL_CONFIGURED);
    assert_int_equal(find(t, "192.0.2.1", "192.0.2.2")->index, 4);
    assert_null(find(t, "192.0.2.1", "192.0.2.3"));
    assert_int_equal(find(t, "10.0.0.1", "10.0.1.7")->in.received, 70);
    tunnel_table_destroy(t);
    config_free(&cfg1);
    config_free(&cfg2);
}

static void test_reload_flat(void **state)
{
    (void)state;
    static const struct conf_tunnel c1[] = {
        { "a", 1, "192.0.2.1", "192.0.2.2" }, { "b", 2, "192.0.2.1", "192.0.2.3" },
    };
    static const struct conf_tunnel c2[] = {
        { "a", 1, "192.0.2.1", "192.0.2.2" }, { "c", 3, "192.0.2.1", "192.0.2.4" },
    };
    struct idt_config cfg1, cfg2;
    make_cfg(&cfg1, c1, 2, 100);
    make_cfg(&cfg2, c2, 2, 100);
    struct tunnel_table *t = tunnel_table_create(&cfg1, 100, 0);
    char r[32];
    for (int i = 1; i <= 20; i++) {
        snprintf(r, sizeof r, "10.0.1.%d", i);
        disc(t, "10.0.0.1", r, 0);
    }
    assert_int_equal(tunnel_table_reconfigure(t, &cfg2, 1), 0);
    assert_int_equal(tunnel_table_reconfigure(t, &cfg1, 2), 0);
    uint32_t slots = tunnel_table_slots(t);
    long long bytes = live_bytes;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(tunnel_table_reconfigure(t, i % 2 ? &cfg1 : &cfg2, (uint64_t)i + 3), 0);
    assert_int_equal(tunnel_table_slots(t), slots);
    assert_int_equal(live_bytes, bytes);
    assert_true(slots <= 2 * (2 + 20 + 2) + 8);
    assert_int_equal(tunnel_table_count(t), 22);
    tunnel_table_destroy(t);
    config_free(&cfg1);
    config_free(&cfg2);
}

/* Aging churn: the slots stay bounded by the most tunnels alive at once. */
static void test_churn_slots(void **state)
{
    (void)state;
    struct idt_config cfg;
    make_cfg(&cfg, conf1, 1, 1000);
    struct tunnel_table *t = tunnel_table_create(&cfg, 1000, 0);
    char r[32];
    uint32_t live[10];      /* slots: pointers move when the slots grow */
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 10; i++) {
            snprintf(r, sizeof r, "10.%d.1.%d", round, i);
            live[i] = tunnel_table_slot(t, disc(t, "10.0.0.1", r, 0));
        }
        for (int i = 0; i < 10; i++)
            tunnel_table_remove(t, tunnel_table_at(t, live[i]));
    }
    assert_true(tunnel_table_slots(t) <= 2 * (1 + 10) + 8);
    assert_int_equal(tunnel_table_count(t), 1);
    assert_int_equal(tunnel_table_ids(t)->count, 500);
    tunnel_table_destroy(t);
    config_free(&cfg);
}

/* Backward-shift deletion under churn: pairs chosen so that their home
 * buckets form one cluster that wraps around the end of the pair hash
 * (256 buckets for 1 + 64 slots), added and removed in a pseudo-random
 * order; after every step each pair is found exactly when it was added
 * and not removed since (array model).  No allocation after create. */
static void test_hash_churn_clusters(void **state)
{
    (void)state;
    struct idt_config cfg;
    make_cfg(&cfg, conf1, 1, 64);
    struct tunnel_table *t = tunnel_table_create(&cfg, 64, 0);
    struct idt_addr hub = A("192.0.2.1"), cand[48];
    int n = 0;
    for (uint32_t k = 0; n < 48 && k < 1000000; k++) {
        struct idt_addr a = { .family = 4, .a = { 10, (uint8_t)(k >> 16), (uint8_t)(k >> 8),
                                                  (uint8_t)k } };
        uint32_t home = (uint32_t)tunnel_ids_pair_hash(&a, &hub) & 255;
        if (home >= 248 || home <= 3)
            cand[n++] = a;
    }
    assert_int_equal(n, 48);
    int in[48] = { 0 };
    uint32_t rng = 12345;
    arm(1);                     /* the next allocation would fail: there is none */
    for (int step = 0; step < 20000; step++) {
        rng = rng * 1103515245u + 12345u;
        int i = (int)((rng >> 16) % 48);
        struct tunnel *tu = tunnel_table_find(t, &cand[i], &hub);
        if (in[i]) {
            assert_non_null(tu);
            tunnel_table_remove(t, tu);
            in[i] = 0;
        } else {
            assert_null(tu);
            tu = tunnel_table_add_discovered(t, &cand[i], &hub, 0);
            assert_non_null(tu);
            in[i] = 1;
        }
        uint32_t live = 0;
        for (int j = 0; j < 48; j++) {
            struct tunnel *f = tunnel_table_find(t, &hub, &cand[j]);
            if (in[j]) {
                live++;
                assert_non_null(f);
                assert_true(idt_addr_eq(&f->remote, &cand[j]) || idt_addr_eq(&f->local, &cand[j]));
            } else {
                assert_null(f);
            }
        }
        assert_int_equal(tunnel_table_count(t), 1 + live);
    }
    assert_int_equal(nallocs, 0);
    arm(0);
    tunnel_table_destroy(t);
    config_free(&cfg);
}

/* The cap of discovered tunnels is reached without any allocation (slots
 * and hash are reserved at create); one more is refused. */
static void test_add_never_allocates(void **state)
{
    (void)state;
    struct idt_config cfg;
    make_cfg(&cfg, conf1, 1, 1000);
    struct tunnel_table *t = tunnel_table_create(&cfg, 1000, 0);
    struct idt_addr hub = A("192.0.2.1");
    arm(1);
    for (uint32_t k = 0; k < 1000; k++) {
        struct idt_addr a = { .family = 4, .a = { 10, 0, (uint8_t)(k >> 8), (uint8_t)k } };
        assert_non_null(tunnel_table_add_discovered(t, &a, &hub, 0));
    }
    struct idt_addr x = A("10.9.9.9");
    assert_null(tunnel_table_add_discovered(t, &x, &hub, 0));
    assert_int_equal(nallocs, 0);
    arm(0);
    assert_int_equal(tunnel_table_count(t), 1001);
    tunnel_table_destroy(t);
    config_free(&cfg);
}

/* Identities of live tunnels survive churn at the identity cap: with 500
 * tunnels alive all the time and 20,000 others coming and going, the live
 * ones keep their identity in the map (never evicted). */
static void test_live_ids_never_evicted(void **state)
{
    (void)state;
    struct idt_config cfg;
    make_cfg(&cfg, conf1, 1, 1000);
    struct tunnel_table *t = tunnel_table_create(&cfg, 1000, 0);
    struct idt_addr hub = A("192.0.2.1");
    for (uint32_t k = 0; k < 500; k++) {
        struct idt_addr a = { .family = 4, .a = { 10, 1, (uint8_t)(k >> 8), (uint8_t)k } };
        assert_non_null(tunnel_table_add_discovered(t, &a, &hub, 0));
    }
    for (uint32_t k = 0; k < 20000; k++) {
        struct idt_addr a = { .family = 4, .a = { 10, 2, (uint8_t)(k >> 8), (uint8_t)k } };
        struct tunnel *tu = tunnel_table_add_discovered(t, &a, &hub, (uint64_t)k * 1000000);
        assert_non_null(tu);
        tu->last_seen_us = (uint64_t)k * 1000000;
        tunnel_table_remove(t, tu);
    }
    struct tunnel_ids *ids = tunnel_table_ids(t);
    assert_int_equal(ids->count, 1000);
    for (uint32_t k = 0; k < 500; k++) {
        struct idt_addr a = { .family = 4, .a = { 10, 1, (uint8_t)(k >> 8), (uint8_t)k } };
        struct tunnel_id *id = tunnel_ids_find(ids, &a, &hub);
        assert_non_null(id);
        assert_int_equal(id->live, 1);
        assert_int_equal(id->index, 6 + k);
    }
    /* the 500 remembered dead ones are the most recent: 19500..19999 */
    struct idt_addr old = { .family = 4, .a = { 10, 2, (uint8_t)(19499 >> 8), (uint8_t)19499 } };
    struct idt_addr kept = { .family = 4, .a = { 10, 2, (uint8_t)(19500 >> 8), (uint8_t)19500 } };
    assert_null(tunnel_ids_find(ids, &old, &hub));
    assert_non_null(tunnel_ids_find(ids, &kept, &hub));
    assert_int_equal(tunnel_ids_find(ids, &kept, &hub)->last_seen_s, 19500);
    tunnel_table_destroy(t);
    config_free(&cfg);
}

/* ------------------------------------------------------------ the engine */

/* A raw IPv4 ESP packet (DLT_RAW): 20-byte header, SPI, sequence, 8 bytes. */
static void esp4(uint8_t *p, const char *src, const char *dst, uint32_t spi, uint32_t seq)
{
    struct idt_addr s = A(src), d = A(dst);
    memset(p, 0, 36);
    p[0] = 0x45;
    p[3] = 36;
    p[8] = 64;
    p[9] = 50;
    memcpy(p + 12, s.a, 4);
    memcpy(p + 16, d.a, 4);
    p[20] = (uint8_t)(spi >> 24); p[21] = (uint8_t)(spi >> 16);
    p[22] = (uint8_t)(spi >> 8); p[23] = (uint8_t)spi;
    p[24] = (uint8_t)(seq >> 24); p[25] = (uint8_t)(seq >> 16);
    p[26] = (uint8_t)(seq >> 8); p[27] = (uint8_t)seq;
}

static void test_engine_reload_fails_everywhere(void **state)
{
    (void)state;
    static const struct conf_tunnel c1[] = {
        { "a", 1, "192.0.2.1", "192.0.2.2" }, { "b", 2, "192.0.2.1", "192.0.2.3" },
    };
    static const struct conf_tunnel c2[] = {
        { "a", 1, "192.0.2.1", "192.0.2.2" },
    };
    struct idt_config cfg1, cfg2;
    make_cfg(&cfg1, c1, 2, 50);
    make_cfg(&cfg2, c2, 1, 50);
    struct engine e;
    assert_int_equal(engine_init(&e, &cfg1, 0, 1000000), 0);
    uint8_t pkt[36];
    uint64_t ts = 1000000;
    for (uint32_t seq = 1; seq <= 3; seq++) {
        esp4(pkt, "192.0.2.3", "192.0.2.1", 0x100, seq);        /* b */
        engine_packet(&e, IDT_DLT_RAW, ts += 1000, pkt, 36, 36);
        esp4(pkt, "10.0.0.2", "10.0.0.1", 0x200, seq);          /* discovered 3 */
        engine_packet(&e, IDT_DLT_RAW, ts += 1000, pkt, 36, 36);
    }
    assert_int_equal(e.st.esp, 6);
    assert_int_equal(find(e.tunnels, "192.0.2.1", "192.0.2.3")->in.received, 3);
    assert_int_equal(find(e.tunnels, "10.0.0.1", "10.0.0.2")->index, 3);
    struct snap s;
    long k;
    for (k = 1;; k++) {
        take(e.tunnels, &s);
        arm(k);
        int rc = engine_reconfigure(&e, &cfg2);
        arm(0);
        if (rc == 0) {
            __real_free(s.tu);
            break;
        }
        assert_ptr_equal(e.cfg, &cfg1);
        same(e.tunnels, &s);
        __real_free(s.tu);
        /* the engine goes on counting with the old set */
        esp4(pkt, "192.0.2.3", "192.0.2.1", 0x100, 3 + (uint32_t)k);
        engine_packet(&e, IDT_DLT_RAW, ts += 1000, pkt, 36, 36);
        assert_int_equal(find(e.tunnels, "192.0.2.1", "192.0.2.3")->in.received, 3 + k);
    }
    assert_true(k >= 3);
    assert_ptr_equal(e.cfg, &cfg2);
    /* b is gone from the config: its SA now belongs to a discovered tunnel */
    struct tunnel *b = find(e.tunnels, "192.0.2.1", "192.0.2.3");
    assert_int_equal(b->origin, TUNNEL_DISCOVERED);
    assert_int_equal(b->active_sas, 1);
    assert_int_equal(b->index, 4);
    assert_int_equal(find(e.tunnels, "10.0.0.1", "10.0.0.2")->active_sas, 1);
    esp4(pkt, "192.0.2.3", "192.0.2.1", 0x100, 100);
    engine_packet(&e, IDT_DLT_RAW, ts += 1000, pkt, 36, 36);
    assert_int_equal(b->in.received, 1);
    engine_free(&e);
    config_free(&cfg1);
    config_free(&cfg2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_reverse_order),
        cmocka_unit_test(test_configured_wins),
        cmocka_unit_test(test_long_names_unique),
        cmocka_unit_test(test_reload_index_change),
        cmocka_unit_test(test_reload_fails_everywhere),
        cmocka_unit_test(test_reload_flat),
        cmocka_unit_test(test_churn_slots),
        cmocka_unit_test(test_hash_churn_clusters),
        cmocka_unit_test(test_add_never_allocates),
        cmocka_unit_test(test_live_ids_never_evicted),
        cmocka_unit_test(test_engine_reload_fails_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
