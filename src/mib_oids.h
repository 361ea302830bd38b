/* mib_oids.h - OID arcs, column numbers and enumerated values of
 * IPSECDIAG-MIB (mibs/IPSECDIAG-MIB.txt).  Header only, no dependencies:
 * every number here must match the MIB, which tests/mib_lint.sh checks
 * against Net-SNMP's view of the module.
 *
 * The root OID is written exactly once, in IDT_MIB_ROOT.  It is a
 * provisional arc (netSnmpPlaypen 4500 in the MIB's
 * MODULE-IDENTITY).  To move the MIB under your own Private Enterprise
 * Number, change IDT_MIB_ROOT and IDT_MIB_ROOT_LEN here, the value
 * clause of the MODULE-IDENTITY in the MIB, and ROOT in
 * tests/mib_lint.sh; everything else is relative to the root.
 *
 * Naming: the descriptor without its "ipsecDiag" prefix (and without
 * "Tunnel" / "Sa" for columns), upper-cased:
 *   ipsecDiagTunnelLostPkts  -> IDT_COL_TUNNEL_LOSTPKTS
 *   ipsecDiagSaHighestSeq    -> IDT_COL_SA_HIGHESTSEQ
 *   ipsecDiagEspPkts         -> IDT_SCALAR_ESPPKTS
 *   ipsecDiagMtuDiscoveryCompleted -> IDT_NOTIF_MTUDISCOVERYCOMPLETED
 *
 * Usage (Net-SNMP):
 *   static const oid globals[] = { IDT_OID_GLOBALS };
 *   netsnmp_create_handler_registration(..., globals, IDT_OID_GLOBALS_LEN, ...);
 *   static const oid trap[] = { IDT_OID_NOTIFICATIONS,
 *                               IDT_NOTIF_LOSSTHRESHOLDEXCEEDED };
 *   ... OID_LENGTH(trap) or IDT_OID_NOTIFICATIONS_LEN + 1
 */
#ifndef IDT_MIB_OIDS_H
#define IDT_MIB_OIDS_H

/* ------------------------------------------------------------ root */

/* ipsecDiagMIB: the ONLY place the root OID is written in the sources. */
#define IDT_MIB_ROOT      1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 4500
#define IDT_MIB_ROOT_LEN  10

/* ------------------------------------------------------------ arcs */

/* under ipsecDiagMIB */
#define IDT_NOTIFICATIONS_ARC  0   /* ipsecDiagNotifications */
#define IDT_OBJECTS_ARC        1   /* ipsecDiagObjects */
#define IDT_CONFORMANCE_ARC    2   /* ipsecDiagConformance */

/* under ipsecDiagObjects */
#define IDT_GLOBALS_ARC        1   /* ipsecDiagGlobals */
#define IDT_TUNNEL_TABLE_ARC   2   /* ipsecDiagTunnelTable */
#define IDT_SA_TABLE_ARC       3   /* ipsecDiagSaTable */

/* the Entry of every table */
#define IDT_ENTRY_ARC          1

/* under ipsecDiagConformance */
#define IDT_COMPLIANCES_ARC    1   /* ipsecDiagCompliances */
#define IDT_GROUPS_ARC         2   /* ipsecDiagGroups */

/* Full prefixes (comma lists, for oid array initialisers). */
#define IDT_OID_NOTIFICATIONS      IDT_MIB_ROOT, IDT_NOTIFICATIONS_ARC
#define IDT_OID_NOTIFICATIONS_LEN  (IDT_MIB_ROOT_LEN + 1)

#define IDT_OID_OBJECTS            IDT_MIB_ROOT, IDT_OBJECTS_ARC
#define IDT_OID_OBJECTS_LEN        (IDT_MIB_ROOT_LEN + 1)

#define IDT_OID_GLOBALS            IDT_OID_OBJECTS, IDT_GLOBALS_ARC
#define IDT_OID_GLOBALS_LEN        (IDT_MIB_ROOT_LEN + 2)

#define IDT_OID_TUNNEL_TABLE       IDT_OID_OBJECTS, IDT_TUNNEL_TABLE_ARC
#define IDT_OID_TUNNEL_TABLE_LEN   (IDT_MIB_ROOT_LEN + 2)
#define IDT_OID_TUNNEL_ENTRY       IDT_OID_TUNNEL_TABLE, IDT_ENTRY_ARC
#define IDT_OID_TUNNEL_ENTRY_LEN   (IDT_MIB_ROOT_LEN + 3)

#define IDT_OID_SA_TABLE           IDT_OID_OBJECTS, IDT_SA_TABLE_ARC
#define IDT_OID_SA_TABLE_LEN       (IDT_MIB_ROOT_LEN + 2)
#define IDT_OID_SA_ENTRY           IDT_OID_SA_TABLE, IDT_ENTRY_ARC
#define IDT_OID_SA_ENTRY_LEN       (IDT_MIB_ROOT_LEN + 3)

/* ------------------------------------------------------------ notifications */
/* ipsecDiagNotifications.N; the varbinds each one carries, in order,
 * are listed next to it (tunnel objects are instances of that tunnel). */

/* TunnelName, TunnelLostPkts, TunnelIntervalLostPkts, TunnelLossRate;
 * then (additional varbinds) TunnelAlarmCriterion, TunnelAlertLost,
 * TunnelAlertLossRate, TunnelAlertInterval, TunnelIntervalInPkts,
 * TunnelRemoteAddrType, TunnelRemoteAddr, TunnelLostWhileDropping,
 * TunnelAlarmReminders */
#define IDT_NOTIF_LOSSTHRESHOLDEXCEEDED   1
#define IDT_NOTIF_LOSSTHRESHOLDCLEARED    2
/* TunnelName, TunnelMtu */
#define IDT_NOTIF_MTUDISCOVERYCOMPLETED   3
/* TunnelName, TunnelMtuStatus */
#define IDT_NOTIF_MTUDISCOVERYFAILED      4
/* CaptureDrops, CapturedPkts (scalars, instance .0) */
#define IDT_NOTIF_CAPTUREDROPPING         5
/* EvictedSAs, UntrackedSAs, TentativeSAs, ActiveSAs (scalars, instance .0) */
#define IDT_NOTIF_SATABLEPRESSURE         6
/* TunnelName, TunnelState, TunnelLastSeen, TunnelRemoteAddrType, TunnelRemoteAddr */
#define IDT_NOTIF_TUNNELIDLE              10
#define IDT_NOTIF_TUNNELACTIVE            11
/* CaptureDrops, CapturedPkts (scalars, instance .0) */
#define IDT_NOTIF_CAPTUREDROPPINGCLEARED  12
/* TunnelName, TunnelIkeState, TunnelLocalAddrType, TunnelLocalAddr,
 * TunnelRemoteAddrType, TunnelRemoteAddr */
#define IDT_NOTIF_TUNNELUP                13
#define IDT_NOTIF_TUNNELDOWN              14

/* ------------------------------------------------------------ scalars */
/* ipsecDiagGlobals.N (instance N.0) */

#define IDT_SCALAR_CAPTUREDPKTS        1   /* Counter64 */
#define IDT_SCALAR_ESPPKTS             2   /* Counter64 */
#define IDT_SCALAR_MALFORMEDPKTS       3   /* Counter64 */
#define IDT_SCALAR_CAPTUREDROPS        4   /* Counter64, pcap_stats drops */
#define IDT_SCALAR_ACTIVESAS           5   /* Gauge32 */
#define IDT_SCALAR_REPLAYWINDOW        6   /* Unsigned32 (32..4096) */
#define IDT_SCALAR_MTUDISCOVERALL      7   /* INTEGER idle/start, read-write */
#define IDT_SCALAR_UNTRACKEDSAS        8   /* Counter64 */
#define IDT_SCALAR_IGNOREDPKTS         9   /* Counter64 */
#define IDT_SCALAR_CAPTUREISDROPPING  10   /* TruthValue */
#define IDT_SCALAR_UNTRACKEDTUNNELS   11   /* Counter64 */
#define IDT_SCALAR_COUNTERDISCONTINUITYTIME 12   /* TimeStamp */
#define IDT_SCALAR_TENTATIVESAS       13   /* Gauge32 */
#define IDT_SCALAR_EVICTEDSAS         14   /* Counter64 */
#define IDT_SCALAR_SATABLEUNDERPRESSURE 15 /* TruthValue */
#define IDT_SCALAR_RESERVEDSAS        16   /* Gauge32 */

#define IDT_SCALAR_MIN  IDT_SCALAR_CAPTUREDPKTS
#define IDT_SCALAR_MAX  IDT_SCALAR_RESERVEDSAS

/* ------------------------------------------------------------ tunnel table */
/* ipsecDiagTunnelEntry.C.<ipsecDiagTunnelIndex> */

#define IDT_COL_TUNNEL_INDEX                1   /* Unsigned32, not-accessible */
#define IDT_COL_TUNNEL_NAME                 2   /* SnmpAdminString (SIZE(1..63)) */
#define IDT_COL_TUNNEL_ORIGIN               3   /* INTEGER configured/discovered */
#define IDT_COL_TUNNEL_LOCALADDRTYPE        4   /* InetAddressType */
#define IDT_COL_TUNNEL_LOCALADDR            5   /* InetAddress */
#define IDT_COL_TUNNEL_REMOTEADDRTYPE       6   /* InetAddressType */
#define IDT_COL_TUNNEL_REMOTEADDR           7   /* InetAddress */
#define IDT_COL_TUNNEL_ACTIVESAS            8   /* Gauge32 */
#define IDT_COL_TUNNEL_INPKTS               9   /* Counter64 */
#define IDT_COL_TUNNEL_LOSTPKTS            10   /* Counter64 */
#define IDT_COL_TUNNEL_LATEPKTS            11   /* Counter64 */
#define IDT_COL_TUNNEL_DUPLICATEPKTS       12   /* Counter64 */
#define IDT_COL_TUNNEL_REORDEREDPKTS       13   /* Counter64 */
#define IDT_COL_TUNNEL_LOSSRATE            14   /* Unsigned32 (0..1000000) ppm */
#define IDT_COL_TUNNEL_LOSSALARM           15   /* INTEGER normal/alarm */
#define IDT_COL_TUNNEL_DISCONTINUITYTIME   16   /* TimeStamp */
#define IDT_COL_TUNNEL_MTUSTATUS           17   /* INTEGER, IDT_MTU_STATUS_* */
#define IDT_COL_TUNNEL_MTU                 18   /* Unsigned32 (0..65535), 0 = unknown */
#define IDT_COL_TUNNEL_MTULASTRUN          19   /* TimeStamp */
#define IDT_COL_TUNNEL_MTUPROBESSENT       20   /* Counter32 */
#define IDT_COL_TUNNEL_MTUDISCOVER         21   /* INTEGER idle/start, read-write */
#define IDT_COL_TUNNEL_INTERVALLOSTPKTS    22   /* Gauge32 */
#define IDT_COL_TUNNEL_LOSTWHILEDROPPING   23   /* Counter64 */
#define IDT_COL_TUNNEL_MTULASTSUCCESS      24   /* TimeStamp */
#define IDT_COL_TUNNEL_MTURUNS             25   /* Counter32 */
#define IDT_COL_TUNNEL_MTUFAILURES         26   /* Counter32 */
#define IDT_COL_TUNNEL_MTUFAILREASON       27   /* INTEGER, IDT_MTU_FAIL_* */
#define IDT_COL_TUNNEL_MTUTARGETADDRTYPE   28   /* InetAddressType */
#define IDT_COL_TUNNEL_MTUTARGETADDR       29   /* InetAddress */
#define IDT_COL_TUNNEL_SUSPECTPKTS         30   /* Counter64 */
#define IDT_COL_TUNNEL_TENTATIVESAS        31   /* Gauge32 */
#define IDT_COL_TUNNEL_EVICTEDSAS          32   /* Counter64 */
#define IDT_COL_TUNNEL_REFUSEDPKTS         33   /* Counter64 */
/* 34..39 unassigned; 40.. readable text forms (ipsecDiagReadableGroup) */
#define IDT_COL_TUNNEL_LOCALADDRTEXT       40   /* SnmpAdminString, inet_ntop */
#define IDT_COL_TUNNEL_REMOTEADDRTEXT      41   /* SnmpAdminString, inet_ntop */
#define IDT_COL_TUNNEL_MTUTARGETADDRTEXT   42   /* SnmpAdminString, "" without mtu */
/* 43..49 unassigned; 50.. both directions, state, alert settings */
#define IDT_COL_TUNNEL_OUTPKTS             50   /* Counter64 */
#define IDT_COL_TUNNEL_OUTLOSTPKTS         51   /* Counter64 */
#define IDT_COL_TUNNEL_OUTLATEPKTS         52   /* Counter64 */
#define IDT_COL_TUNNEL_OUTDUPLICATEPKTS    53   /* Counter64 */
#define IDT_COL_TUNNEL_OUTREORDEREDPKTS    54   /* Counter64 */
#define IDT_COL_TUNNEL_OUTSUSPECTPKTS      55   /* Counter64 */
#define IDT_COL_TUNNEL_INOCTETS            56   /* Counter64 */
#define IDT_COL_TUNNEL_OUTOCTETS           57   /* Counter64 */
#define IDT_COL_TUNNEL_STATE               58   /* INTEGER, IDT_TUNNEL_STATE_* */
#define IDT_COL_TUNNEL_LASTSEEN            59   /* TimeStamp */
#define IDT_COL_TUNNEL_IDLETIMEOUT         60   /* Unsigned32 seconds */
#define IDT_COL_TUNNEL_STATEALERTS         61   /* TruthValue */
#define IDT_COL_TUNNEL_SASSEEN             62   /* Counter32 */
#define IDT_COL_TUNNEL_NEWESTSAFIRSTSEEN   63   /* TimeStamp */
#define IDT_COL_TUNNEL_ALERTLOST           64   /* Unsigned32 */
#define IDT_COL_TUNNEL_ALERTLOSSRATE       65   /* Unsigned32 ppm */
#define IDT_COL_TUNNEL_ALERTINTERVAL       66   /* Unsigned32 seconds */
#define IDT_COL_TUNNEL_ALERTMINPKTS        67   /* Unsigned32 */
#define IDT_COL_TUNNEL_ALERTSENABLED       68   /* TruthValue */
#define IDT_COL_TUNNEL_ALARMCRITERION      69   /* INTEGER, IDT_ALARM_CRITERION_* */
#define IDT_COL_TUNNEL_INTERVALINPKTS      70   /* Gauge32 */
#define IDT_COL_TUNNEL_ALARMREMINDERS      71   /* Gauge32 */
/* IKE (ipsecDiagIkeGroup) */
#define IDT_COL_TUNNEL_IKESTATE            72   /* INTEGER, IDT_IKE_STATE_* */
#define IDT_COL_TUNNEL_IKEREKEYS           73   /* Counter64 */
#define IDT_COL_TUNNEL_CHILDREKEYS         74   /* Counter64 */
#define IDT_COL_TUNNEL_GATEWAYDROPPKTS     75   /* Counter64 */

#define IDT_COL_TUNNEL_MIN  IDT_COL_TUNNEL_NAME   /* first accessible column */
#define IDT_COL_TUNNEL_MAX  IDT_COL_TUNNEL_GATEWAYDROPPKTS

#define IDT_TUNNEL_INDEX_LEN  1     /* sub-identifiers in a row index */

/* ------------------------------------------------------------ SA table */
/* ipsecDiagSaEntry.C.<ipsecDiagTunnelIndex>.<ipsecDiagSaDirection>.<ipsecDiagSaSpi> */

#define IDT_COL_SA_DIRECTION          1   /* INTEGER inbound/outbound, not-accessible */
#define IDT_COL_SA_SPI                2   /* Unsigned32 (256..4294967295), not-accessible */
#define IDT_COL_SA_ENCAP              3   /* INTEGER esp/udpEsp */
#define IDT_COL_SA_SRCADDRTYPE        4   /* InetAddressType */
#define IDT_COL_SA_SRCADDR            5   /* InetAddress */
#define IDT_COL_SA_DSTADDRTYPE        6   /* InetAddressType */
#define IDT_COL_SA_DSTADDR            7   /* InetAddress */
#define IDT_COL_SA_PKTS               8   /* Counter64 */
#define IDT_COL_SA_LOSTPKTS           9   /* Counter64 */
#define IDT_COL_SA_LATEPKTS          10   /* Counter64 */
#define IDT_COL_SA_DUPLICATEPKTS     11   /* Counter64 */
#define IDT_COL_SA_REORDEREDPKTS     12   /* Counter64 */
#define IDT_COL_SA_HIGHESTSEQ        13   /* Counter64, ESN-inferred 64-bit seq */
#define IDT_COL_SA_FIRSTSEEN         14   /* TimeStamp */
#define IDT_COL_SA_LASTSEEN          15   /* TimeStamp */
#define IDT_COL_SA_SUSPECTPKTS       16   /* Counter64 */
/* 17..19 unassigned */
#define IDT_COL_SA_OCTETS            20   /* Counter64 */
/* 21..29 unassigned; 30.. readable text forms (ipsecDiagReadableGroup) */
#define IDT_COL_SA_SRCADDRTEXT       30   /* SnmpAdminString, inet_ntop */
#define IDT_COL_SA_DSTADDRTEXT       31   /* SnmpAdminString, inet_ntop */
#define IDT_COL_SA_SPIHEX            32   /* SnmpAdminString "0x%08x" */
/* IKE (ipsecDiagIkeGroup) */
#define IDT_COL_SA_IKENAME           33   /* SnmpAdminString, "ike/child" or "" */
#define IDT_COL_SA_GATEWAYDROPPKTS   34   /* Counter64 */

#define IDT_COL_SA_MIN  IDT_COL_SA_ENCAP      /* first accessible column */
#define IDT_COL_SA_MAX  IDT_COL_SA_GATEWAYDROPPKTS

#define IDT_SA_INDEX_LEN  3         /* tunnel index, direction, SPI */

/* ------------------------------------------------------------ conformance */

#define IDT_COMPLIANCE_FULL            1   /* ipsecDiagCompliance */

#define IDT_GROUP_GLOBALS              1   /* ipsecDiagGlobalsGroup */
#define IDT_GROUP_TUNNEL               2   /* ipsecDiagTunnelGroup */
#define IDT_GROUP_SA                   3   /* ipsecDiagSaGroup */
#define IDT_GROUP_MTU                  4   /* ipsecDiagMtuGroup */
#define IDT_GROUP_NOTIFICATIONS        5   /* ipsecDiagNotificationsGroup */
#define IDT_GROUP_SUSPECT              8   /* ipsecDiagSuspectGroup */
#define IDT_GROUP_SATABLEPOLICY        9   /* ipsecDiagSaTablePolicyGroup */
#define IDT_GROUP_SATABLENOTIFICATIONS 10  /* ipsecDiagSaTableNotificationsGroup */
#define IDT_GROUP_TRAFFIC              20  /* ipsecDiagTrafficGroup */
#define IDT_GROUP_TUNNELSTATE          21  /* ipsecDiagTunnelStateGroup */
#define IDT_GROUP_ALERTSETTINGS        22  /* ipsecDiagAlertSettingsGroup */
#define IDT_GROUP_SAOCTETS             23  /* ipsecDiagSaOctetsGroup */
#define IDT_GROUP_STATENOTIFICATIONS   24  /* ipsecDiagStateNotificationsGroup */
#define IDT_GROUP_IKE                  25  /* ipsecDiagIkeGroup */
#define IDT_GROUP_IKENOTIFICATIONS     26  /* ipsecDiagIkeNotificationsGroup */

/* ------------------------------------------------------------ values */

/* ipsecDiagMtuDiscoverAll, ipsecDiagTunnelMtuDiscover: read idle;
 * SET start starts discovery; SET idle -> wrongValue; start with nothing
 * configured -> inconsistentValue, with the prober down ->
 * resourceUnavailable. */
#define IDT_MTU_DISCOVER_IDLE          1
#define IDT_MTU_DISCOVER_START         2

/* ipsecDiagTunnelOrigin */
#define IDT_ORIGIN_CONFIGURED          1
#define IDT_ORIGIN_DISCOVERED          2

/* ipsecDiagTunnelLossAlarm */
#define IDT_LOSS_ALARM_NORMAL          1
#define IDT_LOSS_ALARM_ALARM           2

/* ipsecDiagTunnelState (same values as enum tunnel_state) */
#define IDT_TUNNEL_STATE_NEVERSEEN     1
#define IDT_TUNNEL_STATE_ACTIVE        2
#define IDT_TUNNEL_STATE_IDLE          3

/* ipsecDiagTunnelIkeState (same values as enum tunnel_ike_state) */
#define IDT_IKE_STATE_NONE             1
#define IDT_IKE_STATE_CONNECTING       2
#define IDT_IKE_STATE_ESTABLISHED      3
#define IDT_IKE_STATE_REKEYING         4
#define IDT_IKE_STATE_DELETING         5
#define IDT_IKE_STATE_DOWN             6

/* ipsecDiagTunnelAlarmCriterion */
#define IDT_ALARM_CRITERION_NONE       1
#define IDT_ALARM_CRITERION_LOSTPKTS   2
#define IDT_ALARM_CRITERION_LOSSRATE   3
#define IDT_ALARM_CRITERION_BOTH       4

/* ipsecDiagTunnelMtuStatus */
#define IDT_MTU_STATUS_NEVERRUN        1
#define IDT_MTU_STATUS_RUNNING         2
#define IDT_MTU_STATUS_SUCCEEDED       3
#define IDT_MTU_STATUS_FAILED          4
#define IDT_MTU_STATUS_NOTCONFIGURED   5

/* ipsecDiagTunnelMtuFailReason */
#define IDT_MTU_FAIL_NONE              1
#define IDT_MTU_FAIL_NOREPLY           2
#define IDT_MTU_FAIL_NOTARGET          3
#define IDT_MTU_FAIL_PROBERUNAVAILABLE 4
#define IDT_MTU_FAIL_SENDERROR         5
#define IDT_MTU_FAIL_LOCALLIMIT        6
#define IDT_MTU_FAIL_NOSTABLEANSWER    7
#define IDT_MTU_FAIL_SOCKETERROR       8
#define IDT_MTU_FAIL_BADPARAMETERS     9

/* ipsecDiagSaDirection (same values as sa_entry.direction) */
#define IDT_SA_DIR_INBOUND             1
#define IDT_SA_DIR_OUTBOUND            2

/* ipsecDiagSaEncap (same values as enum esp_encap) */
#define IDT_SA_ENCAP_ESP               1
#define IDT_SA_ENCAP_UDPESP            2

/* TruthValue (SNMPv2-TC), for ipsecDiagCaptureIsDropping */
#define IDT_TRUTH_TRUE                 1
#define IDT_TRUTH_FALSE                2

/* InetAddressType (INET-ADDRESS-MIB); InetAddress is 4 or 16 octets
 * (0 octets with unknown) */
#define IDT_INET_ADDR_TYPE_UNKNOWN     0
#define IDT_INET_ADDR_TYPE_IPV4        1
#define IDT_INET_ADDR_TYPE_IPV6        2

/* ------------------------------------------------------------ ranges */

#define IDT_TUNNEL_INDEX_MIN      1u
#define IDT_TUNNEL_INDEX_MAX      4294967295u
#define IDT_TUNNEL_NAME_MAXLEN    63        /* ipsecDiagTunnelName SIZE(1..63) */
#define IDT_SA_SPI_MIN            256u      /* ipsecDiagSaSpi (256..4294967295) */
#define IDT_SA_SPI_MAX            4294967295u
#define IDT_REPLAY_WINDOW_MIN     32u       /* ipsecDiagReplayWindow */
#define IDT_REPLAY_WINDOW_MAX     4096u
#define IDT_LOSS_RATE_MAX         1000000u  /* ipsecDiagTunnelLossRate, ppm */
#define IDT_TUNNEL_MTU_MAX        65535u    /* ipsecDiagTunnelMtu, bytes */

#endif /* IDT_MIB_OIDS_H */
