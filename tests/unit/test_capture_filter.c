/* test_capture_filter.c - the live capture's kernel filter against the
 * parser, frame by frame (driven by tests/capture_filter.sh).
 *
 *   test_capture_filter FILE...      check every frame of the capture files
 *   test_capture_filter --print DLT  print the filter text for link type DLT
 *
 * For every link type the live capture may open, the filter must compile
 * (pcap_compile on a pcap_open_dead handle), fit the kernel's limit and be
 * accepted by the kernel's own checker (SO_ATTACH_FILTER).  For every frame
 * of every file (read with libpcap, not with our reader):
 *   - a frame that esp_parse() counts as ESP passes the filter
 *     (pcap_offline_filter), and so does the frame as the Linux kernel
 *     filter sees it: outer 0x8100/0x88a8 tag removed (it is metadata there);
 *   - a frame that is not IP, or is IPv4 and ignored as another protocol,
 *     IKE or a non-first fragment, or is IPv6 of that kind without
 *     extension headers, is rejected (the filter is narrow).
 * Exit status 0 if all hold, 1 otherwise (each failure is printed). */
#include "idt_build.h"
#include "capture_filter.h"
#include "esp_parse.h"

#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const int link_types[] = {
    IDT_DLT_EN10MB, IDT_DLT_LINUX_SLL, IDT_DLT_LINUX_SLL2, IDT_DLT_RAW, IDT_DLT_IPV4, IDT_DLT_IPV6,
};

static int failures;

#define FAIL(...) do { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); failures++; } while (0)

static int compile(int dlt, struct bpf_program *prog)
{
    char text[CAPTURE_FILTER_TEXT_MAX];
    int n = capture_filter_text(dlt, text, sizeof text);
    if (n <= 0) {
        FAIL("link type %d: no filter text (%d)", dlt, n);
        return -1;
    }
    if ((size_t)n != strlen(text))
        FAIL("link type %d: returned length %d, text length %zu", dlt, n, strlen(text));
    pcap_t *p = pcap_open_dead(dlt, 262144);
    if (!p) {
        FAIL("pcap_open_dead(%d)", dlt);
        return -1;
    }
    int r = pcap_compile(p, prog, text, 1, PCAP_NETMASK_UNKNOWN);
    if (r < 0)
        FAIL("link type %d: pcap_compile: %s", dlt, pcap_geterr(p));
    pcap_close(p);
    return r < 0 ? -1 : 0;
}

/* The kernel's checker (no privileges needed): size, jumps, loads. */
static void kernel_accepts(int dlt, const struct bpf_program *prog)
{
    if (prog->bf_len > BPF_MAXINSNS)
        FAIL("link type %d: %u instructions > %d", dlt, prog->bf_len, BPF_MAXINSNS);
    struct sock_fprog fp = { .len = (unsigned short)prog->bf_len,
                             .filter = (struct sock_filter *)(void *)prog->bf_insns };
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0)
        FAIL("link type %d: the kernel refuses the filter (%u instructions)", dlt, prog->bf_len);
    if (s >= 0)
        close(s);
}

static void check_link_types(void)
{
    char a[CAPTURE_FILTER_TEXT_MAX], b[CAPTURE_FILTER_TEXT_MAX];
    for (size_t i = 0; i < sizeof link_types / sizeof link_types[0]; i++) {
        struct bpf_program prog;
        if (compile(link_types[i], &prog) == 0) {
            kernel_accepts(link_types[i], &prog);
            printf("link type %d: %u instructions\n", link_types[i], prog.bf_len);
            pcap_freecode(&prog);
        }
    }
    /* LINKTYPE_RAW (files) is DLT_RAW (live); unsupported types: no filter */
    if (capture_filter_text(IDT_LINKTYPE_RAW, a, sizeof a) <= 0 ||
        capture_filter_text(IDT_DLT_RAW, b, sizeof b) <= 0 || strcmp(a, b) != 0)
        FAIL("LINKTYPE_RAW and DLT_RAW filters differ");
    if (capture_filter_text(9 /* DLT_PPP */, a, sizeof a) != 0 || a[0] != '\0')
        FAIL("an unsupported link type has a filter");
    if (capture_filter_text(IDT_DLT_EN10MB, a, 100) != -1)
        FAIL("a short buffer is not reported");
}

static unsigned rd16(const u_char *p) { return (unsigned)p[0] << 8 | p[1]; }

struct layout {
    int etype_off;      /* -1: raw IP */
    unsigned n0;        /* first byte after the link header */
};

static int layout_of(int dlt, struct layout *l)
{
    switch (dlt) {
    case IDT_DLT_EN10MB:     *l = (struct layout){ 12, 14 }; return 0;
    case IDT_DLT_LINUX_SLL:  *l = (struct layout){ 14, 16 }; return 0;
    case IDT_DLT_LINUX_SLL2: *l = (struct layout){ 0, 20 };  return 0;
    case IDT_DLT_RAW: case IDT_LINKTYPE_RAW: case IDT_DLT_IPV4: case IDT_DLT_IPV6:
        *l = (struct layout){ -1, 0 }; return 0;
    default: return -1;
    }
}

static int is_tpid(unsigned t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

/* Should the filter reject this non-ESP frame?  Only for the plain
 * cases the filter claims to keep in the kernel (see capture_filter.c). */
static int must_reject(const struct layout *lo, const u_char *d, uint32_t cap, enum esp_reason why)
{
    unsigned ip = lo->n0, ver, tags = 0;
    if (lo->etype_off >= 0) {
        unsigned e = (unsigned)lo->etype_off, et;
        if (cap < e + 2)
            return 0;
        et = rd16(d + e);
        while (is_tpid(et)) {
            if (cap < ip + 4)
                return 0;
            et = rd16(d + ip + 2);
            ip += 4;
            tags++;
        }
        if (tags > CAPTURE_FILTER_TAGS)
            return 0;                       /* passed unexamined */
        if (et != 0x0800 && et != 0x86dd)
            return why == ESP_R_ETHERTYPE;
    }
    if (why != ESP_R_PROTO && why != ESP_R_IKE && why != ESP_R_FRAGMENT)
        return 0;
    if (cap < ip + 20)
        return 0;
    ver = d[ip] >> 4;
    if (ver == 4)       /* without options, not behind AH */
        return why == ESP_R_FRAGMENT || ((d[ip] & 0x0f) == 5 && d[ip + 9] != 51);
    if (ver == 6 && cap >= ip + 40) {
        unsigned nh = d[ip + 6];
        if (nh == 0 || nh == 43 || nh == 60 || nh == 50 || nh == 51)
            return 0;
        if (nh == 44)
            return why == ESP_R_FRAGMENT;
        return 1;
    }
    return 0;
}

/* The frame as the Linux kernel filter sees it when the outer tag was a
 * 0x8100/0x88a8 one: that tag moved to metadata.  Returns 0 if n/a. */
static uint32_t kernel_view(const struct layout *lo, const u_char *d, uint32_t cap, u_char *out)
{
    if (lo->etype_off < 0)
        return 0;
    unsigned e = (unsigned)lo->etype_off, n0 = lo->n0;
    if (cap < n0 + 4)
        return 0;
    unsigned et = rd16(d + e);
    if (et != 0x8100 && et != 0x88a8)
        return 0;
    memcpy(out, d, e);                          /* link header before the EtherType */
    memcpy(out + e, d + n0 + 2, 2);             /* the tag's inner EtherType */
    memcpy(out + e + 2, d + e + 2, n0 - e - 2); /* link header after it */
    memcpy(out + n0, d + n0 + 4, cap - n0 - 4);
    return cap - 4;
}

static void check_file(const char *path)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, eb);
    if (!p) {
        FAIL("%s: %s", path, eb);
        return;
    }
    int dlt = pcap_datalink(p);
    struct layout lo;
    struct bpf_program prog;
    if (layout_of(dlt, &lo) < 0 || compile(dlt, &prog) < 0) {
        FAIL("%s: link type %d", path, dlt);
        pcap_close(p);
        return;
    }
    static u_char kv[262144];
    unsigned long frames = 0, esp = 0, stripped = 0, other_passed = 0, narrow = 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
        frames++;
        struct esp_pkt pkt;
        enum esp_reason why;
        enum esp_verdict v = esp_parse(dlt, d, h->caplen, h->len, &pkt, &why);
        int pass = pcap_offline_filter(&prog, h, d) != 0;
        if (v == ESP_OK) {
            esp++;
            if (!pass)
                FAIL("%s frame %lu: ESP spi 0x%08x seq %u rejected by the filter",
                     path, frames, pkt.spi, pkt.seq);
            uint32_t n = h->caplen <= sizeof kv ? kernel_view(&lo, d, h->caplen, kv) : 0;
            if (n) {
                struct pcap_pkthdr kh = *h;
                kh.caplen = n;
                kh.len = h->len - 4;
                stripped++;
                if (!pcap_offline_filter(&prog, &kh, kv))
                    FAIL("%s frame %lu: ESP spi 0x%08x seq %u rejected as the kernel sees it "
                         "(outer tag stripped)", path, frames, pkt.spi, pkt.seq);
            }
        } else {
            other_passed += pass;
            if (must_reject(&lo, d, h->caplen, why)) {
                narrow++;
                if (pass)
                    FAIL("%s frame %lu: not ESP (reason %d) but passes the filter",
                         path, frames, (int)why);
            }
        }
    }
    if (r != PCAP_ERROR_BREAK)
        FAIL("%s: read error: %s", path, pcap_geterr(p));
    printf("%s: %lu frames, %lu ESP (%lu also kernel-stripped), %lu must-reject, "
           "%lu other frames passed\n", path, frames, esp, stripped, narrow, other_passed);
    pcap_freecode(&prog);
    pcap_close(p);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--print") == 0) {
        char text[CAPTURE_FILTER_TEXT_MAX];
        if (capture_filter_text(atoi(argv[2]), text, sizeof text) <= 0) {
            fprintf(stderr, "no filter for link type %s\n", argv[2]);
            return 1;
        }
        puts(text);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE... | --print DLT\n", argv[0]);
        return 2;
    }
    check_link_types();
    for (int i = 1; i < argc; i++)
        check_file(argv[i]);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
