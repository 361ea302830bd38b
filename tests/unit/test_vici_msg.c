/* test_vici_msg.c - the VICI wire format.  Expected bytes are written by
 * hand from strongSwan's protocol description (src/libcharon/plugins/vici/
 * README.md, "Encoding example" and "Packet layer"), never produced by the
 * encoder under test; every malformed input names the error it must get. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vici_msg.h"

/* key1 = value1; section1 = { sub-section = { key2 = value2 } list1 = [ item1, item2 ] } */
static const uint8_t doc_msg[] = {
    3, 4, 'k', 'e', 'y', '1', 0, 6, 'v', 'a', 'l', 'u', 'e', '1',
    1, 8, 's', 'e', 'c', 't', 'i', 'o', 'n', '1',
    1, 11, 's', 'u', 'b', '-', 's', 'e', 'c', 't', 'i', 'o', 'n',
    3, 4, 'k', 'e', 'y', '2', 0, 6, 'v', 'a', 'l', 'u', 'e', '2',
    2,
    4, 5, 'l', 'i', 's', 't', '1',
    5, 0, 5, 'i', 't', 'e', 'm', '1',
    5, 0, 5, 'i', 't', 'e', 'm', '2',
    6,
    2,
};

static void test_encode_doc_example(void **st)
{
    (void)st;
    uint8_t buf[256];
    struct vici_enc e;
    /* an unnamed CMD_RESPONSE wrapping the example: prefix, type 1, message */
    vici_enc_init(&e, buf, sizeof buf, VICI_CMD_RESPONSE, NULL);
    vici_enc_kv_str(&e, "key1", "value1");
    vici_enc_section_start(&e, "section1");
    vici_enc_section_start(&e, "sub-section");
    vici_enc_kv_str(&e, "key2", "value2");
    vici_enc_section_end(&e);
    vici_enc_list_start(&e, "list1");
    vici_enc_list_item(&e, "item1", 5);
    vici_enc_list_item(&e, "item2", 5);
    vici_enc_list_end(&e);
    vici_enc_section_end(&e);
    long n = vici_enc_finish(&e);
    assert_int_equal(n, 4 + 1 + (long)sizeof doc_msg);
    uint8_t want_hdr[5] = { 0, 0, 0, 1 + sizeof doc_msg, 1 };
    assert_memory_equal(buf, want_hdr, 5);
    assert_memory_equal(buf + 5, doc_msg, sizeof doc_msg);
}

static void test_encode_named_request(void **st)
{
    (void)st;
    uint8_t buf[64];
    struct vici_enc e;
    vici_enc_init(&e, buf, sizeof buf, VICI_EVENT_REGISTER, "ike-updown");
    static const uint8_t want[] = { 0, 0, 0, 12, 3, 10, 'i', 'k', 'e', '-', 'u', 'p', 'd',
                                    'o', 'w', 'n' };
    assert_int_equal(vici_enc_finish(&e), (long)sizeof want);
    assert_memory_equal(buf, want, sizeof want);

    vici_enc_init(&e, buf, sizeof buf, VICI_CMD_REQUEST, "list-sas");
    vici_enc_kv_str(&e, "noblock", "yes");
    static const uint8_t want2[] = { 0, 0, 0, 24, 0, 8, 'l', 'i', 's', 't', '-', 's', 'a', 's',
                                     3, 7, 'n', 'o', 'b', 'l', 'o', 'c', 'k', 0, 3, 'y', 'e', 's' };
    assert_int_equal(vici_enc_finish(&e), (long)sizeof want2);
    assert_memory_equal(buf, want2, sizeof want2);
}

static void test_encode_errors(void **st)
{
    (void)st;
    uint8_t buf[16];
    struct vici_enc e;
    vici_enc_init(&e, buf, sizeof buf, VICI_CMD_REQUEST, "list-sas");
    vici_enc_kv_str(&e, "a-much-too-long-key", "v");
    assert_int_equal(vici_enc_finish(&e), VICI_E_NO_SPACE);

    uint8_t big[64];
    vici_enc_init(&e, big, sizeof big, VICI_CMD_RESPONSE, NULL);
    vici_enc_section_start(&e, "s");
    assert_int_equal(vici_enc_finish(&e), VICI_E_USAGE);      /* unclosed */
    vici_enc_init(&e, big, sizeof big, VICI_CMD_RESPONSE, NULL);
    vici_enc_list_start(&e, "l");
    vici_enc_kv_str(&e, "k", "v");                              /* key inside a list */
    assert_int_equal(vici_enc_finish(&e), VICI_E_USAGE);
    vici_enc_init(&e, big, sizeof big, VICI_CMD_REQUEST, "");   /* a named type needs a name */
    assert_int_equal(vici_enc_finish(&e), VICI_E_USAGE);
    vici_enc_init(&e, big, sizeof big, 8, NULL);
    assert_int_equal(vici_enc_finish(&e), VICI_E_USAGE);
}

static void test_decode_doc_example(void **st)
{
    (void)st;
    struct vici_iter it;
    struct vici_elem e;
    vici_iter_init(&it, doc_msg, sizeof doc_msg);
    static const struct { uint8_t type; int depth; const char *name, *value; } want[] = {
        { VICI_KEY_VALUE, 0, "key1", "value1" },
        { VICI_SECTION_START, 0, "section1", NULL },
        { VICI_SECTION_START, 1, "sub-section", NULL },
        { VICI_KEY_VALUE, 2, "key2", "value2" },
        { VICI_SECTION_END, 1, "", NULL },
        { VICI_LIST_START, 1, "list1", NULL },
        { VICI_LIST_ITEM, 1, "", "item1" },
        { VICI_LIST_ITEM, 1, "", "item2" },
        { VICI_LIST_END, 1, "", NULL },
        { VICI_SECTION_END, 0, "", NULL },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(vici_next(&it, &e), 1);
        assert_int_equal(e.type, want[i].type);
        assert_int_equal(e.depth, want[i].depth);
        assert_string_equal(e.name, want[i].name);
        if (want[i].value) {
            assert_int_equal(e.vlen, strlen(want[i].value));
            assert_memory_equal(e.value, want[i].value, e.vlen);
        } else {
            assert_null(e.value);
        }
    }
    assert_int_equal(vici_next(&it, &e), 0);
    assert_int_equal(vici_msg_check(doc_msg, sizeof doc_msg), 0);
    assert_int_equal(vici_msg_check(doc_msg, 0), 0);        /* an empty message is fine */
}

static void test_skip_section(void **st)
{
    (void)st;
    struct vici_iter it;
    struct vici_elem e;
    vici_iter_init(&it, doc_msg, sizeof doc_msg);
    assert_int_equal(vici_next(&it, &e), 1);    /* key1 */
    assert_int_equal(vici_next(&it, &e), 1);    /* section1 */
    assert_int_equal(vici_skip_section(&it), 0);
    assert_int_equal(vici_next(&it, &e), 0);    /* nothing after section1 */
}

static void test_frame_len(void **st)
{
    (void)st;
    static const uint8_t ok[4] = { 0, 8, 0, 0 };          /* 524288: the limit itself */
    static const uint8_t over[4] = { 0, 8, 0, 1 };        /* 524289 */
    static const uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
    static const uint8_t zero[4] = { 0, 0, 0, 0 };
    static const uint8_t small[4] = { 0, 0, 1, 2 };
    assert_int_equal(vici_frame_len(ok), 524288);
    assert_int_equal(vici_frame_len(over), VICI_E_TOO_BIG);
    assert_int_equal(vici_frame_len(huge), VICI_E_TOO_BIG);
    assert_int_equal(vici_frame_len(zero), VICI_E_EMPTY);
    assert_int_equal(vici_frame_len(small), 258);
}

static void test_packet_parse(void **st)
{
    (void)st;
    struct vici_packet p;
    static const uint8_t ev[] = { 7, 7, 'l', 'i', 's', 't', '-', 's', 'a', 2 };
    assert_int_equal(vici_packet_parse(ev, sizeof ev, &p), 0);
    assert_int_equal(p.type, VICI_EVENT);
    assert_string_equal(p.name, "list-sa");
    assert_int_equal(p.msglen, 1);
    assert_int_equal(p.msg[0], 2);

    static const uint8_t confirm[] = { 5 };
    assert_int_equal(vici_packet_parse(confirm, sizeof confirm, &p), 0);
    assert_int_equal(p.type, VICI_EVENT_CONFIRM);
    assert_string_equal(p.name, "");
    assert_int_equal(p.msglen, 0);

    static const uint8_t bad_type[] = { 8 };
    assert_int_equal(vici_packet_parse(bad_type, 1, &p), VICI_E_PACKET_TYPE);
    assert_int_equal(vici_packet_parse(bad_type, 0, &p), VICI_E_EMPTY);
    static const uint8_t no_name[] = { 7 };
    assert_int_equal(vici_packet_parse(no_name, 1, &p), VICI_E_SHORT);
    static const uint8_t short_name[] = { 0, 5, 'a', 'b' };
    assert_int_equal(vici_packet_parse(short_name, sizeof short_name, &p), VICI_E_SHORT);
    static const uint8_t ctl_name[] = { 3, 2, 'a', '\n' };
    assert_int_equal(vici_packet_parse(ctl_name, sizeof ctl_name, &p), VICI_E_NAME);
    static const uint8_t empty_name[] = { 3, 0 };
    assert_int_equal(vici_packet_parse(empty_name, sizeof empty_name, &p), VICI_E_NAME);
}

static void expect_err(const uint8_t *m, size_t n, int err)
{
    assert_int_equal(vici_msg_check(m, n), err);
}

static void test_malformed(void **st)
{
    (void)st;
    static const uint8_t unknown_elem[] = { 9 };
    expect_err(unknown_elem, sizeof unknown_elem, VICI_E_ELEM_TYPE);
    static const uint8_t zero_elem[] = { 0 };
    expect_err(zero_elem, sizeof zero_elem, VICI_E_ELEM_TYPE);
    static const uint8_t end_at_root[] = { 2 };
    expect_err(end_at_root, sizeof end_at_root, VICI_E_UNBALANCED);
    static const uint8_t unclosed[] = { 1, 1, 's' };
    expect_err(unclosed, sizeof unclosed, VICI_E_UNBALANCED);
    static const uint8_t list_open[] = { 4, 1, 'l', 5, 0, 0 };
    expect_err(list_open, sizeof list_open, VICI_E_LIST_OPEN);
    static const uint8_t nested_list[] = { 4, 1, 'l', 4, 1, 'm', 6, 6 };
    expect_err(nested_list, sizeof nested_list, VICI_E_IN_LIST);
    static const uint8_t kv_in_list[] = { 4, 1, 'l', 3, 1, 'k', 0, 0, 6 };
    expect_err(kv_in_list, sizeof kv_in_list, VICI_E_IN_LIST);
    static const uint8_t sect_end_in_list[] = { 1, 1, 's', 4, 1, 'l', 2 };
    expect_err(sect_end_in_list, sizeof sect_end_in_list, VICI_E_IN_LIST);
    static const uint8_t item_outside[] = { 5, 0, 0 };
    expect_err(item_outside, sizeof item_outside, VICI_E_NOT_IN_LIST);
    static const uint8_t list_end_outside[] = { 6 };
    expect_err(list_end_outside, sizeof list_end_outside, VICI_E_NOT_IN_LIST);
    static const uint8_t value_short[] = { 3, 1, 'k', 0, 5, 'a', 'b' };
    expect_err(value_short, sizeof value_short, VICI_E_SHORT);
    static const uint8_t vlen_short[] = { 3, 1, 'k', 0 };
    expect_err(vlen_short, sizeof vlen_short, VICI_E_SHORT);
    static const uint8_t name_short[] = { 1, 9, 'a' };
    expect_err(name_short, sizeof name_short, VICI_E_SHORT);
    static const uint8_t no_name_len[] = { 3 };
    expect_err(no_name_len, sizeof no_name_len, VICI_E_SHORT);
    static const uint8_t empty_key[] = { 3, 0, 0, 0 };
    expect_err(empty_key, sizeof empty_key, VICI_E_NAME);
    static const uint8_t nul_in_name[] = { 1, 2, 'a', 0, 2 };
    expect_err(nul_in_name, sizeof nul_in_name, VICI_E_NAME);
    static const uint8_t high_in_name[] = { 1, 1, 0x80, 2 };
    expect_err(high_in_name, sizeof high_in_name, VICI_E_NAME);

    /* an error sticks: the iterator does not resume after it */
    struct vici_iter it;
    struct vici_elem e;
    vici_iter_init(&it, unknown_elem, sizeof unknown_elem);
    assert_int_equal(vici_next(&it, &e), VICI_E_ELEM_TYPE);
    assert_int_equal(vici_next(&it, &e), VICI_E_ELEM_TYPE);
}

/* 16 nested sections are fine, a 17th is refused */
static void test_depth_limit(void **st)
{
    (void)st;
    uint8_t m[3 * 17 + 17];
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        m[n++] = 1; m[n++] = 1; m[n++] = 'a';
    }
    for (int i = 0; i < 16; i++)
        m[n++] = 2;
    expect_err(m, n, 0);
    n = 0;
    for (int i = 0; i < 17; i++) {
        m[n++] = 1; m[n++] = 1; m[n++] = 'a';
    }
    for (int i = 0; i < 17; i++)
        m[n++] = 2;
    expect_err(m, n, VICI_E_DEPTH);
}

/* value lengths up to 65535 and names up to 255 bytes round-trip */
static void test_long_fields(void **st)
{
    (void)st;
    size_t cap = 70000 + 300;
    uint8_t *buf = malloc(cap);
    char *val = malloc(65535);
    char name[256];
    assert_non_null(buf);
    assert_non_null(val);
    memset(val, 'v', 65535);
    memset(name, 'n', 255);
    name[255] = '\0';
    struct vici_enc e;
    vici_enc_init(&e, buf, cap, VICI_CMD_RESPONSE, NULL);
    vici_enc_kv(&e, name, val, 65535);
    long n = vici_enc_finish(&e);
    assert_int_equal(n, 4 + 1 + 1 + 1 + 255 + 2 + 65535);
    struct vici_packet p;
    assert_int_equal(vici_packet_parse(buf + 4, (size_t)n - 4, &p), 0);
    struct vici_iter it;
    struct vici_elem el;
    vici_iter_init(&it, p.msg, p.msglen);
    assert_int_equal(vici_next(&it, &el), 1);
    assert_string_equal(el.name, name);
    assert_int_equal(el.vlen, 65535);
    assert_int_equal(vici_next(&it, &el), 0);
    vici_enc_init(&e, buf, cap, VICI_CMD_RESPONSE, NULL);
    vici_enc_kv(&e, "k", val, 65536);
    assert_int_equal(vici_enc_finish(&e), VICI_E_USAGE);
    free(val);
    free(buf);
}

static void test_strerror(void **st)
{
    (void)st;
    for (int err = VICI_E_USAGE; err <= 0; err++)
        assert_string_not_equal(vici_strerror(err), "unknown error");
    assert_string_equal(vici_strerror(-99), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_doc_example),
        cmocka_unit_test(test_encode_named_request),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_decode_doc_example),
        cmocka_unit_test(test_skip_section),
        cmocka_unit_test(test_frame_len),
        cmocka_unit_test(test_packet_parse),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_long_fields),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
