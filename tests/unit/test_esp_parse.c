/* test_esp_parse.c - unit tests for the ESP packet parser.
 *
 * Every frame is assembled byte by byte from explicit header values by the
 * small builders below; every expected value (offsets, lengths, SPI,
 * sequence number, addresses) is written out by hand in the test, never
 * taken from the parser.  Every call goes through parse(), which copies
 * the frame into a heap buffer of exactly caplen bytes so that
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

static const uint8_t MAC_DST[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_SRC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static const uint8_t V4SRC[4] = { 192, 0, 2, 1 };
static const uint8_t V4DST[4] = { 198, 51, 100, 2 };
static const uint8_t V6SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t V6DST[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0x02 };
/* what esp_pkt.src/dst must hold for IPv4: address, then 12 zero bytes */
static const uint8_t V4SRC16[16] = { 192, 0, 2, 1 };
static const uint8_t V4DST16[16] = { 198, 51, 100, 2 };

/* Ethernet II: dst MAC, src MAC, EtherType. */
static void eth(struct fb *f, unsigned type)
{
    putmem(f, MAC_DST, 6);
    putmem(f, MAC_SRC, 6);
    put16(f, type);
}

/* The 4 bytes that follow a TPID: TCI, then the next EtherType. */
static void vlan(struct fb *f, unsigned tci, unsigned next_type)
{
    put16(f, tci);
    put16(f, next_type);
}

/* Linux cooked v1: pkttype, ARPHRD type, addr len, 8 addr bytes, protocol */
static void sll(struct fb *f, unsigned proto)
{
    put16(f, 0);            /* PACKET_HOST */
    put16(f, 1);            /* ARPHRD_ETHER */
    put16(f, 6);
    putmem(f, MAC_SRC, 6);
    put16(f, 0);            /* address padding to 8 bytes */
    put16(f, proto);
}

/* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, pkttype, halen, addr */
static void sll2(struct fb *f, unsigned proto)
{
    put16(f, proto);
    put16(f, 0);
    put32(f, 3);            /* ifindex */
    put16(f, 1);            /* ARPHRD_ETHER */
    put8(f, 0);             /* PACKET_HOST */
    put8(f, 6);
    putmem(f, MAC_SRC, 6);
    put16(f, 0);
}

/* IPv4 header with the given IHL (options filled with NOP), total length,
 * flags+fragment offset field and protocol.  Checksum left 0 (the parser
 * does not verify it). */
static void ip4(struct fb *f, unsigned ihl, unsigned tot, unsigned frag,
                unsigned proto)
{
    put8(f, 0x40 | ihl);
    put8(f, 0);             /* TOS */
    put16(f, tot);
    put16(f, 0x1234);       /* id */
    put16(f, frag);
    put8(f, 64);            /* TTL */
    put8(f, proto);
    put16(f, 0);            /* checksum */
    putmem(f, V4SRC, 4);
    putmem(f, V4DST, 4);
    if (ihl > 5)
        putfill(f, 0x01, (ihl - 5) * 4);
}

static void ip6(struct fb *f, unsigned plen, unsigned nh)
{
    put32(f, 0x60000000);   /* version 6, TC 0, flow 0 */
    put16(f, plen);
    put8(f, nh);
    put8(f, 64);            /* hop limit */
    putmem(f, V6SRC, 16);
    putmem(f, V6DST, 16);
}

/* IPv6 fragment header: offset in 8-octet units, M flag. */
static void frag6(struct fb *f, unsigned nh, unsigned offset8, unsigned m)
{
    put8(f, nh);
    put8(f, 0);
    put16(f, (offset8 << 3) | (m ? 1 : 0));
    put32(f, 0xcafe0001);   /* identification */
}

/* AH: next header, payload len (in 4-octet units minus 2), reserved, SPI,
 * sequence, ICV (zeros).  Total (len+2)*4 bytes. */
static void ah(struct fb *f, unsigned nh, unsigned len)
{
    put8(f, nh);
    put8(f, len);
    put16(f, 0);
    put32(f, 0x0000a0a0);
    put32(f, 7);
    putfill(f, 0, (len + 2) * 4 - 12);
}

/* ------------------------------------------------------------ checks */

static void expect_ok(int dlt, const struct fb *f, uint32_t caplen,
                      uint32_t wirelen, unsigned family, unsigned encap,
                      unsigned sport, unsigned dport, uint32_t spi,
                      uint32_t seq, uint32_t ip_len)
{
    struct esp_pkt o;
    enum esp_reason r = (enum esp_reason)99;

    memset(&o, 0xcc, sizeof o);
    assert_int_equal(parse(dlt, f->b, caplen, wirelen, &o, &r), ESP_OK);
    assert_int_equal(r, ESP_R_NONE);
    assert_int_equal(o.family, family);
    assert_int_equal(o.encap, encap);
    assert_int_equal(o.sport, sport);
    assert_int_equal(o.dport, dport);
    assert_int_equal(o.spi, spi);
    assert_int_equal(o.seq, seq);
    assert_int_equal(o.ip_len, ip_len);
    if (family == 4) {
        assert_memory_equal(o.src, V4SRC16, 16);
        assert_memory_equal(o.dst, V4DST16, 16);
    } else {
        assert_memory_equal(o.src, V6SRC, 16);
        assert_memory_equal(o.dst, V6DST, 16);
    }
}

#define ALL(f) (uint32_t)(f).n, (uint32_t)(f).n

/* ------------------------------------------------------------ link types */

static void t_eth_ipv4_esp(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 52, 0, 50);                  /* 20 + 8 + 24 = 52 */
    esp(&f, 0x11223344, 0x00000102, 24);
    assert_int_equal(f.n, 66);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0x11223344, 258, 52);
    /* out and reason may be NULL */
    assert_int_equal(esp_parse(1, f.b, 66, 66, NULL, NULL), ESP_OK);
}

static void t_eth_8021q(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    eth(&f, 0x8100);
    vlan(&f, 0x0064, 0x0800);               /* VLAN 100 */
    ip4(&f, 5, 40, 0x4000, 50);             /* DF set, 20 + 8 + 12 */
    esp(&f, 0xdeadbeef, 0xffffffff, 12);
    assert_int_equal(f.n, 58);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0xdeadbeef, 0xffffffff, 40);
}

static void t_eth_qinq(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    eth(&f, 0x88a8);
    vlan(&f, 10, 0x8100);
    vlan(&f, 20, 0x86dd);
    ip6(&f, 24, 50);                        /* ESP 8 + 16 */
    esp(&f, 0x00000100, 1, 16);
    assert_int_equal(f.n, 22 + 40 + 24);
    expect_ok(1, &f, ALL(f), 6, ESP_ENCAP_ESP, 0, 0, 256, 1, 64);
}

static void t_eth_stacked_9100(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    eth(&f, 0x9100);
    vlan(&f, 1, 0x88a8);
    vlan(&f, 2, 0x8100);
    vlan(&f, 3, 0x0800);
    ip4(&f, 5, 36, 0, 50);
    esp(&f, 0x01020304, 0x05060708, 8);
    assert_int_equal(f.n, 26 + 36);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0x01020304, 0x05060708, 36);
}

static void t_sll(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    sll(&f, 0x0800);
    ip4(&f, 5, 44, 0, 50);
    esp(&f, 0x0000abcd, 42, 16);
    assert_int_equal(f.n, 16 + 44);
    expect_ok(113, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0xabcd, 42, 44);

    fb_init(&f);
    sll(&f, 0x86dd);
    ip6(&f, 8, 50);
    esp(&f, 0x0000abce, 43, 0);
    expect_ok(113, &f, ALL(f), 6, ESP_ENCAP_ESP, 0, 0, 0xabce, 43, 48);

    /* VLAN-tagged protocol in SLL */
    fb_init(&f);
    sll(&f, 0x8100);
    vlan(&f, 55, 0x0800);
    ip4(&f, 5, 28, 0, 50);
    esp(&f, 0x12345678, 9, 0);
    assert_int_equal(f.n, 16 + 4 + 28);
    expect_ok(113, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0x12345678, 9, 28);

    /* ARP in SLL */
    fb_init(&f);
    sll(&f, 0x0806);
    putfill(&f, 0, 28);
    expect_v(113, &f, ALL(f), ESP_IGNORED, ESP_R_ETHERTYPE);
}

static void t_sll2(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    sll2(&f, 0x86dd);
    ip6(&f, 20, 50);
    esp(&f, 0x87654321, 0x80000000, 12);
    assert_int_equal(f.n, 20 + 60);
    expect_ok(276, &f, ALL(f), 6, ESP_ENCAP_ESP, 0, 0, 0x87654321, 0x80000000, 60);

    fb_init(&f);
    sll2(&f, 0x0800);
    ip4(&f, 5, 28, 0, 50);
    esp(&f, 0x00001000, 77, 0);
    expect_ok(276, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0x1000, 77, 28);

    fb_init(&f);
    sll2(&f, 0x8100);
    vlan(&f, 7, 0x86dd);
    ip6(&f, 8, 50);
    esp(&f, 0x00001001, 78, 0);
    expect_ok(276, &f, ALL(f), 6, ESP_ENCAP_ESP, 0, 0, 0x1001, 78, 48);
}

static void t_raw(void **s)
{
    struct fb f4, f6;
    static const int v4dlts[] = { 12, 101, 228 };
    static const int v6dlts[] = { 12, 101, 229 };
    (void)s;

    fb_init(&f4);
    ip4(&f4, 5, 32, 0, 50);
    esp(&f4, 0x0badf00d, 1000, 4);
    assert_int_equal(f4.n, 32);
    fb_init(&f6);
    ip6(&f6, 12, 50);
    esp(&f6, 0x0badf00e, 1001, 4);
    assert_int_equal(f6.n, 52);

    for (size_t i = 0; i < 3; i++) {
        expect_ok(v4dlts[i], &f4, ALL(f4), 4, ESP_ENCAP_ESP, 0, 0, 0x0badf00d, 1000, 32);
        expect_ok(v6dlts[i], &f6, ALL(f6), 6, ESP_ENCAP_ESP, 0, 0, 0x0badf00e, 1001, 52);
    }
    /* DLT_IPV4 carrying IPv6 and vice versa */
    expect_v(228, &f6, ALL(f6), ESP_MALFORMED, ESP_R_IP_VERSION);
    expect_v(229, &f4, ALL(f4), ESP_MALFORMED, ESP_R_IP_VERSION);
    /* raw with version 5 */
    f4.b[0] = 0x55;
    expect_v(12, &f4, ALL(f4), ESP_MALFORMED, ESP_R_IP_VERSION);
    expect_v(101, &f4, ALL(f4), ESP_MALFORMED, ESP_R_IP_VERSION);
}

static void t_ethertype_version_mismatch(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    eth(&f, 0x0800);                        /* says IPv4 ... */
    ip6(&f, 8, 50);                         /* ... carries IPv6 */
    esp(&f, 0x1000, 1, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_VERSION);

    fb_init(&f);
    eth(&f, 0x86dd);
    ip4(&f, 5, 28, 0, 50);
    esp(&f, 0x1000, 1, 0);
    putfill(&f, 0, 20);                     /* long enough for an IPv6 header */
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_VERSION);
}

static void t_unsupported_link(void **s)
{
    static const int bad[] = { 2, 10, 105, 127, 113 + 1, 275, 277, -1, 1000 };
    static const int good[] = { 0, 1, 9, 12, 50, 101, 104, 108, 113, 228, 229, 276 };
    uint8_t buf[64];
    enum esp_reason r;
    (void)s;

    memset(buf, 0, sizeof buf);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(esp_dlt_supported(bad[i]), 0);
        r = ESP_R_NONE;
        assert_int_equal(esp_parse(bad[i], buf, 64, 64, NULL, &r), ESP_IGNORED);
        assert_int_equal(r, ESP_R_LINKTYPE);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(esp_dlt_supported(good[i]), 1);
}

static void t_non_ip_ethertype(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    eth(&f, 0x0806);                        /* ARP */
    putfill(&f, 0, 28);
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_ETHERTYPE);

    fb_init(&f);
    eth(&f, 0x8100);
    vlan(&f, 5, 0x0806);                    /* ARP in a VLAN */
    putfill(&f, 0, 28);
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_ETHERTYPE);

    fb_init(&f);
    eth(&f, 46);                            /* 802.3 length field */
    putfill(&f, 0, 46);
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_ETHERTYPE);
}

/* ------------------------------------------------------------ IPv6 */

static void t_ipv6_ext_headers(void **s)
{
    struct fb f;
    (void)s;
    fb_init(&f);
    eth(&f, 0x86dd);
    /* HBH 8 + routing 16 + dstopts 8 + ESP 8 + 8 payload = 48 */
    ip6(&f, 48, 0);
    ext6(&f, 43, 0);
    ext6(&f, 60, 1);
    ext6(&f, 50, 0);
    esp(&f, 0x00c0ffee, 31337, 8);
    assert_int_equal(f.n, 14 + 40 + 48);
    expect_ok(1, &f, ALL(f), 6, ESP_ENCAP_ESP, 0, 0, 0xc0ffee, 31337, 88);
}

static void t_ipv6_fragment(void **s)
{
    struct fb f;
    (void)s;

    /* first fragment, M=1 */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 32, 44);
    frag6(&f, 50, 0, 1);
    esp(&f, 0x00000200, 5, 16);
    assert_int_equal(f.n, 14 + 40 + 32);
    expect_ok(1, &f, ALL(f), 6, ESP_ENCAP_ESP, 0, 0, 0x200, 5, 72);

    /* atomic fragment: offset 0, M=0 */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 32, 44);
    frag6(&f, 50, 0, 0);
    esp(&f, 0x00000201, 6, 16);
    expect_ok(1, &f, ALL(f), 6, ESP_ENCAP_ESP, 0, 0, 0x201, 6, 72);

    /* non-first fragment: offset 185 (1480 bytes) */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 32, 44);
    frag6(&f, 50, 185, 0);
    putfill(&f, 0x5a, 24);
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_FRAGMENT);
    /* offsets 1 and 8191 (field bytes 0x00 0x08 and 0xff 0xf8) */
    f.b[14 + 40 + 2] = 0x00; f.b[14 + 40 + 3] = 0x08;
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_FRAGMENT);
    f.b[14 + 40 + 2] = 0xff; f.b[14 + 40 + 3] = 0xf8;
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_FRAGMENT);

    /* first fragment of a NAT-T datagram: UDP length covers the whole
     * datagram (1400), larger than this fragment's payload */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 8 + 8 + 8 + 16, 44);
    frag6(&f, 17, 0, 1);
    udp(&f, 4500, 4500, 1400);
    esp(&f, 0x00000202, 7, 16);
    expect_ok(1, &f, ALL(f), 6, ESP_ENCAP_UDP, 4500, 4500, 0x202, 7, 80);
}

static void t_ah(void **s)
{
    struct fb f;
    (void)s;

    /* IPv6: AH with payload len 4 -> (4+2)*4 = 24 bytes */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 24 + 8 + 8, 51);
    ah(&f, 50, 4);
    esp(&f, 0x00000300, 12, 8);
    assert_int_equal(f.n, 14 + 40 + 40);
    expect_ok(1, &f, ALL(f), 6, ESP_ENCAP_ESP, 0, 0, 0x300, 12, 80);

    /* IPv4: AH with payload len 1 -> 12 bytes (no ICV) */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 12 + 8, 0, 51);
    ah(&f, 50, 1);
    esp(&f, 0x00000301, 13, 0);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0x301, 13, 40);

    /* AH length runs past the IP payload */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 16, 51);
    ah(&f, 50, 4);                          /* claims 24 bytes */
    expect_v(1, &f, 14 + 56, 14 + 64, ESP_MALFORMED, ESP_R_EXTHDR);
}

static void t_ipv6_other(void **s)
{
    struct fb f;
    (void)s;

    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 0, 59);                         /* no next header */
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_PROTO);

    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 8, 0);
    ext6(&f, 59, 0);                        /* HBH then none */
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_PROTO);

    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 8, 58);                         /* ICMPv6 */
    putfill(&f, 0, 8);
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_PROTO);

    /* IPv6 payload length beyond the wire */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 100, 50);
    esp(&f, 0x1000, 1, 8);                  /* only 16 bytes follow */
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_LEN);

    /* extension header chain runs past the payload length */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 16, 0);
    ext6(&f, 50, 2);                        /* 24 bytes > 16 */
    expect_v(1, &f, 14 + 40 + 16, 14 + 40 + 24, ESP_MALFORMED, ESP_R_EXTHDR);

    /* payload length 0 but a hop-by-hop header is announced */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 0, 0);
    ext6(&f, 50, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_EXTHDR);

    /* fragment header that does not fit in the payload */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 4, 44);
    put32(&f, 0x32000000);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_EXTHDR);
}

/* ------------------------------------------------------------ NAT-T */

static void t_natt(void **s)
{
    struct fb f;
    (void)s;

    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 8 + 20, 0, 17);
    udp(&f, 4500, 61234, 8 + 8 + 20);
    esp(&f, 0x4a4b4c4d, 0x00010000, 20);
    assert_int_equal(f.n, 14 + 56);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_UDP, 4500, 61234, 0x4a4b4c4d, 65536, 56);

    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 8 + 20, 0, 17);
    udp(&f, 50123, 4500, 8 + 8 + 20);
    esp(&f, 0x4a4b4c4e, 3, 20);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_UDP, 50123, 4500, 0x4a4b4c4e, 3, 56);

    fb_init(&f);
    sll2(&f, 0x86dd);
    ip6(&f, 8 + 8 + 4, 17);
    udp(&f, 4500, 4500, 20);
    esp(&f, 0x4a4b4c4f, 4, 4);
    expect_ok(276, &f, ALL(f), 6, ESP_ENCAP_UDP, 4500, 4500, 0x4a4b4c4f, 4, 60);

    /* IPv4 first fragment (MF, offset 0): UDP length > this payload */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 8 + 20, 0x2000, 17);
    udp(&f, 4500, 4500, 1480);
    esp(&f, 0x4a4b4c50, 5, 20);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_UDP, 4500, 4500, 0x4a4b4c50, 5, 56);

    /* UDP length shorter than the IP payload (trailing bytes ignored) */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 8 + 8, 0, 17);
    udp(&f, 4500, 4500, 16);
    esp(&f, 0x4a4b4c51, 6, 8);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_UDP, 4500, 4500, 0x4a4b4c51, 6, 44);
}

static void t_ike_keepalive_other(void **s)
{
    struct fb f;
    (void)s;

    /* IKE with the non-ESP marker, both directions */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 4 + 28, 0, 17);
    udp(&f, 4500, 4500, 8 + 4 + 28);
    put32(&f, 0);                           /* non-ESP marker */
    putfill(&f, 0x11, 28);                  /* IKE header */
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_IKE);
    f.b[14 + 20 + 0] = 0x80;                /* sport 32768+... */
    f.b[14 + 20 + 1] = 0x01;
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_IKE);

    /* NAT keepalive */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 29, 0, 17);
    udp(&f, 4500, 4500, 9);
    put8(&f, 0xff);
    putfill(&f, 0, 60 - 43);                /* Ethernet padding to 60 */
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_KEEPALIVE);
    /* one-byte payload that is not 0xff: cannot be ESP */
    f.b[42] = 0xfe;
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_TRUNC_ESP);

    /* IKE on port 500 and DNS: not ESP */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 28, 0, 17);
    udp(&f, 500, 500, 8 + 28);
    putfill(&f, 0x22, 28);
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_PROTO);
    f.b[34] = 0; f.b[35] = 53; f.b[36] = 0xc0; f.b[37] = 0x00;
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_PROTO);

    /* TCP */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 40, 0, 6);
    putfill(&f, 0, 20);
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_PROTO);
}

static void t_udp_bad(void **s)
{
    struct fb f;
    (void)s;

    /* UDP length 7 */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 8, 0, 17);
    udp(&f, 4500, 4500, 7);
    esp(&f, 0x1000, 1, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_UDP);

    /* UDP length > IP payload, not a fragment */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 8, 0, 17);
    udp(&f, 4500, 4500, 17);
    esp(&f, 0x1000, 1, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_UDP);

    /* UDP header does not fit in the IP payload */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 4, 0, 17);
    put32(&f, (4500u << 16) | 4500u);
    putfill(&f, 0, 60 - 38);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_UDP);

    /* NAT-T UDP with only 6 payload bytes */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 20 + 8 + 6, 0, 17);
    udp(&f, 4500, 4500, 14);
    put32(&f, 0x00001000);
    put16(&f, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_TRUNC_ESP);

    /* NAT-T UDP with empty payload */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 28, 0, 17);
    udp(&f, 4500, 4500, 8);
    putfill(&f, 0, 60 - 42);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_TRUNC_ESP);
}

/* ------------------------------------------------------------ IPv4 lengths */

static void t_ipv4_bad(void **s)
{
    struct fb f;
    (void)s;

    /* IHL 4 */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 4, 28, 0, 50);
    esp(&f, 0x1000, 1, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_HDR);

    /* total length 19 < 20 */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 19, 0, 50);
    esp(&f, 0x1000, 1, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_LEN);

    /* IHL 6 (24 bytes) but total length 22 */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 6, 22, 0, 50);
    esp(&f, 0x1000, 1, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_LEN);

    /* total length 100 but only 14 + 52 bytes on the wire */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 100, 0, 50);
    esp(&f, 0x1000, 1, 24);
    assert_int_equal(f.n, 66);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_IP_LEN);
    /* capture of 66 bytes: wirelen 113 is one short, 114 = 14 + 100 fits */
    expect_v(1, &f, 66, 113, ESP_MALFORMED, ESP_R_IP_LEN);
    expect_ok(1, &f, 66, 114, 4, ESP_ENCAP_ESP, 0, 0, 0x1000, 1, 100);

    /* IHL 15 (60-byte header) cut by the capture */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 15, 68, 0, 50);
    esp(&f, 0x1000, 1, 0);
    assert_int_equal(f.n, 14 + 68);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0x1000, 1, 68);
    expect_v(1, &f, 64, 82, ESP_MALFORMED, ESP_R_IP_HDR);

    /* Ethernet padding after a short IP packet is fine */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 28, 0, 50);
    esp(&f, 0x1000, 2, 0);
    putfill(&f, 0, 60 - 42);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0x1000, 2, 28);

    /* caplen > wirelen: only wirelen bytes count */
    expect_v(1, &f, 60, 41, ESP_MALFORMED, ESP_R_IP_LEN);
    expect_v(1, &f, 60, 10, ESP_MALFORMED, ESP_R_TRUNC_L2);
    expect_v(12, &f, 60, 0, ESP_MALFORMED, ESP_R_IP_HDR);
}

static void t_ipv4_fragment(void **s)
{
    struct fb f;
    (void)s;

    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 48, 0x00b9, 50);             /* offset 185*8 = 1480 */
    putfill(&f, 0x5a, 28);
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_FRAGMENT);
    f.b[14 + 6] = 0x20;                     /* MF + offset 185 */
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_FRAGMENT);
    f.b[14 + 6] = 0x20; f.b[14 + 7] = 0x01; /* MF + offset 1 */
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_FRAGMENT);
    f.b[14 + 6] = 0x10; f.b[14 + 7] = 0x00; /* offset 4096 (top bit) */
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_FRAGMENT);
    f.b[14 + 6] = 0x1f; f.b[14 + 7] = 0xff; /* offset 8191 (max) */
    expect_v(1, &f, ALL(f), ESP_IGNORED, ESP_R_FRAGMENT);

    /* MF with offset 0: the first fragment, carries the ESP header */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 48, 0x2000, 50);
    esp(&f, 0x00007000, 70, 20);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0x7000, 70, 48);
}

/* ------------------------------------------------------------ ESP */

static void t_trunc_esp(void **s)
{
    struct fb f;
    (void)s;

    /* packet ends after 6 bytes of ESP (IPv4) */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 26, 0, 50);
    put32(&f, 0x00001000);
    put16(&f, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_TRUNC_ESP);
    /* the same with Ethernet padding: still only 6 ESP bytes in IP */
    putfill(&f, 0, 60 - 40);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_TRUNC_ESP);

    /* IPv6, payload length 6 */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 6, 50);
    put32(&f, 0x00001000);
    put16(&f, 0);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_TRUNC_ESP);

    /* NAT-T, IPv6: UDP payload of 7 bytes */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 15, 17);
    udp(&f, 4500, 4500, 15);
    put32(&f, 0x00001000);
    putfill(&f, 0, 3);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_TRUNC_ESP);
}

static void t_snaplen64(void **s)
{
    struct fb f;
    (void)s;

    /* Ethernet + IPv4: ESP cut after 5 bytes by the capture */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 200, 0, 50);
    esp(&f, 0x00001000, 1, 100);
    expect_v(1, &f, 14 + 20 + 5, 214, ESP_MALFORMED, ESP_R_TRUNC_ESP);

    /* QinQ + IPv6: ESP starts at 62, snaplen 64 cuts it after 2 bytes */
    fb_init(&f);
    eth(&f, 0x88a8);
    vlan(&f, 10, 0x8100);
    vlan(&f, 20, 0x86dd);
    ip6(&f, 400, 50);
    esp(&f, 0x00002000, 2, 100);
    expect_v(1, &f, 64, 22 + 40 + 400, ESP_MALFORMED, ESP_R_TRUNC_ESP);

    /* 802.1Q + IPv6: ESP at 58..66, cut at 64 */
    fb_init(&f);
    eth(&f, 0x8100);
    vlan(&f, 10, 0x86dd);
    ip6(&f, 400, 50);
    esp(&f, 0x00002000, 2, 100);
    expect_v(1, &f, 64, 18 + 40 + 400, ESP_MALFORMED, ESP_R_TRUNC_ESP);

    /* QinQ + IPv6 + HBH + routing + dstopts: the chain itself is cut */
    fb_init(&f);
    eth(&f, 0x88a8);
    vlan(&f, 10, 0x8100);
    vlan(&f, 20, 0x86dd);
    ip6(&f, 8 + 16 + 8 + 8 + 100, 0);
    ext6(&f, 43, 0);
    ext6(&f, 60, 1);
    ext6(&f, 50, 0);
    esp(&f, 0x00003000, 3, 100);
    assert_int_equal(f.n, 22 + 40 + 140);
    for (uint32_t cap = 62; cap <= 64; cap++)
        expect_v(1, &f, cap, 202, ESP_MALFORMED, ESP_R_TRUNC_ESP);
    expect_ok(1, &f, 22 + 40 + 40, 202, 6, ESP_ENCAP_ESP, 0, 0, 0x3000, 3, 180);

    /* things that do fit in 64 bytes */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 300, 50);
    esp(&f, 0x00004000, 4, 292);
    expect_ok(1, &f, 64, 354, 6, ESP_ENCAP_ESP, 0, 0, 0x4000, 4, 340);

    fb_init(&f);
    eth(&f, 0x8100);
    vlan(&f, 3, 0x0800);
    ip4(&f, 5, 300, 0, 17);
    udp(&f, 4500, 4500, 280);
    esp(&f, 0x00004001, 5, 264);
    expect_ok(1, &f, 64, 318, 4, ESP_ENCAP_UDP, 4500, 4500, 0x4001, 5, 300);

    /* IPv6 NAT-T needs 14 + 40 + 8 + 8 = 70 bytes */
    fb_init(&f);
    eth(&f, 0x86dd);
    ip6(&f, 300, 17);
    udp(&f, 4500, 4500, 300);
    esp(&f, 0x00004002, 6, 284);
    expect_v(1, &f, 64, 354, ESP_MALFORMED, ESP_R_TRUNC_ESP);
    expect_ok(1, &f, 70, 354, 6, ESP_ENCAP_UDP, 4500, 4500, 0x4002, 6, 340);
}

static void t_spi_reserved(void **s)
{
    static const uint32_t bad[] = { 0, 1, 255 };
    struct fb f;
    (void)s;

    for (size_t i = 0; i < 3; i++) {
        fb_init(&f);
        eth(&f, 0x0800);
        ip4(&f, 5, 36, 0, 50);
        esp(&f, bad[i], 10, 8);
        expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_SPI_RESERVED);

        fb_init(&f);
        eth(&f, 0x86dd);
        ip6(&f, 16, 50);
        esp(&f, bad[i], 10, 8);
        expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_SPI_RESERVED);
    }
    /* over UDP, SPI 1..255 is reserved too (0 is the IKE marker) */
    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 44, 0, 17);
    udp(&f, 4500, 4500, 24);
    esp(&f, 255, 10, 8);
    expect_v(1, &f, ALL(f), ESP_MALFORMED, ESP_R_SPI_RESERVED);

    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 36, 0, 50);
    esp(&f, 256, 10, 8);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 256, 10, 36);

    fb_init(&f);
    eth(&f, 0x0800);
    ip4(&f, 5, 36, 0, 50);
    esp(&f, 0xffffffff, 0, 8);
    expect_ok(1, &f, ALL(f), 4, ESP_ENCAP_ESP, 0, 0, 0xffffffff, 0, 36);
}

/* ------------------------------------------------------------ truncation */

static void t_tiny_caplens(void **s)
{
    static const int dlts[] = { 1, 12, 101, 113, 228, 229, 276 };
    uint8_t junk[24];
    (void)s;

    for (size_t d = 0; d < sizeof dlts / sizeof dlts[0]; d++) {
        enum esp_reason r = (enum esp_reason)99;
        /* caplen 0 with a NULL pointer */
        assert_int_equal(esp_parse(dlts[d], NULL, 0, 0, NULL, &r), ESP_MALFORMED);
        r = (enum esp_reason)99;
        assert_int_equal(esp_parse(dlts[d], NULL, 0, 1500, NULL, &r), ESP_MALFORMED);
        if (dlts[d] == 1 || dlts[d] == 113 || dlts[d] == 276)
            assert_int_equal(r, ESP_R_TRUNC_L2);
        else
            assert_int_equal(r, ESP_R_IP_HDR);
        for (unsigned fillv = 0; fillv < 256; fillv += 0x11) {
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
    /* exact tiny-length reasons for Ethernet, hand-derived */
    {
        struct fb f;
        fb_init(&f);
        eth(&f, 0x8100);
        vlan(&f, 1, 0x0800);
        ip4(&f, 5, 28, 0, 50);
        esp(&f, 0x1000, 1, 0);
        expect_v(1, &f, 13, 46, ESP_MALFORMED, ESP_R_TRUNC_L2);
        expect_v(1, &f, 17, 46, ESP_MALFORMED, ESP_R_TRUNC_L2);
        expect_v(1, &f, 18, 46, ESP_MALFORMED, ESP_R_IP_HDR);
        expect_v(1, &f, 37, 46, ESP_MALFORMED, ESP_R_IP_HDR);
        expect_v(1, &f, 38, 46, ESP_MALFORMED, ESP_R_TRUNC_ESP);
        expect_v(1, &f, 45, 46, ESP_MALFORMED, ESP_R_TRUNC_ESP);
        expect_ok(1, &f, 46, 46, 4, ESP_ENCAP_ESP, 0, 0, 0x1000, 1, 28);
    }
}

/* A valid frame plus the hand-computed boundaries of its headers:
 * caplen < l2 -> TRUNC_L2, < ip -> IP_HDR, < ok -> TRUNC_ESP, else OK. */
struct prefix_case {
    int dlt;
    struct fb f;
    uint32_t l2, ip, ok;
    unsigned family, encap, sport, dport;
    uint32_t spi, seq, ip_len;
};

static void run_prefixes(const struct prefix_case *c)
{
    uint32_t n = (uint32_t)c->f.n;

    for (uint32_t cap = 0; cap <= n; cap++) {
        enum esp_reason want;
        /* 1: capture truncated, wire length intact */
        if (cap >= c->ok) {
            expect_ok(c->dlt, &c->f, cap, n, c->family, c->encap, c->sport,
                      c->dport, c->spi, c->seq, c->ip_len);
        } else {
            want = cap < c->l2 ? ESP_R_TRUNC_L2 :
                   cap < c->ip ? ESP_R_IP_HDR : ESP_R_TRUNC_ESP;
            expect_v(c->dlt, &c->f, cap, n, ESP_MALFORMED, want);
        }
        /* 2: the packet really ended there: OK only when complete */
        {
            struct esp_pkt o;
            enum esp_reason r;
            enum esp_verdict v = parse(c->dlt, c->f.b, cap, cap, &o, &r);
            if (cap == n)
                assert_int_equal(v, ESP_OK);
            else
                assert_int_equal(v, ESP_MALFORMED);
        }
    }
}

static void t_every_prefix(void **s)
{
    static struct prefix_case c;
    (void)s;

    /* Ethernet / IPv4 / ESP: 14 | 20 | 8 + 12 */
    memset(&c, 0, sizeof c);
    c.dlt = 1;
    eth(&c.f, 0x0800);
    ip4(&c.f, 5, 40, 0, 50);
    esp(&c.f, 0x00010001, 11, 12);
    c.l2 = 14; c.ip = 34; c.ok = 42;
    c.family = 4; c.encap = ESP_ENCAP_ESP; c.spi = 0x10001; c.seq = 11; c.ip_len = 40;
    run_prefixes(&c);

    /* Ethernet / QinQ / IPv6 / HBH / routing / dstopts / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 1;
    eth(&c.f, 0x88a8);
    vlan(&c.f, 1, 0x8100);
    vlan(&c.f, 2, 0x86dd);
    ip6(&c.f, 8 + 16 + 8 + 8 + 4, 0);
    ext6(&c.f, 43, 0);
    ext6(&c.f, 60, 1);
    ext6(&c.f, 50, 0);
    esp(&c.f, 0x00010002, 12, 4);
    c.l2 = 22; c.ip = 62; c.ok = 62 + 32 + 8;
    c.family = 6; c.encap = ESP_ENCAP_ESP; c.spi = 0x10002; c.seq = 12; c.ip_len = 84;
    run_prefixes(&c);

    /* Ethernet / 802.1Q / IPv4 with options / UDP 4500 / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 1;
    eth(&c.f, 0x8100);
    vlan(&c.f, 3, 0x0800);
    ip4(&c.f, 7, 28 + 8 + 8 + 6, 0, 17);
    udp(&c.f, 4500, 1024, 22);
    esp(&c.f, 0x00010003, 13, 6);
    c.l2 = 18; c.ip = 18 + 28; c.ok = 18 + 28 + 16;
    c.family = 4; c.encap = ESP_ENCAP_UDP; c.sport = 4500; c.dport = 1024;
    c.spi = 0x10003; c.seq = 13; c.ip_len = 50;
    run_prefixes(&c);

    /* SLL / IPv4 / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 113;
    sll(&c.f, 0x0800);
    ip4(&c.f, 5, 32, 0, 50);
    esp(&c.f, 0x00010004, 14, 4);
    c.l2 = 16; c.ip = 36; c.ok = 44;
    c.family = 4; c.encap = ESP_ENCAP_ESP; c.spi = 0x10004; c.seq = 14; c.ip_len = 32;
    run_prefixes(&c);

    /* SLL / VLAN / IPv6 / UDP 4500 / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 113;
    sll(&c.f, 0x8100);
    vlan(&c.f, 4, 0x86dd);
    ip6(&c.f, 8 + 8 + 2, 17);
    udp(&c.f, 33000, 4500, 18);
    esp(&c.f, 0x00010005, 15, 2);
    c.l2 = 20; c.ip = 60; c.ok = 76;
    c.family = 6; c.encap = ESP_ENCAP_UDP; c.sport = 33000; c.dport = 4500;
    c.spi = 0x10005; c.seq = 15; c.ip_len = 58;
    run_prefixes(&c);

    /* SLL2 / IPv6 / fragment(0) / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 276;
    sll2(&c.f, 0x86dd);
    ip6(&c.f, 8 + 8 + 8, 44);
    frag6(&c.f, 50, 0, 1);
    esp(&c.f, 0x00010006, 16, 8);
    c.l2 = 20; c.ip = 60; c.ok = 76;
    c.family = 6; c.encap = ESP_ENCAP_ESP; c.spi = 0x10006; c.seq = 16; c.ip_len = 64;
    run_prefixes(&c);

    /* SLL2 / VLAN / IPv4 / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 276;
    sll2(&c.f, 0x8100);
    vlan(&c.f, 5, 0x0800);
    ip4(&c.f, 5, 28, 0, 50);
    esp(&c.f, 0x00010007, 17, 0);
    c.l2 = 24; c.ip = 44; c.ok = 52;
    c.family = 4; c.encap = ESP_ENCAP_ESP; c.spi = 0x10007; c.seq = 17; c.ip_len = 28;
    run_prefixes(&c);

    /* raw 12 / IPv4 / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 12;
    ip4(&c.f, 5, 36, 0, 50);
    esp(&c.f, 0x00010008, 18, 8);
    c.l2 = 0; c.ip = 20; c.ok = 28;
    c.family = 4; c.encap = ESP_ENCAP_ESP; c.spi = 0x10008; c.seq = 18; c.ip_len = 36;
    run_prefixes(&c);

    /* raw 101 / IPv6 / AH / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 101;
    ip6(&c.f, 24 + 8 + 4, 51);
    ah(&c.f, 50, 4);
    esp(&c.f, 0x00010009, 19, 4);
    c.l2 = 0; c.ip = 40; c.ok = 72;
    c.family = 6; c.encap = ESP_ENCAP_ESP; c.spi = 0x10009; c.seq = 19; c.ip_len = 76;
    run_prefixes(&c);

    /* 228 / IPv4 / UDP 4500 / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 228;
    ip4(&c.f, 5, 20 + 8 + 8, 0, 17);
    udp(&c.f, 4500, 4500, 16);
    esp(&c.f, 0x0001000a, 20, 0);
    c.l2 = 0; c.ip = 20; c.ok = 36;
    c.family = 4; c.encap = ESP_ENCAP_UDP; c.sport = 4500; c.dport = 4500;
    c.spi = 0x1000a; c.seq = 20; c.ip_len = 36;
    run_prefixes(&c);

    /* 229 / IPv6 / ESP */
    memset(&c, 0, sizeof c);
    c.dlt = 229;
    ip6(&c.f, 8, 50);
    esp(&c.f, 0x0001000b, 21, 0);
    c.l2 = 0; c.ip = 40; c.ok = 48;
    c.family = 6; c.encap = ESP_ENCAP_ESP; c.spi = 0x1000b; c.seq = 21; c.ip_len = 48;
    run_prefixes(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_eth_ipv4_esp),
        cmocka_unit_test(t_eth_8021q),
        cmocka_unit_test(t_eth_qinq),
        cmocka_unit_test(t_eth_stacked_9100),
        cmocka_unit_test(t_sll),
        cmocka_unit_test(t_sll2),
        cmocka_unit_test(t_raw),
        cmocka_unit_test(t_ethertype_version_mismatch),
        cmocka_unit_test(t_unsupported_link),
        cmocka_unit_test(t_non_ip_ethertype),
        cmocka_unit_test(t_ipv6_ext_headers),
        cmocka_unit_test(t_ipv6_fragment),
        cmocka_unit_test(t_ah),
        cmocka_unit_test(t_ipv6_other),
        cmocka_unit_test(t_natt),
        cmocka_unit_test(t_ike_keepalive_other),
        cmocka_unit_test(t_udp_bad),
        cmocka_unit_test(t_ipv4_bad),
        cmocka_unit_test(t_ipv4_fragment),
        cmocka_unit_test(t_trunc_esp),
        cmocka_unit_test(t_snaplen64),
        cmocka_unit_test(t_spi_reserved),
        cmocka_unit_test(t_tiny_caplens),
        cmocka_unit_test(t_every_prefix),
    };

    return cmocka_run_group_tests_name("esp_parse", tests, NULL, NULL);
}
