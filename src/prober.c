/* prober.c - in-tunnel MTU discovery in the daemon: a scheduler thread
 * (requests, mtu.interval schedule, reaping) and one worker thread per
 * running job, each running the probing core (probe.c) and reporting to
 * the agent thread through the queue.  The foreground mode (interactive
 * --mtu) runs the same core from interactive.c.
 * All timing here is CLOCK_MONOTONIC.
 */
#include "idt_build.h"
#include "prober.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "probe.h"

#define PROGRESS_GAP_NS 500000000ull   /* at most 2 progress messages a second per job */
#define PUSH_RETRY_MS   100             /* a full queue is retried this often */

/* ================================================================ daemon */

/* RUN_NO_THREAD: its thread could not be created; the scheduler still
 * has to report the failure (outside the lock), then it is RUN_DONE. */
enum run_state { RUN_QUEUED = 0, RUN_RUNNING, RUN_NO_THREAD, RUN_DONE };

struct run {
    struct run *next;
    struct prober *p;
    struct probe_job job;
    pthread_t th;
    int started;            /* thread created (scheduler-owned) */
    enum run_state state;   /* under p->lock */
    uint64_t last_progress_ns;  /* worker thread only */
};

struct sched_tunnel {
    uint32_t index;
    char name[IDT_NAME_MAX];
    struct idt_mtu_conf m;
    uint64_t next_due_ns;   /* interval > 0 only */
};

struct last_mtu {
    uint32_t index, mtu;
};

struct prober {
    pthread_mutex_t lock;
    struct queue *q;
    int wake_fd, stop_fd;
    pthread_t thread;
    int stopping;
    /* under lock */
    struct sched_tunnel *tun;
    size_t ntun;
    struct sched_tunnel *reserved;  /* prober_reserve_config(): for the next reload */
    size_t nreserved;
    struct run *runs;       /* FIFO: oldest first */
    struct last_mtu *last;
    size_t nlast, caplast;
};

static void on_round(const struct probe_job *j, uint32_t probes_sent, void *arg);

static void wake(int fd)
{
    uint64_t one = 1;
    ssize_t r = write(fd, &one, sizeof one);
    (void)r;
}

static struct run *find_active(struct prober *p, uint32_t index)
{
    for (struct run *r = p->runs; r; r = r->next)
        if (r->state != RUN_DONE && (index == 0 || r->job.index == index))
            return r;
    return NULL;
}

/* Under lock: append a queued run. 0 ok, -1 out of memory. */
static int enqueue(struct prober *p, const struct sched_tunnel *t)
{
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->p = p;
    r->job.index = t->index;
    snprintf(r->job.name, sizeof r->job.name, "%s", t->name);
    r->job.m = t->m;
    r->job.stop_fd = p->stop_fd;
    r->job.on_round = on_round;
    r->job.arg = r;
    r->state = RUN_QUEUED;
    struct run **pp = &p->runs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = r;
    return 0;
}

static uint32_t last_get(struct prober *p, uint32_t index)
{
    for (size_t i = 0; i < p->nlast; i++)
        if (p->last[i].index == index)
            return p->last[i].mtu;
    return 0;
}

static void last_set(struct prober *p, uint32_t index, uint32_t mtu)
{
    for (size_t i = 0; i < p->nlast; i++)
        if (p->last[i].index == index) {
            p->last[i].mtu = mtu;
            return;
        }
    if (p->nlast == p->caplast) {
        size_t nc = p->caplast ? 2 * p->caplast : 16;
        struct last_mtu *n = realloc(p->last, nc * sizeof *n);
        if (!n)
            return;
        p->last = n;
        p->caplast = nc;
    }
    p->last[p->nlast++] = (struct last_mtu){ index, mtu };
}

/* A message about job j to the agent thread. */
static void job_msg(struct msg *m, enum msg_type type, const struct probe_job *j)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->index = j->index;
    snprintf(m->name, sizeof m->name, "%s", j->name);
    m->time_us = idt_mono_ns() / 1000u;
}

static int stop_requested(const struct prober *p)
{
    struct pollfd pf = { .fd = p->stop_fd, .events = POLLIN };
    return poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN);
}

/* Deliver a message that must not be lost (a start or a result): while
 * the queue is full, wait for the agent thread to make room; only
 * prober_stop() (the agent thread no longer reads) gives up.  Blocks
 * the calling prober thread, never the agent thread.  0 delivered. */
static int push_reliable(struct prober *p, const struct msg *m)
{
    int waited = 0;
    while (queue_push_wait(p->q, m, PUSH_RETRY_MS) < 0) {
        if (!waited) {
            waited = 1;
            log_warn("event queue full: the MTU %s of tunnel %s waits for the agent thread",
                     m->type == MSG_MTU_RESULT ? "result" : "start", m->name);
        }
        if (stop_requested(p))
            return -1;
    }
    return 0;
}

static void push_started(struct prober *p, const struct probe_job *j)
{
    struct msg m;
    job_msg(&m, MSG_MTU_STARTED, j);
    push_reliable(p, &m);
}

/* After a round: ProbesSent moves during a run.  Rate-limited, and only
 * pushed if there is room (the result carries the final count). */
static void on_round(const struct probe_job *j, uint32_t probes_sent, void *arg)
{
    struct run *r = arg;
    uint64_t now = idt_mono_ns();
    if (r->last_progress_ns && now - r->last_progress_ns < PROGRESS_GAP_NS)
        return;
    r->last_progress_ns = now;
    struct msg m;
    job_msg(&m, MSG_MTU_PROGRESS, j);
    m.probes = probes_sent;
    queue_push(r->p->q, &m);
}

static void push_result(struct prober *p, const struct probe_job *j)
{
    struct msg m;
    job_msg(&m, MSG_MTU_RESULT, j);
    m.ok = j->ok;
    m.fail = (int)j->fail;
    m.mtu = j->mtu;
    m.rounds = j->rounds;
    m.probes = j->probes;
    m.seconds = j->seconds;
    snprintf(m.reason, sizeof m.reason, "%s", j->ok ? "" : j->reason);
    push_reliable(p, &m);
}

static void finish(struct prober *p, struct run *r)
{
    struct probe_job *j = &r->job;
    if (!j->stopped) {
        char prev[16] = "none", line[512];
        pthread_mutex_lock(&p->lock);
        uint32_t pm = last_get(p, j->index);
        if (j->ok)
            last_set(p, j->index, j->mtu);
        pthread_mutex_unlock(&p->lock);
        if (pm)
            snprintf(prev, sizeof prev, "%u", pm);
        probe_format_result(j, prev, line, sizeof line);
        if (j->ok)
            log_notice("%s", line);
        else
            log_warn("%s", line);
        push_result(p, j);
    }
    pthread_mutex_lock(&p->lock);
    r->state = RUN_DONE;
    pthread_mutex_unlock(&p->lock);
    wake(p->wake_fd);
}

static void *worker_main(void *arg)
{
    struct run *r = arg;
    struct prober *p = r->p;
    push_started(p, &r->job);
    log_info("mtu discovery started on tunnel %s", r->job.name);
    probe_run(&r->job);
    finish(p, r);
    return NULL;
}

/* Under lock: reap finished runs. */
static void reap(struct prober *p)
{
    struct run **pp = &p->runs;
    while (*pp) {
        struct run *r = *pp;
        if (r->state == RUN_DONE) {
            *pp = r->next;
            if (r->started)     /* the worker no longer needs the lock */
                pthread_join(r->th, NULL);
            free(r);
        } else {
            pp = &r->next;
        }
    }
}

/* Under lock: start queued runs up to the cap. */
static void start_queued(struct prober *p)
{
    unsigned running = 0;
    for (struct run *r = p->runs; r; r = r->next)
        running += r->state == RUN_RUNNING;
    for (struct run *r = p->runs; r && running < PROBER_MAX_JOBS; r = r->next) {
        if (r->state != RUN_QUEUED)
            continue;
        r->state = RUN_RUNNING;
        int e = pthread_create(&r->th, NULL, worker_main, r);
        if (e != 0) {
            snprintf(r->job.reason, sizeof r->job.reason, "cannot create thread: %s", strerror(e));
            r->job.fail = PROBE_FAIL_UNAVAILABLE;
            r->state = RUN_NO_THREAD;
            continue;
        }
        r->started = 1;
        running++;
    }
}

/* Under lock (released while pushing): report the runs whose thread
 * could not be created as failed runs, so that no start is left
 * without a result. */
static void report_no_thread(struct prober *p)
{
    for (;;) {
        struct run *r = p->runs;
        while (r && r->state != RUN_NO_THREAD)
            r = r->next;
        if (!r)
            return;
        struct probe_job j = r->job;
        r->state = RUN_DONE;        /* reaped at the next pass */
        pthread_mutex_unlock(&p->lock);
        char line[512];
        probe_format_result(&j, "none", line, sizeof line);
        log_err("%s", line);
        push_result(p, &j);
        pthread_mutex_lock(&p->lock);
    }
}

static void *sched_main(void *arg)
{
    struct prober *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        reap(p);
        if (p->stopping)
            break;
        uint64_t now = idt_mono_ns();
        uint64_t next = now + 3600ull * 1000000000ull;
        for (size_t i = 0; i < p->ntun; i++) {
            struct sched_tunnel *t = &p->tun[i];
            if (!t->m.interval)
                continue;
            if (now >= t->next_due_ns) {
                t->next_due_ns = now + (uint64_t)t->m.interval * 1000000000ull;
                if (!find_active(p, t->index)) {
                    log_debug("mtu discovery on tunnel %s: scheduled run", t->name);
                    enqueue(p, t);
                }
            }
            if (t->next_due_ns < next)
                next = t->next_due_ns;
        }
        start_queued(p);
        report_no_thread(p);
        pthread_mutex_unlock(&p->lock);

        struct pollfd pf[2] = { { .fd = p->wake_fd, .events = POLLIN },
                                { .fd = p->stop_fd, .events = POLLIN } };
        int r = poll(pf, 2, idt_poll_ms(idt_mono_ns(), next, 3600000));
        if (r > 0 && (pf[0].revents & POLLIN)) {
            uint64_t v;
            ssize_t n = read(p->wake_fd, &v, sizeof v);
            (void)n;
        }
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);

    /* stopping: nobody adds runs any more; workers see stop_fd */
    for (struct run *r = p->runs; r; r = r->next)
        if (r->started)
            pthread_join(r->th, NULL);
    while (p->runs) {
        struct run *r = p->runs;
        p->runs = r->next;
        free(r);
    }
    return NULL;
}

static size_t mtu_tunnels(const struct idt_config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->ntunnels; i++)
        n += cfg->tunnels[i].mtu.enabled != 0;
    return n;
}

/* Under lock (or before the thread exists). */
static int load_tunnels(struct prober *p, const struct idt_config *cfg)
{
    size_t n = mtu_tunnels(cfg);
    struct sched_tunnel *nt = NULL;
    if (p->reserved && p->nreserved == n) {
        nt = p->reserved;           /* a reload: allocated before anything changed */
        p->reserved = NULL;
        p->nreserved = 0;
    } else if (n && !(nt = calloc(n, sizeof *nt))) {
        return -1;
    }
    uint64_t now = idt_mono_ns();
    size_t k = 0;
    for (size_t i = 0; i < cfg->ntunnels; i++) {
        const struct idt_tunnel_conf *t = &cfg->tunnels[i];
        if (!t->mtu.enabled || k == n)  /* k < n always: n counted them */
            continue;
        struct sched_tunnel *s = &nt[k++];
        s->index = t->index;
        snprintf(s->name, sizeof s->name, "%s", t->name);
        s->m = t->mtu;
        s->next_due_ns = now + (uint64_t)s->m.interval * 1000000000ull;
        for (size_t o = 0; o < p->ntun; o++)      /* keep the running schedule */
            if (p->tun[o].index == s->index && p->tun[o].m.interval == s->m.interval) {
                s->next_due_ns = p->tun[o].next_due_ns;
                break;
            }
    }
    free(p->tun);
    p->tun = nt;
    p->ntun = n;
    return 0;
}

struct prober *prober_start(const struct idt_config *cfg, struct queue *q,
                            char *err, size_t errlen)
{
    struct prober *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "prober: out of memory");
        return NULL;
    }
    p->q = q;
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->wake_fd < 0 || p->stop_fd < 0) {
        snprintf(err, errlen, "prober: eventfd: %s", strerror(errno));
        goto fail;
    }
    if (load_tunnels(p, cfg) < 0) {
        snprintf(err, errlen, "prober: out of memory");
        goto fail;
    }
    pthread_mutex_init(&p->lock, NULL);
    int e = pthread_create(&p->thread, NULL, sched_main, p);
    if (e != 0) {
        snprintf(err, errlen, "prober: cannot create thread: %s", strerror(e));
        pthread_mutex_destroy(&p->lock);
        goto fail;
    }
    return p;
fail:
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    if (p->stop_fd >= 0)
        close(p->stop_fd);
    free(p->tun);
    free(p);
    return NULL;
}

int prober_reserve_config(struct prober *p, const struct idt_config *cfg)
{
    size_t n = mtu_tunnels(cfg);
    struct sched_tunnel *nt = calloc(n ? n : 1, sizeof *nt);
    if (!nt)
        return -1;
    pthread_mutex_lock(&p->lock);
    free(p->reserved);
    p->reserved = nt;
    p->nreserved = n;
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void prober_release_reserve(struct prober *p)
{
    pthread_mutex_lock(&p->lock);
    free(p->reserved);
    p->reserved = NULL;
    p->nreserved = 0;
    pthread_mutex_unlock(&p->lock);
}

void prober_set_config(struct prober *p, const struct idt_config *cfg)
{
    pthread_mutex_lock(&p->lock);
    if (load_tunnels(p, cfg) < 0)
        log_err("prober: out of memory on reload; keeping the previous tunnel list");
    pthread_mutex_unlock(&p->lock);
    wake(p->wake_fd);
}

int prober_request(struct prober *p, uint32_t index)
{
    int rc = -1;
    pthread_mutex_lock(&p->lock);
    if (p->stopping)
        goto out;
    if (index == 0) {
        int any = 0, started = 0;
        for (size_t i = 0; i < p->ntun; i++) {
            any = 1;
            if (!find_active(p, p->tun[i].index) && enqueue(p, &p->tun[i]) == 0)
                started = 1;
        }
        rc = !any ? -1 : started ? 0 : 1;
    } else {
        for (size_t i = 0; i < p->ntun; i++) {
            if (p->tun[i].index != index)
                continue;
            if (find_active(p, index))
                rc = 1;
            else
                rc = enqueue(p, &p->tun[i]) == 0 ? 0 : -1;
            break;
        }
    }
out:
    pthread_mutex_unlock(&p->lock);
    if (rc == 0)
        wake(p->wake_fd);
    return rc;
}

int prober_is_running(struct prober *p, uint32_t index)
{
    pthread_mutex_lock(&p->lock);
    int r = find_active(p, index) != NULL;
    pthread_mutex_unlock(&p->lock);
    return r;
}

void prober_stop(struct prober *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_mutex_unlock(&p->lock);
    wake(p->stop_fd);           /* stays readable: every poll sees it */
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    close(p->wake_fd);
    close(p->stop_fd);
    free(p->tun);
    free(p->reserved);
    free(p->last);
    free(p);
}
