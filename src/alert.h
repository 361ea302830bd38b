/* alert.h - per-tunnel inbound-loss alert policy and capture-drop policy.
 *
 * Pure module: no I/O, no clock reads, no allocation.  Everything is
 * driven by the timestamps the caller passes in (microseconds, uint64_t:
 * pcap timestamps offline, CLOCK_MONOTONIC/REALTIME live).  The same
 * sequence of calls with the same arguments always gives the same events.
 *
 * ------------------------------------------------------------ time
 * The caller's "now" never goes backwards inside a state: a timestamp
 * lower than the highest one seen so far is treated as that highest one
 * (time standing still is fine too).  Events carry, and are decided at,
 * this clamped time.
 *
 * ------------------------------------------------------------ window
 * The interval I = interval_s seconds is split into ALERT_NBUCKETS (64)
 * buckets of exactly w = interval_s * 15625 us (64 * 15625 = 10^6, so
 * the division is exact: I = 60 s gives w = 937.5 ms, I = 64 s gives
 * w = 1 s).  Buckets are aligned to timestamp 0 (bucket number
 * k = floor(t / w)), not to the creation time of the state, so results do
 * not depend on when a tunnel was first seen.
 *
 * "Within the last interval" at time now means: in one of the 64 buckets
 * floor(now/w)-63 .. floor(now/w), i.e. at a time t with
 *        floor(now / w) - floor(t / w) <= 63.
 * A packet credited at t is thus counted from t until just before
 * (floor(t/w) + 64) * w: for at least I - w and less than I.
 *
 * Loss and receptions are credited at the time the caller passes to
 * alert_add() (for loss: when the replay window declares the sequence
 * numbers lost).
 *
 * ------------------------------------------------------------ condition
 * Over the window, with L = lost and R = received:
 *     C  =  (lost > 0 && L >= lost)
 *        || (ppm  > 0 && L > 0 && L + R >= min_pkts && L * 10^6 >= ppm * (L + R))
 * Either criterion fires when both are set; with both 0, C is never true.
 * min_pkts is the ppm criterion's minimum sample: with min_pkts = 100,
 * 1 lost packet out of 3 is not a rate (the lost criterion still applies).
 * The criterion that tripped an alarm (ALERT_CRIT_LOST, ALERT_CRIT_PPM,
 * or both bits) is recorded at the EXCEEDED and kept until the next one.
 * rate_ppm (ipsecDiagTunnelLossRate) = floor(L * 10^6 / (L + R)), 0 when
 * L + R = 0.
 *
 * ------------------------------------------------------------ states
 * normal -> alarm:  at the first alert_eval() where C is true; returns
 *                   ALERT_EXCEEDED, the event time is that eval's now.
 *                   (Caller does alert_add(t, ...) then alert_eval(t) for
 *                   the packet whose loss makes L reach the threshold,
 *                   so the event time is that packet's timestamp.)
 * alarm:            nothing is emitted, however bad it gets, except
 *                   ALERT_REMINDER if repeat_s > 0 (the figures count the
 *                   reminders of the alarm: 0 at the EXCEEDED, n at the
 *                   n-th REMINDER): at the first eval at
 *                   or after start + n * repeat_s (n = 1, 2, ...; start =
 *                   time of the EXCEEDED); if several such moments passed
 *                   between two evals, one REMINDER is emitted and the
 *                   schedule continues with the next future one.
 * alarm -> normal:  at the first alert_eval() where C is false and has
 *                   been false continuously for at least I, i.e.
 *                   now - false_since >= I; returns ALERT_CLEARED, the
 *                   event time is that eval's now.  C is tracked at every
 *                   change of the window, not only at evals: the window
 *                   changes at alert_add() (at its time) and when a bucket
 *                   leaves it (at the boundary time k * w), so false_since
 *                   is the exact time C last went from true to false, and
 *                   the CLEARED time does not depend on how often eval is
 *                   called (only on where the first eval >= false_since + I
 *                   falls).  Example, I = 64 s (w = 1 s), threshold hit by
 *                   loss credited at 10.5 s: C goes false at 74.0 s when
 *                   bucket 10 leaves, CLEARED at the first eval >= 138.0 s.
 *                   If both CLEARED and a REMINDER are due, CLEARED wins.
 * One eval returns at most one event.  EXCEEDED is decided on C at the
 * eval only: loss that makes C true and expires again with no eval in
 * between raises nothing (the caller evals after each add).
 *
 * Offline: the engine evals on every packet and does not synthesise time
 * at the end of the file; if the file ends before the quiet interval has
 * passed, there is no CLEARED (the tunnel ends in alarm).
 *
 * A big jump forward costs O(64): at most the 64 slots are emptied, each
 * at its own boundary time (anything past 64 buckets is empty anyway).  Bucket counters are uint32 and saturate
 * (the sums stay consistent with the buckets).
 *
 * enabled = 0 (alerts = false): alert_eval() never emits anything and the
 * state stays normal, but alert_add() and the figures work as usual.
 */
#ifndef IDT_ALERT_H
#define IDT_ALERT_H

#include <stdint.h>

#define ALERT_NBUCKETS          64u
#define ALERT_BUCKET_US_PER_S   15625u      /* 10^6 / ALERT_NBUCKETS */
#define ALERT_DEFAULT_LOST      10u
#define ALERT_DEFAULT_INTERVAL  60u
#define ALERT_MAX_INTERVAL      86400u
#define ALERT_MAX_PPM           1000000u
#define ALERT_DEFAULT_MIN_PKTS  100u

/* Criterion bits (alert_figures.criterion). */
#define ALERT_CRIT_LOST         1u
#define ALERT_CRIT_PPM          2u

struct alert_params {
    uint32_t lost;          /* lost packets in the interval; 0 = criterion off */
    uint32_t interval_s;    /* 1..86400; 0 is taken as the default 60,
                             * larger values are clamped to 86400 */
    uint32_t ppm;           /* loss ratio in ppm; 0 = off; clamped to 10^6 */
    uint32_t repeat_s;      /* REMINDER period while in alarm; 0 = off */
    int enabled;            /* 0 = silenced (alerts = false) */
    uint32_t min_pkts;      /* ppm criterion only when L + R >= min_pkts */
};

enum alert_event {
    ALERT_NONE = 0,
    ALERT_EXCEEDED,
    ALERT_CLEARED,
    ALERT_REMINDER,
};

/* Figures carried by a notification / shown by SNMP. */
struct alert_figures {
    uint64_t now_us;        /* time the figures/event refer to (the
                             * clamped now: never below the last seen) */
    uint64_t lost;          /* lost within the window */
    uint64_t received;      /* received within the window */
    uint32_t rate_ppm;      /* floor(lost * 10^6 / (lost + received)) */
    uint32_t interval_s;    /* the effective interval */
    int alarm;              /* 1 in alarm (after the event of this eval) */
    uint64_t alarm_start_us;/* time of the EXCEEDED of the current or last
                             * alarm; 0 if there never was one */
    uint32_t criterion;     /* ALERT_CRIT_* bits that tripped the current or
                             * last alarm; 0 if there never was one */
    uint32_t reminders;     /* REMINDERs of the current or last alarm */
};

struct alert_bucket {
    uint32_t lost;
    uint32_t received;
};

/* Fixed size (about 600 bytes), embeddable; no pointers inside, so it can
 * be copied.  Fields are private to alert.c. */
struct alert_state {
    struct alert_params p;      /* normalised */
    uint64_t width_us;          /* bucket width w */
    uint64_t cur;               /* bucket number of now_us */
    uint64_t now_us;            /* highest time seen */
    uint64_t sum_lost, sum_received;
    uint64_t alarm_start_us;
    uint64_t false_since_us;    /* when cond last went true -> false */
    uint64_t next_reminder_us;
    int cond;                   /* C for the current window */
    int alarm;
    uint32_t criterion;         /* ALERT_CRIT_* at the last EXCEEDED */
    uint32_t reminders;         /* REMINDERs since the last EXCEEDED */
    struct alert_bucket ring[ALERT_NBUCKETS];   /* slot = k % 64 */
};

/* Built-in defaults: lost 10, interval 60, ppm 0, repeat 0, min_pkts 100,
 * enabled. */
void alert_params_default(struct alert_params *p);

/* Empty window, state normal, time starts at now_us. */
void alert_init(struct alert_state *s, const struct alert_params *p, uint64_t now_us);

/* Reload.  Keeps the alarm state, its start time and false_since
 * (C is re-evaluated with the new thresholds at now; if that turns it
 * false, false_since = now).
 * Same interval: the window is kept as is.  Different interval: the old
 * buckets are re-bucketed, each old bucket's counts going to the new
 * bucket containing the old bucket's last microsecond (capped at now),
 * and dropped if that is outside the new window; so counts never age
 * slower than real time allows and an interval change never invents loss.
 * The REMINDER schedule is recomputed (same anchor) if repeat_s changed.
 * enabled = 0 forces the state to normal WITHOUT an event.
 * Events resulting from the new thresholds come at the next alert_eval(). */
void alert_set_params(struct alert_state *s, const struct alert_params *p, uint64_t now_us);

/* Account packets at now_us (per packet or per batch).  O(1) amortised,
 * O(64) worst case (a jump forward). */
void alert_add(struct alert_state *s, uint64_t now_us, uint32_t received, uint32_t lost);

/* Evaluate at now_us; returns the event (or ALERT_NONE) and fills *out
 * (may be NULL) with the figures after the transition. */
enum alert_event alert_eval(struct alert_state *s, uint64_t now_us, struct alert_figures *out);

/* 1 if an alert_eval() could return an event: in alarm, or loss in the
 * window as of the last add/eval.  When 0, alert_eval() returns ALERT_NONE
 * at any later time until an alert_add() with lost > 0. */
int alert_pending(const struct alert_state *s);

/* Live figures at now_us (window as of max(now_us, last time seen))
 * without changing anything, for SNMP.  alarm is the current state. */
void alert_figures(const struct alert_state *s, uint64_t now_us, struct alert_figures *out);

/* Event names ("exceeded", ...): alert_event_name() lives in report.c
 * (declared in report.h).  Tunnel parameters from the configuration
 * (globals + per-tunnel overrides + alerts): tunnel_alert_params() in
 * tunnel_table.c. */

/* ------------------------------------------------------------ capture drops
 * Rate-limited policy for the capture's cumulative drop counter
 * (ipsecDiagCaptureDropping).  Call drop_update() with the cumulative
 * counter (64-bit; the caller extends pcap's 32-bit counter across wraps)
 * at each check (e.g. once a second).
 *
 *  - "rising" = the counter is higher than at the previous check.
 *  - quiet -> dropping: first rising check; emits DROP_DROPPING.
 *  - dropping: on a rising check, emits DROP_DROPPING again only if at
 *    least repeat_s seconds have passed since the last DROP_DROPPING
 *    (repeat_s = 0: never again until it stopped).  A non-rising check
 *    emits nothing.
 *  - dropping -> quiet: at the first non-rising check at least quiet_s
 *    seconds after the last rising check; emits DROP_STOPPED.
 *  - A counter lower than at the previous check is a reset (capture
 *    reopened): it becomes the new baseline, no event, not rising.
 *  - Time going backwards is treated as the last time seen.
 * delta in the figures = counter now - counter at the previous event
 * (or at init / the last reset).
 */
#define DROP_DEFAULT_REPEAT 300u
#define DROP_DEFAULT_QUIET  60u

struct drop_params {
    uint32_t repeat_s;      /* 0 = no repeats; default 300 */
    uint32_t quiet_s;       /* quiet time before STOPPED; 0 = default 60 */
};

enum drop_event {
    DROP_NONE = 0,
    DROP_DROPPING,
    DROP_STOPPED,
};

struct drop_figures {
    uint64_t total;         /* cumulative counter */
    uint64_t delta;         /* since the previous event */
    int dropping;
};

struct drop_state {
    struct drop_params p;
    uint64_t now_us;
    uint64_t last_count;    /* counter at the previous check */
    uint64_t event_count;   /* counter at the previous event */
    uint64_t last_rise_us;
    uint64_t last_emit_us;  /* last DROP_DROPPING */
    int dropping;
};

void drop_params_default(struct drop_params *p);
void drop_init(struct drop_state *s, const struct drop_params *p,
               uint64_t now_us, uint64_t initial_count);
void drop_set_params(struct drop_state *s, const struct drop_params *p);
enum drop_event drop_update(struct drop_state *s, uint64_t now_us,
                            uint64_t cumulative, struct drop_figures *out);
void drop_figures(const struct drop_state *s, struct drop_figures *out);
const char *drop_event_name(enum drop_event e);  /* "dropping", ... */

#endif
