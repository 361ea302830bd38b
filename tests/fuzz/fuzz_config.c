/* fuzz_config.c - libFuzzer target for config_load_string().
 *
 * The input (NUL-terminated copy) is loaded as a configuration text.
 * Besides the sanitizers, two properties are checked:
 *   - on failure, the error is one non-empty printable line starting with
 *     the file name given, and the struct is left empty;
 *   - on success, config_print() output loads again and prints the same
 *     text (round trip).
 *
 * Build and run (libconfig itself is not instrumented):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       src/config.c src/config_tunnels.c src/config_value.c src/config_scan.c \
 *       src/addr.c tests/fuzz/fuzz_config.c \
 *       $(pkg-config --cflags --libs libconfig) -o fuzz_config
 *   mkdir -p corpus && cp conf/ipsecdiagtool.conf corpus/
 *   ./fuzz_config -max_total_time=60 corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static char *print_config(const struct idt_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f != NULL);
    config_print(c, f);
    CHECK(fclose(f) == 0);
    CHECK(buf != NULL);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct idt_config c;
    char err[512];
    if (config_load_string(text, "fuzz.conf", &c, err, sizeof err) == 0) {
        char *p1 = print_config(&c);
        struct idt_config c2;
        char err2[512];
        CHECK(config_load_string(p1, "printed", &c2, err2, sizeof err2) == 0);
        char *p2 = print_config(&c2);
        CHECK(strcmp(p1, p2) == 0);
        CHECK(c2.ntunnels == c.ntunnels);
        for (size_t i = 0; i < c.ntunnels; i++) {
            CHECK(config_tunnel_by_name(&c, c.tunnels[i].name) == &c.tunnels[i]);
            CHECK(idt_addr_eq(&c.tunnels[i].local, &c2.tunnels[i].local));
            CHECK(c.tunnels[i].mtu.min <= c.tunnels[i].mtu.max);
        }
        free(p1);
        free(p2);
        config_free(&c2);
    } else {
        size_t n = strlen(err);
        CHECK(n > 0);
        CHECK(strncmp(err, "fuzz.conf", 9) == 0);
        for (size_t i = 0; i < n; i++)
            CHECK((unsigned char)err[i] >= 0x20 && err[i] != 0x7f);
        CHECK(c.ntunnels == 0 && c.tunnels == NULL);
    }
    config_free(&c);
    config_free(&c); /* safe twice */
    free(text);
    return 0;
}
