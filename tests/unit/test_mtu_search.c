/* test_mtu_search.c - unit tests for the MTU search (simulated paths).
 *
 * The simulated path has MTU M: a probe of size s is answered iff
 * s <= M and neither the probe nor (optionally) the reply is lost
 * (seeded splitmix64, deterministic).  Every run, in every test, is
 * checked by sim_check(): a DONE answer must have been answered by a
 * probe, and S+1 must have failed on 1+R probes and never answered
 * (unless S = max or S = the local limit). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mtu_search.h"

/* ------------------------------------------------------------ simulator */

struct sim {
    uint32_t mtu;
    double loss;            /* per probe */
    int both;               /* the reply is lost with the same rate too */
    uint32_t local_limit;   /* 0 = none; larger sizes give EMSGSIZE */
    uint32_t hint;          /* 0 = none; given after round hint_round */
    unsigned hint_round;
    uint64_t rng;
    /* per-size statistics of what was really sent */
    uint16_t ans[MTU_SEARCH_MAX_SIZE + 2];
    uint16_t fail[MTU_SEARCH_MAX_SIZE + 2];
    unsigned rounds;
};

static uint64_t rng_next(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *st)
{
    return (double)(rng_next(st) >> 11) / 9007199254740992.0;
}

static void sim_init(struct sim *m, uint32_t mtu, double loss, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->mtu = mtu;
    m->loss = loss;
    m->rng = seed;
}

static int sim_answers(struct sim *m, uint32_t size)
{
    int ok = size <= m->mtu;
    if (m->loss > 0 && rng_unit(&m->rng) < m->loss)
        ok = 0;
    if (m->both && m->loss > 0 && rng_unit(&m->rng) < m->loss)
        ok = 0;
    return ok;
}

/* Invariants of one finished run. */
static void sim_check(const struct mtu_search *s, const struct mtu_search_params *p,
                      const struct sim *m)
{
    enum mtu_search_state st = mtu_search_state(s);
    assert_int_not_equal(st, MTU_SEARCH_RUNNING);
    if (st == MTU_SEARCH_DONE) {
        uint32_t a = mtu_search_answer(s);
        assert_true(a >= p->min && a <= p->max);
        assert_true(m->ans[a] > 0);                 /* a reply proved it */
        if (m->local_limit && a == m->local_limit)
            return;                                 /* authoritative */
        if (a == p->max)
            return;
        assert_int_equal(m->ans[a + 1], 0);         /* never answered */
        assert_true(m->fail[a + 1] >= p->retries + 1);
    } else if (st == MTU_SEARCH_FAILED) {
        for (uint32_t x = p->min; x <= p->max; x++)
            assert_int_equal(m->ans[x], 0);         /* nothing answered */
        assert_int_equal(mtu_search_answer(s), 0);
    } else {
        assert_int_equal(mtu_search_answer(s), 0);  /* INCOMPLETE */
    }
}

static enum mtu_search_state sim_run(struct mtu_search *s,
                                     const struct mtu_search_params *p,
                                     struct sim *m)
{
    uint32_t sizes[MTU_SEARCH_MAX_PROBES];
    unsigned n;
    uint32_t known_limit = 0;

    assert_int_equal(mtu_search_init(s, p), 0);
    while ((n = mtu_search_next_round(s, sizes, MTU_SEARCH_MAX_PROBES)) > 0) {
        m->rounds++;
        assert_true(n <= p->probes);
        for (unsigned i = 0; i < n; i++) {
            assert_true(sizes[i] >= p->min && sizes[i] <= p->max);
            if (i > 0)
                assert_true(sizes[i - 1] <= sizes[i]);
            /* a known local limit is never exceeded again */
            if (known_limit)
                assert_true(sizes[i] <= known_limit);
        }
        for (unsigned i = 0; i < n; i++) {
            if (m->local_limit && sizes[i] > m->local_limit) {
                mtu_search_local_limit(s, m->local_limit);   /* EMSGSIZE */
                known_limit = m->local_limit;
                continue;
            }
            if (sim_answers(m, sizes[i])) {
                m->ans[sizes[i]]++;
                mtu_search_result(s, sizes[i], 1);
            } else {
                m->fail[sizes[i]]++;
            }
        }
        mtu_search_end_round(s);
        if (m->hint && m->rounds == m->hint_round)
            mtu_search_hint(s, m->hint);
    }
    assert_int_equal(mtu_search_rounds(s), m->rounds);
    sim_check(s, p, m);
    return mtu_search_state(s);
}

static struct mtu_search S;     /* ~10 KB, keep it off the stack */
static struct sim M;

static struct mtu_search_params prm(uint32_t min, uint32_t max, uint32_t probes,
                                    uint32_t retries)
{
    struct mtu_search_params p = { min, max, probes, retries, 0 };
    return p;
}

/* ------------------------------------------------------------ tests */

/* 0% loss, P = 16, 576..1500, every MTU: exact.  Rounds: R = 0 and 1 at
 * most 3 for every MTU.  R = 2: at most 3 for MTU >= 1280, at most 4
 * below.  (3 rounds are impossible below 1280 with R = 2: with the 11
 * plateaus in round 1 only 5 probes are left for 576..1279, i.e. 6 gaps
 * of ~116 sizes, while 2 more rounds of 16 probes can resolve and
 * confirm (3 copies of every candidate S+1) at most 84.) */
static void test_zero_loss_every_mtu(void **state)
{
    (void)state;
    for (uint32_t r = 0; r <= 2; r++) {
        struct mtu_search_params p = prm(576, 1500, 16, r);
        unsigned hist[8] = { 0 };
        double probes = 0;
        for (uint32_t mtu = 576; mtu <= 1500; mtu++) {
            sim_init(&M, mtu, 0, 1);
            assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_DONE);
            assert_int_equal(mtu_search_answer(&S), mtu);
            unsigned rounds = mtu_search_rounds(&S);
            if (r < 2 || mtu >= 1280)
                assert_true(rounds <= 3);
            else
                assert_true(rounds <= 4);
            hist[rounds < 8 ? rounds : 7]++;
            probes += mtu_search_probes_sent(&S);
        }
        printf("    0%% loss P=16 R=%u: rounds 1:%u 2:%u 3:%u 4:%u, mean probes %.1f\n",
               (unsigned)r, hist[1], hist[2], hist[3], hist[4], probes / 925);
        assert_int_equal(hist[5] + hist[6] + hist[7], 0);
    }
}

/* Common values finish early: max in 1 round; a plateau in 2 rounds
 * when lo+1 can be "bet" on (sent 1+R times) without costing the gap a
 * round -- all but 1280, whose gap up to 1360 is too wide for that. */
static void test_plateaus_fast(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(576, 1500, 16, 2);
    sim_init(&M, 1500, 0, 1);
    sim_run(&S, &p, &M);
    assert_int_equal(mtu_search_answer(&S), 1500);
    assert_int_equal(mtu_search_rounds(&S), 1);
    static const uint32_t pl[] = { 1492, 1480, 1472, 1460, 1440, 1420, 1400,
                                   1380, 1360, 1280 };
    for (unsigned i = 0; i < sizeof pl / sizeof pl[0]; i++) {
        sim_init(&M, pl[i], 0, 1);
        sim_run(&S, &p, &M);
        assert_int_equal(mtu_search_answer(&S), pl[i]);
        assert_true(mtu_search_rounds(&S) <= (pl[i] == 1280 ? 3u : 2u));
    }
}

static void loss_runs(double loss, int both, uint32_t retries, unsigned *exact, double *rounds,
                      double *probes)
{
    struct mtu_search_params p = prm(576, 1500, 16, retries);
    uint64_t pick = 12345;
    *exact = 0;
    *rounds = *probes = 0;
    for (unsigned run = 0; run < 1000; run++) {
        uint32_t mtu = 576 + (uint32_t)(rng_next(&pick) % 925);
        sim_init(&M, mtu, loss, 1000003ull * run + 7);
        M.both = both;
        enum mtu_search_state st = sim_run(&S, &p, &M);
        if (st == MTU_SEARCH_DONE && mtu_search_answer(&S) == mtu)
            (*exact)++;
        *rounds += mtu_search_rounds(&S);
        *probes += mtu_search_probes_sent(&S);
    }
    *rounds /= 1000;
    *probes /= 1000;
}

/* 10% random probe loss, P = 16, R = 2 and R = 1, 1000 seeded runs, random MTU. */
static void test_loss_10pct(void **state)
{
    (void)state;
    unsigned exact;
    double rounds, probes;
    loss_runs(0.10, 0, 2, &exact, &rounds, &probes);
    printf("    10%% probe loss: exact %u/1000 (%.1f%%), mean rounds %.2f, "
           "mean probes %.1f\n", exact, exact / 10.0, rounds, probes);
    assert_true(exact >= 990);
    /* the default retries = 1 (3 rounds at 0% loss) meets the same bar */
    loss_runs(0.10, 0, 1, &exact, &rounds, &probes);
    printf("    10%% probe loss, R=1: exact %u/1000 (%.1f%%), mean rounds %.2f, "
           "mean probes %.1f\n", exact, exact / 10.0, rounds, probes);
    assert_true(exact >= 990);
    /* 10% each way (19% per probe): reported, same bar. */
    loss_runs(0.10, 1, 2, &exact, &rounds, &probes);
    printf("    10%% probe + 10%% reply loss: exact %u/1000 (%.1f%%), mean "
           "rounds %.2f, mean probes %.1f\n", exact, exact / 10.0, rounds, probes);
    assert_true(exact >= 990);
}

/* One lost probe, wherever it happens, never changes the answer: drop
 * exactly the k-th probe of the run, for every k of the 0%-loss run. */
static void test_single_loss_never_wrong(void **state)
{
    (void)state;
    static const uint32_t mtus[] = { 576, 577, 700, 1000, 1279, 1280, 1281,
                                     1399, 1400, 1401, 1438, 1499, 1500 };
    uint32_t sizes[MTU_SEARCH_MAX_PROBES];
    for (uint32_t r = 1; r <= 2; r++) {
        struct mtu_search_params p = prm(576, 1500, 16, r);
        for (unsigned i = 0; i < sizeof mtus / sizeof mtus[0]; i++) {
            for (unsigned drop = 0; drop < 80; drop++) {
                unsigned seq = 0, n;
                mtu_search_init(&S, &p);
                while ((n = mtu_search_next_round(&S, sizes, 64)) > 0) {
                    for (unsigned k = 0; k < n; k++, seq++)
                        if (sizes[k] <= mtus[i] && seq != drop)
                            mtu_search_result(&S, sizes[k], 1);
                    mtu_search_end_round(&S);
                }
                assert_int_equal(mtu_search_state(&S), MTU_SEARCH_DONE);
                assert_int_equal(mtu_search_answer(&S), mtus[i]);
            }
        }
    }
}

static void test_below_min_fails(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(576, 1500, 16, 2);
    sim_init(&M, 575, 0, 1);
    assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_FAILED);
    assert_int_equal(mtu_search_answer(&S), 0);
    assert_true(mtu_search_rounds(&S) <= 2);
    sim_init(&M, 0, 0.1, 5);            /* tunnel down, with loss */
    assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_FAILED);
    sim_init(&M, 1500, 1.0, 5);         /* everything lost */
    assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_FAILED);
    /* min itself needed all 1+R failures */
    assert_true(M.fail[576] >= 3);
}

static void test_max(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(576, 1500, 16, 2);
    sim_init(&M, 1500, 0, 1);
    sim_run(&S, &p, &M);
    assert_int_equal(mtu_search_answer(&S), 1500);
    sim_init(&M, 9000, 0, 1);           /* path larger than max */
    sim_run(&S, &p, &M);
    assert_int_equal(mtu_search_answer(&S), 1500);
    assert_int_equal(mtu_search_rounds(&S), 1);
    p = prm(576, 9216, 16, 2);          /* jumbo range */
    sim_init(&M, 9216, 0, 1);
    sim_run(&S, &p, &M);
    assert_int_equal(mtu_search_answer(&S), 9216);
    assert_int_equal(mtu_search_rounds(&S), 1);
}

static void test_min_equals_max(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(1400, 1400, 16, 2);
    sim_init(&M, 1400, 0, 1);
    sim_run(&S, &p, &M);
    assert_int_equal(mtu_search_answer(&S), 1400);
    assert_int_equal(mtu_search_rounds(&S), 1);
    sim_init(&M, 1399, 0, 1);
    assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_FAILED);
    assert_int_equal(mtu_search_rounds(&S), 1);
    p.probes = 1;                       /* retries take rounds */
    sim_init(&M, 1399, 0, 1);
    assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_FAILED);
    assert_int_equal(mtu_search_rounds(&S), 3);
}

/* P = 1: a binary search, still exact, plus R confirmation rounds. */
static void test_one_probe(void **state)
{
    (void)state;
    for (uint32_t r = 0; r <= 2; r++) {
        struct mtu_search_params p = prm(576, 1500, 1, r);
        unsigned maxr = 0;
        for (uint32_t mtu = 575; mtu <= 1500; mtu++) {
            sim_init(&M, mtu, 0, 1);
            enum mtu_search_state st = sim_run(&S, &p, &M);
            if (mtu < 576) {
                assert_int_equal(st, MTU_SEARCH_FAILED);
                continue;
            }
            assert_int_equal(st, MTU_SEARCH_DONE);
            assert_int_equal(mtu_search_answer(&S), mtu);
            assert_int_equal(mtu_search_probes_sent(&S), mtu_search_rounds(&S));
            if (mtu_search_rounds(&S) > maxr)
                maxr = mtu_search_rounds(&S);
        }
        /* ceil(log2(926)) = 10 decisions + R retries + the round-1 max */
        assert_true(maxr <= 11 + r);
    }
}

static void test_hint(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(576, 1500, 16, 2);
    uint32_t sizes[MTU_SEARCH_MAX_PROBES];

    /* Correct hint before the first round: one round. */
    mtu_search_init(&S, &p);
    mtu_search_hint(&S, 1438);
    unsigned n = mtu_search_next_round(&S, sizes, 64);
    for (unsigned i = 0; i < n; i++)
        if (sizes[i] <= 1438)
            mtu_search_result(&S, sizes[i], 1);
    mtu_search_end_round(&S);
    assert_int_equal(mtu_search_state(&S), MTU_SEARCH_DONE);
    assert_int_equal(mtu_search_answer(&S), 1438);

    /* Correct hint after round 1 (frag-needed to the 1500 probe). */
    sim_init(&M, 1438, 0, 1);
    M.hint = 1438;
    M.hint_round = 1;
    sim_run(&S, &p, &M);
    assert_int_equal(mtu_search_answer(&S), 1438);
    assert_int_equal(mtu_search_rounds(&S), 2);

    /* Hints that are wrong either way, or out of range, never change the
     * answer. */
    static const uint32_t bad[] = { 1300, 1437, 1439, 1490, 100, 600, 9999 };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (unsigned hr = 1; hr <= 2; hr++) {
            sim_init(&M, 1438, 0, 1);
            M.hint = bad[i];
            M.hint_round = hr;
            assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_DONE);
            assert_int_equal(mtu_search_answer(&S), 1438);
            assert_true(mtu_search_rounds(&S) <= 4);
        }
    }
    /* A hint with loss: still exact or at least never unconfirmed. */
    unsigned exact = 0;
    for (unsigned run = 0; run < 200; run++) {
        sim_init(&M, 1400 + run % 80, 0.1, run + 1);
        M.hint = 1400 + run % 80;
        M.hint_round = 1;
        sim_run(&S, &p, &M);
        exact += mtu_search_answer(&S) == M.mtu;
    }
    assert_true(exact >= 198);
}

static void test_local_limit(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(576, 1500, 16, 2);

    /* Interface 1400, path beyond 1438: answer 1400 (authoritative). */
    sim_init(&M, 1438, 0, 1);
    M.local_limit = 1400;
    assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_DONE);
    assert_int_equal(mtu_search_answer(&S), 1400);

    /* Interface 1450, path 1438: the path decides. */
    sim_init(&M, 1438, 0, 1);
    M.local_limit = 1450;
    sim_run(&S, &p, &M);
    assert_int_equal(mtu_search_answer(&S), 1438);

    /* Known before the first round: nothing above it is ever sent. */
    uint32_t sizes[MTU_SEARCH_MAX_PROBES];
    mtu_search_init(&S, &p);
    mtu_search_local_limit(&S, 1300);
    unsigned n = mtu_search_next_round(&S, sizes, 64);
    assert_true(n > 0);
    for (unsigned i = 0; i < n; i++)
        assert_true(sizes[i] <= 1300);

    /* Below min: FAILED at once. */
    mtu_search_init(&S, &p);
    mtu_search_local_limit(&S, 500);
    assert_int_equal(mtu_search_state(&S), MTU_SEARCH_FAILED);
    assert_int_equal(mtu_search_next_round(&S, sizes, 64), 0);

    /* Lowered after a larger reply: lo drops to the limit, DONE. */
    mtu_search_init(&S, &p);
    n = mtu_search_next_round(&S, sizes, 64);
    for (unsigned i = 0; i < n; i++)
        if (sizes[i] <= 1440)
            mtu_search_result(&S, sizes[i], 1);
    mtu_search_local_limit(&S, 1380);
    assert_int_equal(mtu_search_state(&S), MTU_SEARCH_DONE);
    assert_int_equal(mtu_search_answer(&S), 1380);

    /* With loss. */
    for (unsigned run = 0; run < 200; run++) {
        sim_init(&M, 1400 + run % 100, 0.1, run + 11);
        M.local_limit = 1450;
        sim_run(&S, &p, &M);
    }
}

/* Late/stranger reports are ignored (the prober matches tokens). */
static void test_result_matching(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(576, 1500, 4, 2);
    uint32_t sizes[MTU_SEARCH_MAX_PROBES];

    mtu_search_init(&S, &p);
    assert_int_equal(mtu_search_result(&S, 1000, 1), -1);   /* no round */
    unsigned n = mtu_search_next_round(&S, sizes, 64);
    assert_int_equal(n, 4);
    assert_int_equal(mtu_search_result(&S, 1234, 1), -1);   /* not sent */
    assert_int_equal(mtu_search_result(&S, sizes[0], 1), 0);
    unsigned same = 0;
    for (unsigned i = 0; i < n; i++)
        same += sizes[i] == sizes[0];
    for (unsigned i = 1; i < same; i++)
        assert_int_equal(mtu_search_result(&S, sizes[0], 1), 0);
    assert_int_equal(mtu_search_result(&S, sizes[0], 1), -1); /* duplicate */
    mtu_search_end_round(&S);

    const struct mtu_search_round *r = mtu_search_last_round(&S);
    assert_non_null(r);
    assert_int_equal(r->number, 1);
    assert_int_equal(r->count, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(r->size[i], sizes[i]);
        assert_int_equal(r->answered[i], sizes[i] == sizes[0]);
    }
    uint32_t lo, hi;
    mtu_search_range(&S, &lo, &hi);
    assert_int_equal(lo, sizes[0]);
    assert_int_equal(r->lo, lo);
    assert_int_equal(r->hi, hi);
    assert_true(hi > lo);
    assert_int_equal(mtu_search_result(&S, sizes[1], 1), -1); /* late */
}

static void test_round_cap(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(576, 1500, 16, 2);
    p.max_rounds = 2;
    sim_init(&M, 1000, 0, 1);
    assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_INCOMPLETE);
    assert_int_equal(mtu_search_rounds(&S), 2);
    assert_int_equal(mtu_search_answer(&S), 0);
    uint32_t lo, hi;
    mtu_search_range(&S, &lo, &hi);
    assert_true(lo <= 1000 && hi > 1000 && lo >= 576);   /* lo is proven */
    sim_init(&M, 1000, 1.0, 1);         /* nothing ever answers */
    assert_int_equal(sim_run(&S, &p, &M), MTU_SEARCH_FAILED);
    /* Automatic cap: 20 for these parameters. */
    p.max_rounds = 0;
    mtu_search_init(&S, &p);
    assert_int_equal(S.max_rounds, 20);
}

static void test_invalid_params(void **state)
{
    (void)state;
    uint32_t sizes[MTU_SEARCH_MAX_PROBES];
    struct mtu_search_params bad[] = {
        { 575, 1500, 16, 2, 0 }, { 576, 9217, 16, 2, 0 }, { 1500, 1400, 16, 2, 0 },
        { 576, 1500, 0, 2, 0 }, { 576, 1500, 65, 2, 0 }, { 576, 1500, 16, 11, 0 },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mtu_search_init(&S, &bad[i]), -1);
        assert_int_equal(mtu_search_state(&S), MTU_SEARCH_FAILED);
        assert_int_equal(mtu_search_next_round(&S, sizes, 64), 0);
    }
    assert_string_equal(mtu_search_state_name(MTU_SEARCH_DONE), "done");
}

/* Random parameters: exact at 0% loss, invariants under loss. */
static void test_random_params(void **state)
{
    (void)state;
    uint64_t g = 99;
    for (unsigned run = 0; run < 3000; run++) {
        struct mtu_search_params p;
        p.min = 576 + (uint32_t)(rng_next(&g) % 3000);
        p.max = p.min + (uint32_t)(rng_next(&g) % (run % 3 ? 1200 : 6000));
        if (p.max > 9216)
            p.max = 9216;
        p.probes = 1 + (uint32_t)(rng_next(&g) % 64);
        p.retries = (uint32_t)(rng_next(&g) % 11);
        p.max_rounds = 0;
        uint32_t mtu = p.min - 1 + (uint32_t)(rng_next(&g) % (p.max - p.min + 3));
        double loss = run % 2 ? 0.0 : 0.05 * (double)(rng_next(&g) % 5);
        sim_init(&M, mtu, loss, run + 1);
        M.both = (run % 4) == 0;
        enum mtu_search_state st = sim_run(&S, &p, &M);
        if (loss == 0) {
            uint32_t want = mtu > p.max ? p.max : mtu;
            if (mtu < p.min) {
                assert_int_equal(st, MTU_SEARCH_FAILED);
            } else {
                assert_int_equal(st, MTU_SEARCH_DONE);
                assert_int_equal(mtu_search_answer(&S), want);
            }
        }
    }
}

static void test_deterministic(void **state)
{
    (void)state;
    struct mtu_search_params p = prm(576, 1500, 16, 2);
    uint32_t a[MTU_SEARCH_MAX_PROBES], b[MTU_SEARCH_MAX_PROBES];
    static struct mtu_search t;
    mtu_search_init(&S, &p);
    mtu_search_init(&t, &p);
    for (;;) {
        unsigned na = mtu_search_next_round(&S, a, 64);
        unsigned nb = mtu_search_next_round(&t, b, 64);
        assert_int_equal(na, nb);
        if (!na)
            break;
        assert_memory_equal(a, b, na * sizeof a[0]);
        for (unsigned i = 0; i < na; i++)
            if (a[i] <= 1111) {
                mtu_search_result(&S, a[i], 1);
                mtu_search_result(&t, b[i], 1);
            }
        /* next_round without end_round ends the round implicitly */
        if (mtu_search_rounds(&S) % 2)
            mtu_search_end_round(&S);
    }
    assert_int_equal(mtu_search_answer(&S), 1111);
    assert_int_equal(mtu_search_answer(&t), 1111);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_loss_every_mtu),
        cmocka_unit_test(test_plateaus_fast),
        cmocka_unit_test(test_loss_10pct),
        cmocka_unit_test(test_single_loss_never_wrong),
        cmocka_unit_test(test_below_min_fails),
        cmocka_unit_test(test_max),
        cmocka_unit_test(test_min_equals_max),
        cmocka_unit_test(test_one_probe),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_local_limit),
        cmocka_unit_test(test_result_matching),
        cmocka_unit_test(test_round_cap),
        cmocka_unit_test(test_invalid_params),
        cmocka_unit_test(test_random_params),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
