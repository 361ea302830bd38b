/* test_replay_window.c - hand-computed scenarios for replay_window.c.
 * Every expected value is derived in the comment next to it from the
 * definitions in replay_window.h (window [H-W+1, H], baseline B). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "replay_window.h"

#define MAX_RUNS 64

struct rw {
    struct rw_state st;
    uint64_t bits[RW_WORDS(RW_MAX_WINDOW)];
    uint64_t runs[MAX_RUNS][2];
    size_t nruns;
    uint64_t last_delta, last_seq64;
};

static void on_lost(void *ctx, uint64_t first, uint64_t last)
{
    struct rw *r = ctx;
    assert_true(first <= last);
    assert_true(r->nruns < MAX_RUNS);
    r->runs[r->nruns][0] = first;
    r->runs[r->nruns][1] = last;
    r->nruns++;
}

static void setup_rw(struct rw *r, uint32_t w)
{
    memset(r, 0xA5, sizeof(*r));      /* rw_init must clear everything */
    rw_init(&r->st, r->bits, w);
    r->nruns = 0;
}

/* Feed one wire value; the runs of this call replace the previous ones. */
static enum rw_kind feed(struct rw *r, uint32_t x)
{
    r->nruns = 0;
    return rw_update(&r->st, r->bits, x, &r->last_delta, &r->last_seq64, on_lost, r);
}

/* Feed [from, to] (inclusive, 64-bit, sent as their low 32 bits). */
static void feed_range(struct rw *r, uint64_t from, uint64_t to)
{
    for (uint64_t n = from; n <= to; n++)
        feed(r, (uint32_t)n);
}

static uint64_t finish(struct rw *r)
{
    r->nruns = 0;
    return rw_finish(&r->st, r->bits, on_lost, r);
}

#define CHECK(r, rcv, lst, lat, dup, reo, hi) do { \
        assert_int_equal((r)->st.received, (rcv)); \
        assert_int_equal((r)->st.lost, (lst)); \
        assert_int_equal((r)->st.late, (lat)); \
        assert_int_equal((r)->st.duplicate, (dup)); \
        assert_int_equal((r)->st.reordered, (reo)); \
        assert_int_equal((r)->st.high, (hi)); \
    } while (0)

#define RUN(r, i, a, b) do { \
        assert_int_equal((r)->runs[i][0], (a)); \
        assert_int_equal((r)->runs[i][1], (b)); \
    } while (0)

static const uint32_t windows[] = { 32, 64, 100, 4096 };
#define NWIN (sizeof(windows) / sizeof(windows[0]))

static void test_init(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 100);
    assert_int_equal(r.st.window, 100);
    assert_int_equal(r.st.started, 0);
    CHECK(&r, 0, 0, 0, 0, 0, 0);
    for (size_t i = 0; i < RW_WORDS(100); i++)
        assert_int_equal(r.bits[i], 0);
    /* finish before any packet: nothing */
    assert_int_equal(finish(&r), 0);
    assert_int_equal(r.nruns, 0);
    assert_int_equal(RW_WORDS(32), 1);
    assert_int_equal(RW_WORDS(64), 1);
    assert_int_equal(RW_WORDS(65), 2);
    assert_int_equal(RW_WORDS(100), 2);
    assert_int_equal(RW_WORDS(4096), 64);
}

static void test_first_packet(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    assert_int_equal(feed(&r, 0xDEADBEEF), RW_NEW);
    assert_int_equal(r.last_seq64, 0xDEADBEEF);
    assert_int_equal(r.last_delta, 0);
    assert_int_equal(r.st.base, 0xDEADBEEF);
    assert_int_equal(r.st.started, 1);
    CHECK(&r, 1, 0, 0, 0, 0, 0xDEADBEEF);
    /* only the first packet is RW_NEW */
    assert_int_equal(feed(&r, 0xDEADBEF0), RW_NEXT);
    assert_int_equal(r.last_seq64, 0xDEADBEF0);
}

/* 1..1000 in order: nothing lost, whatever W. */
static void test_in_order(void **state)
{
    (void)state;
    for (size_t i = 0; i < NWIN; i++) {
        struct rw r;
        setup_rw(&r, windows[i]);
        assert_int_equal(feed(&r, 1), RW_NEW);
        for (uint32_t n = 2; n <= 1000; n++) {
            assert_int_equal(feed(&r, n), RW_NEXT);
            assert_int_equal(r.last_delta, 0);
            assert_int_equal(r.last_seq64, n);
            assert_int_equal(r.nruns, 0);
        }
        CHECK(&r, 1000, 0, 0, 0, 0, 1000);
        assert_int_equal(r.st.base, 1);
        assert_int_equal(finish(&r), 0);
        CHECK(&r, 1000, 0, 0, 0, 0, 1000);
    }
}

/* 1..300 without 150.  150 leaves the window when H reaches 150 + W
 * (then H-W+1 = 151 > 150): W=32 -> 182, 64 -> 214, 100 -> 250.
 * W=4096: still inside at the end, counted by finish. */
static void test_single_loss(void **state)
{
    (void)state;
    for (size_t i = 0; i < NWIN; i++) {
        uint32_t w = windows[i];
        struct rw r;
        setup_rw(&r, w);
        for (uint32_t n = 1; n <= 300; n++) {
            if (n == 150)
                continue;
            feed(&r, n);
            if (n == 150 + w) {
                assert_int_equal(r.last_delta, 1);
                assert_int_equal(r.nruns, 1);
                RUN(&r, 0, 150, 150);
            } else {
                assert_int_equal(r.last_delta, 0);
                assert_int_equal(r.nruns, 0);
            }
            assert_int_equal(r.st.lost, n >= 150 + w ? 1 : 0);
        }
        CHECK(&r, 299, (w <= 100 ? 1 : 0), 0, 0, 0, 300);
        /* finish: W=4096 window [1, 300] holds the hole 150 */
        assert_int_equal(finish(&r), w <= 100 ? 0 : 1);
        assert_int_equal(r.st.lost, 1);
        if (w > 100) {
            assert_int_equal(r.nruns, 1);
            RUN(&r, 0, 150, 150);
        }
    }
}

/* W=64: 1..10, then 211 (11..210 = 200 numbers missing), then 212..300.
 * 211 (d=201 > W) is a far jump: held, H stays 10; 212 (within W of 211)
 * is held too; 213 confirms it.  Then, as if accepted on arrival: at 211
 * leaving [max(1,10-63), min(10, 211-64=147)] = [1,10] all received;
 * jumped over [11, 147] = 137; at 212 and 213 the holes 148, 149 fall
 * off: delta 139, one run [11, 149].  The holes 150..210 fall off one by
 * one as H goes 214..274.  Total lost 200, received 10 + 90. */
static void test_burst_w64(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 10);
    assert_int_equal(feed(&r, 211), RW_HELD);
    assert_int_equal(r.last_seq64, 211);
    assert_int_equal(r.last_delta, 0);
    assert_int_equal(r.nruns, 0);
    CHECK(&r, 11, 0, 0, 0, 0, 10);
    assert_int_equal(feed(&r, 212), RW_HELD);
    CHECK(&r, 12, 0, 0, 0, 0, 10);
    assert_int_equal(feed(&r, 213), RW_NEXT);
    assert_int_equal(r.last_delta, 139);
    assert_int_equal(r.nruns, 1);
    RUN(&r, 0, 11, 149);
    CHECK(&r, 13, 139, 0, 0, 0, 213);
    assert_int_equal(r.st.suspect, 0);
    feed_range(&r, 214, 274);
    assert_int_equal(r.last_delta, 1);
    RUN(&r, 0, 210, 210);
    assert_int_equal(r.st.lost, 200);
    feed_range(&r, 275, 300);
    CHECK(&r, 100, 200, 0, 0, 0, 300);
    assert_int_equal(finish(&r), 0);
}

/* W=32: 1..10, then 211, 212, 213 (the jump, held, confirmed by 213):
 * jumped [11, 211-32=179] = 169, then 180 and 181 fall off: 171;
 * window [182, 213] holes 182..210 = 29, counted by finish.  Total 200. */
static void test_burst_w32(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 32);
    feed_range(&r, 1, 10);
    feed_range(&r, 211, 213);
    assert_int_equal(r.last_delta, 171);
    RUN(&r, 0, 11, 181);
    assert_int_equal(finish(&r), 29);
    assert_int_equal(r.nruns, 1);
    RUN(&r, 0, 182, 210);
    CHECK(&r, 13, 200, 0, 0, 0, 213);
}

/* W=100: 1..10, then 211..213: jumped [11, 111] = 101, then 112 and
 * 113 fall off: 103; window [114, 213] holds 97 holes.  Total 200. */
static void test_burst_w100(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 100);
    feed_range(&r, 1, 10);
    feed_range(&r, 211, 213);
    assert_int_equal(r.last_delta, 103);
    RUN(&r, 0, 11, 113);
    assert_int_equal(finish(&r), 97);
    RUN(&r, 0, 114, 210);
    CHECK(&r, 13, 200, 0, 0, 0, 213);
}

/* W=4096: 1..10, then 5011..5013 (d=5001 > W, confirmed by 5013):
 * jumped [11, 5011-4096=915] = 905, then 916 and 917 fall off: 907;
 * window [918, 5013] holds 4093 holes (918..5010).  Total 5000. */
static void test_burst_w4096(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 4096);
    feed_range(&r, 1, 10);
    feed_range(&r, 5011, 5013);
    assert_int_equal(r.last_delta, 907);
    RUN(&r, 0, 11, 917);
    assert_int_equal(finish(&r), 4093);
    assert_int_equal(r.nruns, 1);
    RUN(&r, 0, 918, 5010);
    CHECK(&r, 13, 5000, 0, 0, 0, 5013);
}

/* 1..10, 12, 13, 11, 14..100: 11 is 2 behind H=13, inside the window,
 * not yet received -> reordered, never lost. */
static void test_reorder(void **state)
{
    (void)state;
    for (size_t i = 0; i < NWIN; i++) {
        struct rw r;
        setup_rw(&r, windows[i]);
        feed_range(&r, 1, 10);
        feed(&r, 12);
        feed(&r, 13);
        assert_int_equal(feed(&r, 11), RW_REORDERED);
        assert_int_equal(r.last_seq64, 11);
        assert_int_equal(r.last_delta, 0);
        feed_range(&r, 14, 100);
        CHECK(&r, 100, 0, 0, 0, 1, 100);
        assert_int_equal(finish(&r), 0);
    }
}

/* Reordering right at the left edge, W=64: 20 is inside the window
 * [H-63, H] while H <= 83.  1..83 without 20, then 20 -> reordered,
 * nothing lost. */
static void test_reorder_left_edge(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 19);
    feed_range(&r, 21, 83);
    assert_int_equal(feed(&r, 20), RW_REORDERED);
    CHECK(&r, 83, 0, 0, 0, 1, 83);
    feed_range(&r, 84, 200);
    CHECK(&r, 200, 0, 0, 0, 1, 200);
}

/* Late: 1..84 without 20 (W=64): at H=84 the window is [21, 84] so 20
 * fell off and was counted lost; then 20 arrives -> late (lost stays 1).
 * W=100: 20 falls off at H=120. */
static void test_late(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 19);
    feed_range(&r, 21, 83);
    assert_int_equal(r.st.lost, 0);
    feed(&r, 84);
    assert_int_equal(r.last_delta, 1);
    RUN(&r, 0, 20, 20);
    assert_int_equal(feed(&r, 20), RW_LATE);
    assert_int_equal(r.last_seq64, 20);
    assert_int_equal(r.last_delta, 0);
    CHECK(&r, 84, 1, 1, 0, 0, 84);
    /* way behind, well after */
    feed_range(&r, 85, 1000);
    assert_int_equal(feed(&r, 5), RW_LATE);
    assert_int_equal(r.last_seq64, 5);
    CHECK(&r, 1001, 1, 2, 0, 0, 1000);
    assert_int_equal(finish(&r), 0);

    setup_rw(&r, 100);
    feed_range(&r, 1, 19);
    feed_range(&r, 21, 119);
    assert_int_equal(r.st.lost, 0);
    feed(&r, 120);
    assert_int_equal(r.st.lost, 1);
    assert_int_equal(feed(&r, 20), RW_LATE);
    CHECK(&r, 120, 1, 1, 0, 0, 120);
}

/* Duplicates: 1..10, 5 (in window, received) and 10 (== H). */
static void test_duplicates(void **state)
{
    (void)state;
    for (size_t i = 0; i < NWIN; i++) {
        struct rw r;
        setup_rw(&r, windows[i]);
        feed_range(&r, 1, 10);
        assert_int_equal(feed(&r, 5), RW_DUPLICATE);
        assert_int_equal(r.last_seq64, 5);
        assert_int_equal(feed(&r, 10), RW_DUPLICATE);
        assert_int_equal(r.last_seq64, 10);
        assert_int_equal(feed(&r, 1), RW_DUPLICATE);  /* the baseline itself */
        CHECK(&r, 13, 0, 0, 3, 0, 10);
        /* a reordered packet repeated: first reordered, then duplicate */
        feed(&r, 12);
        assert_int_equal(feed(&r, 11), RW_REORDERED);
        assert_int_equal(feed(&r, 11), RW_DUPLICATE);
        CHECK(&r, 16, 0, 0, 4, 1, 12);
    }
}

/* Baseline 1000 (W=64): 1000..1010, then 995.  995 is inside
 * [H-63, H] = [947, 1010] but below B -> late, and never lost. */
static void test_below_baseline(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1000, 1010);
    assert_int_equal(feed(&r, 995), RW_LATE);
    assert_int_equal(r.last_seq64, 995);
    CHECK(&r, 12, 0, 1, 0, 0, 1010);
    assert_int_equal(finish(&r), 0);    /* [max(1000, 947), 1010] all received */
    feed_range(&r, 1011, 1200);
    assert_int_equal(feed(&r, 995), RW_LATE);
    CHECK(&r, 203, 0, 2, 0, 0, 1200);
    assert_int_equal(finish(&r), 0);
}

/* Underflow: baseline 5; wire 0xFFFFFFFB is d = 0xFFFFFFF6 >= 2^31 from
 * H=5, i.e. 10 behind H -> -5: late, seq64 clamped to 0. */
static void test_underflow(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 5, 5);
    assert_int_equal(feed(&r, 0xFFFFFFFBu), RW_LATE);
    assert_int_equal(r.last_seq64, 0);
    CHECK(&r, 2, 0, 1, 0, 0, 5);
    /* 0 and 4: below the baseline, not negative */
    assert_int_equal(feed(&r, 4), RW_LATE);
    assert_int_equal(r.last_seq64, 4);
    assert_int_equal(feed(&r, 0), RW_LATE);
    assert_int_equal(r.last_seq64, 0);
    CHECK(&r, 4, 0, 3, 0, 0, 5);
}

/* ESN wrap, W=64: baseline 0xFFFFFE00, in order to 0xFFFFFFFF (512
 * packets), then wire 0..0x10 without 5 (16 packets) -> H = 0x100000010,
 * received 528.  The hole 0x100000005 is still in the window (H-63 =
 * 0xFFFFFFD2): lost 0 until finish, then exactly 1.  A packet 300 behind
 * H (wire 0xFFFFFEE4, 64-bit 0xFFFFFEE4 >= B) is late, not a jump. */
static void test_esn_wrap(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 0xFFFFFE00u, 0xFFFFFFFFu);
    for (uint32_t n = 0; n <= 0x10; n++) {
        if (n == 5)
            continue;
        assert_int_equal(feed(&r, n), RW_NEXT);
        assert_int_equal(r.last_seq64, 0x100000000ull + n);
    }
    CHECK(&r, 528, 0, 0, 0, 0, 0x100000010ull);
    assert_int_equal(feed(&r, 0xFFFFFEE4u), RW_LATE);
    assert_int_equal(r.last_seq64, 0xFFFFFEE4ull);
    CHECK(&r, 529, 0, 1, 0, 0, 0x100000010ull);
    /* the missing one arrives late-ish but inside the window: reordered */
    struct rw r2 = r;
    assert_int_equal(feed(&r2, 5), RW_REORDERED);
    assert_int_equal(r2.last_seq64, 0x100000005ull);
    assert_int_equal(finish(&r2), 0);
    /* otherwise finish counts exactly one */
    assert_int_equal(finish(&r), 1);
    assert_int_equal(r.nruns, 1);
    RUN(&r, 0, 0x100000005ull, 0x100000005ull);
    CHECK(&r, 529, 1, 1, 0, 0, 0x100000010ull);
}

/* Same wrap, counted on the fly with W=32 starting at 0xFFFFFFF0:
 * 16 + 16 packets, H = 0x100000010; 0x100000005 leaves the window at
 * H = 0x100000025 (wire 0x25). */
static void test_esn_wrap_w32(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 32);
    feed_range(&r, 0xFFFFFFF0u, 0xFFFFFFFFu);
    for (uint32_t n = 0; n <= 0x10; n++)
        if (n != 5)
            feed(&r, n);
    CHECK(&r, 32, 0, 0, 0, 0, 0x100000010ull);
    for (uint32_t n = 0x11; n <= 0x24; n++)
        feed(&r, n);
    assert_int_equal(r.st.lost, 0);
    feed(&r, 0x25);
    assert_int_equal(r.last_delta, 1);
    RUN(&r, 0, 0x100000005ull, 0x100000005ull);
    CHECK(&r, 53, 1, 0, 0, 0, 0x100000025ull);   /* 32 + 0x11..0x25 (21) */
    assert_int_equal(finish(&r), 0);
}

/* Forward jump of 2,000,000,000 from baseline 1 (d = 2e9 < 2^31):
 * s = 2000000001, held, confirmed by s+1, s+2.  W=64: jumped [2, s-64 =
 * 1999999937] = 1999999936 = 2e9-1-63, then 1999999938 and 1999999939
 * fall off: 1999999938; 61 holes (1999999940..2000000000) stay in the
 * window for finish: total 2e9-1.  W=4096: jumped [2, 1999995905] =
 * 2e9-1-4095, plus 2 falling off; finish 4093. */
static void test_big_jump(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed(&r, 1);
    assert_int_equal(feed(&r, 2000000001u), RW_HELD);
    assert_int_equal(r.last_seq64, 2000000001ull);
    assert_int_equal(feed(&r, 2000000002u), RW_HELD);
    assert_int_equal(feed(&r, 2000000003u), RW_NEXT);
    assert_int_equal(r.last_seq64, 2000000003ull);
    assert_int_equal(r.last_delta, 1999999938ull);
    assert_int_equal(r.nruns, 1);
    RUN(&r, 0, 2, 1999999939ull);
    CHECK(&r, 4, 1999999938ull, 0, 0, 0, 2000000003ull);
    assert_int_equal(finish(&r), 61);
    RUN(&r, 0, 1999999940ull, 2000000000ull);
    assert_int_equal(r.st.lost, 1999999999ull);

    setup_rw(&r, 4096);
    feed(&r, 1);
    feed_range(&r, 2000000001u, 2000000003u);
    assert_int_equal(r.last_delta, 1999995906ull);
    RUN(&r, 0, 2, 1999995907ull);
    assert_int_equal(finish(&r), 4093);
    assert_int_equal(r.st.lost, 1999999999ull);

    /* Many maximal jumps (2^31-1 each, each confirmed by the next two
     * numbers) are O(1): 100000 of them = 2.1e14 sequence numbers; a
     * per-number loop would never finish.  W=100, baseline 0, round i:
     * T = H + d, T+1, T+2 with d = 2^31-1.  First round: the old window
     * is just {0}: jumped [1, T-100] = d - 100, then T-99 and T-98 fall
     * off: d - 98.  Every later round: the 97 holes of the previous
     * window [H-99, H-3] leave, d - 100 jumped, 2 fall off: d - 1. */
    const uint64_t d = 0x7FFFFFFFull;
    setup_rw(&r, 100);
    feed(&r, 0);
    for (uint32_t i = 1; i <= 100000; i++) {
        uint64_t t = r.st.high + d;
        assert_int_equal(feed(&r, (uint32_t)t), RW_HELD);
        assert_int_equal(feed(&r, (uint32_t)(t + 1u)), RW_HELD);
        assert_int_equal(feed(&r, (uint32_t)(t + 2u)), RW_NEXT);
        assert_int_equal(r.last_delta, i == 1 ? d - 98 : d - 1);
    }
    assert_int_equal(r.st.high, 100000ull * (d + 2));
    assert_int_equal(r.st.lost, d - 98 + 99999ull * (d - 1));
    /* finish: the last 97 holes; in total every number in
     * [0, 100000 (d+2)] but the 300001 received ones: 100000 (d - 1) */
    assert_int_equal(finish(&r), 97);
    assert_int_equal(r.st.lost, 100000ull * (d - 1));
    assert_int_equal(r.st.suspect, 0);
}

/* A forward distance of exactly 2^31 is not forward: it is old.
 * Baseline 0x90000000: wire 0x10000000 is 2^31 ahead mod 2^32, i.e.
 * 2^31 behind = 0x10000000 < B -> late.  2^31-1 ahead is a forward jump
 * to 0x10FFFFFFF. */
static void test_jump_2_31(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed(&r, 0x90000000u);
    assert_int_equal(feed(&r, 0x10000000u), RW_LATE);
    assert_int_equal(r.last_seq64, 0x10000000ull);
    CHECK(&r, 2, 0, 1, 0, 0, 0x90000000ull);
    assert_int_equal(feed(&r, 0x0FFFFFFFu), RW_HELD);
    assert_int_equal(r.last_seq64, 0x10FFFFFFFull);
    /* the next two numbers confirm it (the wire value 0x10000000 is now
     * 0x110000000, 1 after the held one) */
    assert_int_equal(feed(&r, 0x10000000u), RW_HELD);
    assert_int_equal(r.last_seq64, 0x110000000ull);
    assert_int_equal(feed(&r, 0x10000001u), RW_NEXT);
    assert_int_equal(r.last_seq64, 0x110000001ull);
    /* jumped [0x90000001, 0x10FFFFFFF - 64]: (2^31 - 1) - 64, then two
     * holes fall off */
    assert_int_equal(r.last_delta, 0x7FFFFFFFull - 64 + 2);
    CHECK(&r, 5, 0x7FFFFFFFull - 64 + 2, 1, 0, 0, 0x110000001ull);

    /* from a small H, 2^31 ahead would be below zero: late, clamped */
    setup_rw(&r, 64);
    feed(&r, 5);
    assert_int_equal(feed(&r, 0x80000005u), RW_LATE);
    assert_int_equal(r.last_seq64, 0);
    CHECK(&r, 2, 0, 1, 0, 0, 5);
}

/* finish counts the holes in [max(B, H-W+1), H] and marks them. */
static void test_finish(void **state)
{
    (void)state;
    struct rw r;
    /* W=64: 1..10 without 3, 7 -> 2 holes */
    setup_rw(&r, 64);
    feed_range(&r, 1, 2);
    feed_range(&r, 4, 6);
    feed_range(&r, 8, 10);
    assert_int_equal(finish(&r), 2);
    assert_int_equal(r.nruns, 2);
    RUN(&r, 0, 3, 3);
    RUN(&r, 1, 7, 7);
    CHECK(&r, 8, 2, 0, 0, 0, 10);
    assert_int_equal(finish(&r), 0);        /* twice: adds 0 */
    assert_int_equal(r.nruns, 0);
    CHECK(&r, 8, 2, 0, 0, 0, 10);

    /* W=32: 1..100 without 80, 81, 90: window [69, 100] */
    setup_rw(&r, 32);
    for (uint32_t n = 1; n <= 100; n++)
        if (n != 80 && n != 81 && n != 90)
            feed(&r, n);
    assert_int_equal(r.st.lost, 0);
    assert_int_equal(finish(&r), 3);
    assert_int_equal(r.nruns, 2);
    RUN(&r, 0, 80, 81);
    RUN(&r, 1, 90, 90);
    assert_int_equal(finish(&r), 0);
    /* the marked numbers are no longer holes: 80 now is a duplicate,
     * and moving on does not count them a second time */
    assert_int_equal(feed(&r, 80), RW_DUPLICATE);
    feed_range(&r, 101, 200);
    CHECK(&r, 198, 3, 0, 1, 0, 200);

    /* NULL callback and NULL outputs are accepted */
    setup_rw(&r, 64);
    rw_update(&r.st, r.bits, 1, NULL, NULL, NULL, NULL);
    rw_update(&r.st, r.bits, 5, NULL, NULL, NULL, NULL);
    assert_int_equal(rw_finish(&r.st, r.bits, NULL, NULL), 3);
}

/* Callback runs are maximal, also across 64-bit words and the ring end.
 * W=128 (2 words, ring 128): 1..60, 71..100, jump to 300 (held, confirmed
 * by 301, 302): leaving [1, 100] holds [61, 70] (crosses bit 63/64): one
 * run; jumped [101, 300-128=172] and 173, 174 falling off at 301, 302:
 * second run, merged across the three steps.  Delta 10 + 74 = 84. */
static void test_runs(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 128);
    feed_range(&r, 1, 60);
    feed_range(&r, 71, 100);
    feed_range(&r, 300, 302);
    assert_int_equal(r.last_delta, 84);
    assert_int_equal(r.nruns, 2);
    RUN(&r, 0, 61, 70);
    RUN(&r, 1, 101, 174);

    /* ring wrap: 100..250, 261..300 (251 is ring position 123, 260 is
     * position 4), jump to 600 (600..602): leaving [max(100, 173),
     * min(300, 472)] holds [251, 260]; jumped [301, 472] = 172, then 473,
     * 474 fall off.  Delta 184. */
    setup_rw(&r, 128);
    feed_range(&r, 100, 250);
    feed_range(&r, 261, 300);
    feed_range(&r, 600, 602);
    assert_int_equal(r.last_delta, 184);
    assert_int_equal(r.nruns, 2);
    RUN(&r, 0, 251, 260);
    RUN(&r, 1, 301, 474);

    /* W=64: 1..11, 14..20, jump to 200 (200..202): leaving [1, 20] has
     * [12, 13]; jumped [21, 136], then 137, 138.  Delta 2 + 118 = 120. */
    setup_rw(&r, 64);
    feed_range(&r, 1, 11);
    feed_range(&r, 14, 20);
    feed_range(&r, 200, 202);
    assert_int_equal(r.last_delta, 120);
    assert_int_equal(r.nruns, 2);
    RUN(&r, 0, 12, 13);
    RUN(&r, 1, 21, 138);

    /* W=4096: a 990-number hole spanning 16 words is one run */
    setup_rw(&r, 4096);
    feed_range(&r, 1, 10);
    feed_range(&r, 1001, 1010);
    assert_int_equal(finish(&r), 990);
    assert_int_equal(r.nruns, 1);
    RUN(&r, 0, 11, 1000);

    /* several holes leaving with one jump, W=100 (ring 128):
     * 1, 3, 6..9, 20, then 150..152: leaving [1, min(20, 50)] holes
     * 2, 4-5, 10-19; jumped [21, 50] and 51, 52 falling off: merges with
     * nothing (20 received).  Delta 1 + 2 + 10 + 32 = 45. */
    setup_rw(&r, 100);
    feed(&r, 1);
    feed(&r, 3);
    feed_range(&r, 6, 9);
    feed(&r, 20);
    feed_range(&r, 150, 152);
    assert_int_equal(r.last_delta, 45);
    assert_int_equal(r.nruns, 4);
    RUN(&r, 0, 2, 2);
    RUN(&r, 1, 4, 5);
    RUN(&r, 2, 10, 19);
    RUN(&r, 3, 21, 52);
}

/* Bits of numbers outside the window must not leak in.  W=100, ring 128:
 * 1..100 all received, then 150 (d=50): positions of 129..150 are those
 * of 1..22 (received).  New window [51, 150]: holes 101..149 = 49. */
static void test_stale_bits(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 100);
    feed_range(&r, 1, 100);
    feed(&r, 150);
    assert_int_equal(r.last_delta, 0);      /* leaving [1, 50]: all received */
    assert_int_equal(feed(&r, 130), RW_REORDERED);  /* not a stale "duplicate" */
    assert_int_equal(finish(&r), 48);       /* 101..149 without 130 */
    CHECK(&r, 102, 48, 0, 0, 1, 150);

    /* in order past the ring: W=100, 1..300 without 229 (position 101,
     * a stale slot of the ring while H < 229): lost once at H=329 */
    setup_rw(&r, 100);
    feed_range(&r, 1, 228);
    feed_range(&r, 230, 328);
    assert_int_equal(r.st.lost, 0);
    assert_int_equal(feed(&r, 229), RW_REORDERED);
    feed_range(&r, 329, 400);
    CHECK(&r, 400, 0, 0, 0, 1, 400);
}

/* Window sizes outside 32..4096 are clamped. */
static void test_clamp(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 1);
    assert_int_equal(r.st.window, 32);
    setup_rw(&r, 100000);
    assert_int_equal(r.st.window, 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_first_packet),
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_single_loss),
        cmocka_unit_test(test_burst_w64),
        cmocka_unit_test(test_burst_w32),
        cmocka_unit_test(test_burst_w100),
        cmocka_unit_test(test_burst_w4096),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_reorder_left_edge),
        cmocka_unit_test(test_late),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_below_baseline),
        cmocka_unit_test(test_underflow),
        cmocka_unit_test(test_esn_wrap),
        cmocka_unit_test(test_esn_wrap_w32),
        cmocka_unit_test(test_big_jump),
        cmocka_unit_test(test_jump_2_31),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_stale_bits),
        cmocka_unit_test(test_clamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
