/* queue.c - bounded MPSC ring under a mutex, signalled with an eventfd. */
#include "queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct queue {
    pthread_mutex_t lock;
    struct msg *ring;
    uint32_t cap, head, count;
    uint64_t dropped;
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
    return q;
}

void queue_destroy(struct queue *q)
{
    if (!q)
        return;
    close(q->efd);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
}

int queue_fd(const struct queue *q)
{
    return q->efd;
}

int queue_push(struct queue *q, const struct msg *m)
{
    pthread_mutex_lock(&q->lock);
    if (q->count == q->cap) {
        q->dropped++;
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->ring[(q->head + q->count) % q->cap] = *m;
    q->count++;
    pthread_mutex_unlock(&q->lock);
    uint64_t one = 1;
    ssize_t r = write(q->efd, &one, sizeof one);
    (void)r;
    return 0;
}

int queue_pop(struct queue *q, struct msg *m)
{
    int got = 0;
    pthread_mutex_lock(&q->lock);
    if (q->count) {
        *m = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
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
