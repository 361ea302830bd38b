/* mtu_search.c - exact tunnel MTU search (see mtu_search.h). */
#include "mtu_search.h"

#include <string.h>

#define CAP_SAT (1 << 20)       /* capacities saturate here (> any range) */

/* Common plateaus, in the order they are taken when round 1 has fewer
 * slots than plateaus. */
static const uint32_t plateaus[] = {
    1500, 1492, 1280, 1400, 1472, 1440, 1460, 1480, 1420, 1380, 1360,
};
#define NPLATEAUS (sizeof plateaus / sizeof plateaus[0])

/* ------------------------------------------------------------ helpers */

static int is_plateau(uint32_t x)
{
    for (unsigned i = 0; i < NPLATEAUS; i++)
        if (plateaus[i] == x)
            return 1;
    return 0;
}

static unsigned fails_at(const struct mtu_search *s, uint32_t x)
{
    if (x < MTU_SEARCH_MIN_SIZE || x > MTU_SEARCH_MAX_SIZE)
        return 0;
    return s->fails[x - MTU_SEARCH_MIN_SIZE];
}

static unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }

/* Capacity of one round with `slots` slots now (and P slots in every
 * later round) when k rounds remain and hi has f unanswered probes:
 * the largest number of unknown sizes in (lo, hi) that can be resolved
 * and confirmed within the k rounds at 0% loss; -1 if even an empty
 * gap cannot be finished.
 *   k = 1: every unknown must go N times (any of them may turn out to
 *          be S+1) and hi N-f times.
 *   k > 1: e extra probes of hi, the other slots single probes, each
 *          bounding a sub-gap that is a (k-1)-round problem with f = 1
 *          (the top sub-gap has hi with f+e). */
static int32_t capr(const struct mtu_search *s, unsigned k, unsigned f,
                    unsigned slots)
{
    unsigned n = s->n;
    unsigned need = f >= n ? 0 : n - f;

    if (k <= 1)
        return slots >= need ? (int32_t)((slots - need) / n) : -1;

    int64_t best = -1;
    int32_t c1 = s->cap[k - 1][1];
    for (unsigned e = 0; e <= need && e <= slots; e++) {
        int32_t top = s->cap[k - 1][umin(n, f + e)];
        if (top < 0)
            continue;
        int64_t v = top;
        if (c1 >= 0)
            v += (int64_t)(slots - e) * (1 + (int64_t)c1);
        if (v > CAP_SAT)
            v = CAP_SAT;
        if (v > best)
            best = v;
    }
    return (int32_t)best;
}

/* Smallest k with capacity >= g; MTU_SEARCH_PLAN_ROUNDS + 1 if none. */
static unsigned rounds_needed(const struct mtu_search *s, uint32_t g,
                              unsigned f, unsigned slots)
{
    f = umin(f, s->n);
    for (unsigned k = 1; k <= MTU_SEARCH_PLAN_ROUNDS; k++) {
        int32_t c = slots == s->p.probes ? s->cap[k][f] : capr(s, k, f, slots);
        if (c >= 0 && (uint32_t)c >= g)
            return k;
    }
    return MTU_SEARCH_PLAN_ROUNDS + 1;
}

/* Output buffer of one round. */
struct out {
    uint32_t *v;
    unsigned n, cap;
};

static void push(struct out *o, uint32_t size, unsigned count)
{
    while (count-- > 0 && o->n < o->cap)
        o->v[o->n++] = size;
}

static unsigned count_of(const struct out *o, uint32_t size)
{
    unsigned c = 0;
    for (unsigned i = 0; i < o->n; i++)
        c += o->v[i] == size;
    return c;
}

/* Spare slots: extra copies of the candidate boundary sizes lo+1..top,
 * round robin, first bringing each candidate up to `upto` copies in this
 * round (upto = 0: no target, just spread). */
static void spread_extra(struct out *o, uint32_t first, uint32_t last,
                         unsigned upto)
{
    if (first > last)
        return;
    if (upto > 0) {
        for (unsigned lvl = 1; lvl <= upto && o->n < o->cap; lvl++)
            for (uint32_t x = first; x <= last && o->n < o->cap; x++)
                if (count_of(o, x) < lvl)
                    push(o, x, 1);
        return;
    }
    for (;;) {
        unsigned before = o->n;
        for (uint32_t x = first; x <= last && o->n < o->cap; x++)
            push(o, x, 1);
        if (o->n == before || o->n >= o->cap)
            return;
    }
}

/* Extra copies of hi (beyond the 1+R needed) sent while they do not
 * cost a round: hi is the likeliest false boundary (its first failure
 * may have been a loss), so it gets the spare slots first. */
#ifndef MTU_SEARCH_HI_EXTRA
#define MTU_SEARCH_HI_EXTRA 1u
#endif

static int32_t capv(const struct mtu_search *s, unsigned k, unsigned f)
{
    if (k == 0 || k > MTU_SEARCH_PLAN_ROUNDS)
        return k == 0 ? 0 : CAP_SAT;
    int32_t c = s->cap[k][umin(f, s->n)];
    return c < 0 ? 0 : c;
}

/* Raise size[] evenly towards lim[] with rem more units; units that do
 * not fit are spread ignoring the limits (best effort). */
static void water_fill(uint32_t *size, const uint32_t *lim, unsigned cnt,
                       uint32_t rem)
{
    while (rem > 0) {
        unsigned open = 0;
        for (unsigned i = 0; i < cnt; i++)
            open += size[i] < lim[i];
        if (open == 0) {
            for (unsigned i = 0; rem > 0; i = (i + 1) % cnt) {
                size[i]++;
                rem--;
            }
            return;
        }
        uint32_t share = rem / open;
        if (share == 0) {
            for (unsigned i = cnt; i-- > 0 && rem > 0;)
                if (size[i] < lim[i]) {
                    size[i]++;
                    rem--;
                }
            return;
        }
        for (unsigned i = 0; i < cnt; i++) {
            uint32_t add = lim[i] > size[i] ? lim[i] - size[i] : 0;
            if (add > share)
                add = share;
            size[i] += add;
            rem -= add;
        }
    }
}

/* Place j single probes above lo so that the j+1 sub-gaps (rem unknowns
 * in all) are each solvable in `after` more rounds: the lower j have an
 * upper bound with 1 failure, the top one ftop failures.  even = 0: as
 * many sub-gaps as possible are kept small enough to finish a round
 * earlier (the big ones at the bottom); even = 1, and always in the
 * last-but-one round: even fill, which leaves the most spare slots for
 * confirmations in the last round.  (Round 1 uses even: measured, the
 * uneven first round saves ~0.07 rounds at 0% loss but leaves tight
 * last rounds -- exactly 1+R copies per candidate -- and loses
 * robustness, e.g. P=32 at 10%+10% loss 98.8% exact vs 99.9%.) */
static void place_singles(const struct mtu_search *s, uint32_t lo, unsigned j,
                          unsigned ftop, unsigned after, uint32_t rem,
                          struct out *o, int even)
{
    uint32_t size[MTU_SEARCH_MAX_PROBES + 1];
    uint32_t lim[MTU_SEARCH_MAX_PROBES + 1];
    uint32_t small[MTU_SEARCH_MAX_PROBES + 1];
    uint64_t slim = 0, ssmall = 0;

    for (unsigned i = 0; i <= j; i++) {
        unsigned f = i < j ? 1 : ftop;
        size[i] = 0;
        lim[i] = (uint32_t)capv(s, after, f);
        small[i] = after >= 2 ? (uint32_t)capv(s, after - 1, f) : 0;
        slim += lim[i];
        ssmall += small[i];
    }
    if (even || after <= 1 || slim < rem) {
        water_fill(size, lim, j + 1, rem);
    } else if (rem <= ssmall) {
        water_fill(size, small, j + 1, rem);
    } else {
        for (unsigned i = 0; i <= j; i++) {
            size[i] = small[i];
            rem -= small[i];
        }
        for (unsigned i = 0; i <= j && rem > 0; i++) {
            uint32_t add = lim[i] - size[i];
            if (add > rem)
                add = rem;
            size[i] += add;
            rem -= add;
        }
    }
    uint32_t x = lo;
    for (unsigned i = 0; i < j; i++) {
        x += size[i] + 1;
        push(o, x, 1);
    }
}

/* Plan the gap (lo, hi) with `slots` slots; hi has f unanswered probes
 * (f = N if hi is the hard limit, which is never sent). */
static void plan_gap(const struct mtu_search *s, uint32_t lo, uint32_t hi,
                     unsigned f, unsigned slots, struct out *o)
{
    unsigned n = s->n;
    int sendable = hi < s->hard_hi;
    if (!sendable)
        f = n;
    f = umin(f, n);
    unsigned need = n - f;
    uint32_t g = hi - lo - 1;
    unsigned start = o->n;
    struct out sub = { o->v + o->n, 0, umin(slots, o->cap - o->n) };
    slots = sub.cap;
    if (slots == 0)
        return;

    unsigned k = rounds_needed(s, g, f, slots);
    if (k == 1) {
        /* Last round: every candidate for S+1 to full confirmation. */
        for (uint32_t x = lo + 1; x < hi; x++)
            push(&sub, x, n);
        if (sendable)
            push(&sub, hi, need + MTU_SEARCH_HI_EXTRA);
        spread_extra(&sub, lo + 1, sendable ? hi : hi - 1, 0);
        o->n = start + sub.n;
        return;
    }
    if (k > MTU_SEARCH_PLAN_ROUNDS)
        k = MTU_SEARCH_PLAN_ROUNDS;

    /* e probes of hi: as many as possible (up to the confirmation plus
     * the extra) without costing a round. */
    int32_t c1 = s->cap[k - 1][1];
    unsigned emax = sendable ? umin(slots, need + MTU_SEARCH_HI_EXTRA) : 0;
    unsigned e = 0, ftop;
    int found = 0;
    int64_t bestv = -1;
    unsigned beste = 0;
    for (unsigned ee = emax + 1; ee-- > 0;) {
        int32_t t = s->cap[k - 1][umin(n, f + ee)];
        if (t < 0)
            continue;
        int64_t v = t + (c1 >= 0 ? (int64_t)(slots - ee) * (1 + (int64_t)c1) : 0);
        if (v >= (int64_t)g) {
            e = ee;
            found = 1;
            break;
        }
        if (v > bestv) {
            bestv = v;
            beste = ee;
        }
    }
    if (!found)             /* cannot happen with a valid k; best effort */
        e = beste;
    ftop = umin(n, f + e);
    push(&sub, hi, e);
    unsigned j = c1 >= 0 || !found ? slots - e : 0;

    if (j >= g) {
        /* Every unknown gets probed; spare slots raise their copies
         * towards N (fewer confirmations left for later), then spread. */
        spread_extra(&sub, lo + 1, hi - 1, n);
        spread_extra(&sub, lo + 1, sendable ? hi : hi - 1, 0);
        o->n = start + sub.n;
        return;
    }
    place_singles(s, lo, j, ftop, found ? k - 1 : MTU_SEARCH_PLAN_ROUNDS + 1,
                  g - j, &sub, 0);
    o->n = start + sub.n;
}

/* Worst-case rounds after round 1 for a gap of g unknowns split by j
 * evenly spaced single probes, the gap's upper bound having f fails. */
static unsigned gap_worst(const struct mtu_search *s, uint32_t g, unsigned j,
                          unsigned f)
{
    unsigned p = s->p.probes;
    if (j == 0)
        return rounds_needed(s, g, f, p);
    uint32_t fr = g - j, q = fr / (j + 1), r = fr % (j + 1);
    unsigned a = rounds_needed(s, q, f, p);
    unsigned b = rounds_needed(s, q + (r > 0), 1, p);
    return a > b ? a : b;
}

/* Greedily give `free` single probes to the gaps between the sorted
 * seeds (bounded by lo and hi); fills j[] and returns the worst-case
 * rounds after this one. */
static unsigned distribute(const struct mtu_search *s, uint32_t lo,
                           uint32_t hi, unsigned fhi, const uint32_t *seed,
                           unsigned ns, unsigned free, unsigned *j)
{
    for (unsigned i = 0; i <= ns; i++)
        j[i] = 0;
    for (unsigned t = 0; t < free; t++) {
        int best = -1;
        unsigned bw = 0;
        uint32_t bsub = 0;
        for (unsigned i = 0; i <= ns; i++) {
            uint32_t a = i == 0 ? lo : seed[i - 1];
            uint32_t b = i == ns ? hi : seed[i];
            uint32_t g = b - a - 1;
            if (j[i] >= g)
                continue;
            unsigned w = gap_worst(s, g, j[i], i == ns ? fhi : 1);
            uint32_t sub = (g - j[i]) / (j[i] + 1);
            if (best < 0 || w > bw || (w == bw && sub > bsub)) {
                best = (int)i;
                bw = w;
                bsub = sub;
            }
        }
        if (best < 0)
            break;
        j[best]++;
    }
    unsigned worst = 0;
    for (unsigned i = 0; i <= ns; i++) {
        uint32_t a = i == 0 ? lo : seed[i - 1];
        uint32_t b = i == ns ? hi : seed[i];
        unsigned w = gap_worst(s, b - a - 1, j[i], i == ns ? fhi : 1);
        if (w > worst)
            worst = w;
    }
    return worst;
}

static void sort_u32(uint32_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        uint32_t x = v[i];
        unsigned k = i;
        while (k > 0 && v[k - 1] > x) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = x;
    }
}

static int has(const uint32_t *v, unsigned n, uint32_t x)
{
    for (unsigned i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* Round 1: top size, plateaus, maybe min, then gap splitting. */
static void seed_round(const struct mtu_search *s, uint32_t lo, uint32_t hi,
                       unsigned fhi, unsigned slots, struct out *o)
{
    uint32_t seed[MTU_SEARCH_MAX_PROBES + 1];
    unsigned ns = 0;
    unsigned seedcap = slots - slots / 4;
    if (seedcap == 0)
        seedcap = 1;

    if (hi == s->hard_hi && hi - 1 > lo)
        seed[ns++] = hi - 1;                /* max (or local limit) */
    for (unsigned i = 0; i < NPLATEAUS && ns < seedcap; i++)
        if (plateaus[i] > lo && plateaus[i] < hi && !has(seed, ns, plateaus[i]))
            seed[ns++] = plateaus[i];
    sort_u32(seed, ns);

    unsigned ja[MTU_SEARCH_MAX_PROBES + 2], jb[MTU_SEARCH_MAX_PROBES + 2];
    unsigned free = slots - ns;
    unsigned wa = distribute(s, lo, hi, fhi, seed, ns, free, ja);
    uint32_t mn = s->p.min;
    if (free > 0 && mn > lo && mn < hi && !has(seed, ns, mn)) {
        uint32_t seedb[MTU_SEARCH_MAX_PROBES + 1];
        seedb[0] = mn;
        memcpy(seedb + 1, seed, ns * sizeof seed[0]);
        sort_u32(seedb, ns + 1);
        unsigned wb = distribute(s, lo, hi, fhi, seedb, ns + 1, free - 1, jb);
        if (wb <= wa) {
            memcpy(seed, seedb, (ns + 1) * sizeof seed[0]);
            ns++;
            memcpy(ja, jb, (ns + 1) * sizeof ja[0]);
        }
    }

    for (unsigned i = 0; i < ns; i++)
        push(o, seed[i], 1);
    for (unsigned i = 0; i <= ns; i++) {
        uint32_t a = i == 0 ? lo : seed[i - 1];
        uint32_t b = i == ns ? hi : seed[i];
        uint32_t g = b - a - 1;
        unsigned fu = i == ns ? fhi : 1;
        if (ja[i] == 0)
            continue;
        place_singles(s, a, ja[i], fu, gap_worst(s, g, ja[i], fu), g - ja[i], o, 1);
    }
}

/* Working bounds: hs = smallest suspected failure above lo (or the hard
 * limit), hiw = hs narrowed by a pending hint, f = fails at hiw. */
static void bounds(const struct mtu_search *s, uint32_t *hs, uint32_t *hiw,
                   unsigned *f)
{
    uint32_t h = s->hard_hi;
    for (uint32_t x = s->lo + 1; x < s->hard_hi; x++)
        if (fails_at(s, x)) {
            h = x;
            break;
        }
    *hs = h;
    *hiw = h;
    if (s->hint && s->hint >= s->lo && s->hint + 1 < h)
        *hiw = s->hint + 1;
    *f = *hiw >= s->hard_hi ? s->n : umin(s->n, fails_at(s, *hiw));
}

/* Update the state; `final` at the end of a round (the round cap only
 * applies then). */
static void evaluate(struct mtu_search *s, int final)
{
    if (s->state != MTU_SEARCH_RUNNING)
        return;
    if (s->hint && s->hint < s->lo)
        s->hint = 0;                        /* contradicted by a reply */
    int found = 0;
    if (s->hard_hi <= s->p.min) {
        s->state = MTU_SEARCH_FAILED;       /* cannot even send min */
        return;
    }
    if (s->lo + 1 >= s->hard_hi || fails_at(s, s->lo + 1) >= s->n)
        found = 1;
    if (found) {
        if (s->lo >= s->p.min) {
            s->state = MTU_SEARCH_DONE;
            s->answer = s->lo;
        } else {
            s->state = MTU_SEARCH_FAILED;
        }
        return;
    }
    if (final && s->rounds >= s->max_rounds)
        s->state = s->lo >= s->p.min ? MTU_SEARCH_INCOMPLETE : MTU_SEARCH_FAILED;
}

static void apply(struct mtu_search *s, uint32_t size, int answered)
{
    if (size <= s->lo || size >= s->hard_hi)
        return;                 /* already proven / hard-failed */
    if (answered) {
        for (uint32_t x = s->lo + 1; x <= size; x++)
            if (x >= MTU_SEARCH_MIN_SIZE)
                s->fails[x - MTU_SEARCH_MIN_SIZE] = 0;  /* contradicted */
        s->lo = size;
    } else {
        uint8_t *c = &s->fails[size - MTU_SEARCH_MIN_SIZE];
        if (*c < 255)
            (*c)++;
    }
}

/* ------------------------------------------------------------ API */

int mtu_search_init(struct mtu_search *s, const struct mtu_search_params *p)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    if (p->min < MTU_SEARCH_MIN_SIZE || p->max > MTU_SEARCH_MAX_SIZE ||
        p->min > p->max || p->probes < 1 || p->probes > MTU_SEARCH_MAX_PROBES ||
        p->retries > MTU_SEARCH_MAX_RETRIES) {
        s->p.min = MTU_SEARCH_MIN_SIZE;
        s->p.max = MTU_SEARCH_MIN_SIZE;
        s->p.probes = 1;
        s->p.retries = 0;
        s->n = 1;
        s->lo = s->p.min - 1;
        s->hard_hi = s->p.max + 1;
        s->state = MTU_SEARCH_FAILED;
        return -1;
    }
    s->n = p->retries + 1;
    s->lo = p->min - 1;
    s->hard_hi = p->max + 1;
    s->state = MTU_SEARCH_RUNNING;

    for (unsigned f = 0; f <= s->n; f++)
        s->cap[1][f] = capr(s, 1, f, p->probes);
    for (unsigned k = 2; k <= MTU_SEARCH_PLAN_ROUNDS; k++)
        for (unsigned f = 0; f <= s->n; f++)
            s->cap[k][f] = capr(s, k, f, p->probes);

    /* Automatic cap: the 0%-loss plan (+1 for the seeded first round),
     * doubled for loss, at least the default. */
    unsigned plan = rounds_needed(s, p->max - p->min + 1, s->n, p->probes) + 1;
    s->max_rounds = p->max_rounds ? p->max_rounds : 2 * plan + 2;
    if (!p->max_rounds && s->max_rounds < MTU_SEARCH_DEFAULT_MAX_ROUNDS)
        s->max_rounds = MTU_SEARCH_DEFAULT_MAX_ROUNDS;
    return 0;
}

unsigned mtu_search_next_round(struct mtu_search *s, uint32_t *sizes,
                               unsigned cap)
{
    if (s->in_round)
        mtu_search_end_round(s);
    if (s->state != MTU_SEARCH_RUNNING)
        return 0;
    unsigned slots = umin(umin(s->p.probes, cap), MTU_SEARCH_MAX_PROBES);
    if (slots == 0 || sizes == NULL)
        return 0;

    uint32_t hs, hiw;
    unsigned f;
    bounds(s, &hs, &hiw, &f);
    struct out o = { sizes, 0, slots };
    uint32_t lo = s->lo;
    uint32_t g = hiw - lo - 1;
    unsigned k0 = rounds_needed(s, g, f, slots);

    if (s->rounds == 0 && hiw == hs && k0 > 1) {
        seed_round(s, lo, hiw, f, slots, &o);
    } else {
        uint32_t glo = lo, ghi = hiw;
        unsigned gf = f;
        unsigned need = f >= s->n ? 0 : s->n - f;
        if (k0 > 1 && k0 <= MTU_SEARCH_PLAN_ROUNDS) {
            /* Bet on the hint: hint once, hint+1 to full confirmation. */
            if (hiw != hs && hiw - 1 > lo && o.cap - o.n >= 1 + need) {
                unsigned left = o.cap - o.n - 1 - need;
                int32_t c = capr(s, k0, 1, left);
                if (c >= 0 && (uint32_t)c >= g - 1) {
                    push(&o, hiw - 1, 1);
                    push(&o, hiw, need);
                    ghi = hiw - 1;
                    gf = 1;
                }
            }
            /* Bet on lo being a plateau: lo+1 to full confirmation. */
            if (lo >= s->p.min && is_plateau(lo) && glo + 1 < ghi &&
                o.cap - o.n >= s->n) {
                unsigned left = o.cap - o.n - s->n;
                int32_t c = capr(s, k0, gf, left);
                if (c >= 0 && (uint32_t)c >= ghi - glo - 2) {
                    push(&o, glo + 1, s->n);
                    glo++;
                }
            }
        }
        plan_gap(s, glo, ghi, gf, o.cap - o.n, &o);
    }
    if (o.n == 0)       /* only possible with a tiny caller cap */
        push(&o, hiw - 1 > lo ? lo + 1 : hiw, 1);

    sort_u32(sizes, o.n);
    s->rounds++;
    s->probes += o.n;
    s->in_round = 1;
    memset(&s->cur, 0, sizeof s->cur);
    s->cur.number = s->rounds;
    s->cur.count = o.n;
    memcpy(s->cur.size, sizes, o.n * sizeof sizes[0]);
    s->cur.lo = s->lo;
    s->cur.hi = hs;
    return o.n;
}

int mtu_search_result(struct mtu_search *s, uint32_t size, int answered)
{
    if (!s->in_round)
        return -1;
    for (unsigned i = 0; i < s->cur.count; i++) {
        if (s->cur.size[i] == size && !s->cur.reported[i]) {
            s->cur.reported[i] = 1;
            s->cur.answered[i] = answered ? 1 : 0;
            apply(s, size, answered);
            return 0;
        }
    }
    return -1;
}

void mtu_search_end_round(struct mtu_search *s)
{
    if (!s->in_round)
        return;
    for (unsigned i = 0; i < s->cur.count; i++)
        if (!s->cur.reported[i]) {
            s->cur.reported[i] = 1;
            apply(s, s->cur.size[i], 0);
        }
    s->in_round = 0;
    evaluate(s, 1);
    mtu_search_range(s, &s->cur.lo, &s->cur.hi);
}

void mtu_search_hint(struct mtu_search *s, uint32_t limit)
{
    if (s->state != MTU_SEARCH_RUNNING)
        return;
    if (limit < s->p.min - 1)
        limit = s->p.min - 1;
    if (limit < s->lo || limit >= s->p.max)
        return;                 /* contradicted, or does not narrow */
    s->hint = limit;
}

void mtu_search_local_limit(struct mtu_search *s, uint32_t limit)
{
    if (s->state != MTU_SEARCH_RUNNING)
        return;
    if (limit >= s->hard_hi)
        return;
    s->hard_hi = limit + 1;
    if (s->lo >= s->hard_hi)
        s->lo = limit;          /* proven by the earlier, larger reply */
    if (s->hint && s->hint >= limit)
        s->hint = 0;
    evaluate(s, 0);             /* local facts may end the search now */
    if (s->state != MTU_SEARCH_RUNNING)
        s->in_round = 0;
}

enum mtu_search_state mtu_search_state(const struct mtu_search *s)
{
    return s->state;
}

uint32_t mtu_search_answer(const struct mtu_search *s)
{
    return s->state == MTU_SEARCH_DONE ? s->answer : 0;
}

void mtu_search_range(const struct mtu_search *s, uint32_t *lo, uint32_t *hi)
{
    uint32_t hs = s->hard_hi;
    for (uint32_t x = s->lo + 1; x < s->hard_hi; x++)
        if (fails_at(s, x)) {
            hs = x;
            break;
        }
    if (lo)
        *lo = s->lo;
    if (hi)
        *hi = hs;
}

unsigned mtu_search_rounds(const struct mtu_search *s) { return s->rounds; }
unsigned mtu_search_probes_sent(const struct mtu_search *s) { return s->probes; }

const struct mtu_search_round *mtu_search_last_round(const struct mtu_search *s)
{
    return s->rounds ? &s->cur : NULL;
}

const char *mtu_search_state_name(enum mtu_search_state st)
{
    switch (st) {
    case MTU_SEARCH_RUNNING: return "running";
    case MTU_SEARCH_DONE: return "done";
    case MTU_SEARCH_FAILED: return "failed";
    case MTU_SEARCH_INCOMPLETE: return "incomplete";
    }
    return "?";
}
