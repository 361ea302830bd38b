/* mib.h - IPSECDIAG-MIB served from snapshots (agent thread only). */
#ifndef IDT_MIB_H
#define IDT_MIB_H

#include <stdint.h>
#include "config.h"

/* Called on COMMIT of a valid SET start(2): index of the tunnel, or 0 for
 * ipsecDiagMtuDiscoverAll.  Must not block. */
typedef void (*mib_mtu_start_fn)(uint32_t index);

int mib_init(mib_mtu_start_fn on_start);
void mib_shutdown(void);

/* The configured tunnels (MTU state is kept per tunnel index, by name
 * across reloads). */
void mib_set_config(const struct idt_config *cfg);

/* MTU discovery state changes (from prober events). */
void mib_mtu_running(uint32_t index);
/* Last successful MTU of a tunnel, 0 if none. */
uint32_t mib_mtu_last(uint32_t index);
void mib_mtu_result(uint32_t index, int ok, uint32_t mtu, uint32_t probes, uint64_t when_us);

/* TimeStamp of a CLOCK_MONOTONIC instant: the master agent's sysUpTime
 * (centiseconds) at that instant; 0 for 0 and for instants before the
 * master's start.  Agent thread only. */
uint32_t mib_timestamp(uint64_t mono_us);
/* When the global counters started (ipsecDiagCounterDiscontinuityTime). */
void mib_set_counters_start(uint64_t mono_us);

#endif
