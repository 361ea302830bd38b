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
 * Tentative far jumps.  A passive observer cannot check the ICV, so one
 * spoofed or corrupted packet far ahead would otherwise move H, count
 * everything it jumped over as lost and the real stream after it as late.
 * So a packet more than W ahead of H (a "far jump", T = its 64-bit
 * number) is HELD instead of accepted:
 *  - it is confirmed when two further distinct packets arrive within the
 *    zone Z = (T-W, T+W) (wire value within W-1 of T's, either side);
 *    then the held packets are processed as if they had been accepted on
 *    arrival, in arrival order, and the confirming packet after them;
 *  - a copy of a held packet counts as a duplicate at once;
 *  - while the jump is tentative the old window goes on counting: a packet
 *    advancing it (up to W ahead of H) is processed normally; a packet at
 *    or behind H counts as late (as it would after the jump) until the old
 *    stream has advanced once since the hold, and normally after that;
 *  - if the old stream itself comes within W of T (T - H <= W), the held
 *    packets are released: processed normally, as if they arrived now;
 *  - the jump is DISMISSED, its held packets (1 or 2) counted as suspect
 *    and never as lost, late or received in sequence, when another far
 *    jump outside Z arrives (which is then held in its place), when the
 *    old stream has advanced W past the H at which the jump was held, or
 *    by rw_finish().
 * At most two packets are held (T and one offset from it); every step is
 * O(W/64).  A genuine jump that the stream continues from (a huge gap, an
 * ESN wrap, reordering right after the jump) is counted exactly as
 * without this rule, provided its two confirming packets come before any
 * packet that advances the old window and before any other far jump, and
 * before the end of the stream.  The price: a far jump followed by fewer
 * than two packets near it (a lone packet between two bursts of loss, or
 * a burst just before the end) is counted suspect instead of the numbers
 * it jumped being counted lost.
 *
 * Counters (exact definitions used by the MIB and the offline report):
 *  received   every packet, duplicates included
 *  lost       sequence numbers in [B, H] never received while inside the
 *             window; counted when they fall off the left edge (or are
 *             jumped over entirely), and by rw_finish() for the holes
 *             still inside the window
 *  late       arrived after falling out of the window, or below B (or at
 *             or behind H during a tentative jump, as above)
 *  duplicate  sequence number already marked in the window, or a copy of
 *             a held packet
 *  reordered  inside the window, below H, not a duplicate
 *  suspect    held packets of a dismissed far jump
 *  high       highest 64-bit sequence accepted (a held packet is not)
 * Invariant after rw_finish(): received - late - duplicate - suspect
 * + lost == high - base + 1 (every number in [B, H] is either received
 * in sequence exactly once or lost).
 */
#ifndef IDT_REPLAY_WINDOW_H
#define IDT_REPLAY_WINDOW_H

#include <stdint.h>
#include <stddef.h>

#define RW_MIN_WINDOW 32u
#define RW_MAX_WINDOW 4096u

/* Number of 64-bit words of bitmap a window of w bits needs. */
#define RW_WORDS(w) (((w) + 63u) / 64u)

/* 72 bytes: it lives in every SA table slot (tests/unit/test_sa_table.c). */
struct rw_state {
    uint64_t high;          /* H */
    uint64_t received, lost, late, duplicate, reordered, suspect;
    uint32_t base;          /* B: the first packet's number (so below 2^32) */
    /* the tentative jump (valid while nheld): H0 = H when it was held
     * (H - H0 < 2W, so its low 32 bits give it back), T = H0 + held_d */
    uint32_t held_at;       /* low 32 bits of H0 */
    uint32_t held_d;        /* T - H0: W < held_d < 2^31 */
    uint32_t window : 13;   /* W, RW_MIN_WINDOW..RW_MAX_WINDOW */
    uint32_t held2 : 13;    /* second held packet = T + held2 - W (nheld == 2) */
    uint32_t nheld : 2;     /* packets held: 0 (no tentative jump), 1 or 2 */
    uint32_t started : 1;   /* 0 until the first packet */
};
/* The bitmap (RW_WORDS(window) uint64_t words) is kept by the caller
 * next to the state, so that an SA table can store both in one slot. */

enum rw_kind {
    RW_NEW = 0,             /* first packet of the SA (sets baseline) */
    RW_NEXT,                /* advanced H (in order or after a gap) */
    RW_REORDERED,
    RW_DUPLICATE,
    RW_LATE,
    RW_HELD,                /* held as (part of) a tentative far jump */
};

/* Called once per contiguous run of newly lost sequence numbers
 * [first, last] (inclusive).  May be NULL. */
typedef void (*rw_lost_cb)(void *ctx, uint64_t first, uint64_t last);

/* Initialise an empty state for a window of w bits and clear the bitmap.
 * (w outside RW_MIN_WINDOW..RW_MAX_WINDOW is clamped into that range.) */
void rw_init(struct rw_state *st, uint64_t *bits, uint32_t w);

/* Account one packet with wire sequence seq32.  Returns what it was (for
 * a packet that confirms a tentative jump: what it was after the held
 * ones were processed; the held ones' own kinds show in the counters
 * only).  *lost_delta (if not NULL) receives how many sequence numbers
 * became lost because of this packet (including through held packets it
 * confirmed or released).  *seq64 (if not NULL) receives the inferred
 * 64-bit sequence (for a packet below the baseline/underflow: the
 * inferred value clamped at 0).  O(W/64) worst case, independent of the
 * size of a forward jump. */
enum rw_kind rw_update(struct rw_state *st, uint64_t *bits, uint32_t seq32,
                       uint64_t *lost_delta, uint64_t *seq64,
                       rw_lost_cb cb, void *ctx);

/* End of stream (offline end of file, or SA expiry): dismiss a tentative
 * jump (its held packets count as suspect), then count the holes still
 * inside the window as lost.  Returns how many were added to lost.  Safe
 * to call more than once (the second call adds 0). */
uint64_t rw_finish(struct rw_state *st, uint64_t *bits, rw_lost_cb cb, void *ctx);

#endif
