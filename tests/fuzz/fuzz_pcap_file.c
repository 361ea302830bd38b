/* fuzz_pcap_file.c - libFuzzer target: the in-memory pcap file reader and
 * everything behind it.
 *
 * The input is a whole capture file.  It is copied into a buffer of
 * exactly its size (so ASan sees any read past the end), opened with
 * pcapf_open() and read to the end with pcapf_next(); every packet goes
 * through engine_packet() with a small engine, as `interactive -r` does.
 * Invariants checked (abort on violation):
 *   - a returned packet lies inside the buffer and caplen <= snaplen;
 *   - the reader's offset never goes backwards nor past the end;
 *   - after END, END again; the engine's packet count = records read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pcap_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct pcapf f;
    if (pcapf_open(&f, buf, size) != PCAPF_OPENED) {
        free(buf);
        return 0;
    }
    struct idt_config cfg;
    struct engine e;
    config_defaults(&cfg);
    cfg.max_sas = 8;
    cfg.max_tunnels = 4;
    if (engine_init(&e, &cfg, 64, 0) < 0) {
        config_free(&cfg);
        free(buf);
        return 0;
    }
    int dlt = esp_dlt_supported(f.linktype) ? f.linktype : IDT_DLT_EN10MB;
    struct pcapf_pkt pk;
    enum pcapf_next_result r;
    size_t prev = f.off;
    while ((r = pcapf_next(&f, &pk)) == PCAPF_PACKET) {
        if (pk.data < buf || pk.caplen > f.snaplen || pk.caplen > size ||
            (size_t)(pk.data - buf) > size - pk.caplen || f.off <= prev || f.off > size)
            abort();
        prev = f.off;
        engine_packet(&e, dlt, pk.ts_us, pk.data, pk.caplen, pk.len);
    }
    if (r == PCAPF_END && pcapf_next(&f, &pk) != PCAPF_END)
        abort();
    if (r == PCAPF_ERROR && f.err[0] == '\0')
        abort();
    engine_finish(&e);
    if (e.st.packets != f.records)
        abort();
    engine_free(&e);
    config_free(&cfg);
    free(buf);
    return 0;
}
