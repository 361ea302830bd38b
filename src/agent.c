/* agent.c - AgentX subagent setup and the select loop step. */
#include "idt_build.h"
#include "agent.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Net-SNMP's subagent session (NULL while disconnected). */
extern netsnmp_session *main_session;

static int g_was_connected = -1;
static char g_socket[256];

static int log_cb(int major, int minor, void *server, void *client)
{
    const struct snmp_log_message *slm = server;
    (void)major;
    (void)minor;
    (void)client;
    if (slm && slm->msg) {
        int prio = slm->priority;
        /* send_v2trap() also builds a v1 template for v1 sinks, which cannot
         * carry Counter64; our notifications are v2-only, so that is noise. */
        if (strstr(slm->msg, "v1 traps can't carry Counter64") ||
            strstr(slm->msg, "failed to convert v2->v1"))
            prio = LOG_DEBUG;
        /* Net-SNMP is chatty about reconnects; keep them at info */
        if (prio > LOG_INFO && !log_debug_enabled())
            return 0;
        log_msg(prio < LOG_ERR ? LOG_ERR : prio, "net-snmp: %s", slm->msg);
    }
    return 0;
}

int agent_init(const struct idt_config *cfg, const char *socket_override, int debug,
               mib_mtu_start_fn on_start)
{
    /* Parse no MIB files at run time: we serve numeric OIDs only. */
    setenv("MIBS", "", 1);
    setenv("MIBDIRS", "", 1);

    snmp_disable_log();
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, debug ? LOG_DEBUG : LOG_INFO);
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, log_cb, NULL);

    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);

    const char *sock = cfg->agentx_socket;
    if (socket_override && *socket_override)
        sock = socket_override;
    snprintf(g_socket, sizeof g_socket, "%s", *sock ? sock : "/var/agentx/master");
    if (*sock)
        netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, sock);
    unsigned ping = cfg->ping_interval;

    if (init_agent("ipsecdiagtool") != 0) {
        log_err("cannot initialise the Net-SNMP agent library");
        return -1;
    }
    /* init_agent() resets the ping interval: set it afterwards, before init_snmp(). */
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                       (int)ping);
    if (mib_init(on_start) < 0)
        return -1;
    init_snmp("ipsecdiagtool");
    agent_connected();
    return 0;
}

int agent_connected(void)
{
    int c = main_session != NULL;
    if (c != g_was_connected) {
        if (c)
            log_notice("connected to the master agent at %s", g_socket);
        else if (g_was_connected == 1)
            log_warn("lost the master agent at %s; reconnecting every ping interval", g_socket);
        else
            log_warn("master agent at %s not reachable; retrying every ping interval", g_socket);
        g_was_connected = c;
    }
    return c;
}

int agent_poll(const int *extra, int nextra, int max_ms, unsigned *ready)
{
    int numfds = 0, block = 0;
    fd_set fds;
    struct timeval tv = { .tv_sec = max_ms / 1000, .tv_usec = (max_ms % 1000) * 1000 };

    FD_ZERO(&fds);
    snmp_select_info(&numfds, &fds, &tv, &block);
    for (int i = 0; i < nextra; i++) {
        if (extra[i] < 0)
            continue;
        FD_SET(extra[i], &fds);
        if (extra[i] >= numfds)
            numfds = extra[i] + 1;
    }
    int n = select(numfds, &fds, NULL, NULL, &tv);
    int got = 0;
    *ready = 0;
    if (n > 0) {
        for (int i = 0; i < nextra; i++) {
            if (extra[i] >= 0 && FD_ISSET(extra[i], &fds)) {
                *ready |= 1u << i;
                FD_CLR(extra[i], &fds);
                got++;
            }
        }
        if (n > got)
            snmp_read(&fds);
    } else if (n == 0) {
        snmp_timeout();
    } else if (errno != EINTR) {
        log_err("select: %s", strerror(errno));
    }
    run_alarms();
    netsnmp_check_outstanding_agent_requests();
    agent_connected();
    return got;
}

void agent_send_notification(netsnmp_variable_list *vars)
{
    send_v2trap(vars);
}

void agent_shutdown(void)
{
    mib_shutdown();
    snmp_shutdown("ipsecdiagtool");
    shutdown_agent();
}
