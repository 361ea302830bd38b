/* queue.h - bounded message queue from the capture and prober threads to
 * the agent thread, with an eventfd the agent's poll loop waits on. */
#ifndef IDT_QUEUE_H
#define IDT_QUEUE_H

#include <stdint.h>
#include "config.h"

enum msg_type {
    MSG_ALERT = 1,          /* tunnel loss alert (exceeded/cleared/reminder) */
    MSG_DROPPING,           /* the capture is dropping packets */
    MSG_MTU_STARTED,
    MSG_MTU_RESULT,
    MSG_CONFIG_RELEASED,    /* capture thread adopted a new config, released the old (ptr) */
    MSG_CONFIG_REJECTED,    /* capture thread could not adopt the new config (ptr) */
    MSG_MTU_PROGRESS,       /* a running MTU job's probes so far (probes) */
    MSG_SYSLOG_RESOLVED,    /* a syslog.server lookup ended (ptr: its handle) */
    MSG_SA_PRESSURE,        /* the SA table is under pressure (rate-limited by the engine) */
    MSG_TUNNEL_STATE,       /* a tunnel went idle or active (event: enum tunnel_state) */
    MSG_DROPPING_CLEARED,   /* the capture stopped dropping */
    MSG_TUNNEL_IKE,         /* IKE up or down (event: new enum tunnel_ike_state,
                             * prev_state: the one before, local, remote) */
};

struct msg {
    enum msg_type type;
    uint32_t index;                 /* tunnel index */
    char name[IDT_NAME_MAX];        /* tunnel name */
    uint64_t time_us;               /* MSG_MTU_*: CLOCK_MONOTONIC */
    /* MSG_ALERT (MSG_TUNNEL_STATE: event, prev_state, interval_s = idle
     * timeout, last_seen_us, local, remote) */
    int event;                      /* enum alert_event */
    uint64_t lost, total_lost;
    uint32_t interval_s, rate_ppm, threshold;
    uint64_t received;              /* in the interval */
    uint32_t threshold_ppm, criterion, reminders;   /* criterion: ALERT_CRIT_* */
    uint64_t lost_while_dropping;
    int prev_state;
    uint64_t last_seen_us;          /* CLOCK_MONOTONIC */
    struct idt_addr local, remote;
    uint32_t spi;
    /* MSG_DROPPING, MSG_DROPPING_CLEARED */
    uint64_t drops, captured;
    /* MSG_MTU_RESULT (probes also MSG_MTU_PROGRESS: sent so far in the run) */
    int ok;                         /* 1 succeeded, 0 failed */
    int fail;                       /* enum probe_fail, 0 if ok */
    uint32_t mtu, rounds, probes;
    double seconds;
    char reason[128];
    /* MSG_SA_PRESSURE */
    uint64_t evicted, refused;
    uint32_t active_sas, tentative_sas, max_sas;
    /* MSG_CONFIG_RELEASED, MSG_CONFIG_REJECTED, MSG_SYSLOG_RESOLVED */
    void *ptr;
};

struct queue;

struct queue *queue_create(uint32_t capacity);
void queue_destroy(struct queue *q);
int queue_fd(const struct queue *q);        /* readable when messages wait */
/* Returns 0, or -1 when full (the message is dropped and counted). */
int queue_push(struct queue *q, const struct msg *m);
/* For messages that must not be lost: when the queue is full, waits for
 * room (a queue_pop) up to timeout_ms (< 0: no limit).  Returns 0 pushed,
 * -1 still full after timeout_ms (not counted as dropped; the caller
 * retries or gives up).  Blocks only the calling (producer) thread. */
int queue_push_wait(struct queue *q, const struct msg *m, int timeout_ms);
/* Returns 1 and fills *m, or 0 when empty. */
int queue_pop(struct queue *q, struct msg *m);
uint64_t queue_dropped(const struct queue *q);
/* How many times queue_push_wait() found the queue full and waited. */
uint64_t queue_waits(struct queue *q);

#endif
