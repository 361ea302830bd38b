/* test_engine_tick.c - the engine's periodic work is bounded: SA expiry and
 * the tunnel watch list each do at most a fixed amount per tick, whatever
 * the number of tunnels and SAs that age at once; every idle discovered
 * tunnel is still removed within the documented delay; alert timing is
 * unchanged for pending tunnels (exact CLEARED tick, by hand), stays within
 * the documented delay when more are pending than a tick visits, and
 * survives a reload.
 *
 * The budgets are written out here as the numbers engine.h and the man
 * page document (2048 expiries, 2048 watched tunnels per tick), not taken
 * from the macros. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"

#define S 1000000ULL
#define T0 (1700000000ULL * S)      /* a multiple of every alert bucket width used */
#define BUDGET 2048u

static struct idt_addr A(const char *s)
{
    struct idt_addr a;
    assert_int_equal(idt_addr_parse(s, &a), 0);
    return a;
}

/* A raw IPv4 ESP packet (DLT_RAW): 20-byte header, SPI, sequence, 8 bytes. */
static void esp4(uint8_t *p, const struct idt_addr *s, const struct idt_addr *d, uint32_t spi,
                 uint32_t seq)
{
    memset(p, 0, 36);
    p[0] = 0x45;
    p[3] = 36;
    p[8] = 64;
    p[9] = 50;
    memcpy(p + 12, s->a, 4);
    memcpy(p + 16, d->a, 4);
    p[20] = (uint8_t)(spi >> 24); p[21] = (uint8_t)(spi >> 16);
    p[22] = (uint8_t)(spi >> 8); p[23] = (uint8_t)spi;
    p[24] = (uint8_t)(seq >> 24); p[25] = (uint8_t)(seq >> 16);
    p[26] = (uint8_t)(seq >> 8); p[27] = (uint8_t)seq;
}

static void send(struct engine *e, const struct idt_addr *s, const struct idt_addr *d,
                 uint32_t spi, uint32_t seq, uint64_t ts)
{
    uint8_t pkt[36];
    esp4(pkt, s, d, spi, seq);
    engine_packet(e, IDT_DLT_RAW, ts, pkt, 36, 36);
}

static struct idt_addr nth(uint8_t first, uint32_t k)
{
    struct idt_addr a = { .family = 4 };
    a.a[0] = first;
    a.a[1] = (uint8_t)(k >> 16);
    a.a[2] = (uint8_t)(k >> 8);
    a.a[3] = (uint8_t)k;
    return a;
}

#define MAX_ALERTS 16384

struct rec {
    uint64_t expired, removed, exceeded, cleared;
    uint32_t nalerts;
    struct { uint64_t t; enum alert_event ev; uint64_t lost; uint32_t index; } a[MAX_ALERTS];
};

static void on_event(void *ctx, const struct engine_event *ev)
{
    struct rec *r = ctx;
    switch (ev->kind) {
    case ENGINE_EV_SA_EXPIRED: r->expired++; break;
    case ENGINE_EV_TUNNEL_REMOVED: r->removed++; break;
    case ENGINE_EV_ALERT:
        if (ev->alert == ALERT_EXCEEDED)
            r->exceeded++;
        if (ev->alert == ALERT_CLEARED)
            r->cleared++;
        if (r->nalerts < MAX_ALERTS) {
            r->a[r->nalerts].t = ev->time_us;
            r->a[r->nalerts].ev = ev->alert;
            r->a[r->nalerts].lost = ev->fig.lost;
            r->a[r->nalerts].index = ev->tunnel->index;
            r->nalerts++;
        }
        break;
    default: break;
    }
}

static void start(struct engine *e, struct idt_config *cfg, struct rec *r, uint32_t max_tunnels,
                  uint32_t idle_s)
{
    config_defaults(cfg);
    cfg->max_tunnels = max_tunnels;
    cfg->max_sas = 2 * max_tunnels;
    cfg->sa_idle_timeout = idle_s;
    cfg->alert_interval = 4;
    memset(r, 0, sizeof *r);
    assert_int_equal(engine_init(e, cfg, 0, T0), 0);
    e->on_event = on_event;
    e->event_ctx = r;
}

/* 10,000 single-SA tunnels age out together: each tick expires at most
 * 2048 SAs and removes at most 2048 tunnels; all are gone after
 * ceil(10000 / 2048) = 5 ticks: 2048, 2048, 2048, 2048, 1808. */
static void test_mass_ageing_bounded(void **state)
{
    (void)state;
    struct engine e;
    struct idt_config cfg;
    struct rec *r = calloc(1, sizeof *r);
    start(&e, &cfg, r, 20000, 10);
    struct idt_addr hub = A("192.0.2.1");
    for (uint32_t k = 0; k < 10000; k++) {
        struct idt_addr src = nth(10, k);
        send(&e, &src, &hub, 0x1000 + k, 1, T0 + k);
    }
    assert_int_equal(tunnel_table_count(e.tunnels), 10000);
    assert_int_equal(sa_table_count(e.sas), 10000);
    assert_int_equal(e.watch_len, 0);           /* nothing pending, every tunnel has its SA */
    static const uint64_t want[] = { 2048, 2048, 2048, 2048, 1808, 0, 0 };
    uint64_t prev_exp = 0, prev_rem = 0;
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
        engine_tick(&e, T0 + (12 + i) * S);     /* idle 12 s > 10 s from the first tick on */
        assert_int_equal(r->expired - prev_exp, want[i]);
        assert_int_equal(r->removed - prev_rem, want[i]);
        assert_true(r->expired - prev_exp <= BUDGET);
        prev_exp = r->expired;
        prev_rem = r->removed;
    }
    assert_int_equal(r->expired, 10000);
    assert_int_equal(r->removed, 10000);
    assert_int_equal(tunnel_table_count(e.tunnels), 0);
    assert_int_equal(sa_table_count(e.sas), 0);
    assert_int_equal(e.watch_len, 0);
    engine_free(&e);
    free(r);
}

/* Tunnels whose last SA expired are removed only once idle for longer than
 * sa_idle_timeout, and a tunnel that gets a new SA meanwhile stays. */
static void test_ageing_waits_for_idle(void **state)
{
    (void)state;
    struct engine e;
    struct idt_config cfg;
    struct rec *r = calloc(1, sizeof *r);
    start(&e, &cfg, r, 100, 10);
    struct idt_addr hub = A("192.0.2.1"), a = A("10.0.0.1"), b = A("10.0.0.2");
    send(&e, &a, &hub, 0x110, 1, T0 + 900000);          /* last packet at 0.9 s */
    send(&e, &b, &hub, 0x120, 1, T0 + 900000);
    /* at 10.5 s the SAs (last seen in second 0) are idle 10.5 s > 10:
     * expired; the tunnels (last packet at 0.9 s) only 9.6 s: they stay,
     * watched */
    engine_tick(&e, T0 + 10500000);
    assert_int_equal(r->expired, 2);
    assert_int_equal(r->removed, 0);
    assert_int_equal(e.watch_len, 2);
    send(&e, &b, &hub, 0x121, 1, T0 + 10600000);        /* b gets a new SA */
    engine_tick(&e, T0 + 11500000);                    /* a: idle 10.6 s: removed */
    assert_int_equal(r->removed, 1);
    assert_null(tunnel_table_find(e.tunnels, &a, &hub));
    assert_non_null(tunnel_table_find(e.tunnels, &b, &hub));
    assert_int_equal(e.watch_len, 0);                  /* b has an SA: no longer watched */
    engine_free(&e);
    free(r);
}

/* One inbound SA at 10 ms steps, s = 1..400, 101..110 lost (window 64):
 * numbers 101..110 are declared lost by packets 165..174 (1.65..1.74 s):
 * EXCEEDED at 1.74 s with 10 lost.  Interval 4 s, buckets of 62.5 ms:
 * bucket 26 (1.625 s..) holds 4 of them, bucket 27 the other 6; the count
 * drops below 10 when bucket 26 leaves, at (26 + 64) * 62.5 ms = 5.625 s,
 * so CLEARED at the first tick at or after 9.625 s: 10 s (ticks every
 * second from T0). */
static void lossy_stream(struct engine *e, const struct idt_addr *src, const struct idt_addr *dst,
                         uint32_t spi)
{
    for (uint32_t s = 1; s <= 400; s++)
        if (s < 101 || s > 110)
            send(e, src, dst, spi, s, T0 + s * 10000);
}

static void test_alert_timing_exact(void **state)
{
    (void)state;
    struct engine e;
    struct idt_config cfg;
    struct rec *r = calloc(1, sizeof *r);
    start(&e, &cfg, r, 6000, 60);
    struct idt_addr local = A("192.0.2.1"), remote = A("198.51.100.9");
    /* 5000 quiet tunnels with traffic and no loss are never watched */
    for (uint32_t k = 0; k < 5000; k++) {
        struct idt_addr src = nth(203, k);
        send(&e, &src, &local, 0x1000 + k, 1, T0 + 1 + k);
    }
    assert_int_equal(e.watch_len, 0);
    lossy_stream(&e, &remote, &local, 0xabc);
    assert_int_equal(e.watch_len, 1);
    for (uint64_t t = 5; t <= 12; t++)
        engine_tick(&e, T0 + t * S);
    assert_int_equal(r->nalerts, 2);
    assert_int_equal(r->a[0].ev, ALERT_EXCEEDED);
    assert_int_equal(r->a[0].t, T0 + 1740000);
    assert_int_equal(r->a[0].lost, 10);
    assert_int_equal(r->a[1].ev, ALERT_CLEARED);
    assert_int_equal(r->a[1].t, T0 + 10 * S);
    assert_int_equal(r->a[1].lost, 0);
    assert_int_equal(e.watch_len, 0);   /* nothing in the window, no alarm: left the list */
    engine_free(&e);
    free(r);
}

/* The same after a reload in the middle (slots renumbered, list rebuilt). */
static void test_alert_timing_across_reload(void **state)
{
    (void)state;
    struct engine e;
    struct idt_config cfg, cfg2;
    struct rec *r = calloc(1, sizeof *r);
    start(&e, &cfg, r, 100, 60);
    cfg2 = cfg;
    struct idt_addr local = A("192.0.2.1"), remote = A("198.51.100.9"), other = A("203.0.113.5");
    send(&e, &other, &local, 0x177, 1, T0 + 1);          /* takes slot 0 */
    lossy_stream(&e, &remote, &local, 0xabc);
    engine_tick(&e, T0 + 5 * S);
    assert_int_equal(engine_reconfigure(&e, &cfg2), 0);
    assert_int_equal(e.watch_len, 1);
    for (uint64_t t = 6; t <= 12; t++)
        engine_tick(&e, T0 + t * S);
    assert_int_equal(r->nalerts, 2);
    assert_int_equal(r->a[1].ev, ALERT_CLEARED);
    assert_int_equal(r->a[1].t, T0 + 10 * S);
    engine_free(&e);
    free(r);
}

/* 5000 pending tunnels, more than a tick visits: every one still gets its
 * EXCEEDED at its packet and its CLEARED within ceil(5000 / 2048) = 3
 * ticks of the due tick (10 s): at 10, 11 or 12 s. */
static void test_many_pending_bounded_delay(void **state)
{
    (void)state;
    struct engine e;
    struct idt_config cfg;
    struct rec *r = calloc(1, sizeof *r);
    start(&e, &cfg, r, 6000, 60);
    struct idt_addr local = A("192.0.2.1");
    /* interleaved streams: stream k's packet s at T0 + s * 10 ms + k */
    for (uint32_t s = 1; s <= 400; s++) {
        if (s >= 101 && s <= 110)
            continue;
        for (uint32_t k = 0; k < 5000; k++) {
            struct idt_addr src = nth(203, k);
            send(&e, &src, &local, 0x1000 + k, s, T0 + s * 10000 + k);
        }
    }
    assert_int_equal(r->exceeded, 5000);
    assert_int_equal(e.watch_len, 5000);
    unsigned per_tick[20] = { 0 };
    for (uint64_t t = 5; t <= 19; t++) {
        uint64_t before = r->cleared;
        engine_tick(&e, T0 + t * S);
        per_tick[t] = (unsigned)(r->cleared - before);
        assert_true(per_tick[t] <= BUDGET);
    }
    assert_int_equal(r->cleared, 5000);
    for (uint32_t i = 0; i < r->nalerts; i++)
        if (r->a[i].ev == ALERT_CLEARED)
            assert_true(r->a[i].t >= T0 + 10 * S && r->a[i].t <= T0 + 12 * S);
    assert_int_equal(per_tick[10] + per_tick[11] + per_tick[12], 5000);
    engine_free(&e);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mass_ageing_bounded),
        cmocka_unit_test(test_ageing_waits_for_idle),
        cmocka_unit_test(test_alert_timing_exact),
        cmocka_unit_test(test_alert_timing_across_reload),
        cmocka_unit_test(test_many_pending_bounded_delay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
