/* fuzz_vici.c - libFuzzer target for the VICI decoder (src/vici_msg.c) and
 * the list-sa/event parser (src/vici_sas.c).
 *
 * Input: one VICI packet without its length prefix (type, name, message),
 * as the client hands it over after reading the prefix.  Checks:
 *   - vici_packet_parse / vici_msg_check never read out of bounds;
 *   - a message the decoder accepts is encoded back by vici_enc_* to the
 *     same bytes (round trip);
 *   - vici_sas_add_list_sa / vici_sas_add_event keep the builder within its
 *     bounds, and a view built from it is freed clean (LeakSanitizer).
 *
 * Build: see tests/fuzz/run_fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vici_msg.h"
#include "vici_sas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static uint8_t out[VICI_MAX_PACKET + 4];

static void round_trip(const struct vici_packet *p, const uint8_t *data, size_t size)
{
    struct vici_enc e;
    struct vici_iter it;
    struct vici_elem el;
    int r;
    vici_enc_init(&e, out, sizeof out, p->type, p->name);
    vici_iter_init(&it, p->msg, p->msglen);
    while ((r = vici_next(&it, &el)) > 0) {
        switch (el.type) {
        case VICI_SECTION_START: vici_enc_section_start(&e, el.name); break;
        case VICI_SECTION_END: vici_enc_section_end(&e); break;
        case VICI_KEY_VALUE: vici_enc_kv(&e, el.name, el.value, el.vlen); break;
        case VICI_LIST_START: vici_enc_list_start(&e, el.name); break;
        case VICI_LIST_ITEM: vici_enc_list_item(&e, el.value, el.vlen); break;
        case VICI_LIST_END: vici_enc_list_end(&e); break;
        default: CHECK(0);
        }
    }
    CHECK(r == 0);
    long n = vici_enc_finish(&e);
    CHECK(n == (long)size + 4);
    CHECK(memcmp(out + 4, data, size) == 0);
    uint8_t pre[4];
    memcpy(pre, out, 4);
    CHECK(vici_frame_len(pre) == (long)size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vici_packet p;
    char err[256];
    if (size >= 4)
        (void)vici_frame_len(data);
    if (vici_packet_parse(data, size, &p) < 0)
        return 0;
    int ok = vici_msg_check(p.msg, p.msglen);
    if (ok == 0)
        round_trip(&p, data, size);

    struct vici_sas b;
    vici_sas_init(&b);
    int r1 = vici_sas_add_list_sa(&b, p.msg, p.msglen, err, sizeof err);
    int r2 = vici_sas_add_event(&b, p.type == VICI_EVENT ? p.name : "child-rekey", p.msg,
                                p.msglen, err, sizeof err);
    CHECK(ok == 0 || r1 == VICI_SAS_MALFORMED);
    CHECK(ok != 0 || r1 != VICI_SAS_MALFORMED);
    (void)r2;
    CHECK(b.nsa <= VICI_SAS_MAX_IKE && b.nchild <= VICI_SAS_MAX_CHILD);
    for (size_t i = 0; i < b.nsa; i++)
        CHECK(b.sa[i].first_child + b.sa[i].nchild <= b.nchild &&
              memchr(b.sa[i].name, 0, sizeof b.sa[i].name));
    struct ike_view *v = vici_sas_view(&b, 1, 1);
    if (v) {
        const struct ike_sa *owner;
        (void)ike_view_find_spi_in(v, 1, &owner);
        ike_view_unref(v);
    }
    vici_sas_free(&b);
    return 0;
}
