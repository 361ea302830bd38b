/* notify.c - build and send the IPSECDIAG-MIB notifications.  Varbinds
 * carry full instance OIDs (column OID + tunnel index). */
#include "idt_build.h"
#include "agent.h"
#include "mib.h"
#include "mib_oids.h"
#include "notify.h"
#include "tunnel_table.h"
#include "log.h"

#include <string.h>

static int g_enabled = 1;

void notify_set_enabled(int enabled)
{
    g_enabled = enabled;
}

static const oid snmptrap_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };

static int ready(const char *what)
{
    if (!g_enabled)
        return 0;
    if (!agent_connected()) {
        log_info("notification %s not sent: the master agent is unreachable", what);
        return 0;
    }
    return 1;
}

static void add_trap_oid(netsnmp_variable_list **vars, unsigned notif)
{
    oid n[] = { IDT_OID_NOTIFICATIONS, 0 };
    n[IDT_OID_NOTIFICATIONS_LEN] = notif;
    snmp_varlist_add_variable(vars, snmptrap_oid, OID_LENGTH(snmptrap_oid), ASN_OBJECT_ID,
                              (const u_char *)n, sizeof n);
}

static void add_col(netsnmp_variable_list **vars, unsigned col, uint32_t index, u_char type,
                    const void *val, size_t len)
{
    oid o[] = { IDT_OID_TUNNEL_ENTRY, 0, 0 };
    o[IDT_OID_TUNNEL_ENTRY_LEN] = col;
    o[IDT_OID_TUNNEL_ENTRY_LEN + 1] = index;
    snmp_varlist_add_variable(vars, o, OID_LENGTH(o), type, val, len);
}

static void add_c64(netsnmp_variable_list **vars, unsigned col, uint32_t index, uint64_t v)
{
    struct counter64 c = { .high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu) };
    add_col(vars, col, index, ASN_COUNTER64, &c, sizeof c);
}

static void add_u32(netsnmp_variable_list **vars, unsigned col, uint32_t index, u_char type,
                    uint32_t v)
{
    u_long u = v;
    add_col(vars, col, index, type, &u, sizeof u);
}

static void add_name(netsnmp_variable_list **vars, const struct msg *m)
{
    add_col(vars, IDT_COL_TUNNEL_NAME, m->index, ASN_OCTET_STR, m->name, strlen(m->name));
}

static void add_remote(netsnmp_variable_list **vars, const struct msg *m)
{
    long type = m->remote.family == 6 ? IDT_INET_ADDR_TYPE_IPV6 : IDT_INET_ADDR_TYPE_IPV4;
    add_col(vars, IDT_COL_TUNNEL_REMOTEADDRTYPE, m->index, ASN_INTEGER, &type, sizeof type);
    add_col(vars, IDT_COL_TUNNEL_REMOTEADDR, m->index, ASN_OCTET_STR, m->remote.a,
            m->remote.family == 6 ? 16 : 4);
}

int notify_tunnel_state(const struct msg *m)
{
    int idle = m->event == TUNNEL_IDLE;
    if (!ready(idle ? "ipsecDiagTunnelIdle" : "ipsecDiagTunnelActive"))
        return 0;
    netsnmp_variable_list *vars = NULL;
    add_trap_oid(&vars, idle ? IDT_NOTIF_TUNNELIDLE : IDT_NOTIF_TUNNELACTIVE);
    add_name(&vars, m);
    long st = mib_tunnel_state(m->event);
    add_col(&vars, IDT_COL_TUNNEL_STATE, m->index, ASN_INTEGER, &st, sizeof st);
    add_u32(&vars, IDT_COL_TUNNEL_LASTSEEN, m->index, ASN_TIMETICKS,
            m->last_seen_us ? mib_timestamp(m->last_seen_us) : 0);
    add_remote(&vars, m);
    agent_send_notification(vars);
    snmp_free_varbind(vars);
    return 1;
}

int notify_tunnel_ike(const struct msg *m)
{
    int up = m->event == IDT_IKE_STATE_ESTABLISHED || m->event == IDT_IKE_STATE_REKEYING;
    if (!ready(up ? "ipsecDiagTunnelUp" : "ipsecDiagTunnelDown"))
        return 0;
    netsnmp_variable_list *vars = NULL;
    add_trap_oid(&vars, up ? IDT_NOTIF_TUNNELUP : IDT_NOTIF_TUNNELDOWN);
    add_name(&vars, m);
    long st = m->event;
    add_col(&vars, IDT_COL_TUNNEL_IKESTATE, m->index, ASN_INTEGER, &st, sizeof st);
    long type = m->local.family == 6 ? IDT_INET_ADDR_TYPE_IPV6 : IDT_INET_ADDR_TYPE_IPV4;
    add_col(&vars, IDT_COL_TUNNEL_LOCALADDRTYPE, m->index, ASN_INTEGER, &type, sizeof type);
    add_col(&vars, IDT_COL_TUNNEL_LOCALADDR, m->index, ASN_OCTET_STR, m->local.a,
            m->local.family == 6 ? 16 : 4);
    add_remote(&vars, m);
    agent_send_notification(vars);
    snmp_free_varbind(vars);
    return 1;
}

int notify_loss(const struct msg *m, int exceeded)
{
    if (!ready(exceeded ? "ipsecDiagLossThresholdExceeded" : "ipsecDiagLossThresholdCleared"))
        return 0;
    netsnmp_variable_list *vars = NULL;
    add_trap_oid(&vars, exceeded ? IDT_NOTIF_LOSSTHRESHOLDEXCEEDED : IDT_NOTIF_LOSSTHRESHOLDCLEARED);
    add_name(&vars, m);
    add_c64(&vars, IDT_COL_TUNNEL_LOSTPKTS, m->index, m->total_lost);
    add_u32(&vars, IDT_COL_TUNNEL_INTERVALLOSTPKTS, m->index, ASN_GAUGE,
            m->lost > UINT32_MAX ? UINT32_MAX : (uint32_t)m->lost);
    add_u32(&vars, IDT_COL_TUNNEL_LOSSRATE, m->index, ASN_UNSIGNED, m->rate_ppm);
    /* additional varbinds (the MIB's DESCRIPTION lists them) */
    long crit = mib_alarm_criterion(m->criterion);
    add_col(&vars, IDT_COL_TUNNEL_ALARMCRITERION, m->index, ASN_INTEGER, &crit, sizeof crit);
    add_u32(&vars, IDT_COL_TUNNEL_ALERTLOST, m->index, ASN_UNSIGNED, m->threshold);
    add_u32(&vars, IDT_COL_TUNNEL_ALERTLOSSRATE, m->index, ASN_UNSIGNED, m->threshold_ppm);
    add_u32(&vars, IDT_COL_TUNNEL_ALERTINTERVAL, m->index, ASN_UNSIGNED, m->interval_s);
    add_u32(&vars, IDT_COL_TUNNEL_INTERVALINPKTS, m->index, ASN_GAUGE,
            m->received > UINT32_MAX ? UINT32_MAX : (uint32_t)m->received);
    add_remote(&vars, m);
    add_c64(&vars, IDT_COL_TUNNEL_LOSTWHILEDROPPING, m->index, m->lost_while_dropping);
    add_u32(&vars, IDT_COL_TUNNEL_ALARMREMINDERS, m->index, ASN_GAUGE, m->reminders);
    agent_send_notification(vars);
    snmp_free_varbind(vars);
    return 1;
}

int notify_mtu(const struct msg *m)
{
    if (!ready(m->ok ? "ipsecDiagMtuDiscoveryCompleted" : "ipsecDiagMtuDiscoveryFailed"))
        return 0;
    netsnmp_variable_list *vars = NULL;
    add_trap_oid(&vars, m->ok ? IDT_NOTIF_MTUDISCOVERYCOMPLETED : IDT_NOTIF_MTUDISCOVERYFAILED);
    add_name(&vars, m);
    if (m->ok) {
        add_u32(&vars, IDT_COL_TUNNEL_MTU, m->index, ASN_UNSIGNED, m->mtu);
    } else {
        /* the MIB's objects, then the reason as an additional varbind */
        long st = IDT_MTU_STATUS_FAILED, why = mib_mtu_fail_reason(m->fail);
        add_col(&vars, IDT_COL_TUNNEL_MTUSTATUS, m->index, ASN_INTEGER, &st, sizeof st);
        add_col(&vars, IDT_COL_TUNNEL_MTUFAILREASON, m->index, ASN_INTEGER, &why, sizeof why);
    }
    agent_send_notification(vars);
    snmp_free_varbind(vars);
    return 1;
}

static void add_scalar_c64(netsnmp_variable_list **vars, unsigned scalar, uint64_t v)
{
    oid o[] = { IDT_OID_GLOBALS, 0, 0 };
    o[IDT_OID_GLOBALS_LEN] = scalar;
    struct counter64 c = { .high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu) };
    snmp_varlist_add_variable(vars, o, OID_LENGTH(o), ASN_COUNTER64, &c, sizeof c);
}

static void add_scalar_gauge(netsnmp_variable_list **vars, unsigned scalar, uint32_t v)
{
    oid o[] = { IDT_OID_GLOBALS, 0, 0 };
    o[IDT_OID_GLOBALS_LEN] = scalar;
    u_long u = v;
    snmp_varlist_add_variable(vars, o, OID_LENGTH(o), ASN_GAUGE, &u, sizeof u);
}

int notify_sa_pressure(const struct msg *m)
{
    if (!ready("ipsecDiagSaTablePressure"))
        return 0;
    netsnmp_variable_list *vars = NULL;
    add_trap_oid(&vars, IDT_NOTIF_SATABLEPRESSURE);
    add_scalar_c64(&vars, IDT_SCALAR_EVICTEDSAS, m->evicted);
    add_scalar_c64(&vars, IDT_SCALAR_UNTRACKEDSAS, m->refused);
    add_scalar_gauge(&vars, IDT_SCALAR_TENTATIVESAS, m->tentative_sas);
    add_scalar_gauge(&vars, IDT_SCALAR_ACTIVESAS, m->active_sas);
    agent_send_notification(vars);
    snmp_free_varbind(vars);
    return 1;
}

int notify_dropping(const struct msg *m)
{
    int cleared = m->type == MSG_DROPPING_CLEARED;
    if (!ready(cleared ? "ipsecDiagCaptureDroppingCleared" : "ipsecDiagCaptureDropping"))
        return 0;
    netsnmp_variable_list *vars = NULL;
    add_trap_oid(&vars, cleared ? IDT_NOTIF_CAPTUREDROPPINGCLEARED : IDT_NOTIF_CAPTUREDROPPING);
    oid drops[] = { IDT_OID_GLOBALS, IDT_SCALAR_CAPTUREDROPS, 0 };
    oid capd[] = { IDT_OID_GLOBALS, IDT_SCALAR_CAPTUREDPKTS, 0 };
    struct counter64 d = { .high = (u_long)(m->drops >> 32), .low = (u_long)(m->drops & 0xffffffffu) };
    struct counter64 c = { .high = (u_long)(m->captured >> 32),
                           .low = (u_long)(m->captured & 0xffffffffu) };
    snmp_varlist_add_variable(&vars, drops, OID_LENGTH(drops), ASN_COUNTER64, &d, sizeof d);
    snmp_varlist_add_variable(&vars, capd, OID_LENGTH(capd), ASN_COUNTER64, &c, sizeof c);
    agent_send_notification(vars);
    snmp_free_varbind(vars);
    return 1;
}

int notify_dropping_cleared(const struct msg *m)
{
    return notify_dropping(m);      /* the message type selects the notification */
}
