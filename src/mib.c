/* mib.c - the IPSECDIAG-MIB objects: globals, tunnel table and SA table,
 * read from the current snapshot; MTU columns from the agent's own state. */
#include "idt_build.h"
#include "mib.h"
#include "mib_oids.h"
#include "mib_table.h"
#include "probe.h"
#include "snapshot.h"
#include "log.h"
#include "clock.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The MTU discovery state of one configured tunnel.  Times are what
 * mib_timestamp() takes; 0 = never. */
struct mtu_row {
    uint32_t index;
    char name[IDT_NAME_MAX];
    int has_mtu;
    struct idt_addr target;     /* mtu.target (has_mtu only) */
    int status;                 /* IDT_MTU_STATUS_* */
    int fail;                   /* IDT_MTU_FAIL_* of the most recent ended run */
    uint32_t mtu;
    uint32_t probes;            /* all runs, including the running one so far */
    uint32_t probes_done;       /* the runs that have ended */
    uint32_t runs, failures;
    uint64_t last_run_us, last_success_us;
};

static struct mtu_row *g_mtu;
static size_t g_nmtu;
static mib_mtu_start_fn g_on_start;
static int g_prober_ok = 1;
static uint64_t g_counters_start_us;

void mib_set_counters_start(uint64_t mono_us)
{
    g_counters_start_us = mono_us;
}

/* The master's sysUpTime at a monotonic instant.  Net-SNMP re-synchronises
 * the subagent's uptime with the master's at every AgentX session open;
 * from it follows the monotonic instant at which the master's uptime was
 * 0.  Reading the uptime truncates it to centiseconds, so a new estimate
 * of that instant is adopted only when it moves by more than 20 ms (a
 * resynchronisation): a TimeStamp read twice is the same number. */
static uint64_t g_master_zero_us;

uint32_t mib_timestamp(uint64_t mono_us)
{
    if (!mono_us)
        return 0;
    uint64_t up_us = (uint64_t)netsnmp_get_agent_uptime() * 10000ULL;
    uint64_t now = idt_mono_us();
    uint64_t zero = now > up_us ? now - up_us : 0;
    uint64_t d = zero > g_master_zero_us ? zero - g_master_zero_us : g_master_zero_us - zero;
    if (d > 20000ULL)
        g_master_zero_us = zero;
    if (mono_us <= g_master_zero_us)
        return 0;
    uint64_t cs = (mono_us - g_master_zero_us) / 10000ULL;
    return cs > UINT32_MAX ? UINT32_MAX : (uint32_t)cs;
}

static int cmp_mtu(const void *a, const void *b)
{
    const struct mtu_row *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Rows allocated by mib_reserve_config() for the next mib_set_config(). */
static struct mtu_row *g_reserved;
static size_t g_nreserved;

int mib_reserve_config(const struct idt_config *cfg)
{
    mib_release_reserve();
    g_reserved = calloc(cfg->ntunnels ? cfg->ntunnels : 1, sizeof *g_reserved);
    if (!g_reserved)
        return -1;
    g_nreserved = cfg->ntunnels;
    return 0;
}

void mib_release_reserve(void)
{
    free(g_reserved);
    g_reserved = NULL;
    g_nreserved = 0;
}

void mib_set_config(const struct idt_config *cfg)
{
    struct mtu_row *n;
    if (g_reserved && g_nreserved == cfg->ntunnels) {
        n = g_reserved;             /* a reload: allocated before anything changed */
        g_reserved = NULL;
        g_nreserved = 0;
    } else if (!(n = calloc(cfg->ntunnels ? cfg->ntunnels : 1, sizeof *n))) {
        log_err("out of memory for the MTU state table");
        return;
    }
    for (size_t i = 0; i < cfg->ntunnels; i++) {
        const struct idt_tunnel_conf *tc = &cfg->tunnels[i];
        n[i].index = tc->index;
        memcpy(n[i].name, tc->name, sizeof n[i].name);
        n[i].status = IDT_MTU_STATUS_NEVERRUN;
        n[i].fail = IDT_MTU_FAIL_NONE;
        for (size_t k = 0; k < g_nmtu; k++) {
            if (!strcmp(g_mtu[k].name, tc->name)) {
                n[i] = g_mtu[k];        /* the state survives a reload */
                n[i].index = tc->index;
                break;
            }
        }
        n[i].has_mtu = tc->mtu.enabled;
        n[i].target = tc->mtu.target;
    }
    qsort(n, cfg->ntunnels, sizeof *n, cmp_mtu);
    free(g_mtu);
    g_mtu = n;
    g_nmtu = cfg->ntunnels;
}

static struct mtu_row *mtu_find(uint32_t index)
{
    size_t lo = 0, hi = g_nmtu;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g_mtu[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g_nmtu && g_mtu[lo].index == index ? &g_mtu[lo] : NULL;
}

uint32_t mib_mtu_last(uint32_t index)
{
    const struct mtu_row *m = mtu_find(index);
    return m ? m->mtu : 0;
}

void mib_set_prober_available(int available)
{
    g_prober_ok = available;
}

void mib_mtu_running(uint32_t index)
{
    struct mtu_row *m = mtu_find(index);
    if (!m)
        return;
    m->status = IDT_MTU_STATUS_RUNNING;
    m->probes = m->probes_done;
}

void mib_mtu_progress(uint32_t index, uint32_t probes)
{
    struct mtu_row *m = mtu_find(index);
    if (m && m->probes_done + probes > m->probes)
        m->probes = m->probes_done + probes;
}

int mib_mtu_fail_reason(int probe_fail)
{
    switch ((enum probe_fail)probe_fail) {
    case PROBE_FAIL_NONE: return IDT_MTU_FAIL_NONE;
    case PROBE_FAIL_NO_REPLY: return IDT_MTU_FAIL_NOREPLY;
    case PROBE_FAIL_UNAVAILABLE: return IDT_MTU_FAIL_PROBERUNAVAILABLE;
    case PROBE_FAIL_SEND: return IDT_MTU_FAIL_SENDERROR;
    case PROBE_FAIL_LOCAL_LIMIT: return IDT_MTU_FAIL_LOCALLIMIT;
    case PROBE_FAIL_UNSTABLE: return IDT_MTU_FAIL_NOSTABLEANSWER;
    case PROBE_FAIL_SOCKET: return IDT_MTU_FAIL_SOCKETERROR;
    case PROBE_FAIL_PARAMS: return IDT_MTU_FAIL_BADPARAMETERS;
    }
    return IDT_MTU_FAIL_NOREPLY;
}

void mib_mtu_result(uint32_t index, int ok, int probe_fail, uint32_t mtu, uint32_t probes,
                    uint64_t when_us)
{
    struct mtu_row *m = mtu_find(index);
    if (!m)
        return;
    m->status = ok ? IDT_MTU_STATUS_SUCCEEDED : IDT_MTU_STATUS_FAILED;
    m->fail = ok ? IDT_MTU_FAIL_NONE : mib_mtu_fail_reason(probe_fail);
    m->runs++;
    if (ok) {
        m->mtu = mtu;
        m->last_success_us = when_us;
    } else {
        m->failures++;
    }
    m->probes_done += probes;
    m->probes = m->probes_done;
    m->last_run_us = when_us;
}

int mib_tunnel_state(int state)
{
    switch (state) {
    case TUNNEL_ACTIVE: return IDT_TUNNEL_STATE_ACTIVE;
    case TUNNEL_IDLE: return IDT_TUNNEL_STATE_IDLE;
    default: return IDT_TUNNEL_STATE_NEVERSEEN;
    }
}

int mib_alarm_criterion(unsigned criterion)
{
    switch (criterion & (ALERT_CRIT_LOST | ALERT_CRIT_PPM)) {
    case ALERT_CRIT_LOST: return IDT_ALARM_CRITERION_LOSTPKTS;
    case ALERT_CRIT_PPM: return IDT_ALARM_CRITERION_LOSSRATE;
    case ALERT_CRIT_LOST | ALERT_CRIT_PPM: return IDT_ALARM_CRITERION_BOTH;
    default: return IDT_ALARM_CRITERION_NONE;
    }
}

/* ------------------------------------------------------------ helpers */

static void v_c64(struct mib_val *v, uint64_t x)
{
    v->type = ASN_COUNTER64;
    v->c64.high = (u_long)(x >> 32);
    v->c64.low = (u_long)(x & 0xffffffffu);
}

static void v_int(struct mib_val *v, long x)
{
    v->type = ASN_INTEGER;
    v->i = x;
}

static void v_uns(struct mib_val *v, u_char type, uint32_t x)
{
    v->type = type;
    v->i = (long)x;
}

static void v_addrtype(struct mib_val *v, const struct idt_addr *a)
{
    v_int(v, a->family == 6 ? IDT_INET_ADDR_TYPE_IPV6 : IDT_INET_ADDR_TYPE_IPV4);
}

static void v_addr(struct mib_val *v, const struct idt_addr *a)
{
    v->type = ASN_OCTET_STR;
    v->ptr = a->a;
    v->len = a->family == 6 ? 16 : 4;
}

/* Text cells point into this buffer: the handler copies each value
 * before it asks for the next (agent thread only). */
static char g_text[INET6_ADDRSTRLEN + 1];

static void v_text(struct mib_val *v, const char *text)
{
    snprintf(g_text, sizeof g_text, "%s", text);
    v->type = ASN_OCTET_STR;
    v->ptr = g_text;
    v->len = strlen(g_text);
}

static void v_addr_text(struct mib_val *v, const struct idt_addr *a)
{
    char b[INET6_ADDRSTRLEN];
    v_text(v, idt_addr_str(a, b, sizeof b));
}

static uint32_t ts(uint64_t t)
{
    return t ? mib_timestamp(t) : 0;
}

/* Rows without an mtu block (or without an MTU row: discovered tunnels)
 * are notConfigured/noTarget; with the prober down, the others are
 * failed/proberUnavailable. */
static int mtu_status(const struct mtu_row *m)
{
    if (!m || !m->has_mtu)
        return IDT_MTU_STATUS_NOTCONFIGURED;
    return g_prober_ok ? m->status : IDT_MTU_STATUS_FAILED;
}

static int mtu_fail(const struct mtu_row *m)
{
    if (!m || !m->has_mtu)
        return IDT_MTU_FAIL_NOTARGET;
    return g_prober_ok ? m->fail : IDT_MTU_FAIL_PROBERUNAVAILABLE;
}

static void *snap_open(void)
{
    return snapshot_acquire();
}

static void snap_close(void *ctx)
{
    snapshot_release(ctx);
}

static int check_start(const netsnmp_variable_list *var)
{
    if (var->type != ASN_INTEGER)
        return SNMP_ERR_WRONGTYPE;
    if (var->val_len != sizeof(long))
        return SNMP_ERR_WRONGLENGTH;
    long v = *var->val.integer;
    if (v == IDT_MTU_DISCOVER_START)
        return SNMP_ERR_NOERROR;
    static struct log_limit lim;
    unsigned sup;
    if (v == IDT_MTU_DISCOVER_IDLE && log_limit_allow(&lim, 10, &sup))
        log_info("SET idle(1) refused: it is the read-back value only; set start(2) to start "
                 "MTU discovery (%u more in the last 10 s not logged)", sup);
    return SNMP_ERR_WRONGVALUE;
}

/* Can a start(2) start anything?  m: a row with an mtu block (NULL: none;
 * tunnel: the SET's tunnel, NULL for ipsecDiagMtuDiscoverAll).
 * noError, inconsistentValue (nothing configured: notConfigured rows) or
 * resourceUnavailable (the prober is not running).  A run in progress
 * does not refuse: nothing new is started and that run reports. */
static int refuse_start(const struct mtu_row *m, const char *tunnel)
{
    static struct log_limit lim_prober, lim_tunnel, lim_all;     /* one per line */
    unsigned sup;
    if (m && g_prober_ok)
        return SNMP_ERR_NOERROR;
    if (m) {
        if (log_limit_allow(&lim_prober, 10, &sup))
            log_info("SET start(2) refused: the MTU prober is not running (see its start-up error) "
                     "(%u more refusals in the last 10 s not logged)", sup);
    } else if (tunnel) {
        if (log_limit_allow(&lim_tunnel, 10, &sup))
            log_info("SET start(2) refused on tunnel %s: it has no mtu block in the configuration "
                     "(%u more refusals in the last 10 s not logged)", tunnel, sup);
    } else if (log_limit_allow(&lim_all, 10, &sup)) {
        log_info("SET start(2) of ipsecDiagMtuDiscoverAll refused: no tunnel has an mtu block "
                 "in the configuration (%u more refusals in the last 10 s not logged)", sup);
    }
    return m ? SNMP_ERR_RESOURCEUNAVAILABLE : SNMP_ERR_INCONSISTENTVALUE;
}

/* ------------------------------------------------------------ globals */

static int glob_cell(void *ctx, size_t row, unsigned col, struct mib_val *v)
{
    const struct snapshot *s = ctx;
    static const struct engine_stats zero;
    const struct engine_stats *st = s ? &s->st : &zero;
    (void)row;
    switch (col) {
    case IDT_SCALAR_CAPTUREDPKTS: v_c64(v, st->packets); break;
    case IDT_SCALAR_ESPPKTS: v_c64(v, st->esp); break;
    case IDT_SCALAR_MALFORMEDPKTS: v_c64(v, st->malformed); break;
    case IDT_SCALAR_CAPTUREDROPS: v_c64(v, st->pcap_drops); break;
    case IDT_SCALAR_ACTIVESAS: v_uns(v, ASN_GAUGE, s ? s->active_sas : 0); break;
    case IDT_SCALAR_REPLAYWINDOW: v_uns(v, ASN_UNSIGNED, s ? s->window : 0); break;
    case IDT_SCALAR_MTUDISCOVERALL: v_int(v, IDT_MTU_DISCOVER_IDLE); break;
    case IDT_SCALAR_UNTRACKEDSAS: v_c64(v, st->untracked_sas); break;
    case IDT_SCALAR_IGNOREDPKTS: v_c64(v, st->ignored); break;
    case IDT_SCALAR_CAPTUREISDROPPING:
        v_int(v, s && s->dropping ? IDT_TRUTH_TRUE : IDT_TRUTH_FALSE);
        break;
    case IDT_SCALAR_UNTRACKEDTUNNELS: v_c64(v, st->untracked_tunnels); break;
    case IDT_SCALAR_COUNTERDISCONTINUITYTIME:
        v_uns(v, ASN_TIMETICKS, mib_timestamp(g_counters_start_us));
        break;
    case IDT_SCALAR_TENTATIVESAS: v_uns(v, ASN_GAUGE, s ? s->tentative_sas : 0); break;
    case IDT_SCALAR_EVICTEDSAS: v_c64(v, st->sas_evicted); break;
    case IDT_SCALAR_SATABLEUNDERPRESSURE:
        v_int(v, s && s->sa_pressure ? IDT_TRUTH_TRUE : IDT_TRUTH_FALSE);
        break;
    case IDT_SCALAR_RESERVEDSAS: v_uns(v, ASN_GAUGE, s ? s->reserved_sas : 0); break;
    default: return -1;
    }
    if (col == IDT_SCALAR_REPLAYWINDOW && !s)
        return -1;
    return 0;
}

static int glob_check(void *ctx, size_t row, unsigned col, const netsnmp_variable_list *var)
{
    (void)ctx;
    (void)row;
    if (col != IDT_SCALAR_MTUDISCOVERALL)
        return SNMP_ERR_NOTWRITABLE;
    int e = check_start(var);
    if (e != SNMP_ERR_NOERROR)
        return e;
    size_t k = 0;
    while (k < g_nmtu && !g_mtu[k].has_mtu)
        k++;
    return refuse_start(k < g_nmtu ? &g_mtu[k] : NULL, NULL);
}

/* Start one configured row (commit): running(2) at once if a run was
 * queued; a run already in progress is left alone. */
static void start_row(struct mtu_row *m)
{
    if (g_on_start && g_on_start(m->index) == 0)
        m->status = IDT_MTU_STATUS_RUNNING;
}

static void glob_commit(void *ctx, size_t row, unsigned col, const netsnmp_variable_list *var)
{
    (void)ctx;
    (void)row;
    (void)var;
    if (col != IDT_SCALAR_MTUDISCOVERALL)
        return;
    for (size_t k = 0; k < g_nmtu; k++)
        if (g_mtu[k].has_mtu)
            start_row(&g_mtu[k]);
}

/* ------------------------------------------------------------ tunnel table */

static size_t tun_nrows(void *ctx)
{
    const struct snapshot *s = ctx;
    return s ? s->ntun : 0;
}

static void tun_index(void *ctx, size_t row, oid *idx)
{
    const struct snapshot *s = ctx;
    idx[0] = s->tun[row].index;
}

static int tun_cell(void *ctx, size_t row, unsigned col, struct mib_val *v)
{
    const struct snapshot *s = ctx;
    const struct snap_tunnel *t = &s->tun[row];
    const struct mtu_row *m = mtu_find(t->index);
    switch (col) {
    case IDT_COL_TUNNEL_NAME:
        v->type = ASN_OCTET_STR;
        v->ptr = t->name;
        v->len = strlen(t->name);
        break;
    case IDT_COL_TUNNEL_ORIGIN: v_int(v, t->origin); break;
    case IDT_COL_TUNNEL_LOCALADDRTYPE: v_addrtype(v, &t->local); break;
    case IDT_COL_TUNNEL_LOCALADDR: v_addr(v, &t->local); break;
    case IDT_COL_TUNNEL_REMOTEADDRTYPE: v_addrtype(v, &t->remote); break;
    case IDT_COL_TUNNEL_REMOTEADDR: v_addr(v, &t->remote); break;
    case IDT_COL_TUNNEL_ACTIVESAS: v_uns(v, ASN_GAUGE, t->active_sas); break;
    case IDT_COL_TUNNEL_INPKTS: v_c64(v, t->in.received); break;
    case IDT_COL_TUNNEL_LOSTPKTS: v_c64(v, t->in.lost); break;
    case IDT_COL_TUNNEL_LATEPKTS: v_c64(v, t->in.late); break;
    case IDT_COL_TUNNEL_DUPLICATEPKTS: v_c64(v, t->in.duplicate); break;
    case IDT_COL_TUNNEL_REORDEREDPKTS: v_c64(v, t->in.reordered); break;
    case IDT_COL_TUNNEL_LOSSRATE: v_uns(v, ASN_UNSIGNED, t->loss_rate_ppm); break;
    case IDT_COL_TUNNEL_LOSSALARM:
        v_int(v, t->alarm ? IDT_LOSS_ALARM_ALARM : IDT_LOSS_ALARM_NORMAL);
        break;
    case IDT_COL_TUNNEL_DISCONTINUITYTIME:
        v_uns(v, ASN_TIMETICKS, mib_timestamp(t->created_us));
        break;
    case IDT_COL_TUNNEL_MTUSTATUS: v_int(v, mtu_status(m)); break;
    case IDT_COL_TUNNEL_MTU: v_uns(v, ASN_UNSIGNED, m ? m->mtu : 0); break;
    case IDT_COL_TUNNEL_MTULASTRUN: v_uns(v, ASN_TIMETICKS, m ? ts(m->last_run_us) : 0); break;
    case IDT_COL_TUNNEL_MTUPROBESSENT: v_uns(v, ASN_COUNTER, m ? m->probes : 0); break;
    case IDT_COL_TUNNEL_MTUDISCOVER: v_int(v, IDT_MTU_DISCOVER_IDLE); break;
    case IDT_COL_TUNNEL_INTERVALLOSTPKTS: v_uns(v, ASN_GAUGE, t->interval_lost); break;
    case IDT_COL_TUNNEL_LOSTWHILEDROPPING: v_c64(v, t->lost_while_dropping); break;
    case IDT_COL_TUNNEL_MTULASTSUCCESS:
        v_uns(v, ASN_TIMETICKS, m ? ts(m->last_success_us) : 0);
        break;
    case IDT_COL_TUNNEL_MTURUNS: v_uns(v, ASN_COUNTER, m ? m->runs : 0); break;
    case IDT_COL_TUNNEL_MTUFAILURES: v_uns(v, ASN_COUNTER, m ? m->failures : 0); break;
    case IDT_COL_TUNNEL_MTUFAILREASON: v_int(v, mtu_fail(m)); break;
    case IDT_COL_TUNNEL_MTUTARGETADDRTYPE:
        if (m && m->has_mtu)
            v_addrtype(v, &m->target);
        else
            v_int(v, IDT_INET_ADDR_TYPE_UNKNOWN);
        break;
    case IDT_COL_TUNNEL_MTUTARGETADDR:
        if (m && m->has_mtu) {
            v_addr(v, &m->target);
        } else {
            v->type = ASN_OCTET_STR;
            v->ptr = "";
            v->len = 0;
        }
        break;
    case IDT_COL_TUNNEL_SUSPECTPKTS: v_c64(v, t->in.suspect); break;
    case IDT_COL_TUNNEL_TENTATIVESAS: v_uns(v, ASN_GAUGE, t->tentative_sas); break;
    case IDT_COL_TUNNEL_EVICTEDSAS: v_c64(v, t->evicted_sas); break;
    case IDT_COL_TUNNEL_REFUSEDPKTS: v_c64(v, t->refused_pkts); break;
    case IDT_COL_TUNNEL_LOCALADDRTEXT: v_addr_text(v, &t->local); break;
    case IDT_COL_TUNNEL_REMOTEADDRTEXT: v_addr_text(v, &t->remote); break;
    case IDT_COL_TUNNEL_MTUTARGETADDRTEXT:
        if (m && m->has_mtu)
            v_addr_text(v, &m->target);
        else
            v_text(v, "");
        break;
    case IDT_COL_TUNNEL_OUTPKTS: v_c64(v, t->out.received); break;
    case IDT_COL_TUNNEL_OUTLOSTPKTS: v_c64(v, t->out.lost); break;
    case IDT_COL_TUNNEL_OUTLATEPKTS: v_c64(v, t->out.late); break;
    case IDT_COL_TUNNEL_OUTDUPLICATEPKTS: v_c64(v, t->out.duplicate); break;
    case IDT_COL_TUNNEL_OUTREORDEREDPKTS: v_c64(v, t->out.reordered); break;
    case IDT_COL_TUNNEL_OUTSUSPECTPKTS: v_c64(v, t->out.suspect); break;
    case IDT_COL_TUNNEL_INOCTETS: v_c64(v, t->in.octets); break;
    case IDT_COL_TUNNEL_OUTOCTETS: v_c64(v, t->out.octets); break;
    case IDT_COL_TUNNEL_STATE: v_int(v, mib_tunnel_state(t->state)); break;
    case IDT_COL_TUNNEL_LASTSEEN: v_uns(v, ASN_TIMETICKS, ts(t->last_seen_us)); break;
    case IDT_COL_TUNNEL_IDLETIMEOUT: v_uns(v, ASN_UNSIGNED, t->idle_timeout_s); break;
    case IDT_COL_TUNNEL_STATEALERTS:
        v_int(v, t->state_alerts ? IDT_TRUTH_TRUE : IDT_TRUTH_FALSE);
        break;
    case IDT_COL_TUNNEL_SASSEEN: v_uns(v, ASN_COUNTER, t->sas_seen); break;
    case IDT_COL_TUNNEL_NEWESTSAFIRSTSEEN: v_uns(v, ASN_TIMETICKS, ts(t->newest_sa_us)); break;
    case IDT_COL_TUNNEL_ALERTLOST: v_uns(v, ASN_UNSIGNED, t->alert_lost); break;
    case IDT_COL_TUNNEL_ALERTLOSSRATE: v_uns(v, ASN_UNSIGNED, t->alert_ppm); break;
    case IDT_COL_TUNNEL_ALERTINTERVAL: v_uns(v, ASN_UNSIGNED, t->alert_interval_s); break;
    case IDT_COL_TUNNEL_ALERTMINPKTS: v_uns(v, ASN_UNSIGNED, t->alert_min_pkts); break;
    case IDT_COL_TUNNEL_ALERTSENABLED:
        v_int(v, t->alerts_enabled ? IDT_TRUTH_TRUE : IDT_TRUTH_FALSE);
        break;
    case IDT_COL_TUNNEL_ALARMCRITERION: v_int(v, mib_alarm_criterion(t->criterion)); break;
    case IDT_COL_TUNNEL_INTERVALINPKTS: v_uns(v, ASN_GAUGE, t->interval_in); break;
    case IDT_COL_TUNNEL_ALARMREMINDERS: v_uns(v, ASN_GAUGE, t->reminders); break;
    case IDT_COL_TUNNEL_IKESTATE: v_int(v, t->ike_state); break;
    case IDT_COL_TUNNEL_IKEREKEYS: v_c64(v, t->ike_rekeys); break;
    case IDT_COL_TUNNEL_CHILDREKEYS: v_c64(v, t->child_rekeys); break;
    case IDT_COL_TUNNEL_GATEWAYDROPPKTS: v_c64(v, t->gw_drops); break;
    default: return -1;
    }
    return 0;
}

static int tun_check(void *ctx, size_t row, unsigned col, const netsnmp_variable_list *var)
{
    const struct snapshot *s = ctx;
    if (col != IDT_COL_TUNNEL_MTUDISCOVER)
        return SNMP_ERR_NOTWRITABLE;
    int e = check_start(var);
    if (e != SNMP_ERR_NOERROR)
        return e;
    const struct mtu_row *m = mtu_find(s->tun[row].index);
    return refuse_start(m && m->has_mtu ? m : NULL, s->tun[row].name);
}

static void tun_commit(void *ctx, size_t row, unsigned col, const netsnmp_variable_list *var)
{
    const struct snapshot *s = ctx;
    (void)var;
    struct mtu_row *m = mtu_find(s->tun[row].index);
    if (col == IDT_COL_TUNNEL_MTUDISCOVER && m)
        start_row(m);
}

/* ------------------------------------------------------------ SA table */

static size_t sa_nrows(void *ctx)
{
    const struct snapshot *s = ctx;
    return s ? s->nsa : 0;
}

static void sa_index(void *ctx, size_t row, oid *idx)
{
    const struct snapshot *s = ctx;
    const struct snap_tunnel *t = snapshot_sa_tunnel(s, row);
    idx[0] = t ? t->index : 0;
    idx[1] = s->sa[row].dir;
    idx[2] = s->sa[row].spi;
}

static int sa_cell(void *ctx, size_t row, unsigned col, struct mib_val *v)
{
    const struct snapshot *s = ctx;
    const struct snap_sa *a = &s->sa[row];
    const struct idt_addr *src, *dst;
    snapshot_sa_addrs(s, a, &src, &dst);
    switch (col) {
    case IDT_COL_SA_ENCAP:
        v_int(v, a->encap == 2 ? IDT_SA_ENCAP_UDPESP : IDT_SA_ENCAP_ESP);
        break;
    case IDT_COL_SA_SRCADDRTYPE: v_addrtype(v, src); break;
    case IDT_COL_SA_SRCADDR: v_addr(v, src); break;
    case IDT_COL_SA_DSTADDRTYPE: v_addrtype(v, dst); break;
    case IDT_COL_SA_DSTADDR: v_addr(v, dst); break;
    case IDT_COL_SA_PKTS: v_c64(v, a->c.received); break;
    case IDT_COL_SA_LOSTPKTS: v_c64(v, a->c.lost); break;
    case IDT_COL_SA_LATEPKTS: v_c64(v, a->c.late); break;
    case IDT_COL_SA_DUPLICATEPKTS: v_c64(v, a->c.duplicate); break;
    case IDT_COL_SA_REORDEREDPKTS: v_c64(v, a->c.reordered); break;
    case IDT_COL_SA_HIGHESTSEQ: v_c64(v, a->high); break;
    case IDT_COL_SA_SUSPECTPKTS: v_c64(v, a->c.suspect); break;
    case IDT_COL_SA_OCTETS: v_c64(v, a->c.octets); break;
    case IDT_COL_SA_FIRSTSEEN:
        v_uns(v, ASN_TIMETICKS, mib_timestamp((uint64_t)a->first_s * 1000000ULL));
        break;
    case IDT_COL_SA_LASTSEEN:
        v_uns(v, ASN_TIMETICKS, mib_timestamp((uint64_t)a->last_s * 1000000ULL));
        break;
    case IDT_COL_SA_SRCADDRTEXT: v_addr_text(v, src); break;
    case IDT_COL_SA_DSTADDRTEXT: v_addr_text(v, dst); break;
    case IDT_COL_SA_IKENAME: {
        const struct ike_sa_row *ik = snapshot_sa_ike(s, a);
        v->type = ASN_OCTET_STR;        /* the snapshot outlives the request */
        v->ptr = ik ? ik->name : "";
        v->len = strlen(v->ptr);
        break;
    }
    case IDT_COL_SA_GATEWAYDROPPKTS: {
        const struct ike_sa_row *ik = snapshot_sa_ike(s, a);
        v_c64(v, ik ? ik->gw_drops : 0);
        break;
    }
    case IDT_COL_SA_SPIHEX: {
        char b[16];
        snprintf(b, sizeof b, "0x%08x", (unsigned)a->spi);
        v_text(v, b);
        break;
    }
    default: return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ registration */

/* Unassigned column numbers (mib_oids.h). */
static int tun_has_col(unsigned col)
{
    return col <= IDT_COL_TUNNEL_REFUSEDPKTS ||
           (col >= IDT_COL_TUNNEL_LOCALADDRTEXT && col <= IDT_COL_TUNNEL_MTUTARGETADDRTEXT) ||
           col >= IDT_COL_TUNNEL_OUTPKTS;
}

static int sa_has_col(unsigned col)
{
    return col <= IDT_COL_SA_SUSPECTPKTS || col == IDT_COL_SA_OCTETS ||
           col >= IDT_COL_SA_SRCADDRTEXT;
}

static struct mib_table_def g_globals = {
    .name = "ipsecDiagGlobals",
    .root = { IDT_OID_GLOBALS }, .root_len = IDT_OID_GLOBALS_LEN,
    .has_entry = 0, .first_col = IDT_SCALAR_MIN, .last_col = IDT_SCALAR_MAX, .nidx = 1,
    .open = snap_open, .close = snap_close,
    .cell = glob_cell, .check = glob_check, .commit = glob_commit,
};

static struct mib_table_def g_tunnels = {
    .name = "ipsecDiagTunnelTable",
    .root = { IDT_OID_TUNNEL_TABLE }, .root_len = IDT_OID_TUNNEL_TABLE_LEN,
    .has_entry = 1, .first_col = IDT_COL_TUNNEL_MIN, .last_col = IDT_COL_TUNNEL_MAX,
    .nidx = IDT_TUNNEL_INDEX_LEN, .has_col = tun_has_col,
    .open = snap_open, .close = snap_close, .nrows = tun_nrows, .row_index = tun_index,
    .cell = tun_cell, .check = tun_check, .commit = tun_commit,
};

static struct mib_table_def g_sas = {
    .name = "ipsecDiagSaTable",
    .root = { IDT_OID_SA_TABLE }, .root_len = IDT_OID_SA_TABLE_LEN,
    .has_entry = 1, .first_col = IDT_COL_SA_MIN, .last_col = IDT_COL_SA_MAX,
    .nidx = IDT_SA_INDEX_LEN, .has_col = sa_has_col,
    .open = snap_open, .close = snap_close, .nrows = sa_nrows, .row_index = sa_index,
    .cell = sa_cell,
};

int mib_init(mib_mtu_start_fn on_start)
{
    g_on_start = on_start;
    if (mib_table_register(&g_globals) < 0 || mib_table_register(&g_tunnels) < 0 ||
        mib_table_register(&g_sas) < 0) {
        log_err("cannot register IPSECDIAG-MIB handlers");
        return -1;
    }
    return 0;
}

void mib_shutdown(void)
{
    mib_table_unregister(&g_globals);
    mib_table_unregister(&g_tunnels);
    mib_table_unregister(&g_sas);
    free(g_mtu);
    g_mtu = NULL;
    g_nmtu = 0;
    mib_release_reserve();
}
