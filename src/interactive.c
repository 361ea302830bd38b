/* interactive.c - the "interactive" command: offline analysis of a capture
 * file (-r), live console capture (-i), foreground MTU discovery (--mtu). */
#include "idt_build.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_open.h"
#include "clock.h"
#include "config_file.h"
#include "engine.h"
#include "event_log.h"
#include "interactive.h"
#include "local_addrs.h"
#include "log.h"
#include "pcap_file.h"
#include "probe.h"
#include "report.h"

struct session {
    struct engine eng;
    struct event_log *elog;
    struct report_alert *alerts;
    size_t nalerts, cap;
    int live;
    int json;           /* live alert lines go to stderr, not into the JSON */
};

static void on_event(void *ctx, const struct engine_event *ev)
{
    struct session *s = ctx;
    if (ev->kind == ENGINE_EV_ALERT) {
        if (s->nalerts == s->cap) {
            size_t ncap = s->cap ? s->cap * 2 : 16;
            struct report_alert *a = realloc(s->alerts, ncap * sizeof *a);
            if (!a)
                return;
            s->alerts = a;
            s->cap = ncap;
        }
        struct report_alert *a = &s->alerts[s->nalerts++];
        memset(a, 0, sizeof *a);
        /* live, the engine runs on the monotonic clock: report wall time */
        a->time_us = s->live ? idt_mono_to_real(ev->time_us) : ev->time_us;
        a->index = ev->tunnel->index;
        snprintf(a->tunnel, sizeof a->tunnel, "%s", ev->tunnel->name);
        a->event = ev->alert;
        a->lost = ev->fig.lost;
        a->interval_s = ev->fig.interval_s;
        a->rate_ppm = ev->fig.rate_ppm;
        a->received = ev->fig.received;
        a->criterion = ev->fig.criterion;
        a->reminders = ev->fig.reminders;
        struct alert_params ap;
        tunnel_alert_params(s->eng.cfg, ev->tunnel, &ap);
        a->threshold_lost = ap.lost;
        a->threshold_ppm = ap.ppm;
        if (s->live)
            fprintf(s->json ? stderr : stdout, "ALERT %s tunnel %s: lost=%llu interval=%us rate_ppm=%u\n",
                   alert_event_name(ev->alert), ev->tunnel->name,
                   (unsigned long long)ev->fig.lost, ev->fig.interval_s, ev->fig.rate_ppm);
    } else if ((ev->kind == ENGINE_EV_LOST || ev->kind == ENGINE_EV_LATE) && s->elog && ev->sa) {
        struct idt_addr src = { .family = ev->sa->key.family }, dst = { .family = ev->sa->key.family };
        memcpy(src.a, ev->sa->key.src, 16);
        memcpy(dst.a, ev->sa->key.dst, 16);
        event_log_gap(s->elog, s->live ? idt_mono_to_real(ev->time_us) : ev->time_us, ev->tunnel ? ev->tunnel->name : "", &src, &dst,
                      ev->sa->key.spi, ev->first_seq, ev->last_seq,
                      ev->kind == ENGINE_EV_LOST ? "lost" : "late");
    }
}

static volatile sig_atomic_t g_stop;
static pcap_t *g_live;

static void on_sigint(int sig)
{
    (void)sig;
    g_stop = 1;
    if (g_live)
        pcap_breakloop(g_live);
}

static int offline_report(struct session *s, int json)
{
    engine_finish(&s->eng);
    event_log_flush(s->elog);
    if (json)
        report_json(stdout, &s->eng, s->alerts, s->nalerts);
    else
        report_text(stdout, &s->eng, s->alerts, s->nalerts);
    return 0;
}

static int unsupported_dlt(const char *file, int dlt)
{
    fprintf(stderr, "ipsecdiagtool: %s: unsupported link type %d (%s)\n", file, dlt,
            pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "unknown");
    return 1;
}

/* A mapped file that shrinks under us (truncated by another process)
 * raises SIGBUS on access: turn that into a read error. */
static sigjmp_buf g_bus_jmp;
static volatile sig_atomic_t g_bus_armed;

static void on_sigbus(int sig)
{
    if (g_bus_armed)
        siglongjmp(g_bus_jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

#define OFFLINE_FALLBACK (-100)
#define RELEASE_BYTES ((size_t)256 << 10)   /* a multiple of the page size */

/* Fast path: classic pcap in a regular file, mapped and read in place
 * (no copy, no stdio).  OFFLINE_FALLBACK when the file is something
 * else; libpcap then reads it (pcapng, pipes, ...). */
static int run_offline_mapped(struct session *s, const char *file, int json)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return OFFLINE_FALLBACK;                /* libpcap names the error */
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24 ||
        (uintmax_t)st.st_size > SIZE_MAX) {
        close(fd);
        return OFFLINE_FALLBACK;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return OFFLINE_FALLBACK;
    madvise(map, size, MADV_SEQUENTIAL);
    struct pcapf f;
    if (pcapf_open(&f, map, size) != PCAPF_OPENED) {
        munmap(map, size);
        return OFFLINE_FALLBACK;
    }
    int dlt = f.linktype;
    if (!esp_dlt_supported(dlt)) {
        munmap(map, size);
        return unsupported_dlt(file, dlt);
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigaction(SIGBUS, &sa, &old);
    int rc = 0;
    if (sigsetjmp(g_bus_jmp, 1) == 0) {
        g_bus_armed = 1;
        struct pcapf_pkt pk;
        enum pcapf_next_result r = pcapf_next(&f, &pk);
        if (r == PCAPF_PACKET)
            s->eng.now_us = s->eng.last_tick_us = pk.ts_us;
        size_t released = 0;
        for (; r == PCAPF_PACKET; r = pcapf_next(&f, &pk)) {
            engine_packet(&s->eng, dlt, pk.ts_us, pk.data, pk.caplen, pk.len);
            if (f.off - released >= RELEASE_BYTES) {
                /* unmap what was read (it stays in the page cache), so
                 * that the process's RSS does not grow with the file */
                size_t upto = f.off & ~(RELEASE_BYTES - 1u);
                madvise((char *)map + released, upto - released, MADV_DONTNEED);
                released = upto;
            }
        }
        g_bus_armed = 0;
        if (r == PCAPF_ERROR) {
            fprintf(stderr, "ipsecdiagtool: %s: read error: %s\n", file, f.err);
            rc = 1;
        }
    } else {
        g_bus_armed = 0;
        fprintf(stderr, "ipsecdiagtool: %s: read error: the file shrank while it was being "
                "read\n", file);
        rc = 1;
    }
    sigaction(SIGBUS, &old, NULL);
    munmap(map, size);
    return rc ? rc : offline_report(s, json);
}

static int run_offline(struct session *s, const char *file, int json)
{
    if (strcmp(file, "-") != 0) {
        int rc = run_offline_mapped(s, file, json);
        if (rc != OFFLINE_FALLBACK)
            return rc;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    /* libpcap reads through stdio with a 4 KiB buffer; give it 1 MiB */
    FILE *fp = strcmp(file, "-") != 0 ? fopen(file, "rb") : NULL;
    char *iobuf = fp ? malloc(1u << 20) : NULL;
    pcap_t *p;
    if (fp) {
        if (iobuf)
            setvbuf(fp, iobuf, _IOFBF, 1u << 20);
        p = pcap_fopen_offline(fp, errbuf);
        if (!p)
            fclose(fp);
    } else {
        p = pcap_open_offline(file, errbuf);
    }
    if (!p) {
        fprintf(stderr, "ipsecdiagtool: %s: cannot read capture: %s\n", file, errbuf);
        free(iobuf);
        return 1;
    }
    int dlt = pcap_datalink(p);
    if (!esp_dlt_supported(dlt)) {
        pcap_close(p);
        free(iobuf);
        return unsupported_dlt(file, dlt);
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    int first = 1;
    while ((r = pcap_next_ex(p, &h, &data)) == 1) {
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000ULL + (uint64_t)h->ts.tv_usec;
        if (first) {
            s->eng.now_us = s->eng.last_tick_us = ts;
            first = 0;
        }
        engine_packet(&s->eng, dlt, ts, data, h->caplen, h->len);
    }
    if (r == -1) {
        fprintf(stderr, "ipsecdiagtool: %s: read error: %s\n", file, pcap_geterr(p));
        pcap_close(p);
        free(iobuf);
        return 1;
    }
    pcap_close(p);
    free(iobuf);
    return offline_report(s, json);
}

struct live_ctx {
    struct engine *eng;
    int dlt;
    uint64_t batch_mono_us;     /* live: the engine runs on the monotonic clock */
};

static void live_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct live_ctx *lc = (struct live_ctx *)(void *)user;
    engine_packet(lc->eng, lc->dlt, lc->batch_mono_us, data, h->caplen, h->len);
}

static int run_live(struct session *s, const char *iface, const struct idt_config *cfg, int json)
{
    char err[PCAP_ERRBUF_SIZE + 256];
    pcap_t *p = capture_open_live(iface, cfg->snaplen, cfg->buffer_kb, err, sizeof err);
    if (!p) {
        fprintf(stderr, "ipsecdiagtool: %s\n", err);
        return 1;
    }
    int dlt = pcap_datalink(p);
    s->live = 1;
    s->eng.is_local = local_addrs_has;
    g_live = p;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    uint64_t next_print = idt_mono_us() + 2000000ULL;
    fprintf(stderr, "capturing on %s (link type %s); Ctrl-C to stop\n", iface,
            pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
    struct live_ctx lc = { &s->eng, dlt, 0 };
    while (!g_stop) {
        /* the handle is non-blocking: wait for packets (or 200 ms) first */
        struct pollfd pfd = { .fd = pcap_get_selectable_fd(p), .events = POLLIN };
        if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
            break;
        lc.batch_mono_us = idt_mono_us();
        if (pcap_dispatch(p, -1, live_packet, (u_char *)(void *)&lc) < 0) {
            if (!g_stop)
                fprintf(stderr, "ipsecdiagtool: %s: capture error: %s\n", iface, pcap_geterr(p));
            break;
        }
        uint64_t now = idt_mono_us();
        if (now >= next_print) {
            struct pcap_stat ps;
            if (pcap_stats(p, &ps) == 0)
                s->eng.st.pcap_drops = ps.ps_drop;   /* as the daemon: not ps_ifdrop */
            engine_tick(&s->eng, now);
            if (!json) {
                fputs("\n", stdout);
                report_live(stdout, &s->eng);
                fflush(stdout);
            }
            next_print = now + 2000000ULL;
        }
    }
    struct pcap_stat ps;
    if (pcap_stats(p, &ps) == 0)
        s->eng.st.pcap_drops = ps.ps_drop;   /* as the daemon: not ps_ifdrop */
    g_live = NULL;
    pcap_close(p);
    engine_finish(&s->eng);     /* the end of the observation: holes in the window count */
    event_log_flush(s->elog);
    if (json)
        report_json(stdout, &s->eng, s->alerts, s->nalerts);
    else {
        fputs("\nFinal report\n", stdout);
        report_text(stdout, &s->eng, s->alerts, s->nalerts);
    }
    return 0;
}

/* --mtu [TUNNEL]: discovery in the foreground (tunnel by name, or every
 * tunnel with an mtu block, one after the other), no SNMP.  Prints each
 * round (sizes sent with their outcome, new range) and the result line to
 * stdout.  Returns 0 if all succeeded, 1 otherwise (also when no tunnel
 * has an mtu block), 2 for an unknown tunnel name or a tunnel without an
 * mtu block. */
static int run_mtu_foreground(const struct idt_config *cfg, const char *tunnel_name)
{
    if (tunnel_name) {
        const struct idt_tunnel_conf *t = config_tunnel_by_name(cfg, tunnel_name);
        if (!t) {
            fprintf(stderr, "ipsecdiagtool: no tunnel named '%s' in the configuration\n", tunnel_name);
            return 2;
        }
        if (!t->mtu.enabled) {
            fprintf(stderr, "ipsecdiagtool: tunnel '%s' has no mtu block\n", tunnel_name);
            return 2;
        }
    }
    int any = 0, failed = 0;
    for (size_t i = 0; i < cfg->ntunnels; i++) {
        const struct idt_tunnel_conf *t = &cfg->tunnels[i];
        if (!t->mtu.enabled || (tunnel_name && strcmp(t->name, tunnel_name) != 0))
            continue;
        if (!any)
            printf("(%s)\n", PROBE_TRACE_LEGEND);
        any = 1;
        struct probe_job j;
        probe_job_init(&j, t);
        j.trace = stdout;
        char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], line[512];
        printf("tunnel %s (index %u): probing %s from %s, sizes %u..%u, %u probes/round, "
               "timeout %.1fs, retries %u\n", j.name, j.index,
               idt_addr_str(&j.m.target, dst, sizeof dst), idt_addr_str(&j.m.source, src, sizeof src),
               j.m.min, j.m.max, j.m.probes, j.m.timeout, j.m.retries);
        fflush(stdout);
        probe_run(&j);
        probe_format_result(&j, "none", line, sizeof line);
        printf("%s\n", line);
        fflush(stdout);
        failed |= !j.ok;
    }
    if (!any) {
        fprintf(stderr, "ipsecdiagtool: no tunnel has an mtu block in the configuration\n");
        return 1;
    }
    return failed ? 1 : 0;
}

int interactive_main(int argc, char **argv, const char *default_config)
{
    enum { OPT_WINDOW = 256, OPT_JSON, OPT_MTU, OPT_EVLOG };
    static const struct option lo[] = {
        { "config", required_argument, NULL, 'c' },
        { "read", required_argument, NULL, 'r' },
        { "interface", required_argument, NULL, 'i' },
        { "window", required_argument, NULL, OPT_WINDOW },
        { "json", no_argument, NULL, OPT_JSON },
        { "mtu", no_argument, NULL, OPT_MTU },
        { "event-log", required_argument, NULL, OPT_EVLOG },
        { "debug", no_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cpath = default_config, *file = NULL, *iface = NULL, *evlog = NULL;
    int explicit_cfg = 0, json = 0, mtu = 0, debug = 0;
    long window = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+c:r:i:dh", lo, NULL)) != -1) {
        switch (c) {
        case 'c': cpath = optarg; explicit_cfg = 1; break;
        case 'r': file = optarg; break;
        case 'i': iface = optarg; break;
        case 'd': debug = 1; break;
        case OPT_JSON: json = 1; break;
        case OPT_MTU: mtu = 1; break;
        case OPT_EVLOG: evlog = optarg; break;
        case OPT_WINDOW: {
            char *end;
            errno = 0;
            window = strtol(optarg, &end, 10);
            if (errno || *end || window < 32 || window > 4096) {
                fprintf(stderr, "ipsecdiagtool: --window: '%s' is not a number in 32..4096\n", optarg);
                return 2;
            }
            break;
        }
        case 'h':
            printf("Usage: ipsecdiagtool interactive [-c FILE] (-r FILE.pcap | -i IFACE) "
                   "[--window N] [--json] [--event-log FILE]\n"
                   "       ipsecdiagtool interactive [-c FILE] --mtu [TUNNEL]\n");
            return 0;
        default:
            fprintf(stderr, "Usage: ipsecdiagtool interactive [-c FILE] (-r FILE.pcap | -i IFACE) "
                    "[--window N] [--json] | --mtu [TUNNEL]\n");
            return 2;
        }
    }
    const char *tunnel = NULL;
    if (mtu && optind < argc)
        tunnel = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "ipsecdiagtool: interactive: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if ((file != NULL) + (iface != NULL) + mtu != 1) {
        fprintf(stderr, "ipsecdiagtool: interactive: give exactly one of -r FILE, -i IFACE or --mtu\n");
        return 2;
    }
    log_open(LOG_TO_STDERR, LOG_DAEMON, debug);

    struct idt_config cfg;
    int rc = load_config_for_command(cpath, explicit_cfg, &cfg);
    if (rc)
        return rc;
    if (mtu) {
        rc = run_mtu_foreground(&cfg, tunnel);
        config_free(&cfg);
        return rc;
    }
    if (file)
        cfg.sa_idle_timeout = 0;    /* offline: nothing expires, the file is one stream */

    struct session s;
    memset(&s, 0, sizeof s);
    if (engine_init(&s.eng, &cfg, (uint32_t)window, 0) < 0) {
        fprintf(stderr, "ipsecdiagtool: out of memory for %u SAs\n", cfg.max_sas);
        config_free(&cfg);
        return 1;
    }
    s.json = json;
    s.eng.on_event = on_event;
    s.eng.event_ctx = &s;
    if (!evlog && cfg.event_log[0])
        evlog = cfg.event_log;
    if (evlog) {
        char err[512];
        s.elog = event_log_open(evlog, err, sizeof err);
        if (!s.elog) {
            fprintf(stderr, "ipsecdiagtool: %s\n", err);
            engine_free(&s.eng);
            config_free(&cfg);
            return 1;
        }
        s.eng.want_ranges = 1;
    }
    rc = file ? run_offline(&s, file, json) : run_live(&s, iface, &cfg, json);
    event_log_close(s.elog);
    engine_free(&s.eng);
    free(s.alerts);
    config_free(&cfg);
    return rc;
}
