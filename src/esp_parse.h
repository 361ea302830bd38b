/* esp_parse.h - pure ESP packet parser (no I/O, no allocation).
 *
 * Turns one captured frame into the facts the loss accounting needs:
 * outer addresses, SPI, 32-bit sequence number and encapsulation.
 * It never reads past caplen and works with a snap length of 64 bytes.
 */
#ifndef IDT_ESP_PARSE_H
#define IDT_ESP_PARSE_H

#include <stdint.h>
#include <stddef.h>

/* Link types (pcap DLT / LINKTYPE values) that the parser accepts. */
#define IDT_DLT_NULL       0    /* BSD loopback: 4-byte AF, capturing host's order */
#define IDT_DLT_EN10MB     1
#define IDT_DLT_PPP        9    /* PPP: [0xff 0x03] protocol (1 or 2 bytes) */
#define IDT_DLT_RAW        12   /* DLT_RAW on Linux/BSD */
#define IDT_DLT_PPP_SERIAL 50   /* PPP in HDLC-like framing, or Cisco HDLC */
#define IDT_LINKTYPE_RAW   101  /* LINKTYPE_RAW as stored in files */
#define IDT_DLT_C_HDLC     104  /* Cisco HDLC: address, control, Ethertype */
#define IDT_DLT_LOOP       108  /* OpenBSD loopback: 4-byte AF, network order */
#define IDT_DLT_LINUX_SLL  113
#define IDT_DLT_IPV4       228
#define IDT_DLT_IPV6       229
#define IDT_DLT_LINUX_SLL2 276

enum esp_encap {
    ESP_ENCAP_ESP = 1,      /* IP protocol 50 */
    ESP_ENCAP_UDP = 2,      /* ESP-in-UDP, RFC 3948 (either UDP port 4500) */
};

enum esp_verdict {
    ESP_OK = 0,             /* an ESP packet; *out is filled in */
    ESP_IGNORED = 1,        /* well-formed but not ESP (IKE, keepalive,
                               non-first fragment, other protocol, ...) */
    ESP_MALFORMED = 2,      /* the headers contradict each other or the
                               ESP header is truncated; or reserved SPI */
};

/* Reason codes, for debugging and tests (finer than the verdict). */
enum esp_reason {
    ESP_R_NONE = 0,
    ESP_R_LINKTYPE,         /* unsupported link type (IGNORED) */
    ESP_R_ETHERTYPE,        /* the link header's protocol (Ethertype, address
                               family, PPP protocol) is not IPv4/IPv6 (IGNORED) */
    ESP_R_TRUNC_L2,         /* frame too short for its link header (MALFORMED) */
    ESP_R_IP_VERSION,       /* version nibble contradicts (MALFORMED) */
    ESP_R_IP_HDR,           /* IHL < 5, header longer than frame, bad lengths (MALFORMED) */
    ESP_R_IP_LEN,           /* total length < header or > wire length (MALFORMED) */
    ESP_R_FRAGMENT,         /* non-first fragment (IGNORED) */
    ESP_R_PROTO,            /* neither ESP nor UDP/4500 (IGNORED) */
    ESP_R_EXTHDR,           /* IPv6 extension header chain broken (MALFORMED) */
    ESP_R_UDP,              /* bad UDP header/length (MALFORMED) */
    ESP_R_IKE,              /* non-ESP marker on 4500: IKE (IGNORED) */
    ESP_R_KEEPALIVE,        /* NAT-T keepalive 0xFF (IGNORED) */
    ESP_R_TRUNC_ESP,        /* ESP header (8 bytes) not fully captured / present (MALFORMED) */
    ESP_R_SPI_RESERVED,     /* SPI 0..255 (MALFORMED) */
};

struct esp_pkt {
    uint8_t  family;        /* 4 or 6 */
    uint8_t  encap;         /* enum esp_encap */
    uint16_t sport, dport;  /* UDP ports for ESP_ENCAP_UDP, else 0 */
    uint32_t spi;           /* host byte order */
    uint32_t seq;           /* host byte order, low 32 bits of the ESN */
    uint8_t  src[16];       /* IPv4: first 4 bytes, rest zero */
    uint8_t  dst[16];
    uint32_t ip_len;        /* outer IP total length (bytes) */
};

/* Parse one frame.  dlt is the pcap link type, data/caplen the captured
 * bytes, wirelen the original length on the wire.  On ESP_OK *out is
 * filled; otherwise its contents are unspecified.  If reason is not NULL
 * it receives an enum esp_reason. */
enum esp_verdict esp_parse(int dlt, const uint8_t *data, uint32_t caplen,
                           uint32_t wirelen, struct esp_pkt *out,
                           enum esp_reason *reason);

/* 1 if the link type is supported by esp_parse(). */
int esp_dlt_supported(int dlt);

#endif
