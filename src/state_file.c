/* state_file.c - load and atomically save the tunnel identity state file
 * (see state_file.h; the format is in tunnel_ids.h). */
#include "state_file.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE_BYTES 256u      /* a tunnel line is at most about 190 bytes */

struct state_file {
    char dir[4000];
    char path[4096 + 32];
    int off;                    /* no persistence (no dir or dir unusable) */
    uint64_t saved_changes;
    uint64_t last_save_us;      /* monotonic */
    uint64_t gap_us;            /* until the next save: 20 x the last one's cost */
    int save_failing;           /* logged once until a save succeeds */
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* Use dir: create it if missing (one level), check that it can be written. */
static void use_dir(struct state_file *sf, const char *dir)
{
    snprintf(sf->dir, sizeof sf->dir, "%s", dir);
    snprintf(sf->path, sizeof sf->path, "%s/" STATE_FILE_NAME, dir);
    sf->off = 0;
    sf->save_failing = 0;
    if (!dir[0]) {
        sf->off = 1;
        log_info("state.dir is empty: discovered tunnels get new indexes at every restart");
        return;
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        log_err("state.dir %s: cannot create it: %s; discovered tunnel indexes are not kept "
                "across restarts (capture and SNMP go on)", dir, strerror(errno));
        sf->off = 1;
        return;
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
        log_err("state.dir %s: %s; discovered tunnel indexes are not kept across restarts "
                "(capture and SNMP go on)", dir,
                errno ? strerror(errno) : "not a directory");
        sf->off = 1;
    }
}

/* Read the whole file (at most max bytes).  0, 1 if it does not exist, or
 * -1 with errno (EFBIG when too large). */
static int read_all(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        int e = errno;
        close(fd);
        errno = !S_ISREG(st.st_mode) ? EINVAL : (size_t)st.st_size > max ? EFBIG : e;
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = n;
    return 0;
}

static void load(struct state_file *sf, struct tunnel_table *t)
{
    struct tunnel_ids *ids = tunnel_table_ids(t);
    size_t max = (size_t)ids->cap * MAX_LINE_BYTES + 4096;
    char *text = NULL, err[256];
    size_t len = 0;
    int r = read_all(sf->path, max, &text, &len);
    if (r == 1) {
        log_info("state file %s does not exist yet: discovered tunnels get new indexes",
                 sf->path);
        return;
    }
    if (r < 0) {
        log_err("state file %s: cannot read it: %s; starting with new tunnel indexes",
                sf->path, errno == EFBIG ? "larger than loss.max_tunnels allows" :
                errno == EINVAL ? "not a regular file" : strerror(errno));
        return;
    }
    if (tunnel_table_load_ids(t, text, len, err, sizeof err) < 0) {
        char bad[sizeof sf->path + 8];
        snprintf(bad, sizeof bad, "%s.bad", sf->path);
        if (rename(sf->path, bad) == 0)
            log_err("state file %s: %s; starting with new tunnel indexes (the file is kept "
                    "as %s)", sf->path, err, bad);
        else
            log_err("state file %s: %s; starting with new tunnel indexes", sf->path, err);
    } else {
        log_info("state file %s: %u remembered tunnel identities", sf->path,
                 tunnel_table_ids(t)->count);
    }
    free(text);
}

struct state_file *state_file_open(const char *dir, struct tunnel_table *t)
{
    struct state_file *sf = calloc(1, sizeof *sf);
    if (!sf) {
        log_err("state file: out of memory; discovered tunnel indexes are not kept");
        return NULL;
    }
    use_dir(sf, dir);
    if (!sf->off)
        load(sf, t);
    sf->saved_changes = tunnel_table_ids(t)->changes;
    sf->last_save_us = mono_us();
    return sf;
}

static int writer(void *ctx, const char *s, size_t n)
{
    return fwrite(s, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

static int write_tmp(const char *tmp, struct tunnel_ids *ids)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    int r = tunnel_ids_format(ids, writer, f);
    if (fflush(f) != 0 || fsync(fd) != 0)
        r = -1;
    int e = errno;
    if (fclose(f) != 0)
        r = -1;
    else
        errno = e;
    return r;
}

static void save(struct state_file *sf, struct tunnel_ids *ids)
{
    char tmp[sizeof sf->path + 8];
    snprintf(tmp, sizeof tmp, "%s/." STATE_FILE_NAME ".tmp", sf->dir);
    uint64_t changes = ids->changes;
    sf->last_save_us = mono_us();
    if (write_tmp(tmp, ids) < 0 || rename(tmp, sf->path) < 0) {
        int e = errno;
        unlink(tmp);
        if (!sf->save_failing)
            log_err("state file %s: cannot save it: %s; retrying every %d s (tunnel indexes "
                    "are kept in memory meanwhile)", sf->path, strerror(e),
                    STATE_FILE_MIN_INTERVAL_S);
        sf->save_failing = 1;
        return;
    }
    int dfd = open(sf->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);     /* the rename itself */
        close(dfd);
    }
    if (sf->save_failing)
        log_notice("state file %s saved again", sf->path);
    sf->save_failing = 0;
    sf->saved_changes = changes;
}

/* Saving is O(identities) on the capture thread (about 0.5 s for a million
 * on the reference VM): a save that took T waits 20 T before the next, so
 * that it never costs more than about 5% of the thread. */
static void save_timed(struct state_file *sf, struct tunnel_ids *ids)
{
    uint64_t t0 = mono_us();
    save(sf, ids);
    sf->gap_us = 20 * (mono_us() - t0);
}

void state_file_save(struct state_file *sf, struct tunnel_table *t, int force)
{
    if (!sf || sf->off)
        return;
    struct tunnel_ids *ids = tunnel_table_ids(t);
    if (ids->changes == sf->saved_changes)
        return;
    uint64_t gap = STATE_FILE_MIN_INTERVAL_S * 1000000ULL;
    if (sf->gap_us > gap)
        gap = sf->gap_us;
    if (!force && mono_us() - sf->last_save_us < gap)
        return;
    save_timed(sf, ids);
}

void state_file_set_dir(struct state_file *sf, struct tunnel_table *t, const char *dir)
{
    if (!sf)
        return;
    state_file_save(sf, t, 1);
    if (strcmp(dir, sf->dir) == 0)
        return;
    use_dir(sf, dir);
    sf->saved_changes = tunnel_table_ids(t)->changes - 1;   /* save there soon */
}

void state_file_close(struct state_file *sf, struct tunnel_table *t)
{
    if (!sf)
        return;
    state_file_save(sf, t, 1);
    free(sf);
}
