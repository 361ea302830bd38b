/* floor_reader.c - the "floor" for the offline throughput benchmark.
 *
 * The least work a libpcap-based ESP loss counter can possibly do: a
 * pcap_next_ex() loop that reads SPI and sequence number at a fixed
 * offset (link header + IPv4 IHL, ESP directly after the IP header) and
 * XORs them into a checksum, printed at the end so the compiler cannot
 * drop the loop.  No validation, no hashing, no state.
 *
 *   gcc -O2 tests/bench/floor_reader.c -o floor_reader -lpcap
 *   floor_reader FILE.pcap   ->  "packets=N esp=N checksum=0x..."
 *
 * Supported link types: Ethernet (no VLAN), raw IP, Linux SLL, SLL2.
 * Frames that are not IPv4 with protocol 50 and enough bytes are only
 * counted (the bench capture contains none).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

static unsigned link_offset(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return 14;
    case DLT_RAW:
    case 101:           /* LINKTYPE_RAW */
        return 0;
    case 113:           /* DLT_LINUX_SLL */
        return 16;
    case 276:           /* DLT_LINUX_SLL2 */
        return 20;
    default:
        return ~0u;
    }
}

int main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.pcap\n", argv[0]);
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], errbuf);
    if (!p) {
        fprintf(stderr, "floor_reader: %s\n", errbuf);
        return 1;
    }
    unsigned l2 = link_offset(pcap_datalink(p));
    if (l2 == ~0u) {
        fprintf(stderr, "floor_reader: unsupported link type %d\n", pcap_datalink(p));
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t packets = 0, esp = 0;
    uint32_t sum = 0;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
        packets++;
        if (h->caplen < l2 + 20)
            continue;
        const u_char *ip = d + l2;
        unsigned off = l2 + (unsigned)(ip[0] & 0x0f) * 4u;
        if ((ip[0] >> 4) != 4 || ip[9] != 50 || h->caplen < off + 8)
            continue;
        const u_char *e = d + off;
        uint32_t spi = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3];
        uint32_t seq = (uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 | (uint32_t)e[6] << 8 | e[7];
        sum ^= spi ^ (seq * 2654435761u);
        esp++;
    }
    if (r == -1) {
        fprintf(stderr, "floor_reader: %s\n", pcap_geterr(p));
        return 1;
    }
    pcap_close(p);
    printf("packets=%llu esp=%llu checksum=0x%08x\n", (unsigned long long)packets,
           (unsigned long long)esp, sum);
    return 0;
}
