/* probe.h - the probing core of in-tunnel MTU discovery: one discovery
 * run on one tunnel with DF ICMP echo probes of exact sizes.
 *
 * The core (raw socket setup, one round of probes, matching of replies)
 * drives the pure search in mtu_search.h; it is shared by the daemon's
 * prober (prober.c) and the foreground mode (interactive --mtu).
 *
 * Probes: ICMP echo requests (ICMPv6 echo for IPv6) whose whole IP packet
 * is exactly the probe size, DF set with IP_PMTUDISC_PROBE (IPv6:
 * IPV6_PMTUDISC_PROBE + IPV6_DONTFRAG) so the cached path MTU is ignored,
 * from a raw socket bound to mtu.source (needs CAP_NET_RAW).  Replies are
 * matched on source == mtu.target, ICMP id, sequence number (only those of
 * the current round) and a per-job random 64-bit token in the payload.
 * EMSGSIZE on send reads the local interface MTU from the socket's error
 * queue (IP_RECVERR) -> mtu_search_local_limit(); an ICMP frag-needed /
 * packet-too-big quoting one of our probes -> mtu_search_hint().
 *
 * All timing is CLOCK_MONOTONIC.
 */
#ifndef IDT_PROBE_H
#define IDT_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* Why a run failed; each value is one failure path of probe_run(). */
enum probe_fail {
    PROBE_FAIL_NONE = 0,        /* succeeded (or still running) */
    PROBE_FAIL_NO_REPLY,        /* probes sent, not even the smallest answered */
    PROBE_FAIL_UNAVAILABLE,     /* the prober could not run the job (memory, thread) */
    PROBE_FAIL_SEND,            /* no probe could be sent (sendto error, e.g. EPERM) */
    PROBE_FAIL_LOCAL_LIMIT,     /* the local interface MTU is below mtu.min */
    PROBE_FAIL_UNSTABLE,        /* no stable answer after the retries (loss) */
    PROBE_FAIL_SOCKET,          /* raw socket: open, setsockopt or bind failed */
    PROBE_FAIL_PARAMS,          /* mtu parameters the search rejects */
};

/* Short name of a reason ("noReply", ... as the MIB's
 * ipsecDiagTunnelMtuFailReason labels), for log lines. */
const char *probe_fail_name(enum probe_fail f);

struct probe_job;

/* Called after each round but the last with the probes sent so far in
 * this run (from the thread running probe_run). */
typedef void (*probe_round_fn)(const struct probe_job *j, uint32_t probes_sent, void *arg);

/* What the marks after each size in a trace's round line mean (the
 * foreground prints it once, before the first tunnel). */
#define PROBE_TRACE_LEGEND \
    "each round line lists the probe sizes of the round, each marked: + answered, " \
    "- sent, no answer, ! over the local interface MTU (not sent), x send error, " \
    "? not needed (the search was settled before it was sent)"

/* One discovery run on one tunnel. */
struct probe_job {
    /* input */
    uint32_t index;
    char name[IDT_NAME_MAX];
    struct idt_mtu_conf m;
    int stop_fd;            /* readable = abort now; -1 = none */
    FILE *trace;            /* foreground: per-round lines; NULL in the daemon */
    probe_round_fn on_round;    /* may be NULL */
    void *arg;
    /* output */
    int ok;                 /* 1: mtu found */
    int stopped;            /* aborted through stop_fd */
    enum probe_fail fail;   /* PROBE_FAIL_NONE if ok or stopped */
    uint32_t mtu, rounds, probes;
    double seconds;
    char reason[128];       /* human-readable failure text */
};

/* Job for tunnel t (input fields; stop_fd -1, no trace, no callback). */
void probe_job_init(struct probe_job *j, const struct idt_tunnel_conf *t);

/* Run discovery (blocking).  Fills the output fields of j. */
void probe_run(struct probe_job *j);

/* The result line:
 *   "mtu discovered on tunnel NAME: mtu=1418 previous=1400 rounds=2 probes=29 time=3.1s"
 *   "mtu discovery failed on tunnel NAME: REASON (reason=noReply rounds=.. probes=..)" */
void probe_format_result(const struct probe_job *j, const char *previous, char *buf, size_t len);

#endif
