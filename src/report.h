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
};

void report_json(FILE *out, struct engine *e, const struct report_alert *alerts, size_t nalerts);
void report_text(FILE *out, struct engine *e, const struct report_alert *alerts, size_t nalerts);
/* Compact per-tunnel table for the live console. */
void report_live(FILE *out, struct engine *e);

const char *alert_event_name(enum alert_event ev);

/* time_us (microseconds since the Unix epoch, UTC) in ISO 8601 with
 * microseconds, e.g. "2026-11-30T01:54:24.160123Z"; "-" beyond year 9999.
 * Alerts carry it next to the epoch seconds, in text and JSON. */
void report_iso8601(uint64_t time_us, char *buf, size_t len);

#endif
