/* fuzz_state.c - libFuzzer target: the tunnel state file parser
 * (src/tunnel_ids.c) and loading it into a tunnel table with configured
 * tunnels (reconcile).  abort() when an accepted input does not round-trip:
 * format(parse(x)) must parse again and format to the same text, and every
 * rejection must come with an error message.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *          src/tunnel_ids.c src/tunnel_table.c src/alert.c src/config.c \
 *          tests/fuzz/fuzz_state.c $(pkg-config --cflags --libs libconfig)
 */
#include "tunnel_ids.h"
#include "tunnel_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct text {
    char *s;
    size_t n, cap;
};

static int put(void *ctx, const char *s, size_t n)
{
    struct text *t = ctx;
    if (t->n + n + 1 > t->cap) {
        size_t cap = (t->n + n + 1) * 2;
        char *p = realloc(t->s, cap);
        if (!p)
            return -1;
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    err[0] = '\0';
    struct tunnel_ids *m = tunnel_ids_parse((const char *)data, size, 16, err, sizeof err);
    if (!m) {
        if (!err[0])
            abort();
        return 0;
    }
    struct text a = {0}, b = {0};
    if (tunnel_ids_format(m, put, &a) < 0)
        abort();
    struct tunnel_ids *m2 = tunnel_ids_parse(a.s, a.n, 16, err, sizeof err);
    if (!m2 || tunnel_ids_format(m2, put, &b) < 0 || a.n != b.n || memcmp(a.s, b.s, a.n) != 0)
        abort();

    /* reconcile with configured tunnels that take index 1, the name
     * "tunnel-2" and the pair 10.0.0.1-10.0.0.2 */
    struct idt_config cfg;
    config_defaults(&cfg);
    struct idt_tunnel_conf tc[2];
    memset(tc, 0, sizeof tc);
    strcpy(tc[0].name, "tunnel-2");
    tc[0].index = 1;
    idt_addr_parse("192.0.2.1", &tc[0].local);
    idt_addr_parse("192.0.2.2", &tc[0].remote);
    strcpy(tc[1].name, "x");
    tc[1].index = 7;
    idt_addr_parse("10.0.0.1", &tc[1].local);
    idt_addr_parse("10.0.0.2", &tc[1].remote);
    for (int i = 0; i < 2; i++)
        tc[i].alert_lost = tc[i].alert_interval = tc[i].alert_ppm = -1;
    cfg.tunnels = tc;
    cfg.ntunnels = 2;
    struct tunnel_table *t = tunnel_table_create(&cfg, 16, 0);
    if (t) {
        if (tunnel_table_load_ids(t, a.s, a.n, err, sizeof err) < 0)
            abort();
        struct tunnel_ids *ids = tunnel_table_ids(t);
        for (struct tunnel_id *id = tunnel_ids_first(ids); id; id = tunnel_ids_next(ids, id)) {
            if (id->index == 1 || id->index == 7 || !strcmp(id->name, "tunnel-2") ||
                !strcmp(id->name, "x") || id->index >= ids->next_index)
                abort();
        }
        tunnel_table_destroy(t);
    }
    tunnel_ids_destroy(m);
    tunnel_ids_destroy(m2);
    free(a.s);
    free(b.s);
    return 0;
}
