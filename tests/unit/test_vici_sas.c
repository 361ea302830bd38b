/* test_vici_sas.c - list-sa and event messages into ike_view parts.
 *
 * The real-charon cases use packets recorded from strongSwan in the lab
 * (vici_fixtures.h); the expected names, SPIs and counters were read off
 * those bytes by an independent decoder, as listed by each test.  The
 * hand-built cases are written byte by byte with the helpers below, in
 * the shapes of strongSwan's vici README. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vici_fixtures.h"
#include "vici_msg.h"
#include "vici_sas.h"

/* ------------------------------------------------ hand-built messages */

struct mb {
    uint8_t b[4096];
    size_t n;
};
static void sec(struct mb *m, const char *name)
{
    m->b[m->n++] = 1;
    m->b[m->n++] = (uint8_t)strlen(name);
    memcpy(m->b + m->n, name, strlen(name));
    m->n += strlen(name);
}
static void end(struct mb *m)
{
    m->b[m->n++] = 2;
}
static void kv(struct mb *m, const char *k, const char *v)
{
    m->b[m->n++] = 3;
    m->b[m->n++] = (uint8_t)strlen(k);
    memcpy(m->b + m->n, k, strlen(k));
    m->n += strlen(k);
    m->b[m->n++] = 0;
    m->b[m->n++] = (uint8_t)strlen(v);
    memcpy(m->b + m->n, v, strlen(v));
    m->n += strlen(v);
}
static void child(struct mb *m, const char *sname, const char *name, const char *spi_in,
                  const char *pk_in)
{
    sec(m, sname);
    kv(m, "name", name);
    kv(m, "uniqueid", "7");
    kv(m, "state", "INSTALLED");
    kv(m, "protocol", "ESP");
    kv(m, "spi-in", spi_in);
    kv(m, "spi-out", "0x0000abcd");
    kv(m, "packets-in", pk_in);
    end(m);
}

/* The message part of a recorded EVENT packet. */
static void msg_of(const uint8_t *pkt, size_t len, struct vici_packet *p)
{
    assert_int_equal(vici_packet_parse(pkt, len, p), 0);
    assert_int_equal(p->type, VICI_EVENT);
}

/* ------------------------------------------------ recorded from charon */

static void test_charon_list_sa(void **st)
{
    (void)st;
    struct vici_packet p;
    struct vici_sas b;
    char err[256];
    msg_of(cap_list_sa, sizeof cap_list_sa, &p);
    assert_string_equal(p.name, "list-sa");
    vici_sas_init(&b);
    assert_int_equal(vici_sas_add_list_sa(&b, p.msg, p.msglen, err, sizeof err), VICI_SAS_OK);
    assert_int_equal(b.nsa, 1);
    assert_int_equal(b.nchild, 1);
    const struct ike_sa *s = &b.sa[0];
    assert_string_equal(s->name, "gw1-gw2");
    assert_int_equal(s->unique_id, 1);
    assert_int_equal(s->state, IKE_ST_ESTABLISHED);
    assert_int_equal(s->initiator, 1);
    assert_int_equal(s->local.family, 4);
    assert_memory_equal(s->local.a, ((uint8_t[]){ 192, 0, 2, 1 }), 4);
    assert_memory_equal(s->remote.a, ((uint8_t[]){ 192, 0, 2, 2 }), 4);
    assert_int_equal(s->local_port, 4500);
    assert_int_equal(s->remote_port, 4500);
    assert_int_equal(s->established_s, 0);
    assert_int_equal(s->first_child, 0);
    assert_int_equal(s->nchild, 1);
    const struct ike_child *c = &b.child[0];
    assert_string_equal(c->name, "gw1-gw2");
    assert_int_equal(c->unique_id, 1);
    assert_int_equal(c->state, CHILD_ST_INSTALLED);
    assert_int_equal(c->protocol_esp, 1);
    assert_int_equal(c->encap, 1);
    assert_int_equal(c->spi_in, 0xdfe44676u);
    assert_int_equal(c->spi_out, 0x5e4fa3c8u);
    assert_int_equal(c->packets_in, 1);
    assert_int_equal(c->bytes_in, 84);
    assert_int_equal(c->packets_out, 1);
    assert_int_equal(c->bytes_out, 84);
    assert_int_equal(c->install_time_s, 0);

    struct ike_view *v = vici_sas_view(&b, 123, 9);
    assert_non_null(v);
    assert_int_equal(v->refs, 1);
    assert_int_equal(v->connected, 1);
    assert_int_equal(v->generation, 9);
    assert_int_equal(v->taken_us, 123);
    const struct ike_sa *owner;
    const struct ike_child *f = ike_view_find_spi_in(v, 0xdfe44676u, &owner);
    assert_non_null(f);
    assert_ptr_equal(owner, &v->sa[0]);
    assert_null(ike_view_find_spi_in(v, 0x5e4fa3c8u, &owner));  /* outbound: not inbound */
    assert_null(owner);
    ike_view_ref(v);
    assert_int_equal(v->refs, 2);
    ike_view_unref(v);
    ike_view_unref(v);
    ike_view_unref(NULL);
    vici_sas_free(&b);
}

static void test_charon_child_rekey(void **st)
{
    (void)st;
    struct vici_packet p;
    struct vici_sas b;
    char err[256];
    msg_of(cap_child_rekey, sizeof cap_child_rekey, &p);
    assert_string_equal(p.name, "child-rekey");
    vici_sas_init(&b);
    assert_int_equal(vici_sas_add_event(&b, p.name, p.msg, p.msglen, err, sizeof err), 0);
    assert_int_equal(b.nev, 1);
    assert_int_equal(b.nchild, 0);      /* events add no children to the list */
    const struct ike_event *e = &b.ev[0];
    assert_int_equal(e->kind, IKE_EV_CHILD_REKEY);
    assert_string_equal(e->ike_name, "gw1-gw2");
    assert_int_equal(e->ike_unique_id, 1);
    assert_string_equal(e->child_name, "gw1-gw2");
    assert_int_equal(e->old_spi_in, 0xdfe44676u);
    assert_int_equal(e->new_spi_in, 0xa49c7d43u);
    assert_int_equal(e->has_final, 1);
    assert_int_equal(e->final.state, CHILD_ST_REKEYED);
    assert_int_equal(e->final.packets_in, 1);
    assert_int_equal(e->final.bytes_in, 84);
    vici_sas_free(&b);
}

static void test_charon_terminate(void **st)
{
    (void)st;
    struct vici_packet p;
    struct vici_sas b;
    char err[256];
    vici_sas_init(&b);
    msg_of(cap_ike_down, sizeof cap_ike_down, &p);
    assert_string_equal(p.name, "ike-updown");
    assert_int_equal(vici_sas_add_event(&b, p.name, p.msg, p.msglen, err, sizeof err), 0);
    msg_of(cap_child_down, sizeof cap_child_down, &p);
    assert_string_equal(p.name, "child-updown");
    assert_int_equal(vici_sas_add_event(&b, p.name, p.msg, p.msglen, err, sizeof err), 0);
    assert_int_equal(b.nev, 2);
    assert_int_equal(b.ev[0].kind, IKE_EV_IKE_DOWN);
    assert_string_equal(b.ev[0].ike_name, "gw1-gw2");
    assert_int_equal(b.ev[0].ike_unique_id, 1);
    assert_string_equal(b.ev[0].child_name, "");
    assert_int_equal(b.ev[1].kind, IKE_EV_CHILD_DOWN);
    assert_string_equal(b.ev[1].ike_name, "gw1-gw2");
    assert_string_equal(b.ev[1].child_name, "gw1-gw2");
    assert_int_equal(b.ev[1].has_final, 1);
    assert_int_equal(b.ev[1].final.spi_in, 0xa49c7d43u);
    assert_int_equal(b.ev[1].final.spi_out, 0x57eaff39u);
    assert_int_equal(b.ev[1].final.packets_in, 0);
    assert_int_equal(b.ev[1].final.unique_id, 2);

    struct ike_view *v = vici_sas_view(&b, 1, 1);
    assert_non_null(v);
    assert_int_equal(v->nevent, 2);
    assert_int_equal(v->nsa, 0);
    assert_int_equal(v->event[1].kind, IKE_EV_CHILD_DOWN);
    ike_view_unref(v);
    vici_sas_clear_events(&b);
    assert_int_equal(b.nev, 0);
    vici_sas_free(&b);
}

/* ------------------------------------------------ hand-built */

/* "up" after the IKE section still makes it an up event; ike-rekey takes
 * the new IKE SA's unique id */
static void test_updown_and_ike_rekey(void **st)
{
    (void)st;
    struct mb m = { .n = 0 };
    struct vici_sas b;
    char err[256];
    vici_sas_init(&b);
    sec(&m, "site-a");
    kv(&m, "uniqueid", "4");
    end(&m);
    kv(&m, "up", "yes");
    assert_int_equal(vici_sas_add_event(&b, "ike-updown", m.b, m.n, err, sizeof err), 0);
    m.n = 0;
    sec(&m, "site-a");
    kv(&m, "uniqueid", "4");
    sec(&m, "child-sas");
    child(&m, "net-7", "net", "c0ffee01", "5");
    end(&m);
    end(&m);
    kv(&m, "up", "yes");
    assert_int_equal(vici_sas_add_event(&b, "child-updown", m.b, m.n, err, sizeof err), 0);
    m.n = 0;
    sec(&m, "site-a");
    sec(&m, "old");
    kv(&m, "uniqueid", "4");
    end(&m);
    sec(&m, "new");
    kv(&m, "uniqueid", "5");
    end(&m);
    end(&m);
    assert_int_equal(vici_sas_add_event(&b, "ike-rekey", m.b, m.n, err, sizeof err), 0);
    assert_int_equal(b.nev, 3);
    assert_int_equal(b.ev[0].kind, IKE_EV_IKE_UP);
    assert_string_equal(b.ev[0].ike_name, "site-a");
    assert_int_equal(b.ev[0].ike_unique_id, 4);
    assert_int_equal(b.ev[1].kind, IKE_EV_CHILD_UP);
    assert_string_equal(b.ev[1].child_name, "net");
    assert_int_equal(b.ev[1].has_final, 0);
    assert_int_equal(b.ev[2].kind, IKE_EV_IKE_REKEY);
    assert_int_equal(b.ev[2].ike_unique_id, 5);
    assert_int_equal(b.nchild, 0);
    vici_sas_free(&b);
}

/* A bad value skips its IKE SA (with its children) and names the key; the
 * other SA of the same round is kept. */
static void test_refused_content(void **st)
{
    (void)st;
    struct mb m = { .n = 0 };
    struct vici_sas b;
    char err[256];
    vici_sas_init(&b);
    sec(&m, "good");
    kv(&m, "remote-host", "2001:db8::2");
    sec(&m, "child-sas");
    child(&m, "n-1", "n", "1", "18446744073709551615");
    end(&m);
    end(&m);
    assert_int_equal(vici_sas_add_list_sa(&b, m.b, m.n, err, sizeof err), VICI_SAS_OK);
    m.n = 0;
    sec(&m, "bad");
    sec(&m, "child-sas");
    child(&m, "n-2", "n", "12345678z", "1");
    end(&m);
    end(&m);
    assert_int_equal(vici_sas_add_list_sa(&b, m.b, m.n, err, sizeof err), VICI_SAS_REFUSED);
    assert_string_equal(err, "spi-in = \"12345678z\" is not a hexadecimal SPI");
    m.n = 0;
    sec(&m, "bad2");
    kv(&m, "local-port", "65536");
    end(&m);
    assert_int_equal(vici_sas_add_list_sa(&b, m.b, m.n, err, sizeof err), VICI_SAS_REFUSED);
    assert_string_equal(err, "local-port = \"65536\" is not a number in 0..65535");
    m.n = 0;
    sec(&m, "bad3");
    kv(&m, "remote-host", "192.0.2.300");
    end(&m);
    assert_int_equal(vici_sas_add_list_sa(&b, m.b, m.n, err, sizeof err), VICI_SAS_REFUSED);
    assert_string_equal(err, "remote-host = \"192.0.2.300\" is not an IP address");
    m.n = 0;
    sec(&m, "a-name-of-sixty-four-characters-is-one-too-long-for-the-tunnels-");
    end(&m);
    assert_int_equal(vici_sas_add_list_sa(&b, m.b, m.n, err, sizeof err), VICI_SAS_REFUSED);
    assert_non_null(strstr(err, "is longer than 63 characters"));

    assert_int_equal(b.nsa, 1);
    assert_string_equal(b.sa[0].name, "good");
    assert_int_equal(b.sa[0].remote.family, 6);
    assert_int_equal(b.nchild, 1);
    assert_int_equal(b.child[0].spi_in, 1);
    assert_int_equal(b.child[0].spi_out, 0xabcd);
    assert_int_equal(b.child[0].packets_in, UINT64_MAX);
    assert_int_equal(b.sa[0].nchild, 1);

    assert_int_equal(vici_sas_add_event(&b, "log", m.b, m.n, err, sizeof err), VICI_SAS_REFUSED);
    assert_string_equal(err, "unexpected event \"log\"");
    m.n = 0;
    kv(&m, "up", "yes");
    assert_int_equal(vici_sas_add_event(&b, "ike-updown", m.b, m.n, err, sizeof err),
                     VICI_SAS_REFUSED);
    assert_string_equal(err, "ike-updown event without an IKE_SA section");
    assert_int_equal(b.nev, 0);
    vici_sas_free(&b);
}

static void test_malformed(void **st)
{
    (void)st;
    struct vici_sas b;
    char err[256];
    vici_sas_init(&b);
    /* the recorded list-sa cut short in the middle of its child */
    struct vici_packet p;
    msg_of(cap_list_sa, sizeof cap_list_sa, &p);
    assert_int_equal(vici_sas_add_list_sa(&b, p.msg, p.msglen - 40, err, sizeof err),
                     VICI_SAS_MALFORMED);
    assert_non_null(strstr(err, "malformed list-sa message: "));
    assert_int_equal(b.nsa, 0);
    assert_int_equal(b.nchild, 0);
    static const uint8_t junk[] = { 1, 1, 'x', 9 };
    assert_int_equal(vici_sas_add_event(&b, "child-updown", junk, sizeof junk, err, sizeof err),
                     VICI_SAS_MALFORMED);
    assert_string_equal(err, "malformed child-updown message: unknown message element type");
    assert_int_equal(b.nev, 0);
    vici_sas_free(&b);
}

static void test_values(void **st)
{
    (void)st;
    uint32_t s;
    uint64_t v;
    assert_int_equal(vici_parse_spi((const uint8_t *)"c1a2B3d4", 8, &s), 0);
    assert_int_equal(s, 0xc1a2b3d4u);
    assert_int_equal(vici_parse_spi((const uint8_t *)"0x00000100", 10, &s), 0);
    assert_int_equal(s, 256);
    assert_int_equal(vici_parse_spi((const uint8_t *)"123456789", 9, &s), -1);
    assert_int_equal(vici_parse_spi((const uint8_t *)"0x", 2, &s), -1);
    assert_int_equal(vici_parse_spi((const uint8_t *)"", 0, &s), -1);
    assert_int_equal(vici_parse_u64((const uint8_t *)"18446744073709551615", 20, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(vici_parse_u64((const uint8_t *)"18446744073709551616", 20, &v), -1);
    assert_int_equal(vici_parse_u64((const uint8_t *)"-1", 2, &v), -1);
    assert_int_equal(vici_parse_u64((const uint8_t *)"", 0, &v), -1);
    assert_string_equal(ike_sa_state_name(IKE_ST_REKEYING), "REKEYING");
    assert_string_equal(ike_child_state_name(CHILD_ST_DELETED), "DELETED");
    assert_string_equal(ike_child_state_name(200), "UNKNOWN");
}

/* events beyond the bound are counted, not kept */
static void test_event_bound(void **st)
{
    (void)st;
    struct mb m = { .n = 0 };
    struct vici_sas b;
    char err[256];
    vici_sas_init(&b);
    sec(&m, "x");
    end(&m);
    for (int i = 0; i < VICI_SAS_MAX_EVENTS + 3; i++)
        assert_int_equal(vici_sas_add_event(&b, "ike-updown", m.b, m.n, err, sizeof err), 0);
    assert_int_equal(b.nev, VICI_SAS_MAX_EVENTS);
    assert_int_equal(b.events_dropped, 3);
    vici_sas_free(&b);
}

/* a view replacing an unapplied one keeps that one's events first */
static void test_merge_events(void **st)
{
    (void)st;
    struct ike_view *old = ike_view_new(1, 0, 2), *neu = ike_view_new(2, 1, 1);
    assert_non_null(old);
    assert_non_null(neu);
    old->event[0].kind = IKE_EV_IKE_UP;
    old->event[1].kind = IKE_EV_CHILD_UP;
    neu->event[0].kind = IKE_EV_CHILD_DOWN;
    snprintf(neu->sa[1].name, sizeof neu->sa[1].name, "%s", "b");
    neu->child[0].spi_in = 42;
    neu->generation = 7;
    neu->connected = 1;
    struct ike_view *m = ike_view_merge_events(old, neu);
    assert_non_null(m);
    assert_int_equal(m->nevent, 3);
    assert_int_equal(m->event[0].kind, IKE_EV_IKE_UP);
    assert_int_equal(m->event[1].kind, IKE_EV_CHILD_UP);
    assert_int_equal(m->event[2].kind, IKE_EV_CHILD_DOWN);
    assert_int_equal(m->nsa, 2);
    assert_string_equal(m->sa[1].name, "b");
    assert_int_equal(m->nchild, 1);
    assert_int_equal(m->child[0].spi_in, 42);
    assert_int_equal(m->generation, 7);
    assert_int_equal(m->connected, 1);
    assert_int_equal(m->refs, 1);
    ike_view_unref(m);
    ike_view_unref(old);

    /* 8191 + 3 events: the 2 oldest go */
    old = ike_view_new(0, 0, IKE_VIEW_MAX_EVENTS - 1);
    assert_non_null(old);
    for (size_t i = 0; i < old->nevent; i++)
        old->event[i].ike_unique_id = (uint32_t)i;
    struct ike_view *n3 = ike_view_new(0, 0, 3);
    assert_non_null(n3);
    for (size_t i = 0; i < 3; i++)
        n3->event[i].ike_unique_id = (uint32_t)(100000 + i);
    m = ike_view_merge_events(old, n3);
    assert_non_null(m);
    assert_int_equal(m->nevent, IKE_VIEW_MAX_EVENTS);
    assert_int_equal(m->event[0].ike_unique_id, 2);
    assert_int_equal(m->event[IKE_VIEW_MAX_EVENTS - 4].ike_unique_id, IKE_VIEW_MAX_EVENTS - 2);
    assert_int_equal(m->event[IKE_VIEW_MAX_EVENTS - 3].ike_unique_id, 100000);
    assert_int_equal(m->event[IKE_VIEW_MAX_EVENTS - 1].ike_unique_id, 100002);
    ike_view_unref(m);
    ike_view_unref(old);
    ike_view_unref(n3);
    ike_view_unref(neu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_charon_list_sa),
        cmocka_unit_test(test_charon_child_rekey),
        cmocka_unit_test(test_charon_terminate),
        cmocka_unit_test(test_updown_and_ike_rekey),
        cmocka_unit_test(test_refused_content),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_event_bound),
        cmocka_unit_test(test_merge_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
