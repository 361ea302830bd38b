/* rw_reference.c - slow reference model, see rw_reference.h.
 * Deliberately simple: one sequence number at a time, signed 64-bit
 * arithmetic, a hash set of every marked number. */
#include "rw_reference.h"

#include <stdlib.h>
#include <string.h>

#define TWO32 ((int64_t)1 << 32)
#define TWO31 ((int64_t)1 << 31)

static uint64_t set_hash(uint64_t v)
{
    v += 0x9e3779b97f4a7c15ull;
    v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
    v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
    return v ^ (v >> 31);
}

static int set_contains(const struct rwref *r, int64_t n)
{
    uint64_t key = (uint64_t)n + 1u;
    size_t mask = r->set_cap - 1u;
    for (size_t i = set_hash(key) & mask;; i = (i + 1u) & mask) {
        if (r->set[i] == 0)
            return 0;
        if (r->set[i] == key)
            return 1;
    }
}

static void set_put_raw(uint64_t *set, size_t cap, uint64_t key)
{
    size_t mask = cap - 1u;
    size_t i = set_hash(key) & mask;
    while (set[i] != 0 && set[i] != key)
        i = (i + 1u) & mask;
    set[i] = key;
}

static void set_add(struct rwref *r, int64_t n)
{
    if (set_contains(r, n))
        return;
    if (2u * (r->set_n + 1u) > r->set_cap) {
        size_t ncap = r->set_cap * 2u;
        uint64_t *ns = calloc(ncap, sizeof(*ns));
        if (!ns)
            abort();
        for (size_t i = 0; i < r->set_cap; i++)
            if (r->set[i])
                set_put_raw(ns, ncap, r->set[i]);
        free(r->set);
        r->set = ns;
        r->set_cap = ncap;
    }
    set_put_raw(r->set, r->set_cap, (uint64_t)n + 1u);
    r->set_n++;
}

/* Record that number n became lost (calls come in increasing order). */
static void lost_one_range(struct rwref *r, int64_t first, int64_t last)
{
    if (r->nruns > 0 && r->runs[r->nruns - 1].last + 1u == (uint64_t)first) {
        r->runs[r->nruns - 1].last = (uint64_t)last;
    } else {
        if (r->nruns == r->runs_cap) {
            size_t ncap = r->runs_cap ? r->runs_cap * 2u : 64u;
            struct rwref_run *nr = realloc(r->runs, ncap * sizeof(*nr));
            if (!nr)
                abort();
            r->runs = nr;
            r->runs_cap = ncap;
        }
        r->runs[r->nruns].first = (uint64_t)first;
        r->runs[r->nruns].last = (uint64_t)last;
        r->nruns++;
    }
    r->lost += (uint64_t)(last - first + 1);
}

int rwref_init(struct rwref *r, uint32_t w)
{
    memset(r, 0, sizeof(*r));
    r->window = w;
    r->set_cap = 1024;
    r->set = calloc(r->set_cap, sizeof(*r->set));
    return r->set ? 0 : -1;
}

void rwref_free(struct rwref *r)
{
    free(r->set);
    free(r->runs);
    memset(r, 0, sizeof(*r));
}

/* The lowest number of the window [H-W+1, H] that counts: not below the
 * baseline and not negative. */
static int64_t window_low(const struct rwref *r)
{
    int64_t lo = r->high - (int64_t)r->window + 1;
    if (lo < r->base)
        lo = r->base;
    return lo;
}

/* The unique number congruent to seq32 mod 2^32 in [ref - 2^31, ref + 2^31 - 1]. */
static int64_t nearest(int64_t ref, uint32_t seq32)
{
    int64_t s = 0;
    int found = 0;
    for (int64_t k = -1; k <= 1; k++) {
        int64_t c = ((ref >> 32) + k) * TWO32 + (int64_t)seq32;
        if (c >= ref - TWO31 && c <= ref + TWO31 - 1) {
            s = c;
            found++;
        }
    }
    if (found != 1)
        abort();
    return s;
}

/* The RFC 4303 rule for one packet whose number is s (inferred relative
 * to H), literally, one number at a time.  Does not count received. */
static int plain(struct rwref *r, int64_t s)
{
    if (s > r->high) {
        /* Every number n of the old window with n <= s - W leaves it;
         * the unmarked ones are lost. */
        for (int64_t n = window_low(r); n <= r->high && n <= s - (int64_t)r->window; n++) {
            if (!set_contains(r, n))
                lost_one_range(r, n, n);
        }
        /* Numbers above the old H and already below the new window were
         * never received (nothing above H has been) and never will be
         * counted again: all lost. */
        if (s - (int64_t)r->window >= r->high + 1)
            lost_one_range(r, r->high + 1, s - (int64_t)r->window);
        r->high = s;
        set_add(r, s);
        return RWREF_NEXT;
    }
    if (s == r->high) {
        r->duplicate++;
        return RWREF_DUPLICATE;
    }
    if (s < 0 || s < r->base || s < r->high - (int64_t)r->window + 1) {
        r->late++;
        return RWREF_LATE;
    }
    if (set_contains(r, s)) {
        r->duplicate++;
        return RWREF_DUPLICATE;
    }
    set_add(r, s);
    r->reordered++;
    return RWREF_REORDERED;
}

/* Process the held packets in arrival order; the jump is over. */
static void release_held(struct rwref *r)
{
    int n = r->nheld;
    r->nheld = 0;
    for (int i = 0; i < n; i++)
        plain(r, r->held[i]);
}

int rwref_update(struct rwref *r, uint32_t seq32, uint64_t *lost_delta,
                 uint64_t *seq64)
{
    uint64_t lost_before = r->lost;
    const int64_t W = (int64_t)r->window;
    int kind;
    int64_t s;

    r->nruns = 0;
    r->received++;

    if (!r->started) {
        r->started = 1;
        r->base = r->high = s = (int64_t)seq32;
        set_add(r, s);
        kind = RWREF_NEW;
        goto out;
    }

    if (r->nheld > 0) {
        int64_t t = nearest(r->held[0], seq32);
        if (t > r->held[0] - W && t < r->held[0] + W) {
            s = t;
            if (t == r->held[0] || (r->nheld == 2 && t == r->held[1])) {
                r->duplicate++;
                kind = RWREF_DUPLICATE;
            } else if (r->nheld == 1) {
                r->held[r->nheld++] = t;
                kind = RWREF_HELD;
            } else {
                release_held(r);                /* confirmed by the second */
                kind = plain(r, s);
            }
            goto out;
        }
    }

    s = nearest(r->high, seq32);
    if (s > r->high + W) {
        /* a far jump: held (a held one before it is dismissed) */
        r->suspect += (uint64_t)r->nheld;
        r->nheld = 1;
        r->held[0] = s;
        r->held_high = r->high;
        kind = RWREF_HELD;
    } else if (r->nheld > 0 && s <= r->high && r->high == r->held_high) {
        r->late++;                              /* as it would be after the jump */
        kind = RWREF_LATE;
    } else {
        int64_t before = r->high;
        kind = plain(r, s);
        if (r->nheld > 0 && r->high > before) {
            if (r->held[0] - r->high <= W) {
                release_held(r);
            } else if (r->high - r->held_high >= W) {
                r->suspect += (uint64_t)r->nheld;
                r->nheld = 0;
            }
        }
    }
out:
    if (lost_delta)
        *lost_delta = r->lost - lost_before;
    if (seq64)
        *seq64 = s < 0 ? 0 : (uint64_t)s;
    return kind;
}

uint64_t rwref_finish(struct rwref *r)
{
    uint64_t lost_before = r->lost;
    r->nruns = 0;
    if (!r->started)
        return 0;
    r->suspect += (uint64_t)r->nheld;
    r->nheld = 0;
    for (int64_t n = window_low(r); n <= r->high; n++) {
        if (!set_contains(r, n)) {
            lost_one_range(r, n, n);
            set_add(r, n);
        }
    }
    return r->lost - lost_before;
}
