/* test_snapshot.c - a snapshot's SA rows are grouped by tunnel: every
 * tunnel row knows its range of SA rows, empty tunnels included, and the
 * MIB's two lookups (an SA row's tunnel, the first row at or after an
 * index (tindex, dir, spi)) agree with a layout written out by hand.
 *
 * Three configured tunnels (index 10, 20, 30) and traffic that makes one
 * discovered tunnel (index 31: the next above the configured ones):
 *   10: inbound SPIs 0x300, 0x100; outbound 0x200          -> rows 0..2
 *   20: no traffic                                          -> empty at 3
 *   30: outbound 0x500                                      -> row 3
 *   31: inbound 0x700                                       -> row 4
 * Rows are sorted by (tunnel index, direction, SPI), inbound (1) before
 * outbound (2); the offline direction rule makes the lower address local. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "engine.h"
#include "snapshot.h"

static const char CONF[] =
    "tunnels = (\n"
    " { name = \"ten\"; index = 10; local = \"10.0.0.1\"; remote = \"10.0.1.1\"; },\n"
    " { name = \"twenty\"; index = 20; local = \"10.0.0.2\"; remote = \"10.0.1.2\"; },\n"
    " { name = \"thirty\"; index = 30; local = \"10.0.0.3\"; remote = \"10.0.1.3\"; }\n"
    ");\n";

static void send(struct engine *e, const char *src, const char *dst, uint32_t spi,
                 uint32_t seq, uint64_t ts)
{
    struct idt_addr s, d;
    assert_int_equal(idt_addr_parse(src, &s), 0);
    assert_int_equal(idt_addr_parse(dst, &d), 0);
    uint8_t p[36] = { 0x45, 0, 0, 36, 0, 0, 0, 0, 64, 50 };
    memcpy(p + 12, s.a, 4);
    memcpy(p + 16, d.a, 4);
    for (int i = 0; i < 4; i++) {
        p[20 + i] = (uint8_t)(spi >> (24 - 8 * i));
        p[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
    }
    engine_packet(e, IDT_DLT_RAW, ts, p, 36, 36);
}

static void test_ranges_and_lookups(void **state)
{
    (void)state;
    struct idt_config c;
    char err[256];
    assert_int_equal(config_load_string(CONF, "t", &c, err, sizeof err), 0);
    struct engine e;
    const uint64_t t0 = 1700000000ULL * 1000000ULL;
    assert_int_equal(engine_init(&e, &c, 0, t0), 0);
    send(&e, "10.0.1.1", "10.0.0.1", 0x300, 1, t0 + 1);     /* 10 inbound */
    send(&e, "10.0.0.1", "10.0.1.1", 0x200, 1, t0 + 2);     /* 10 outbound */
    send(&e, "10.0.1.1", "10.0.0.1", 0x100, 1, t0 + 3);     /* 10 inbound */
    send(&e, "10.0.0.3", "10.0.1.3", 0x500, 1, t0 + 4);     /* 30 outbound */
    send(&e, "10.9.0.2", "10.9.0.1", 0x700, 1, t0 + 5);     /* 31 inbound (10.9.0.1 local) */

    struct snapshot *s = snapshot_build(&e, t0 + 10, 0);
    assert_non_null(s);
    assert_int_equal(s->ntun, 4);
    assert_int_equal(s->nsa, 5);
    static const struct { uint32_t index, first, count; } tun[] = {
        { 10, 0, 3 }, { 20, 3, 0 }, { 30, 3, 1 }, { 31, 4, 1 },
    };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s->tun[i].index, tun[i].index);
        assert_int_equal(s->tun[i].sa_first, tun[i].first);
        assert_int_equal(s->tun[i].sa_count, tun[i].count);
    }
    static const struct { uint32_t tindex, dir, spi; } row[] = {
        { 10, 1, 0x100 }, { 10, 1, 0x300 }, { 10, 2, 0x200 }, { 30, 2, 0x500 },
        { 31, 1, 0x700 },
    };
    for (size_t r = 0; r < 5; r++) {
        const struct snap_tunnel *t = snapshot_sa_tunnel(s, r);
        assert_non_null(t);
        assert_int_equal(t->index, row[r].tindex);
        assert_int_equal(s->sa[r].dir, row[r].dir);
        assert_int_equal(s->sa[r].spi, row[r].spi);
        assert_int_equal(snapshot_sa_lower(s, row[r].tindex, row[r].dir, row[r].spi, 0), r);
        assert_int_equal(snapshot_sa_lower(s, row[r].tindex, row[r].dir, row[r].spi, 1), r + 1);
    }
    assert_null(snapshot_sa_tunnel(s, 5));
    /* addresses follow the direction: row 1 is 10.0.1.1 -> 10.0.0.1 */
    const struct idt_addr *src, *dst;
    char b1[64], b2[64];
    snapshot_sa_addrs(s, &s->sa[1], &src, &dst);
    assert_string_equal(idt_addr_str(src, b1, sizeof b1), "10.0.1.1");
    assert_string_equal(idt_addr_str(dst, b2, sizeof b2), "10.0.0.1");
    snapshot_sa_addrs(s, &s->sa[3], &src, &dst);
    assert_string_equal(idt_addr_str(src, b1, sizeof b1), "10.0.0.3");
    assert_string_equal(idt_addr_str(dst, b2, sizeof b2), "10.0.1.3");
    /* keys between rows, in an empty tunnel, in no tunnel, past the end */
    assert_int_equal(snapshot_sa_lower(s, 0, 0, 0, 0), 0);
    assert_int_equal(snapshot_sa_lower(s, 10, 1, 0x200, 0), 1);
    assert_int_equal(snapshot_sa_lower(s, 10, 1, 0xffffffffu, 0), 2);
    assert_int_equal(snapshot_sa_lower(s, 10, 3, 0, 0), 3);
    assert_int_equal(snapshot_sa_lower(s, 20, 1, 0x100, 0), 3);
    assert_int_equal(snapshot_sa_lower(s, 25, 0, 0, 0), 3);
    assert_int_equal(snapshot_sa_lower(s, 30, 2, 0x500, 1), 4);
    assert_int_equal(snapshot_sa_lower(s, 31, 1, 0x700, 1), 5);
    assert_int_equal(snapshot_sa_lower(s, 32, 0, 0, 0), 5);
    snapshot_release(s);
    engine_free(&e);
    config_free(&c);
}

static void test_empty(void **state)
{
    (void)state;
    struct idt_config c;
    config_defaults(&c);
    struct engine e;
    assert_int_equal(engine_init(&e, &c, 0, 1), 0);
    struct snapshot *s = snapshot_build(&e, 2, 0);
    assert_non_null(s);
    assert_int_equal(s->nsa, 0);
    assert_int_equal(snapshot_sa_lower(s, 1, 1, 1, 0), 0);
    assert_null(snapshot_sa_tunnel(s, 0));
    snapshot_release(s);
    engine_free(&e);
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_and_lookups),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
