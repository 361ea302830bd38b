/* test_esp_linktypes.c - unit tests for the router link types of the ESP
 * parser: DLT_NULL (0), DLT_PPP (9), DLT_PPP_SERIAL (50), DLT_C_HDLC (104)
 * and DLT_LOOP (108).  (Ethernet, Linux cooked and raw IP are covered by
 * test_esp_parse.c.)
 *
 * Every frame is assembled byte by byte from explicit header values; every
 * expected value (offsets, lengths, SPI, sequence number, addresses) is
 * written out by hand, never taken from the parser.  Every call copies the
 * frame into a heap buffer of exactly caplen bytes so that
 * AddressSanitizer reports any read past caplen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "esp_parse.h"
#include "frame_builder.h"

/* ------------------------------------------------------------ builders */

/* 32-bit value, least significant byte first (a little-endian host). */
static void put32le(struct fb *f, uint32_t v)
{
    put8(f, v & 0xff);
    put8(f, (v >> 8) & 0xff);
    put8(f, (v >> 16) & 0xff);
    put8(f, (v >> 24) & 0xff);
}

static const uint8_t V4SRC[4] = { 192, 0, 2, 1 };
static const uint8_t V4DST[4] = { 198, 51, 100, 2 };
static const uint8_t V6SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t V6DST[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t V4SRC16[16] = { 192, 0, 2, 1 };
static const uint8_t V4DST16[16] = { 198, 51, 100, 2 };

/* IPv4 header, IHL 5, DF clear, checksum 0 (not verified by the parser). */
static void ip4(struct fb *f, unsigned tot, unsigned proto)
{
    put8(f, 0x45);
    put8(f, 0);
    put16(f, tot);
    put16(f, 0x1234);
    put16(f, 0);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    putmem(f, V4SRC, 4);
    putmem(f, V4DST, 4);
}

static void ip6(struct fb *f, unsigned plen, unsigned nh)
{
    put32(f, 0x60000000);
    put16(f, plen);
    put8(f, nh);
    put8(f, 64);
    putmem(f, V6SRC, 16);
    putmem(f, V6DST, 16);
}

/* The payloads every link type below carries, with their hand-computed
 * figures:
 *   P4     IPv4 / ESP:          20 + 8 + 12 = 40 bytes, SPI 0x1001, seq 7
 *   P6X    IPv6 / HBH(8) / ESP: 40 + 8 + 8 + 4 = 60 bytes, SPI 0x1002, seq 8
 *   P4U    IPv4 / UDP 4500->4500 / ESP: 20 + 8 + 8 + 4 = 40, SPI 0x1003, seq 9 */
enum payload { P4, P6X, P4U };

static void payload(struct fb *f, enum payload p)
{
    switch (p) {
    case P4:
        ip4(f, 40, 50);
        esp(f, 0x1001, 7, 12);
        break;
    case P6X:
        ip6(f, 20, 0);
        ext6(f, 50, 0);
        esp(f, 0x1002, 8, 4);
        break;
    case P4U:
        ip4(f, 40, 17);
        udp(f, 4500, 4500, 20);
        esp(f, 0x1003, 9, 4);
        break;
    }
}

/* ------------------------------------------------------------ checks */

/* The whole frame f parses as payload p. */
static void expect_payload(int dlt, const struct fb *f, enum payload p)
{
    struct esp_pkt o;
    enum esp_reason r = (enum esp_reason)99;
    uint32_t n = (uint32_t)f->n;

    memset(&o, 0xcc, sizeof o);
    assert_int_equal(parse(dlt, f->b, n, n, &o, &r), ESP_OK);
    assert_int_equal(r, ESP_R_NONE);
    switch (p) {
    case P4:
    case P4U:
        assert_int_equal(o.family, 4);
        assert_int_equal(o.ip_len, 40);
        assert_memory_equal(o.src, V4SRC16, 16);
        assert_memory_equal(o.dst, V4DST16, 16);
        if (p == P4) {
            assert_int_equal(o.encap, ESP_ENCAP_ESP);
            assert_int_equal(o.sport, 0);
            assert_int_equal(o.dport, 0);
            assert_int_equal(o.spi, 0x1001);
            assert_int_equal(o.seq, 7);
        } else {
            assert_int_equal(o.encap, ESP_ENCAP_UDP);
            assert_int_equal(o.sport, 4500);
            assert_int_equal(o.dport, 4500);
            assert_int_equal(o.spi, 0x1003);
            assert_int_equal(o.seq, 9);
        }
        break;
    case P6X:
        assert_int_equal(o.family, 6);
        assert_int_equal(o.encap, ESP_ENCAP_ESP);
        assert_int_equal(o.ip_len, 60);
        assert_int_equal(o.spi, 0x1002);
        assert_int_equal(o.seq, 8);
        assert_memory_equal(o.src, V6SRC, 16);
        assert_memory_equal(o.dst, V6DST, 16);
        break;
    }
}

#define ALL(f) (uint32_t)(f).n, (uint32_t)(f).n

/* A link header (hdr, hlen bytes) followed by payload p. */
static void framed(struct fb *f, const uint8_t *hdr, size_t hlen, enum payload p)
{
    fb_init(f);
    putmem(f, hdr, hlen);
    payload(f, p);
}

/* A link header followed by 40 bytes of a non-IP protocol. */
static void expect_ignored(int dlt, const uint8_t *hdr, size_t hlen)
{
    struct fb f;

    fb_init(&f);
    putmem(&f, hdr, hlen);
    putfill(&f, 0x45, 40);          /* looks like IPv4: the header decides */
    expect_v(dlt, &f, ALL(f), ESP_IGNORED, ESP_R_ETHERTYPE);
}

/* ------------------------------------------------------------ DLT_NULL / DLT_LOOP */

static void t_null_both_orders(void **s)
{
    static const uint32_t af6[] = { 10, 24, 28, 30 };
    struct fb f;
    (void)s;

    /* AF_INET, big endian (00 00 00 02) and little endian (02 00 00 00) */
    fb_init(&f);
    put32(&f, 2);
    payload(&f, P4);
    assert_int_equal(f.n, 4 + 40);
    assert_int_equal(f.b[3], 2);
    expect_payload(0, &f, P4);
    fb_init(&f);
    put32le(&f, 2);
    payload(&f, P4);
    assert_int_equal(f.b[0], 2);
    expect_payload(0, &f, P4);
    /* NAT-T in both orders */
    fb_init(&f);
    put32(&f, 2);
    payload(&f, P4U);
    expect_payload(0, &f, P4U);
    fb_init(&f);
    put32le(&f, 2);
    payload(&f, P4U);
    expect_payload(0, &f, P4U);
    /* every AF_INET6 value, both orders, with an extension header */
    for (size_t i = 0; i < sizeof af6 / sizeof af6[0]; i++) {
        fb_init(&f);
        put32(&f, af6[i]);
        payload(&f, P6X);
        assert_int_equal(f.n, 4 + 60);
        expect_payload(0, &f, P6X);
        fb_init(&f);
        put32le(&f, af6[i]);
        payload(&f, P6X);
        expect_payload(0, &f, P6X);
    }
}

static void t_loop_network_order(void **s)
{
    static const uint32_t af6[] = { 10, 24, 28, 30 };
    struct fb f;
    (void)s;

    fb_init(&f);
    put32(&f, 2);
    payload(&f, P4);
    expect_payload(108, &f, P4);
    fb_init(&f);
    put32(&f, 2);
    payload(&f, P4U);
    expect_payload(108, &f, P4U);
    for (size_t i = 0; i < sizeof af6 / sizeof af6[0]; i++) {
        fb_init(&f);
        put32(&f, af6[i]);
        payload(&f, P6X);
        expect_payload(108, &f, P6X);
    }
    /* DLT_LOOP is network order: 02 00 00 00 is AF 0x02000000, unknown */
    fb_init(&f);
    put32le(&f, 2);
    payload(&f, P4);
    expect_v(108, &f, ALL(f), ESP_IGNORED, ESP_R_ETHERTYPE);
    fb_init(&f);
    put32le(&f, 30);
    payload(&f, P6X);
    expect_v(108, &f, ALL(f), ESP_IGNORED, ESP_R_ETHERTYPE);
}

static void t_null_other_af(void **s)
{
    /* AF_UNSPEC 0, AF_UNIX 1, AF_IPX 4/23, AF_APPLETALK 16, AF_ISO 7, 26, 0xffff */
    static const uint32_t other[] = { 0, 1, 4, 7, 16, 23, 26, 0xffff };
    struct fb f;
    (void)s;

    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        uint8_t be[4] = { 0, 0, (uint8_t)(other[i] >> 8), (uint8_t)other[i] };
        uint8_t le[4] = { (uint8_t)other[i], (uint8_t)(other[i] >> 8), 0, 0 };
        expect_ignored(0, be, 4);
        expect_ignored(0, le, 4);
        expect_ignored(108, be, 4);
    }
    /* the family says IPv4, the packet is IPv6 (and vice versa) */
    fb_init(&f);
    put32(&f, 2);
    payload(&f, P6X);
    expect_v(0, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_VERSION);
    fb_init(&f);
    put32le(&f, 28);
    payload(&f, P4);
    putfill(&f, 0, 20);             /* long enough for an IPv6 header */
    expect_v(0, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_VERSION);
    fb_init(&f);
    put32(&f, 30);
    payload(&f, P4);
    putfill(&f, 0, 20);
    expect_v(108, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_VERSION);
}

/* ------------------------------------------------------------ PPP */

static void t_ppp(void **s)
{
    static const uint8_t full4[] = { 0xff, 0x03, 0x00, 0x21 };
    static const uint8_t full6[] = { 0xff, 0x03, 0x00, 0x57 };
    static const uint8_t acfc4[] = { 0x00, 0x21 };          /* no address/control */
    static const uint8_t acfc6[] = { 0x00, 0x57 };
    static const uint8_t pfc4[] = { 0xff, 0x03, 0x21 };     /* 1-byte protocol */
    static const uint8_t pfc6[] = { 0xff, 0x03, 0x57 };
    static const uint8_t both4[] = { 0x21 };
    static const uint8_t both6[] = { 0x57 };
    struct fb f;
    (void)s;

    framed(&f, full4, 4, P4);
    assert_int_equal(f.n, 44);
    expect_payload(9, &f, P4);
    framed(&f, full4, 4, P4U);
    expect_payload(9, &f, P4U);
    framed(&f, full6, 4, P6X);
    expect_payload(9, &f, P6X);
    framed(&f, acfc4, 2, P4);
    expect_payload(9, &f, P4);
    framed(&f, acfc6, 2, P6X);
    expect_payload(9, &f, P6X);
    framed(&f, pfc4, 3, P4U);
    expect_payload(9, &f, P4U);
    framed(&f, pfc6, 3, P6X);
    expect_payload(9, &f, P6X);
    framed(&f, both4, 1, P4);
    expect_payload(9, &f, P4);
    framed(&f, both6, 1, P6X);
    expect_payload(9, &f, P6X);
    /* protocol says IPv6, payload is IPv4 */
    framed(&f, full6, 4, P4);
    putfill(&f, 0, 20);
    expect_v(9, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_VERSION);
}

static void t_ppp_non_ip(void **s)
{
    static const uint8_t lcp[] = { 0xff, 0x03, 0xc0, 0x21 };
    static const uint8_t ipcp[] = { 0xff, 0x03, 0x80, 0x21 };
    static const uint8_t ipv6cp[] = { 0xff, 0x03, 0x80, 0x57 };
    static const uint8_t ccp[] = { 0x80, 0xfd };            /* no address/control */
    static const uint8_t mp[] = { 0x00, 0x3d };             /* multilink fragment */
    static const uint8_t vj[] = { 0xff, 0x03, 0x2d };       /* VJ compressed, PFC */
    static const uint8_t badctl[] = { 0xff, 0x05, 0x00, 0x21 };
    static const uint8_t ipx[] = { 0x00, 0x2b };
    static const uint8_t pfc_ip[] = { 0xff, 0x03, 0x21, 0x00 };
    struct fb f;
    (void)s;

    expect_ignored(9, lcp, 4);
    expect_ignored(9, ipcp, 4);
    expect_ignored(9, ipv6cp, 4);
    expect_ignored(9, ccp, 2);
    expect_ignored(9, mp, 2);
    expect_ignored(9, vj, 3);
    expect_ignored(9, badctl, 4);
    expect_ignored(9, ipx, 2);
    /* 0x21 is the compressed IPv4 protocol: the IP header starts at the
     * 0x00 after it, version 0 */
    framed(&f, pfc_ip, 4, P4);
    expect_v(9, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_VERSION);
    /* the same non-IP headers in DLT_PPP_SERIAL */
    expect_ignored(50, lcp, 4);
    expect_ignored(50, ipcp, 4);
    expect_ignored(50, ipv6cp, 4);
    expect_ignored(50, badctl, 4);
}

static void t_ppp_serial(void **s)
{
    static const uint8_t ppp4[] = { 0xff, 0x03, 0x00, 0x21 };
    static const uint8_t ppp6[] = { 0xff, 0x03, 0x00, 0x57 };
    static const uint8_t pfc4[] = { 0xff, 0x03, 0x21 };
    static const uint8_t ch4[] = { 0x0f, 0x00, 0x08, 0x00 };
    static const uint8_t ch6[] = { 0x8f, 0x00, 0x86, 0xdd };
    static const uint8_t slarp[] = { 0x8f, 0x00, 0x80, 0x35 };
    static const uint8_t cdp[] = { 0x0f, 0x00, 0x20, 0x00 };
    static const uint8_t chppp[] = { 0x0f, 0x00, 0x00, 0x21 };  /* PPP number in CHDLC */
    struct fb f;
    (void)s;

    framed(&f, ppp4, 4, P4);
    expect_payload(50, &f, P4);
    framed(&f, ppp4, 4, P4U);
    expect_payload(50, &f, P4U);
    framed(&f, ppp6, 4, P6X);
    expect_payload(50, &f, P6X);
    framed(&f, pfc4, 3, P4);
    expect_payload(50, &f, P4);
    framed(&f, ch4, 4, P4);
    expect_payload(50, &f, P4);
    framed(&f, ch4, 4, P4U);
    expect_payload(50, &f, P4U);
    framed(&f, ch6, 4, P6X);
    expect_payload(50, &f, P6X);
    expect_ignored(50, slarp, 4);
    expect_ignored(50, cdp, 4);
    expect_ignored(50, chppp, 4);
}

/* ------------------------------------------------------------ Cisco HDLC */

static void t_c_hdlc(void **s)
{
    static const uint8_t u4[] = { 0x0f, 0x00, 0x08, 0x00 };
    static const uint8_t b4[] = { 0x8f, 0x00, 0x08, 0x00 };
    static const uint8_t u6[] = { 0x0f, 0x00, 0x86, 0xdd };
    static const uint8_t b6[] = { 0x8f, 0x00, 0x86, 0xdd };
    static const uint8_t slarp[] = { 0x8f, 0x00, 0x80, 0x35 };
    static const uint8_t cdp[] = { 0x0f, 0x00, 0x20, 0x00 };
    static const uint8_t arp[] = { 0x0f, 0x00, 0x08, 0x06 };
    static const uint8_t tag[] = { 0x0f, 0x00, 0x81, 0x00 }; /* no VLAN tags in CHDLC */
    static const uint8_t ppp[] = { 0x0f, 0x00, 0x00, 0x21 };
    struct fb f;
    (void)s;

    framed(&f, u4, 4, P4);
    assert_int_equal(f.n, 44);
    expect_payload(104, &f, P4);
    framed(&f, b4, 4, P4U);
    expect_payload(104, &f, P4U);
    framed(&f, u6, 4, P6X);
    expect_payload(104, &f, P6X);
    framed(&f, b6, 4, P6X);
    expect_payload(104, &f, P6X);
    expect_ignored(104, slarp, 4);
    expect_ignored(104, cdp, 4);
    expect_ignored(104, arp, 4);
    expect_ignored(104, tag, 4);
    expect_ignored(104, ppp, 4);
    /* Ethertype IPv6, payload IPv4 */
    framed(&f, u6, 4, P4);
    putfill(&f, 0, 20);
    expect_v(104, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_VERSION);
}

/* ------------------------------------------------------------ link types */

static void t_supported(void **s)
{
    static const int good[] = { 0, 9, 50, 104, 108 };
    static const int bad[] = { 2, 8, 10, 11, 51, 103, 105, 107, 109, 204 };
    uint8_t buf[64];
    enum esp_reason r;
    (void)s;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(esp_dlt_supported(good[i]), 1);
    memset(buf, 0, sizeof buf);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(esp_dlt_supported(bad[i]), 0);
        r = ESP_R_NONE;
        assert_int_equal(esp_parse(bad[i], buf, 64, 64, NULL, &r), ESP_IGNORED);
        assert_int_equal(r, ESP_R_LINKTYPE);
    }
}

/* ------------------------------------------------------------ truncation */

/* A link header of hlen bytes + payload p.  Every caplen below hlen is
 * TRUNC_L2, from hlen to hlen + IP header IP_HDR, then TRUNC_ESP until the
 * ESP header is complete (hand-computed: esp_at = offset of the ESP header
 * in the payload), OK from there; with wirelen = caplen everything short
 * of the whole frame is MALFORMED. */
static void every_prefix(int dlt, const uint8_t *hdr, uint32_t hlen, enum payload p)
{
    struct fb f;
    uint32_t iphl = p == P6X ? 40 : 20;
    uint32_t esp_at = p == P4 ? 20 : p == P6X ? 48 : 28;
    uint32_t n;

    framed(&f, hdr, hlen, p);
    n = (uint32_t)f.n;
    assert_int_equal(n, hlen + (p == P6X ? 60 : 40));
    for (uint32_t cap = 0; cap <= n; cap++) {
        struct esp_pkt o;
        enum esp_reason r = (enum esp_reason)99;
        enum esp_verdict v;

        if (cap < hlen)
            expect_v(dlt, &f, cap, n, ESP_MALFORMED, ESP_R_TRUNC_L2);
        else if (cap < hlen + iphl)
            expect_v(dlt, &f, cap, n, ESP_MALFORMED, ESP_R_IP_HDR);
        else if (cap < hlen + esp_at + 8)
            expect_v(dlt, &f, cap, n, ESP_MALFORMED, ESP_R_TRUNC_ESP);
        else
            assert_int_equal(parse(dlt, f.b, cap, n, &o, &r), ESP_OK);
        v = parse(dlt, f.b, cap, cap, &o, &r);
        assert_int_equal(v, cap == n ? ESP_OK : ESP_MALFORMED);
        /* a link header cut short is malformed whatever the wire length */
        if (cap < hlen) {
            assert_int_equal(parse(dlt, f.b, cap, 65535, &o, &r), ESP_MALFORMED);
            assert_int_equal(r, ESP_R_TRUNC_L2);
        }
    }
}

static void t_every_prefix(void **s)
{
    static const uint8_t af4be[] = { 0, 0, 0, 2 }, af4le[] = { 2, 0, 0, 0 };
    static const uint8_t af6be[] = { 0, 0, 0, 28 }, af6le[] = { 30, 0, 0, 0 };
    static const uint8_t ppp4[] = { 0xff, 0x03, 0x00, 0x21 };
    static const uint8_t ppp6[] = { 0xff, 0x03, 0x00, 0x57 };
    static const uint8_t acfc6[] = { 0x00, 0x57 };
    static const uint8_t pfc4[] = { 0xff, 0x03, 0x21 };
    static const uint8_t both4[] = { 0x21 };
    static const uint8_t ch4[] = { 0x0f, 0x00, 0x08, 0x00 };
    static const uint8_t ch6[] = { 0x8f, 0x00, 0x86, 0xdd };
    (void)s;

    every_prefix(0, af4be, 4, P4);
    every_prefix(0, af4le, 4, P4U);
    every_prefix(0, af6be, 4, P6X);
    every_prefix(0, af6le, 4, P6X);
    every_prefix(108, af4be, 4, P4U);
    every_prefix(108, af6be, 4, P6X);
    every_prefix(9, ppp4, 4, P4);
    every_prefix(9, ppp6, 4, P6X);
    every_prefix(9, acfc6, 2, P6X);
    every_prefix(9, pfc4, 3, P4U);
    every_prefix(9, both4, 1, P4);
    every_prefix(50, ppp4, 4, P4U);
    every_prefix(50, ppp6, 4, P6X);
    every_prefix(50, pfc4, 3, P4);
    every_prefix(50, ch4, 4, P4);
    every_prefix(50, ch6, 4, P6X);
    every_prefix(104, ch4, 4, P4U);
    every_prefix(104, ch6, 4, P6X);
}

/* Hand-picked short headers and their exact reasons. */
static void t_short_headers(void **s)
{
    static const struct {
        int dlt;
        uint8_t b[4];
        uint32_t len;
        enum esp_verdict v;
        enum esp_reason r;
    } c[] = {
        /* DLT_PPP: 0xff announces address + control */
        { 9, { 0xff }, 1, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 9, { 0xff, 0x03 }, 2, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 9, { 0xff, 0x03, 0x00 }, 3, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 9, { 0xff, 0x03, 0x21 }, 3, ESP_MALFORMED, ESP_R_IP_HDR },
        { 9, { 0xff, 0x03, 0x00, 0x21 }, 4, ESP_MALFORMED, ESP_R_IP_HDR },
        { 9, { 0xff, 0x03, 0xc0 }, 3, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 9, { 0xff, 0x03, 0xc0, 0x21 }, 4, ESP_IGNORED, ESP_R_ETHERTYPE },
        { 9, { 0xff, 0x05 }, 2, ESP_IGNORED, ESP_R_ETHERTYPE },
        { 9, { 0x00 }, 1, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 9, { 0x21 }, 1, ESP_MALFORMED, ESP_R_IP_HDR },
        { 9, { 0x57 }, 1, ESP_MALFORMED, ESP_R_IP_HDR },
        { 9, { 0x3d }, 1, ESP_IGNORED, ESP_R_ETHERTYPE },
        /* DLT_PPP_SERIAL: 0x0f / 0x8f is Cisco HDLC, 4 bytes */
        { 50, { 0x0f }, 1, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 50, { 0x8f, 0x00, 0x08 }, 3, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 50, { 0x8f, 0x00, 0x08, 0x00 }, 4, ESP_MALFORMED, ESP_R_IP_HDR },
        { 50, { 0xff }, 1, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 50, { 0xff, 0x03, 0x00 }, 3, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 50, { 0xff, 0x03, 0x00, 0x57 }, 4, ESP_MALFORMED, ESP_R_IP_HDR },
        /* DLT_C_HDLC */
        { 104, { 0x0f, 0x00, 0x86 }, 3, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 104, { 0x0f, 0x00, 0x86, 0xdd }, 4, ESP_MALFORMED, ESP_R_IP_HDR },
        { 104, { 0x0f, 0x00, 0x80, 0x35 }, 4, ESP_IGNORED, ESP_R_ETHERTYPE },
        /* DLT_NULL / DLT_LOOP */
        { 0, { 2, 0, 0 }, 3, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 0, { 2, 0, 0, 0 }, 4, ESP_MALFORMED, ESP_R_IP_HDR },
        { 0, { 0, 0, 0, 24 }, 4, ESP_MALFORMED, ESP_R_IP_HDR },
        { 0, { 0, 0, 0, 7 }, 4, ESP_IGNORED, ESP_R_ETHERTYPE },
        { 108, { 0, 0, 0 }, 3, ESP_MALFORMED, ESP_R_TRUNC_L2 },
        { 108, { 0, 0, 0, 2 }, 4, ESP_MALFORMED, ESP_R_IP_HDR },
        { 108, { 2, 0, 0, 0 }, 4, ESP_IGNORED, ESP_R_ETHERTYPE },
    };
    (void)s;

    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct fb f;
        fb_init(&f);
        putmem(&f, c[i].b, c[i].len);
        expect_v(c[i].dlt, &f, c[i].len, 1500, c[i].v, c[i].r);
    }
}

/* Junk of every short length never crashes, is never ESP; caplen 0 with
 * a NULL pointer is a truncated link header. */
static void t_tiny_caplens(void **s)
{
    static const int dlts[] = { 0, 9, 50, 104, 108 };
    uint8_t junk[48];
    (void)s;

    for (size_t d = 0; d < sizeof dlts / sizeof dlts[0]; d++) {
        enum esp_reason r = (enum esp_reason)99;
        assert_int_equal(esp_parse(dlts[d], NULL, 0, 1500, NULL, &r), ESP_MALFORMED);
        assert_int_equal(r, ESP_R_TRUNC_L2);
        for (unsigned fillv = 0; fillv < 256; fillv++) {
            memset(junk, (int)fillv, sizeof junk);
            for (uint32_t cap = 0; cap <= sizeof junk; cap++) {
                struct esp_pkt o;
                enum esp_verdict v = parse(dlts[d], junk, cap, 1500, &o, &r);
                assert_true(v == ESP_MALFORMED || v == ESP_IGNORED);
                v = parse(dlts[d], junk, cap, cap, &o, &r);
                assert_true(v == ESP_MALFORMED || v == ESP_IGNORED);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_null_both_orders),
        cmocka_unit_test(t_loop_network_order),
        cmocka_unit_test(t_null_other_af),
        cmocka_unit_test(t_ppp),
        cmocka_unit_test(t_ppp_non_ip),
        cmocka_unit_test(t_ppp_serial),
        cmocka_unit_test(t_c_hdlc),
        cmocka_unit_test(t_supported),
        cmocka_unit_test(t_every_prefix),
        cmocka_unit_test(t_short_headers),
        cmocka_unit_test(t_tiny_caplens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
