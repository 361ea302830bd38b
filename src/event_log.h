/* event_log.h - optional CSV log of loss gaps (loss.event_log).
 * One line per gap: time,tunnel,src,dst,spi,first_seq,last_seq,count,kind */
#ifndef IDT_EVENT_LOG_H
#define IDT_EVENT_LOG_H

#include <stdint.h>
#include "config.h"

struct event_log;

/* Open (append; the header line is written first when the file is new or
 * empty).  NULL with a message in err when it cannot be opened. */
struct event_log *event_log_open(const char *path, char *err, size_t errlen);
/* Write out what is buffered to the file open now, then open the path again
 * (after logrotate has renamed the file: a new file with a header).  An open
 * failure starts a failure episode (retried with backoff). */
void event_log_reopen(struct event_log *el);
/* kind: "lost" or "late".  Runs of one SA and kind that continue each
 * other are merged into one line (time of the first); flushed by the next
 * unrelated run, event_log_flush() or close. */
void event_log_gap(struct event_log *el, uint64_t time_us, const char *tunnel,
                   const struct idt_addr *src, const struct idt_addr *dst, uint32_t spi,
                   uint64_t first, uint64_t last, const char *kind);
/* Writes the buffered lines.  After a write error (logged once per episode)
 * the lines stay buffered (64 KiB; lines beyond that are counted as lost)
 * and each later flush, with backoff from 1 s to 30 s, reopens the path and
 * retries; success is logged with the number of lines lost. */
void event_log_flush(struct event_log *el);
void event_log_close(struct event_log *el);
/* 1 during a failure episode. */
int event_log_failed(const struct event_log *el);

#endif
