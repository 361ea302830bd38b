/* capture_open.h - opening a live capture with the project's settings. */
#ifndef IDT_CAPTURE_OPEN_H
#define IDT_CAPTURE_OPEN_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

/* The capture's read timeout: the kernel hands a block of packets over at
 * most this long after the block was opened (TPACKET_V3 block timeout). */
#define CAPTURE_TIMEOUT_MS 100

/* Open iface for ESP capture with snaplen, buffer size, a
 * CAPTURE_TIMEOUT_MS read timeout, not promiscuous, non-blocking, and
 * install the kernel filter (capture_filter.h; without it, the capture
 * runs unfiltered).  NULL with a message in err on failure. */
pcap_t *capture_open_live(const char *iface, uint32_t snaplen, uint32_t buffer_kb,
                          char *err, size_t errlen);

#endif
