/* snapshot.h - immutable, sorted copies of the engine's state that the
 * capture thread publishes and the agent thread serves over SNMP. */
#ifndef IDT_SNAPSHOT_H
#define IDT_SNAPSHOT_H

#include <stdint.h>
#include <stddef.h>
#include "engine.h"
#include "engine_ike.h"

struct snap_tunnel {
    uint32_t index;
    uint8_t origin, alarm;
    char name[IDT_NAME_MAX];
    struct idt_addr local, remote;
    uint32_t active_sas;
    struct loss_counts in;
    uint32_t loss_rate_ppm;
    uint32_t interval_lost;
    uint64_t lost_while_dropping;
    uint64_t created_us;
    uint32_t tentative_sas;
    uint64_t evicted_sas, refused_pkts;
    struct loss_counts out;
    uint8_t state, state_alerts, alerts_enabled, criterion;    /* criterion: ALERT_CRIT_* */
    uint32_t sas_seen;
    uint64_t last_seen_us, newest_sa_us;
    uint32_t idle_timeout_s;
    uint32_t alert_lost, alert_ppm, alert_interval_s, alert_min_pkts;
    uint32_t interval_in, reminders;
    uint32_t sa_first, sa_count;    /* its SA rows: s->sa[sa_first .. + sa_count) */
    uint8_t ike_state;              /* enum tunnel_ike_state (never 0) */
    uint64_t ike_rekeys, child_rekeys, gw_drops;
};

/* 80 bytes: neither the tunnel index nor the outer addresses are
 * copied; they follow from the tunnel row whose SA range holds the row
 * (snapshot_sa_tunnel) and the direction (inbound: remote -> local);
 * first and last seen are the engine's seconds (CLOCK_MONOTONIC in the
 * daemon), made TimeStamps when served (mib_timestamp). */
struct snap_sa {
    uint32_t spi;
    uint8_t dir, encap;
    uint32_t first_s, last_s;
    struct loss_counts c;
    uint64_t high;
};

struct snapshot {
    int refs;
    uint64_t taken_us;
    struct engine_stats st;
    uint32_t window;
    uint32_t active_sas;
    uint32_t tentative_sas, reserved_sas;   /* SA table policy (engine.h) */
    int sa_pressure;
    int dropping;
    size_t ntun, nsa;
    struct snap_tunnel *tun;        /* sorted by index */
    struct snap_sa *sa;             /* sorted by (tunnel index, dir, spi) */
    /* IKE data of the SAs IKE reported (engine_ike.h), sorted like sa;
     * the other rows have none (served as 0 / "") */
    size_t nike;
    struct ike_sa_row *ike;
};

/* The tunnel row of SA row `row` (< s->nsa).  O(log ntun). */
const struct snap_tunnel *snapshot_sa_tunnel(const struct snapshot *s, size_t row);
/* The IKE data of an SA row, or NULL.  Binary search. */
const struct ike_sa_row *snapshot_sa_ike(const struct snapshot *s, const struct snap_sa *sa);

/* Source and destination of an SA row, from its tunnel row. */
void snapshot_sa_addrs(const struct snapshot *s, const struct snap_sa *sa,
                       const struct idt_addr **src, const struct idt_addr **dst);

/* Build a sorted snapshot of e (capture thread).  NULL on ENOMEM. */
struct snapshot *snapshot_build(struct engine *e, uint64_t now_us, int dropping);
/* Make s the current snapshot (takes ownership). */
void snapshot_publish(struct snapshot *s);
/* Take a reference to the current snapshot (may be NULL before the first). */
struct snapshot *snapshot_acquire(void);
void snapshot_release(struct snapshot *s);
/* Drop the current snapshot (shutdown). */
void snapshot_clear(void);

/* Binary searches: first row whose index is >= (or > if strict) the key
 * (SA rows: the key (tindex, dir, spi)). */
size_t snapshot_tunnel_lower(const struct snapshot *s, uint32_t index, int strict);
size_t snapshot_sa_lower(const struct snapshot *s, uint32_t tindex, uint32_t dir,
                         uint32_t spi, int strict);

#endif
