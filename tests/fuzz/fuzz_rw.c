/* fuzz_rw.c - libFuzzer target: replay_window.c against the reference
 * model (tests/unit/rw_reference.c).  abort() on any difference.
 *
 * Input: 2 bytes window (32 + v % 4065), then 5-byte records
 * (1 op byte + 4 value bytes, little endian) turned into a 32-bit wire
 * sequence number relative to the previous one, so that the fuzzer
 * reaches in-window reordering and duplicates as easily as jumps:
 *   op % 8 == 0        absolute value
 *   op % 8 == 1,2,3    next = prev + 1 + (v % 64)          (small loss)
 *   op % 8 == 4        prev - (v % 8192)                    (reorder/dup/late)
 *   op % 8 == 5        prev + (v & 0x7FFFFFFF)              (jump)
 *   op % 8 == 6        prev + v                             (any distance)
 *   op % 8 == 7        repeat prev
 * Record bit 0x80 of op: call finish (and compare) before the packet.
 * Besides equality with the reference (kinds, lost deltas, runs, every
 * counter incl. suspect and the number of held packets), an invariant
 * after every finish: received - late - duplicate - suspect + lost ==
 * H - B + 1 (every number in [B, H] accepted once or lost).
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Itests/unit \
 *          src/replay_window.c tests/unit/rw_reference.c tests/fuzz/fuzz_rw.c
 */
#include "replay_window.h"
#include "rw_reference.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct runs {
    struct rwref_run r[RW_MAX_WINDOW + 2];
    size_t n;
};

static void collect(void *ctx, uint64_t first, uint64_t last)
{
    struct runs *b = ctx;
    if (b->n >= sizeof(b->r) / sizeof(b->r[0]))
        abort();                /* more runs than a window can hold */
    b->r[b->n].first = first;
    b->r[b->n].last = last;
    b->n++;
}

static void same_runs(const struct runs *b, const struct rwref *ref)
{
    if (b->n != ref->nruns)
        abort();
    for (size_t i = 0; i < b->n; i++)
        if (b->r[i].first != ref->runs[i].first || b->r[i].last != ref->runs[i].last)
            abort();
}

static void same_state(const struct rw_state *st, const struct rwref *ref)
{
    if (st->received != ref->received || st->lost != ref->lost ||
        st->late != ref->late || st->duplicate != ref->duplicate ||
        st->reordered != ref->reordered || st->suspect != ref->suspect ||
        (int)st->nheld != ref->nheld)
        abort();
    if (ref->started && (st->high != (uint64_t)ref->high || st->base != (uint64_t)ref->base))
        abort();
}

/* After rw_finish(): every number in [B, H] accepted once or lost. */
static void finished_invariant(const struct rw_state *st)
{
    if (st->started && st->received - st->late - st->duplicate - st->suspect + st->lost !=
        st->high - st->base + 1u)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t bits[RW_WORDS(RW_MAX_WINDOW)];
    static struct runs rb;
    struct rw_state st;
    struct rwref ref;

    if (size < 2)
        return 0;
    uint32_t w = RW_MIN_WINDOW + (uint32_t)(data[0] | (data[1] << 8)) %
                 (RW_MAX_WINDOW - RW_MIN_WINDOW + 1u);
    data += 2;
    size -= 2;

    memset(bits, 0xFF, sizeof(bits));
    rw_init(&st, bits, w);
    if (rwref_init(&ref, w) != 0)
        return 0;

    uint32_t prev = 0;
    for (; size >= 5; data += 5, size -= 5) {
        uint8_t op = data[0];
        uint32_t v = (uint32_t)data[1] | (uint32_t)data[2] << 8 |
                     (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
        uint32_t x;
        switch (op & 7u) {
        case 0: x = v; break;
        case 1: case 2: case 3: x = prev + 1u + (v % 64u); break;
        case 4: x = prev - (v % 8192u); break;
        case 5: x = prev + (v & 0x7FFFFFFFu); break;
        case 6: x = prev + v; break;
        default: x = prev; break;
        }
        if (op & 0x80u) {
            rb.n = 0;
            uint64_t f = rw_finish(&st, bits, collect, &rb);
            if (f != rwref_finish(&ref))
                abort();
            same_runs(&rb, &ref);
            same_state(&st, &ref);
            finished_invariant(&st);
        }
        uint64_t ld, s64, rld, rs64;
        rb.n = 0;
        int k = (int)rw_update(&st, bits, x, &ld, &s64, collect, &rb);
        int rk = rwref_update(&ref, x, &rld, &rs64);
        if (k != rk || ld != rld || s64 != rs64)
            abort();
        same_runs(&rb, &ref);
        same_state(&st, &ref);
        prev = x;
    }
    rb.n = 0;
    uint64_t f = rw_finish(&st, bits, collect, &rb);
    if (f != rwref_finish(&ref))
        abort();
    same_runs(&rb, &ref);
    same_state(&st, &ref);
    finished_invariant(&st);
    if (rw_finish(&st, bits, NULL, NULL) != 0)
        abort();
    rwref_free(&ref);
    return 0;
}
