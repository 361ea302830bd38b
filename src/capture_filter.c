/* capture_filter.c - the kernel (BPF) filter of the live capture.
 *
 * Goal: the live capture must count exactly what `interactive -r` counts
 * for the same frames, so the kernel filter must pass every frame that
 * esp_parse() takes for ESP.  It is a deliberately wider superset, cheap
 * enough for a busy gateway: it costs a handful of byte compares per frame
 * and lets through only what may be ESP; user space decides the rest.
 *
 * Why not libpcap's keywords:
 *   - `vlan` shifts the offsets for the rest of the expression, so
 *     "esp or vlan and esp or vlan and vlan and esp" cannot be written
 *     correctly, and on a live Linux handle the first `vlan` tests the
 *     kernel's VLAN metadata instead of the bytes, so the same text means
 *     different programs live and offline;
 *   - `esp` / `ip6 proto 50` look at the fixed IPv6 header only, not
 *     behind extension headers (`ip6 protochain` needs a backward jump,
 *     which the kernel refuses; libpcap then filters in user space).
 * So the filter is written with plain byte loads, link[offset:size],
 * one text per link type.
 *
 * What passes (T = 0..CAPTURE_FILTER_TAGS tags of TPID 0x8100, 0x88a8 or
 * 0x9100 between the link header and IP, on link types with an EtherType):
 *   IPv4 that is not a non-first fragment, and
 *     - has options (IHL != 5: rare; the parser decides), or
 *     - carries ESP (50) or AH (51, the parser looks behind it), or
 *     - carries UDP from OR to port 4500 whose first 4 payload bytes are
 *       not the zero non-ESP marker (that is IKE, RFC 3948), either port;
 *   IPv6 whose first next header is
 *     - ESP or AH, or
 *     - an extension header (hop-by-hop, routing, destination options, or
 *       a fragment header with offset 0): the chain is followed in user
 *       space, so IPv6 with extension headers costs a copy to user space,
 *     - UDP from or to port 4500 without the non-ESP marker;
 *   frames with more than CAPTURE_FILTER_TAGS tags, unexamined.
 * Everything else (TCP, other UDP, ICMP, ARP, IKE, non-first fragments)
 * stays in the kernel.
 *
 * Kernel VLAN stripping: Linux removes the outer 0x8100/0x88a8 tag before
 * packet sockets see the frame (libpcap puts it back in user space), so the
 * kernel filter sees one tag fewer than the parser; 0x9100 is not stripped.
 * Accepting any count of tags from 0 up keeps both views correct.
 *
 * Cooked captures ("any"): libpcap rewrites loads of the cooked header's
 * protocol field to the kernel's protocol metadata and subtracts the
 * header length from loads behind it; every load here is of one of these
 * two kinds, so the filter runs in the kernel there too.
 *
 * A byte load beyond the end of the frame rejects the frame; the loads
 * for a frame the parser counts all lie inside its ESP header or before. */
#include "idt_build.h"
#include "capture_filter.h"
#include "esp_parse.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

struct buf {
    char *p;
    size_t len, used;
    int overflow;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->overflow)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->len - b->used) {
        b->overflow = 1;
        return;
    }
    b->used += (size_t)n;
}

/* IPv4 header at link offset l */
static void ipv4(struct buf *b, unsigned l)
{
    put(b, "((link[%u:2] & 0x1fff) = 0 and ((link[%u] & 0x0f) != 5"
        " or link[%u] = 50 or link[%u] = 51"
        " or (link[%u] = 17 and (link[%u:2] = 4500 or link[%u:2] = 4500)"
        " and link[%u:4] != 0)))",
        l + 6, l, l + 9, l + 9, l + 9, l + 20, l + 22, l + 28);
}

/* IPv6 header at link offset l */
static void ipv6(struct buf *b, unsigned l)
{
    unsigned nh = l + 6;
    put(b, "(link[%u] = 50 or link[%u] = 51"
        " or link[%u] = 0 or link[%u] = 43 or link[%u] = 60"
        " or (link[%u] = 44 and (link[%u:2] & 0xfff8) = 0)"
        " or (link[%u] = 17 and (link[%u:2] = 4500 or link[%u:2] = 4500)"
        " and link[%u:4] != 0))",
        nh, nh, nh, nh, nh, nh, l + 42, nh, l + 40, l + 42, l + 48);
}

static void tpid(struct buf *b, unsigned e)
{
    put(b, "(link[%u:2] = 0x8100 or link[%u:2] = 0x88a8 or link[%u:2] = 0x9100)", e, e, e);
}

/* EtherType at e, tag t (0-based) at n0 + 4 t, so after t tags the
 * EtherType is at n0 + 4 t - 2 and IP at n0 + 4 t.  Level t:
 *   (IPv4 here or IPv6 here or (a tag here and level t+1))
 * and the last level passes a further tag unexamined. */
static void ethertype_chain(struct buf *b, unsigned e, unsigned n0)
{
    for (unsigned t = 0; t <= CAPTURE_FILTER_TAGS; t++) {
        unsigned et = t ? n0 + 4 * t - 2 : e, l = n0 + 4 * t;
        put(b, "((link[%u:2] = 0x0800 and ", et);
        ipv4(b, l);
        put(b, ") or (link[%u:2] = 0x86dd and ", et);
        ipv6(b, l);
        put(b, ") or ");
        if (t < CAPTURE_FILTER_TAGS)
            put(b, "(");
        tpid(b, et);
        if (t < CAPTURE_FILTER_TAGS)
            put(b, " and ");
    }
    for (unsigned t = 0; t <= CAPTURE_FILTER_TAGS; t++)
        put(b, t ? "))" : ")");
}

int capture_filter_text(int dlt, char *out, size_t len)
{
    struct buf b = { out, len, 0, 0 };
    if (len == 0)
        return -1;
    out[0] = '\0';
    switch (dlt) {
    case IDT_DLT_EN10MB:
        ethertype_chain(&b, 12, 14);
        break;
    case IDT_DLT_LINUX_SLL:
        ethertype_chain(&b, 14, 16);
        break;
    case IDT_DLT_LINUX_SLL2:
        ethertype_chain(&b, 0, 20);
        break;
    case IDT_DLT_RAW:
    case IDT_LINKTYPE_RAW:
    case IDT_DLT_IPV4:
    case IDT_DLT_IPV6:
        if (dlt != IDT_DLT_IPV6) {
            put(&b, "((link[0] & 0xf0) = 0x40 and ");
            ipv4(&b, 0);
            put(&b, ")");
        }
        if (dlt != IDT_DLT_IPV4) {
            put(&b, "%s((link[0] & 0xf0) = 0x60 and ", b.used ? " or " : "");
            ipv6(&b, 0);
            put(&b, ")");
        }
        break;
    default:
        return 0;
    }
    return b.overflow ? -1 : (int)b.used;
}

int capture_filter_install(pcap_t *p, const char *iface)
{
    char text[CAPTURE_FILTER_TEXT_MAX];
    int dlt = pcap_datalink(p);
    const char *name = pcap_datalink_val_to_name(dlt);
    int n = capture_filter_text(dlt, text, sizeof text);
    if (n == 0)
        return 0;                                /* unsupported: the caller says so */
    if (n < 0) {
        log_warn("capture on %s: the filter for link type %s does not fit its buffer; "
                 "capturing unfiltered (every frame is copied to user space)",
                 iface, name ? name : "?");
        return 0;
    }
    struct bpf_program prog;
    if (pcap_compile(p, &prog, text, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        log_warn("capture on %s: the filter does not compile for link type %s (%s); "
                 "capturing unfiltered (every frame is copied to user space)",
                 iface, name ? name : "?", pcap_geterr(p));
        return 0;
    }
    int r = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (r < 0) {
        log_warn("capture on %s: cannot install the filter for link type %s (%s); "
                 "capturing unfiltered (every frame is copied to user space)",
                 iface, name ? name : "?", pcap_geterr(p));
        return 0;
    }
    return 1;
}
