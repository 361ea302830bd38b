/* test_queue.c - unit tests for the agent thread's event queue
 * (src/queue.c): a full queue drops plain pushes and counts them, while
 * queue_push_wait() waits for room and never loses a message.
 *
 * Expected values are the messages the tests themselves numbered; no
 * assertion depends on how long anything takes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <cmocka.h>

#include "queue.h"

static struct msg numbered(uint32_t n)
{
    struct msg m;
    memset(&m, 0, sizeof m);
    m.type = MSG_MTU_RESULT;
    m.index = n;
    m.probes = n * 3u;
    return m;
}

static void fill(struct queue *q, uint32_t first, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        struct msg m = numbered(first + i);
        assert_int_equal(queue_push(q, &m), 0);
    }
}

static void expect_next(struct queue *q, uint32_t n)
{
    struct msg m;
    assert_int_equal(queue_pop(q, &m), 1);
    assert_int_equal(m.index, n);
    assert_int_equal(m.probes, n * 3u);
}

/* A plain push to a full queue is dropped and counted; the queue keeps
 * its 4 messages in order. */
static void test_push_full_drops(void **state)
{
    (void)state;
    struct queue *q = queue_create(4);
    assert_non_null(q);
    fill(q, 1, 4);
    struct msg m = numbered(5);
    assert_int_equal(queue_push(q, &m), -1);
    assert_int_equal(queue_dropped(q), 1);
    for (uint32_t n = 1; n <= 4; n++)
        expect_next(q, n);
    assert_int_equal(queue_pop(q, &m), 0);
    queue_destroy(q);
}

/* queue_push_wait() with a limit on a full queue that nobody drains:
 * -1, not counted as dropped, the queue unchanged; with room: 0. */
static void test_push_wait_times_out_without_loss(void **state)
{
    (void)state;
    struct queue *q = queue_create(2);
    assert_non_null(q);
    fill(q, 1, 2);
    struct msg m = numbered(3);
    assert_int_equal(queue_push_wait(q, &m, 0), -1);
    assert_int_equal(queue_push_wait(q, &m, 20), -1);
    assert_int_equal(queue_dropped(q), 0);
    assert_int_equal(queue_waits(q), 2);
    expect_next(q, 1);
    assert_int_equal(queue_push_wait(q, &m, 20), 0);    /* room now: no wait */
    assert_int_equal(queue_waits(q), 2);
    expect_next(q, 2);
    expect_next(q, 3);
    queue_destroy(q);
}

struct producer {
    struct queue *q;
    uint32_t first, count;
    int rc;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    p->rc = 0;
    for (uint32_t i = 0; i < p->count; i++) {
        struct msg m = numbered(p->first + i);
        if (queue_push_wait(p->q, &m, -1) != 0)
            p->rc = -1;
    }
    return NULL;
}

/* The producer finds the queue full and blocks (seen through
 * queue_waits); one pop lets its message in, after the ones already
 * queued: nothing lost, nothing dropped, order kept. */
static void test_push_wait_blocks_until_pop(void **state)
{
    (void)state;
    struct queue *q = queue_create(3);
    assert_non_null(q);
    fill(q, 1, 3);
    struct producer p = { q, 4, 1, 1 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, produce, &p), 0);
    while (queue_waits(q) == 0)
        sched_yield();              /* the producer is now waiting for room */
    expect_next(q, 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(p.rc, 0);
    for (uint32_t n = 2; n <= 4; n++)
        expect_next(q, n);
    struct msg m;
    assert_int_equal(queue_pop(q, &m), 0);
    assert_int_equal(queue_dropped(q), 0);
    queue_destroy(q);
}

/* Two producers push 20000 messages each through a 4-slot queue while
 * the consumer drains it: every message arrives exactly once, each
 * producer's in its own order, and none is dropped. */
static void test_many_through_tiny_queue(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct queue *q = queue_create(4);
    assert_non_null(q);
    struct producer a = { q, 1, N, 1 }, b = { q, 1000001, N, 1 };
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, produce, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, produce, &b), 0);
    uint32_t next_a = 1, next_b = 1000001, got = 0;
    while (got < 2 * N) {
        struct msg m;
        if (!queue_pop(q, &m)) {
            sched_yield();
            continue;
        }
        if (m.index < 1000001) {
            assert_int_equal(m.index, next_a);
            next_a++;
        } else {
            assert_int_equal(m.index, next_b);
            next_b++;
        }
        assert_int_equal(m.probes, m.index * 3u);
        got++;
    }
    assert_int_equal(pthread_join(ta, NULL), 0);
    assert_int_equal(pthread_join(tb, NULL), 0);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_int_equal(next_a, 1 + N);
    assert_int_equal(next_b, 1000001 + N);
    struct msg m;
    assert_int_equal(queue_pop(q, &m), 0);
    assert_int_equal(queue_dropped(q), 0);
    queue_destroy(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_full_drops),
        cmocka_unit_test(test_push_wait_times_out_without_loss),
        cmocka_unit_test(test_push_wait_blocks_until_pop),
        cmocka_unit_test(test_many_through_tiny_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
