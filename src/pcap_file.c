/* pcap_file.c - zero-copy reader of classic pcap files in memory.
 * See pcap_file.h for the accepted formats and the validation rules. */
#include "pcap_file.h"

#include <stdio.h>
#include <string.h>

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
#define FILE_HDR 24u
#define REC_HDR 16u
#define LINKTYPE_RAW 101
#define DLT_RAW_LINUX 12
#define LT_LINKTYPE_MASK 0x03FFFFFFu    /* upper bits: FCS length info */

static inline uint32_t rd32(const uint8_t *p, int swapped)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

static inline uint16_t rd16(const uint8_t *p, int swapped)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return swapped ? __builtin_bswap16(v) : v;
}

enum pcapf_open_result pcapf_open(struct pcapf *f, const void *buf, size_t len)
{
    memset(f, 0, sizeof *f);
    const uint8_t *b = buf;
    if (!b || len < FILE_HDR)
        return PCAPF_NOT_CLASSIC;
    uint32_t magic;
    memcpy(&magic, b, 4);
    if (magic == MAGIC_USEC || magic == MAGIC_NSEC) {
        f->swapped = 0;
    } else if (magic == __builtin_bswap32(MAGIC_USEC) || magic == __builtin_bswap32(MAGIC_NSEC)) {
        f->swapped = 1;
        magic = __builtin_bswap32(magic);
    } else {
        return PCAPF_NOT_CLASSIC;
    }
    if (rd16(b + 4, f->swapped) != 2 || rd16(b + 6, f->swapped) != 4)
        return PCAPF_NOT_CLASSIC;
    f->nsec = magic == MAGIC_NSEC;
    uint32_t snap = rd32(b + 16, f->swapped);
    f->snaplen = (snap == 0 || snap > PCAPF_MAX_SNAPLEN) ? PCAPF_MAX_SNAPLEN : snap;
    uint32_t lt = rd32(b + 20, f->swapped) & LT_LINKTYPE_MASK;
    f->linktype = lt == LINKTYPE_RAW ? DLT_RAW_LINUX : (int)lt;
    f->buf = b;
    f->len = len;
    f->off = FILE_HDR;
    return PCAPF_OPENED;
}

enum pcapf_next_result pcapf_next(struct pcapf *f, struct pcapf_pkt *pkt)
{
    size_t left = f->len - f->off;
    if (left == 0)
        return PCAPF_END;
    if (left < REC_HDR) {
        snprintf(f->err, sizeof f->err,
                 "truncated dump file; tried to read %u header bytes, only got %zu "
                 "(record %llu, offset %zu)", REC_HDR, left,
                 (unsigned long long)f->records + 1, f->off);
        return PCAPF_ERROR;
    }
    const uint8_t *h = f->buf + f->off;
    uint32_t sec = rd32(h, f->swapped), frac = rd32(h + 4, f->swapped);
    uint32_t caplen = rd32(h + 8, f->swapped), wire = rd32(h + 12, f->swapped);
    if (caplen > PCAPF_MAX_SNAPLEN) {
        snprintf(f->err, sizeof f->err,
                 "invalid packet capture length %u, bigger than maximum of %u "
                 "(record %llu, offset %zu)", caplen, PCAPF_MAX_SNAPLEN,
                 (unsigned long long)f->records + 1, f->off);
        return PCAPF_ERROR;
    }
    left -= REC_HDR;
    if (caplen > left) {
        snprintf(f->err, sizeof f->err,
                 "truncated dump file; tried to read %u captured bytes, only got %zu "
                 "(record %llu, offset %zu)", caplen, left,
                 (unsigned long long)f->records + 1, f->off);
        return PCAPF_ERROR;
    }
    pkt->ts_us = (uint64_t)sec * 1000000u + (f->nsec ? frac / 1000u : frac);
    pkt->data = h + REC_HDR;
    pkt->caplen = caplen > f->snaplen ? f->snaplen : caplen;
    pkt->len = wire;
    f->off += REC_HDR + caplen;
    f->records++;
    return PCAPF_PACKET;
}
