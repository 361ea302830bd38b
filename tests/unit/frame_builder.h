/* frame_builder.h - byte-by-byte frame builders and the parse wrapper
 * shared by the ESP parser unit tests (test_esp_parse.c,
 * test_esp_linktypes.c).  Every expected value stays written out by hand
 * in the tests; parse() copies the frame into a heap buffer of exactly
 * caplen bytes so that AddressSanitizer reports any read past caplen. */
#ifndef IDT_TEST_FRAME_BUILDER_H
#define IDT_TEST_FRAME_BUILDER_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "esp_parse.h"

struct fb {
    uint8_t b[1024];
    size_t n;
};

static inline void fb_init(struct fb *f)
{
    memset(f->b, 0, sizeof f->b);
    f->n = 0;
}

static inline void put8(struct fb *f, unsigned v)
{
    assert_true(f->n < sizeof f->b);
    f->b[f->n++] = (uint8_t)v;
}

static inline void put16(struct fb *f, unsigned v)
{
    put8(f, (v >> 8) & 0xff);
    put8(f, v & 0xff);
}

static inline void put32(struct fb *f, uint32_t v)
{
    put16(f, (v >> 16) & 0xffff);
    put16(f, v & 0xffff);
}

static inline void putmem(struct fb *f, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put8(f, p[i]);
}

static inline void putfill(struct fb *f, unsigned v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put8(f, v);
}

/* Hop-by-hop / routing / destination options: (len+1)*8 bytes. */
static inline void ext6(struct fb *f, unsigned nh, unsigned len)
{
    put8(f, nh);
    put8(f, len);
    putfill(f, 0, (len + 1) * 8 - 2);
}

static inline void udp(struct fb *f, unsigned sport, unsigned dport, unsigned len)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, len);
    put16(f, 0);
}

/* ESP header followed by payload_len bytes of (fake) ciphertext. */
static inline void esp(struct fb *f, uint32_t spi, uint32_t seq, size_t payload_len)
{
    put32(f, spi);
    put32(f, seq);
    putfill(f, 0xa5, payload_len);
}

/* Parse a copy of the first caplen bytes held in a buffer of exactly
 * caplen bytes. */
static inline enum esp_verdict parse(int dlt, const uint8_t *b, uint32_t caplen,
                              uint32_t wirelen, struct esp_pkt *o,
                              enum esp_reason *r)
{
    uint8_t *copy = malloc(caplen ? caplen : 1);
    enum esp_verdict v;

    assert_non_null(copy);
    if (caplen)
        memcpy(copy, b, caplen);
    v = esp_parse(dlt, copy, caplen, wirelen, o, r);
    free(copy);
    return v;
}

static inline void expect_v(int dlt, const struct fb *f, uint32_t caplen,
                     uint32_t wirelen, enum esp_verdict v, enum esp_reason reason)
{
    struct esp_pkt o;
    enum esp_reason r = (enum esp_reason)99;

    assert_int_equal(parse(dlt, f->b, caplen, wirelen, &o, &r), v);
    assert_int_equal(r, reason);
}

#endif
