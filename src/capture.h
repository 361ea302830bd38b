/* capture.h - the daemon's capture thread, which owns the analysis engine.
 * Opening a capture: capture_open.h. */
#ifndef IDT_CAPTURE_H
#define IDT_CAPTURE_H

#include <pcap/pcap.h>
#include <stdint.h>
#include "config.h"
#include "engine.h"
#include "ike_view.h"
#include "queue.h"

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
/* Hand the VICI client's newest view to the thread (takes the caller's
 * reference).  It replaces a view not yet applied; the replaced view's
 * events are kept, ahead of v's.  The thread applies it at its next
 * iteration (engine_ike_apply) and releases it. */
void capture_ike_update(struct capture *c, struct ike_view *v);
void capture_stop(struct capture *c);

#endif
