/* event_log.c - CSV gap log, buffered; a write error is logged once and
 * never stops the capture. */
#include "event_log.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct event_log {
    FILE *f;
    char path[4096];
    int failed;
    /* pending run (lost or late), extended while the next one continues it */
    int pending;
    char p_kind[8];
    uint64_t p_time;
    char p_tunnel[IDT_NAME_MAX];
    struct idt_addr p_src, p_dst;
    uint32_t p_spi;
    uint64_t p_first, p_last;
};

struct event_log *event_log_open(const char *path, char *err, size_t errlen)
{
    struct event_log *el = calloc(1, sizeof *el);
    if (!el) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    snprintf(el->path, sizeof el->path, "%s", path);
    el->f = fopen(path, "a");
    if (!el->f) {
        snprintf(err, errlen, "event log %s: cannot open: %s", path, strerror(errno));
        free(el);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(el->f), &st) == 0 && st.st_size == 0)
        fputs("time,tunnel,src,dst,spi,first_seq,last_seq,count,kind\n", el->f);
    return el;
}

static void write_line(struct event_log *el, uint64_t time_us, const char *tunnel,
                       const struct idt_addr *src, const struct idt_addr *dst, uint32_t spi,
                       uint64_t first, uint64_t last, const char *kind)
{
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
    if (el->failed)
        return;
    int r = fprintf(el->f, "%llu.%06llu,%s,%s,%s,0x%08x,%llu,%llu,%llu,%s\n",
                    (unsigned long long)(time_us / 1000000ULL),
                    (unsigned long long)(time_us % 1000000ULL), tunnel,
                    idt_addr_str(src, s, sizeof s), idt_addr_str(dst, d, sizeof d), spi,
                    (unsigned long long)first, (unsigned long long)last,
                    (unsigned long long)(last - first + 1), kind);
    if (r < 0 || ferror(el->f)) {
        el->failed = 1;
        log_err("event log %s: write failed: %s; gap logging stops, capture and SNMP go on",
                el->path, strerror(errno));
    }
}

static void flush_pending(struct event_log *el)
{
    if (!el->pending)
        return;
    el->pending = 0;
    write_line(el, el->p_time, el->p_tunnel, &el->p_src, &el->p_dst, el->p_spi, el->p_first,
               el->p_last, el->p_kind);
}

void event_log_gap(struct event_log *el, uint64_t time_us, const char *tunnel,
                   const struct idt_addr *src, const struct idt_addr *dst, uint32_t spi,
                   uint64_t first, uint64_t last, const char *kind)
{
    if (!el)
        return;
    /* Sequence numbers fall off the window one by one: merge runs that
     * continue each other into one line per gap. */
    if (el->pending && el->p_spi == spi && !strcmp(el->p_kind, kind) &&
        idt_addr_eq(&el->p_src, src) && idt_addr_eq(&el->p_dst, dst) && first == el->p_last + 1) {
        el->p_last = last;
        return;
    }
    flush_pending(el);
    el->pending = 1;
    el->p_time = time_us;
    snprintf(el->p_kind, sizeof el->p_kind, "%s", kind);
    snprintf(el->p_tunnel, sizeof el->p_tunnel, "%s", tunnel);
    el->p_src = *src;
    el->p_dst = *dst;
    el->p_spi = spi;
    el->p_first = first;
    el->p_last = last;
}

void event_log_flush(struct event_log *el)
{
    if (!el)
        return;
    flush_pending(el);
    if (!el->failed && fflush(el->f) != 0) {
        el->failed = 1;
        log_err("event log %s: write failed: %s; gap logging stops, capture and SNMP go on",
                el->path, strerror(errno));
    }
}

void event_log_close(struct event_log *el)
{
    if (!el)
        return;
    event_log_flush(el);
    fclose(el->f);
    free(el);
}

int event_log_failed(const struct event_log *el)
{
    return el && el->failed;
}
