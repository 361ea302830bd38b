/* capture.h - libpcap capture: opening with the project's settings, and
 * the capture thread that owns the analysis engine in the daemon. */
#ifndef IDT_CAPTURE_H
#define IDT_CAPTURE_H

#include <pcap/pcap.h>
#include <stdint.h>
#include "config.h"
#include "engine.h"
#include "queue.h"

/* Open iface for ESP capture with snaplen, buffer size and immediate mode,
 * and install the kernel filter (capture_filter.h; without it, the capture
 * runs unfiltered).  NULL with a message in err on failure. */
pcap_t *capture_open_live(const char *iface, uint32_t snaplen, uint32_t buffer_kb,
                          char *err, size_t errlen);

/* Is addr configured on one of this host's interfaces? (refreshed lazily) */
int capture_addr_is_local(void *ctx, const struct idt_addr *addr);

struct capture;

/* Start the capture thread.  It owns an engine built from cfg and reports
 * to the agent thread through q; snapshots go to snapshot_publish().
 * pre_opened may be a pcap handle opened before dropping privileges. */
struct capture *capture_start(const struct idt_config *cfg, struct queue *q, pcap_t *pre_opened,
                              char *err, size_t errlen);
/* Hand a new config to the thread (reload).  At its next iteration the
 * thread either adopts it and sends MSG_CONFIG_RELEASED with the old one,
 * or cannot (out of memory), keeps the old one and sends
 * MSG_CONFIG_REJECTED with the new one. */
void capture_reconfigure(struct capture *c, const struct idt_config *cfg);
void capture_stop(struct capture *c);

#endif
