/* pcap_file.h - zero-copy reader of classic pcap capture files held in
 * memory (the offline analyser maps the file).  Pure module: no I/O, no
 * allocation.
 *
 * Only the classic format, version 2.4, is read here: microsecond
 * (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magics, in either byte order.
 * Everything else (pcapng, modified/Kuznetzov pcap, archaic versions) is
 * reported as PCAPF_NOT_CLASSIC and left to libpcap.
 *
 * Record validation follows libpcap's savefile reader, so that a file is
 * accepted or refused the same way by both paths:
 *  - a partial record header at the end of the file is an error;
 *  - a captured length above 262144 (libpcap's MAXIMUM_SNAPLEN) is an
 *    error (a corrupt or hostile length);
 *  - a captured length above the file's snap length yields only the
 *    first snap-length bytes (the rest is skipped);
 *  - captured bytes missing at the end of the file are an error.
 * Timestamps are returned in microseconds (nanosecond files are
 * truncated to microseconds, as libpcap does by default).
 */
#ifndef IDT_PCAP_FILE_H
#define IDT_PCAP_FILE_H

#include <stddef.h>
#include <stdint.h>

#define PCAPF_MAX_SNAPLEN 262144u

enum pcapf_open_result {
    PCAPF_OPENED = 0,
    PCAPF_NOT_CLASSIC = -1,     /* not a classic 2.4 pcap: use libpcap */
};

enum pcapf_next_result {
    PCAPF_PACKET = 1,
    PCAPF_END = 0,
    PCAPF_ERROR = -1,           /* corrupt or truncated; see pcapf.err */
};

struct pcapf {
    const uint8_t *buf;
    size_t len, off;
    uint32_t snaplen;       /* effective: 0 or > max in the header -> max */
    int linktype;           /* as a libpcap DLT value (LINKTYPE_RAW -> 12) */
    uint8_t swapped, nsec;
    uint64_t records;       /* records returned so far */
    char err[160];
};

struct pcapf_pkt {
    uint64_t ts_us;
    const uint8_t *data;
    uint32_t caplen;        /* bytes at data */
    uint32_t len;           /* original length on the wire */
};

/* Read the file header of buf[0..len).  The buffer must stay valid for
 * the reader's life. */
enum pcapf_open_result pcapf_open(struct pcapf *f, const void *buf, size_t len);

/* Next record.  Never reads outside buf[0..len). */
enum pcapf_next_result pcapf_next(struct pcapf *f, struct pcapf_pkt *pkt);

#endif
