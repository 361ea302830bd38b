/* test_alert.c - unit tests for the alert and capture-drop policies.
 * Synthetic timestamps, exact expected event lists (derived by hand in
 * the comments; see alert.h for the window definition). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "alert.h"

#define S(x)  ((uint64_t)(x) * 1000000ull)
#define MS(x) ((uint64_t)(x) * 1000ull)

/* ------------------------------------------------------------ helpers */

struct ev {
    uint64_t t;
    int e;
};

struct rec {
    struct ev v[256];
    size_t n;
};

static struct alert_params P(uint32_t lost, uint32_t iv, uint32_t ppm,
                             uint32_t rep, int en)
{
    struct alert_params p = { .lost = lost, .interval_s = iv, .ppm = ppm, .repeat_s = rep,
                              .enabled = en, .min_pkts = 0 };
    return p;
}

static const char *ename(int e)
{
    switch (e) {
    case ALERT_EXCEEDED: return "exceeded";
    case ALERT_CLEARED: return "cleared";
    case ALERT_REMINDER: return "reminder";
    default: return "none";
    }
}

static void push(struct rec *r, uint64_t t, int e)
{
    assert_true(r->n < sizeof r->v / sizeof r->v[0]);
    r->v[r->n].t = t;
    r->v[r->n].e = e;
    r->n++;
}

/* eval at t; events are recorded with the time the module reports */
static enum alert_event ev_at(struct alert_state *s, struct rec *r, uint64_t t)
{
    struct alert_figures f;
    enum alert_event e = alert_eval(s, t, &f);
    if (e != ALERT_NONE)
        push(r, f.now_us, e);
    return e;
}

/* one packet batch: add then eval, as the engine does */
static void pkt(struct alert_state *s, struct rec *r, uint64_t t,
                uint32_t received, uint32_t lost)
{
    alert_add(s, t, received, lost);
    ev_at(s, r, t);
}

/* timer evals at from, from+step, ... <= to */
static void ticks(struct alert_state *s, struct rec *r, uint64_t from,
                  uint64_t to, uint64_t step)
{
    for (uint64_t t = from; t <= to; t += step)
        ev_at(s, r, t);
}

static void dump(const char *what, const struct ev *v, size_t n)
{
    fprintf(stderr, "  %s (%zu):\n", what, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "    %llu.%06llu %s\n",
                (unsigned long long)(v[i].t / 1000000u),
                (unsigned long long)(v[i].t % 1000000u),
                ename(v[i].e));
}

static void check(const struct rec *r, const struct ev *exp, size_t n)
{
    int ok = r->n == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = r->v[i].t == exp[i].t && r->v[i].e == exp[i].e;
    if (!ok) {
        dump("expected", exp, n);
        dump("got", r->v, r->n);
        fail_msg("event list mismatch");
    }
}

#define CHECK(r, ...) do { \
        const struct ev exp_[] = { __VA_ARGS__ }; \
        check((r), exp_, sizeof exp_ / sizeof exp_[0]); \
    } while (0)
#define CHECK_NONE(r) check((r), NULL, 0)

#define EXC ALERT_EXCEEDED
#define CLR ALERT_CLEARED
#define REM ALERT_REMINDER

static uint64_t lost_at(const struct alert_state *s, uint64_t t)
{
    struct alert_figures f;
    alert_figures(s, t, &f);
    return f.lost;
}

/* ------------------------------------------------------------ tests */

static void test_defaults(void **st)
{
    (void)st;
    struct alert_params p;
    alert_params_default(&p);
    assert_int_equal(p.lost, 10);
    assert_int_equal(p.interval_s, 60);
    assert_int_equal(p.ppm, 0);
    assert_int_equal(p.repeat_s, 0);
    assert_int_equal(p.enabled, 1);
    assert_string_equal(drop_event_name(DROP_DROPPING), "dropping");
    assert_string_equal(drop_event_name(DROP_STOPPED), "stopped");

    /* interval 0 -> default, out of range clamped */
    struct alert_state s;
    struct alert_params q = P(10, 0, 2000000, 0, 7);
    alert_init(&s, &q, 0);
    struct alert_figures f;
    alert_figures(&s, 0, &f);
    assert_int_equal(f.interval_s, 60);
    q = P(10, 999999, 0, 0, 1);
    alert_init(&s, &q, 0);
    alert_figures(&s, 0, &f);
    assert_int_equal(f.interval_s, 86400);
    assert_int_equal(f.lost, 0);
    assert_int_equal(f.rate_ppm, 0);
    assert_int_equal(f.alarm, 0);
    assert_int_equal(alert_eval(&s, 0, NULL), ALERT_NONE);  /* out may be NULL */
}

/* Threshold 10, interval 64 s (bucket 1 s).  One lost packet per second:
 * 9 lost -> nothing, the 10th -> EXCEEDED at exactly that packet. */
static void test_exceeded_at_threshold(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    alert_init(&s, &p, 0);
    for (int k = 1; k <= 9; k++)
        pkt(&s, &r, S(k), 100, 1);
    CHECK_NONE(&r);
    assert_int_equal(lost_at(&s, S(9)), 9);
    pkt(&s, &r, S(10) + 123, 100, 0);       /* receptions alone: nothing */
    CHECK_NONE(&r);
    pkt(&s, &r, S(10) + 456, 0, 1);
    CHECK(&r, { S(10) + 456, EXC });

    struct alert_figures f;
    alert_figures(&s, S(10) + 456, &f);
    assert_int_equal(f.lost, 10);
    assert_int_equal(f.received, 1000);
    assert_int_equal(f.rate_ppm, 9900);      /* 10e6 / 1010 = 9900.99 */
    assert_int_equal(f.alarm, 1);
    assert_int_equal(f.alarm_start_us, S(10) + 456);
    assert_int_equal(f.interval_s, 64);
}

/* Default interval 60 s: bucket w = 937.5 ms.  Loss at 0.5 s is bucket 0;
 * it is in the window while floor(now / w) <= 63, i.e. now < 60.0 s. */
static void test_exceeded_bucket_edges(void **st)
{
    (void)st;
    struct alert_params p;
    alert_params_default(&p);
    struct alert_state s;
    struct rec r = { .n = 0 };

    alert_init(&s, &p, 0);
    pkt(&s, &r, MS(500), 0, 5);
    pkt(&s, &r, S(60) - 1, 0, 5);           /* bucket 63: still together */
    CHECK(&r, { S(60) - 1, EXC });

    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, MS(500), 0, 5);
    assert_int_equal(lost_at(&s, S(60) - 1), 5);
    assert_int_equal(lost_at(&s, S(60)), 0);  /* bucket 64: bucket 0 left */
    pkt(&s, &r, S(60), 0, 5);
    CHECK_NONE(&r);
    assert_int_equal(lost_at(&s, S(60)), 5);

    /* same figures whatever the creation time of the state (alignment to
     * timestamp 0, not to alert_init) */
    r.n = 0;
    alert_init(&s, &p, MS(400));
    pkt(&s, &r, MS(500), 0, 5);
    pkt(&s, &r, S(60) - 1, 0, 5);
    CHECK(&r, { S(60) - 1, EXC });
}

/* Once in alarm, more loss emits nothing. */
static void test_stays_in_alarm(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(5), 0, 10);
    for (int k = 6; k <= 60; k++) {
        pkt(&s, &r, S(k), 1, 1000);
        ticks(&s, &r, S(k) + MS(500), S(k) + MS(500), 1);
    }
    CHECK(&r, { S(5), EXC });
    struct alert_figures f;
    alert_figures(&s, S(60), &f);
    assert_int_equal(f.alarm, 1);
    assert_int_equal(f.lost, 10 + 55 * 1000);
    assert_int_equal(f.received, 55);
}

/* Loss at 10.5 s, interval 64 s: bucket 10 leaves at 74.0 s, condition
 * false from 74.0, CLEARED at the first eval >= 138.0 -- whatever the
 * eval rate. */
static void test_cleared_after_full_interval(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };

    alert_init(&s, &p, 0);
    pkt(&s, &r, S(10) + MS(500), 0, 10);
    ticks(&s, &r, S(11), S(137), S(1));     /* one bucket earlier: nothing */
    ev_at(&s, &r, S(138) - 1);
    CHECK(&r, { S(10) + MS(500), EXC });
    ticks(&s, &r, S(138), S(200), S(1));
    CHECK(&r, { S(10) + MS(500), EXC }, { S(138), CLR });
    struct alert_figures f;
    alert_figures(&s, S(200), &f);
    assert_int_equal(f.alarm, 0);
    assert_int_equal(f.alarm_start_us, S(10) + MS(500));

    /* sparse evals: the same clearing time */
    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(10) + MS(500), 0, 10);
    assert_int_equal(lost_at(&s, S(74) - 1), 10);
    assert_int_equal(lost_at(&s, S(74)), 0);
    ev_at(&s, &r, S(137) + MS(999));
    ev_at(&s, &r, S(138) - 1);
    ev_at(&s, &r, S(138));
    ev_at(&s, &r, S(139));
    CHECK(&r, { S(10) + MS(500), EXC }, { S(138), CLR });

    /* one single late eval clears at that eval */
    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(10) + MS(500), 0, 10);
    ev_at(&s, &r, S(1000));
    CHECK(&r, { S(10) + MS(500), EXC }, { S(1000), CLR });

    /* default interval: w = 937.5 ms; loss at 1.0 s is bucket 1, leaves at
     * 65 * 0.9375 = 60.9375 s; CLEARED at 120.9375 s */
    r.n = 0;
    alert_params_default(&p);
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 0, 10);
    assert_int_equal(lost_at(&s, 60937499), 10);
    assert_int_equal(lost_at(&s, 60937500), 0);
    ticks(&s, &r, S(2), S(120), S(1));
    ev_at(&s, &r, 120937499);
    ev_at(&s, &r, 120937500);
    CHECK(&r, { S(1), EXC }, { 120937500, CLR });
}

/* Bursts of 10 every 100 s: true [0.5,64) [100.5,164) [200.5,264), false
 * gaps of 36.5 s < 64 s: one alarm, CLEARED at 264 + 64 = 328; a new
 * burst after that raises a new alarm. */
static void test_no_flapping_bursts(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    alert_init(&s, &p, 0);
    for (int k = 0; k <= 500; k++) {
        if (k % 100 == 0 && k != 300)
            pkt(&s, &r, S(k) + MS(500), 0, 10);
        else
            pkt(&s, &r, S(k) + MS(500), 50, 0);
        ev_at(&s, &r, S(k + 1));
    }
    CHECK(&r, { MS(500), EXC }, { S(328), CLR }, { S(400) + MS(500), EXC });
}

/* Threshold 64, one lost per second at k + 0.5: the count reaches 64 at
 * 63.5, then hovers 63/64 every half second (bucket k-64 leaves at k.0,
 * a new loss at k.5).  Last loss at 199.5; at 200.0 it drops to 63 for
 * good; CLEARED at 264.0. */
static void test_no_flapping_hovering(void **st)
{
    (void)st;
    struct alert_params p = P(64, 64, 0, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    alert_init(&s, &p, 0);
    for (int k = 0; k <= 199; k++) {
        ev_at(&s, &r, S(k));
        pkt(&s, &r, S(k) + MS(500), 10, 1);
    }
    assert_int_equal(lost_at(&s, S(199) + MS(500)), 64);
    assert_int_equal(lost_at(&s, S(199) + MS(999)), 64);
    assert_int_equal(lost_at(&s, S(200)), 63);
    ticks(&s, &r, S(200), S(300), MS(500));
    CHECK(&r, { S(63) + MS(500), EXC }, { S(264), CLR });
}

/* repeat 30 s: EXCEEDED at 10.5, reminders due 40.5, 70.5, ... emitted at
 * the first eval at or after; losses at 10.5/60.5/110.5/160.5 keep the
 * condition true until 224.0; CLEARED at 288.0 (before 280.5 + 30). */
static void test_reminder(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 30, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    alert_init(&s, &p, 0);
    for (int k = 0; k <= 400; k++) {
        if (k == 10 || k == 60 || k == 110 || k == 160)
            pkt(&s, &r, S(k) + MS(500), 0, 10);
        ev_at(&s, &r, S(k + 1));
    }
    CHECK(&r,
          { S(10) + MS(500), EXC },
          { S(41), REM }, { S(71), REM }, { S(101), REM }, { S(131), REM },
          { S(160) + MS(500), REM },
          { S(191), REM }, { S(221), REM }, { S(251), REM }, { S(281), REM },
          { S(288), CLR });

    /* missed reminders: only one, then the schedule goes on.
     * interval 640 s (w = 10 s), repeat 10: due 11, 21, 31, 41, 51, 61 */
    r.n = 0;
    p = P(10, 640, 0, 10, 1);
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 0, 10);
    ev_at(&s, &r, S(55));
    ev_at(&s, &r, S(60));
    ev_at(&s, &r, S(61));
    ev_at(&s, &r, S(70));
    ev_at(&s, &r, S(71));
    CHECK(&r, { S(1), EXC }, { S(55), REM }, { S(61), REM }, { S(71), REM });
}

/* ppm alone: 1000 ppm = 0.1 % */
static void test_ppm_only(void **st)
{
    (void)st;
    struct alert_params p = P(0, 64, 1000, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    struct alert_figures f;

    /* 1 / 1001 = 999 ppm: not yet */
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 1000, 0);
    pkt(&s, &r, S(2), 0, 1);
    alert_figures(&s, S(2), &f);
    assert_int_equal(f.rate_ppm, 999);
    CHECK_NONE(&r);

    /* 1 / 1000 = 1000 ppm: exactly the threshold */
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 999, 0);
    pkt(&s, &r, S(2), 0, 1);
    CHECK(&r, { S(2), EXC });
    alert_figures(&s, S(2), &f);
    assert_int_equal(f.rate_ppm, 1000);

    /* diluted below at 3.0 by one more reception (1/1001), then 1000
     * received every second: false since 3.0 (when bucket 1 leaves at
     * 65.0 the ratio is 1/62001), CLEARED at 67.0 */
    pkt(&s, &r, S(3), 1, 0);
    for (int k = 4; k <= 66; k++)
        pkt(&s, &r, S(k), 1000, 0);
    ev_at(&s, &r, S(67) - 1);
    pkt(&s, &r, S(67), 1000, 0);
    CHECK(&r, { S(2), EXC }, { S(67), CLR });

    /* the ratio in a thin window: 1 lost and 1 received = 500000 ppm */
    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 1, 1);
    CHECK(&r, { S(1), EXC });

    /* the count criterion is off: 3999 lost out of 4e9 (< 1 ppm) does
     * not fire ... until the receptions (bucket 1) leave the window at
     * 65.0 and the 3999 lost (bucket 2) are alone: 10^6 ppm.  They leave
     * at 66.0: CLEARED at 130.0 */
    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 4000000000u, 0);
    pkt(&s, &r, S(2), 0, 3999);              /* 3999/4000003999 < 1 ppm */
    ticks(&s, &r, S(3), S(64) + MS(999), MS(1));
    CHECK_NONE(&r);
    ticks(&s, &r, S(65), S(200), S(1));
    CHECK(&r, { S(65), EXC }, { S(130), CLR });
}

/* lost 10 and ppm 5000 (0.5 %): either one fires */
static void test_either_fires(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 5000, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };

    /* count fires, ratio 99.99 ppm does not */
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 100000, 0);
    pkt(&s, &r, S(2), 0, 9);
    pkt(&s, &r, S(2) + 1, 0, 1);
    CHECK(&r, { S(2) + 1, EXC });

    /* ratio fires (1/101 = 9900 ppm), count 1 < 10 does not */
    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 100, 0);
    pkt(&s, &r, S(2), 0, 1);
    CHECK(&r, { S(2), EXC });

    /* neither, then ratio: 4/1004 = 3984, 5/1005 = 4975, 6/1006 = 5964 */
    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 1000, 0);
    pkt(&s, &r, S(2), 0, 4);
    pkt(&s, &r, S(3), 0, 1);
    CHECK_NONE(&r);
    pkt(&s, &r, S(4), 0, 1);
    CHECK(&r, { S(4), EXC });

    /* both criteria off: never */
    r.n = 0;
    p = P(0, 64, 0, 0, 1);
    alert_init(&s, &p, 0);
    for (int k = 1; k < 100; k++)
        pkt(&s, &r, S(k), 0, 1000);
    CHECK_NONE(&r);
}

/* Per-tunnel overrides: tunnels with different params (as resolved by
 * tunnel_alert_params()) on the same input, 1 lost per 2 s with 10000
 * received: A (defaults: 10 in 60 s) fires at the 10th loss, B (3 in
 * 64 s, 2000 ppm) at the 3rd; C (interval 8 s) never holds 10 at once
 * (at most 4 losses in its window), D (90 ppm alone) at the first loss
 * (1/10001 = 99 ppm). */
static void test_override_params(void **st)
{
    (void)st;
    struct alert_params pa, pb = P(3, 64, 2000, 0, 1), pc = P(10, 8, 0, 0, 1),
                        pd = P(0, 60, 90, 0, 1);
    alert_params_default(&pa);
    struct alert_state sa, sb, sc, sd;
    struct rec ra = { .n = 0 }, rb = { .n = 0 }, rc = { .n = 0 }, rd = { .n = 0 };
    alert_init(&sa, &pa, 0);
    alert_init(&sb, &pb, 0);
    alert_init(&sc, &pc, 0);
    alert_init(&sd, &pd, 0);
    for (int k = 1; k <= 10; k++) {
        pkt(&sa, &ra, S(2 * k), 10000, 1);
        pkt(&sb, &rb, S(2 * k), 10000, 1);
        pkt(&sc, &rc, S(2 * k), 10000, 1);
        pkt(&sd, &rd, S(2 * k), 10000, 1);
    }
    CHECK(&ra, { S(20), EXC });
    CHECK(&rb, { S(6), EXC });
    CHECK_NONE(&rc);
    CHECK(&rd, { S(2), EXC });
    struct alert_figures f;
    alert_figures(&sc, S(20), &f);
    assert_int_equal(f.interval_s, 8);
    assert_int_equal(f.lost, 4);
}

/* alerts = false: no events, figures work, state stays normal */
static void test_disabled(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 30, 0);
    struct alert_state s;
    struct rec r = { .n = 0 };
    struct alert_figures f;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 900, 100);
    ticks(&s, &r, S(2), S(64), S(1));
    alert_figures(&s, S(64), &f);
    assert_int_equal(f.lost, 100);
    assert_int_equal(f.received, 900);
    assert_int_equal(f.rate_ppm, 100000);
    assert_int_equal(f.alarm, 0);
    alert_eval(&s, S(64), &f);               /* eval fills the same */
    assert_int_equal(f.lost, 100);
    assert_int_equal(f.rate_ppm, 100000);
    assert_int_equal(f.alarm, 0);
    alert_figures(&s, S(65), &f);
    assert_int_equal(f.lost, 0);
    ticks(&s, &r, S(65), S(200), S(1));
    CHECK_NONE(&r);

    /* silencing while in alarm: back to normal without any event;
     * re-enabling with the loss still in the window raises it again */
    r.n = 0;
    p.enabled = 1;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 0, 10);
    p.enabled = 0;
    alert_set_params(&s, &p, S(2));
    alert_figures(&s, S(2), &f);
    assert_int_equal(f.alarm, 0);
    pkt(&s, &r, S(3), 0, 10);
    ticks(&s, &r, S(4), S(10), S(1));
    p.enabled = 1;
    alert_set_params(&s, &p, S(10));
    ev_at(&s, &r, S(10));
    CHECK(&r, { S(1), EXC }, { S(10), EXC });
}

/* Time going backwards is treated as the last time seen. */
static void test_time_backwards(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    alert_init(&s, &p, S(5));
    pkt(&s, &r, S(10) + MS(500), 0, 5);
    pkt(&s, &r, S(9), 0, 4);                 /* credited at 10.5, bucket 10 */
    pkt(&s, &r, 0, 0, 1);                    /* far back: same */
    CHECK(&r, { S(10) + MS(500), EXC });
    assert_int_equal(lost_at(&s, S(3)), 10);  /* figures: clamped too */
    ev_at(&s, &r, S(10) + MS(500));          /* standing still */
    ev_at(&s, &r, S(73) + MS(999));
    assert_int_equal(lost_at(&s, S(73) + MS(999)), 10);
    assert_int_equal(lost_at(&s, S(74)), 0);
    ev_at(&s, &r, S(137));
    ev_at(&s, &r, S(100));                   /* backwards again */
    ev_at(&s, &r, S(138) - 1);
    ev_at(&s, &r, S(138));
    CHECK(&r, { S(10) + MS(500), EXC }, { S(138), CLR });

    /* a backwards eval right after a CLEARED-worthy time clears at the
     * last time seen */
    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(1), 0, 10);
    alert_add(&s, S(200), 1, 0);             /* moves time, no eval */
    ev_at(&s, &r, S(150));
    CHECK(&r, { S(1), EXC }, { S(200), CLR });
}

/* A big jump forward: ring emptied, O(64). */
static void test_big_jump(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    const uint64_t base = 1700000000ull * 1000000ull;   /* a pcap-like epoch */

    alert_init(&s, &p, base);
    pkt(&s, &r, base + S(1), 0, 10);
    ev_at(&s, &r, base + S(36000));          /* capture idle for 10 hours */
    struct alert_figures f;
    alert_figures(&s, base + S(36000), &f);
    assert_int_equal(f.lost, 0);
    assert_int_equal(f.received, 0);
    pkt(&s, &r, base + S(36000) + MS(500), 0, 10);
    ev_at(&s, &r, base + S(36000) + S(1000000000ull));  /* ~31 years */
    CHECK(&r, { base + S(1), EXC }, { base + S(36000), CLR },
          { base + S(36000) + MS(500), EXC },
          { base + S(36000) + S(1000000000ull), CLR });

    /* partial jumps keep exactly the buckets still in the window:
     * 1 lost at k.0 for k = 0..9 (buckets 0..9) */
    p = P(100, 64, 0, 0, 1);
    alert_init(&s, &p, 0);
    for (int k = 0; k <= 9; k++)
        alert_add(&s, S(k), 1, 1);
    assert_int_equal(lost_at(&s, S(63) + MS(500)), 10);
    assert_int_equal(lost_at(&s, S(64)), 9);
    assert_int_equal(lost_at(&s, S(73) - 1), 1);
    assert_int_equal(lost_at(&s, S(73)), 0);
    alert_eval(&s, S(40), &f);               /* jump 31 buckets */
    assert_int_equal(f.lost, 10);
    alert_eval(&s, S(70), &f);               /* jump 30: buckets 0..6 out */
    assert_int_equal(f.lost, 3);
    assert_int_equal(f.received, 3);
    alert_eval(&s, S(72) + 1, &f);
    assert_int_equal(f.lost, 1);
    alert_eval(&s, S(500), &f);
    assert_int_equal(f.lost, 0);
    assert_int_equal(f.received, 0);
}

/* Bucket counters saturate; the sums stay consistent. */
static void test_saturation(void **st)
{
    (void)st;
    struct alert_params p = P(0, 64, 0, 0, 1);
    struct alert_state s;
    struct alert_figures f;
    alert_init(&s, &p, 0);
    alert_add(&s, S(1), UINT32_MAX, UINT32_MAX);
    alert_add(&s, S(1), 5, 5);
    alert_add(&s, S(2), 7, 7);
    alert_eval(&s, S(2), &f);
    assert_true(f.lost == (uint64_t)UINT32_MAX + 7);
    assert_int_equal(f.rate_ppm, 500000);
    alert_eval(&s, S(65), &f);
    assert_int_equal(f.lost, 7);
    alert_eval(&s, S(66), &f);
    assert_int_equal(f.lost, 0);
}

/* Reload: same interval keeps everything; new thresholds apply at once;
 * a new interval re-buckets; a new repeat re-schedules on the same
 * anchor. */
static void test_reload(void **st)
{
    (void)st;
    struct alert_params p = P(10, 64, 0, 0, 1);
    struct alert_state s;
    struct rec r = { .n = 0 };
    struct alert_figures f;

    /* identical params mid-alarm: nothing changes (CLEARED at 138) */
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(10) + MS(500), 0, 10);
    ticks(&s, &r, S(11), S(19), S(1));
    alert_set_params(&s, &p, S(20));
    ticks(&s, &r, S(20), S(200), S(1));
    CHECK(&r, { S(10) + MS(500), EXC }, { S(138), CLR });

    /* threshold raised to 20 at 20 s: condition false from 20 s, state
     * kept (no event at the reload), CLEARED at 84 */
    r.n = 0;
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(10) + MS(500), 0, 10);
    ticks(&s, &r, S(11), S(19), S(1));
    p.lost = 20;
    alert_set_params(&s, &p, S(20));
    alert_figures(&s, S(20), &f);
    assert_int_equal(f.alarm, 1);
    assert_int_equal(f.lost, 10);
    ticks(&s, &r, S(20), S(200), S(1));
    CHECK(&r, { S(10) + MS(500), EXC }, { S(84), CLR });

    /* interval 64 -> 128 at 20 s (w 1 s -> 2 s): old bucket kk (1 lost
     * each, kk = 0..9) goes to new bucket floor((kk+1 s - 1 us) / 2 s),
     * i.e. 2 lost in each of new buckets 0..4; bucket 0 leaves at
     * 64 * 2 = 128 s leaving 8 < 10: CLEARED at 128 + 128 = 256 */
    r.n = 0;
    p = P(10, 64, 0, 0, 1);
    alert_init(&s, &p, 0);
    for (int k = 0; k <= 9; k++)
        pkt(&s, &r, S(k) + MS(500), 1, 1);
    ticks(&s, &r, S(10), S(19), S(1));
    p.interval_s = 128;
    alert_set_params(&s, &p, S(20));
    alert_figures(&s, S(20), &f);
    assert_int_equal(f.interval_s, 128);
    assert_int_equal(f.lost, 10);
    assert_int_equal(f.received, 10);
    assert_int_equal(f.alarm, 1);
    assert_int_equal(lost_at(&s, S(128) - 1), 10);   /* new bucket 0: */
    assert_int_equal(lost_at(&s, S(128)), 8);        /* leaves at 128 s */
    assert_int_equal(lost_at(&s, S(136) - 1), 2);
    assert_int_equal(lost_at(&s, S(136)), 0);
    ticks(&s, &r, S(20), S(255), S(1));
    ev_at(&s, &r, S(256) - 1);
    ticks(&s, &r, S(256), S(300), S(1));
    CHECK(&r, { S(9) + MS(500), EXC }, { S(256), CLR });

    /* interval 64 -> 8 at 14 s (w -> 125 ms): old bucket kk goes to new
     * bucket 8 kk + 7; new window at 14 s is buckets 49..112, so kk 6..9
     * stay (4 lost < 10: false from 14 s), CLEARED at 22 */
    r.n = 0;
    p = P(10, 64, 0, 0, 1);
    alert_init(&s, &p, 0);
    for (int k = 0; k <= 9; k++)
        pkt(&s, &r, S(k) + MS(500), 1, 1);
    ticks(&s, &r, S(10), S(13), S(1));
    p.interval_s = 8;
    alert_set_params(&s, &p, S(14));
    assert_int_equal(lost_at(&s, S(14)), 4);
    assert_int_equal(lost_at(&s, S(16) + MS(875) - 1), 2);
    assert_int_equal(lost_at(&s, S(16) + MS(875)), 1);
    assert_int_equal(lost_at(&s, S(17) + MS(875)), 0);
    ticks(&s, &r, S(14), S(40), S(1));
    CHECK(&r, { S(9) + MS(500), EXC }, { S(22), CLR });

    /* repeat switched on at 20 s in an alarm started at 10.5: reminders on
     * the grid 40.5, 70.5, ... */
    r.n = 0;
    p = P(10, 64, 0, 0, 1);
    alert_init(&s, &p, 0);
    pkt(&s, &r, S(10) + MS(500), 0, 10);
    ticks(&s, &r, S(11), S(19), S(1));
    p.repeat_s = 30;
    alert_set_params(&s, &p, S(20));
    ticks(&s, &r, S(20), S(200), S(1));
    CHECK(&r, { S(10) + MS(500), EXC }, { S(41), REM }, { S(71), REM },
          { S(101), REM }, { S(131), REM }, { S(138), CLR });
}

/* Same input, same events: run a pseudo-random scenario twice. */
static void test_deterministic(void **st)
{
    (void)st;
    struct rec r1 = { .n = 0 }, r2 = { .n = 0 };
    struct rec *rs[2] = { &r1, &r2 };
    for (int run = 0; run < 2; run++) {
        struct alert_params p = P(20, 60, 3000, 45, 1);
        struct alert_state s;
        uint32_t x = 12345;
        uint64_t t = S(1000);
        alert_init(&s, &p, t);
        for (int i = 0; i < 20000; i++) {
            x = x * 1103515245u + 12345u;
            t += (x >> 8) % 200000;          /* up to 0.2 s */
            uint32_t lost = ((x >> 20) % 97 == 0) ? (x >> 24) % 8 : 0;
            if (rs[run]->n < 250)
                pkt(&s, rs[run], t, 100, lost);
        }
    }
    assert_true(r1.n > 2);
    check(&r1, r2.v, r2.n);
}

/* ------------------------------------------------------------ drops */

static uint64_t drop_count(int t)
{
    if (t < 10)
        return 0;
    if (t <= 400)
        return 5 + (uint64_t)(t - 10);
    if (t < 500)
        return 395;
    if (t < 510)
        return 395 + (uint64_t)(t - 500 + 1) * 2;
    if (t == 510)
        return 3;                            /* capture reopened */
    return 4;
}

static void test_drop_policy(void **st)
{
    (void)st;
    struct drop_params p;
    drop_params_default(&p);
    assert_int_equal(p.repeat_s, 300);
    assert_int_equal(p.quiet_s, 60);

    struct drop_state s;
    drop_init(&s, &p, 0, 0);
    struct { int t; int e; uint64_t total, delta; } got[16], exp[] = {
        { 10, DROP_DROPPING, 5, 5 },         /* first rise */
        { 310, DROP_DROPPING, 305, 300 },    /* repeat after 300 s */
        { 460, DROP_STOPPED, 395, 90 },      /* last rise 400, quiet 60 */
        { 500, DROP_DROPPING, 397, 2 },
        { 571, DROP_STOPPED, 4, 1 },         /* reset at 510, rise at 511 */
    };
    size_t n = 0;
    for (int t = 1; t <= 700; t++) {
        struct drop_figures f;
        enum drop_event e = drop_update(&s, S(t), drop_count(t), &f);
        if (e != DROP_NONE) {
            assert_true(n < 16);
            got[n].t = t;
            got[n].e = e;
            got[n].total = f.total;
            got[n].delta = f.delta;
            n++;
        }
        if (t == 200) {
            assert_int_equal(f.dropping, 1);
            assert_int_equal(f.total, 195);
            assert_int_equal(f.delta, 190);
        }
    }
    assert_int_equal(n, sizeof exp / sizeof exp[0]);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].t, exp[i].t);
        assert_int_equal(got[i].e, exp[i].e);
        assert_int_equal(got[i].total, exp[i].total);
        assert_int_equal(got[i].delta, exp[i].delta);
    }
    struct drop_figures f;
    drop_figures(&s, &f);
    assert_int_equal(f.dropping, 0);
    assert_int_equal(f.total, 4);

    /* repeat off: one DROPPING however long it rises; time going back is
     * the last time seen (the quiet time counts from 100) */
    p.repeat_s = 0;
    p.quiet_s = 0;                           /* -> default 60 */
    drop_init(&s, &p, 0, 1000);
    int nd = 0, ns = 0, stopped_at = 0;
    for (int t = 1; t <= 100; t++)
        nd += drop_update(&s, S(t), 1000 + (uint64_t)t, NULL) == DROP_DROPPING;
    assert_int_equal(drop_update(&s, S(50), 1100, NULL), DROP_NONE);
    for (int t = 101; t <= 300; t++) {
        enum drop_event e = drop_update(&s, S(t), 1100, NULL);
        if (e == DROP_STOPPED) {
            ns++;
            stopped_at = t;
        }
    }
    assert_int_equal(nd, 1);
    assert_int_equal(ns, 1);
    assert_int_equal(stopped_at, 160);

    /* a rise seen at a backwards time is credited at the last time seen */
    drop_init(&s, &p, S(100), 0);
    assert_int_equal(drop_update(&s, S(90), 1, NULL), DROP_DROPPING);
    assert_int_equal(drop_update(&s, S(159), 1, NULL), DROP_NONE);
    assert_int_equal(drop_update(&s, S(160), 1, NULL), DROP_STOPPED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_exceeded_at_threshold),
        cmocka_unit_test(test_exceeded_bucket_edges),
        cmocka_unit_test(test_stays_in_alarm),
        cmocka_unit_test(test_cleared_after_full_interval),
        cmocka_unit_test(test_no_flapping_bursts),
        cmocka_unit_test(test_no_flapping_hovering),
        cmocka_unit_test(test_reminder),
        cmocka_unit_test(test_ppm_only),
        cmocka_unit_test(test_either_fires),
        cmocka_unit_test(test_override_params),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_time_backwards),
        cmocka_unit_test(test_big_jump),
        cmocka_unit_test(test_saturation),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_drop_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
