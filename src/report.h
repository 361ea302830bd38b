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

#endif
