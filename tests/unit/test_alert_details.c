/* test_alert_details.c - the alert policy's details (alert.h): the ppm
 * criterion's minimum sample (min_pkts), the criterion that tripped an
 * alarm, and the reminder count that tells a reminder from a first alarm.
 * Expected values are hand-computed in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "alert.h"

#define S(x)  ((uint64_t)(x) * 1000000ull)

static struct alert_params P(uint32_t lost, uint32_t iv, uint32_t ppm,
                             uint32_t rep, int en)
{
    struct alert_params p = { .lost = lost, .interval_s = iv, .ppm = ppm, .repeat_s = rep,
                              .enabled = en, .min_pkts = 0 };
    return p;
}

/* The ppm criterion's minimum sample (min_pkts), hand-computed. */
static void test_min_pkts(void **state)
{
    (void)state;
    struct alert_state s;
    struct alert_figures f;
    struct alert_params p = P(0, 60, 100000, 0, 1);     /* 10 %, lost criterion off */
    p.min_pkts = 100;
    alert_init(&s, &p, S(0));
    /* 1 lost of 3: 333333 ppm, but 3 < 100 packets: no alarm */
    alert_add(&s, S(1), 2, 1);
    assert_int_equal(alert_eval(&s, S(1), &f), ALERT_NONE);
    assert_int_equal(f.rate_ppm, 333333);
    /* 1 lost of 100: 10000 ppm < 100000: still none */
    alert_add(&s, S(2), 97, 0);
    assert_int_equal(alert_eval(&s, S(2), &f), ALERT_NONE);
    /* 10 lost + 90 received in a fresh state: exactly 100000 ppm over 100 */
    alert_init(&s, &p, S(0));
    alert_add(&s, S(1), 90, 10);
    assert_int_equal(alert_eval(&s, S(1), &f), ALERT_EXCEEDED);
    assert_int_equal(f.criterion, ALERT_CRIT_PPM);
    assert_int_equal(f.reminders, 0);
    /* 9 lost + 90 received = 99 packets, 90909 ppm: below both */
    alert_init(&s, &p, S(0));
    alert_add(&s, S(1), 90, 9);
    assert_int_equal(alert_eval(&s, S(1), &f), ALERT_NONE);
    /* receptions alone can complete the sample: 1 lost, min 10, 10 % */
    p.min_pkts = 10;
    alert_init(&s, &p, S(0));
    alert_add(&s, S(1), 5, 1);
    assert_int_equal(alert_eval(&s, S(1), &f), ALERT_NONE);     /* 6 < 10 */
    alert_add(&s, S(2), 4, 0);
    assert_int_equal(alert_eval(&s, S(2), &f), ALERT_EXCEEDED); /* 1 of 10 */
    assert_int_equal(f.criterion, ALERT_CRIT_PPM);
    /* the default is 100 */
    struct alert_params d;
    alert_params_default(&d);
    assert_int_equal(d.min_pkts, 100);
}

/* Which criterion tripped; reminders counted per alarm. */
static void test_criterion_and_reminders(void **state)
{
    (void)state;
    struct alert_state s;
    struct alert_figures f;
    struct alert_params p = P(5, 60, 0, 0, 1);
    alert_init(&s, &p, S(0));
    alert_figures(&s, S(0), &f);
    assert_int_equal(f.criterion, 0);           /* never in alarm */
    alert_add(&s, S(1), 5, 5);                  /* 5 lost of 10: 500000 ppm */
    assert_int_equal(alert_eval(&s, S(1), &f), ALERT_EXCEEDED);
    assert_int_equal(f.criterion, ALERT_CRIT_LOST);

    p = P(5, 60, 100000, 0, 1);
    alert_init(&s, &p, S(0));
    alert_add(&s, S(1), 5, 5);
    assert_int_equal(alert_eval(&s, S(1), &f), ALERT_EXCEEDED);
    assert_int_equal(f.criterion, ALERT_CRIT_LOST | ALERT_CRIT_PPM);

    p = P(5, 60, 0, 30, 1);                     /* reminders every 30 s */
    alert_init(&s, &p, S(0));
    alert_add(&s, S(1), 0, 5);
    assert_int_equal(alert_eval(&s, S(1), &f), ALERT_EXCEEDED);
    assert_int_equal(f.reminders, 0);
    assert_int_equal(alert_eval(&s, S(30), &f), ALERT_NONE);
    assert_int_equal(alert_eval(&s, S(31), &f), ALERT_REMINDER);
    assert_int_equal(f.reminders, 1);
    assert_int_equal(alert_eval(&s, S(61), &f), ALERT_REMINDER);
    assert_int_equal(f.reminders, 2);
    assert_int_equal(f.criterion, ALERT_CRIT_LOST);
    /* the loss left the window at about 61 s; cleared 60 s later */
    assert_int_equal(alert_eval(&s, S(200), &f), ALERT_CLEARED);
    assert_int_equal(f.reminders, 2);           /* kept with the last alarm */
    alert_add(&s, S(201), 0, 5);
    assert_int_equal(alert_eval(&s, S(201), &f), ALERT_EXCEEDED);
    assert_int_equal(f.reminders, 0);           /* a new alarm starts at 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_pkts),
        cmocka_unit_test(test_criterion_and_reminders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
