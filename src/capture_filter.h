/* capture_filter.h - the kernel (BPF) filter of the live capture.
 *
 * The filter is a deliberately wider superset of what src/esp_parse.c
 * counts as ESP, written with plain byte loads relative to the link header
 * (no `vlan`, `esp` or `ip6 proto` keywords), one text per link type.
 * See capture_filter.c for exactly what passes and why. */
#ifndef IDT_CAPTURE_FILTER_H
#define IDT_CAPTURE_FILTER_H

#include <pcap/pcap.h>
#include <stddef.h>

/* Tags (802.1Q 0x8100, 802.1ad 0x88a8, old QinQ 0x9100) the filter looks
 * through; frames with more tags than this pass unexamined. */
#define CAPTURE_FILTER_TAGS 3

/* Room for the longest filter text, terminating NUL included. */
#define CAPTURE_FILTER_TEXT_MAX 8192

/* Write the filter text for pcap link type dlt into buf (NUL-terminated).
 * Returns its length; 0 (buf empty) if the parser does not support dlt
 * (then no filter is wanted); -1 if len is too small. */
int capture_filter_text(int dlt, char *buf, size_t len);

/* Compile and install the filter for pcap_datalink(p) on an activated
 * live handle.  If the link type has no filter, or the filter does not
 * compile or the kernel refuses it, the capture runs unfiltered (every
 * frame goes to the parser) and a warning names iface and the reason.
 * Returns 1 if a filter is installed, 0 if the capture is unfiltered. */
int capture_filter_install(pcap_t *p, const char *iface);

#endif
