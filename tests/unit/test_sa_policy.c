/* test_sa_policy.c - the SA table's table-full policy (sa_table.h):
 * tentative entries in arrival order per class, eviction of the oldest
 * one a new entry may displace, confirmed entries never displaced, the
 * reserve of SA_CLASS_RESERVED slots.  Expected victims come from a plain
 * list model kept here (arrival order, hand-written rules), never from
 * the table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sa_table.h"

static struct sa_key key(uint32_t n)
{
    struct sa_key k;
    memset(&k, 0, sizeof(k));
    k.family = 4;
    k.spi = 0x1000u + n;
    k.src[0] = 198; k.src[1] = 51; k.src[2] = 100; k.src[3] = 1;
    k.dst[0] = 203; k.dst[1] = 0; k.dst[2] = 113; k.dst[3] = 7;
    return k;
}

/* Admit and insert key n in class cls the way the engine does: returns
 * the entry, or NULL if refused; *evicted_spi is the SPI of the entry
 * that gave way (0 if none). */
static struct sa_entry *admit_insert(struct sa_table *t, uint32_t n, enum sa_class cls,
                                     uint32_t *evicted_spi)
{
    struct sa_entry *victim;
    *evicted_spi = 0;
    if (!sa_table_admit(t, cls, &victim)) {
        if (!victim)
            return NULL;
        *evicted_spi = victim->key.spi;
        sa_table_remove(t, victim);
    }
    struct sa_key k = key(n);
    int created = 0;
    struct sa_entry *e = sa_table_insert_class(t, &k, cls, &created);
    assert_non_null(e);
    assert_int_equal(created, 1);
    assert_true(e->flags & SA_F_TENTATIVE);
    assert_int_equal(!!(e->flags & SA_F_RESERVED), cls == SA_CLASS_RESERVED);
    return e;
}

static struct sa_entry *find(struct sa_table *t, uint32_t n)
{
    struct sa_key k = key(n);
    return sa_table_find(t, &k);
}

static void test_fifo_eviction(void **state)
{
    (void)state;
    struct sa_table *t = sa_table_create(8, 64);
    uint32_t ev;
    for (uint32_t n = 0; n < 8; n++) {
        assert_non_null(admit_insert(t, n, SA_CLASS_OPEN, &ev));
        assert_int_equal(ev, 0);
    }
    assert_int_equal(sa_table_tentative_count(t), 8);
    /* full: insert alone refuses, admit names the oldest */
    struct sa_key k8 = key(8);
    assert_null(sa_table_insert(t, &k8, NULL));
    struct sa_entry *victim;
    assert_int_equal(sa_table_admit(t, SA_CLASS_OPEN, &victim), 0);
    assert_ptr_equal(victim, find(t, 0));
    /* confirm 0 and 1: the oldest tentative is now 2 */
    sa_table_confirm(t, find(t, 0));
    sa_table_confirm(t, find(t, 1));
    sa_table_confirm(t, find(t, 1));          /* twice: no effect */
    assert_false(find(t, 0)->flags & SA_F_TENTATIVE);
    assert_int_equal(sa_table_tentative_count(t), 6);
    /* new SAs 8..13 evict 2..7 in arrival order */
    for (uint32_t n = 8; n < 14; n++) {
        assert_non_null(admit_insert(t, n, SA_CLASS_OPEN, &ev));
        assert_int_equal(ev, 0x1000u + n - 6);
        assert_null(find(t, n - 6));
    }
    /* and 14, 15 evict 8, 9 (themselves tentative newcomers) */
    assert_non_null(admit_insert(t, 14, SA_CLASS_OPEN, &ev));
    assert_int_equal(ev, 0x1000u + 8);
    assert_non_null(admit_insert(t, 15, SA_CLASS_OPEN, &ev));
    assert_int_equal(ev, 0x1000u + 9);
    assert_int_equal(sa_table_count(t), 8);
    /* everything confirmed: nothing may give way, the next one is refused */
    for (uint32_t n = 10; n < 16; n++)
        sa_table_confirm(t, find(t, n));
    assert_int_equal(sa_table_tentative_count(t), 0);
    assert_null(admit_insert(t, 16, SA_CLASS_OPEN, &ev));
    assert_null(admit_insert(t, 16, SA_CLASS_RESERVED, &ev));
    /* removing a confirmed one makes room again, without eviction */
    sa_table_remove(t, find(t, 0));
    assert_non_null(admit_insert(t, 16, SA_CLASS_OPEN, &ev));
    assert_int_equal(ev, 0);
    sa_table_destroy(t);
}

/* 100,000 single-packet keys against 1,000 slots holding 10 confirmed
 * entries: the confirmed ones all stay, the spray churns through the
 * other 990 slots, the last 990 keys are the ones present. */
static void test_spray_keeps_confirmed(void **state)
{
    (void)state;
    struct sa_table *t = sa_table_create(1000, 64);
    uint32_t ev;
    for (uint32_t n = 0; n < 10; n++)
        sa_table_confirm(t, admit_insert(t, n, SA_CLASS_OPEN, &ev));
    uint32_t evicted = 0;
    for (uint32_t n = 100; n < 100100; n++) {
        assert_non_null(admit_insert(t, n, SA_CLASS_OPEN, &ev));
        if (ev) {
            assert_int_equal(ev, 0x1000u + 100 + evicted);   /* oldest first */
            evicted++;
        }
    }
    assert_int_equal(evicted, 100000 - 990);
    assert_int_equal(sa_table_count(t), 1000);
    assert_int_equal(sa_table_tentative_count(t), 990);
    for (uint32_t n = 0; n < 10; n++)
        assert_non_null(find(t, n));
    for (uint32_t n = 100100 - 990; n < 100100; n++)
        assert_non_null(find(t, n));
    assert_null(find(t, 100100 - 991));
    sa_table_destroy(t);
}

static void test_reserve(void **state)
{
    (void)state;
    struct sa_table *t = sa_table_create(100, 64);
    sa_table_set_reserve(t, 1000);
    assert_int_equal(sa_table_reserve(t), 50);       /* clamped to max_sas / 2 */
    sa_table_set_reserve(t, 10);
    assert_int_equal(sa_table_reserve(t), 10);
    uint32_t ev;
    for (uint32_t n = 0; n < 90; n++)
        assert_non_null(admit_insert(t, n, SA_CLASS_OPEN, &ev));
    assert_int_equal(sa_table_open_count(t), 90);
    /* the open share (90) is full: an open SA evicts the oldest open one */
    assert_non_null(admit_insert(t, 90, SA_CLASS_OPEN, &ev));
    assert_int_equal(ev, 0x1000u + 0);
    assert_int_equal(sa_table_count(t), 90);
    /* reserved SAs take the 10 reserved slots without evicting */
    for (uint32_t n = 200; n < 210; n++) {
        assert_non_null(admit_insert(t, n, SA_CLASS_RESERVED, &ev));
        assert_int_equal(ev, 0);
    }
    assert_int_equal(sa_table_count(t), 100);
    /* table full: a reserved SA evicts open tentatives first (oldest: 1) */
    assert_non_null(admit_insert(t, 210, SA_CLASS_RESERVED, &ev));
    assert_int_equal(ev, 0x1000u + 1);
    assert_int_equal(sa_table_open_count(t), 89);
    /* confirm every open SA: now reserved SAs displace reserved tentatives */
    for (uint32_t n = 2; n <= 90; n++)
        sa_table_confirm(t, find(t, n));
    assert_non_null(admit_insert(t, 211, SA_CLASS_RESERVED, &ev));
    assert_int_equal(ev, 0x1000u + 200);
    /* an open SA finds 89 open < 90 but no free slot, and may not evict
     * reserved entries: refused */
    assert_null(admit_insert(t, 91, SA_CLASS_OPEN, &ev));
    for (uint32_t n = 201; n <= 211; n++)
        sa_table_confirm(t, find(t, n));
    assert_null(admit_insert(t, 212, SA_CLASS_RESERVED, &ev));
    /* a removed reserved entry frees a slot that an open SA may take (89 < 90) */
    sa_table_remove(t, find(t, 201));
    assert_non_null(admit_insert(t, 91, SA_CLASS_OPEN, &ev));
    assert_int_equal(ev, 0);
    assert_int_equal(sa_table_open_count(t), 90);
    sa_table_destroy(t);
}

/* Random inserts (both classes), confirms and removals against a model
 * list in arrival order: every victim is the model's expected one. */
static void test_random_against_model(void **state)
{
    (void)state;
    enum { CAP = 64, KEYS = 256, ROUNDS = 200000 };
    struct sa_table *t = sa_table_create(CAP, 32);
    sa_table_set_reserve(t, 8);
    /* model: state per key (0 absent, 1 tentative, 2 confirmed), class,
     * arrival stamp */
    static uint8_t st[KEYS], cls[KEYS];
    static uint64_t stamp[KEYS];
    uint64_t clock = 0, x = 12345;
    for (int r = 0; r < ROUNDS; r++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t n = (uint32_t)(x >> 33) % KEYS, op = (uint32_t)(x >> 20) % 4;
        unsigned total = 0, open = 0;
        for (int i = 0; i < KEYS; i++) {
            total += st[i] != 0;
            open += st[i] != 0 && cls[i] == SA_CLASS_OPEN;
        }
        if (st[n] == 0 && op < 2) {
            enum sa_class c = op == 0 ? SA_CLASS_OPEN : SA_CLASS_RESERVED;
            int room = total < CAP && (c == SA_CLASS_RESERVED || open < CAP - 8);
            int want = -1;      /* oldest tentative open, then (reserved) oldest reserved */
            for (int pass = 0; !room && want < 0 && pass < (c == SA_CLASS_RESERVED ? 2 : 1); pass++)
                for (int i = 0; i < KEYS; i++)
                    if (st[i] == 1 && cls[i] == (pass ? SA_CLASS_RESERVED : SA_CLASS_OPEN) &&
                        (want < 0 || stamp[i] < stamp[want]))
                        want = i;
            uint32_t ev;
            struct sa_entry *e = admit_insert(t, n, c, &ev);
            if (!room && want < 0) {
                assert_null(e);
                continue;
            }
            assert_non_null(e);
            if (room) {
                assert_int_equal(ev, 0);
            } else {
                assert_int_equal(ev, 0x1000u + (uint32_t)want);
                st[want] = 0;
            }
            st[n] = 1;
            cls[n] = (uint8_t)c;
            stamp[n] = ++clock;
        } else if (st[n] == 1 && op == 2) {
            sa_table_confirm(t, find(t, n));
            st[n] = 2;
        } else if (st[n] != 0 && op == 3) {
            sa_table_remove(t, find(t, n));
            st[n] = 0;
        }
        unsigned tent = 0;
        for (int i = 0; i < KEYS; i++)
            tent += st[i] == 1;
        assert_int_equal(sa_table_tentative_count(t), tent);
    }
    for (int i = 0; i < KEYS; i++) {
        struct sa_entry *e = find(t, (uint32_t)i);
        assert_int_equal(e != NULL, st[i] != 0);
        if (e)
            assert_int_equal(!!(e->flags & SA_F_TENTATIVE), st[i] == 1);
    }
    sa_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_eviction),
        cmocka_unit_test(test_spray_keeps_confirmed),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
