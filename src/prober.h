/* prober.h - in-tunnel MTU discovery in the daemon: the scheduler that
 * runs the probing core (probe.h) on request and on schedule.  The
 * foreground mode (interactive --mtu) is in interactive.c.
 *
 * Daemon side: prober_start() runs one scheduler thread which starts one
 * worker thread per job (at most PROBER_MAX_JOBS at once; more requests
 * wait in a FIFO and count as running).  Each job pushes MSG_MTU_STARTED
 * when it starts, MSG_MTU_PROGRESS (probes sent so far) after a round at
 * most every 0.5 s while it runs, and MSG_MTU_RESULT when it ends (with
 * time_us = CLOCK_MONOTONIC microseconds), and logs
 *   notice: "mtu discovered on tunnel NAME: mtu=1418 previous=1400 rounds=2 probes=29 time=3.1s"
 *   warning: "mtu discovery failed on tunnel NAME: TEXT (reason=noReply rounds=.. probes=..)"
 * (previous = last successful value for that tunnel index in this
 * process, or "none"; reason = probe_fail_name()).  A start or a result
 * is never dropped: on a full queue the worker waits for room (progress
 * messages are dropped instead).  A job whose thread cannot be created
 * ends at once with PROBE_FAIL_UNAVAILABLE.  Tunnels with mtu.interval > 0
 * run automatically: the first run is `interval` seconds after
 * prober_start() (or after the reload that added the tunnel or changed
 * its interval), then every `interval` seconds (a due run is skipped if
 * the tunnel is still running).  The prober never calls Net-SNMP.  The
 * queue must outlive prober_stop(); jobs interrupted by prober_stop()
 * push no result.
 */
#ifndef IDT_PROBER_H
#define IDT_PROBER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "queue.h"

#define PROBER_MAX_JOBS 8   /* jobs probing at the same time */

struct prober;

/* Copies what it needs from cfg.  NULL on error (text in err). */
struct prober *prober_start(const struct idt_config *cfg, struct queue *q,
                            char *err, size_t errlen);

/* Replace the tunnel list (reload).  Running and queued jobs finish with
 * the settings they started with. */
void prober_set_config(struct prober *p, const struct idt_config *cfg);
/* A reload in two steps: reserve the memory the new config needs before
 * anything changes (-1: out of memory), so that prober_set_config() with
 * it cannot fail; or release the reserve if the reload is abandoned. */
int prober_reserve_config(struct prober *p, const struct idt_config *cfg);
void prober_release_reserve(struct prober *p);

/* Start discovery on the configured tunnel with this MIB index (0 = every
 * tunnel that has an mtu block).  Returns 0 started (queued), 1 already
 * running (no-op; for 0: every such tunnel was already running), -1 no
 * such tunnel / no mtu block (for 0: no tunnel has one) or stopping.
 * Never blocks (only a short mutex). */
int prober_request(struct prober *p, uint32_t index);

/* 1 if that tunnel's job is running or queued (index 0: any job), else 0. */
int prober_is_running(struct prober *p, uint32_t index);

/* Ends all running jobs promptly (well within 200 ms), joins the
 * threads and frees p.  NULL is a no-op. */
void prober_stop(struct prober *p);

#endif
