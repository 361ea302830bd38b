/* tick_bench.c - how long the engine's periodic work holds up the packet
 * path (bench.py row "worst tick").
 *
 * Feeds a capture to the engine as `interactive -r` does (engine_packet
 * per record, in packet time; the engine runs engine_tick itself whenever
 * a second of packet time has passed) and times every engine_packet call
 * (a call that ticks in this thread's CPU time, the others with
 * CLOCK_MONOTONIC).  A call during which the engine ticked (its
 * last_tick_us moved) is a "tick call"; the others give the mean cost of
 * a packet.  After the capture, ticks go on once a second of packet time
 * until no discovered tunnel is left (or 3600 ticks), to measure how long
 * ageing takes.
 *
 *   cc -O2 -Isrc tests/bench/tick_bench.c libidtpure.a -lconfig -lm
 *   tick_bench [-m max_tunnels] [-s max_sas] [-i sa_idle_timeout] FILE.pcap
 *
 * Prints one line of key=value pairs:
 *   packets esp tick_calls worst_tick_us worst_other_us (the slowest call
 *   that did not tick, wall clock) mean_packet_ns sas_expired
 *   tunnels_removed tunnels_left drain_ticks
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "pcap_file.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct counts {
    uint64_t removed, expired;
};

static void on_event(void *ctx, const struct engine_event *ev)
{
    struct counts *c = ctx;
    if (ev->kind == ENGINE_EV_TUNNEL_REMOVED)
        c->removed++;
    else if (ev->kind == ENGINE_EV_SA_EXPIRED)
        c->expired++;
}

static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    struct idt_config cfg;
    config_defaults(&cfg);
    int o;
    while ((o = getopt(argc, argv, "m:s:i:")) != -1) {
        switch (o) {
        case 'm': cfg.max_tunnels = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 's': cfg.max_sas = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'i': cfg.sa_idle_timeout = (uint32_t)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: tick_bench [-m max_tunnels] [-s max_sas] [-i idle] FILE\n");
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: tick_bench [-m max_tunnels] [-s max_sas] [-i idle] FILE\n");
        return 2;
    }
    size_t len = 0;
    void *buf = slurp(argv[optind], &len);
    struct pcapf f;
    if (!buf || pcapf_open(&f, buf, len) != PCAPF_OPENED) {
        fprintf(stderr, "tick_bench: %s: cannot read a classic pcap\n", argv[optind]);
        return 1;
    }
    struct pcapf_pkt p;
    if (pcapf_next(&f, &p) != PCAPF_PACKET) {
        fprintf(stderr, "tick_bench: %s: no packet\n", argv[optind]);
        return 1;
    }
    struct engine e;
    struct counts c = { 0, 0 };
    if (engine_init(&e, &cfg, 0, p.ts_us) < 0) {
        fprintf(stderr, "tick_bench: out of memory\n");
        return 1;
    }
    e.on_event = on_event;
    e.event_ctx = &c;

    uint64_t ticks = 0, worst = 0, plain = 0, plain_ns = 0, worst_plain = 0;
    int r = PCAPF_PACKET;
    for (; r == PCAPF_PACKET; r = pcapf_next(&f, &p)) {
        /* a call that will tick is timed in CPU time of this thread (run-queue
         * waits on a shared machine are not the engine's), the others with
         * the cheap monotonic clock */
        uint64_t before = e.last_tick_us, now = p.ts_us > e.now_us ? p.ts_us : e.now_us;
        clockid_t id = now - before >= 1000000ULL ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
        uint64_t t0 = clock_ns(id);
        engine_packet(&e, f.linktype, p.ts_us, p.data, p.caplen, p.len);
        uint64_t dt = clock_ns(id) - t0;
        if (e.last_tick_us != before) {
            ticks++;
            if (dt > worst)
                worst = dt;
        } else {
            plain++;
            plain_ns += dt;
            if (dt > worst_plain)
                worst_plain = dt;
        }
    }
    if (r == PCAPF_ERROR) {
        fprintf(stderr, "tick_bench: %s: %s\n", argv[optind], f.err);
        return 1;
    }
    /* drain: ticks in packet time until every discovered tunnel aged out */
    uint64_t drain = 0, now = e.now_us;
    while (drain < 3600 && tunnel_table_count(e.tunnels) > cfg.ntunnels) {
        now += 1000000ULL;
        uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        engine_tick(&e, now);
        uint64_t dt = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
        ticks++;
        drain++;
        if (dt > worst)
            worst = dt;
    }
    printf("packets=%llu esp=%llu tick_calls=%llu worst_tick_us=%.1f worst_other_us=%.1f "
           "mean_packet_ns=%.1f sas_expired=%llu tunnels_removed=%llu tunnels_left=%u "
           "drain_ticks=%llu\n",
           (unsigned long long)e.st.packets, (unsigned long long)e.st.esp,
           (unsigned long long)ticks, worst / 1000.0, worst_plain / 1000.0,
           plain ? (double)plain_ns / (double)plain : 0.0,
           (unsigned long long)c.expired, (unsigned long long)c.removed,
           tunnel_table_count(e.tunnels) - (uint32_t)cfg.ntunnels, (unsigned long long)drain);
    engine_free(&e);
    free(buf);
    return 0;
}
