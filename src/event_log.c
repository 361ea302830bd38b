/* event_log.c - CSV gap log: whole lines are buffered and written with
 * write(2).  A write error starts a failure episode: the lines are kept in
 * the buffer, the file is reopened and the write retried with backoff, and
 * only lines that no longer fit in the buffer are lost (counted).  One log
 * line when an episode starts, one when it ends.  Capture never stops. */
#include "event_log.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EL_BUF (64 * 1024)
#define EL_BACKOFF_MAX_S 30u

static const char header[] = "time,tunnel,src,dst,spi,first_seq,last_seq,count,kind\n";

struct event_log {
    int fd;                     /* -1 while it cannot be opened */
    int need_header;            /* the file was empty when opened */
    char path[4096];
    /* failure episode */
    int failing;
    uint64_t lost;              /* lines dropped in this episode */
    uint64_t retry_at_ms;       /* CLOCK_MONOTONIC */
    unsigned backoff_s;
    /* pending run (lost or late), extended while the next one continues it */
    int pending;
    char p_kind[8];
    uint64_t p_time;
    char p_tunnel[IDT_NAME_MAX];
    struct idt_addr p_src, p_dst;
    uint32_t p_spi;
    uint64_t p_first, p_last;
    size_t len;                 /* bytes of whole lines in buf */
    char buf[EL_BUF];
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Opens el->path (append, create); the header is due when the file is empty. */
static int open_fd(struct event_log *el)
{
    int fd = open(el->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    struct stat st;
    el->need_header = fstat(fd, &st) == 0 && st.st_size == 0;
    el->fd = fd;
    return 0;
}

/* Writes p[0..n); returns 0, or -1 (errno set) with *done bytes written.
 * The bytes of a line written only in part are cut off the file again when
 * possible, so that the file holds whole lines only; *done then counts only
 * whole lines. */
static int put(int fd, const char *p, size_t n, size_t *done)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            size_t whole = off;
            while (whole > 0 && p[whole - 1] != '\n')
                whole--;
            off_t end = lseek(fd, 0, SEEK_END);
            if (whole < off && end >= (off_t)(off - whole) &&
                ftruncate(fd, end - (off_t)(off - whole)) == 0)
                off = whole;
            *done = off;
            errno = e;
            return -1;
        }
        off += (size_t)w;
    }
    *done = off;
    return 0;
}

/* Header (when due) and buffer to the file.  0 when all is written. */
static int write_out(struct event_log *el)
{
    size_t done = 0;
    if (el->fd < 0 && open_fd(el) < 0)
        return -1;
    if (el->need_header) {
        int r = put(el->fd, header, sizeof header - 1, &done);
        if (done == sizeof header - 1)
            el->need_header = 0;
        if (r < 0)
            return -1;
    }
    int r = put(el->fd, el->buf, el->len, &done);
    if (done) {
        memmove(el->buf, el->buf + done, el->len - done);
        el->len -= done;
    }
    return r;
}

/* One attempt; `force` ignores the backoff (close, reopen). */
static void flush_buf(struct event_log *el, int force)
{
    if (!el->len && !el->need_header && !el->failing)
        return;
    uint64_t now = mono_ms();
    if (el->failing && !force && now < el->retry_at_ms)
        return;
    if (el->failing && el->fd >= 0) {
        /* retry on a fresh descriptor: the path may name a new file by now */
        close(el->fd);
        el->fd = -1;
    }
    if (write_out(el) == 0) {
        if (el->failing)
            log_notice("event log %s: writing again; %llu line%s lost while it failed", el->path,
                       (unsigned long long)el->lost, el->lost == 1 ? "" : "s");
        el->failing = 0;
        el->lost = 0;
        return;
    }
    if (!el->failing) {
        log_err("event log %s: %s: %s; retrying (up to %u KiB of lines are kept meanwhile; "
                "capture and SNMP go on)", el->path, el->fd < 0 ? "cannot open" : "write failed",
                strerror(errno), EL_BUF / 1024);
        el->failing = 1;
        el->backoff_s = 1;
    } else if (el->backoff_s < EL_BACKOFF_MAX_S) {
        el->backoff_s = el->backoff_s * 2 > EL_BACKOFF_MAX_S ? EL_BACKOFF_MAX_S : el->backoff_s * 2;
    }
    el->retry_at_ms = now + el->backoff_s * 1000u;
}

struct event_log *event_log_open(const char *path, char *err, size_t errlen)
{
    struct event_log *el = calloc(1, sizeof *el);
    if (!el) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    snprintf(el->path, sizeof el->path, "%s", path);
    el->fd = -1;
    if (open_fd(el) < 0) {
        snprintf(err, errlen, "event log %s: cannot open: %s", path, strerror(errno));
        free(el);
        return NULL;
    }
    return el;
}

void event_log_reopen(struct event_log *el)
{
    if (!el)
        return;
    /* what is buffered belongs to the old file (e.g. one just rotated) */
    if (!el->failing)
        flush_buf(el, 1);
    if (el->fd >= 0)
        close(el->fd);
    el->fd = -1;
    if (open_fd(el) < 0 && !el->failing) {
        log_err("event log %s: cannot open: %s; retrying (capture and SNMP go on)", el->path,
                strerror(errno));
        el->failing = 1;
        el->backoff_s = 1;
        el->retry_at_ms = mono_ms() + 1000u;
    }
}

static void write_line(struct event_log *el, uint64_t time_us, const char *tunnel,
                       const struct idt_addr *src, const struct idt_addr *dst, uint32_t spi,
                       uint64_t first, uint64_t last, const char *kind)
{
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], line[512];
    int n = snprintf(line, sizeof line, "%llu.%06llu,%s,%s,%s,0x%08x,%llu,%llu,%llu,%s\n",
                     (unsigned long long)(time_us / 1000000ULL),
                     (unsigned long long)(time_us % 1000000ULL), tunnel,
                     idt_addr_str(src, s, sizeof s), idt_addr_str(dst, d, sizeof d), spi,
                     (unsigned long long)first, (unsigned long long)last,
                     (unsigned long long)(last - first + 1), kind);
    if (n <= 0 || (size_t)n >= sizeof line)
        return;
    if (el->len + (size_t)n > sizeof el->buf)
        flush_buf(el, 0);
    if (el->len + (size_t)n > sizeof el->buf) {
        el->lost++;
        return;
    }
    memcpy(el->buf + el->len, line, (size_t)n);
    el->len += (size_t)n;
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
    flush_buf(el, 0);
}

void event_log_close(struct event_log *el)
{
    if (!el)
        return;
    flush_pending(el);
    flush_buf(el, 1);
    if (el->failing) {
        uint64_t lines = el->lost;
        for (size_t i = 0; i < el->len; i++)
            lines += el->buf[i] == '\n';
        log_err("event log %s: closed while failing; %llu line%s lost", el->path,
                (unsigned long long)lines, lines == 1 ? "" : "s");
    }
    if (el->fd >= 0)
        close(el->fd);
    free(el);
}

int event_log_failed(const struct event_log *el)
{
    return el && el->failing;
}
