#ifndef IDT_MTU_CLI_H
#define IDT_MTU_CLI_H
/* "mtu-discovery [SNMP options] [[HOST] TUNNEL]": SET start(2) through the
 * master agent with Net-SNMP's client settings. */
int mtu_cli_main(int argc, char **argv, const char *default_config);
#endif
