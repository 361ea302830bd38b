/* test_config.c - unit tests for the configuration module (src/config.c).
 *
 * Every expected error string below is written out in full.  Line numbers
 * are counted from the test's own literal: each literal line carries a
 * comment with its number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* Relative include: the build tree also has an autoconf "config.h". */
#include "../../src/config.h"
#include "../../src/config_file.h"

/* ------------------------------------------------------------------ */
/* helpers                                                              */

static void expect_err(const char *text, const char *name, const char *want)
{
    struct idt_config c;
    char err[1024];
    memset(&c, 0x5a, sizeof c); /* output-only: garbage in must be fine */
    memset(err, 'X', sizeof err);
    err[sizeof err - 1] = '\0';
    int rc = config_load_string(text, name, &c, err, sizeof err);
    if (rc != -1 || strcmp(err, want) != 0)
        print_error("input:\n%s\nwant: %s\ngot:  %s (rc %d)\n", text, want, err, rc);
    assert_int_equal(rc, -1);
    assert_string_equal(err, want);
    /* left freed/empty */
    assert_null(c.tunnels);
    assert_int_equal(c.ntunnels, 0);
    assert_int_equal(c.window, 64);
    config_free(&c);
}

static void load_ok(const char *text, struct idt_config *c)
{
    char err[1024] = "";
    int rc = config_load_string(text, "ok.conf", c, err, sizeof err);
    if (rc != 0)
        print_error("unexpected error: %s\ninput:\n%s\n", err, text);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
}

static char *print_to_string(const struct idt_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    config_print(c, f);
    assert_int_equal(fclose(f), 0);
    assert_non_null(buf);
    return buf;
}

static void assert_addr(const struct idt_addr *a, int family, const char *text)
{
    char buf[64];
    assert_int_equal(a->family, family);
    assert_string_equal(idt_addr_str(a, buf, sizeof buf), text);
}

static void assert_v4_bytes(const struct idt_addr *a, uint8_t b0, uint8_t b1, uint8_t b2,
                            uint8_t b3)
{
    const uint8_t want[16] = {b0, b1, b2, b3};
    assert_int_equal(a->family, 4);
    assert_memory_equal(a->a, want, 16); /* bytes 4..15 stay zero */
}

/* ------------------------------------------------------------------ */
/* defaults                                                             */

static void check_defaults(const struct idt_config *c)
{
    assert_string_equal(c->path, "");
    assert_string_equal(c->agentx_socket, "");
    assert_int_equal(c->ping_interval, 15);
    assert_string_equal(c->interface, "any");
    assert_int_equal(c->snaplen, 128);
    assert_int_equal(c->buffer_kb, 4096);
    assert_int_equal(c->window, 64);
    assert_int_equal(c->alert_lost, 10);
    assert_int_equal(c->alert_interval, 60);
    assert_int_equal(c->alert_ppm, 0);
    assert_int_equal(c->alert_repeat, 0);
    assert_int_equal(c->sa_idle_timeout, 600);
    assert_int_equal(c->max_sas, 65536);
    assert_int_equal(c->max_tunnels, 4096);
    assert_string_equal(c->event_log, "");
    assert_int_equal(c->facility, LOG_DAEMON);
    assert_string_equal(c->facility_name, "daemon");
    assert_string_equal(c->syslog_server, "");
    assert_int_equal(c->traps_enabled, 1);
    assert_int_equal(c->ntunnels, 0);
    assert_null(c->tunnels);
}

static void test_defaults_function(void **state)
{
    (void)state;
    struct idt_config c;
    memset(&c, 0x77, sizeof c);
    config_defaults(&c);
    check_defaults(&c);
    config_free(&c);
    config_free(&c); /* twice is fine */
    check_defaults(&c);
}

static void test_defaults_empty_string(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok("", &c);
    check_defaults(&c);
    config_free(&c);
}

static void test_defaults_comments_and_empty_groups(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok("# nothing but comments\n"
            "// and empty groups\n"
            "/* block */\n"
            "agentx: { };\ncapture: { };\nloss: { };\nsyslog: { };\ntraps: { };\n"
            "tunnels = ( );\n",
            &c);
    check_defaults(&c);
    config_free(&c);
    load_ok("tunnels = [ ];", &c);
    check_defaults(&c);
    config_free(&c);
}

/* ------------------------------------------------------------------ */
/* a full valid configuration                                           */

static const char full_conf[] =
    "agentx:  { socket = \"unix:/var/agentx/master\"; ping_interval = 30; };\n"  /* 1 */
    "capture: { interface = \"eth1\"; snaplen = 256; buffer_kb = 8192; };\n"    /* 2 */
    "loss: {\n"                                                                 /* 3 */
    "  window = 128; alert_lost = 20; alert_interval = 120; alert_ppm = 500;\n" /* 4 */
    "  alert_repeat = 3600; sa_idle_timeout = 900; max_sas = 1000;\n"           /* 5 */
    "  max_tunnels = 100; event_log = \"/var/log/ipsecdiagtool/gaps.csv\";\n"   /* 6 */
    "};\n"                                                                      /* 7 */
    "syslog: { facility = \"local3\"; server = \"logs.example.net:514\"; };\n"  /* 8 */
    "traps:  { enabled = false; };\n"                                           /* 9 */
    "tunnels = (\n"                                                             /* 10 */
    "  { name = \"hq-branch1\"; index = 1;\n"                                   /* 11 */
    "    local = \"198.51.100.1\"; remote = \"198.51.100.2\";\n"                /* 12 */
    "    alert_lost = 5; alert_interval = 30; alert_ppm = 1000; alerts = true;\n" /* 13 */
    "    mtu: { source = \"10.10.1.1\"; target = \"10.10.2.1\"; min = 600;\n"   /* 14 */
    "           max = 1400; probes = 8; timeout = 2.5; retries = 3;\n"          /* 15 */
    "           interval = 3600; }; },\n"                                       /* 16 */
    "  { name = \"v6.dc_2\"; index = 3000000000;\n"                             /* 17 */
    "    local = \"2001:DB8:0:0:0:0:0:1\"; remote = \"2001:db8::2\";\n"         /* 18 */
    "    alerts = false; }\n"                                                   /* 19 */
    ");\n";                                                                     /* 20 */

static void check_full(const struct idt_config *c)
{
    assert_string_equal(c->agentx_socket, "unix:/var/agentx/master");
    assert_int_equal(c->ping_interval, 30);
    assert_string_equal(c->interface, "eth1");
    assert_int_equal(c->snaplen, 256);
    assert_int_equal(c->buffer_kb, 8192);
    assert_int_equal(c->window, 128);
    assert_int_equal(c->alert_lost, 20);
    assert_int_equal(c->alert_interval, 120);
    assert_int_equal(c->alert_ppm, 500);
    assert_int_equal(c->alert_repeat, 3600);
    assert_int_equal(c->sa_idle_timeout, 900);
    assert_int_equal(c->max_sas, 1000);
    assert_int_equal(c->max_tunnels, 100);
    assert_string_equal(c->event_log, "/var/log/ipsecdiagtool/gaps.csv");
    assert_int_equal(c->facility, LOG_LOCAL3);
    assert_string_equal(c->facility_name, "local3");
    assert_string_equal(c->syslog_server, "logs.example.net:514");
    assert_int_equal(c->traps_enabled, 0);
    assert_int_equal(c->ntunnels, 2);

    const struct idt_tunnel_conf *t = &c->tunnels[0];
    assert_string_equal(t->name, "hq-branch1");
    assert_int_equal(t->index, 1);
    assert_v4_bytes(&t->local, 198, 51, 100, 1);
    assert_v4_bytes(&t->remote, 198, 51, 100, 2);
    assert_true(t->alert_lost == 5);
    assert_true(t->alert_interval == 30);
    assert_true(t->alert_ppm == 1000);
    assert_int_equal(t->alerts, 1);
    assert_int_equal(t->mtu.enabled, 1);
    assert_v4_bytes(&t->mtu.source, 10, 10, 1, 1);
    assert_v4_bytes(&t->mtu.target, 10, 10, 2, 1);
    assert_int_equal(t->mtu.min, 600);
    assert_int_equal(t->mtu.max, 1400);
    assert_int_equal(t->mtu.probes, 8);
    assert_true(t->mtu.timeout == 2.5);
    assert_int_equal(t->mtu.retries, 3);
    assert_int_equal(t->mtu.interval, 3600);

    t = &c->tunnels[1];
    assert_string_equal(t->name, "v6.dc_2");
    assert_int_equal(t->index, 3000000000u);
    assert_addr(&t->local, 6, "2001:db8::1");
    assert_addr(&t->remote, 6, "2001:db8::2");
    assert_true(t->alert_lost == -1);
    assert_true(t->alert_interval == -1);
    assert_true(t->alert_ppm == -1);
    assert_int_equal(t->alerts, 0);
    assert_int_equal(t->mtu.enabled, 0);
}

static void test_full_valid(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok(full_conf, &c);
    assert_string_equal(c.path, ""); /* from a string */
    check_full(&c);
    assert_ptr_equal(config_tunnel_by_name(&c, "v6.dc_2"), &c.tunnels[1]);
    assert_ptr_equal(config_tunnel_by_name(&c, "hq-branch1"), &c.tunnels[0]);
    assert_null(config_tunnel_by_name(&c, "HQ-BRANCH1"));
    assert_null(config_tunnel_by_name(&c, "nope"));
    config_free(&c);
    assert_null(c.tunnels);
    assert_int_equal(c.ntunnels, 0);
    config_free(&c);
}

static void test_ipv6_tunnel(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok("tunnels = ({ name = \"v6\"; index = 7;\n"
            "  local = \"2001:db8:0:0:1:0:0:1\"; remote = \"2001:0DB8::0A\";\n"
            "  mtu: { source = \"fd00:10::1\"; target = \"fd00:20::1\"; max = 9216; }; });\n",
            &c);
    assert_int_equal(c.ntunnels, 1);
    const struct idt_tunnel_conf *t = &c.tunnels[0];
    static const uint8_t l6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    assert_int_equal(t->local.family, 6);
    assert_memory_equal(t->local.a, l6, 16);
    assert_addr(&t->local, 6, "2001:db8::1:0:0:1");
    assert_addr(&t->remote, 6, "2001:db8::a");
    assert_int_equal(t->mtu.enabled, 1);
    assert_addr(&t->mtu.source, 6, "fd00:10::1");
    assert_addr(&t->mtu.target, 6, "fd00:20::1");
    assert_int_equal(t->mtu.min, 576);
    assert_int_equal(t->mtu.max, 9216);
    assert_int_equal(t->mtu.probes, 16);
    assert_true(t->mtu.timeout == 2.0);
    assert_int_equal(t->mtu.retries, 1);
    assert_int_equal(t->mtu.interval, 0);
    config_free(&c);

    /* IPv6 inner addresses inside an IPv4 tunnel are fine */
    load_ok("tunnels = ({ name = \"mix\"; index = 1; local = \"203.0.113.1\";\n"
            "  remote = \"203.0.113.9\";\n"
            "  mtu: { source = \"fd00::1\"; target = \"fd00::2\"; }; });\n",
            &c);
    assert_addr(&c.tunnels[0].mtu.target, 6, "fd00::2");
    config_free(&c);
}

static void test_per_tunnel_overrides(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok("tunnels = (\n"
            " { name = \"a\"; index = 1; local = \"198.51.100.1\"; remote = \"198.51.100.2\"; },\n"
            " { name = \"b\"; index = 2; local = \"198.51.100.1\"; remote = \"198.51.100.3\";\n"
            "   alert_lost = 0; alert_ppm = 0; },\n"
            " { name = \"c\"; index = 3; local = \"198.51.100.1\"; remote = \"198.51.100.4\";\n"
            "   alert_interval = 86400; alert_lost = 2147483648; alert_ppm = 1000000; }\n"
            ");\n",
            &c);
    assert_int_equal(c.ntunnels, 3);
    assert_true(c.tunnels[0].alert_lost == -1);
    assert_true(c.tunnels[0].alert_interval == -1);
    assert_true(c.tunnels[0].alert_ppm == -1);
    assert_int_equal(c.tunnels[0].alerts, 1);
    assert_true(c.tunnels[1].alert_lost == 0);
    assert_true(c.tunnels[1].alert_interval == -1);
    assert_true(c.tunnels[1].alert_ppm == 0);
    assert_true(c.tunnels[2].alert_lost == 2147483648LL);
    assert_true(c.tunnels[2].alert_interval == 86400);
    assert_true(c.tunnels[2].alert_ppm == 1000000);
    config_free(&c);
}

static void test_syntax_forms(void **state)
{
    (void)state;
    struct idt_config c;
    /* ':' for '=', ',' or nothing as terminator, TRUE/False, string
     * concatenation, a comment on the last line without a newline */
    load_ok("traps: { enabled = False }, capture = { interface = \"e\" \"th0\", snaplen: 96 }\n"
            "loss: { window = 100 alert_ppm = 7 }\n"
            "syslog: { facility = \"user\"; } # last line, no newline",
            &c);
    assert_int_equal(c.traps_enabled, 0);
    assert_string_equal(c.interface, "eth0");
    assert_int_equal(c.snaplen, 96);
    assert_int_equal(c.window, 100);
    assert_int_equal(c.alert_ppm, 7);
    assert_int_equal(c.facility, LOG_USER);
    config_free(&c);
    load_ok("traps: { enabled = TRUE; }; // also at the end", &c);
    assert_int_equal(c.traps_enabled, 1);
    config_free(&c);
}

static void test_integer_forms(void **state)
{
    (void)state;
    struct idt_config c;
    /* hex, explicit L suffix, big plain literals, integer for a float key,
     * digits inside strings and comments are left alone */
    load_ok("loss: { window = 0x40; alert_lost = 2147483648; max_sas = 70000L;\n"
            "  event_log = \"/tmp/99999999999999999999999.csv\"; }; # 99999999999999999999999\n"
            "/* 4294967296 */ // 4294967296\n"
            "tunnels = ({ name = \"t\"; index = 4294967295; local = \"192.0.2.1\";\n"
            "  remote = \"192.0.2.2\";\n"
            "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\"; timeout = 3; }; });\n",
            &c);
    assert_int_equal(c.window, 64);
    assert_int_equal(c.alert_lost, 2147483648u);
    assert_int_equal(c.max_sas, 70000);
    assert_string_equal(c.event_log, "/tmp/99999999999999999999999.csv");
    assert_int_equal(c.tunnels[0].index, 4294967295u);
    assert_true(c.tunnels[0].mtu.timeout == 3.0);
    config_free(&c);
}

/* The scanner in front of libconfig (src/config_scan.c) widens only
 * integer literals: not digits in names, floats or hex beyond what fits. */
static void test_scanner_tokens(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok("tunnels = ({ name = \"t\"; index = 0xFFFFFFFF; local = \"192.0.2.1\";\n"
            "  remote = \"192.0.2.2\";\n"
            "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\"; timeout = 25000000000e-9; }; });\n",
            &c);
    assert_int_equal(c.tunnels[0].index, 4294967295u);
    assert_true(c.tunnels[0].mtu.timeout == 25.0);
    config_free(&c);
    /* a negative literal beyond 32 bits is not wrapped into range */
    expect_err("loss: { window = -4294967232; };", "n.conf",
               "n.conf:1: loss.window: -4294967232 is out of range (32..4096)");
    expect_err("loss: { window = 0x100000040; };", "n.conf",
               "n.conf:1: loss.window: 4294967360 is out of range (32..4096)");
    /* digits inside a name stay part of the name */
    expect_err("loss: { w4294967296 = 1; };", "n.conf", "n.conf:1: loss.w4294967296: unknown key");
    expect_err("\n-0x99999999999999999;", "n.conf",
               "n.conf:2: syntax error");
    /* the first problem in the text is reported, libconfig's or the scanner's */
    expect_err("a = = 1;\nb = 99999999999999999999;", "n.conf", "n.conf:1: syntax error");
    expect_err("a = 1;\nb = 99999999999999999999;\nc = = 1;", "n.conf",
               "n.conf:2: syntax error: integer 99999999999999999999 is out of range");
    expect_err("a = 1;\n@include \"x\"\nc = = 1;", "n.conf", "n.conf:2: @include is not supported");
    /* an unterminated string is an error, not the end of the text */
    expect_err("a = 1;\n\"abc", "n.conf", "n.conf:2: syntax error");
    expect_err("a = 1;\n\"abc\n", "n.conf", "n.conf:2: syntax error");
}

static void test_boundaries_accepted(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok("agentx: { ping_interval = 3600; };\n"
            "capture: { snaplen = 65535; buffer_kb = 1048576; };\n"
            "loss: { window = 4096; alert_lost = 0; alert_interval = 86400; alert_ppm = 1000000;\n"
            "  alert_repeat = 604800; sa_idle_timeout = 604800; max_sas = 16777216;\n"
            "  max_tunnels = 1048576; };\n"
            "tunnels = ({ name = \"x\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
            "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\"; min = 9216; max = 9216;\n"
            "         probes = 64; timeout = 60; retries = 10; interval = 604800; }; });\n",
            &c);
    assert_int_equal(c.ping_interval, 3600);
    assert_int_equal(c.snaplen, 65535);
    assert_int_equal(c.buffer_kb, 1048576);
    assert_int_equal(c.window, 4096);
    assert_int_equal(c.alert_lost, 0);
    assert_int_equal(c.max_sas, 16777216);
    assert_int_equal(c.tunnels[0].mtu.min, 9216);
    assert_int_equal(c.tunnels[0].mtu.probes, 64);
    config_free(&c);
    load_ok("agentx: { ping_interval = 1; };\n"
            "capture: { snaplen = 64; buffer_kb = 256; };\n"
            "loss: { window = 32; alert_interval = 1; sa_idle_timeout = 10; max_sas = 16;\n"
            "  max_tunnels = 1; };\n"
            "tunnels = ({ name = \"x\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
            "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\"; min = 576; max = 576;\n"
            "         probes = 1; timeout = 0.1; retries = 0; }; });\n",
            &c);
    assert_int_equal(c.window, 32);
    assert_true(c.tunnels[0].mtu.timeout == 0.1);
    config_free(&c);
}

static void test_facilities(void **state)
{
    (void)state;
    static const struct {
        const char *in, *name;
        int value;
    } f[] = {
        {"daemon", "daemon", LOG_DAEMON}, {"user", "user", LOG_USER},
        {"local0", "local0", LOG_LOCAL0}, {"local7", "local7", LOG_LOCAL7},
        {"AUTHPRIV", "authpriv", LOG_AUTHPRIV}, {"Syslog", "syslog", LOG_SYSLOG},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char text[128];
        struct idt_config c;
        snprintf(text, sizeof text, "syslog: { facility = \"%s\"; };", f[i].in);
        load_ok(text, &c);
        assert_int_equal(c.facility, f[i].value);
        assert_string_equal(c.facility_name, f[i].name);
        config_free(&c);
    }
}

static void test_syslog_server_forms(void **state)
{
    (void)state;
    static const char *const good[] = {"logs.example.net:514", "192.0.2.1:6514",
                                       "[2001:db8::1]:514", "localhost:1", "a:65535"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[128];
        struct idt_config c;
        snprintf(text, sizeof text, "syslog: { server = \"%s\"; };", good[i]);
        load_ok(text, &c);
        assert_string_equal(c.syslog_server, good[i]);
        config_free(&c);
    }
    char host[64];
    uint16_t port = 0;
    const char *why = NULL;
    assert_int_equal(idt_hostport_parse("[2001:db8::1]:514", host, sizeof host, &port, &why), 0);
    assert_string_equal(host, "2001:db8::1");
    assert_int_equal(port, 514);
    assert_null(why);
    assert_int_equal(idt_hostport_parse("logs.example.net:6514", host, sizeof host, &port, NULL), 0);
    assert_string_equal(host, "logs.example.net");
    assert_int_equal(port, 6514);
    assert_int_equal(idt_hostport_parse("h:70000", host, sizeof host, &port, &why), -1);
    assert_string_equal(why, "port must be a number 1..65535");
    assert_int_equal(idt_hostport_parse("h:1", host, 1, &port, &why), -1);
    assert_string_equal(why, "host name too long");
}

/* ------------------------------------------------------------------ */
/* round trip                                                           */

static void roundtrip(const char *text)
{
    struct idt_config a, b;
    load_ok(text, &a);
    char *p1 = print_to_string(&a);
    char err[1024] = "";
    int rc = config_load_string(p1, "printed", &b, err, sizeof err);
    if (rc != 0)
        print_error("printed config does not load: %s\n%s\n", err, p1);
    assert_int_equal(rc, 0);
    char *p2 = print_to_string(&b);
    assert_string_equal(p1, p2);

    /* field by field */
    assert_string_equal(a.agentx_socket, b.agentx_socket);
    assert_int_equal(a.ping_interval, b.ping_interval);
    assert_string_equal(a.interface, b.interface);
    assert_int_equal(a.snaplen, b.snaplen);
    assert_int_equal(a.buffer_kb, b.buffer_kb);
    assert_int_equal(a.window, b.window);
    assert_int_equal(a.alert_lost, b.alert_lost);
    assert_int_equal(a.alert_interval, b.alert_interval);
    assert_int_equal(a.alert_ppm, b.alert_ppm);
    assert_int_equal(a.alert_repeat, b.alert_repeat);
    assert_int_equal(a.sa_idle_timeout, b.sa_idle_timeout);
    assert_int_equal(a.max_sas, b.max_sas);
    assert_int_equal(a.max_tunnels, b.max_tunnels);
    assert_string_equal(a.event_log, b.event_log);
    assert_int_equal(a.facility, b.facility);
    assert_string_equal(a.facility_name, b.facility_name);
    assert_string_equal(a.syslog_server, b.syslog_server);
    assert_int_equal(a.traps_enabled, b.traps_enabled);
    assert_int_equal(a.ntunnels, b.ntunnels);
    for (size_t i = 0; i < a.ntunnels; i++) {
        const struct idt_tunnel_conf *x = &a.tunnels[i], *y = &b.tunnels[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->index, y->index);
        assert_true(idt_addr_eq(&x->local, &y->local));
        assert_true(idt_addr_eq(&x->remote, &y->remote));
        assert_true(x->alert_lost == y->alert_lost);
        assert_true(x->alert_interval == y->alert_interval);
        assert_true(x->alert_ppm == y->alert_ppm);
        assert_int_equal(x->alerts, y->alerts);
        assert_int_equal(x->mtu.enabled, y->mtu.enabled);
        assert_true(idt_addr_eq(&x->mtu.source, &y->mtu.source));
        assert_true(idt_addr_eq(&x->mtu.target, &y->mtu.target));
        assert_int_equal(x->mtu.min, y->mtu.min);
        assert_int_equal(x->mtu.max, y->mtu.max);
        assert_int_equal(x->mtu.probes, y->mtu.probes);
        assert_true(x->mtu.timeout == y->mtu.timeout);
        assert_int_equal(x->mtu.retries, y->mtu.retries);
        assert_int_equal(x->mtu.interval, y->mtu.interval);
    }
    free(p1);
    free(p2);
    config_free(&a);
    config_free(&b);
}

static void test_roundtrip(void **state)
{
    (void)state;
    roundtrip("");
    roundtrip(full_conf);
    roundtrip("loss: { alert_lost = 2147483648; event_log = \"/tmp/a \\\"b\\\" \\\\c\\td\"; };\n"
              "agentx: { socket = \"tcp:[::1]:705\"; };\n"
              "syslog: { server = \"[2001:db8::9]:514\"; facility = \"LOCAL5\"; };\n"
              "tunnels = ({ name = \"t\"; index = 4294967295; local = \"192.0.2.1\";\n"
              "  remote = \"192.0.2.2\"; alert_interval = 5;\n"
              "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\"; timeout = 0.3; }; });\n");

    /* the printed text itself, for a small config */
    struct idt_config c;
    load_ok("tunnels = ({ name = \"t\"; index = 2; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
            "  alert_ppm = 7; mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\"; }; });",
            &c);
    char *p = print_to_string(&c);
    assert_non_null(strstr(p, "tunnels = (\n"
                              "  {\n"
                              "    name = \"t\";\n"
                              "    index = 2;\n"
                              "    local = \"192.0.2.1\";\n"
                              "    remote = \"192.0.2.2\";\n"
                              "    alert_ppm = 7;\n"
                              "    alerts = true;\n"
                              "    mtu: {\n"
                              "      source = \"10.0.0.1\";\n"
                              "      target = \"10.0.0.2\";\n"
                              "      min = 576;\n"
                              "      max = 1500;\n"
                              "      probes = 16;\n"
                              "      timeout = 2.0;\n"
                              "      retries = 1;\n"
                              "      interval = 0;\n"
                              "    };\n"
                              "  }\n"
                              ");\n"));
    free(p);
    config_free(&c);
}

/* ------------------------------------------------------------------ */
/* errors: syntax                                                       */

static void test_err_syntax(void **state)
{
    (void)state;
    expect_err("loss: {\n"           /* 1 */
               "  window = 64;\n"    /* 2 */
               "  alert_lost == 5;\n" /* 3 */
               "};\n",
               "bad.conf", "bad.conf:3: syntax error");
    expect_err("loss: {\n"           /* 1 */
               "  window = 64;\n"    /* 2 */
               "\n",                 /* 3 */
                                      /* 4: end of input, group not closed */
               "eof.conf", "eof.conf:4: syntax error");
    expect_err("traps: { enabled = true; };\n"  /* 1 */
               "traps: { enabled = false; };\n" /* 2 */
               , "dup.conf", "dup.conf:2: syntax error: duplicate setting name");
    expect_err("a = [1, \"x\"];\n", "arr.conf",
               "arr.conf:1: syntax error: mismatched element type in array");
    expect_err("\n\nloss: { window = 99999999999999999999; };\n", "big.conf",
               "big.conf:3: syntax error: integer 99999999999999999999 is out of range");
    expect_err("# fine\n@include \"/etc/passwd\"\n", "inc.conf",
               "inc.conf:2: @include is not supported");
    /* a string where a key is expected (libconfig would leak it) */
    expect_err("loss: { window = 64; };\n" /* 1 */
               "\"window\" = 64;\n",       /* 2 */
               "s.conf", "s.conf:2: syntax error");
    expect_err("loss: { window = 64 \"x\"; };", "s.conf", "s.conf:1: syntax error");
    /* a string spanning lines: the error is on the line where it ends */
    expect_err("x = 1\n"         /* 1 */
               "\"a\n"          /* 2 */
               "b\" = 2;\n",     /* 3 */
               "s.conf", "s.conf:3: syntax error");
    expect_err("tunnels = ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
               "((((((((((((((((((((((()))))))))))))))))))))))))))))))))))))))))))))))))))))"
               "))))))))))))))))))))))))))));",
               "deep.conf", "deep.conf:1: syntax error: nesting too deep");
    expect_err("true = 1;", "b.conf", "b.conf:1: syntax error");
    expect_err("loss: { window = 64, };\n[", "b.conf", "b.conf:2: syntax error");
    /* NULL name */
    expect_err("x", NULL, "<string>:1: syntax error");
}

/* ------------------------------------------------------------------ */
/* errors: unknown keys                                                 */

static void test_err_unknown_key(void **state)
{
    (void)state;
    expect_err("agentx: { };\n" /* 1 */
               "logging: { };\n", /* 2 */
               "u.conf", "u.conf:2: logging: unknown key");
    expect_err("tunnel = ();\n", "u.conf", "u.conf:1: tunnel: unknown key (did you mean \"tunnels\"?)");
    expect_err("loss: {\n"            /* 1 */
               "  window = 64;\n"     /* 2 */
               "  windw = 128;\n"     /* 3 */
               "};\n",
               "u.conf", "u.conf:3: loss.windw: unknown key (did you mean \"window\"?)");
    expect_err("agentx: { Socket = \"x\"; };", "u.conf",
               "u.conf:1: agentx.Socket: unknown key (did you mean \"socket\"?)");
    expect_err("capture: { promisc = true; };", "u.conf", "u.conf:1: capture.promisc: unknown key");
    expect_err("syslog: { host = \"x\"; };", "u.conf", "u.conf:1: syslog.host: unknown key");
    expect_err("traps: { enable = true; };", "u.conf",
               "u.conf:1: traps.enable: unknown key (did you mean \"enabled\"?)");
    expect_err("tunnels = (\n"                                                                 /* 1 */
               "  { name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\"; },\n" /* 2 */
               "  { name = \"b\"; index = 2; local = \"192.0.2.1\"; remote = \"192.0.2.3\";\n"  /* 3 */
               "    mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\";\n"                     /* 4 */
               "           maxx = 1400; }; }\n"                                                 /* 5 */
               ");\n",
               "u.conf", "u.conf:5: tunnels[1].mtu.maxx: unknown key (did you mean \"max\"?)");
    expect_err("tunnels = ({ name = \"a\"; idx = 1; });", "u.conf",
               "u.conf:1: tunnels[0].idx: unknown key (did you mean \"index\"?)");
    expect_err("tunnels = ({ name = \"a\"; colour = \"red\"; });", "u.conf",
               "u.conf:1: tunnels[0].colour: unknown key");
}

/* ------------------------------------------------------------------ */
/* errors: types                                                        */

static void test_err_wrong_type(void **state)
{
    (void)state;
    expect_err("loss: { window = \"64\"; };", "t.conf",
               "t.conf:1: loss.window: expected an integer, got a string");
    expect_err("loss: { window = 64.0; };", "t.conf",
               "t.conf:1: loss.window: expected an integer, got a floating-point number");
    expect_err("traps: { enabled = 1; };", "t.conf",
               "t.conf:1: traps.enabled: expected true or false, got an integer");
    expect_err("traps: { enabled = \"yes\"; };", "t.conf",
               "t.conf:1: traps.enabled: expected true or false, got a string");
    expect_err("capture: { interface = 5; };", "t.conf",
               "t.conf:1: capture.interface: expected a string, got an integer");
    expect_err("\nloss = 5;", "t.conf", "t.conf:2: loss: expected a group { ... }, got an integer");
    expect_err("syslog = [\"a\"];", "t.conf",
               "t.conf:1: syslog: expected a group { ... }, got an array");
    expect_err("tunnels: { };", "t.conf",
               "t.conf:1: tunnels: expected a list ( { ... }, ... ), got a group");
    expect_err("tunnels = (1);", "t.conf",
               "t.conf:1: tunnels[0]: expected a group { ... }, got an integer");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu = 1400; });",
               "t.conf", "t.conf:2: tunnels[0].mtu: expected a group { ... }, got an integer");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\"; timeout = \"2\"; }; });",
               "t.conf", "t.conf:2: tunnels[0].mtu.timeout: expected a number, got a string");
    expect_err("tunnels = ({ name = 5; });", "t.conf",
               "t.conf:1: tunnels[0].name: expected a string, got an integer");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = 1; });", "t.conf",
               "t.conf:1: tunnels[0].local: expected a string, got an integer");
    expect_err("tunnels = ({ alerts = \"off\"; });", "t.conf",
               "t.conf:1: tunnels[0].alerts: expected true or false, got a string");
}

/* ------------------------------------------------------------------ */
/* errors: ranges                                                       */

/* loss.idle_timeout, loss.alert_min_pkts, loss.discovered_idle_alerts
 * and the per-tunnel idle_timeout / idle_alerts. */
static void test_idle_and_min_pkts(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok("", &c);
    assert_int_equal(c.idle_timeout, 300);
    assert_int_equal(c.alert_min_pkts, 100);
    assert_int_equal(c.discovered_idle_alerts, 0);
    config_free(&c);
    load_ok("loss: { idle_timeout = 0; alert_min_pkts = 5; discovered_idle_alerts = true; };\n"
            "tunnels = ( { name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
            "              idle_timeout = 30; idle_alerts = false; },\n"
            "            { name = \"b\"; index = 2; local = \"192.0.2.1\"; remote = \"192.0.2.3\"; } );\n",
            &c);
    assert_int_equal(c.idle_timeout, 0);
    assert_int_equal(c.alert_min_pkts, 5);
    assert_int_equal(c.discovered_idle_alerts, 1);
    assert_int_equal(c.tunnels[0].idle_timeout, 30);
    assert_int_equal(c.tunnels[0].idle_alerts, 0);
    assert_int_equal(c.tunnels[1].idle_timeout, -1);
    assert_int_equal(c.tunnels[1].idle_alerts, 1);
    config_free(&c);
    expect_err("loss: { idle_timeout = 604801; };", "r.conf",
               "r.conf:1: loss.idle_timeout: 604801 is out of range (0..604800)");
    expect_err("loss: { alert_min_pkts = -1; };", "r.conf",
               "r.conf:1: loss.alert_min_pkts: -1 is out of range (0..2147483648)");
    expect_err("loss: { discovered_idle_alerts = 1; };", "r.conf",
               "r.conf:1: loss.discovered_idle_alerts: expected true or false, got an integer");
    expect_err("tunnels = ( { name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  idle_timeout = -2; } );", "r.conf",
               "r.conf:2: tunnels[0].idle_timeout: -2 is out of range (0..604800)");
}

static void test_err_range(void **state)
{
    (void)state;
    expect_err("\n"                     /* 1 */
               "loss: {\n"              /* 2 */
               "  window = 20;\n"       /* 3 */
               "};\n",
               "r.conf", "r.conf:3: loss.window: 20 is out of range (32..4096)");
    expect_err("loss: { window = 4097; };", "r.conf",
               "r.conf:1: loss.window: 4097 is out of range (32..4096)");
    expect_err("loss: { window = -1; };", "r.conf",
               "r.conf:1: loss.window: -1 is out of range (32..4096)");
    expect_err("loss: { alert_lost = 2147483649; };", "r.conf",
               "r.conf:1: loss.alert_lost: 2147483649 is out of range (0..2147483648)");
    expect_err("loss: { alert_interval = 0; };", "r.conf",
               "r.conf:1: loss.alert_interval: 0 is out of range (1..86400)");
    expect_err("loss: { alert_ppm = 1000001; };", "r.conf",
               "r.conf:1: loss.alert_ppm: 1000001 is out of range (0..1000000)");
    expect_err("loss: { alert_repeat = 604801; };", "r.conf",
               "r.conf:1: loss.alert_repeat: 604801 is out of range (0..604800)");
    expect_err("loss: { sa_idle_timeout = 9; };", "r.conf",
               "r.conf:1: loss.sa_idle_timeout: 9 is out of range (10..604800)");
    expect_err("loss: { max_sas = 15; };", "r.conf",
               "r.conf:1: loss.max_sas: 15 is out of range (16..16777216)");
    expect_err("loss: { max_tunnels = 0; };", "r.conf",
               "r.conf:1: loss.max_tunnels: 0 is out of range (1..1048576)");
    expect_err("capture: { snaplen = 63; };", "r.conf",
               "r.conf:1: capture.snaplen: 63 is out of range (64..65535)");
    expect_err("capture: { snaplen = 65536; };", "r.conf",
               "r.conf:1: capture.snaplen: 65536 is out of range (64..65535)");
    expect_err("capture: { buffer_kb = 255; };", "r.conf",
               "r.conf:1: capture.buffer_kb: 255 is out of range (256..1048576)");
    expect_err("agentx: { ping_interval = 0; };", "r.conf",
               "r.conf:1: agentx.ping_interval: 0 is out of range (1..3600)");
    expect_err("agentx: { ping_interval = 3601; };", "r.conf",
               "r.conf:1: agentx.ping_interval: 3601 is out of range (1..3600)");

    static const char tun[] =
        "tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
        "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\";\n"
        "         %s; }; });\n";
    static const struct {
        const char *kv, *want;
    } m[] = {
        {"max = 9217", "m.conf:3: tunnels[0].mtu.max: 9217 is out of range (576..9216)"},
        {"min = 575", "m.conf:3: tunnels[0].mtu.min: 575 is out of range (576..9216)"},
        {"probes = 0", "m.conf:3: tunnels[0].mtu.probes: 0 is out of range (1..64)"},
        {"probes = 65", "m.conf:3: tunnels[0].mtu.probes: 65 is out of range (1..64)"},
        {"timeout = 0.05", "m.conf:3: tunnels[0].mtu.timeout: 0.05 is out of range (0.1..60)"},
        {"timeout = 61", "m.conf:3: tunnels[0].mtu.timeout: 61 is out of range (0.1..60)"},
        {"retries = 11", "m.conf:3: tunnels[0].mtu.retries: 11 is out of range (0..10)"},
        {"interval = 604801", "m.conf:3: tunnels[0].mtu.interval: 604801 is out of range (0..604800)"},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, tun, m[i].kv);
        expect_err(text, "m.conf", m[i].want);
    }
    expect_err("tunnels = ({ name = \"a\"; index = 0; });", "r.conf",
               "r.conf:1: tunnels[0].index: 0 is out of range (1..4294967295)");
    expect_err("tunnels = ({ name = \"a\"; index = 4294967296; });", "r.conf",
               "r.conf:1: tunnels[0].index: 4294967296 is out of range (1..4294967295)");
    expect_err("tunnels = ({ alert_interval = 0; });", "r.conf",
               "r.conf:1: tunnels[0].alert_interval: 0 is out of range (1..86400)");
    expect_err("tunnels = ({ alert_ppm = -1; });", "r.conf",
               "r.conf:1: tunnels[0].alert_ppm: -1 is out of range (0..1000000)");
    expect_err("tunnels = ({ alert_lost = 2147483649; });", "r.conf",
               "r.conf:1: tunnels[0].alert_lost: 2147483649 is out of range (0..2147483648)");
}

static void test_err_string_length(void **state)
{
    (void)state;
    char text[8192];
    char big[4200];

    memset(big, 'a', 256);
    big[256] = '\0';
    snprintf(text, sizeof text, "agentx: {\n socket = \"%s\"; };", big);
    expect_err(text, "s.conf", "s.conf:2: agentx.socket: too long (256 characters, at most 255)");
    big[255] = '\0';
    struct idt_config c;
    snprintf(text, sizeof text, "agentx: { socket = \"%s\"; };", big);
    load_ok(text, &c);
    assert_int_equal(strlen(c.agentx_socket), 255);
    config_free(&c);

    memset(big, 'b', 4096);
    big[0] = '/';
    big[4096] = '\0';
    snprintf(text, sizeof text, "loss: { event_log = \"%s\"; };", big);
    expect_err(text, "s.conf", "s.conf:1: loss.event_log: too long (4096 characters, at most 4095)");
    big[4095] = '\0';
    snprintf(text, sizeof text, "loss: { event_log = \"%s\"; };", big);
    load_ok(text, &c);
    assert_int_equal(strlen(c.event_log), 4095);
    config_free(&c);

    memset(big, 'e', 64);
    big[64] = '\0';
    snprintf(text, sizeof text, "capture: { interface = \"%s\"; };", big);
    expect_err(text, "s.conf", "s.conf:1: capture.interface: too long (64 characters, at most 63)");
    expect_err("capture: { interface = \"\"; };", "s.conf",
               "s.conf:1: capture.interface: must not be empty");

    memset(big, 'h', 256);
    big[251] = ':';
    big[256] = '\0';
    snprintf(text, sizeof text, "syslog: { server = \"%s\"; };", big);
    expect_err(text, "s.conf", "s.conf:1: syslog.server: too long (256 characters, at most 255)");
}

/* ------------------------------------------------------------------ */
/* errors: tunnels                                                      */

static void test_err_tunnel_duplicates(void **state)
{
    (void)state;
    expect_err("tunnels = (\n"                                                                 /* 1 */
               "  { name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\"; },\n" /* 2 */
               "  { name = \"b\"; index = 2; local = \"192.0.2.1\"; remote = \"192.0.2.3\"; },\n" /* 3 */
               "  { index = 3;\n"                                                              /* 4 */
               "    name = \"a\"; local = \"192.0.2.1\"; remote = \"192.0.2.4\"; }\n"           /* 5 */
               ");\n",
               "d.conf", "d.conf:5: tunnels[2].name: duplicate tunnel name \"a\" (also tunnels[0] at line 2)");
    expect_err("tunnels = (\n"                                                                 /* 1 */
               "  { name = \"a\"; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"             /* 2 */
               "    index = 7; },\n"                                                           /* 3 */
               "  { name = \"b\";\n"                                                           /* 4 */
               "    index = 7; local = \"192.0.2.1\"; remote = \"192.0.2.3\"; }\n"              /* 5 */
               ");\n",
               "d.conf", "d.conf:5: tunnels[1].index: duplicate tunnel index 7 (also tunnels[0] at line 3)");
    /* the same outer address pair, in either direction */
    expect_err("tunnels = (\n"                                                                 /* 1 */
               "  { name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\"; },\n" /* 2 */
               "  { name = \"b\"; index = 2; local = \"192.0.2.2\";\n"                          /* 3 */
               "    remote = \"192.0.2.1\"; }\n"                                               /* 4 */
               ");\n",
               "d.conf", "d.conf:4: tunnels[1].remote: same local/remote pair as tunnels[0] at line 2");
}

static void test_err_tunnel_required(void **state)
{
    (void)state;
    expect_err("tunnels = (\n"                                                      /* 1 */
               "  { name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\"; },\n"
               "  {\n"                                                                           /* 3 */
               "    index = 2; local = \"192.0.2.1\"; remote = \"192.0.2.3\"; }\n"                /* 4 */
               ");\n",
               "q.conf",
               "q.conf:3: tunnels[1].name: missing (every tunnel needs name, index, local and remote)");
    expect_err("tunnels = ({ name = \"a\"; local = \"192.0.2.1\"; remote = \"192.0.2.2\"; });",
               "q.conf",
               "q.conf:1: tunnels[0].index: missing (every tunnel needs name, index, local and remote)");
    expect_err("tunnels = ({ name = \"a\"; index = 1; remote = \"192.0.2.2\"; });", "q.conf",
               "q.conf:1: tunnels[0].local: missing (every tunnel needs name, index, local and remote)");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.2\"; });", "q.conf",
               "q.conf:1: tunnels[0].remote: missing (every tunnel needs name, index, local and remote)");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: {\n"                                          /* 2 */
               "    target = \"10.0.0.2\"; }; });",
               "q.conf", "q.conf:2: tunnels[0].mtu.source: missing (required in an mtu block)");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: { source = \"10.0.0.1\"; }; });",
               "q.conf", "q.conf:2: tunnels[0].mtu.target: missing (required in an mtu block)");
}

static void test_err_tunnel_name(void **state)
{
    (void)state;
    expect_err("tunnels = ({ name = \"hq branch\"; });", "n.conf",
               "n.conf:1: tunnels[0].name: invalid tunnel name \"hq branch\" "
               "(1..63 characters of A-Z a-z 0-9 . _ -)");
    expect_err("tunnels = ({ name = \"\"; });", "n.conf",
               "n.conf:1: tunnels[0].name: invalid tunnel name \"\" "
               "(1..63 characters of A-Z a-z 0-9 . _ -)");
    expect_err("tunnels = ({ name = \"a/b\"; });", "n.conf",
               "n.conf:1: tunnels[0].name: invalid tunnel name \"a/b\" "
               "(1..63 characters of A-Z a-z 0-9 . _ -)");
    /* control characters are escaped: the message stays on one line */
    expect_err("tunnels = ({ name = \"a\\nb\"; });", "n.conf",
               "n.conf:1: tunnels[0].name: invalid tunnel name \"a\\x0ab\" "
               "(1..63 characters of A-Z a-z 0-9 . _ -)");
    /* 63 is fine, 64 is not */
    char name[80], text[256], want[256];
    memset(name, 'n', 64);
    name[64] = '\0';
    snprintf(text, sizeof text, "tunnels = ({ name = \"%s\"; });", name);
    snprintf(want, sizeof want,
             "n.conf:1: tunnels[0].name: invalid tunnel name \"%s\" "
             "(1..63 characters of A-Z a-z 0-9 . _ -)", name);
    expect_err(text, "n.conf", want);
    name[63] = '\0';
    snprintf(text, sizeof text,
             "tunnels = ({ name = \"%s\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\"; });",
             name);
    struct idt_config c;
    load_ok(text, &c);
    assert_string_equal(c.tunnels[0].name, name);
    config_free(&c);
}

static void test_err_address(void **state)
{
    (void)state;
    expect_err("tunnels = ({ name = \"a\"; index = 1;\n"
               "  local = \"198.51.100.256\"; });",
               "a.conf", "a.conf:2: tunnels[0].local: \"198.51.100.256\" is not an IPv4 or IPv6 address");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"gw.example.net\"; });",
               "a.conf", "a.conf:1: tunnels[0].remote: \"gw.example.net\" is not an IPv4 or IPv6 address");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"fe80::1%eth0\"; });", "a.conf",
               "a.conf:1: tunnels[0].local: \"fe80::1%eth0\" is not an IPv4 or IPv6 address");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\";\n" /* 1 */
               "  remote = \"2001:db8::1\"; });",                               /* 2 */
               "a.conf", "a.conf:2: tunnels[0].remote: IPv6 address but local is IPv4");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.1\"; });",
               "a.conf", "a.conf:1: tunnels[0].remote: must differ from local");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: { source = \"fd00::1\";\n"  /* 2 */
               "         target = \"10.0.0.2\"; }; });", /* 3 */
               "a.conf", "a.conf:3: tunnels[0].mtu.target: IPv4 address but mtu.source is IPv6");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.300\"; }; });",
               "a.conf", "a.conf:2: tunnels[0].mtu.target: \"10.0.0.300\" is not an IPv4 or IPv6 address");
}

static void test_err_mtu_min_max(void **state)
{
    (void)state;
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\";\n" /* 2 */
               "         min = 1400;\n"                                  /* 3 */
               "         max = 1300; }; });",                            /* 4 */
               "x.conf", "x.conf:4: tunnels[0].mtu.max: mtu.min (1400) is greater than mtu.max (1300)");
    /* only min given: compared with the default max 1500 */
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\";\n" /* 2 */
               "         min = 9000; }; });",                            /* 3 */
               "x.conf", "x.conf:3: tunnels[0].mtu.min: mtu.min (9000) is greater than mtu.max (1500)");
    /* max written before min: the later key is blamed */
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.2\"; max = 1000;\n" /* 2 */
               "         min = 1001; }; });",                                       /* 3 */
               "x.conf", "x.conf:3: tunnels[0].mtu.min: mtu.min (1001) is greater than mtu.max (1000)");
    expect_err("tunnels = ({ name = \"a\"; index = 1; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
               "  mtu: { source = \"10.0.0.1\"; target = \"10.0.0.1\"; }; });",
               "x.conf", "x.conf:2: tunnels[0].mtu.target: must differ from mtu.source");
}

static void test_err_too_many_tunnels(void **state)
{
    (void)state;
    size_t cap = 4097 * 16 + 64, o = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    o += (size_t)snprintf(text + o, cap - o, "\ntunnels = (\n");
    for (int i = 0; i < 4097; i++)
        o += (size_t)snprintf(text + o, cap - o, "%s{}", i ? "," : "");
    snprintf(text + o, cap - o, ");\n");
    expect_err(text, "many.conf", "many.conf:2: tunnels: too many tunnels (4097, at most 4096)");
    free(text);
}

/* ------------------------------------------------------------------ */
/* errors: syslog                                                       */

static void test_err_syslog(void **state)
{
    (void)state;
    expect_err("syslog: {\n  facility = \"local8\"; };", "l.conf",
               "l.conf:2: syslog.facility: unknown facility \"local8\" (use auth, authpriv, "
               "cron, daemon, ftp, kern, lpr, mail, news, syslog, user, uucp or local0..local7)");
    expect_err("syslog: { facility = 3; };", "l.conf",
               "l.conf:1: syslog.facility: expected a string, got an integer");
    static const struct {
        const char *server, *why;
    } bad[] = {
        {"loghost", "missing ':port'"},
        {"loghost:", "missing port number"},
        {"loghost:0", "port must be a number 1..65535"},
        {"loghost:65536", "port must be a number 1..65535"},
        {"loghost:syslog", "port must be a number 1..65535"},
        {":514", "not a valid host name or address"},
        {"bad host:514", "not a valid host name or address"},
        {"2001:db8::1:514", "an IPv6 address must be written as [addr]:port"},
        {"[2001:db8::1]514", "expected ':port' after ']'"},
        {"[2001:db8::1:514", "missing ']' after IPv6 address"},
        {"[192.0.2.1]:514", "not an IPv6 address inside [...]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], want[512];
        snprintf(text, sizeof text, "syslog: { server = \"%s\"; };", bad[i].server);
        snprintf(want, sizeof want, "l.conf:1: syslog.server: \"%s\" is not in host:port form: %s",
                 bad[i].server, bad[i].why);
        expect_err(text, "l.conf", want);
    }
}

/* ------------------------------------------------------------------ */
/* files                                                                */

static char *write_tmp(const char *content, size_t len)
{
    char *path = strdup("/tmp/test_config_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_file_load(void **state)
{
    (void)state;
    struct idt_config c;
    char err[1024];

    char *p = write_tmp(full_conf, strlen(full_conf));
    assert_int_equal(config_load(p, &c, err, sizeof err), 0);
    assert_string_equal(c.path, p);
    check_full(&c);
    char *printed = print_to_string(&c);
    char head[5000];
    snprintf(head, sizeof head, "# ipsecdiagtool effective configuration (from %s)\n", p);
    assert_memory_equal(printed, head, strlen(head));
    free(printed);
    config_free(&c);
    unlink(p);
    free(p);

    static const char bad[] = "loss: {\n"    /* 1 */
                              "  # c\n"      /* 2 */
                              "  max_sas = 1;\n" /* 3 */
                              "};\n";
    p = write_tmp(bad, strlen(bad));
    assert_int_equal(config_load(p, &c, err, sizeof err), -1);
    char want[512];
    snprintf(want, sizeof want, "%s:3: loss.max_sas: 1 is out of range (16..16777216)", p);
    assert_string_equal(err, want);
    assert_null(c.tunnels);
    unlink(p);
    free(p);

    static const char withnul[] = "loss: {\n window = 64; }\0;\n";
    p = write_tmp(withnul, sizeof withnul - 1);
    assert_int_equal(config_load(p, &c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: syntax error: NUL byte in file", p);
    assert_string_equal(err, want);
    unlink(p);
    free(p);

    /* empty file is valid */
    p = write_tmp("", 0);
    assert_int_equal(config_load(p, &c, err, sizeof err), 0);
    assert_string_equal(c.path, p);
    config_free(&c);
    unlink(p);
    free(p);
}

static void test_file_cannot_open(void **state)
{
    (void)state;
    struct idt_config c;
    char err[1024];
    assert_int_equal(config_load("/nonexistent-dir/ipsecdiagtool.conf", &c, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent-dir/ipsecdiagtool.conf: cannot open: No such file or directory");
    assert_null(c.tunnels);
    assert_int_equal(config_load("/", &c, err, sizeof err), -1);
    assert_string_equal(err, "/: cannot read: Is a directory");
    config_free(&c);
}

/* The shipped conf/ipsecdiagtool.conf configures no tunnel (a fresh install
 * must not monitor or probe documentation addresses); its commented-out
 * example, with the leading "# " removed, is a valid tunnel with an mtu block. */
static void test_example_conf_loads(void **state)
{
    (void)state;
    const char *top = getenv("top_srcdir");
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/conf/ipsecdiagtool.conf", top && *top ? top : ".");
    struct idt_config c;
    int rc = config_load(path, &c, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(c.ntunnels, 0);
    config_free(&c);

    /* uncomment the example: every line from "# tunnels = (" on */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = NULL, line[1024];
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    int in_example = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "# tunnels = (", 13))
            in_example = 1;
        if (in_example && !strncmp(line, "# ", 2))
            fputs(line + 2, out);
        else if (!in_example || strcmp(line, "#\n") != 0)
            fputs(line, out);
    }
    fclose(f);
    fclose(out);
    assert_int_equal(in_example, 1);
    load_ok(text, &c);
    assert_int_equal(c.ntunnels, 1);
    assert_string_equal(c.tunnels[0].name, "hq-branch1");
    assert_int_equal(c.tunnels[0].mtu.enabled, 1);
    config_free(&c);
    free(text);
}

static void test_state_dir(void **state)
{
    (void)state;
    struct idt_config c;
    load_ok("", &c);
    assert_string_equal(c.state_dir, LOCALSTATEDIR "/lib/ipsecdiagtool");   /* Makefile.am */
    char *out = print_to_string(&c);
    assert_non_null(strstr(out, "\nstate: {\n  dir = \"" LOCALSTATEDIR "/lib/ipsecdiagtool\";\n};\n"));
    free(out);
    config_free(&c);
    load_ok("state: { dir = \"/srv/idt state\"; };", &c);
    assert_string_equal(c.state_dir, "/srv/idt state");
    out = print_to_string(&c);
    struct idt_config c2;
    load_ok(out, &c2);      /* the printed form loads back */
    assert_string_equal(c2.state_dir, "/srv/idt state");
    free(out);
    config_free(&c);
    config_free(&c2);
    load_ok("state: { dir = \"\"; };", &c);
    assert_string_equal(c.state_dir, "");
    config_free(&c);
    expect_err("state: {\n dir = \"var/lib/x\";\n};", "t.conf",
               "t.conf:2: state.dir: \"var/lib/x\" is not an absolute path (use \"\" for no "
               "state file)");
    expect_err("state: { dir = 5; };", "t.conf", "t.conf:1: state.dir: expected a string, got an integer");
    expect_err("state: { path = \"/x\"; };", "t.conf",
               "t.conf:1: state.path: unknown key");
    expect_err("state = \"/x\";", "t.conf", "t.conf:1: state: expected a group { ... }, got a string");
}

/* ------------------------------------------------------------------ */
/* misc                                                                 */

static void test_err_buffer_handling(void **state)
{
    (void)state;
    struct idt_config c;
    char err[12];
    memset(err, 'X', sizeof err);
    assert_int_equal(config_load_string("loss: { window = 1; };", "abcdefghijklmnop", &c, err,
                                        sizeof err), -1);
    assert_string_equal(err, "abcdefghijk");
    assert_int_equal(config_load_string("loss: { window = 1; };", "x", &c, NULL, 0), -1);
    assert_int_equal(config_load_string("loss: { window = 64; };", "x", &c, NULL, 0), 0);
    config_free(&c);
    /* a previous error is cleared on success */
    char e2[64] = "stale";
    assert_int_equal(config_load_string("", "x", &c, e2, sizeof e2), 0);
    assert_string_equal(e2, "");
    config_free(&c);
}

static void test_addr_helpers(void **state)
{
    (void)state;
    struct idt_addr a, b;
    char buf[64];
    assert_int_equal(idt_addr_parse("192.0.2.33", &a), 0);
    assert_v4_bytes(&a, 192, 0, 2, 33);
    assert_string_equal(idt_addr_str(&a, buf, sizeof buf), "192.0.2.33");
    assert_int_equal(idt_addr_parse("2001:0DB8:0000::0001", &b), 0);
    assert_addr(&b, 6, "2001:db8::1");
    assert_int_equal(idt_addr_parse("::ffff:192.0.2.33", &b), 0);
    assert_addr(&b, 6, "::ffff:192.0.2.33");
    assert_false(idt_addr_eq(&a, &b)); /* different families never match */
    assert_int_equal(idt_addr_parse("::", &b), 0);
    assert_addr(&b, 6, "::");

    static const char *const bad[] = {"", "1.2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ",
                                      "fe80::1%eth0", "2001:db8::1::2", "01.2.3.4",
                                      "localhost", "1.2.3.4/24"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct idt_addr z = {.family = 9};
        assert_int_equal(idt_addr_parse(bad[i], &z), -1);
        assert_int_equal(z.family, 9); /* untouched on failure */
    }
    assert_int_equal(idt_addr_parse(NULL, &a), -1);

    struct idt_addr x, y;
    assert_int_equal(idt_addr_parse("198.51.100.1", &x), 0);
    assert_int_equal(idt_addr_parse("198.51.100.1", &y), 0);
    assert_true(idt_addr_eq(&x, &y));
    assert_int_equal(idt_addr_parse("198.51.100.2", &y), 0);
    assert_false(idt_addr_eq(&x, &y));

    struct idt_addr u1, u2;
    memset(&u1, 0, sizeof u1);
    memset(&u2, 0, sizeof u2);
    u2.a[0] = 1; /* ignored when unset */
    assert_true(idt_addr_eq(&u1, &u2));
    assert_string_equal(idt_addr_str(&u1, buf, sizeof buf), "");

    /* too small a buffer gives "", never an overflow */
    assert_int_equal(idt_addr_parse("2001:db8::1", &a), 0);
    assert_string_equal(idt_addr_str(&a, buf, 4), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_function),
        cmocka_unit_test(test_defaults_empty_string),
        cmocka_unit_test(test_defaults_comments_and_empty_groups),
        cmocka_unit_test(test_full_valid),
        cmocka_unit_test(test_ipv6_tunnel),
        cmocka_unit_test(test_per_tunnel_overrides),
        cmocka_unit_test(test_syntax_forms),
        cmocka_unit_test(test_integer_forms),
        cmocka_unit_test(test_scanner_tokens),
        cmocka_unit_test(test_boundaries_accepted),
        cmocka_unit_test(test_facilities),
        cmocka_unit_test(test_syslog_server_forms),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_err_syntax),
        cmocka_unit_test(test_err_unknown_key),
        cmocka_unit_test(test_err_wrong_type),
        cmocka_unit_test(test_err_range),
        cmocka_unit_test(test_idle_and_min_pkts),
        cmocka_unit_test(test_err_string_length),
        cmocka_unit_test(test_err_tunnel_duplicates),
        cmocka_unit_test(test_err_tunnel_required),
        cmocka_unit_test(test_err_tunnel_name),
        cmocka_unit_test(test_err_address),
        cmocka_unit_test(test_err_mtu_min_max),
        cmocka_unit_test(test_err_too_many_tunnels),
        cmocka_unit_test(test_err_syslog),
        cmocka_unit_test(test_file_load),
        cmocka_unit_test(test_file_cannot_open),
        cmocka_unit_test(test_example_conf_loads),
        cmocka_unit_test(test_err_buffer_handling),
        cmocka_unit_test(test_state_dir),
        cmocka_unit_test(test_addr_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
