/* replay_window.c - per-SA RFC 4303 replay-window loss accounting.
 *
 * The bitmap is a ring of R = RW_WORDS(W)*64 bits; sequence number n lives
 * at bit (n mod R).  Invariant: for every n in [H-W+1, H] (n >= 0) the bit
 * of n is set iff n was received (or marked by rw_finish).  Bits of the
 * other R-W ring positions are stale and are always masked out: when H
 * moves forward to s the positions of (H, s] are cleared before use.
 *
 * Every operation touches at most RW_WORDS(W) words (a packet that
 * confirms or releases a tentative jump: three steps of that); a forward
 * jump of any size is counted arithmetically.
 */
#include "replay_window.h"

#include <string.h>

static inline uint32_t clamp_window(uint32_t w)
{
    if (w < RW_MIN_WINDOW)
        return RW_MIN_WINDOW;
    if (w > RW_MAX_WINDOW)
        return RW_MAX_WINDOW;
    return w;
}

static inline uint32_t ring_bits(uint32_t w)
{
    return RW_WORDS(w) * 64u;
}

/* n mod R, cheap when the word count is a power of two (W = 64, 128, ...,
 * 4096 and every W <= 64). */
static inline uint32_t ring_pos(uint32_t w, uint64_t n)
{
    uint32_t words = RW_WORDS(w);
    if ((words & (words - 1u)) == 0)
        return (uint32_t)n & (words * 64u - 1u);
    return (uint32_t)(n % ((uint64_t)words * 64u));
}

/* Maximal-run emitter: collects runs in increasing order and merges
 * adjacent ones before handing them to the callback. */
struct run_emit {
    rw_lost_cb cb;
    void *ctx;
    int pending;
    uint64_t first, last;
};

static inline void emit_run(struct run_emit *em, uint64_t first, uint64_t last)
{
    if (em->pending && first == em->last + 1u) {
        em->last = last;
        return;
    }
    if (em->pending)
        em->cb(em->ctx, em->first, em->last);
    em->pending = 1;
    em->first = first;
    em->last = last;
}

static inline void emit_flush(struct run_emit *em)
{
    if (em->pending)
        em->cb(em->ctx, em->first, em->last);
    em->pending = 0;
}

/* Count the unmarked sequence numbers in [lo, hi] (hi - lo < W).
 * Report them as runs to em (if not NULL); mark them when mark != 0. */
static uint64_t holes(uint32_t w, uint64_t *bits, uint64_t lo, uint64_t hi,
                      struct run_emit *em, int mark)
{
    const uint32_t r = ring_bits(w);
    uint64_t n = hi - lo + 1u;
    uint64_t cur = lo;
    uint32_t pos = ring_pos(w, lo);
    uint64_t count = 0;

    while (n) {
        uint32_t wi = pos >> 6, b = pos & 63u;
        uint32_t take = 64u - b;
        if (take > n)
            take = (uint32_t)n;
        uint64_t m = (take == 64u) ? ~(uint64_t)0 : (((uint64_t)1 << take) - 1u);
        uint64_t h = (~bits[wi] >> b) & m;   /* holes, bit 0 = seq cur */

        if (h) {
            count += (uint64_t)__builtin_popcountll(h);
            if (mark)
                bits[wi] |= h << b;
            if (em) {
                uint64_t off = 0;
                while (h) {
                    unsigned tz = (unsigned)__builtin_ctzll(h);
                    h >>= tz;
                    off += tz;
                    uint64_t inv = ~h;
                    unsigned len = inv ? (unsigned)__builtin_ctzll(inv) : 64u;
                    emit_run(em, cur + off, cur + off + len - 1u);
                    h = (len == 64u) ? 0 : (h >> len);
                    off += len;
                }
            }
        }
        cur += take;
        n -= take;
        pos += take;
        if (pos == r)
            pos = 0;
    }
    return count;
}

/* Clear the ring positions of [lo, lo+n) (n < R). */
static void clear_positions(uint32_t w, uint64_t *bits, uint64_t lo, uint64_t n)
{
    const uint32_t r = ring_bits(w);
    uint32_t pos = ring_pos(w, lo);

    while (n) {
        uint32_t wi = pos >> 6, b = pos & 63u;
        uint32_t take = 64u - b;
        if (take > n)
            take = (uint32_t)n;
        uint64_t m = (take == 64u) ? ~(uint64_t)0 : (((uint64_t)1 << take) - 1u);
        bits[wi] &= ~(m << b);
        n -= take;
        pos += take;
        if (pos == r)
            pos = 0;
    }
}

void rw_init(struct rw_state *st, uint64_t *bits, uint32_t w)
{
    w = clamp_window(w);
    memset(st, 0, sizeof(*st));
    st->window = w;
    memset(bits, 0, RW_WORDS(w) * sizeof(uint64_t));
}

static inline void set_bit(uint64_t *bits, uint32_t pos)
{
    bits[pos >> 6] |= (uint64_t)1 << (pos & 63u);
}

static inline int test_bit(const uint64_t *bits, uint32_t pos)
{
    return (int)((bits[pos >> 6] >> (pos & 63u)) & 1u);
}

/* The RFC 4303 step for one packet against the window (no tentative
 * jumps): infer s from seq32 relative to H, move or mark, count.  Adds
 * the numbers that became lost to *lost (and st->lost), reports them to
 * em (if not NULL).  Does not count received. */
static enum rw_kind step(struct rw_state *st, uint64_t *bits, uint32_t seq32,
                         uint64_t *lost, uint64_t *seq64, struct run_emit *em)
{
    const uint32_t w = st->window;
    const uint64_t hgh = st->high;
    uint64_t nl = 0, s;
    enum rw_kind kind;
    uint32_t d = seq32 - (uint32_t)hgh;

    if (__builtin_expect(d == 1u, 1)) {
        /* In order: one number (s - W) leaves the window. */
        s = hgh + 1u;
        uint32_t ps = ring_pos(w, s);
        if (s >= w && s - w >= st->base) {
            const uint32_t r = ring_bits(w);
            uint32_t pl = ps >= w ? ps - w : ps + r - w;
            if (!test_bit(bits, pl)) {
                nl = 1;
                if (em)
                    emit_run(em, s - w, s - w);
            }
        }
        set_bit(bits, ps);       /* the position of s held a stale bit */
        st->high = s;
        kind = RW_NEXT;
    } else if (d != 0 && d < 0x80000000u) {
        /* Forward by d > 1. */
        const uint32_t r = ring_bits(w);
        s = hgh + d;

        /* Numbers leaving the window: [max(B, H-W+1), min(H, s-W)]. */
        if (s >= w) {
            uint64_t lo = hgh + 1u >= w ? hgh + 1u - w : 0;
            if (lo < st->base)
                lo = st->base;
            uint64_t hi = s - w < hgh ? s - w : hgh;
            if (hi >= lo)
                nl += holes(w, bits, lo, hi, em, 0);
        }
        /* Numbers jumped over entirely: [H+1, s-W]. */
        if (d > w) {
            nl += d - w;
            if (em)
                emit_run(em, hgh + 1u, s - w);
        }

        /* Positions of (H, s] now belong to the new window. */
        if (d >= r)
            memset(bits, 0, (size_t)RW_WORDS(w) * sizeof(uint64_t));
        else
            clear_positions(w, bits, hgh + 1u, d);
        set_bit(bits, ring_pos(w, s));
        st->high = s;
        kind = RW_NEXT;
    } else if (d == 0) {
        s = hgh;
        kind = RW_DUPLICATE;
    } else {
        /* Old packet: 2^31 <= d < 2^32, behind H by 2^32 - d. */
        uint64_t back = (uint64_t)0x100000000ull - d;
        if (back > hgh) {
            s = 0;                      /* below zero: below the baseline */
            kind = RW_LATE;
        } else {
            s = hgh - back;
            if (s < st->base || back >= w) {
                kind = RW_LATE;
            } else {
                uint32_t p = ring_pos(w, s);
                if (test_bit(bits, p)) {
                    kind = RW_DUPLICATE;
                } else {
                    set_bit(bits, p);
                    kind = RW_REORDERED;
                }
            }
        }
    }

    switch (kind) {
    case RW_LATE: st->late++; break;
    case RW_DUPLICATE: st->duplicate++; break;
    case RW_REORDERED: st->reordered++; break;
    default: break;
    }
    st->lost += nl;
    *lost += nl;
    *seq64 = s;
    return kind;
}

/* Hold the far jump to s (W < s - H < 2^31). */
static inline void hold(struct rw_state *st, uint64_t s)
{
    st->held_at = (uint32_t)st->high;
    st->held_d = (uint32_t)(s - st->high);
    st->nheld = 1;
}

/* T, the held packet's 64-bit number (nheld != 0). */
static inline uint64_t held_pos(const struct rw_state *st)
{
    return st->high - ((uint32_t)st->high - st->held_at) + st->held_d;
}

/* Process the held packets (T, then T + held2) as if they arrived now,
 * in arrival order, and end the tentative jump. */
static void unhold(struct rw_state *st, uint64_t *bits, uint64_t *lost,
                   struct run_emit *em)
{
    uint64_t t = held_pos(st), ign;
    uint32_t t2 = (uint32_t)t + st->held2 - st->window;
    int n = st->nheld;
    st->nheld = 0;
    step(st, bits, (uint32_t)t, lost, &ign, em);
    if (n == 2)
        step(st, bits, t2, lost, &ign, em);
}

static inline void dismiss(struct rw_state *st)
{
    st->suspect += st->nheld;
    st->nheld = 0;
}

/* One packet while a far jump is tentative (see replay_window.h). */
static enum rw_kind tentative(struct rw_state *st, uint64_t *bits, uint32_t seq32,
                              uint64_t *lost, uint64_t *seq64, struct run_emit *em)
{
    const uint32_t w = st->window;
    const uint64_t t = held_pos(st);
    int32_t dt = (int32_t)(seq32 - (uint32_t)t);

    if (dt > -(int32_t)w && dt < (int32_t)w) {
        /* In the zone of T (always above H + 1, since T - H > W). */
        uint64_t s = t + (uint64_t)(int64_t)dt;
        *seq64 = s;
        if (dt == 0 || (st->nheld == 2 && dt + (int32_t)w == (int32_t)st->held2)) {
            st->duplicate++;
            return RW_DUPLICATE;
        }
        if (st->nheld == 1) {
            st->held2 = (uint32_t)(dt + (int32_t)w) & 0x1FFFu;    /* 1..2W-1 */
            st->nheld = 2;
            return RW_HELD;
        }
        unhold(st, bits, lost, em);             /* confirmed */
        return step(st, bits, seq32, lost, seq64, em);
    }

    const uint64_t hgh = st->high;
    uint32_t d = seq32 - (uint32_t)hgh;
    if (d > w && d < 0x80000000u) {
        /* Another far jump: it replaces the held one. */
        dismiss(st);
        hold(st, hgh + d);
        *seq64 = hgh + d;
        return RW_HELD;
    }
    if ((d == 0 || d >= 0x80000000u) && (uint32_t)hgh == st->held_at) {
        /* At or behind H, the old stream not advanced since the hold:
         * late, as it would be after the jump. */
        uint64_t back = d ? (uint64_t)0x100000000ull - d : 0;
        *seq64 = back > hgh ? 0 : hgh - back;
        st->late++;
        return RW_LATE;
    }
    enum rw_kind kind = step(st, bits, seq32, lost, seq64, em);
    if (st->high != hgh) {
        if (t - st->high <= w)
            unhold(st, bits, lost, em);         /* the old stream reached T */
        else if ((uint32_t)st->high - st->held_at >= w)
            dismiss(st);                        /* the old stream went on */
    }
    return kind;
}

enum rw_kind rw_update(struct rw_state *st, uint64_t *bits, uint32_t seq32,
                       uint64_t *lost_delta, uint64_t *seq64,
                       rw_lost_cb cb, void *ctx)
{
    uint64_t lost = 0, s;
    enum rw_kind kind;

    st->received++;

    if (__builtin_expect(!st->started, 0)) {
        st->started = 1;
        st->base = st->high = s = seq32;
        set_bit(bits, ring_pos(st->window, s));
        kind = RW_NEW;
    } else {
        struct run_emit em = { cb, ctx, 0, 0, 0 };
        struct run_emit *emp = cb ? &em : NULL;
        if (__builtin_expect(st->nheld == 0, 1)) {
            uint32_t d = seq32 - (uint32_t)st->high;
            if (__builtin_expect(d > st->window && d < 0x80000000u, 0)) {
                s = st->high + d;
                hold(st, s);
                kind = RW_HELD;
            } else {
                kind = step(st, bits, seq32, &lost, &s, emp);
            }
        } else {
            kind = tentative(st, bits, seq32, &lost, &s, emp);
        }
        if (emp)
            emit_flush(emp);
    }
    if (lost_delta)
        *lost_delta = lost;
    if (seq64)
        *seq64 = s;
    return kind;
}

uint64_t rw_finish(struct rw_state *st, uint64_t *bits, rw_lost_cb cb, void *ctx)
{
    if (!st->started)
        return 0;
    dismiss(st);
    const uint32_t w = st->window;
    const uint64_t hgh = st->high;
    uint64_t lo = hgh + 1u >= w ? hgh + 1u - w : 0;
    if (lo < st->base)
        lo = st->base;

    struct run_emit em = { cb, ctx, 0, 0, 0 };
    uint64_t n = holes(w, bits, lo, hgh, cb ? &em : NULL, 1);
    if (cb)
        emit_flush(&em);
    st->lost += n;
    return n;
}
