/* vici_client.h - the VICI client thread: the socket shell around
 * vici_msg.h and vici_sas.h.
 *
 * It connects to charon's VICI unix socket (ike.vici), registers for
 * ike-updown, child-updown, ike-rekey and child-rekey (and list-sa, the
 * stream of list-sas), and runs list-sas at connect, shortly after each
 * event (a burst of events gives one list), and every ike.poll_interval
 * seconds.  After each complete list-sas it builds an ike_view holding
 * the SAs and the events received since the previous view, and hands it
 * to deliver().  All I/O is non-blocking with poll() and a reply timeout,
 * in its own thread: nothing here can stall the agent or the capture.
 *
 * When charon goes away (EOF, error, a reply timeout, or a message that is
 * malformed, oversized or too deeply nested) the client logs one line,
 * delivers a view with connected = 0, and reconnects with backoff
 * (1 s doubling to 60 s); further failures of the same outage are logged
 * at debug level only.  The default socket (ike.vici not set) is used
 * while it exists, quietly.
 */
#ifndef IDT_VICI_CLIENT_H
#define IDT_VICI_CLIENT_H

#include <stddef.h>
#include "config.h"
#include "ike_view.h"

#define VICI_REPLY_TIMEOUT_MS 10000     /* a reply or a started packet must complete */
#define VICI_BACKOFF_MIN_S 1
#define VICI_BACKOFF_MAX_S 60
#define VICI_COALESCE_MS 100            /* list-sas this long after the first event of a burst */

struct vici_client;

/* deliver() takes the view's reference; it runs in the client's thread. */
typedef void (*vici_deliver_fn)(void *ctx, struct ike_view *v);

/* Start the thread with cfg's ike settings (copied).  NULL with err set
 * when the thread cannot be started. */
struct vici_client *vici_client_start(const struct idt_config *cfg, vici_deliver_fn deliver,
                                      void *ctx, char *err, size_t errlen);
/* Reload: a changed socket path reconnects at once, a changed interval
 * applies from the next list. */
void vici_client_set_config(struct vici_client *vc, const struct idt_config *cfg);
void vici_client_stop(struct vici_client *vc);

#endif
