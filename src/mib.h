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

/* sysUpTime-style TimeStamp (centiseconds since the agent started) of a
 * realtime instant; 0 for instants before the start. */
uint32_t mib_timestamp(uint64_t realtime_us);
void mib_set_start_time(uint64_t realtime_us);

#endif
