/* test_engine_state.c - the engine's per-tunnel state and volume: both
 * directions, octets from the IP length (not the captured length), rekeys
 * (SAs seen, newest SA), idle/active announcements (one per change, the
 * pacing of engine.h), discovered tunnels silent by default, and the
 * capture-drop policy (no loss alarm while the capture drops).
 * Frames are hand-built raw IPv4 (DLT_RAW); every expected number is
 * computed by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"

#define S(x) ((uint64_t)(x) * 1000000ull)

struct rec {
    int idle, active, alerts;
    int last_prev;
};

static void on_event(void *ctx, const struct engine_event *ev)
{
    struct rec *r = ctx;
    if (ev->kind == ENGINE_EV_TUNNEL_IDLE)
        r->idle++;
    else if (ev->kind == ENGINE_EV_TUNNEL_ACTIVE)
        r->active++;
    else if (ev->kind == ENGINE_EV_ALERT && ev->alert == ALERT_EXCEEDED)
        r->alerts++;
    if (ev->kind == ENGINE_EV_TUNNEL_IDLE || ev->kind == ENGINE_EV_TUNNEL_ACTIVE)
        r->last_prev = ev->prev_state;
}

/* One raw IPv4 ESP packet 192.0.2.<s> -> 192.0.2.<d> whose header says
 * total length ip_len; only the first 28 bytes are "captured". */
static void pkt(struct engine *e, uint64_t t, uint8_t s, uint8_t d, uint32_t spi, uint32_t seq,
                uint16_t ip_len)
{
    uint8_t f[28] = { 0x45, 0, (uint8_t)(ip_len >> 8), (uint8_t)ip_len, 0, 0, 0x40, 0, 64, 50 };
    f[12] = 192; f[13] = 0; f[14] = 2; f[15] = s;
    f[16] = 192; f[17] = 0; f[18] = 2; f[19] = d;
    f[20] = (uint8_t)(spi >> 24); f[21] = (uint8_t)(spi >> 16);
    f[22] = (uint8_t)(spi >> 8); f[23] = (uint8_t)spi;
    f[24] = (uint8_t)(seq >> 24); f[25] = (uint8_t)(seq >> 16);
    f[26] = (uint8_t)(seq >> 8); f[27] = (uint8_t)seq;
    engine_packet(e, IDT_DLT_RAW, t, f, sizeof f, ip_len);
}

/* n configured tunnels "t<i>": local 192.0.2.1, remote 192.0.2.<i+2>. */
static void make_cfg(struct idt_config *c, size_t n)
{
    config_defaults(c);
    c->ntunnels = n;
    c->tunnels = calloc(n ? n : 1, sizeof *c->tunnels);
    assert_non_null(c->tunnels);
    for (size_t i = 0; i < n; i++) {
        struct idt_tunnel_conf *t = &c->tunnels[i];
        snprintf(t->name, sizeof t->name, "t%zu", i);
        t->index = (uint32_t)i + 1;
        t->local.family = t->remote.family = 4;
        t->local.a[0] = 192; t->local.a[2] = 2; t->local.a[3] = 1;
        t->remote.a[0] = 192; t->remote.a[2] = 2; t->remote.a[3] = (uint8_t)(i + 2);
        t->alert_lost = t->alert_interval = t->alert_ppm = -1;
        t->alerts = 1;
        t->idle_timeout = -1;
        t->idle_alerts = 1;
    }
}

static struct tunnel *tun(struct engine *e, uint8_t remote)
{
    struct idt_addr a = { .family = 4, .a = { 192, 0, 2, 1 } }, b = { .family = 4, .a = { 192, 0, 2, remote } };
    return tunnel_table_find(e->tunnels, &a, &b);
}

static void test_both_directions_and_octets(void **state)
{
    (void)state;
    struct idt_config c;
    make_cfg(&c, 1);
    struct engine e;
    assert_int_equal(engine_init(&e, &c, 0, S(1)), 0);
    /* inbound (remote .2 -> local .1): seq 1,2,3 of 100, 200, 300 bytes */
    pkt(&e, S(1), 2, 1, 0x1001, 1, 100);
    pkt(&e, S(1) + 10, 2, 1, 0x1001, 2, 200);
    pkt(&e, S(1) + 20, 2, 1, 0x1001, 3, 300);
    /* outbound: seq 1 and 3 (2 lost) of 60 and 1400 bytes, new SA at 1.5 s */
    pkt(&e, S(1) + 500000, 1, 2, 0x2002, 1, 60);
    pkt(&e, S(1) + 500010, 1, 2, 0x2002, 3, 1400);
    engine_finish(&e);
    struct tunnel *t = tun(&e, 2);
    assert_non_null(t);
    assert_int_equal(t->in.received, 3);
    assert_int_equal(t->in.octets, 600);            /* 100 + 200 + 300 */
    assert_int_equal(t->in.lost, 0);
    assert_int_equal(t->out.received, 2);
    assert_int_equal(t->out.octets, 1460);          /* 60 + 1400 */
    assert_int_equal(t->out.lost, 1);
    assert_int_equal(t->sas_seen, 2);
    assert_int_equal(t->newest_sa_us, S(1) + 500000);
    assert_int_equal(t->state, TUNNEL_ACTIVE);
    assert_int_equal(t->last_seen_us, S(1) + 500010);
    uint32_t cur = 0;
    struct sa_entry *sa;
    int n = 0;
    while ((sa = sa_table_next(e.sas, &cur)) != NULL) {
        assert_int_equal(sa->octets, sa->key.spi == 0x1001 ? 600 : 1460);
        n++;
    }
    assert_int_equal(n, 2);
    engine_free(&e);
    config_free(&c);
}

static void test_idle_active_once(void **state)
{
    (void)state;
    struct idt_config c;
    make_cfg(&c, 1);
    c.idle_timeout = 10;
    struct engine e;
    struct rec r = { 0 };
    assert_int_equal(engine_init(&e, &c, 0, S(0)), 0);
    e.on_event = on_event;
    e.event_ctx = &r;
    assert_int_equal(tun(&e, 2)->state, TUNNEL_NEVER_SEEN);
    engine_tick(&e, S(1));
    assert_int_equal(r.active + r.idle, 0);         /* neverSeen: nothing */
    pkt(&e, S(1), 2, 1, 0x1001, 1, 100);
    assert_int_equal(r.active, 0);                  /* announced at the tick */
    engine_tick(&e, S(2));
    assert_int_equal(r.active, 1);
    assert_int_equal(r.last_prev, TUNNEL_NEVER_SEEN);
    for (int t = 3; t <= 10; t++)
        engine_tick(&e, S(t));
    assert_int_equal(tun(&e, 2)->state, TUNNEL_ACTIVE);     /* 9 s < 10 s */
    engine_tick(&e, S(11));                                 /* 10 s since 1 s */
    assert_int_equal(tun(&e, 2)->state, TUNNEL_IDLE);
    assert_int_equal(r.idle, 1);
    for (int t = 12; t <= 40; t++)
        engine_tick(&e, S(t));
    assert_int_equal(r.idle, 1);                    /* exactly one */
    pkt(&e, S(40) + 5, 2, 1, 0x1001, 2, 100);
    engine_tick(&e, S(41));
    assert_int_equal(r.active, 2);
    assert_int_equal(r.last_prev, TUNNEL_IDLE);
    engine_tick(&e, S(42));
    assert_int_equal(r.active, 2);
    /* per-tunnel off: idle_alerts = false announces nothing */
    c.tunnels[0].idle_alerts = 0;
    for (int t = 43; t <= 60; t++)
        engine_tick(&e, S(t));
    assert_int_equal(tun(&e, 2)->state, TUNNEL_IDLE);
    assert_int_equal(r.idle, 1);
    /* idle_timeout 0 (per tunnel): never idle */
    c.tunnels[0].idle_alerts = 1;
    c.tunnels[0].idle_timeout = 0;
    pkt(&e, S(61), 2, 1, 0x1001, 3, 100);
    for (int t = 62; t <= 200; t++)
        engine_tick(&e, S(t));
    assert_int_equal(tun(&e, 2)->state, TUNNEL_ACTIVE);
    assert_int_equal(r.idle, 1);
    engine_free(&e);
    config_free(&c);
}

static void test_discovered_silent_by_default(void **state)
{
    (void)state;
    struct idt_config c;
    make_cfg(&c, 0);
    c.idle_timeout = 5;
    struct engine e;
    struct rec r = { 0 };
    assert_int_equal(engine_init(&e, &c, 0, S(0)), 0);
    e.on_event = on_event;
    e.event_ctx = &r;
    pkt(&e, S(1), 7, 8, 0x3003, 1, 100);
    for (int t = 2; t <= 20; t++)
        engine_tick(&e, S(t));
    assert_int_equal(r.active + r.idle, 0);
    /* with loss.discovered_idle_alerts: a new discovered tunnel announces */
    c.discovered_idle_alerts = 1;
    pkt(&e, S(21), 7, 9, 0x3004, 1, 100);
    for (int t = 22; t <= 30; t++)
        engine_tick(&e, S(t));
    assert_int_equal(r.active, 1);
    assert_int_equal(r.idle, 1);            /* 5 s without ESP (at 26 s) */
    engine_free(&e);
    config_free(&c);
}

/* 200 tunnels change together: 20 announcements at once, then 2 a second. */
static void test_pacing(void **state)
{
    (void)state;
    struct idt_config c;
    make_cfg(&c, 200);
    c.idle_timeout = 1000;
    struct engine e;
    struct rec r = { 0 };
    assert_int_equal(engine_init(&e, &c, 0, S(0)), 0);
    e.on_event = on_event;
    e.event_ctx = &r;
    for (int i = 0; i < 200; i++)
        pkt(&e, S(1), (uint8_t)(i + 2), 1, 0x1000u + (uint32_t)i, 1, 100);
    engine_tick(&e, S(2));
    assert_int_equal(r.active, 20);
    for (int t = 3; t <= 91; t++) {
        engine_tick(&e, S(t));
        assert_int_equal(r.active, 20 + 2 * (t - 2));
    }
    engine_tick(&e, S(92));
    assert_int_equal(r.active, 200);                /* 20 + 2 * 90 */
    engine_tick(&e, S(93));
    assert_int_equal(r.active, 200);
    for (int t = 94; t <= 110; t++)     /* the bucket refills: 2 + 2 * 9 >= 20 */
        engine_tick(&e, S(t));
    /* all idle together at 111 s (a reload shortens the idle timeout):
     * every state at once, announcements paced */
    c.idle_timeout = 10;
    assert_int_equal(engine_reconfigure(&e, &c), 0);
    engine_tick(&e, S(111));
    for (int i = 0; i < 200; i++)
        assert_int_equal(tun(&e, (uint8_t)(i + 2))->state, TUNNEL_IDLE);
    assert_int_equal(r.idle, 20);
    engine_tick(&e, S(112));
    assert_int_equal(r.idle, 22);
    for (int t = 113; t <= 200; t++)
        engine_tick(&e, S(t));
    assert_int_equal(r.idle, 20 + 2 * 89);
    engine_tick(&e, S(201));
    assert_int_equal(r.idle, 200);
    engine_tick(&e, S(202));
    assert_int_equal(r.idle, 200);
    assert_true(e.st.state_deferred > 0);
    engine_free(&e);
    config_free(&c);
}

/* While the capture drops, inbound loss is counted but raises no alarm. */
static void test_no_alarm_while_dropping(void **state)
{
    (void)state;
    struct idt_config c;
    make_cfg(&c, 1);                                /* alert_lost 10 */
    struct engine e;
    struct rec r = { 0 };
    assert_int_equal(engine_init(&e, &c, 0, S(0)), 0);
    e.on_event = on_event;
    e.event_ctx = &r;
    pkt(&e, S(1), 2, 1, 0x1001, 1, 100);
    pkt(&e, S(1) + 1, 2, 1, 0x1001, 2, 100);
    e.dropping = 1;
    /* window [H-63, H]; forward steps <= 64 (no tentative far jump) */
    pkt(&e, S(1) + 2, 2, 1, 0x1001, 60, 100);       /* H 60: holes 3..59 inside */
    pkt(&e, S(1) + 3, 2, 1, 0x1001, 120, 100);      /* H 120: 3..56 fall off: 54 */
    struct tunnel *t = tun(&e, 2);
    assert_int_equal(t->in.lost, 54);
    assert_int_equal(t->lost_while_dropping, 54);
    assert_int_equal(r.alerts, 0);
    e.dropping = 0;
    pkt(&e, S(1) + 4, 2, 1, 0x1001, 180, 100);      /* H 180: 57..59, 61..116 fall off: 59 */
    assert_int_equal(t->in.lost, 54 + 59);
    assert_int_equal(t->lost_while_dropping, 54);
    assert_int_equal(r.alerts, 1);
    engine_free(&e);
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_directions_and_octets),
        cmocka_unit_test(test_idle_active_once),
        cmocka_unit_test(test_discovered_silent_by_default),
        cmocka_unit_test(test_pacing),
        cmocka_unit_test(test_no_alarm_while_dropping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
