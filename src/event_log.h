/* event_log.h - optional CSV log of loss gaps (loss.event_log).
 * One line per gap: time,tunnel,src,dst,spi,first_seq,last_seq,count,kind */
#ifndef IDT_EVENT_LOG_H
#define IDT_EVENT_LOG_H

#include <stdint.h>
#include "config.h"

struct event_log;

/* Open (append; header written when the file is new or empty).
 * NULL with a message in err on failure. */
struct event_log *event_log_open(const char *path, char *err, size_t errlen);
/* kind: "lost" or "late".  Runs of one SA and kind that continue each
 * other are merged into one line (time of the first); flushed by the next
 * unrelated run, event_log_flush() or close. */
void event_log_gap(struct event_log *el, uint64_t time_us, const char *tunnel,
                   const struct idt_addr *src, const struct idt_addr *dst, uint32_t spi,
                   uint64_t first, uint64_t last, const char *kind);
void event_log_flush(struct event_log *el);
void event_log_close(struct event_log *el);
/* 1 once a write has failed (the error was logged once). */
int event_log_failed(const struct event_log *el);

#endif
