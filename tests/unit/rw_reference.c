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

int rwref_update(struct rwref *r, uint32_t seq32, uint64_t *lost_delta,
                 uint64_t *seq64)
{
    uint64_t lost_before = r->lost;
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

    /* s = the unique number congruent to seq32 mod 2^32 in
     * [H - 2^31, H + 2^31 - 1]. */
    s = -1;
    int found = 0;
    for (int64_t k = -1; k <= 1; k++) {
        int64_t c = ((r->high >> 32) + k) * TWO32 + (int64_t)seq32;
        if (c >= r->high - TWO31 && c <= r->high + TWO31 - 1) {
            s = c;
            found++;
        }
    }
    if (found != 1)
        abort();

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
        kind = RWREF_NEXT;
    } else if (s == r->high) {
        r->duplicate++;
        kind = RWREF_DUPLICATE;
    } else if (s < 0 || s < r->base) {
        r->late++;
        kind = RWREF_LATE;
    } else if (s < r->high - (int64_t)r->window + 1) {
        r->late++;
        kind = RWREF_LATE;
    } else if (set_contains(r, s)) {
        r->duplicate++;
        kind = RWREF_DUPLICATE;
    } else {
        set_add(r, s);
        r->reordered++;
        kind = RWREF_REORDERED;
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
    for (int64_t n = window_low(r); n <= r->high; n++) {
        if (!set_contains(r, n)) {
            lost_one_range(r, n, n);
            set_add(r, n);
        }
    }
    return r->lost - lost_before;
}
