/* test_pcap_file.c - unit tests for the in-memory classic pcap reader.
 *
 * Every file here is built byte by byte (explicit byte order), so the
 * expected values are the ones written, not ones computed by the reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pcap_file.h"

struct buf {
    uint8_t b[4096];
    size_t n;
    int big;        /* write big-endian */
};

static void put32(struct buf *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        w->b[w->n++] = (uint8_t)(w->big ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void put16(struct buf *w, uint16_t v)
{
    w->b[w->n++] = (uint8_t)(w->big ? v >> 8 : v);
    w->b[w->n++] = (uint8_t)(w->big ? v : v >> 8);
}

static void file_hdr(struct buf *w, uint32_t magic, uint16_t maj, uint16_t min,
                     uint32_t snap, uint32_t lt)
{
    put32(w, magic);
    put16(w, maj);
    put16(w, min);
    put32(w, 0);        /* thiszone */
    put32(w, 0);        /* sigfigs */
    put32(w, snap);
    put32(w, lt);
}

/* record with caplen bytes of pattern (i + seed) */
static void rec(struct buf *w, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t wire,
                uint8_t seed)
{
    put32(w, sec);
    put32(w, frac);
    put32(w, caplen);
    put32(w, wire);
    for (uint32_t i = 0; i < caplen; i++)
        w->b[w->n++] = (uint8_t)(i + seed);
}

static void check_payload(const struct pcapf_pkt *p, uint32_t caplen, uint8_t seed)
{
    assert_int_equal(p->caplen, caplen);
    for (uint32_t i = 0; i < caplen; i++)
        assert_int_equal(p->data[i], (uint8_t)(i + seed));
}

static void two_records(int big, uint32_t magic, uint64_t ts1, uint64_t ts2)
{
    struct buf w = { .big = big };
    file_hdr(&w, magic, 2, 4, 65535, 1);
    rec(&w, 1700000000, 123456 * (magic == 0xa1b23c4du ? 1000u : 1u) + (magic == 0xa1b23c4du ? 789 : 0),
        60, 60, 7);
    rec(&w, 1700000001, 5, 30, 1500, 9);
    struct pcapf f;
    struct pcapf_pkt p;
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_OPENED);
    assert_int_equal(f.linktype, 1);
    assert_int_equal(f.snaplen, 65535);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_PACKET);
    assert_int_equal(p.ts_us, ts1);
    assert_int_equal(p.len, 60);
    check_payload(&p, 60, 7);
    assert_ptr_equal(p.data, w.b + 24 + 16);        /* zero copy */
    assert_int_equal(pcapf_next(&f, &p), PCAPF_PACKET);
    assert_int_equal(p.ts_us, ts2);
    assert_int_equal(p.len, 1500);
    check_payload(&p, 30, 9);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_END);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_END);
    assert_int_equal(f.records, 2);
}

static void test_usec_little_endian(void **st)
{
    (void)st;
    two_records(0, 0xa1b2c3d4u, 1700000000123456ull, 1700000001000005ull);
}

static void test_usec_big_endian(void **st)
{
    (void)st;
    two_records(1, 0xa1b2c3d4u, 1700000000123456ull, 1700000001000005ull);
}

static void test_nsec_both_orders(void **st)
{
    (void)st;
    /* 123456789 ns -> 123456 us (truncated, like libpcap); 5 ns -> 0 us */
    two_records(0, 0xa1b23c4du, 1700000000123456ull, 1700000001000000ull);
    two_records(1, 0xa1b23c4du, 1700000000123456ull, 1700000001000000ull);
}

static void test_not_classic(void **st)
{
    (void)st;
    struct pcapf f;
    struct buf w = { .big = 0 };
    /* pcapng section header block type */
    put32(&w, 0x0a0d0d0au);
    for (int i = 0; i < 20; i++)
        put32(&w, 0);
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_NOT_CLASSIC);
    /* Kuznetzov modified pcap */
    w.n = 0;
    file_hdr(&w, 0xa1b2cd34u, 2, 4, 65535, 1);
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_NOT_CLASSIC);
    /* version other than 2.4 */
    w.n = 0;
    file_hdr(&w, 0xa1b2c3d4u, 2, 3, 65535, 1);
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_NOT_CLASSIC);
    w.n = 0;
    file_hdr(&w, 0xa1b2c3d4u, 1, 4, 65535, 1);
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_NOT_CLASSIC);
    /* shorter than a file header, empty, NULL */
    w.n = 0;
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 65535, 1);
    assert_int_equal(pcapf_open(&f, w.b, 23), PCAPF_NOT_CLASSIC);
    assert_int_equal(pcapf_open(&f, w.b, 0), PCAPF_NOT_CLASSIC);
    assert_int_equal(pcapf_open(&f, NULL, 100), PCAPF_NOT_CLASSIC);
}

static void test_header_only_is_empty(void **st)
{
    (void)st;
    struct buf w = { .big = 0 };
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 128, 113);
    struct pcapf f;
    struct pcapf_pkt p;
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_OPENED);
    assert_int_equal(f.linktype, 113);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_END);
}

static void test_linktype_mapping(void **st)
{
    (void)st;
    struct pcapf f;
    struct buf w = { .big = 0 };
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 0, 101);        /* LINKTYPE_RAW */
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_OPENED);
    assert_int_equal(f.linktype, 12);
    assert_int_equal(f.snaplen, 262144);            /* 0 -> maximum */
    w.n = 0;
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 0x7fffffffu, 276 | 0x14000000u);    /* FCS bits */
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_OPENED);
    assert_int_equal(f.linktype, 276);
    assert_int_equal(f.snaplen, 262144);
}

static void test_truncated_record_header(void **st)
{
    (void)st;
    struct buf w = { .big = 0 };
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 65535, 1);
    rec(&w, 1, 0, 20, 20, 0);
    struct pcapf f;
    struct pcapf_pkt p;
    /* then 15 bytes of a second record header */
    rec(&w, 2, 0, 0, 0, 0);
    assert_int_equal(pcapf_open(&f, w.b, w.n - 1), PCAPF_OPENED);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_PACKET);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_ERROR);
    assert_non_null(strstr(f.err, "truncated dump file"));
    assert_non_null(strstr(f.err, "only got 15"));
    assert_non_null(strstr(f.err, "record 2"));
}

static void test_truncated_record_data(void **st)
{
    (void)st;
    struct buf w = { .big = 1 };
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 65535, 1);
    rec(&w, 1, 0, 100, 100, 0);
    struct pcapf f;
    struct pcapf_pkt p;
    assert_int_equal(pcapf_open(&f, w.b, w.n - 40), PCAPF_OPENED);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_ERROR);
    assert_non_null(strstr(f.err, "tried to read 100 captured bytes, only got 60"));
    assert_int_equal(f.records, 0);
}

static void test_oversized_caplen(void **st)
{
    (void)st;
    struct buf w = { .big = 0 };
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 65535, 1);
    put32(&w, 1);
    put32(&w, 0);
    put32(&w, 262145);          /* one above libpcap's maximum */
    put32(&w, 262145);
    struct pcapf f;
    struct pcapf_pkt p;
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_OPENED);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_ERROR);
    assert_non_null(strstr(f.err, "invalid packet capture length 262145"));
    /* 0xffffffff must not wrap any offset arithmetic either */
    w.n -= 8;
    put32(&w, 0xffffffffu);
    put32(&w, 0xffffffffu);
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_OPENED);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_ERROR);
}

static void test_caplen_above_snaplen_is_cut(void **st)
{
    (void)st;
    struct buf w = { .big = 0 };
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 64, 1);
    rec(&w, 1, 0, 100, 120, 3);         /* 100 > snaplen 64 */
    rec(&w, 2, 0, 10, 10, 5);
    struct pcapf f;
    struct pcapf_pkt p;
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_OPENED);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_PACKET);
    check_payload(&p, 64, 3);
    assert_int_equal(p.len, 120);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_PACKET);   /* the rest was skipped */
    check_payload(&p, 10, 5);
    assert_int_equal(p.ts_us, 2000000);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_END);
}

static void test_zero_length_records(void **st)
{
    (void)st;
    struct buf w = { .big = 0 };
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 65535, 1);
    rec(&w, 0, 0, 0, 0, 0);
    rec(&w, 0xffffffffu, 999999, 0, 0xffffffffu, 0);
    struct pcapf f;
    struct pcapf_pkt p;
    assert_int_equal(pcapf_open(&f, w.b, w.n), PCAPF_OPENED);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_PACKET);
    assert_int_equal(p.caplen, 0);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_PACKET);
    assert_int_equal(p.ts_us, 4294967295ull * 1000000ull + 999999ull);
    assert_int_equal(p.len, 0xffffffffu);
    assert_int_equal(pcapf_next(&f, &p), PCAPF_END);
}

/* Every prefix of a valid file: the reader returns some packets and
 * then END exactly at record boundaries, ERROR elsewhere; it never reads
 * past the prefix (ASan would see it: the prefix is copied to a buffer
 * of exactly that size). */
static void test_every_prefix(void **st)
{
    (void)st;
    struct buf w = { .big = 0 };
    file_hdr(&w, 0xa1b2c3d4u, 2, 4, 65535, 1);
    size_t bounds[4];
    bounds[0] = w.n;
    rec(&w, 1, 0, 33, 33, 1);
    bounds[1] = w.n;
    rec(&w, 2, 0, 0, 50, 1);
    bounds[2] = w.n;
    rec(&w, 3, 0, 7, 7, 1);
    bounds[3] = w.n;
    for (size_t n = 24; n <= w.n; n++) {
        uint8_t *copy = malloc(n);
        assert_non_null(copy);
        memcpy(copy, w.b, n);
        struct pcapf f;
        struct pcapf_pkt p;
        assert_int_equal(pcapf_open(&f, copy, n), PCAPF_OPENED);
        int r, got = 0;
        while ((r = pcapf_next(&f, &p)) == PCAPF_PACKET)
            got++;
        int boundary = -1;
        for (int i = 0; i < 4; i++)
            if (bounds[i] == n)
                boundary = i;
        if (boundary >= 0) {
            assert_int_equal(r, PCAPF_END);
            assert_int_equal(got, boundary);
        } else {
            assert_int_equal(r, PCAPF_ERROR);
        }
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usec_little_endian),
        cmocka_unit_test(test_usec_big_endian),
        cmocka_unit_test(test_nsec_both_orders),
        cmocka_unit_test(test_not_classic),
        cmocka_unit_test(test_header_only_is_empty),
        cmocka_unit_test(test_linktype_mapping),
        cmocka_unit_test(test_truncated_record_header),
        cmocka_unit_test(test_truncated_record_data),
        cmocka_unit_test(test_oversized_caplen),
        cmocka_unit_test(test_caplen_above_snaplen_is_cut),
        cmocka_unit_test(test_zero_length_records),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
