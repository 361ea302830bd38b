/* rw_reference.h - slow, obviously-correct reference model of the
 * replay-window loss accounting, for differential tests and fuzzing.
 *
 * It shares no code with src/replay_window.c: it keeps the set of every
 * 64-bit sequence number marked so far (received while inside the window,
 * or marked by finish) in a plain hash set and applies the counter
 * definitions of replay_window.h literally, one sequence number at a time.
 * The only arithmetic shortcut: numbers jumped over entirely by a forward
 * move (above the old H and already below the new window) are counted as
 * one range, since they are above every number ever received and so
 * cannot be in the set.
 *
 * Tentative far jumps follow the rule stated in replay_window.h, written
 * from the rule's text: the held packets are kept as a list of 64-bit
 * numbers and, once confirmed or released, fed through the plain rule.
 */
#ifndef IDT_RW_REFERENCE_H
#define IDT_RW_REFERENCE_H

#include <stdint.h>
#include <stddef.h>

/* Same numeric values as enum rw_kind (checked by the tests). */
enum rwref_kind {
    RWREF_NEW = 0,
    RWREF_NEXT,
    RWREF_REORDERED,
    RWREF_DUPLICATE,
    RWREF_LATE,
    RWREF_HELD,
};

struct rwref_run {
    uint64_t first, last;
};

struct rwref {
    uint32_t window;
    int started;
    int64_t base, high;
    uint64_t received, lost, late, duplicate, reordered, suspect;

    /* tentative far jump: the held packets' numbers in arrival order
     * (held[0] is the jump) and H when it was held */
    int nheld;
    int64_t held[2];
    int64_t held_high;

    /* hash set of marked sequence numbers (stored as value + 1; 0 = empty) */
    uint64_t *set;
    size_t set_cap, set_n;

    /* maximal runs of numbers that became lost in the last update/finish */
    struct rwref_run *runs;
    size_t nruns, runs_cap;
};

/* w must be in 32..4096.  Returns 0, or -1 on allocation failure. */
int rwref_init(struct rwref *r, uint32_t w);
void rwref_free(struct rwref *r);

/* Returns an enum rwref_kind. */
int rwref_update(struct rwref *r, uint32_t seq32, uint64_t *lost_delta,
                 uint64_t *seq64);
uint64_t rwref_finish(struct rwref *r);

#endif
