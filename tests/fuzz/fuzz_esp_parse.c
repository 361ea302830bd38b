/* fuzz_esp_parse.c - libFuzzer target for esp_parse().
 *
 * Input layout:
 *   byte 0      link type selector (index into dlts[], modulo; entry 7
 *               is an unsupported link type, the router link types follow
 *               it so that the older seeds keep their link type)
 *   bytes 1..2  wirelen delta, big endian: wirelen = caplen + delta
 *   bytes 3..   the captured frame (caplen = size - 3)
 *
 * libFuzzer hands us a heap buffer of exactly `size` bytes, so the frame
 * ends exactly at the end of an allocation and ASan sees any over-read.
 *
 * Build:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       src/esp_parse.c tests/fuzz/fuzz_esp_parse.c -o fuzz_esp_parse
 */
#include <stddef.h>
#include <stdint.h>

#include "esp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int dlts[] = {
    IDT_DLT_EN10MB, IDT_DLT_RAW, IDT_LINKTYPE_RAW, IDT_DLT_LINUX_SLL,
    IDT_DLT_IPV4, IDT_DLT_IPV6, IDT_DLT_LINUX_SLL2,
    147,                    /* DLT_USER0: not supported */
    IDT_DLT_NULL, IDT_DLT_LOOP, IDT_DLT_PPP, IDT_DLT_PPP_SERIAL, IDT_DLT_C_HDLC,
};

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esp_pkt out;
    enum esp_reason reason = (enum esp_reason)-1;
    enum esp_verdict v;
    int dlt;
    uint32_t caplen, wirelen;

    if (size < 3 || size - 3 > UINT32_MAX - 65535u)
        return 0;
    dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    caplen = (uint32_t)(size - 3);
    wirelen = caplen + (((uint32_t)data[1] << 8) | data[2]);

    v = esp_parse(dlt, caplen ? data + 3 : NULL, caplen, wirelen, &out, &reason);

    /* invariants that hold for every input */
    CHECK(v == ESP_OK || v == ESP_IGNORED || v == ESP_MALFORMED);
    CHECK(esp_dlt_supported(dlt) == (dlt != 147));
    if (!esp_dlt_supported(dlt))
        CHECK(v == ESP_IGNORED && reason == ESP_R_LINKTYPE);
    CHECK((v == ESP_OK) == (reason == ESP_R_NONE));
    if (v == ESP_OK) {
        CHECK(out.family == 4 || out.family == 6);
        CHECK(out.spi >= 256);
        CHECK(out.ip_len <= wirelen);
        CHECK(out.ip_len >= (out.family == 4 ? 20u : 40u) + 8u);
        if (out.encap == ESP_ENCAP_ESP) {
            CHECK(out.sport == 0 && out.dport == 0);
        } else {
            CHECK(out.encap == ESP_ENCAP_UDP);
            CHECK(out.sport == 4500 || out.dport == 4500);
        }
        if (out.family == 4)
            for (int i = 4; i < 16; i++)
                CHECK(out.src[i] == 0 && out.dst[i] == 0);
        /* deterministic: the same input gives the same result */
        {
            struct esp_pkt again;
            enum esp_reason r2;
            CHECK(esp_parse(dlt, data + 3, caplen, wirelen, &again, &r2) == ESP_OK);
            CHECK(again.spi == out.spi && again.seq == out.seq &&
                  again.ip_len == out.ip_len && again.encap == out.encap);
        }
    }
    return 0;
}
