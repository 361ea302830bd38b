/* capture_open.h - opening a live capture with the project's settings. */
#ifndef IDT_CAPTURE_OPEN_H
#define IDT_CAPTURE_OPEN_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

/* Open iface for ESP capture with snaplen, buffer size, a 100 ms read
 * timeout, not promiscuous, non-blocking, and install the kernel filter
 * (capture_filter.h; without it, the capture runs unfiltered).  NULL with
 * a message in err on failure. */
pcap_t *capture_open_live(const char *iface, uint32_t snaplen, uint32_t buffer_kb,
                          char *err, size_t errlen);

#endif
