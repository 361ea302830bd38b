/* agent.h - the Net-SNMP AgentX subagent: initialisation and one step of
 * the agent thread's select loop.  Only the agent (main) thread calls
 * anything here, and nothing else in the program calls Net-SNMP. */
#ifndef IDT_AGENT_H
#define IDT_AGENT_H

#include <sys/select.h>
#include "config.h"
#include "mib.h"
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

/* socket_override (may be NULL) wins over cfg->agentx_socket. */
int agent_init(const struct idt_config *cfg, const char *socket_override, int debug,
               mib_mtu_start_fn on_start);
/* Wait up to max_ms for SNMP traffic, Net-SNMP alarms or one of the extra
 * fds; processes SNMP.  Returns the number of extra fds that are readable
 * (their readiness is reported in *ready, a bitmask by position). */
int agent_poll(const int *extra, int nextra, int max_ms, unsigned *ready);
/* 1 while connected to the master agent. */
int agent_connected(void);
/* Send a notification: varbinds list starting with snmpTrapOID.0. */
void agent_send_notification(netsnmp_variable_list *vars);
void agent_shutdown(void);

#endif
