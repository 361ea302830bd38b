/* esp_parse.c - pure ESP packet parser (no I/O, no allocation).
 *
 * Two lengths are tracked throughout:
 *   caplen  - bytes we may read (never read at or beyond it);
 *   wirelen - bytes the packet had on the wire; every length field in the
 *             headers is checked against it (and against the enclosing
 *             header's length), never against caplen.
 * A length that contradicts the wire is MALFORMED with the reason of the
 * header that carries it.  When the capture simply ends too early:
 *   - inside the link header (incl. VLAN tags)       -> ESP_R_TRUNC_L2
 *   - inside the fixed IPv4/IPv6 header or options   -> ESP_R_IP_HDR
 *   - anywhere after that (IPv6 extension headers, AH, UDP header, the
 *     4-byte non-ESP marker, the ESP header itself)  -> ESP_R_TRUNC_ESP
 * all MALFORMED: we cannot read SPI/sequence number.
 *
 * If caplen > wirelen (never the case for libpcap), caplen is clamped to
 * wirelen: bytes that were not on the wire are not part of the packet.
 *
 * Link headers without an Ethertype (router captures) name the protocol
 * otherwise; anything but IPv4/IPv6 there is IGNORED (ESP_R_ETHERTYPE):
 *   DLT_NULL (0), DLT_LOOP (108): 4-byte address family, NULL in the
 *     capturing host's byte order (either is accepted: a value with a
 *     non-zero upper half is byte-swapped, as tcpdump does), LOOP in
 *     network order.  AF_INET 2; AF_INET6 10 (Linux), 24 (NetBSD,
 *     OpenBSD), 28 (FreeBSD, DragonFly), 30 (macOS).
 *   DLT_PPP (9): optional address/control 0xff 0x03, then the protocol,
 *     one byte when compressed (low bit of the first byte set), else two;
 *     IPv4 0x0021, IPv6 0x0057.
 *   DLT_PPP_SERIAL (50): the same PPP header (RFC 1662 framing), or Cisco
 *     HDLC when the first byte is 0x0f or 0x8f (as libpcap and Wireshark
 *     read it).
 *   DLT_C_HDLC (104): address (0x0f/0x8f), control, 2-byte Ethertype; only
 *     the Ethertype is looked at, as by libpcap's filters and tcpdump.
 */
#include "esp_parse.h"

#include <string.h>

#define ETH_HLEN        14u
#define SLL_HLEN        16u
#define SLL2_HLEN       20u
#define VLAN_TAG_LEN    4u
#define AF_HLEN         4u      /* DLT_NULL / DLT_LOOP */
#define CHDLC_HLEN      4u

#define AF_INET_         2u
#define AF_INET6_LINUX   10u
#define AF_INET6_BSD     24u    /* NetBSD, OpenBSD, BSD/OS */
#define AF_INET6_FREEBSD 28u    /* FreeBSD, DragonFly */
#define AF_INET6_DARWIN  30u    /* macOS, iOS */

#define PPP_ADDRESS     0xffu
#define PPP_CONTROL     0x03u
#define PPP_IPV4        0x0021u
#define PPP_IPV6        0x0057u
#define CHDLC_UNICAST   0x0fu
#define CHDLC_BCAST     0x8fu

#define ETHERTYPE_IPV4  0x0800u
#define ETHERTYPE_IPV6  0x86ddu
#define ETHERTYPE_8021Q 0x8100u
#define ETHERTYPE_8021AD 0x88a8u
#define ETHERTYPE_QINQ_OLD 0x9100u

#define IPPROTO_HOPOPTS_ 0u
#define IPPROTO_UDP_     17u
#define IPPROTO_ROUTING_ 43u
#define IPPROTO_FRAGMENT_ 44u
#define IPPROTO_ESP_     50u
#define IPPROTO_AH_      51u
#define IPPROTO_DSTOPTS_ 60u

#define NATT_PORT       4500u
#define ESP_HDR_LEN     8u
#define SPI_MIN_VALID   256u

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* n bytes readable at offset pos (overflow-safe: pos may exceed caplen). */
#define CAP_HAS(pos, n) ((pos) <= caplen && caplen - (pos) >= (uint32_t)(n))

#define DONE(v, r) do { if (reason) *reason = (r); return (v); } while (0)

int esp_dlt_supported(int dlt)
{
    switch (dlt) {
    case IDT_DLT_EN10MB:
    case IDT_DLT_RAW:
    case IDT_LINKTYPE_RAW:
    case IDT_DLT_LINUX_SLL:
    case IDT_DLT_IPV4:
    case IDT_DLT_IPV6:
    case IDT_DLT_LINUX_SLL2:
    case IDT_DLT_NULL:
    case IDT_DLT_LOOP:
    case IDT_DLT_PPP:
    case IDT_DLT_PPP_SERIAL:
    case IDT_DLT_C_HDLC:
        return 1;
    default:
        return 0;
    }
}

/* The router link headers below return ESP_R_NONE with *off (the IP
 * header's offset) and *ipver set, ESP_R_TRUNC_L2 when caplen ends inside
 * the header, or ESP_R_ETHERTYPE for a protocol other than IPv4/IPv6. */

static inline enum esp_reason ipver_of_etype(unsigned etype, unsigned *ipver)
{
    if (etype == ETHERTYPE_IPV4)
        *ipver = 4;
    else if (etype == ETHERTYPE_IPV6)
        *ipver = 6;
    else
        return ESP_R_ETHERTYPE;
    return ESP_R_NONE;
}

/* DLT_NULL (any_order) and DLT_LOOP: 4-byte address family. */
static inline enum esp_reason link_af(const uint8_t *data, uint32_t caplen,
                                      int any_order, uint32_t *off, unsigned *ipver)
{
    uint32_t af;

    if (caplen < AF_HLEN)
        return ESP_R_TRUNC_L2;
    af = rd32(data);
    if (any_order && (af & 0xffff0000u))
        af = __builtin_bswap32(af);     /* written little endian */
    *off = AF_HLEN;
    switch (af) {
    case AF_INET_:
        *ipver = 4;
        return ESP_R_NONE;
    case AF_INET6_LINUX:
    case AF_INET6_BSD:
    case AF_INET6_FREEBSD:
    case AF_INET6_DARWIN:
        *ipver = 6;
        return ESP_R_NONE;
    default:
        return ESP_R_ETHERTYPE;
    }
}

/* PPP: [0xff 0x03] protocol, 1 byte if compressed (RFC 1661 6.5), else 2. */
static inline enum esp_reason link_ppp(const uint8_t *data, uint32_t caplen,
                                       uint32_t *off, unsigned *ipver)
{
    uint32_t pos = 0;
    unsigned proto;

    if (caplen < 1)
        return ESP_R_TRUNC_L2;
    if (data[0] == PPP_ADDRESS) {
        if (caplen < 2)
            return ESP_R_TRUNC_L2;
        if (data[1] != PPP_CONTROL)
            return ESP_R_ETHERTYPE;
        pos = 2;
    }
    if (caplen - pos < 1)
        return ESP_R_TRUNC_L2;
    if (data[pos] & 1) {
        proto = data[pos];
        pos += 1;
    } else {
        if (caplen - pos < 2)
            return ESP_R_TRUNC_L2;
        proto = rd16(data + pos);
        pos += 2;
    }
    *off = pos;
    if (proto == PPP_IPV4)
        *ipver = 4;
    else if (proto == PPP_IPV6)
        *ipver = 6;
    else
        return ESP_R_ETHERTYPE;
    return ESP_R_NONE;
}

/* Cisco HDLC: address, control, Ethertype. */
static inline enum esp_reason link_chdlc(const uint8_t *data, uint32_t caplen,
                                         uint32_t *off, unsigned *ipver)
{
    if (caplen < CHDLC_HLEN)
        return ESP_R_TRUNC_L2;
    *off = CHDLC_HLEN;
    return ipver_of_etype(rd16(data + 2), ipver);
}

static enum esp_reason link_router(int dlt, const uint8_t *data, uint32_t caplen,
                                   uint32_t *off, unsigned *ipver)
{
    switch (dlt) {
    case IDT_DLT_NULL:
        return link_af(data, caplen, 1, off, ipver);
    case IDT_DLT_LOOP:
        return link_af(data, caplen, 0, off, ipver);
    case IDT_DLT_PPP:
        return link_ppp(data, caplen, off, ipver);
    case IDT_DLT_PPP_SERIAL:
        if (caplen >= 1 && (data[0] == CHDLC_UNICAST || data[0] == CHDLC_BCAST))
            return link_chdlc(data, caplen, off, ipver);
        return link_ppp(data, caplen, off, ipver);
    default:    /* IDT_DLT_C_HDLC */
        return link_chdlc(data, caplen, off, ipver);
    }
}

enum esp_verdict esp_parse(int dlt, const uint8_t *data, uint32_t caplen,
                           uint32_t wirelen, struct esp_pkt *out,
                           enum esp_reason *reason)
{
    uint32_t off;           /* offset of the IP header */
    unsigned ipver = 0;     /* 0: take it from the version nibble */
    unsigned etype = 0;
    int has_etype = 0;      /* Ethernet-like: Ethertype, maybe VLAN tags */
    uint32_t pos, end;      /* current header / end of its enclosing payload */
    uint32_t ip_len;
    unsigned nh;            /* next protocol */
    int more_frags;         /* first fragment of a fragmented datagram */
    const uint8_t *ip;
    uint16_t sport = 0, dport = 0;
    uint8_t encap = ESP_ENCAP_ESP;

    if (caplen > wirelen)
        caplen = wirelen;

    /* ---- link layer ---- */
    switch (dlt) {
    case IDT_DLT_EN10MB:
        if (caplen < ETH_HLEN)
            DONE(ESP_MALFORMED, ESP_R_TRUNC_L2);
        etype = rd16(data + 12);
        off = ETH_HLEN;
        has_etype = 1;
        break;
    case IDT_DLT_LINUX_SLL:
        if (caplen < SLL_HLEN)
            DONE(ESP_MALFORMED, ESP_R_TRUNC_L2);
        etype = rd16(data + 14);
        off = SLL_HLEN;
        has_etype = 1;
        break;
    case IDT_DLT_LINUX_SLL2:
        if (caplen < SLL2_HLEN)
            DONE(ESP_MALFORMED, ESP_R_TRUNC_L2);
        etype = rd16(data);
        off = SLL2_HLEN;
        has_etype = 1;
        break;
    case IDT_DLT_RAW:
    case IDT_LINKTYPE_RAW:
        off = 0;
        break;
    case IDT_DLT_IPV4:
        off = 0;
        ipver = 4;
        break;
    case IDT_DLT_IPV6:
        off = 0;
        ipver = 6;
        break;
    case IDT_DLT_NULL:
    case IDT_DLT_LOOP:
    case IDT_DLT_PPP:
    case IDT_DLT_PPP_SERIAL:
    case IDT_DLT_C_HDLC: {
        enum esp_reason lr = link_router(dlt, data, caplen, &off, &ipver);

        if (lr == ESP_R_TRUNC_L2)
            DONE(ESP_MALFORMED, lr);
        if (lr != ESP_R_NONE)
            DONE(ESP_IGNORED, lr);
        break;
    }
    default:
        DONE(ESP_IGNORED, ESP_R_LINKTYPE);
    }

    if (has_etype) {
        /* 802.1Q / 802.1ad / old QinQ tags, possibly stacked */
        while (etype == ETHERTYPE_8021Q || etype == ETHERTYPE_8021AD ||
               etype == ETHERTYPE_QINQ_OLD) {
            if (caplen - off < VLAN_TAG_LEN)
                DONE(ESP_MALFORMED, ESP_R_TRUNC_L2);
            etype = rd16(data + off + 2);
            off += VLAN_TAG_LEN;
        }
        if (ipver_of_etype(etype, &ipver) != ESP_R_NONE)
            DONE(ESP_IGNORED, ESP_R_ETHERTYPE);
    }

    /* ---- IP layer (off <= caplen <= wirelen here) ---- */
    if (caplen == off)
        DONE(ESP_MALFORMED, ESP_R_IP_HDR);
    ip = data + off;
    if (ipver == 0)
        ipver = ip[0] >> 4;
    if ((unsigned)(ip[0] >> 4) != ipver || (ipver != 4 && ipver != 6))
        DONE(ESP_MALFORMED, ESP_R_IP_VERSION);

    if (ipver == 4) {
        uint32_t ihl, frag;

        if (caplen - off < 20)
            DONE(ESP_MALFORMED, ESP_R_IP_HDR);
        ihl = (uint32_t)(ip[0] & 0x0f) * 4;
        if (ihl < 20 || ihl > caplen - off)
            DONE(ESP_MALFORMED, ESP_R_IP_HDR);
        ip_len = rd16(ip + 2);
        if (ip_len < ihl || ip_len > wirelen - off)
            DONE(ESP_MALFORMED, ESP_R_IP_LEN);
        frag = rd16(ip + 6);
        if (frag & 0x1fff)
            DONE(ESP_IGNORED, ESP_R_FRAGMENT);
        more_frags = (frag & 0x2000) != 0;
        nh = ip[9];
        pos = off + ihl;
        end = off + ip_len;
    } else {
        if (caplen - off < 40)
            DONE(ESP_MALFORMED, ESP_R_IP_HDR);
        ip_len = 40u + rd16(ip + 4);
        if (ip_len > wirelen - off)
            DONE(ESP_MALFORMED, ESP_R_IP_LEN);
        more_frags = 0;
        nh = ip[6];
        pos = off + 40;
        end = off + ip_len;
    }

    /* ---- extension headers: IPv6 0/43/60/44, AH (both families) ----
     * Invariant: pos <= end <= wirelen; pos may exceed caplen. */
    while (nh != IPPROTO_ESP_ && nh != IPPROTO_UDP_) {
        uint32_t hl = 0;

        if (nh == IPPROTO_AH_ ||
            (ipver == 6 && (nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ ||
                            nh == IPPROTO_DSTOPTS_))) {
            if (end - pos < 2)
                DONE(ESP_MALFORMED, ESP_R_EXTHDR);
            if (!CAP_HAS(pos, 2))
                DONE(ESP_MALFORMED, ESP_R_TRUNC_ESP);
            if (nh == IPPROTO_AH_)
                hl = ((uint32_t)data[pos + 1] + 2) * 4;
            else
                hl = ((uint32_t)data[pos + 1] + 1) * 8;
        } else if (ipver == 6 && nh == IPPROTO_FRAGMENT_) {
            uint32_t fo;

            hl = 8;
            if (end - pos < hl)
                DONE(ESP_MALFORMED, ESP_R_EXTHDR);
            if (!CAP_HAS(pos, 4))
                DONE(ESP_MALFORMED, ESP_R_TRUNC_ESP);
            fo = rd16(data + pos + 2);
            if (fo & 0xfff8)
                DONE(ESP_IGNORED, ESP_R_FRAGMENT);
            if (fo & 1)
                more_frags = 1;
        } else {
            DONE(ESP_IGNORED, ESP_R_PROTO);   /* incl. 59 no-next-header */
        }
        if (hl > end - pos)
            DONE(ESP_MALFORMED, ESP_R_EXTHDR);
        nh = data[pos];
        pos += hl;
    }

    /* ---- UDP encapsulation (RFC 3948) ---- */
    if (nh == IPPROTO_UDP_) {
        const uint8_t *u;
        uint32_t ulen;

        if (end - pos < 8)
            DONE(ESP_MALFORMED, ESP_R_UDP);
        if (!CAP_HAS(pos, 8))
            DONE(ESP_MALFORMED, ESP_R_TRUNC_ESP);
        u = data + pos;
        ulen = rd16(u + 4);
        /* In the first fragment of a fragmented datagram the UDP length
         * legitimately exceeds this packet's IP payload. */
        if (ulen < 8 || (!more_frags && ulen > end - pos))
            DONE(ESP_MALFORMED, ESP_R_UDP);
        sport = rd16(u);
        dport = rd16(u + 2);
        if (sport != NATT_PORT && dport != NATT_PORT)
            DONE(ESP_IGNORED, ESP_R_PROTO);
        if (ulen < end - pos)
            end = pos + ulen;          /* ignore anything after the datagram */
        pos += 8;
        if (end - pos == 1) {
            if (CAP_HAS(pos, 1) && data[pos] == 0xff)
                DONE(ESP_IGNORED, ESP_R_KEEPALIVE);
            DONE(ESP_MALFORMED, ESP_R_TRUNC_ESP);
        }
        if (end - pos >= 4) {
            if (!CAP_HAS(pos, 4))
                DONE(ESP_MALFORMED, ESP_R_TRUNC_ESP);
            if (rd32(data + pos) == 0)
                DONE(ESP_IGNORED, ESP_R_IKE);
        }
        encap = ESP_ENCAP_UDP;
    }

    /* ---- ESP header ---- */
    if (end - pos < ESP_HDR_LEN || !CAP_HAS(pos, ESP_HDR_LEN))
        DONE(ESP_MALFORMED, ESP_R_TRUNC_ESP);
    {
        uint32_t spi = rd32(data + pos);

        if (spi < SPI_MIN_VALID)
            DONE(ESP_MALFORMED, ESP_R_SPI_RESERVED);
        if (out) {
            out->family = (uint8_t)ipver;
            out->encap = encap;
            out->sport = sport;
            out->dport = dport;
            out->spi = spi;
            out->seq = rd32(data + pos + 4);
            out->ip_len = ip_len;
            if (ipver == 4) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                /* whole-word stores: the SA key is read back in 8-byte words */
                uint32_t a4, b4;
                memcpy(&a4, ip + 12, 4);
                memcpy(&b4, ip + 16, 4);
                uint64_t a8 = a4, b8 = b4, z = 0;
                memcpy(out->src, &a8, 8);
                memcpy(out->src + 8, &z, 8);
                memcpy(out->dst, &b8, 8);
                memcpy(out->dst + 8, &z, 8);
#else
                memcpy(out->src, ip + 12, 4);
                memset(out->src + 4, 0, 12);
                memcpy(out->dst, ip + 16, 4);
                memset(out->dst + 4, 0, 12);
#endif
            } else {
                memcpy(out->src, ip + 8, 16);
                memcpy(out->dst, ip + 24, 16);
            }
        }
    }
    DONE(ESP_OK, ESP_R_NONE);
}
