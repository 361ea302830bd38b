/* replay_window.h - per-SA RFC 4303 replay-window loss accounting.
 * Pure module: no I/O, no allocation.
 *
 * The window covers [H-W+1, H] where H is the highest 64-bit sequence
 * number seen.  The first packet sets the baseline B; nothing below B is
 * ever counted lost.  The 64-bit sequence is inferred from the 32 bits on
 * the wire with serial-number arithmetic: a forward distance d with
 * 0 < d < 2^31 moves forward (also across 2^32); anything else is an old
 * packet (behind H).
 *
 * Counters (exact definitions used by the MIB and the offline report):
 *  received   every packet, duplicates included
 *  lost       sequence numbers in [B, H] never received while inside the
 *             window; counted when they fall off the left edge (or are
 *             jumped over entirely), and by rw_finish() for the holes
 *             still inside the window
 *  late       arrived after falling out of the window, or below B
 *  duplicate  sequence number already marked in the window
 *  reordered  inside the window, below H, not a duplicate
 *  high       highest 64-bit sequence seen
 */
#ifndef IDT_REPLAY_WINDOW_H
#define IDT_REPLAY_WINDOW_H

#include <stdint.h>
#include <stddef.h>

#define RW_MIN_WINDOW 32u
#define RW_MAX_WINDOW 4096u

/* Number of 64-bit words of bitmap a window of w bits needs. */
#define RW_WORDS(w) (((w) + 63u) / 64u)

struct rw_state {
    uint64_t base;          /* baseline: first sequence seen (64-bit) */
    uint64_t high;          /* H */
    uint64_t received, lost, late, duplicate, reordered;
    uint32_t window;        /* W, RW_MIN_WINDOW..RW_MAX_WINDOW */
    uint32_t started;       /* 0 until the first packet */
};
/* The bitmap (RW_WORDS(window) uint64_t words) is kept by the caller
 * next to the state, so that an SA table can store both in one slot. */

enum rw_kind {
    RW_NEW = 0,             /* first packet of the SA (sets baseline) */
    RW_NEXT,                /* advanced H (in order or after a gap) */
    RW_REORDERED,
    RW_DUPLICATE,
    RW_LATE,
};

/* Called once per contiguous run of newly lost sequence numbers
 * [first, last] (inclusive).  May be NULL. */
typedef void (*rw_lost_cb)(void *ctx, uint64_t first, uint64_t last);

/* Initialise an empty state for a window of w bits and clear the bitmap.
 * (w outside RW_MIN_WINDOW..RW_MAX_WINDOW is clamped into that range.) */
void rw_init(struct rw_state *st, uint64_t *bits, uint32_t w);

/* Account one packet with wire sequence seq32.  Returns what it was.
 * *lost_delta (if not NULL) receives how many sequence numbers became
 * lost because of this packet.  *seq64 (if not NULL) receives the inferred
 * 64-bit sequence (for a packet below the baseline/underflow: the
 * inferred value clamped at 0).  O(W/64) worst case, independent of the
 * size of a forward jump. */
enum rw_kind rw_update(struct rw_state *st, uint64_t *bits, uint32_t seq32,
                       uint64_t *lost_delta, uint64_t *seq64,
                       rw_lost_cb cb, void *ctx);

/* End of stream (offline end of file, or SA expiry): count the holes
 * still inside the window as lost.  Returns how many were added.  Safe
 * to call more than once (the second call adds 0). */
uint64_t rw_finish(struct rw_state *st, uint64_t *bits, rw_lost_cb cb, void *ctx);

#endif
