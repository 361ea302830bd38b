/* mtu_sim.c - simulated path MTU benchmark for mtu_search.
 *
 * Build and run:
 *   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Isrc src/mtu_search.c \
 *       tests/bench/mtu_sim.c -o /tmp/mtusim && /tmp/mtusim
 *
 * Simulated path: MTU M; a probe of size s is answered iff s <= M and
 * neither the probe (probability L) nor, with -b, its reply (probability
 * L again) is lost.  Seeded, deterministic.
 *
 * Methods compared, for loss 0% and 10% (and -l for another rate):
 *   ours     mtu_search, P probes per round (default 16), R retries (2)
 *   binary   plain binary search over [min, max], one probe per round,
 *            no retries
 *   fastmtu  the original FastMTU: 20 probes per round spread evenly over
 *            1..2000, no plateaus, then evenly inside (largest answered,
 *            smallest failed) until the interval is 1, no retries
 * Printed per method and scenario: mean/max rounds, mean probes,
 * exact-answer rate, wrong answers, no-answer (failed/incomplete) runs
 * and the estimated time = mean rounds x timeout (default 2 s).
 * MTUSIM_SHOWWRONG=1 lists the runs of ours that were not exact;
 * -T MTU [MTUSIM_SEED=n] traces one run round by round.
 *
 * Scenarios: 0% loss (each MTU once), 10% probe loss, 10% probe + 10%
 * reply loss (each MTU x -n seeds), and optionally -l LOSS (-b: on the
 * reply too).  Path MTUs: every value in [min, max] (or -A..-Z).
 *
 * Options: -P probes -R retries -t timeout -n seeds-per-M -l loss
 *          -b (the -l loss applies to the reply too) -m min -M max
 *          -A/-Z first/last path MTU simulated (default: min/max)
 *          -k (key=value output instead of a Markdown table)
 *          -T mtu (trace our search for one MTU, loss from -l)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtu_search.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

struct path {
    uint32_t mtu;
    double loss;
    int both;           /* loss applies to the reply as well */
};

static int path_answers(const struct path *p, uint32_t size)
{
    int ok = size <= p->mtu;
    if (rng_unit() < p->loss)
        ok = 0;
    if (p->both && rng_unit() < p->loss)
        ok = 0;
    return ok;
}

struct outcome {
    int exact, wrong, none;
    unsigned rounds, probes;
};

/* ------------------------------------------------------------ methods */

static struct outcome run_ours(const struct mtu_search_params *prm,
                               const struct path *p, int trace)
{
    struct mtu_search s;
    uint32_t sizes[MTU_SEARCH_MAX_PROBES];
    unsigned n;
    struct outcome o = { 0, 0, 0, 0, 0 };

    mtu_search_init(&s, prm);
    while ((n = mtu_search_next_round(&s, sizes, MTU_SEARCH_MAX_PROBES)) > 0) {
        for (unsigned i = 0; i < n; i++)
            if (path_answers(p, sizes[i]))
                mtu_search_result(&s, sizes[i], 1);
        mtu_search_end_round(&s);
        if (trace) {
            const struct mtu_search_round *r = mtu_search_last_round(&s);
            printf("round %u:", r->number);
            for (unsigned i = 0; i < r->count; i++)
                printf(" %u%s", (unsigned)r->size[i], r->answered[i] ? "+" : "-");
            printf("  -> lo=%u hi=%u\n", (unsigned)r->lo, (unsigned)r->hi);
        }
    }
    o.rounds = mtu_search_rounds(&s);
    o.probes = mtu_search_probes_sent(&s);
    if (mtu_search_state(&s) == MTU_SEARCH_DONE) {
        if (mtu_search_answer(&s) == p->mtu)
            o.exact = 1;
        else
            o.wrong = 1;
    } else if (p->mtu < prm->min && mtu_search_state(&s) == MTU_SEARCH_FAILED) {
        o.exact = 1;
    } else {
        o.none = 1;
    }
    if (trace)
        printf("state=%s answer=%u rounds=%u probes=%u\n",
               mtu_search_state_name(mtu_search_state(&s)),
               (unsigned)mtu_search_answer(&s), o.rounds, o.probes);
    return o;
}

static struct outcome run_binary(uint32_t min, uint32_t max, const struct path *p)
{
    uint32_t lo = min - 1, hi = max + 1;
    struct outcome o = { 0, 0, 0, 0, 0 };
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        o.rounds++;
        o.probes++;
        if (path_answers(p, mid))
            lo = mid;
        else
            hi = mid;
    }
    if (lo < min)
        o.none = p->mtu >= min, o.exact = p->mtu < min;
    else if (lo == p->mtu)
        o.exact = 1;
    else
        o.wrong = 1;
    return o;
}

static struct outcome run_fastmtu(const struct path *p)
{
    uint32_t lo = 0, hi = 2001;     /* sizes 1..2000 */
    struct outcome o = { 0, 0, 0, 0, 0 };
    while (hi - lo > 1) {
        uint32_t g = hi - lo - 1;
        unsigned k = g < 20 ? g : 20;
        uint32_t nlo = lo, nhi = hi;
        o.rounds++;
        for (unsigned i = 1; i <= k; i++) {
            uint32_t x = lo + (uint32_t)(((uint64_t)(g + 1) * i) / (k + 1));
            o.probes++;
            if (path_answers(p, x)) {
                if (x > nlo)
                    nlo = x;
            } else if (x < nhi) {
                nhi = x;
            }
        }
        if (nhi <= nlo)             /* contradiction (loss): trust replies */
            nhi = hi > nlo ? hi : nlo + 1;
        lo = nlo;
        hi = nhi;
    }
    if (lo == p->mtu)
        o.exact = 1;
    else
        o.wrong = 1;
    return o;
}

/* ------------------------------------------------------------ driver */

struct agg {
    unsigned runs, exact, wrong, none, maxr;
    double rounds, probes;
};

static void add(struct agg *a, const struct outcome *o)
{
    a->runs++;
    a->exact += (unsigned)o->exact;
    a->wrong += (unsigned)o->wrong;
    a->none += (unsigned)o->none;
    a->rounds += o->rounds;
    a->probes += o->probes;
    if (o->rounds > a->maxr)
        a->maxr = o->rounds;
}

static void print(const char *method, double loss, int both, const struct agg *a,
                  double timeout, int kv)
{
    double mr = a->rounds / a->runs, mp = a->probes / a->runs;
    double rate = 100.0 * a->exact / a->runs;
    if (kv)
        printf("method=%s loss=%.0f%%%s runs=%u mean_rounds=%.2f max_rounds=%u "
               "mean_probes=%.1f exact_rate=%.2f%% wrong=%u no_answer=%u "
               "est_time_s=%.1f\n", method, loss * 100, both ? "x2" : "",
               a->runs, mr, a->maxr, mp, rate, a->wrong, a->none, mr * timeout);
    else
        printf("| %-8s | %5.0f%%%s | %5u | %6.2f | %3u | %7.1f | %7.2f%% | %5u | %5u | %6.1f |\n",
               method, loss * 100, both ? "x2" : "  ", a->runs, mr, a->maxr, mp,
               rate, a->wrong, a->none, mr * timeout);
}

int main(int argc, char **argv)
{
    struct mtu_search_params prm = { 576, 1500, 16, 2, 0 };
    double timeout = 2.0, xloss = -1;
    unsigned seeds = 3;
    int both = 0, kv = 0, opt;
    long trace = -1;
    uint32_t mlo = 0, mhi = 0;

    while ((opt = getopt(argc, argv, "P:R:t:n:l:bm:M:kT:A:Z:")) != -1) {
        switch (opt) {
        case 'P': prm.probes = (uint32_t)atoi(optarg); break;
        case 'R': prm.retries = (uint32_t)atoi(optarg); break;
        case 't': timeout = atof(optarg); break;
        case 'n': seeds = (unsigned)atoi(optarg); break;
        case 'l': xloss = atof(optarg); break;
        case 'b': both = 1; break;
        case 'm': prm.min = (uint32_t)atoi(optarg); break;
        case 'M': prm.max = (uint32_t)atoi(optarg); break;
        case 'k': kv = 1; break;
        case 'T': trace = atol(optarg); break;
        case 'A': mlo = (uint32_t)atoi(optarg); break;
        case 'Z': mhi = (uint32_t)atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-P n] [-R n] [-t s] [-n seeds] [-l loss] "
                    "[-b] [-m min] [-M max] [-A mtu-from] [-Z mtu-to] [-k] [-T mtu]\n", argv[0]);
            return 2;
        }
    }
    if (trace >= 0) {
        struct path p = { (uint32_t)trace, xloss < 0 ? 0 : xloss, both };
        rng_state = getenv("MTUSIM_SEED") ? strtoull(getenv("MTUSIM_SEED"), NULL, 0) : 1;
        run_ours(&prm, &p, 1);
        return 0;
    }

    if (!mlo)
        mlo = prm.min;
    if (!mhi)
        mhi = prm.max;
    /* scenarios: 0%, 10% on the probe, 10% on probe and reply, and -l */
    double losses[4] = { 0.0, 0.10, 0.10, xloss };
    int bothv[4] = { 0, 0, 1, both };
    unsigned nl = xloss >= 0 ? 4 : 3;
    if (!kv) {
        printf("search range %u..%u, path MTU every value in %u..%u x %u seeds per "
               "lossy scenario; ours: P=%u R=%u; timeout %.1f s; x2 = loss on "
               "probe and reply\n\n", (unsigned)prm.min, (unsigned)prm.max,
               (unsigned)mlo, (unsigned)mhi, seeds,
               (unsigned)prm.probes, (unsigned)prm.retries, timeout);
        printf("| method   |  loss  |  runs | rounds | max |  probes |   exact  | wrong |  none | time s |\n");
        printf("|----------|--------|-------|--------|-----|---------|----------|-------|-------|--------|\n");
    }
    for (unsigned li = 0; li < nl; li++) {
        struct agg a[3];
        memset(a, 0, sizeof a);
        unsigned ns = losses[li] == 0 ? 1 : seeds;
        for (uint32_t m = mlo; m <= mhi; m++) {
            for (unsigned sd = 0; sd < ns; sd++) {
                struct path p = { m, losses[li], bothv[li] };
                struct outcome o;
                uint64_t seed = ((uint64_t)m << 20) ^ (sd * 7919u + 1);
                rng_state = seed;
                o = run_ours(&prm, &p, 0);
                add(&a[0], &o);
                if (getenv("MTUSIM_SHOWWRONG") && !o.exact)
                    printf("wrong: mtu=%u seed=%llu\n", (unsigned)m,
                           (unsigned long long)seed);
                rng_state = seed;
                o = run_binary(prm.min, prm.max, &p);
                add(&a[1], &o);
                rng_state = seed;
                o = run_fastmtu(&p);
                add(&a[2], &o);
            }
        }
        print("ours", losses[li], bothv[li], &a[0], timeout, kv);
        print("binary", losses[li], bothv[li], &a[1], timeout, kv);
        print("fastmtu", losses[li], bothv[li], &a[2], timeout, kv);
    }
    return 0;
}
