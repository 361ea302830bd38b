/* test_config_ike.c - the ike group: ike.vici in strongSwan's URI form, as
 * an absolute path or "none", ike.poll_interval; the exact error lines;
 * the printed form loads back to the same settings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static void load_ok(const char *text, struct idt_config *c)
{
    char err[1024] = "";
    int rc = config_load_string(text, "ok.conf", c, err, sizeof err);
    if (rc != 0)
        print_error("unexpected error: %s\n", err);
    assert_int_equal(rc, 0);
}

static void expect_err(const char *text, const char *want)
{
    struct idt_config c;
    char err[1024] = "";
    assert_int_equal(config_load_string(text, "t.conf", &c, err, sizeof err), -1);
    assert_string_equal(err, want);
}

static char *print_to_string(const struct idt_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    config_print(c, f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* print, load the print, print again: the same text and settings */
static void round_trip(const struct idt_config *c)
{
    char *a = print_to_string(c);
    struct idt_config c2;
    load_ok(a, &c2);
    char *b = print_to_string(&c2);
    assert_string_equal(a, b);
    assert_string_equal(c2.ike_vici, c->ike_vici);
    assert_int_equal(c2.ike_vici_set, c->ike_vici_set);
    assert_int_equal(c2.ike_poll_interval, c->ike_poll_interval);
    free(a);
    free(b);
    config_free(&c2);
}

static void test_defaults(void **st)
{
    (void)st;
    struct idt_config c;
    load_ok("", &c);
    assert_string_equal(c.ike_vici, "/var/run/charon.vici");
    assert_int_equal(c.ike_vici_set, 0);
    assert_int_equal(c.ike_poll_interval, 10);
    char *p = print_to_string(&c);
    assert_non_null(strstr(p, "\nike: {\n  # vici = \"unix:///var/run/charon.vici\";  (the default: "
                              "used while the socket exists)\n  poll_interval = 10;\n};\n"));
    free(p);
    round_trip(&c);
    config_free(&c);
}

static void test_forms(void **st)
{
    (void)st;
    struct idt_config c;
    load_ok("ike: { vici = \"unix:///run/strongswan/charon.vici\"; poll_interval = 3600; };", &c);
    assert_string_equal(c.ike_vici, "/run/strongswan/charon.vici");
    assert_int_equal(c.ike_vici_set, 1);
    assert_int_equal(c.ike_poll_interval, 3600);
    char *p = print_to_string(&c);
    assert_non_null(strstr(p, "\nike: {\n  vici = \"unix:///run/strongswan/charon.vici\";\n"
                              "  poll_interval = 3600;\n};\n"));
    free(p);
    round_trip(&c);
    config_free(&c);
    load_ok("ike: { vici = \"/tmp/c.vici\"; poll_interval = 1; };", &c);
    assert_string_equal(c.ike_vici, "/tmp/c.vici");
    round_trip(&c);
    config_free(&c);
    load_ok("ike: { vici = \"none\"; };", &c);
    assert_string_equal(c.ike_vici, "");
    assert_int_equal(c.ike_vici_set, 1);
    p = print_to_string(&c);
    assert_non_null(strstr(p, "  vici = \"none\";\n"));
    free(p);
    round_trip(&c);
    config_free(&c);
    /* 107 bytes: the longest sun_path */
    char text[300], path[120];
    memset(path, 'p', sizeof path);
    path[0] = '/';
    path[107] = '\0';
    snprintf(text, sizeof text, "ike: { vici = \"unix://%s\"; };", path);
    load_ok(text, &c);
    assert_int_equal(strlen(c.ike_vici), 107);
    config_free(&c);
    path[107] = 'p';
    path[108] = '\0';
    snprintf(text, sizeof text, "ike: { vici = \"%s\"; };", path);
    char want[400];
    /* the value is quoted up to 64 characters */
    snprintf(want, sizeof want, "t.conf:1: ike.vici: \"%.64s...\": the socket path is longer "
             "than 107 bytes", path);
    expect_err(text, want);
}

static void test_errors(void **st)
{
    (void)st;
    expect_err("ike: { vici = \"tcp://127.0.0.1:4502\"; };",
               "t.conf:1: ike.vici: \"tcp://127.0.0.1:4502\": only unix:// sockets are supported "
               "(strongSwan's tcp:// VICI is not)");
    expect_err("ike: {\n vici = \"charon.vici\"; };",
               "t.conf:2: ike.vici: \"charon.vici\" is not unix://PATH, an absolute path or "
               "\"none\"");
    expect_err("ike: { vici = \"unix://run/charon.vici\"; };",
               "t.conf:1: ike.vici: \"unix://run/charon.vici\" is not unix://PATH, an absolute "
               "path or \"none\"");
    expect_err("ike: { vici = \"\"; };", "t.conf:1: ike.vici: must not be empty");
    expect_err("ike: { vici = 1; };", "t.conf:1: ike.vici: expected a string, got an integer");
    expect_err("ike: { poll_interval = 0; };",
               "t.conf:1: ike.poll_interval: 0 is out of range (1..3600)");
    expect_err("ike: { poll_interval = 3601; };",
               "t.conf:1: ike.poll_interval: 3601 is out of range (1..3600)");
    expect_err("ike: { socket = \"/x\"; };", "t.conf:1: ike.socket: unknown key");
    expect_err("ike = \"/x\";", "t.conf:1: ike: expected a group { ... }, got a string");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
