/* mib.h - IPSECDIAG-MIB served from snapshots (agent thread only). */
#ifndef IDT_MIB_H
#define IDT_MIB_H

#include <stdint.h>
#include "config.h"

/* Called on COMMIT of a valid SET start(2) with the index of a tunnel
 * that has an mtu block (ipsecDiagMtuDiscoverAll: once per such tunnel).
 * Returns 0 a run was queued (the row shows running(2) at once), 1 a run
 * is already in progress (nothing new), -1 nothing started.  Must not
 * block. */
typedef int (*mib_mtu_start_fn)(uint32_t index);

int mib_init(mib_mtu_start_fn on_start);
void mib_shutdown(void);

/* The configured tunnels (MTU state is kept per tunnel index, by name
 * across reloads). */
void mib_set_config(const struct idt_config *cfg);
/* A reload in two steps: reserve the memory the new config needs before
 * anything changes (-1: out of memory), so that mib_set_config() with it
 * cannot fail; or release the reserve if the reload is abandoned. */
int mib_reserve_config(const struct idt_config *cfg);
void mib_release_reserve(void);

/* 0: the MTU prober is not running (it failed to start): tunnels with an
 * mtu block read failed/proberUnavailable and SET start(2) is refused
 * with resourceUnavailable.  Default 1. */
void mib_set_prober_available(int available);

/* MTU discovery state changes (from prober events). */
void mib_mtu_running(uint32_t index);
/* probes: sent so far in the running run. */
void mib_mtu_progress(uint32_t index, uint32_t probes);
/* The ipsecDiagTunnelMtuFailReason value of an enum probe_fail. */
int mib_mtu_fail_reason(int probe_fail);
/* ipsecDiagTunnelState of an enum tunnel_state; ipsecDiagTunnelAlarmCriterion
 * of ALERT_CRIT_* bits. */
int mib_tunnel_state(int state);
int mib_alarm_criterion(unsigned criterion);
/* Last successful MTU of a tunnel, 0 if none. */
uint32_t mib_mtu_last(uint32_t index);
/* A run ended: ok, or probe_fail (enum probe_fail) why not; probes sent
 * in the run; when_us: the end, in the clock mib_timestamp() takes. */
void mib_mtu_result(uint32_t index, int ok, int probe_fail, uint32_t mtu, uint32_t probes,
                    uint64_t when_us);

/* TimeStamp of a CLOCK_MONOTONIC instant: the master agent's sysUpTime
 * (centiseconds) at that instant; 0 for 0 and for instants before the
 * master's start.  Agent thread only. */
uint32_t mib_timestamp(uint64_t mono_us);
/* When the global counters started (ipsecDiagCounterDiscontinuityTime). */
void mib_set_counters_start(uint64_t mono_us);

#endif
