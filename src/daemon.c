/* daemon.c - the "run" command: wire config, capture thread, prober and
 * the AgentX subagent together, and run the agent (main) thread's loop:
 * SNMP, events from the other threads, and signals. */
#include "idt_build.h"

#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include <pcap/pcap.h>
#include <libconfig.h>

#include "agent.h"
#include "capture.h"
#include "capture_open.h"
#include "clock.h"
#include "config.h"
#include "config_file.h"
#include "daemon.h"
#include "log.h"
#include "mib.h"
#include "notify.h"
#include "privs.h"
#include "probe.h"
#include "prober.h"
#include "queue.h"
#include "report.h"
#include "snapshot.h"
#include "syslog_remote.h"
#include "vici_client.h"

#define SERVICE_USER "ipsecdiag"

int daemon_about(FILE *out)
{
    fprintf(out, "ipsecdiagtool %s\n", PACKAGE_VERSION);
    fprintf(out, "Passive IPsec ESP packet-loss detection and in-tunnel MTU discovery,\n"
                 "served as a Net-SNMP AgentX subagent (IPSECDIAG-MIB).\n");
    fprintf(out, "configure options: %s\n", IDT_CONFIGURE_ARGS[0] ? IDT_CONFIGURE_ARGS : "(none)");
    fprintf(out, "net-snmp: %s (built with %s)\n", netsnmp_get_version(), IDT_NETSNMP_VERSION_BUILT);
    fprintf(out, "libpcap: %s\n", pcap_lib_version());
    fprintf(out, "libconfig: %d.%d.%d\n", LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR,
            LIBCONFIG_VER_REVISION);
#ifdef HAVE_SYSTEMD
    fprintf(out, "systemd: sd_notify support (Type=notify)\n");
#else
    fprintf(out, "systemd: no sd_notify support (Type=simple)\n");
#endif
    fprintf(out, "config: %s/ipsecdiagtool.conf\n", SYSCONFDIR);
    fprintf(out, "License: MIT. Re-creates IPSecDiagTool (Theo Winter, Jan Balmer, 2015).\n");
    return 0;
}

struct daemon {
    struct idt_config *cfg;         /* current */
    struct idt_config *pending_new; /* loaded, waiting for the capture thread to adopt it */
    int reload_again;               /* a SIGHUP came while one was being applied */
    struct queue *q;
    struct capture *cap;
    struct prober *prober;
    struct vici_client *vici;       /* strongSwan's VICI: views to the capture thread */
    struct syslog_remote *remote;
    const char *cfg_path;
};

static struct daemon *g_d;

/* The VICI client's thread hands each IKE view to the capture thread. */
static void deliver_ike(void *ctx, struct ike_view *v)
{
    capture_ike_update(ctx, v);
}

static int on_mtu_start(uint32_t index)
{
    if (!g_d || !g_d->prober)
        return -1;
    static struct log_limit lim;
    unsigned sup;
    int r = prober_request(g_d->prober, index);
    if (r == 1 && log_limit_allow(&lim, 10, &sup))
        log_info("MTU discovery already running on tunnel index %u; start ignored "
                 "(%u more ignored starts in the last 10 s not logged)", index, sup);
    else if (r < 0)
        log_info("MTU discovery requested on tunnel index %u, which has no mtu block", index);
    return r;
}

/* At start and on every reload: a host name is looked up again in the
 * background (MSG_SYSLOG_RESOLVED), never on this thread. */
static void open_remote(struct daemon *d)
{
    struct syslog_remote *n = NULL;
    char err[512];
    if (d->cfg->syslog_server[0]) {
        n = syslog_remote_open(d->cfg->syslog_server, d->cfg->facility, d->q, d->remote, err,
                               sizeof err);
        if (!n)
            log_err("%s; alerts go to the local syslog only", err);
    }
    syslog_remote_close(d->remote);
    d->remote = n;
}

static void alert_line(const struct msg *m, char *buf, size_t len)
{
    char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
    const char *what = m->event == ALERT_CLEARED ? "packet loss cleared on tunnel"
                     : m->event == ALERT_REMINDER ? "packet loss continues on tunnel"
                     : "packet loss on tunnel";
    snprintf(buf, len, "%s %s: lost=%llu received=%llu interval=%us rate_ppm=%u criterion=%s "
             "threshold=%u threshold_ppm=%u reminder=%u lost_while_dropping=%llu local=%s "
             "remote=%s spis=0x%08x",
             what, m->name, (unsigned long long)m->lost, (unsigned long long)m->received,
             m->interval_s, m->rate_ppm, alert_criterion_name(m->criterion), m->threshold,
             m->threshold_ppm, m->reminders, (unsigned long long)m->lost_while_dropping,
             idt_addr_str(&m->local, l, sizeof l), idt_addr_str(&m->remote, r, sizeof r), m->spi);
}

static void state_line(const struct msg *m, char *buf, size_t len)
{
    char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
    idt_addr_str(&m->local, l, sizeof l);
    idt_addr_str(&m->remote, r, sizeof r);
    if (m->event == TUNNEL_IDLE)
        snprintf(buf, len, "tunnel %s idle: no ESP for %llu s (idle_timeout=%us) local=%s remote=%s",
                 m->name, (unsigned long long)((m->time_us - m->last_seen_us) / 1000000ULL),
                 m->interval_s, l, r);
    else
        snprintf(buf, len, "tunnel %s active: ESP seen%s local=%s remote=%s", m->name,
                 m->prev_state == TUNNEL_IDLE ? " again after idle" : " for the first time", l, r);
}

static const char *ike_state_name(int st)
{
    static const char *const n[] = { "none", "connecting", "established", "rekeying",
                                     "deleting", "down" };
    return st >= 1 && st <= 6 ? n[st - 1] : "?";
}

/* "tunnel NAME IKE up: established (was connecting) index=N local=L remote=R" */
static void ike_line(const struct msg *m, char *buf, size_t len)
{
    char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
    idt_addr_str(&m->local, l, sizeof l);
    idt_addr_str(&m->remote, r, sizeof r);
    int up = m->event == TUNNEL_IKE_ESTABLISHED || m->event == TUNNEL_IKE_REKEYING;
    snprintf(buf, len, "tunnel %s IKE %s: %s (was %s) index=%u local=%s remote=%s", m->name,
             up ? "up" : "down", ike_state_name(m->event), ike_state_name(m->prev_state),
             m->index, l, r);
}

static void commit_reload(struct daemon *d);
static void reload_followup(struct daemon *d);
static void release_reserves(struct daemon *d);

static void handle_msg(struct daemon *d, const struct msg *m)
{
    char line[512];
    switch (m->type) {
    case MSG_ALERT: {
        int prio = m->event == ALERT_CLEARED ? LOG_NOTICE : LOG_WARNING;
        alert_line(m, line, sizeof line);
        log_msg(prio, "%s", line);
        syslog_remote_send(d->remote, prio, "LOSS", line);
        notify_loss(m, m->event != ALERT_CLEARED);   /* a reminder repeats "exceeded" */
        break;
    }
    case MSG_DROPPING:
        snprintf(line, sizeof line, "capture is dropping packets: drops=%llu captured=%llu; "
                 "loss figures are unreliable while this lasts",
                 (unsigned long long)m->drops, (unsigned long long)m->captured);
        log_warn("%s", line);
        syslog_remote_send(d->remote, LOG_WARNING, "DROP", line);
        notify_dropping(m);
        break;
    case MSG_DROPPING_CLEARED:
        snprintf(line, sizeof line, "capture stopped dropping packets: drops=%llu captured=%llu",
                 (unsigned long long)m->drops, (unsigned long long)m->captured);
        log_notice("%s", line);
        syslog_remote_send(d->remote, LOG_NOTICE, "DROP", line);
        notify_dropping_cleared(m);
        break;
    case MSG_TUNNEL_STATE: {
        int prio = m->event == TUNNEL_IDLE ? LOG_WARNING : LOG_NOTICE;
        state_line(m, line, sizeof line);
        log_msg(prio, "%s", line);
        syslog_remote_send(d->remote, prio, "STATE", line);
        notify_tunnel_state(m);
        break;
    }
    case MSG_TUNNEL_IKE: {
        int prio = m->event == TUNNEL_IKE_ESTABLISHED || m->event == TUNNEL_IKE_REKEYING
                       ? LOG_NOTICE : LOG_WARNING;
        ike_line(m, line, sizeof line);
        log_msg(prio, "%s", line);
        syslog_remote_send(d->remote, prio, "IKE", line);
        notify_tunnel_ike(m);
        break;
    }
    case MSG_SA_PRESSURE:
        snprintf(line, sizeof line, "SA table under pressure: evicted=%llu refused_pkts=%llu "
                 "active=%u tentative=%u max_sas=%u; new SAs evict tentative ones or are refused "
                 "(next report in 300 s at the earliest)",
                 (unsigned long long)m->evicted, (unsigned long long)m->refused, m->active_sas,
                 m->tentative_sas, m->max_sas);
        log_warn("%s", line);
        syslog_remote_send(d->remote, LOG_WARNING, "SATABLE", line);
        notify_sa_pressure(m);
        break;
    case MSG_MTU_STARTED:
        mib_mtu_running(m->index);
        break;
    case MSG_MTU_PROGRESS:
        mib_mtu_progress(m->index, m->probes);
        break;
    case MSG_MTU_RESULT: {
        uint32_t previous = mib_mtu_last(m->index);
        mib_mtu_result(m->index, m->ok, m->fail, m->mtu, m->probes, m->time_us);
        notify_mtu(m);
        if (d->remote) {
            if (m->ok)
            {
                char prev[16] = "none";
                if (previous)
                    snprintf(prev, sizeof prev, "%u", previous);
                snprintf(line, sizeof line, "mtu discovered on tunnel %s: mtu=%u previous=%s rounds=%u probes=%u time=%.1fs",
                         m->name, m->mtu, prev, m->rounds, m->probes, m->seconds);
            }
            else
                snprintf(line, sizeof line, "mtu discovery failed on tunnel %s: %s (reason=%s)",
                         m->name, m->reason, probe_fail_name((enum probe_fail)m->fail));
            syslog_remote_send(d->remote, m->ok ? LOG_NOTICE : LOG_WARNING, "MTU", line);
        }
        break;
    }
    case MSG_SYSLOG_RESOLVED:
        syslog_remote_resolved(d->remote, m->ptr);
        break;
    case MSG_CONFIG_RELEASED:
        if (d->pending_new && m->ptr == d->cfg)
            commit_reload(d);
        break;
    case MSG_CONFIG_REJECTED:
        if (d->pending_new && m->ptr == d->pending_new) {
            log_err("reload failed: out of memory while applying %s; the running configuration "
                    "is unchanged", d->cfg_path);
            config_free(d->pending_new);
            free(d->pending_new);
            d->pending_new = NULL;
            release_reserves(d);
            reload_followup(d);
        }
        break;
    }
}

/* SIGHUP: load and check the file, then hand it to the capture thread.
 * Nothing changes until that thread has adopted it (MSG_CONFIG_RELEASED,
 * then commit_reload); if it cannot (MSG_CONFIG_REJECTED) or the file is
 * bad, the running configuration stays in force in full. */
static void reload(struct daemon *d)
{
    if (d->pending_new) {
        d->reload_again = 1;    /* applied when the current one is done */
        return;
    }
    struct idt_config *n = calloc(1, sizeof *n);
    char err[512];
    if (!n) {
        log_err("reload: out of memory; keeping the running configuration");
        return;
    }
    if (config_load(d->cfg_path, n, err, sizeof err) < 0) {
        log_err("reload refused, keeping the running configuration: %s", err);
        free(n);
        return;
    }
    if (n->window != d->cfg->window || n->max_sas != d->cfg->max_sas)
        log_warn("reload: loss.window and loss.max_sas take effect at the next restart");
    n->window = d->cfg->window;
    n->max_sas = d->cfg->max_sas;
    if (mib_reserve_config(n) < 0 || (d->prober && prober_reserve_config(d->prober, n) < 0)) {
        log_err("reload: out of memory; keeping the running configuration");
        release_reserves(d);
        config_free(n);
        free(n);
        return;
    }
    d->pending_new = n;
    capture_reconfigure(d->cap, n);
}

/* The capture thread runs the new config: the rest follows it. */
static void commit_reload(struct daemon *d)
{
    struct idt_config *old = d->cfg, *n = d->pending_new;
    d->cfg = n;
    d->pending_new = NULL;
    if (d->prober)
        prober_set_config(d->prober, n);
    vici_client_set_config(d->vici, n);
    mib_set_config(n);
    notify_set_enabled(n->traps_enabled);
    log_set_facility(n->facility);
    open_remote(d);
    config_free(old);
    free(old);
    log_notice("configuration reloaded from %s (%zu tunnels)", d->cfg_path, n->ntunnels);
    reload_followup(d);
}

static void release_reserves(struct daemon *d)
{
    mib_release_reserve();
    if (d->prober)
        prober_release_reserve(d->prober);
}

static void reload_followup(struct daemon *d)
{
    if (d->reload_again) {
        d->reload_again = 0;
        reload(d);
    }
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_err("pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    return 0;
}

int daemon_main(int argc, char **argv, const char *default_config)
{
    static const struct option lo[] = {
        { "config", required_argument, NULL, 'c' },
        { "agentx-socket", required_argument, NULL, 'x' },
        { "debug", no_argument, NULL, 'd' },
        { "foreground", no_argument, NULL, 'f' },
        { "pidfile", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cpath = default_config, *sock = NULL, *pidfile = NULL;
    int debug = 0, fg = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+c:x:dfp:h", lo, NULL)) != -1) {
        switch (c) {
        case 'c': cpath = optarg; break;
        case 'x': sock = optarg; break;
        case 'd': debug = 1; break;
        case 'f': fg = 1; break;
        case 'p': pidfile = optarg; break;
        case 'h':
            printf("Usage: ipsecdiagtool run [-c FILE] [-x SOCKET] [-d] [-f] [-p PIDFILE]\n");
            return 0;
        default:
            fprintf(stderr, "Usage: ipsecdiagtool run [-c FILE] [-x SOCKET] [-d] [-f] [-p PIDFILE]\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ipsecdiagtool: run: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    struct daemon d;
    memset(&d, 0, sizeof d);
    d.cfg_path = cpath;
    d.cfg = calloc(1, sizeof *d.cfg);
    char err[1024];
    if (!d.cfg || config_load(cpath, d.cfg, err, sizeof err) < 0) {
        fprintf(stderr, "ipsecdiagtool: %s\n", d.cfg ? err : "out of memory");
        free(d.cfg);
        return 2;
    }
    int to_stderr = fg || isatty(STDERR_FILENO) || getenv("IDT_LOG_STDERR");
    log_open(to_stderr ? LOG_TO_STDERR : LOG_TO_SYSLOG, d.cfg->facility, debug);
    log_notice("ipsecdiagtool %s starting (config %s, %zu tunnels)", PACKAGE_VERSION, cpath,
               d.cfg->ntunnels);

    /* Signals are read synchronously through a signalfd in the agent loop. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);   /* threads created below inherit it */
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

    /* Big arrays (snapshots, their sort keys) come and go every second or so:
     * a fixed mmap threshold hands them back to the kernel when freed instead
     * of glibc raising the threshold and keeping them in the heap (or in the
     * capture thread's arena, which keeps up to M_TRIM_THRESHOLD free). */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 32 * 1024);
    mallopt(M_TOP_PAD, 16 * 1024);
    d.q = queue_create(4096);
    if (!d.q || sfd < 0) {
        log_err("cannot create the event queue or signalfd");
        return 1;
    }
    g_d = &d;

    /* Open what needs privileges first, then drop them.  A failed open is
     * logged by the capture thread, which retries it. */
    char cap_err[512];
    pcap_t *pre = capture_open_live(d.cfg->interface, d.cfg->snaplen, d.cfg->buffer_kb, cap_err,
                                    sizeof cap_err);
    if (privs_running_as_root() && !getenv("IDT_NO_PRIVDROP")) {
        if (privs_drop(SERVICE_USER, err, sizeof err) < 0)
            log_warn("%s; continuing as root", err);
        else
            log_info("dropped privileges to user %s (keeping CAP_NET_RAW)", SERVICE_USER);
    } else if (!privs_running_as_root() && privs_limit(err, sizeof err) < 0) {
        log_warn("%s", err);
    }
    if (privs_no_new_privs(err, sizeof err) < 0)
        log_warn("%s", err);
    {
        char msg[512];
        const char *spec = sock && *sock ? sock : d.cfg->agentx_socket;
        enum privs_agentx ax = privs_check_agentx_socket(spec, NULL, msg, sizeof msg);
        /* Without CAP_NET_RAW the capture can never open; without the
         * master agent nobody sees anything: nothing can work. */
        if (!pre && !privs_can_capture() && ax != PRIVS_AGENTX_OK) {
            log_err("nothing can work, exiting: %s; and %s", cap_err, msg);
            log_close();
            queue_destroy(d.q);
            close(sfd);
            config_free(d.cfg);
            free(d.cfg);
            g_d = NULL;
            return 1;
        }
        if (ax == PRIVS_AGENTX_DENIED)
            log_err("%s", msg);
        else if (ax == PRIVS_AGENTX_MISSING)
            log_warn("%s; will keep retrying", msg);
    }
    mib_set_counters_start(idt_mono_us());  /* ipsecDiagCounterDiscontinuityTime */
    d.cap = capture_start(d.cfg, d.q, pre, err, sizeof err);
    if (!d.cap) {
        log_err("%s", err);
        return 1;
    }
    d.prober = prober_start(d.cfg, d.q, err, sizeof err);
    if (!d.prober)
        log_err("MTU prober: %s; MTU discovery is unavailable", err);
    mib_set_prober_available(d.prober != NULL);
    d.vici = vici_client_start(d.cfg, deliver_ike, d.cap, err, sizeof err);
    if (!d.vici)
        log_err("%s; IKE awareness is unavailable", err);

    mib_set_config(d.cfg);
    notify_set_enabled(d.cfg->traps_enabled);
    open_remote(&d);
    if (agent_init(d.cfg, sock, debug, on_mtu_start) < 0) {
        vici_client_stop(d.vici);
        capture_stop(d.cap);
        prober_stop(d.prober);
        return 1;
    }
    if (pidfile)
        write_pidfile(pidfile);
#ifdef HAVE_SYSTEMD
    sd_notify(0, "READY=1");
#endif

    int stop = 0;
    while (!stop) {
        int fds[2] = { sfd, queue_fd(d.q) };
        unsigned ready = 0;
        agent_poll(fds, 2, 1000, &ready);
        if (ready & 2u) {
            struct msg m;
            while (queue_pop(d.q, &m))
                handle_msg(&d, &m);
        }
        if (ready & 1u) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP) {
#ifdef HAVE_SYSTEMD
                    sd_notify(0, "RELOADING=1");
#endif
                    reload(&d);
#ifdef HAVE_SYSTEMD
                    sd_notify(0, "READY=1");
#endif
                } else {
                    log_notice("signal %d: shutting down", (int)si.ssi_signo);
                    stop = 1;
                }
            }
        }
    }
#ifdef HAVE_SYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
    vici_client_stop(d.vici);       /* it hands views to the capture thread */
    capture_stop(d.cap);
    prober_stop(d.prober);
    syslog_remote_close(d.remote);      /* a lookup still running posts nothing now */
    d.remote = NULL;
    struct msg m;
    while (queue_pop(d.q, &m)) {    /* a reload in flight: keep whichever config won */
        if (m.type == MSG_CONFIG_RELEASED && d.pending_new && m.ptr == d.cfg) {
            config_free(d.cfg);
            free(d.cfg);
            d.cfg = d.pending_new;
            d.pending_new = NULL;
        } else if (m.type == MSG_CONFIG_REJECTED && d.pending_new && m.ptr == d.pending_new) {
            config_free(d.pending_new);
            free(d.pending_new);
            d.pending_new = NULL;
        } else if (m.type == MSG_SYSLOG_RESOLVED) {
            handle_msg(&d, &m);
        }
    }
    agent_shutdown();
    snapshot_clear();
    queue_destroy(d.q);
    close(sfd);
    if (pidfile)
        unlink(pidfile);
    if (d.pending_new) {      /* the capture thread stopped before it saw it */
        config_free(d.pending_new);
        free(d.pending_new);
    }
    config_free(d.cfg);
    free(d.cfg);
    g_d = NULL;
    log_notice("stopped");
    log_close();
    return 0;
}
