/* notify.h - IPSECDIAG-MIB notifications (agent thread only). */
#ifndef IDT_NOTIFY_H
#define IDT_NOTIFY_H

#include "queue.h"

/* Each returns 1 if a notification was handed to the master, 0 if not
 * (traps disabled or master unreachable). */
int notify_loss(const struct msg *m, int exceeded);
int notify_mtu(const struct msg *m);
int notify_dropping(const struct msg *m);
int notify_sa_pressure(const struct msg *m);
int notify_dropping_cleared(const struct msg *m);
int notify_tunnel_state(const struct msg *m);     /* ipsecDiagTunnelIdle / ...Active */
int notify_tunnel_ike(const struct msg *m);       /* ipsecDiagTunnelUp / ...Down */
void notify_set_enabled(int enabled);

#endif
