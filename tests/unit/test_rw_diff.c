/* test_rw_diff.c - differential property test: src/replay_window.c
 * against the slow reference model (tests/unit/rw_reference.c).
 *
 * Random streams (seeded splitmix64; the seed is printed and can be
 * replayed with IDT_RW_DIFF_SEED) mix in-order packets, random loss,
 * bursts, reordering up to 2W, duplicates, late packets, packets below
 * the baseline, forward jumps up to 2^31-1 (and exactly 2^31) that the
 * sender continues from, injected single packets far ahead that it does
 * not continue from (spoofed: tentative jumps that end dismissed), random
 * wire values and ESN wraps; windows are random in 32..4096.  After every
 * packet the kind, lost delta, inferred 64-bit number and the reported
 * lost runs must agree; after every stream all counters, then rw_finish()
 * (twice).
 *
 * IDT_RW_DIFF_STREAMS   number of streams (default 1000)
 * IDT_RW_DIFF_SEED      base seed (default: fixed, so `make check` is
 *                       reproducible; "random" picks one from the clock)
 */
#include "replay_window.h"
#include "rw_reference.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert(RW_NEW == (int)RWREF_NEW && RW_NEXT == (int)RWREF_NEXT &&
               RW_REORDERED == (int)RWREF_REORDERED &&
               RW_DUPLICATE == (int)RWREF_DUPLICATE && RW_LATE == (int)RWREF_LATE &&
               RW_HELD == (int)RWREF_HELD,
               "kind numbering");

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, n) (n > 0; tiny bias irrelevant here) */
static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

struct runbuf {
    struct rwref_run *r;
    size_t n, cap;
};

static void collect(void *ctx, uint64_t first, uint64_t last)
{
    struct runbuf *b = ctx;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2u : 64u;
        b->r = realloc(b->r, b->cap * sizeof(*b->r));
        if (!b->r)
            abort();
    }
    b->r[b->n].first = first;
    b->r[b->n].last = last;
    b->n++;
}

static uint64_t cur_seed;
static uint32_t cur_window;
static size_t cur_pkt;

#define FAIL(...) do { \
        fprintf(stderr, "test_rw_diff: MISMATCH seed=%" PRIu64 " window=%" PRIu32 \
                " packet=%zu: ", cur_seed, cur_window, cur_pkt); \
        fprintf(stderr, __VA_ARGS__); \
        fputc('\n', stderr); \
        return -1; \
    } while (0)

static int compare_runs(const struct runbuf *b, const struct rwref *ref, const char *what)
{
    if (b->n != ref->nruns)
        FAIL("%s: %zu runs, reference %zu", what, b->n, ref->nruns);
    for (size_t i = 0; i < b->n; i++)
        if (b->r[i].first != ref->runs[i].first || b->r[i].last != ref->runs[i].last)
            FAIL("%s: run %zu is [%" PRIu64 ",%" PRIu64 "], reference [%" PRIu64
                 ",%" PRIu64 "]", what, i, b->r[i].first, b->r[i].last,
                 ref->runs[i].first, ref->runs[i].last);
    return 0;
}

static int compare_state(const struct rw_state *st, const struct rwref *ref)
{
    if (st->received != ref->received) FAIL("received %" PRIu64 " vs %" PRIu64, st->received, ref->received);
    if (st->lost != ref->lost) FAIL("lost %" PRIu64 " vs %" PRIu64, st->lost, ref->lost);
    if (st->late != ref->late) FAIL("late %" PRIu64 " vs %" PRIu64, st->late, ref->late);
    if (st->duplicate != ref->duplicate) FAIL("duplicate %" PRIu64 " vs %" PRIu64, st->duplicate, ref->duplicate);
    if (st->reordered != ref->reordered) FAIL("reordered %" PRIu64 " vs %" PRIu64, st->reordered, ref->reordered);
    if (st->suspect != ref->suspect) FAIL("suspect %" PRIu64 " vs %" PRIu64, st->suspect, ref->suspect);
    if (st->nheld != ref->nheld) FAIL("held %u vs %d", (unsigned)st->nheld, ref->nheld);
    if (ref->started && st->high != (uint64_t)ref->high)
        FAIL("high %" PRIu64 " vs %" PRId64, st->high, ref->high);
    if (ref->started && st->base != (uint64_t)ref->base)
        FAIL("base %" PRIu64 " vs %" PRId64, (uint64_t)st->base, ref->base);
    return 0;
}

static uint32_t pick_window(void)
{
    switch (below(8)) {
    case 0: return 32;
    case 1: return 64;
    case 2: return 4096;
    case 3: return (uint32_t)(64u * (1u + below(64)));          /* multiple of 64 */
    case 4: return (uint32_t)(32u + below(200));                /* small, odd */
    default: return (uint32_t)(32u + below(4096u - 32u + 1u));
    }
}

static uint64_t pick_start(void)
{
    switch (below(6)) {
    case 0: return 0;
    case 1: return below(100);
    case 2: return 0xFFFFFFFFull - below(3000);                  /* ESN wrap soon */
    case 3: return 0x80000000ull - below(3000);
    default: return (uint32_t)rnd();
    }
}

static uint64_t *bits_buf;
static uint64_t tot_kind[6], tot_pkts, tot_lost, tot_finish, tot_runs, tot_suspect;
static uint64_t tot_injected;

static int run_stream(uint64_t seed)
{
    struct rw_state st;
    struct rwref ref;
    struct runbuf rb = { NULL, 0, 0 };
    int rc = 0;

    rng_state = seed;
    cur_seed = seed;
    uint32_t w = pick_window();
    cur_window = w;
    size_t words = RW_WORDS(w);
    /* poison the bitmap before init: init must clear it */
    memset(bits_buf, 0xA5, RW_WORDS(RW_MAX_WINDOW) * sizeof(uint64_t));
    rw_init(&st, bits_buf, w);
    for (size_t i = 0; i < words; i++)
        if (bits_buf[i] != 0) {
            fprintf(stderr, "rw_init did not clear the bitmap\n");
            return -1;
        }
    if (rwref_init(&ref, w) != 0)
        abort();

    const uint64_t start = pick_start();
    uint64_t next = start;           /* next sequence number the sender uses */
    /* delayed (reordered) packets: numbers held back to be sent later */
    uint64_t held[64];
    size_t nheld = 0;
    size_t len = 1u + (size_t)below(below(4) == 0 ? 3000 : 400);
    /* per-stream mix so that some streams are very lossy, some clean */
    uint32_t p_loss = (uint32_t)below(30), p_hold = (uint32_t)below(20);
    uint32_t p_dup = (uint32_t)below(8), p_jump = (uint32_t)below(3);
    uint32_t p_spoof = (uint32_t)below(4);

    for (cur_pkt = 0; cur_pkt < len && rc == 0; cur_pkt++) {
        uint64_t s;
        uint32_t r = (uint32_t)below(1000);

        if (cur_pkt == 0) {
            s = next++;
        } else if (r < p_jump * 5u) {
            /* forward jump up to 2^31-1 (ahead of the current H) */
            uint64_t j;
            switch (below(4)) {
            case 0: j = 0x7FFFFFFFull - below(4); break;
            case 1: j = 0x80000000ull; break;                       /* exactly 2^31: old */
            case 2: j = w + below(3); break;
            default: j = 1u + below(0x7FFFFFFFull); break;
            }
            s = st.high + j;
            if (j < 0x80000000ull && s >= next)
                next = s + 1u;
        } else if (r >= 990u - p_spoof * 5u) {
            /* injected single packet far ahead; the sender goes on */
            uint64_t j;
            switch (below(4)) {
            case 0: j = 1000u; break;
            case 1: j = 1000000u; break;
            case 2: j = 0x7FFFFFFFull; break;
            default: j = w + 1u + below(0x7FFFFFFFull - w); break;
            }
            s = st.high + j;
            tot_injected++;
        } else if (r < 30u) {
            s = (uint32_t)rnd();                                    /* random wire value */
        } else if (r < 45u) {
            s = start - 1u - below(2u * w);                         /* below the baseline */
        } else if (r < 45u + p_dup * 10u) {
            s = next - 1u - below(3);                               /* duplicate-ish */
        } else if (r < 150u && nheld > 0) {
            size_t k = (size_t)below(nheld);                        /* release a held one */
            s = held[k];
            held[k] = held[--nheld];
        } else if (r < 170u) {
            s = next - 1u - below(2u * w + 2u);                     /* reordered/late */
        } else if (r < 180u) {
            next += (uint64_t)below(3u * w);                        /* burst loss */
            s = next++;
        } else {
            if (below(100) < p_loss)
                next += 1u + below(5);                              /* random loss */
            s = next++;
            if (below(100) < p_hold && nheld < 64) {                /* hold it back */
                held[nheld++] = s;
                s = next++;
            }
        }

        uint32_t x = (uint32_t)s;
        uint64_t ld = 12345, s64 = 12345, rld = 54321, rs64 = 54321;
        rb.n = 0;
        enum rw_kind k = rw_update(&st, bits_buf, x, &ld, &s64, collect, &rb);
        int rk = rwref_update(&ref, x, &rld, &rs64);
        tot_pkts++;
        if ((unsigned)k < 6u)
            tot_kind[k]++;
        tot_runs += rb.n;
        if ((int)k != rk) { fprintf(stderr, "x=%#" PRIx32 " ", x); rc = -1;
            fprintf(stderr, "kind %d vs reference %d (seed=%" PRIu64 " window=%" PRIu32
                    " packet=%zu)\n", (int)k, rk, seed, w, cur_pkt); break; }
        if (ld != rld) { fprintf(stderr, "x=%#" PRIx32 " ", x); rc = -1;
            fprintf(stderr, "lost_delta %" PRIu64 " vs %" PRIu64 " (seed=%" PRIu64
                    " window=%" PRIu32 " packet=%zu)\n", ld, rld, seed, w, cur_pkt); break; }
        if (s64 != rs64) { fprintf(stderr, "x=%#" PRIx32 " ", x); rc = -1;
            fprintf(stderr, "seq64 %" PRIu64 " vs %" PRIu64 " (seed=%" PRIu64
                    " window=%" PRIu32 " packet=%zu)\n", s64, rs64, seed, w, cur_pkt); break; }
        /* a random value may have moved H far ahead: the sender follows
         * (most of the time), so that the stream does not stay all late */
        if (st.high >= next && below(10) != 0)
            next = st.high + 1u;
        if (compare_runs(&rb, &ref, "update") != 0 || compare_state(&st, &ref) != 0) {
            fprintf(stderr, "  (x=%#" PRIx32 ")\n", x);
            rc = -1;
        }
    }

    if (rc == 0) {
        rb.n = 0;
        uint64_t f = rw_finish(&st, bits_buf, collect, &rb);
        uint64_t rf = rwref_finish(&ref);
        tot_lost += st.lost;
        tot_finish += f;
        tot_suspect += st.suspect;
        /* every number in [B, H] is received in sequence once or lost */
        if (st.received - st.late - st.duplicate - st.suspect + st.lost !=
            st.high - st.base + 1u) {
            fprintf(stderr, "invariant received-late-dup-suspect+lost == H-B+1 broken "
                    "(seed=%" PRIu64 ")\n", seed);
            rc = -1;
        }
        if (f != rf) {
            fprintf(stderr, "finish %" PRIu64 " vs %" PRIu64 " (seed=%" PRIu64 " window=%"
                    PRIu32 ")\n", f, rf, seed, w);
            rc = -1;
        } else if (compare_runs(&rb, &ref, "finish") != 0 || compare_state(&st, &ref) != 0) {
            rc = -1;
        } else {
            rb.n = 0;
            f = rw_finish(&st, bits_buf, collect, &rb);
            if (f != 0 || rb.n != 0) {
                fprintf(stderr, "second finish added %" PRIu64 " (seed=%" PRIu64 ")\n", f, seed);
                rc = -1;
            }
        }
    }
    free(rb.r);
    rwref_free(&ref);
    return rc;
}

int main(void)
{
    const char *e = getenv("IDT_RW_DIFF_STREAMS");
    unsigned long streams = e ? strtoul(e, NULL, 10) : 1000ul;
    uint64_t base = 0x1D7C0FFEEull;
    const char *es = getenv("IDT_RW_DIFF_SEED");
    if (es && strcmp(es, "random") == 0)
        base = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
    else if (es)
        base = strtoull(es, NULL, 0);

    bits_buf = malloc(RW_WORDS(RW_MAX_WINDOW) * sizeof(uint64_t));
    if (!bits_buf)
        return 99;

    /* stream i uses seed base + i: a failure names the seed to replay
     * with IDT_RW_DIFF_SEED=<seed> IDT_RW_DIFF_STREAMS=1 */
    unsigned long failures = 0;
    for (unsigned long i = 0; i < streams; i++) {
        uint64_t seed = base + i;
        if (run_stream(seed) != 0) {
            fprintf(stderr, "test_rw_diff: stream %lu FAILED; replay with "
                    "IDT_RW_DIFF_SEED=%" PRIu64 " IDT_RW_DIFF_STREAMS=1\n", i, seed);
            if (++failures >= 5)
                break;
        }
    }
    free(bits_buf);
    printf("test_rw_diff: %lu streams, base seed %" PRIu64 ", %lu failures\n",
           streams, base, failures);
    printf("  packets %" PRIu64 ": new %" PRIu64 " next %" PRIu64 " reordered %" PRIu64
           " duplicate %" PRIu64 " late %" PRIu64 " held %" PRIu64 "; lost %" PRIu64
           " (%" PRIu64 " by finish), %" PRIu64 " lost runs; %" PRIu64 " injected far, %"
           PRIu64 " suspect\n", tot_pkts, tot_kind[0], tot_kind[1], tot_kind[2],
           tot_kind[3], tot_kind[4], tot_kind[5], tot_lost, tot_finish, tot_runs,
           tot_injected, tot_suspect);
    return failures ? 1 : 0;
}
