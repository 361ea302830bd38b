/* fuzz_engine.c - libFuzzer target: parse plus accounting.
 *
 * The input is a sequence of frames, each prefixed by one byte selecting
 * the link type and two bytes of length; every frame goes through
 * engine_packet() (parser, SA table, replay window, tunnels, alert policy)
 * with a timestamp that advances by a fuzzer-chosen amount, so that ticks,
 * SA expiry and tunnel ageing run too.  At the end engine_finish() runs and
 * the engine's totals must add up:
 *   packets = esp + ignored + malformed
 *   esp = sum of SA "received" + untracked + received of expired SAs' tunnels ...
 * (checked as: the tunnels' inbound+outbound received == esp - untracked),
 * and per SA: received - late - duplicate - suspect + lost == H - B + 1.
 * The SA table policy's counts must agree: the tunnels' active and
 * tentative SAs with the table's entries and their flags.
 * A small table (max_sas 8, max_tunnels 4) makes the caps and expiry easy
 * to reach.  Build: see tests/fuzz/run_fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static const int dlts[] = { IDT_DLT_EN10MB, IDT_DLT_RAW, IDT_LINKTYPE_RAW, IDT_DLT_LINUX_SLL,
                            IDT_DLT_IPV4, IDT_DLT_IPV6, IDT_DLT_LINUX_SLL2 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct idt_config cfg;
    struct engine e;

    config_defaults(&cfg);
    cfg.max_sas = 8;
    cfg.max_tunnels = 4;
    cfg.sa_idle_timeout = 10;
    cfg.alert_lost = 3;
    cfg.alert_interval = 2;
    if (engine_init(&e, &cfg, size ? 32 + data[0] % 200 : 0, 0) < 0)
        return 0;
    if (size)
        data++, size--;
    uint64_t ts = 1000000;
    while (size >= 4) {
        int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
        size_t len = (size_t)data[1] << 8 | data[2];
        ts += (uint64_t)(data[3] & 0x7f) * 250000u;   /* up to ~32 s per frame */
        uint32_t extra = data[3] >> 7;                 /* wire length beyond caplen */
        data += 4;
        size -= 4;
        if (len > size)
            len = size;
        /* copy so that ASan sees any read past caplen */
        uint8_t *frame = malloc(len ? len : 1);
        if (!frame)
            break;
        memcpy(frame, data, len);
        engine_packet(&e, dlt, ts, frame, (uint32_t)len, (uint32_t)len + extra * 64u);
        free(frame);
        data += len;
        size -= len;
    }
    engine_tick(&e, ts);
    engine_finish(&e);

    /* per SA after finish: every number in [B, H] accepted once or lost
     * (a tentative far jump was dismissed into suspect) */
    uint32_t cur = 0;
    const struct sa_entry *ent;
    while ((ent = sa_table_next(e.sas, &cur)) != NULL) {
        const struct rw_state *rw = &ent->rw;
        if (rw->nheld != 0 || (rw->started && rw->received - rw->late - rw->duplicate -
                               rw->suspect + rw->lost != rw->high - rw->base + 1u))
            abort();
    }

    if (e.st.packets != e.st.esp + e.st.ignored + e.st.malformed)
        abort();
    uint64_t received = 0;
    uint32_t n = tunnel_table_slots(e.tunnels);
    for (uint32_t s = 0; s < n; s++) {
        const struct tunnel *tu = tunnel_table_at(e.tunnels, s);
        if (tu)
            received += tu->in.received + tu->out.received;
    }
    /* packets of removed (aged-out) tunnels are gone from the table, so the
     * tunnels hold at most what was tracked, and exactly that without ageing */
    if (received > e.st.esp - e.st.untracked_sas - e.st.untracked_tunnels)
        abort();
    /* SA table policy (engine.h): the tunnels' active and tentative SAs
     * are the table's entries and tentative flags */
    uint32_t active = 0, tentative = 0, tent_entries = 0;
    cur = 0;
    for (uint32_t s = 0; s < n; s++) {
        const struct tunnel *tu = tunnel_table_at(e.tunnels, s);
        if (tu) {
            active += tu->active_sas;
            tentative += tu->tentative_sas;
            if (tu->tentative_sas > tu->active_sas)
                abort();
        }
    }
    const struct sa_entry *sa;
    while ((sa = sa_table_next(e.sas, &cur)) != NULL)
        tent_entries += (sa->flags & SA_F_TENTATIVE) != 0;
    if (active != sa_table_count(e.sas) || tentative != tent_entries ||
        tent_entries != sa_table_tentative_count(e.sas) || sa_table_count(e.sas) > cfg.max_sas ||
        sa_table_open_count(e.sas) > sa_table_count(e.sas))
        abort();
    engine_free(&e);
    config_free(&cfg);
    return 0;
}
