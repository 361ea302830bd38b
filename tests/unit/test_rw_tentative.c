/* test_rw_tentative.c - hand-computed scenarios for the tentative far
 * jump rule of replay_window.c (stated in replay_window.h): a packet more
 * than W ahead of H is held until two further distinct packets within W-1
 * of it confirm it; dismissed ones count as suspect, never lost or late.
 * Every expected value is derived in the comment next to it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "replay_window.h"

struct rw {
    struct rw_state st;
    uint64_t bits[RW_WORDS(RW_MAX_WINDOW)];
    uint64_t last_delta, last_seq64;
};

static void setup_rw(struct rw *r, uint32_t w)
{
    memset(r, 0xA5, sizeof(*r));
    rw_init(&r->st, r->bits, w);
}

static enum rw_kind feed(struct rw *r, uint64_t x)
{
    return rw_update(&r->st, r->bits, (uint32_t)x, &r->last_delta, &r->last_seq64,
                     NULL, NULL);
}

static void feed_range(struct rw *r, uint64_t from, uint64_t to)
{
    for (uint64_t n = from; n <= to; n++)
        feed(r, n);
}

static uint64_t finish(struct rw *r)
{
    return rw_finish(&r->st, r->bits, NULL, NULL);
}

/* received, lost, late, duplicate, reordered, suspect, high */
#define CHECK(r, rcv, lst, lat, dup, reo, sus, hi) do { \
        assert_int_equal((r)->st.received, (rcv)); \
        assert_int_equal((r)->st.lost, (lst)); \
        assert_int_equal((r)->st.late, (lat)); \
        assert_int_equal((r)->st.duplicate, (dup)); \
        assert_int_equal((r)->st.reordered, (reo)); \
        assert_int_equal((r)->st.suspect, (sus)); \
        assert_int_equal((r)->st.high, (hi)); \
    } while (0)

/* The issue-16 attack: 1..1000 in order without 31 numbers (every 30th
 * from 30 to 930), plus single packets 10^3, 10^6 and 2^31-1 ahead of H
 * injected after 200, 500 and 800.  Without the rule they moved H and
 * made ~2^31 lost.  Now each is held and dismissed once the real stream
 * has advanced W = 64 past the H at which it was held: suspect 3, and
 * lost / late exactly those of the stream without them (31 / 0). */
static void test_spoofed_singles(void **state)
{
    (void)state;
    static const uint64_t ahead[3] = { 1000u, 1000000u, 0x7FFFFFFFu };
    static const uint64_t at[3] = { 200, 500, 800 };
    struct rw r, clean;
    setup_rw(&r, 64);
    setup_rw(&clean, 64);
    int k = 0;
    for (uint64_t n = 1; n <= 1000; n++) {
        if (n % 30 == 0 && n <= 930)
            continue;
        feed(&r, n);
        feed(&clean, n);
        if (k < 3 && n == at[k]) {
            assert_int_equal(feed(&r, n + ahead[k]), RW_HELD);
            assert_int_equal(r.last_seq64, n + ahead[k]);
            assert_int_equal(r.last_delta, 0);
            assert_int_equal(r.st.high, n);         /* H did not move */
            k++;
        }
        /* dismissed when H reaches at + 64 (H - held_at >= W) */
        for (int j = 0; j < 3; j++)
            if (n == at[j] + 63)
                assert_int_equal(r.st.suspect, (uint64_t)j);
            else if (n == at[j] + 64)
                assert_int_equal(r.st.suspect, (uint64_t)j + 1);
    }
    assert_int_equal(finish(&r), finish(&clean));
    CHECK(&clean, 969, 31, 0, 0, 0, 0, 1000);
    CHECK(&r, 972, 31, 0, 0, 0, 3, 1000);
}

/* A second far jump outside the zone of the held one replaces it.
 * W=64: 1..10, 1000 (held), 5000 (|5000-1000| >= W: 1000 is suspect,
 * 5000 held), 5001, 5002 confirm: at 5000 leaving [1,10] all received,
 * jumped [11, 4936] = 4926 (1000 included: it was never accepted); 4937
 * and 4938 fall off: 4928.  finish: [4939, 5002] holds 4939..4999 = 61.
 * Check: [1, 5002] minus the 13 accepted = 4989. */
static void test_replaced(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 10);
    assert_int_equal(feed(&r, 1000), RW_HELD);
    assert_int_equal(feed(&r, 5000), RW_HELD);
    CHECK(&r, 12, 0, 0, 0, 0, 1, 10);
    assert_int_equal(feed(&r, 5001), RW_HELD);
    assert_int_equal(feed(&r, 5002), RW_NEXT);
    assert_int_equal(r.last_delta, 4928);
    CHECK(&r, 14, 4928, 0, 0, 0, 1, 5002);
    assert_int_equal(finish(&r), 61);
    assert_int_equal(r.st.lost, 4989);
}

/* The zone is |x - T| < W.  W=64: 1..10, 1000 held; 1064 is W away: a
 * far jump outside the zone, replaces 1000 (suspect 1).  1001 is 63 below
 * 1064: held with it; 1065 confirms.  At 1064: jumped [11, 1000] = 990;
 * 1001 is inside [1001, 1064]: reordered; 1065: 1001 leaves, received.
 * finish: [1002, 1065] holds 1002..1063 = 62. */
static void test_zone_edge(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 10);
    feed(&r, 1000);
    assert_int_equal(feed(&r, 1064), RW_HELD);
    assert_int_equal(r.st.suspect, 1);
    assert_int_equal(feed(&r, 1001), RW_HELD);
    assert_int_equal(feed(&r, 1065), RW_NEXT);
    assert_int_equal(r.last_delta, 990);
    CHECK(&r, 14, 990, 0, 0, 1, 1, 1065);
    assert_int_equal(finish(&r), 62);
    CHECK(&r, 14, 1052, 0, 0, 1, 1, 1065);
}

/* The old stream reaching T releases it.  W=64: 1..10, 80 (d=70: held),
 * 11..16: at H=16, T-H = 64 <= W: 80 is processed as if it arrived now:
 * d = 64, nothing jumped over entirely, leaving [1, 16] all received.
 * 17..79 are then inside [17, 80]: reordered.  Nothing lost. */
static void test_released(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 10);
    assert_int_equal(feed(&r, 80), RW_HELD);
    feed_range(&r, 11, 15);
    assert_int_equal(r.st.high, 15);
    assert_int_equal(feed(&r, 16), RW_NEXT);
    assert_int_equal(r.st.high, 80);
    feed_range(&r, 17, 79);
    CHECK(&r, 80, 0, 0, 0, 63, 0, 80);
    assert_int_equal(finish(&r), 0);
}

/* Two held packets, then the old stream goes on: W=64: 1..10, 1000, 1001
 * (held), 11..73: H - 10 = 63 < W: still tentative; 74: dismissed,
 * suspect 2.  Copies of a held packet are duplicates. */
static void test_dismissed_by_old_stream(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 10);
    feed(&r, 1000);
    assert_int_equal(feed(&r, 1000), RW_DUPLICATE);
    assert_int_equal(feed(&r, 1001), RW_HELD);
    assert_int_equal(feed(&r, 1001), RW_DUPLICATE);
    assert_int_equal(feed(&r, 1000), RW_DUPLICATE);
    feed_range(&r, 11, 73);
    CHECK(&r, 78, 0, 0, 3, 0, 0, 73);
    feed(&r, 74);
    CHECK(&r, 79, 0, 0, 3, 0, 2, 74);
    /* the stream is unaffected: 1000 later on is a normal packet */
    feed_range(&r, 75, 1000);
    assert_int_equal(finish(&r), 0);
    CHECK(&r, 1005, 0, 0, 3, 0, 2, 1000);
}

/* Packets at or behind H while the jump is tentative: late (as after the
 * jump) until the old stream advances once, normal after.
 * a) W=64: 1..10 without 8, 1000 (held), 8: late; 1001, 1002 confirm:
 *    leaving [1, 10] has hole 8, jumped [11, 936] = 926, 937, 938 fall
 *    off: 929 -- as without the rule.
 * b) 1..10 without 8, 1000 (held), 11 (advances), 8: reordered; 12..74:
 *    dismissed at H = 74.  Nothing lost. */
static void test_stragglers(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 7);
    feed_range(&r, 9, 10);
    feed(&r, 1000);
    assert_int_equal(feed(&r, 8), RW_LATE);
    assert_int_equal(r.last_seq64, 8);
    assert_int_equal(feed(&r, 10), RW_LATE);    /* H itself, too */
    feed(&r, 1001);
    assert_int_equal(feed(&r, 1002), RW_NEXT);
    assert_int_equal(r.last_delta, 929);
    CHECK(&r, 14, 929, 2, 0, 0, 0, 1002);

    setup_rw(&r, 64);
    feed_range(&r, 1, 7);
    feed_range(&r, 9, 10);
    feed(&r, 1000);
    assert_int_equal(feed(&r, 11), RW_NEXT);
    assert_int_equal(feed(&r, 8), RW_REORDERED);
    assert_int_equal(feed(&r, 11), RW_DUPLICATE);
    feed_range(&r, 12, 74);
    CHECK(&r, 76, 0, 0, 1, 1, 1, 74);    /* 9 + 1000, 11, 8, 11 + 63 */
}

/* A jump whose zone overlaps the old window's forward range (T-H < 2W)
 * counts exactly as without the rule.  W=64: 1..10, 80 (held), 20 (60
 * below 80: in the zone, held), 21 confirms: at 80 jumped [11, 16] = 6;
 * 20 and 21 are inside [17, 80]: reordered.  finish: 17..19, 22..79 =
 * 3 + 58 = 61 more. */
static void test_overlap(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 64);
    feed_range(&r, 1, 10);
    assert_int_equal(feed(&r, 80), RW_HELD);
    assert_int_equal(feed(&r, 20), RW_HELD);
    assert_int_equal(feed(&r, 21), RW_REORDERED);
    assert_int_equal(r.last_delta, 6);
    CHECK(&r, 13, 6, 0, 0, 2, 0, 80);
    assert_int_equal(finish(&r), 61);
}

/* finish dismisses a tentative jump; a second finish adds nothing.  The
 * invariant received - late - duplicate - suspect + lost = H - B + 1. */
static void test_finish_dismisses(void **state)
{
    (void)state;
    struct rw r;
    setup_rw(&r, 32);
    feed_range(&r, 100, 110);
    feed(&r, 100 + 0x7FFFFFFFull);
    feed(&r, 101 + 0x7FFFFFFFull);
    assert_int_equal(finish(&r), 0);
    CHECK(&r, 13, 0, 0, 0, 0, 2, 110);
    assert_int_equal(finish(&r), 0);
    assert_int_equal(r.st.suspect, 2);
    assert_int_equal(r.st.received - r.st.late - r.st.duplicate - r.st.suspect + r.st.lost,
                     r.st.high - r.st.base + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spoofed_singles),
        cmocka_unit_test(test_replaced),
        cmocka_unit_test(test_zone_edge),
        cmocka_unit_test(test_released),
        cmocka_unit_test(test_dismissed_by_old_stream),
        cmocka_unit_test(test_stragglers),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_finish_dismisses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
