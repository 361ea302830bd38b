/* idle_wheel.h - the active tunnels that may go idle, bucketed by the
 * second at which they might (a timing wheel of IDLE_WHEEL_SLOTS one-second
 * buckets, intrusive doubly linked lists of tunnel slots).  Pure module (no
 * I/O, no clock, no allocation).
 *
 * A tunnel is added with the second its idle timeout would run out if no
 * packet came; a packet does not move it (nothing per packet).  The owner
 * pops the tunnels whose second has come and checks the real deadline:
 * due, the tunnel is idle; not due (packets came since), it is added
 * again at its new deadline.  A deadline beyond the wheel's span is kept
 * at the span's last second and checked (and re-added) then.
 */
#ifndef IDT_IDLE_WHEEL_H
#define IDT_IDLE_WHEEL_H

#include <stdint.h>
#include "tunnel_table.h"

#define IDLE_WHEEL_SLOTS 1024u          /* seconds of span; a power of two */
#define IDLE_WHEEL_NONE  UINT32_MAX

struct idle_wheel {
    uint32_t head[IDLE_WHEEL_SLOTS];    /* slot of the first tunnel, or NONE */
    uint64_t next_s;                    /* the first second not yet drained */
    uint32_t len;                       /* tunnels in the wheel */
};

/* Empty; the first second to drain is now_s. */
void idle_wheel_init(struct idle_wheel *w, uint64_t now_s);

/* Add tu (not in the wheel) to the bucket of due_s, clamped to
 * [next_s, next_s + IDLE_WHEEL_SLOTS - 1].  O(1). */
void idle_wheel_add(struct idle_wheel *w, struct tunnel_table *t, struct tunnel *tu,
                    uint64_t due_s);

/* Take tu out of the wheel if it is in it.  O(1). */
void idle_wheel_del(struct idle_wheel *w, struct tunnel_table *t, struct tunnel *tu);

/* Take out and return a tunnel of the oldest bucket whose second is at
 * most now_s; NULL when there is none (every bucket up to now_s drained).
 * Empty buckets are skipped: a wheel more than its span behind now_s
 * first jumps to now_s - IDLE_WHEEL_SLOTS + 1 (every bucket is still
 * drained once), so the buckets looked at between two NULLs are at most
 * IDLE_WHEEL_SLOTS plus the tunnels returned. */
struct tunnel *idle_wheel_pop(struct idle_wheel *w, struct tunnel_table *t, uint64_t now_s);

#endif
