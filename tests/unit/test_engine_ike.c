/* test_engine_ike.c - the engine's side of IKE (engine_ike.h) with
 * hand-built views: tunnels and names before any traffic, config wins,
 * direction from spi-in, state transitions and their events, rekey
 * counts, gateway drops (quiet rule, final counters), no ageing while
 * IKE knows the tunnel, the reserved class for known SPIs.  Frames are
 * raw IPv4 (DLT_RAW); every expected number is counted by hand in the
 * comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"
#include "engine_ike.h"

#define S(x) ((uint64_t)(x) * 1000000ull)
#define MS(x) ((uint64_t)(x) * 1000ull)

struct rec {
    int up, down, created;
    int last_prev;
    char last_name[IDT_NAME_MAX];
};

static void on_event(void *ctx, const struct engine_event *ev)
{
    struct rec *r = ctx;
    if (ev->kind == ENGINE_EV_IKE_UP || ev->kind == ENGINE_EV_IKE_DOWN) {
        if (ev->kind == ENGINE_EV_IKE_UP)
            r->up++;
        else
            r->down++;
        r->last_prev = ev->prev_state;
        snprintf(r->last_name, sizeof r->last_name, "%s", ev->tunnel->name);
    } else if (ev->kind == ENGINE_EV_TUNNEL_NEW) {
        r->created++;
    }
}

static void pkt(struct engine *e, uint64_t t, uint8_t s, uint8_t d, uint32_t spi, uint32_t seq)
{
    uint8_t f[28] = { 0x45, 0, 0, 100, 0, 0, 0x40, 0, 64, 50 };
    f[12] = 192; f[13] = 0; f[14] = 2; f[15] = s;
    f[16] = 192; f[17] = 0; f[18] = 2; f[19] = d;
    f[20] = (uint8_t)(spi >> 24); f[21] = (uint8_t)(spi >> 16);
    f[22] = (uint8_t)(spi >> 8); f[23] = (uint8_t)spi;
    f[24] = (uint8_t)(seq >> 24); f[25] = (uint8_t)(seq >> 16);
    f[26] = (uint8_t)(seq >> 8); f[27] = (uint8_t)seq;
    engine_packet(e, IDT_DLT_RAW, t, f, sizeof f, 100);
}

static struct idt_addr a4(uint8_t last)
{
    struct idt_addr a = { .family = 4, .a = { 192, 0, 2, last } };
    return a;
}

/* A view of up to 4 IKE SAs with one child each. */
struct tview {
    struct ike_view v;
    struct ike_sa sa[4];
    struct ike_child ch[4];
    struct ike_event ev[4];
};

static void tv_init(struct tview *t, uint64_t taken_us)
{
    memset(t, 0, sizeof *t);
    t->v.refs = 1;
    t->v.connected = 1;
    t->v.taken_us = taken_us;
    t->v.sa = t->sa;
    t->v.child = t->ch;
    t->v.event = t->ev;
}

static struct ike_child *tv_add(struct tview *t, const char *ike, uint32_t uid, uint8_t state,
                                uint8_t local, uint8_t remote, const char *child,
                                uint32_t spi_in, uint32_t spi_out, uint64_t packets_in)
{
    size_t i = t->v.nsa++;
    struct ike_sa *s = &t->sa[i];
    snprintf(s->name, sizeof s->name, "%s", ike);
    s->unique_id = uid;
    s->state = state;
    s->local = a4(local);
    s->remote = a4(remote);
    s->first_child = t->v.nchild;
    s->nchild = 1;
    struct ike_child *c = &t->ch[t->v.nchild++];
    snprintf(c->name, sizeof c->name, "%s", child);
    c->unique_id = uid * 10;
    c->state = CHILD_ST_INSTALLED;
    c->protocol_esp = 1;
    c->spi_in = spi_in;
    c->spi_out = spi_out;
    c->packets_in = packets_in;
    return c;
}

static struct ike_event *tv_event(struct tview *t, uint8_t kind, const char *ike, uint32_t uid)
{
    struct ike_event *ev = &t->ev[t->v.nevent++];
    ev->kind = kind;
    snprintf(ev->ike_name, sizeof ev->ike_name, "%s", ike);
    ev->ike_unique_id = uid;
    return ev;
}

static void setup_engine(struct engine *e, struct idt_config *c, struct rec *r)
{
    assert_int_equal(engine_init(e, c, 0, S(1)), 0);
    e->on_event = on_event;
    e->event_ctx = r;
}

static struct tunnel *tun(struct engine *e, uint8_t x, uint8_t y)
{
    struct idt_addr a = a4(x), b = a4(y);
    return tunnel_table_find(e->tunnels, &a, &b);
}

static struct sa_entry *sa_of(struct engine *e, uint8_t src, uint8_t dst, uint32_t spi)
{
    struct sa_key k;
    memset(&k, 0, sizeof k);
    k.family = 4;
    k.spi = spi;
    k.src[0] = 192; k.src[2] = 2; k.src[3] = src;
    k.dst[0] = 192; k.dst[2] = 2; k.dst[3] = dst;
    return sa_table_find(e->sas, &k);
}

/* The tunnel exists with the IKE name before any packet; the first view
 * is learnt silently; the SA rows carry "ike/child". */
static void test_names_before_traffic(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    struct tview t;
    tv_init(&t, S(2));
    tv_add(&t, "gw1-gw2", 1, IKE_ST_ESTABLISHED, 1, 2, "gw1-gw2", 0x1001, 0x2001, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(2)), 0);
    struct tunnel *tu = tun(&e, 1, 2);
    assert_non_null(tu);
    assert_string_equal(tu->name, "gw1-gw2");
    assert_int_equal(tu->origin, TUNNEL_DISCOVERED);
    assert_int_equal(tu->ike_state, TUNNEL_IKE_ESTABLISHED);
    assert_int_equal(r.created, 1);
    assert_int_equal(r.up + r.down, 0);            /* learnt, not a change */
    struct ike_sa_row *rows;
    size_t n;
    assert_int_equal(engine_ike_rows(&e, &rows, &n), 0);
    assert_int_equal(n, 2);                        /* inbound, then outbound */
    assert_int_equal(rows[0].dir, SA_INBOUND);
    assert_int_equal(rows[0].spi, 0x1001);
    assert_int_equal(rows[0].tindex, tu->index);
    assert_string_equal(rows[0].name, "gw1-gw2/gw1-gw2");
    assert_int_equal(rows[1].dir, SA_OUTBOUND);
    assert_int_equal(rows[1].spi, 0x2001);
    free(rows);
    engine_free(&e);
}

/* A configured tunnel of the pair keeps its name; two IKE SAs of one
 * pair: the smaller name, the higher-ranked state. */
static void test_config_wins_and_merge(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    c.ntunnels = 1;
    c.tunnels = calloc(1, sizeof *c.tunnels);
    assert_non_null(c.tunnels);
    snprintf(c.tunnels[0].name, sizeof c.tunnels[0].name, "mine");
    c.tunnels[0].index = 1;
    c.tunnels[0].local = a4(1);
    c.tunnels[0].remote = a4(2);
    c.tunnels[0].alert_lost = c.tunnels[0].alert_interval = c.tunnels[0].alert_ppm = -1;
    c.tunnels[0].alerts = 1;
    c.tunnels[0].idle_timeout = -1;
    c.tunnels[0].idle_alerts = 1;
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    struct tview t;
    tv_init(&t, S(2));
    tv_add(&t, "conn-a", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 0);
    tv_add(&t, "zeta", 2, IKE_ST_CONNECTING, 1, 3, "net", 0, 0, 0);
    tv_add(&t, "beta", 3, IKE_ST_DELETING, 3, 1, "net", 0, 0, 0);    /* same pair, reversed */
    assert_int_equal(engine_ike_apply(&e, &t.v, S(2)), 0);
    assert_string_equal(tun(&e, 1, 2)->name, "mine");
    assert_int_equal(tun(&e, 1, 2)->ike_state, TUNNEL_IKE_ESTABLISHED);
    /* "beta" < "zeta"; connecting outranks deleting */
    assert_string_equal(tun(&e, 1, 3)->name, "beta");
    assert_int_equal(tun(&e, 1, 3)->ike_state, TUNNEL_IKE_CONNECTING);
    engine_free(&e);
    free(c.tunnels);
}

/* spi-in decides the direction, against the offline address rule (the
 * lower address is local): IKE says 192.0.2.9 is local. */
static void test_direction_from_spi(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    /* before IKE: 2 packets .2 -> .9 (spi 0x1001) and 1 packet .9 -> .2 (0x2001);
     * the offline rule makes .2 local: 0x1001 outbound, 0x2001 inbound */
    pkt(&e, S(2), 2, 9, 0x1001, 1);
    pkt(&e, S(2), 2, 9, 0x1001, 2);
    pkt(&e, S(2), 9, 2, 0x2001, 1);
    struct tunnel *tu = tun(&e, 2, 9);
    assert_int_equal(tu->in.received, 1);
    assert_int_equal(tu->out.received, 2);
    struct tview t;
    tv_init(&t, S(3));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 9, 2, "net", 0x1001, 0x2001, 2);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(3)), 0);
    tu = tun(&e, 2, 9);
    /* the tunnel takes IKE's order; its SAs and counts follow */
    assert_int_equal(tu->local.a[3], 9);
    assert_int_equal(tu->in.received, 2);
    assert_int_equal(tu->out.received, 1);
    assert_int_equal(sa_of(&e, 2, 9, 0x1001)->direction, SA_INBOUND);
    assert_int_equal(sa_of(&e, 9, 2, 0x2001)->direction, SA_OUTBOUND);
    /* a new SA after IKE reported it (rekeyed child): inbound at once */
    tv_init(&t, S(4));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 9, 2, "net", 0x1002, 0x2002, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(4)), 0);
    pkt(&e, S(5), 2, 9, 0x1002, 1);
    assert_int_equal(sa_of(&e, 2, 9, 0x1002)->direction, SA_INBOUND);
    assert_int_equal(engine_ike_known_dir(&e, &sa_of(&e, 2, 9, 0x1002)->key), SA_INBOUND);
    assert_int_equal(tu->in.received, 3);
    engine_free(&e);
}

/* Up/Down on entering/leaving {established, rekeying}; gone IKE SA and a
 * lost client make it down. */
static void test_state_transitions(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    struct tview t;
    tv_init(&t, S(2));
    tv_add(&t, "lab", 1, IKE_ST_CONNECTING, 1, 2, "net", 0, 0, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(2)), 0);     /* silent: learnt */
    assert_int_equal(tun(&e, 1, 2)->ike_state, TUNNEL_IKE_CONNECTING);
    tv_init(&t, S(3));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(3)), 0);
    assert_int_equal(r.up, 1);
    assert_int_equal(r.last_prev, TUNNEL_IKE_CONNECTING);
    assert_string_equal(r.last_name, "lab");
    tv_init(&t, S(4));                                          /* rekeying: still up */
    tv_add(&t, "lab", 1, IKE_ST_REKEYING, 1, 2, "net", 0x1001, 0x2001, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(4)), 0);
    assert_int_equal(tun(&e, 1, 2)->ike_state, TUNNEL_IKE_REKEYING);
    assert_int_equal(r.up + r.down, 1);
    tv_init(&t, S(5));                                          /* gone */
    assert_int_equal(engine_ike_apply(&e, &t.v, S(5)), 0);
    assert_int_equal(r.down, 1);
    assert_int_equal(r.last_prev, TUNNEL_IKE_REKEYING);
    assert_int_equal(tun(&e, 1, 2)->ike_state, TUNNEL_IKE_DOWN);
    assert_string_equal(tun(&e, 1, 2)->name, "lab");            /* the name stays */
    tv_init(&t, S(6));
    tv_add(&t, "lab", 2, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1003, 0x2003, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(6)), 0);
    assert_int_equal(r.up, 2);
    assert_int_equal(r.last_prev, TUNNEL_IKE_DOWN);
    tv_init(&t, S(7));
    t.v.connected = 0;                                          /* charon lost */
    assert_int_equal(engine_ike_apply(&e, &t.v, S(7)), 0);
    assert_int_equal(r.down, 2);
    assert_int_equal(tun(&e, 1, 2)->ike_state, TUNNEL_IKE_DOWN);
    struct sa_key k;
    memset(&k, 0, sizeof k);
    k.family = 4;
    k.spi = 0x1003;
    k.src[0] = 192; k.src[2] = 2; k.src[3] = 2;
    k.dst[0] = 192; k.dst[2] = 2; k.dst[3] = 1;
    assert_int_equal(engine_ike_known_dir(&e, &k), 0);      /* no SA in the table: forgotten */
    engine_free(&e);
}

/* IKE and CHILD rekey events count on the tunnel of their IKE SA. */
static void test_rekeys(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    struct tview t;
    tv_init(&t, S(2));
    tv_add(&t, "lab", 7, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 0);
    tv_add(&t, "other", 8, IKE_ST_ESTABLISHED, 1, 3, "net", 0x1101, 0x2101, 0);
    tv_event(&t, IKE_EV_CHILD_REKEY, "lab", 7);
    tv_event(&t, IKE_EV_CHILD_REKEY, "lab", 7);
    tv_event(&t, IKE_EV_IKE_REKEY, "lab", 7);
    tv_event(&t, IKE_EV_CHILD_REKEY, "ghost", 99);              /* unknown: not counted */
    assert_int_equal(engine_ike_apply(&e, &t.v, S(2)), 0);
    assert_int_equal(tun(&e, 1, 2)->child_rekeys, 2);
    assert_int_equal(tun(&e, 1, 2)->ike_rekeys, 1);
    assert_int_equal(tun(&e, 1, 3)->child_rekeys + tun(&e, 1, 3)->ike_rekeys, 0);
    /* an event of an IKE SA only the previous view had (rekeyed away) */
    tv_init(&t, S(3));
    tv_add(&t, "lab", 9, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 0);
    tv_event(&t, IKE_EV_IKE_REKEY, "lab", 7);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(3)), 0);
    assert_int_equal(tun(&e, 1, 2)->ike_rekeys, 2);
    engine_free(&e);
}

static uint64_t row_drops(struct engine *e, uint32_t spi)
{
    struct ike_sa_row *rows;
    size_t n;
    uint64_t d = UINT64_MAX;
    assert_int_equal(engine_ike_rows(e, &rows, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (rows[i].spi == spi && rows[i].dir == SA_INBOUND)
            d = rows[i].gw_drops;
    free(rows);
    return d;
}

/* Gateway drops: captured minus charon's packets-in, only from quiet
 * readings, never decreasing; the final counters of a child that went
 * down count whatever the timing. */
static void test_gateway_drops(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    struct tview t;
    /* installed, nothing yet on either side: baseline (0, 0) */
    tv_init(&t, S(2));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(2)), 0);
    /* 10 packets seq 1..10, then 3 replays (seq 4, 5, 6): 13 captured */
    for (uint32_t s = 1; s <= 10; s++)
        pkt(&e, S(3) + s, 2, 1, 0x1001, s);
    for (uint32_t s = 4; s <= 6; s++)
        pkt(&e, S(3) + 20 + s, 2, 1, 0x1001, s);
    assert_int_equal(tun(&e, 1, 2)->in.duplicate, 3);
    /* charon accepted 10; read 50 ms after the last packet: in flight, no change */
    tv_init(&t, S(3) + MS(50));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 10);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(3) + MS(50)), 0);
    assert_int_equal(row_drops(&e, 0x1001), 0);
    assert_int_equal(tun(&e, 1, 2)->gw_drops, 0);
    /* read 1 s later: 13 - 10 = 3 */
    tv_init(&t, S(4));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 10);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(4)), 0);
    assert_int_equal(row_drops(&e, 0x1001), 3);
    assert_int_equal(tun(&e, 1, 2)->gw_drops, 3);
    /* charon catches up on nothing: a reading where charon counted more
     * (12 of 13) lowers nothing */
    tv_init(&t, S(5));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 12);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(5)), 0);
    assert_int_equal(row_drops(&e, 0x1001), 3);
    /* 5 more packets (11..15) of which charon accepts 3 (total 13), and
     * the child goes down 10 ms after the last one: the final counters
     * count (18 captured - 13 = 5) */
    for (uint32_t s = 11; s <= 15; s++)
        pkt(&e, S(6) + s, 2, 1, 0x1001, s);
    tv_init(&t, S(6) + 15 + MS(10));
    struct ike_event *ev = tv_event(&t, IKE_EV_CHILD_DOWN, "lab", 1);
    ev->has_final = 1;
    ev->final.spi_in = 0x1001;
    ev->final.packets_in = 13;
    assert_int_equal(engine_ike_apply(&e, &t.v, S(6) + 15 + MS(10)), 0);
    assert_int_equal(tun(&e, 1, 2)->gw_drops, 5);
    /* the SA is still in the table: its row keeps its figure */
    assert_int_equal(row_drops(&e, 0x1001), 5);
    engine_free(&e);
}

/* A tunnel IKE knows is not aged out; once IKE forgets it, it ages from
 * the last view that had it. */
static void test_no_ageing_while_ike(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    c.sa_idle_timeout = 10;
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    struct tview t;
    tv_init(&t, S(2));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(2)), 0);
    for (int s = 3; s <= 40; s++)
        engine_tick(&e, S(s));
    assert_non_null(tun(&e, 1, 2));
    tv_init(&t, S(41));
    assert_int_equal(engine_ike_apply(&e, &t.v, S(41)), 0);   /* gone at 41 */
    for (int s = 42; s <= 51; s++)
        engine_tick(&e, S(s));
    assert_non_null(tun(&e, 1, 2));                 /* 10 s, not more than 10 */
    engine_tick(&e, S(52));
    engine_tick(&e, S(53));
    assert_null(tun(&e, 1, 2));
    engine_free(&e);
}

/* max_sas 4, one known SPI: reserve 1, so 3 sprayed SAs fill the open
 * share, and the known SA still gets in (and a 5th sprayed SA cannot
 * evict it: open SAs never displace reserved ones). */
static void test_known_spi_reserved(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    c.max_sas = 4;
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    struct tview t;
    tv_init(&t, S(2));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(2)), 0);
    assert_int_equal(sa_table_reserve(e.sas), 1);
    for (uint32_t i = 0; i < 4; i++)
        pkt(&e, S(3), 50, 1, 0x5000 + i, 1);        /* 3 admitted, the 4th evicts the oldest */
    pkt(&e, S(3), 2, 1, 0x1001, 1);
    assert_non_null(sa_of(&e, 2, 1, 0x1001));
    for (uint32_t i = 4; i < 8; i++)
        pkt(&e, S(3), 50, 1, 0x5000 + i, 1);
    assert_non_null(sa_of(&e, 2, 1, 0x1001));
    assert_int_equal(sa_of(&e, 2, 1, 0x1001)->direction, SA_INBOUND);
    engine_free(&e);
}

/* A reload renumbers the slots and resets discovered names: IKE's come
 * back. */
static void test_reconfigure_keeps_ike(void **st)
{
    (void)st;
    struct idt_config c, c2;
    config_defaults(&c);
    config_defaults(&c2);
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    struct tview t;
    tv_init(&t, S(2));
    tv_add(&t, "lab", 1, IKE_ST_ESTABLISHED, 1, 2, "net", 0x1001, 0x2001, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(2)), 0);
    uint32_t index = tun(&e, 1, 2)->index;
    assert_int_equal(engine_reconfigure(&e, &c2), 0);
    assert_string_equal(tun(&e, 1, 2)->name, "lab");
    assert_int_equal(tun(&e, 1, 2)->index, index);
    assert_int_equal(tun(&e, 1, 2)->ike_state, TUNNEL_IKE_ESTABLISHED);
    assert_int_equal(tun(&e, 1, 2)->ike_live, 1);
    engine_free(&e);
}

struct text {
    size_t n;
    char s[4096];
};

static int put_text(void *ctx, const char *p, size_t n)
{
    struct text *b = ctx;
    assert_true(b->n + n < sizeof b->s);
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
    return 0;
}

/* Restart: the IKE tunnel keeps its index through the state file, as a
 * discovered tunnel does.  Run 1: traffic of another pair (.5-.6) comes
 * first and takes index 1, then IKE names .1-.2, which gets index 2.
 * Run 2 (a new engine with run 1's state): IKE comes first, before any
 * packet; without the state its tunnel would get index 1, with it 2. */
static void test_index_kept_across_restart(void **st)
{
    (void)st;
    struct idt_config c;
    config_defaults(&c);
    struct engine e;
    struct rec r = { 0 };
    setup_engine(&e, &c, &r);
    pkt(&e, S(2), 6, 5, 0x5001, 1);
    assert_int_equal(tun(&e, 5, 6)->index, 1);
    struct tview t;
    tv_init(&t, S(3));
    tv_add(&t, "gw1-gw2", 1, IKE_ST_ESTABLISHED, 1, 2, "gw1-gw2", 0x1001, 0x2001, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(3)), 0);
    assert_int_equal(tun(&e, 1, 2)->index, 2);
    static struct text txt;
    txt.n = 0;
    assert_int_equal(tunnel_ids_format(tunnel_table_ids(e.tunnels), put_text, &txt), 0);
    engine_free(&e);

    struct rec r2 = { 0 };
    setup_engine(&e, &c, &r2);
    char err[256];
    assert_int_equal(tunnel_table_load_ids(e.tunnels, txt.s, txt.n, err, sizeof err), 0);
    tv_init(&t, S(4));
    tv_add(&t, "gw1-gw2", 1, IKE_ST_ESTABLISHED, 1, 2, "gw1-gw2", 0x1001, 0x2001, 0);
    assert_int_equal(engine_ike_apply(&e, &t.v, S(4)), 0);
    struct tunnel *tu = tun(&e, 1, 2);
    assert_non_null(tu);
    assert_int_equal(tu->index, 2);
    assert_string_equal(tu->name, "gw1-gw2");
    assert_null(tun(&e, 5, 6));             /* remembered, not live */
    engine_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_before_traffic),
        cmocka_unit_test(test_config_wins_and_merge),
        cmocka_unit_test(test_direction_from_spi),
        cmocka_unit_test(test_state_transitions),
        cmocka_unit_test(test_rekeys),
        cmocka_unit_test(test_gateway_drops),
        cmocka_unit_test(test_no_ageing_while_ike),
        cmocka_unit_test(test_known_spi_reserved),
        cmocka_unit_test(test_reconfigure_keeps_ike),
        cmocka_unit_test(test_index_kept_across_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
