/* report.h - the offline/interactive report: text tables and JSON. */
#ifndef IDT_REPORT_H
#define IDT_REPORT_H

#include <stdio.h>
#include "engine.h"

struct report_alert {
    uint64_t time_us;
    uint32_t index;
    char tunnel[IDT_NAME_MAX];
    enum alert_event event;
    uint64_t lost;
    uint32_t interval_s;
    uint32_t rate_ppm;
    uint64_t received;          /* received in the interval */
    uint32_t criterion;         /* ALERT_CRIT_* bits that tripped the alarm */
    uint32_t reminders;         /* 0: the first alarm; n: the n-th reminder */
    uint32_t threshold_lost, threshold_ppm;
};

void report_json(FILE *out, struct engine *e, const struct report_alert *alerts, size_t nalerts);
void report_text(FILE *out, struct engine *e, const struct report_alert *alerts, size_t nalerts);
/* Compact per-tunnel table for the live console. */
void report_live(FILE *out, struct engine *e);

const char *alert_event_name(enum alert_event ev);
/* "lost", "ppm", "lost+ppm" or "none" for ALERT_CRIT_* bits. */
const char *alert_criterion_name(uint32_t criterion);
/* "neverSeen", "active", "idle" (the MIB's labels). */
const char *tunnel_state_name(uint8_t state);

/* time_us (microseconds since the Unix epoch, UTC) in ISO 8601 with
 * microseconds, e.g. "2026-11-30T01:54:24.160123Z"; "-" beyond year 9999.
 * Alerts carry it next to the epoch seconds, in text and JSON. */
void report_iso8601(uint64_t time_us, char *buf, size_t len);

#endif
