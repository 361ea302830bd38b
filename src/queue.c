/* queue.c - bounded MPSC ring under a mutex, signalled with an eventfd;
 * producers that must not lose a message wait on a condition variable
 * that queue_pop() signals. */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t room;            /* signalled when a full ring loses one */
    struct msg *ring;
    uint32_t cap, head, count;
    uint64_t dropped, waits;
    int efd;
};

struct queue *queue_create(uint32_t capacity)
{
    struct queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->ring = calloc(capacity, sizeof *q->ring);
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!q->ring || q->efd < 0) {
        free(q->ring);
        if (q->efd >= 0)
            close(q->efd);
        free(q);
        return NULL;
    }
    q->cap = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->room, &ca);
    pthread_condattr_destroy(&ca);
    return q;
}

void queue_destroy(struct queue *q)
{
    if (!q)
        return;
    close(q->efd);
    pthread_cond_destroy(&q->room);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
}

int queue_fd(const struct queue *q)
{
    return q->efd;
}

/* Under lock, with room: append and signal the reader. */
static void append_locked(struct queue *q, const struct msg *m)
{
    q->ring[(q->head + q->count) % q->cap] = *m;
    q->count++;
    uint64_t one = 1;
    ssize_t r = write(q->efd, &one, sizeof one);
    (void)r;
}

int queue_push(struct queue *q, const struct msg *m)
{
    pthread_mutex_lock(&q->lock);
    if (q->count == q->cap) {
        q->dropped++;
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    append_locked(q, m);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int queue_push_wait(struct queue *q, const struct msg *m, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms > 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&q->lock);
    if (q->count == q->cap)
        q->waits++;
    while (q->count == q->cap) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&q->room, &q->lock);
        } else if (pthread_cond_timedwait(&q->room, &q->lock, &until) == ETIMEDOUT &&
                   q->count == q->cap) {
            pthread_mutex_unlock(&q->lock);
            return -1;
        }
    }
    append_locked(q, m);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int queue_pop(struct queue *q, struct msg *m)
{
    int got = 0;
    pthread_mutex_lock(&q->lock);
    if (q->count) {
        *m = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        if (q->count-- == q->cap)
            pthread_cond_broadcast(&q->room);
        got = 1;
    }
    if (!q->count) {
        uint64_t v;
        ssize_t r = read(q->efd, &v, sizeof v);
        (void)r;
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

uint64_t queue_dropped(const struct queue *q)
{
    return q->dropped;
}

uint64_t queue_waits(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t w = q->waits;
    pthread_mutex_unlock(&q->lock);
    return w;
}
