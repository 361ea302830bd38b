/* local_addrs.h - this host's addresses, cached. */
#ifndef IDT_LOCAL_ADDRS_H
#define IDT_LOCAL_ADDRS_H

#include "addr.h"

/* Is addr configured on one of this host's interfaces?  The list is read
 * (getifaddrs) at the first call and again when it is over 5 s old; any
 * thread may call.  ctx is unused (the engine_local_cb signature). */
int local_addrs_has(void *ctx, const struct idt_addr *addr);

#endif
