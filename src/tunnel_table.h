/* tunnel_table.h - tunnels: configured ones from the config, discovered
 * ones created on the first ESP packet between a new pair of addresses.
 * Pure module (no I/O).  Lookup by the unordered address pair is O(1).
 */
#ifndef IDT_TUNNEL_TABLE_H
#define IDT_TUNNEL_TABLE_H

#include <stdint.h>
#include <stddef.h>
#include "config.h"
#include "alert.h"
#include "tunnel_ids.h"

enum tunnel_origin { TUNNEL_CONFIGURED = 1, TUNNEL_DISCOVERED = 2 };

/* Tunnel state (ipsecDiagTunnelState): neverSeen until the first ESP
 * packet, active while ESP was seen within the idle timeout, idle after. */
enum tunnel_state { TUNNEL_NEVER_SEEN = 1, TUNNEL_ACTIVE = 2, TUNNEL_IDLE = 3 };

struct loss_counts {
    uint64_t received, lost, late, duplicate, reordered;
    uint64_t suspect;           /* held packets of dismissed far jumps */
    uint64_t octets;            /* outer IP length of every received packet */
};

struct tunnel {
    uint32_t index;             /* ipsecDiagTunnelIndex */
    uint8_t  origin;            /* enum tunnel_origin */
    uint8_t  used;
    char name[IDT_NAME_MAX];
    struct idt_addr local, remote;
    uint32_t active_sas;        /* SAs currently in the SA table */
    uint32_t sas_seen;          /* distinct SAs ever seen */
    struct loss_counts in;      /* inbound SAs, past and present */
    struct loss_counts out;     /* outbound SAs */
    uint64_t lost_while_dropping;
    uint64_t created_us, last_seen_us;
    uint64_t last_in_us;        /* last inbound ESP packet (next to last_seen_us:
                                   the packet path touches both) */
    uint64_t newest_sa_us;      /* first packet of the newest SA; 0 = none */
    uint8_t  state;             /* enum tunnel_state */
    uint8_t  notified_state;    /* state last announced (engine.h: pacing) */
    uint32_t conf_pos;          /* position in config tunnels, or UINT32_MAX */
    struct alert_state alert;
    uint32_t spi_hint;          /* most recent inbound SPI (for messages) */
    uint32_t tentative_sas;     /* of active_sas, those not yet confirmed */
    uint64_t evicted_sas;       /* tentative SAs of this tunnel evicted */
    uint64_t refused_pkts;      /* packets of new SAs of this pair refused */
    /* The engine's watch list (slot numbers; owned by the engine, zeroed
     * by add and remove, stale after tunnel_table_reconfigure). */
    uint32_t watch_prev, watch_next;
    uint8_t watched;
    /* The engine's idle wheel (idle_wheel.h; same ownership as the watch
     * list): slot links, bucket, membership. */
    uint32_t idle_prev, idle_next;
    uint16_t idle_bucket;
    uint8_t idle_queued;
    /* IKE (engine_ike.h) */
    uint8_t ike_state;          /* enum tunnel_ike_state; 0 = none */
    uint8_t ike_live;           /* an IKE SA of the pair is in the last view */
    uint64_t ike_seen_us;       /* the last view that had one */
    uint64_t ike_rekeys, child_rekeys;
    uint64_t gw_drops;          /* gateway drops of its inbound SAs */
};

struct tunnel_table;

/* Build from the configured tunnels; max_discovered caps discovered ones.
 * Reserves slots and hash for all of them at once (memory is touched as
 * tunnels appear). */
struct tunnel_table *tunnel_table_create(const struct idt_config *cfg,
                                         uint32_t max_discovered, uint64_t now_us);
void tunnel_table_destroy(struct tunnel_table *t);

/* Find the tunnel of an address pair (either order).  NULL if none. */
struct tunnel *tunnel_table_find(struct tunnel_table *t, const struct idt_addr *a,
                                 const struct idt_addr *b);

/* Create a discovered tunnel for a pair that has none.  A remembered pair
 * gets its remembered index, name and local/remote order; a new one gets
 * the given order, the next index (above every remembered and configured
 * one) and a generated name no configured tunnel has.  NULL when the
 * discovered-tunnel cap is reached or the index space is exhausted.  O(1),
 * no allocation (the slots were reserved for the cap). */
struct tunnel *tunnel_table_add_discovered(struct tunnel_table *t,
                                           const struct idt_addr *local,
                                           const struct idt_addr *remote,
                                           uint64_t now_us);

/* Remove a discovered tunnel (aging); its identity stays remembered, no
 * longer live, last seen at tu->last_seen_us.  O(1) (backward-shift hash
 * deletion, free list); no allocation. */
void tunnel_table_remove(struct tunnel_table *t, struct tunnel *tu);

/* Slot access: slots are stable while the tunnel exists (and until the
 * next tunnel_table_reconfigure, which renumbers them). */
uint32_t tunnel_table_slot(const struct tunnel_table *t, const struct tunnel *tu);
struct tunnel *tunnel_table_at(struct tunnel_table *t, uint32_t slot);
/* Upper bound of the slot numbers in use: the most tunnels that existed
 * at once since the last reconfigure. */
uint32_t tunnel_table_slots(const struct tunnel_table *t);
uint32_t tunnel_table_count(const struct tunnel_table *t);

/* Apply a new config (reload): tunnels whose name still exists keep
 * their counters; one whose index changes gets created_us = now_us (a
 * discontinuity); removed configured tunnels disappear; new ones appear.
 * Discovered tunnels that now match a configured pair are merged into it
 * (dropped); one whose index or name a configured tunnel now has gets a
 * new one.  Everything is allocated before anything changes: returns 0,
 * or -1 on allocation failure with the table unchanged.  After success,
 * one discovered tunnel per old configured tunnel can be added without
 * allocating (for SAs of configured tunnels that went away).  Slots are
 * renumbered: the tunnels that exist take the lowest ones.  O(tunnels). */
int tunnel_table_reconfigure(struct tunnel_table *t, const struct idt_config *cfg,
                             uint64_t now_us);

/* Does a configured tunnel have this name? */
int tunnel_table_conf_has_name(const struct tunnel_table *t, const char *name);

/* Remembered identities of discovered tunnels (for the state file). */
struct tunnel_ids *tunnel_table_ids(struct tunnel_table *t);

/* Replace the remembered identities by those of a state file text
 * (tunnel_ids.h format), reconciled with the configured tunnels.  Only
 * before any tunnel is discovered.  0, or -1 with a reason in err
 * (nothing changed). */
int tunnel_table_load_ids(struct tunnel_table *t, const char *text, size_t len,
                          char *err, size_t errlen);

/* Alert parameters of a tunnel from the config (overrides applied). */
void tunnel_alert_params(const struct idt_config *cfg, const struct tunnel *tu,
                         struct alert_params *out);

/* Effective idle timeout in seconds (0 = off): the tunnel's idle_timeout,
 * else loss.idle_timeout. */
uint32_t tunnel_idle_timeout(const struct idt_config *cfg, const struct tunnel *tu);

/* Does the tunnel announce idle/active transitions?  Configured tunnels:
 * their idle_alerts (default true); discovered ones:
 * loss.discovered_idle_alerts (default false). */
int tunnel_idle_alerts(const struct idt_config *cfg, const struct tunnel *tu);

/* Order of addresses: family first (4 before 6), then bytes. */
int idt_addr_cmp(const struct idt_addr *a, const struct idt_addr *b);

#endif
