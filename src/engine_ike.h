/* engine_ike.h - what the engine makes of the IKE daemon's views
 * (ike_view.h): tunnels named after their IKE connection, direction from
 * spi-in, IKE state and rekeys per tunnel, gateway drops per inbound SA
 * and per tunnel.  Pure module (no I/O, no clock): the capture thread
 * applies each view as it arrives.
 *
 * Tunnels (engine_ike_apply):
 *  - every IKE SA with both hosts known puts its address pair
 *    (local-host, remote-host) in the tunnel table at once, before any
 *    ESP packet: an existing tunnel of that pair is used as it is, else a
 *    discovered tunnel is created (tunnel_table_add_discovered: the pair's
 *    remembered index, so the index survives restarts through the state
 *    file);
 *  - a discovered tunnel of an IKE pair is named after the IKE SA
 *    (connection) name; when several IKE SAs share the pair (an IKE
 *    rekey's old and new SA, or two connections) the lexicographically
 *    smallest name wins, so the name does not flap.  A configured
 *    tunnel keeps its configured name (config wins), and a discovered one
 *    whose IKE name a configured tunnel has keeps its generated name.
 *    The name stays after the IKE SA is gone; a restart forgets it until
 *    IKE names it again;
 *  - while an IKE SA of its pair exists (ike_live), a discovered tunnel
 *    is not aged out; afterwards it ages like any discovered tunnel, from
 *    the later of its last packet and the first view without its IKE SA.
 *
 * SAs: every child SA's spi-in (inbound, remote -> local) and spi-out
 * (outbound) of an IKE pair is a known SPI.  A new SA whose SPI and pair
 * are known takes that direction instead of the local-address rule, and
 * is admitted in the reserved class of the SA table (engine.h: a spray
 * cannot push it out); the reserve grows by one slot per known SPI.  An
 * SA already in the table when its SPI becomes known is moved to the
 * known direction (its counts move with it).  Lookups go through a hash
 * built at each apply (allocated there, never per packet): O(1).  Each
 * known SA row gets the text "IKE-SA-name/child-name".
 *
 * IKE state per tunnel (enum tunnel_ike_state): none until an IKE SA of
 * its pair is seen; then the state of the pair's IKE SAs, the most
 * advanced wins: rekeying if one is rekeying (IKE SA rekeying, or a
 * child rekeying in an established IKE SA), else established, else
 * connecting, else deleting; down once no IKE SA of the pair is left, or
 * while the client has lost charon (view.connected = 0: no IKE state can
 * be vouched for).  Up = {established, rekeying}: ENGINE_EV_IKE_UP when
 * a tunnel enters Up, ENGINE_EV_IKE_DOWN when it leaves it.  The first
 * connected view after start sets the states silently (they are learnt,
 * not changes).  IKE_REKEY / CHILD_REKEY events count in ike_rekeys /
 * child_rekeys of the tunnel of the event's IKE SA (found by unique id
 * in this view or the previous one).
 *
 * Gateway drops of an inbound child SA: ESP packets captured on it minus
 * charon's packets-in, both counted from a baseline (the first reading
 * at which the two agree to be settled, below).  The estimate is taken
 * only from readings at which nothing was in flight: no inbound packet
 * of the tunnel captured within ENGINE_IKE_QUIET_US before the view was
 * taken, nor since (tunnel.last_in_us); and from the child's final
 * counters (CHILD_DOWN events).  It never decreases: a reading below the
 * counter changes nothing, one above raises it (and the tunnel's total
 * by as much).  Error bound: packets captured but not yet counted by
 * charon at a reading; the quiet rule leaves only those charon takes
 * longer than ENGINE_IKE_QUIET_US to count; packets charon counted but
 * the capture dropped (ipsecDiagCaptureDrops) lower it.  The daemon's
 * capture thread applies a view only after it has dispatched every packet
 * that reached the capture ring before the view was taken (capture.c
 * apply_ike), so no packet charon already counted is missing from a
 * reading.  A child SA gone from the view keeps its row data while its SA
 * is in the SA table. */
#ifndef IDT_ENGINE_IKE_H
#define IDT_ENGINE_IKE_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "ike_view.h"

struct engine;
struct sa_key;

/* ipsecDiagTunnelIkeState (tunnel.ike_state; 0 in a fresh tunnel = none) */
enum tunnel_ike_state {
    TUNNEL_IKE_NONE = 1, TUNNEL_IKE_CONNECTING = 2, TUNNEL_IKE_ESTABLISHED = 3,
    TUNNEL_IKE_REKEYING = 4, TUNNEL_IKE_DELETING = 5, TUNNEL_IKE_DOWN = 6,
};

#define ENGINE_IKE_QUIET_US 100000ULL

/* IKE data of one SA row (snapshot.h: sorted by tindex, dir, spi). */
struct ike_sa_row {
    uint32_t tindex;
    uint32_t spi;
    uint8_t dir;                    /* SA_INBOUND / SA_OUTBOUND */
    char name[IDT_NAME_MAX];        /* "ike/child", truncated to fit */
    uint64_t gw_drops;              /* inbound only; 0 outbound */
};

/* Apply a view (the caller keeps its reference; nothing of v is kept).
 * now_us is the engine's clock (the same as packet times).  0, or -1 out
 * of memory: the engine keeps what it knew from the previous view. */
int engine_ike_apply(struct engine *e, struct ike_view *v, uint64_t now_us);

/* Direction (SA_INBOUND / SA_OUTBOUND) of a known SPI of the key's
 * address pair, 0 if unknown.  O(1), no allocation. */
int engine_ike_known_dir(const struct engine *e, const struct sa_key *k);

/* Number of known SPIs (the SA table's reserve grows by as many). */
uint32_t engine_ike_reserve(const struct engine *e);

/* After engine_reconfigure renumbered the tunnels: names and ike_live
 * of the IKE pairs again (no allocation). */
void engine_ike_reapply(struct engine *e);

/* The IKE data of the SA rows in the table, sorted by (tindex, dir,
 * spi), in a new array (*n rows; NULL with *n = 0 when there are none).
 * Returns -1 out of memory. */
int engine_ike_rows(struct engine *e, struct ike_sa_row **rows, size_t *n);

void engine_ike_free(struct engine *e);

#endif
