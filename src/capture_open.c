/* capture_open.c - opening a live capture with the project's settings
 * (the daemon's capture thread and the console's live mode). */
#include "idt_build.h"
#include "capture_open.h"
#include "capture_filter.h"

#include <stdio.h>

pcap_t *capture_open_live(const char *iface, uint32_t snaplen, uint32_t buffer_kb,
                          char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, eb);
    if (!p) {
        snprintf(err, errlen, "capture on %s: %s", iface, eb);
        return NULL;
    }
    pcap_set_snaplen(p, (int)snaplen);
    pcap_set_promisc(p, 0);
    pcap_set_timeout(p, CAPTURE_TIMEOUT_MS);
    pcap_set_buffer_size(p, (int)(buffer_kb * 1024u));
    int r = pcap_activate(p);
    if (r < 0) {
        snprintf(err, errlen, "capture on %s: %s%s", iface, pcap_geterr(p),
                 r == PCAP_ERROR_PERM_DENIED ? " (capturing needs root or CAP_NET_RAW)" : "");
        pcap_close(p);
        return NULL;
    }
    capture_filter_install(p, iface);   /* unfiltered (with a warning) if it cannot be */
    if (pcap_setnonblock(p, 1, eb) < 0) {
        snprintf(err, errlen, "capture on %s: %s", iface, eb);
        pcap_close(p);
        return NULL;
    }
    return p;
}
