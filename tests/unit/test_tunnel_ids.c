/* test_tunnel_ids.c - remembered tunnel identities: map operations, LRU
 * eviction, the generated-name scheme, the text form (exact text, round
 * trip, every truncation, corrupt inputs with their error lines), and
 * backward-shift deletion under random churn against an array model.
 * Expected texts and names are written out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tunnel_ids.h"

static struct idt_addr A(const char *s)
{
    struct idt_addr a;
    assert_int_equal(idt_addr_parse(s, &a), 0);
    return a;
}

struct buf {
    char s[65536];
    size_t n;
};

static int put(void *ctx, const char *s, size_t n)
{
    struct buf *b = ctx;
    if (b->n + n >= sizeof b->s)
        return -1;
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return 0;
}

static void format(struct tunnel_ids *m, struct buf *b)
{
    b->n = 0;
    b->s[0] = '\0';
    assert_int_equal(tunnel_ids_format(m, put, b), 0);
}

static void test_basic(void **state)
{
    (void)state;
    struct tunnel_ids *m = tunnel_ids_create(4);
    assert_non_null(m);
    struct idt_addr a = A("192.0.2.1"), b = A("198.51.100.2"), c = A("203.0.113.3");
    assert_null(tunnel_ids_find(m, &a, &b));
    struct tunnel_id *id = tunnel_ids_insert(m, &a, &b, 6, "192.0.2.1-198.51.100.2", 100);
    assert_ptr_equal(tunnel_ids_find(m, &a, &b), id);
    assert_ptr_equal(tunnel_ids_find(m, &b, &a), id);
    assert_null(tunnel_ids_find(m, &a, &c));
    assert_int_equal(id->index, 6);
    assert_string_equal(id->name, "192.0.2.1-198.51.100.2");
    assert_true(idt_addr_eq(&id->local, &a));
    assert_int_equal(m->count, 1);
    uint64_t ch = m->changes;
    tunnel_ids_remove(m, id);
    assert_int_equal(m->count, 0);
    assert_true(m->changes > ch);
    assert_null(tunnel_ids_find(m, &a, &b));
    assert_null(tunnel_ids_first(m));
    tunnel_ids_destroy(m);
    assert_null(tunnel_ids_create(0));
}

static void test_names(void **state)
{
    (void)state;
    char n[IDT_NAME_MAX];
    struct idt_addr a = A("192.0.2.1"), b = A("198.51.100.2");
    tunnel_ids_name(n, &a, &b, 7, 0);
    assert_string_equal(n, "192.0.2.1-198.51.100.2");
    tunnel_ids_name(n, &a, &b, 7, 1);
    assert_string_equal(n, "tunnel-7");
    tunnel_ids_name(n, &a, &b, 7, 2);
    assert_string_equal(n, "tunnel-7-2");
    tunnel_ids_name(n, &a, &b, 4294967295u, 4294967295u);
    assert_string_equal(n, "tunnel-4294967295-4294967295");
    /* 24 + 1 + 38 = 63 characters: fits; one more does not */
    struct idt_addr l63 = A("2001:db8:11:2:3:4:5:6666"), l64 = A("2001:db8:111:2:3:4:5:6666");
    struct idt_addr r = A("2001:db8:1111:2222:3333:4444:5555:6666");
    tunnel_ids_name(n, &l63, &r, 9, 0);
    assert_string_equal(n, "2001:db8:11:2:3:4:5:6666-2001:db8:1111:2222:3333:4444:5555:6666");
    assert_int_equal(strlen(n), 63);
    tunnel_ids_name(n, &l64, &r, 9, 0);
    assert_string_equal(n, "tunnel-9");
}

static void test_lru(void **state)
{
    (void)state;
    struct tunnel_ids *m = tunnel_ids_create(3);
    struct idt_addr l = A("10.0.0.1"), r1 = A("10.0.1.1"), r2 = A("10.0.1.2"),
                    r3 = A("10.0.1.3"), r4 = A("10.0.1.4");
    struct tunnel_id *i1 = tunnel_ids_insert(m, &l, &r1, 1, "tunnel-1", 10);
    tunnel_ids_insert(m, &l, &r2, 2, "tunnel-2", 11);
    tunnel_ids_insert(m, &l, &r3, 3, "tunnel-3", 12);
    tunnel_ids_touch(m, i1, 20);          /* order now 2, 3, 1 */
    assert_int_equal(i1->last_seen_s, 20);
    tunnel_ids_touch(m, i1, 15);          /* time never goes back */
    assert_int_equal(i1->last_seen_s, 20);
    tunnel_ids_insert(m, &l, &r4, 4, "tunnel-4", 21);  /* evicts 2 */
    assert_int_equal(m->count, 3);
    assert_null(tunnel_ids_find(m, &l, &r2));
    assert_non_null(tunnel_ids_find(m, &l, &r1));
    assert_non_null(tunnel_ids_find(m, &l, &r3));
    uint32_t order[3], k = 0;
    for (struct tunnel_id *id = tunnel_ids_first(m); id; id = tunnel_ids_next(m, id))
        order[k++] = id->index;
    assert_int_equal(k, 3);
    assert_int_equal(order[0], 3);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 4);
    /* a touch within the hour moves the entry but is not worth a save */
    uint64_t ch = m->changes;
    tunnel_ids_touch(m, tunnel_ids_find(m, &l, &r3), 22);
    assert_int_equal(m->changes, ch);
    tunnel_ids_touch(m, tunnel_ids_find(m, &l, &r3), 22 + 3600);
    assert_int_equal(m->changes, ch + 1);
    tunnel_ids_destroy(m);
}

static uint32_t order_of(struct tunnel_ids *m, uint32_t *out, uint32_t max)
{
    uint32_t k = 0;
    for (struct tunnel_id *id = tunnel_ids_first(m); id && k < max; id = tunnel_ids_next(m, id))
        out[k++] = id->index;
    return k;
}

/* Live identities (tunnels that exist) come after the others, are never
 * evicted while another remains, and return among the others, as their
 * most recent, when no longer live. */
static void test_live(void **state)
{
    (void)state;
    struct tunnel_ids *m = tunnel_ids_create(3);
    struct idt_addr l = A("10.0.0.1"), r[7];
    char rs[32];
    for (int i = 1; i <= 6; i++) {
        snprintf(rs, sizeof rs, "10.0.1.%d", i);
        r[i] = A(rs);
    }
    uint32_t o[8];
    for (uint32_t i = 1; i <= 3; i++)
        tunnel_ids_insert(m, &l, &r[i], i, "x", 10 + i);
    tunnel_ids_set_live(m, tunnel_ids_find(m, &l, &r[1]), 1, 20);   /* 2 3 | 1 */
    tunnel_ids_set_live(m, tunnel_ids_find(m, &l, &r[2]), 1, 21);   /* 3 | 1 2 */
    tunnel_ids_insert(m, &l, &r[4], 4, "x", 22);                    /* evicts 3: 4 | 1 2 */
    assert_null(tunnel_ids_find(m, &l, &r[3]));
    assert_int_equal(order_of(m, o, 8), 3);
    assert_int_equal(o[0], 4);
    assert_int_equal(o[1], 1);
    assert_int_equal(o[2], 2);
    /* a touch keeps each kind in its part of the list */
    tunnel_ids_touch(m, tunnel_ids_find(m, &l, &r[4]), 23);         /* 4 | 1 2 */
    tunnel_ids_touch(m, tunnel_ids_find(m, &l, &r[1]), 23);         /* 4 | 2 1 */
    order_of(m, o, 8);
    assert_int_equal(o[0], 4);
    assert_int_equal(o[1], 2);
    assert_int_equal(o[2], 1);
    struct tunnel_id *i1 = tunnel_ids_find(m, &l, &r[1]);
    tunnel_ids_set_live(m, i1, 0, 30);                              /* 4 1 | 2 */
    assert_int_equal(i1->last_seen_s, 30);
    tunnel_ids_insert(m, &l, &r[5], 5, "x", 31);                    /* evicts 4: 1 5 | 2 */
    assert_null(tunnel_ids_find(m, &l, &r[4]));
    order_of(m, o, 8);
    assert_int_equal(o[0], 1);
    assert_int_equal(o[1], 5);
    assert_int_equal(o[2], 2);
    /* all live: the least recent live one goes (not expected in use) */
    tunnel_ids_set_live(m, tunnel_ids_find(m, &l, &r[1]), 1, 32);   /* 5 | 2 1 */
    tunnel_ids_set_live(m, tunnel_ids_find(m, &l, &r[5]), 1, 33);   /* | 2 1 5 */
    tunnel_ids_insert(m, &l, &r[6], 6, "x", 34);                    /* evicts 2: 6 | 1 5 */
    assert_null(tunnel_ids_find(m, &l, &r[2]));
    order_of(m, o, 8);
    assert_int_equal(o[0], 6);
    assert_int_equal(o[1], 1);
    assert_int_equal(o[2], 5);
    /* removing the first live one keeps the rest live and after */
    tunnel_ids_remove(m, tunnel_ids_find(m, &l, &r[1]));            /* 6 | 5 */
    tunnel_ids_insert(m, &l, &r[2], 2, "x", 35);                    /* 6 2 | 5 */
    order_of(m, o, 8);
    assert_int_equal(o[0], 6);
    assert_int_equal(o[1], 2);
    assert_int_equal(o[2], 5);
    tunnel_ids_destroy(m);
}

static const char valid[] =
    "ipsecdiagtool-tunnels 1\n"
    "next-index 12\n"
    "tunnel 6 192.0.2.1 198.51.100.2 1764460000 192.0.2.1-198.51.100.2\n"
    "tunnel 11 2001:db8:1111:2222:3333:4444:5555:6666 2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff "
    "1764460100 tunnel-11\n"
    "tunnel 7 10.0.0.1 10.0.0.2 1764460200 tunnel-7-2\n"
    "end 3\n";

static void test_format_exact(void **state)
{
    (void)state;
    struct tunnel_ids *m = tunnel_ids_create(8);
    struct idt_addr a = A("192.0.2.1"), b = A("198.51.100.2");
    struct idt_addr c = A("2001:db8:1111:2222:3333:4444:5555:6666"),
                    d = A("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
    struct idt_addr e = A("10.0.0.1"), f = A("10.0.0.2");
    m->next_index = 12;
    tunnel_ids_insert(m, &a, &b, 6, "192.0.2.1-198.51.100.2", 1764460000);
    tunnel_ids_insert(m, &c, &d, 11, "tunnel-11", 1764460100);
    tunnel_ids_insert(m, &e, &f, 7, "tunnel-7-2", 1764460200);
    struct buf *bf = malloc(sizeof *bf);
    format(m, bf);
    assert_string_equal(bf->s, valid);
    tunnel_ids_destroy(m);

    char err[256];
    m = tunnel_ids_parse(valid, strlen(valid), 8, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(m->count, 3);
    assert_int_equal(m->next_index, 12);
    struct tunnel_id *id = tunnel_ids_find(m, &d, &c);
    assert_non_null(id);
    assert_int_equal(id->index, 11);
    assert_true(idt_addr_eq(&id->local, &c));
    assert_string_equal(id->name, "tunnel-11");
    assert_int_equal(id->last_seen_s, 1764460100);
    format(m, bf);
    assert_string_equal(bf->s, valid);        /* same order: least recent first */
    tunnel_ids_destroy(m);

    /* only the most recent entries fit a smaller map */
    m = tunnel_ids_parse(valid, strlen(valid), 2, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(m->count, 2);
    assert_null(tunnel_ids_find(m, &a, &b));
    assert_non_null(tunnel_ids_find(m, &e, &f));
    tunnel_ids_destroy(m);

    /* an empty map */
    m = tunnel_ids_create(1);
    format(m, bf);
    assert_string_equal(bf->s, "ipsecdiagtool-tunnels 1\nnext-index 1\nend 0\n");
    tunnel_ids_destroy(m);
    free(bf);
}

static void test_every_truncation(void **state)
{
    (void)state;
    size_t len = strlen(valid);
    char err[256];
    for (size_t n = 0; n < len; n++) {
        char *copy = malloc(n ? n : 1);     /* exact size: ASan sees any overread */
        memcpy(copy, valid, n);
        err[0] = '\0';
        struct tunnel_ids *m = tunnel_ids_parse(copy, n, 8, err, sizeof err);
        if (m)
            fail_msg("a truncation to %zu of %zu bytes was accepted", n, len);
        assert_true(strlen(err) > 0);
        free(copy);
    }
}

struct bad {
    const char *text, *err;
};

static void test_corrupt(void **state)
{
    (void)state;
    static const struct bad bad[] = {
        { "", "empty file" },
        { "ipsecdiagtool-tunnels 2\nnext-index 1\nend 0\n",
          "line 1: unknown version \"2\" (this program reads version 1)" },
        { "ipsecdiagtool-tunnels 10\n", "line 1: unknown version \"10\"" },
        { "hello world\n", "line 1: not an ipsecdiagtool tunnel state file" },
        { "ipsecdiagtool-tunnels 1", "line 1: no end of line (the file is truncated)" },
        { "ipsecdiagtool-tunnels 1\n", "line 2: missing (the file is truncated)" },
        { "ipsecdiagtool-tunnels 1\nnext-index 0\nend 0\n",
          "line 2: next-index 0 is out of range (1..4294967296)" },
        { "ipsecdiagtool-tunnels 1\nnext-index 4294967297\nend 0\n",
          "line 2: next-index 4294967297 is out of range" },
        { "ipsecdiagtool-tunnels 1\nnext-index 012\nend 0\n",
          "line 2: next-index is not a decimal number" },
        { "ipsecdiagtool-tunnels 1\nnext-index 99999999999999999999999\nend 0\n",
          "line 2: next-index is not a decimal number" },
        { "ipsecdiagtool-tunnels 1\nnext-index  1\nend 0\n", "line 2: empty field" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 5 10.0.0.1 10.0.0.2 1 tunnel-5\nend 1\n",
          "line 3: index 5 is out of range (1..4)" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 0 10.0.0.1 10.0.0.2 1 tunnel-0\nend 1\n",
          "line 3: index 0 is out of range" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.2 1\nend 1\n",
          "line 3: a tunnel line has 6 fields" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.256 1 tunnel-1\nend 1\n",
          "line 3: remote address is not an IPv4 or IPv6 address" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 2001:DB8::1 2001:db8::2 1 tunnel-1\nend 1\n",
          "line 3: local address is not in canonical form (2001:db8::1)" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 2001:db8::2 1 tunnel-1\nend 1\n",
          "line 3: local and remote addresses are of different families" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.1 1 tunnel-1\nend 1\n",
          "line 3: local and remote addresses are the same" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.2 1 tunnel-2\nend 1\n",
          "line 3: name is not one this program generates for tunnel 1" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.2 1 tunnel-1-1\nend 1\n",
          "line 3: name is not one" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.2 1 10.0.0.2-10.0.0.1\nend 1\n",
          "line 3: name is not one" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.2 1 tunnel-1\n"
          "tunnel 1 10.0.0.1 10.0.0.3 1 tunnel-1\nend 2\n",
          "line 4: index 1 appears twice" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.2 1 tunnel-1\n"
          "tunnel 2 10.0.0.2 10.0.0.1 1 tunnel-2\nend 2\n",
          "line 4: address pair appears twice" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.2 1 tunnel-1\nend 2\n",
          "line 4: end count 2 does not match the 1 tunnel lines" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\nend 0\nx\n", "line 4: data after the end line" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\nend 0\n\n", "line 4: data after the end line" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\nfoo 1\nend 0\n",
          "line 3: expected \"tunnel ...\" or \"end N\"" },
        { "ipsecdiagtool-tunnels 1\nfoo 5\nend 0\n", "line 2: expected \"next-index N\"" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\nend\n", "line 3: expected \"end N\"" },
        { "ipsecdiagtool-tunnels 1\nnext-index 5\ntunnel 1 10.0.0.1 10.0.0.2 -1 tunnel-1\nend 1\n",
          "line 3: last-seen seconds is not a decimal number" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tunnel_ids *m = tunnel_ids_parse(bad[i].text, strlen(bad[i].text), 8, err,
                                                sizeof err);
        if (m)
            fail_msg("case %zu accepted", i);
        if (strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err, bad[i].err);
    }
    /* a NUL inside a field */
    static const char nul[] = "ipsecdiagtool-tunnels 1\nnext-index 5\n"
                              "tunnel 1 10.0.0.1\00010 10.0.0.2 1 tunnel-1\nend 1\n";
    assert_null(tunnel_ids_parse(nul, sizeof nul - 1, 8, err, sizeof err));
    assert_string_equal(err, "line 3: local address is not an IPv4 or IPv6 address");
}

static uint64_t rng = 0x1D5EEDull;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Random inserts/removes/touches in a map of 64 against a model array:
 * every present pair is found, every absent one is not. */
static void test_churn(void **state)
{
    (void)state;
    enum { N = 200, CAP = 64 };
    struct tunnel_ids *m = tunnel_ids_create(CAP);
    int present[N] = {0};
    struct idt_addr l = A("10.9.0.1"), r[N];
    for (int i = 0; i < N; i++) {
        r[i] = A("10.8.0.0");
        r[i].a[2] = (uint8_t)(i >> 8);
        r[i].a[3] = (uint8_t)i;
    }
    int npresent = 0;
    for (int step = 0; step < 20000; step++) {
        int i = (int)(rnd() % N);
        struct tunnel_id *id = tunnel_ids_find(m, &l, &r[i]);
        assert_int_equal(id != NULL, present[i]);
        if (id && rnd() % 2) {
            tunnel_ids_remove(m, id);
            present[i] = 0;
            npresent--;
        } else if (id) {
            tunnel_ids_touch(m, id, (uint64_t)step);
        } else if (npresent < CAP) {
            tunnel_ids_insert(m, &l, &r[i], (uint32_t)i + 1, "tunnel-1", (uint64_t)step);
            present[i] = 1;
            npresent++;
        }
        assert_int_equal(m->count, npresent);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(tunnel_ids_find(m, &r[i], &l) != NULL, present[i]);
    tunnel_ids_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_lru),
        cmocka_unit_test(test_live),
        cmocka_unit_test(test_format_exact),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
