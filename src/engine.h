/* engine.h - the analysis pipeline: frame -> parse -> SA -> replay window
 * -> tunnel totals -> alert policy.  Pure module (no I/O, no clock): the
 * capture thread and the offline reader feed it frames with timestamps,
 * and it reports events through a callback.
 */
#ifndef IDT_ENGINE_H
#define IDT_ENGINE_H

#include <stdint.h>
#include "config.h"
#include "esp_parse.h"
#include "sa_table.h"
#include "tunnel_table.h"
#include "alert.h"
#include "idle_wheel.h"

struct engine_stats {
    uint64_t packets;           /* every frame */
    uint64_t esp;               /* parsed as ESP */
    uint64_t ignored;
    uint64_t malformed;
    uint64_t untracked_sas;     /* ESP packets of new SAs refused (SA table full) */
    uint64_t untracked_tunnels; /* ESP packets of pairs not tracked (max_tunnels) */
    uint64_t pcap_drops;        /* set by the capture shell */
    uint64_t sas_expired;
    uint64_t sas_evicted;       /* tentative SAs evicted to admit new ones */
    uint64_t state_deferred;    /* tunnel state announcements postponed by the pacing */
};

enum engine_event_kind {
    ENGINE_EV_ALERT = 1,        /* tunnel alert: alert_event + figures */
    ENGINE_EV_LOST,             /* a run of lost sequence numbers (event log) */
    ENGINE_EV_LATE,             /* a late packet (event log) */
    ENGINE_EV_SA_NEW,
    ENGINE_EV_SA_EXPIRED,
    ENGINE_EV_SA_UNTRACKED,     /* first refusal after the table filled up */
    ENGINE_EV_TUNNEL_NEW,
    ENGINE_EV_TUNNEL_REMOVED,
    ENGINE_EV_SA_EVICTED,       /* a tentative SA gave way to a new one */
    ENGINE_EV_SA_PRESSURE,      /* the SA table is under pressure (rate-limited) */
    ENGINE_EV_TUNNEL_IDLE,      /* announce: the tunnel went idle (paced, see below) */
    ENGINE_EV_TUNNEL_ACTIVE,    /* announce: the tunnel carries ESP again (or for the first time) */
    ENGINE_EV_IKE_UP,           /* IKE state entered established/rekeying (engine_ike.h) */
    ENGINE_EV_IKE_DOWN,         /* IKE state left established/rekeying */
};

struct engine_event {
    enum engine_event_kind kind;
    uint64_t time_us;
    const struct tunnel *tunnel;        /* may be NULL for SA_UNTRACKED */
    const struct sa_entry *sa;          /* for SA/LOST/LATE events */
    uint64_t first_seq, last_seq;       /* LOST/LATE */
    enum alert_event alert;             /* ALERT */
    struct alert_figures fig;           /* ALERT */
    int prev_state;                     /* TUNNEL_IDLE/ACTIVE: the state announced before;
                                         * IKE_UP/DOWN: the IKE state before */
};

typedef void (*engine_event_cb)(void *ctx, const struct engine_event *ev);
/* Is this address one of this host's?  (live mode direction) */
typedef int (*engine_local_cb)(void *ctx, const struct idt_addr *a);

struct engine {
    const struct idt_config *cfg;
    struct sa_table *sas;
    struct tunnel_table *tunnels;
    struct engine_stats st;
    engine_event_cb on_event;
    void *event_ctx;
    engine_local_cb is_local;   /* NULL: offline rule (lower address is local) */
    void *local_ctx;
    int want_ranges;            /* emit LOST/LATE events (event log on) */
    int dropping;               /* capture is dropping: flag loss */
    uint64_t now_us;            /* last packet/tick time */
    uint64_t last_tick_us;
    uint32_t expire_cursor;
    uint32_t untracked_logged;
    /* SA table pressure: evictions or refusals seen at a tick */
    int pressure;               /* 1 from such a tick until ENGINE_PRESSURE_QUIET_US without */
    int pressure_sent;          /* an ENGINE_EV_SA_PRESSURE has been emitted */
    uint64_t pressure_mark;     /* sas_evicted + untracked_sas at the last tick */
    uint64_t pressure_last_us;  /* last tick that saw new evictions or refusals */
    uint64_t pressure_sent_us;  /* last ENGINE_EV_SA_PRESSURE */
    /* Watch list (slots, ENGINE_NO_SLOT ends it): the tunnels a tick must
     * visit - alert_pending(), discovered with no SA (ageing), or with a
     * state change not yet announced. */
    uint32_t watch_head, watch_tail, watch_len;
    /* Active tunnels with an idle timeout, by the second they may go idle */
    struct idle_wheel idle;
    /* tunnel state announcements (pacing, below) */
    uint32_t state_tokens;
    uint64_t state_refill_us;   /* time the tokens were last topped up */
    /* What IKE says (engine_ike.h); NULL until the first view */
    struct engine_ike *ike;
};

/* SA table policy (engine.c, sa_table.h):
 *  - a new SA is TENTATIVE until a packet moves its highest sequence
 *    number forward by 1..W (the replay window): the next packet of a
 *    real SA does, a single sprayed packet never does;
 *  - when the table is full, a new SA evicts the oldest tentative SA
 *    (O(1), FIFO); confirmed SAs are never evicted; with no tentative SA
 *    to evict, the new SA is refused (ipsecDiagUntrackedSAs);
 *  - SAs whose outer addresses are those of a configured tunnel are
 *    admitted in the reserved class: ENGINE_RESERVE_PER_TUNNEL slots per
 *    configured tunnel (at most max_sas / 2) are closed to all other
 *    SAs, and they may also evict tentative SAs of configured tunnels;
 *    other SAs never evict them.  So are SAs whose SPI IKE reported for
 *    their address pair (engine_ike.h), with one more reserved slot per
 *    such SPI.
 * Pressure: any eviction or refusal seen at a tick starts it; it ends
 * after ENGINE_PRESSURE_QUIET_US without; ENGINE_EV_SA_PRESSURE is
 * emitted at a tick under pressure if none was in the last
 * ENGINE_PRESSURE_REPEAT_US (so at its start, then at most once per
 * ENGINE_PRESSURE_REPEAT_US). */
/* Tunnel state (tunnel_table.h enum tunnel_state):
 *  - a packet of a tunnel that is not active makes it active, puts it on
 *    the watch list (if it announces its changes) and, if its idle timeout (tunnel_idle_timeout) is
 *    not 0, in the idle wheel (idle_wheel.h) at the second the timeout
 *    would run out (O(1), nothing is emitted there); later packets of an
 *    active tunnel do nothing more;
 *  - at a tick, the idle wheel gives the tunnels whose second has come
 *    (at most ENGINE_TICK_IDLE): a tunnel whose last packet is at least
 *    its idle timeout old becomes idle and goes on the watch list (if it
 *    announces its changes); the
 *    others go back in the wheel at their new deadline (so an active
 *    tunnel is looked at about once per idle timeout, never per tick);
 *  - at a tick, a watched tunnel whose state differs from the state it
 *    last announced (notified_state) announces it: ENGINE_EV_TUNNEL_IDLE
 *    or ENGINE_EV_TUNNEL_ACTIVE, one per change (neverSeen -> active
 *    included), if tunnel_idle_alerts(); otherwise it is recorded as
 *    announced silently, at once (such a tunnel is never watched for
 *    its state).
 * Pacing (no storm when many tunnels change together): announcements
 * spend tokens of a bucket of ENGINE_STATE_BURST tokens refilled at
 * ENGINE_STATE_RATE per second of engine time; a change that finds no
 * token stays on the watch list (counted in state_deferred) and, the
 * list being visited oldest first, waits behind the older ones only, so
 * none waits forever.  200 tunnels going idle together: 20
 * announcements at once, then 2 a second (all within 90 s);
 * ipsecDiagTunnelState shows every state at once.  A change undone
 * before it was announced (idle, then traffic again) is announced
 * neither way.
 * Delay: a tunnel becomes idle at the first tick at or after its last
 * packet + idle timeout, later only when more than ENGINE_TICK_IDLE
 * wheel entries fall due together (ceil(X / ENGINE_TICK_IDLE) ticks, X =
 * those entries; X counts every active tunnel whose deadline check falls
 * in that second, about A / T per second for A active tunnels of idle
 * timeout T); the announcement then waits for the watch list (below)
 * and a token.
 * Capture drops (cross-tunnel policy): while the capture is dropping
 * (e->dropping), loss the replay windows declare is counted as usual and
 * in lost_while_dropping, but is not fed to the alert windows, so a
 * capture overload raises one ipsecDiagCaptureDropping, not one loss
 * alarm per tunnel. */
#define ENGINE_STATE_BURST 20u
#define ENGINE_STATE_RATE  2u

#define ENGINE_RESERVE_PER_TUNNEL 8u
#define ENGINE_PRESSURE_QUIET_US  60000000ULL
#define ENGINE_PRESSURE_REPEAT_US 300000000ULL


/* Work of one engine_tick(), whatever the number of tunnels and SAs:
 *  - SA expiry: a cursor over the SA table visits at most
 *    ENGINE_TICK_SA_VISITS SAs (plus a skip over at most max_sas / 64
 *    words of its occupancy bitmap) and expires at most
 *    ENGINE_TICK_SA_EXPIRES of them; the next tick goes on from there.
 *  - Idle wheel: at most ENGINE_TICK_IDLE tunnels whose idle deadline
 *    second has come are checked (plus a skip over at most
 *    IDLE_WHEEL_SLOTS empty one-second buckets).
 *  - Tunnels: at most ENGINE_TICK_WATCH tunnels of the watch list are
 *    visited, oldest first: alert_eval() for each, its state change
 *    announced (paced, above), and a discovered tunnel with no SA that
 *    has been idle for more than sa_idle_timeout is removed.  A tunnel
 *    that is neither alert_pending() nor without SAs nor with a state
 *    change to announce leaves the list (alert_eval() could not return
 *    an event for it).
 * Delays this gives (ticks are about a second apart):
 *  - an SA idle for more than sa_idle_timeout expires within
 *    ceil(max_sas / ENGINE_TICK_SA_VISITS) + ceil(X / ENGINE_TICK_SA_EXPIRES)
 *    ticks, X = the SAs that expire at about the same time;
 *  - a watched tunnel is visited at least every
 *    ceil(W / ENGINE_TICK_WATCH) ticks, W = the watch list's length: with
 *    up to 2048 pending or ageing tunnels, every tick; an idle
 *    discovered tunnel is removed that many ticks (+ 1) after its last SA
 *    expired. */
#define ENGINE_TICK_SA_VISITS   65536u
#define ENGINE_TICK_SA_EXPIRES  2048u
#define ENGINE_TICK_WATCH       2048u
#define ENGINE_TICK_IDLE        4096u
#define ENGINE_NO_SLOT          UINT32_MAX

/* Create with cfg (which must outlive the engine, or be replaced with
 * engine_reconfigure).  window overrides cfg->window when non-zero. */
int engine_init(struct engine *e, const struct idt_config *cfg, uint32_t window,
                uint64_t now_us);
void engine_free(struct engine *e);

/* One captured frame. */
void engine_packet(struct engine *e, int dlt, uint64_t ts_us, const uint8_t *data,
                   uint32_t caplen, uint32_t wirelen);

/* Periodic work (call about once a second of packet or wall time; also
 * called by engine_packet when a second of packet time has passed): SA
 * expiry, alert evaluation and ageing of the watched tunnels, each with
 * the fixed budget above. */
void engine_tick(struct engine *e, uint64_t now_us);

/* Offline end of stream: count the holes still inside every window. */
void engine_finish(struct engine *e);

/* Apply a new config (SIGHUP). Counters of surviving tunnels are kept.
 * 0, or -1 (out of memory) with the engine unchanged and still using the
 * old config, which must then stay alive. */
int engine_reconfigure(struct engine *e, const struct idt_config *cfg);

/* For engine_ike.c.  Create the discovered tunnel of a pair that has
 * none, in the given order (the pair's remembered order wins), with its
 * alert state, announcing ENGINE_EV_TUNNEL_NEW; NULL at the cap. */
struct tunnel *engine_add_tunnel(struct engine *e, const struct idt_addr *local,
                                 const struct idt_addr *remote, uint64_t ts);
/* Put tu on the watch list if a tick has work for it (e.g. ageing). */
void engine_watch(struct engine *e, struct tunnel *tu);
/* The SA table's reserve: configured tunnels' share plus the known SPIs. */
void engine_set_reserve(struct engine *e);

/* Direction of an SA within its tunnel: 1 inbound, 2 outbound. */
#define SA_INBOUND 1
#define SA_OUTBOUND 2

#endif
