/* test_idle_wheel.c - the idle-deadline wheel: tunnels come out at the
 * second they were added for, never before; deadlines beyond the span come
 * out at the span's last second; a wheel far behind jumps without losing
 * anyone; deletion from the head, middle and tail of a bucket; the
 * buckets looked at per pop are bounded by the span.  Expected seconds
 * are hand values from the clamping rule in idle_wheel.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "idle_wheel.h"
#include "tunnel_table.h"

#define NT 8

struct fix {
    struct idt_config cfg;
    struct tunnel_table *t;
    struct tunnel *tu[NT];
    struct idle_wheel w;
};

static struct fix *setup_fix(uint64_t now_s)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    config_defaults(&f->cfg);
    f->cfg.max_tunnels = 64;
    f->t = tunnel_table_create(&f->cfg, f->cfg.max_tunnels, now_s * 1000000ULL);
    assert_non_null(f->t);
    struct idt_addr hub = { .family = 4, .a = { 192, 0, 2, 1 } };
    for (int i = 0; i < NT; i++) {
        struct idt_addr peer = { .family = 4, .a = { 198, 51, 100, (uint8_t)(10 + i) } };
        f->tu[i] = tunnel_table_add_discovered(f->t, &hub, &peer, now_s * 1000000ULL);
        assert_non_null(f->tu[i]);
    }
    idle_wheel_init(&f->w, now_s);
    return f;
}

static void free_fix(struct fix *f)
{
    tunnel_table_destroy(f->t);
    config_free(&f->cfg);
    free(f);
}

static int which(struct fix *f, const struct tunnel *tu)
{
    for (int i = 0; i < NT; i++)
        if (f->tu[i] == tu)
            return i;
    return -1;
}

/* Pop everything due at now_s, as a bit set of fixture positions. */
static unsigned pop_all(struct fix *f, uint64_t now_s)
{
    unsigned got = 0;
    struct tunnel *tu;
    while ((tu = idle_wheel_pop(&f->w, f->t, now_s)) != NULL) {
        int i = which(f, tu);
        assert_true(i >= 0);
        assert_false(got & (1u << i));          /* each at most once */
        assert_int_equal(tu->idle_queued, 0);
        got |= 1u << i;
    }
    return got;
}

static void test_due_seconds(void **state)
{
    (void)state;
    struct fix *f = setup_fix(1000);
    idle_wheel_add(&f->w, f->t, f->tu[0], 1005);
    idle_wheel_add(&f->w, f->t, f->tu[1], 1005);
    idle_wheel_add(&f->w, f->t, f->tu[2], 1010);
    idle_wheel_add(&f->w, f->t, f->tu[3], 990);     /* past: the first second, 1000 */
    idle_wheel_add(&f->w, f->t, f->tu[3], 2000);    /* already in: ignored */
    assert_int_equal(f->w.len, 4);
    assert_int_equal(pop_all(f, 999), 0);           /* time before the wheel */
    assert_int_equal(pop_all(f, 1000), 1u << 3);
    assert_int_equal(pop_all(f, 1004), 0);
    assert_int_equal(pop_all(f, 1005), (1u << 0) | (1u << 1));
    assert_int_equal(pop_all(f, 1009), 0);
    assert_int_equal(pop_all(f, 1012), 1u << 2);
    assert_int_equal(f->w.len, 0);
    free_fix(f);
}

/* Beyond the span: kept at next_s + IDLE_WHEEL_SLOTS - 1 (1000 + 1023). */
static void test_clamped_to_span(void **state)
{
    (void)state;
    struct fix *f = setup_fix(1000);
    idle_wheel_add(&f->w, f->t, f->tu[0], 1000 + 604800);
    assert_int_equal(pop_all(f, 2022), 0);
    assert_int_equal(pop_all(f, 2023), 1u << 0);
    free_fix(f);
}

/* A wheel hours behind: every tunnel still comes out, whatever bucket. */
static void test_jump(void **state)
{
    (void)state;
    struct fix *f = setup_fix(1000);
    for (int i = 0; i < NT; i++)
        idle_wheel_add(&f->w, f->t, f->tu[i], 1000 + 100 * (uint64_t)i);
    assert_int_equal(pop_all(f, 1000 + 36000), (1u << NT) - 1);
    assert_int_equal(f->w.next_s, 1000 + 36000 + 1);
    free_fix(f);
}

static void test_delete(void **state)
{
    (void)state;
    struct fix *f = setup_fix(50);
    for (int i = 0; i < 5; i++)
        idle_wheel_add(&f->w, f->t, f->tu[i], 60);     /* one bucket: 4 3 2 1 0 */
    idle_wheel_del(&f->w, f->t, f->tu[4]);             /* head */
    idle_wheel_del(&f->w, f->t, f->tu[2]);             /* middle */
    idle_wheel_del(&f->w, f->t, f->tu[0]);             /* tail */
    idle_wheel_del(&f->w, f->t, f->tu[0]);             /* not in: nothing */
    assert_int_equal(f->w.len, 2);
    assert_int_equal(pop_all(f, 60), (1u << 1) | (1u << 3));
    /* re-added after a pop: comes out at its new second */
    idle_wheel_add(&f->w, f->t, f->tu[1], 70);
    assert_int_equal(pop_all(f, 69), 0);
    assert_int_equal(pop_all(f, 70), 1u << 1);
    free_fix(f);
}

/* An empty wheel does not walk its buckets: next_s moves to now_s + 1. */
static void test_empty(void **state)
{
    (void)state;
    struct fix *f = setup_fix(10);
    assert_null(idle_wheel_pop(&f->w, f->t, 5000));
    assert_int_equal(f->w.next_s, 5001);
    idle_wheel_add(&f->w, f->t, f->tu[0], 20);         /* past: 5001 */
    assert_int_equal(pop_all(f, 5000), 0);
    assert_int_equal(pop_all(f, 5001), 1u << 0);
    free_fix(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_seconds),
        cmocka_unit_test(test_clamped_to_span),
        cmocka_unit_test(test_jump),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
