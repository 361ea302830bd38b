#!/usr/bin/python3
"""espgen - synthetic IPsec ESP capture generator with ground truth.

Library + CLI.  Writes classic pcap files (microsecond timestamps) with
ESP / ESP-in-UDP traffic over several link types, plus noise and
malformed frames, and computes the exact report that ipsecdiagtool must
produce for the file, from a plain Python reference model of RFC 4303
replay-window accounting (see ReplayModel).

Only the standard library is used (no scapy): every header is built with
struct.

CLI:
  espgen.py --scenario NAME --out FILE.pcap --truth FILE.json
            [--config-out FILE.conf] [--seed N] [--packets N] [--linktype KIND]
  espgen.py --list
--linktype re-frames the scenario's IP packets for another link type (see
Link.DLT; the IP packets and hence the truth stay the same, except where
a snap length cuts a different number of ESP headers).
The truth JSON holds {"scenario", "window", "config", "args", "expected"}
where "expected" is the JSON report (without "alerts") and "args" the
extra command-line arguments (e.g. --window) the scenario needs.
"""

import argparse
import ipaddress
import json
import random
import struct
import sys

# --------------------------------------------------------------------------
# constants

DLT_NULL = 0
DLT_EN10MB = 1
DLT_PPP = 9
DLT_PPP_SERIAL = 50         # LINKTYPE_PPP_HDLC
LINKTYPE_RAW = 101
DLT_C_HDLC = 104
DLT_LOOP = 108
DLT_LINUX_SLL = 113
DLT_LINUX_SLL2 = 276

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8
ETH_QINQ_OLD = 0x9100

PPP_IPV4 = 0x0021
PPP_IPV6 = 0x0057
PPP_LCP = 0xC021
BSD_AF_INET = 2
BSD_AF_APPLETALK = 16

IPPROTO_HOPOPTS = 0
IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_ROUTING = 43
IPPROTO_FRAGMENT = 44
IPPROTO_ESP = 50
IPPROTO_NONE = 59
IPPROTO_DSTOPTS = 60

NATT_PORT = 4500
MOD32 = 1 << 32
HALF32 = 1 << 31

KIND_ESP = "esp"
KIND_IGNORED = "ignored"
KIND_MALFORMED = "malformed"

BASE_TS_US = 1_700_000_000 * 1_000_000


# --------------------------------------------------------------------------
# checksums and addresses

def inet_checksum(data):
    """RFC 1071 one's complement sum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip(a):
    return a if isinstance(a, (ipaddress.IPv4Address, ipaddress.IPv6Address)) \
        else ipaddress.ip_address(a)


def addr_key(a):
    """Ordering of addresses: family first (IPv4 < IPv6), then bytes."""
    a = ip(a)
    return (a.version, a.packed)


# --------------------------------------------------------------------------
# pcap writer

class PcapWriter:
    """Classic pcap, microsecond timestamps, little endian (big endian
    with big_endian=True, as a big-endian host writes it)."""

    def __init__(self, linktype=DLT_EN10MB, snaplen=262144, big_endian=False):
        self.linktype = linktype
        self.snaplen = snaplen
        self.end = ">" if big_endian else "<"
        self.chunks = [struct.pack(self.end + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0,
                                   snaplen, linktype)]
        self.count = 0

    def add(self, ts_us, frame):
        wirelen = len(frame)
        caplen = min(wirelen, self.snaplen)
        self.chunks.append(struct.pack(self.end + "IIII", ts_us // 1_000_000,
                                       ts_us % 1_000_000, caplen, wirelen))
        self.chunks.append(frame[:caplen])
        self.count += 1

    def getvalue(self):
        return b"".join(self.chunks)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.getvalue())


def read_pcap(path):
    """Minimal reader (for self-checks) of PcapWriter's files, either byte
    order: returns (linktype, snaplen, [(ts_us, caplen, wirelen, data)])."""
    with open(path, "rb") as f:
        buf = f.read()
    end = "<" if buf[:4] == struct.pack("<I", 0xA1B2C3D4) else ">"
    magic, _vmaj, _vmin, _tz, _sig, snaplen, lt = struct.unpack_from(end + "IHHiIII", buf, 0)
    assert magic == 0xA1B2C3D4
    off = 24
    out = []
    while off < len(buf):
        sec, usec, caplen, wirelen = struct.unpack_from(end + "IIII", buf, off)
        off += 16
        out.append((sec * 1_000_000 + usec, caplen, wirelen, buf[off:off + caplen]))
        off += caplen
    return lt, snaplen, out


def convert_pcap(src, dst, fmt):
    """Rewrite a classic microsecond pcap (as written by PcapWriter) in
    another capture-file format, record for record:
      "be"      classic, big-endian, microseconds
      "nsec"    classic, little-endian, nanoseconds (0xa1b23c4d)
      "nsec-be" classic, big-endian, nanoseconds
      "pcapng"  pcapng: SHB, one IDB (if_tsresol default = microseconds),
                one Enhanced Packet Block per record
    Timestamps keep their microsecond value (nanosecond files carry
    usec * 1000 + 999, which readers truncate back to usec)."""
    lt, snaplen, recs = read_pcap(src)
    out = []
    if fmt == "pcapng":
        def block(btype, body):
            body += b"\0" * (-len(body) % 4)
            n = 12 + len(body)
            return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
        out.append(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        out.append(block(1, struct.pack("<HHI", lt, 0, snaplen)))
        for ts, cap, wire, data in recs:
            out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF,
                                            cap, wire) + data))
    else:
        end = ">" if fmt.endswith("be") else "<"
        nsec = fmt.startswith("nsec")
        out.append(struct.pack(end + "IHHiIII", 0xA1B23C4D if nsec else 0xA1B2C3D4,
                               2, 4, 0, 0, snaplen, lt))
        for ts, cap, wire, data in recs:
            frac = (ts % 1_000_000) * 1000 + 999 if nsec else ts % 1_000_000
            out.append(struct.pack(end + "IIII", ts // 1_000_000, frac, cap, wire) + data)
    with open(dst, "wb") as f:
        f.write(b"".join(out))
    return len(recs)


# --------------------------------------------------------------------------
# L3/L4 builders

def ipv4_header(src, dst, proto, payload_len, *, ident=0, df=False, mf=False,
                frag_offset=0, ttl=64, ihl=5, total_length=None, tos=0):
    """20-byte IPv4 header (ihl only changes the field, not the size)."""
    if total_length is None:
        total_length = 20 + payload_len
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag_offset & 0x1FFF)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl & 0xF), tos,
                      total_length & 0xFFFF, ident & 0xFFFF, flags, ttl, proto,
                      0, ip(src).packed, ip(dst).packed)
    csum = inet_checksum(hdr)
    return hdr[:10] + struct.pack("!H", csum) + hdr[12:]


def ipv4(src, dst, proto, payload, **kw):
    return ipv4_header(src, dst, proto, len(payload), **kw) + payload


def ipv6_ext(kind, nh, **kw):
    """One IPv6 extension header of type kind: 'hop', 'dst', 'route', 'frag'."""
    if kind in ("hop", "dst"):
        # 8 bytes: next header, hdr ext len 0, PadN option (type 1, len 4)
        return struct.pack("!BBBB4s", nh, 0, 1, 4, b"\0" * 4)
    if kind == "route":
        # type 0, segments left 0, one address (hdr ext len = 2)
        return struct.pack("!BBBBI", nh, 2, 0, 0, 0) + \
            ipaddress.ip_address("2001:db8:ffff::1").packed
    if kind == "frag":
        off = kw.get("offset", 0)
        more = kw.get("more", False)
        return struct.pack("!BBHI", nh, 0, ((off & 0x1FFF) << 3) | (1 if more else 0),
                           kw.get("ident", 0x12345678))
    raise ValueError(kind)


EXT_PROTO = {"hop": IPPROTO_HOPOPTS, "dst": IPPROTO_DSTOPTS,
             "route": IPPROTO_ROUTING, "frag": IPPROTO_FRAGMENT}


def ipv6_ext_chain(exts, final_nh):
    """exts: list of kind or (kind, kwargs).  Returns (first_nh, bytes)."""
    out = b""
    nh = final_nh
    for e in reversed(exts):
        kind, kw = (e, {}) if isinstance(e, str) else e
        out = ipv6_ext(kind, nh, **kw) + out
        nh = EXT_PROTO[kind]
    return nh, out


def ipv6(src, dst, nh, payload, exts=(), hlim=64, payload_length=None):
    first, chain = ipv6_ext_chain(list(exts), nh)
    body = chain + payload
    plen = len(body) if payload_length is None else payload_length
    return struct.pack("!IHBB16s16s", 0x60000000, plen & 0xFFFF, first, hlim,
                       ip(src).packed, ip(dst).packed) + body


def udp(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    s, d = ip(src), ip(dst)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, IPPROTO_UDP, length)
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", length, IPPROTO_UDP)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    csum = inet_checksum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, csum) + payload


def esp(spi, seq, payload):
    return struct.pack("!II", spi & 0xFFFFFFFF, seq & 0xFFFFFFFF) + payload


def ip_header_length(pkt):
    """The outer IP length the packet's header states (IPv4 total length;
    IPv6 40 + payload length): what octet counters add up."""
    if pkt[0] >> 4 == 4:
        return struct.unpack("!H", pkt[2:4])[0]
    return 40 + struct.unpack("!H", pkt[4:6])[0]


def ip_packet(src, dst, proto, payload, exts=(), **kw):
    """IPv4 or IPv6 packet depending on the address family; returns
    (bytes, header_length) where header_length covers IPv6 ext headers."""
    if ip(src).version == 4:
        return ipv4(src, dst, proto, payload, **kw), 20
    pkt = ipv6(src, dst, proto, payload, exts=exts)
    return pkt, len(pkt) - len(payload)


# --------------------------------------------------------------------------
# L2 builders

class Link:
    """Link-layer framing.  kind: a key of DLT.
    vlans (Ethernet only): a list of VLAN ids (1 tag = 802.1Q, 2 = QinQ
    with TPIDs 0x88a8, 0x8100), or of (tpid, id) pairs, outermost first,
    for any TPIDs and any number of tags.
    Router link types (no VLAN tags; a non-IP Ethertype becomes the link's
    own non-IP protocol):
      null              DLT_NULL, address family little endian (a
                        little-endian host), AF_INET6 30 (macOS)
      null-be           DLT_NULL, big endian (a big-endian host: the file
                        is big endian too), AF_INET6 28 (FreeBSD)
      loop              DLT_LOOP, network order, AF_INET6 24 (OpenBSD)
      ppp, ppp-serial   DLT_PPP / DLT_PPP_SERIAL: ff 03, 2-byte protocol
                        (non-IP: LCP)
      ppp-serial-chdlc  DLT_PPP_SERIAL carrying Cisco HDLC framing
      chdlc             DLT_C_HDLC: address (0f unicast for IP, 8f
                        broadcast otherwise), control 00, Ethertype"""

    DLT = {"eth": DLT_EN10MB, "sll": DLT_LINUX_SLL, "sll2": DLT_LINUX_SLL2,
           "raw": LINKTYPE_RAW, "null": DLT_NULL, "null-be": DLT_NULL,
           "loop": DLT_LOOP, "ppp": DLT_PPP, "ppp-serial": DLT_PPP_SERIAL,
           "ppp-serial-chdlc": DLT_PPP_SERIAL, "chdlc": DLT_C_HDLC}
    AF_INET6 = {"null": 30, "null-be": 28, "loop": 24}

    def __init__(self, kind="eth", pad=True):
        self.kind = kind
        self.dlt = self.DLT[kind]
        self.pad = pad
        self.big_endian_file = kind == "null-be"

    def header(self, ethertype, vlans=(), outgoing=False):
        if self.kind == "eth":
            h = bytes.fromhex("020000000002") + bytes.fromhex("020000000001")
            tags = list(vlans)
            if tags and isinstance(tags[0], tuple):
                for tpid, vid in tags:
                    h += struct.pack("!HH", tpid, vid & 0xFFF)
            elif len(tags) == 1:
                h += struct.pack("!HH", ETH_VLAN, tags[0] & 0xFFF)
            elif len(tags) == 2:
                h += struct.pack("!HHHH", ETH_QINQ, tags[0] & 0xFFF,
                                 ETH_VLAN, tags[1] & 0xFFF)
            elif tags:
                raise ValueError("at most 2 VLAN tags")
            return h + struct.pack("!H", ethertype)
        if self.kind == "sll":
            pkttype = 4 if outgoing else 0
            return struct.pack("!HHH8sH", pkttype, 1, 6,
                               bytes.fromhex("0200000000010000"), ethertype)
        if self.kind == "sll2":
            pkttype = 4 if outgoing else 0
            return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, pkttype, 6,
                               bytes.fromhex("0200000000010000"))
        if self.kind == "raw":
            return b""
        if self.kind in self.AF_INET6:
            af = {ETH_IPV4: BSD_AF_INET, ETH_IPV6: self.AF_INET6[self.kind]}.get(
                ethertype, BSD_AF_APPLETALK)
            return struct.pack("<I" if self.kind == "null" else ">I", af)
        if self.kind in ("ppp", "ppp-serial"):
            proto = {ETH_IPV4: PPP_IPV4, ETH_IPV6: PPP_IPV6}.get(ethertype, PPP_LCP)
            return struct.pack("!BBH", 0xFF, 0x03, proto)
        if self.kind in ("chdlc", "ppp-serial-chdlc"):
            addr = 0x0F if ethertype in (ETH_IPV4, ETH_IPV6) else 0x8F
            return struct.pack("!BBH", addr, 0x00, ethertype)
        raise ValueError(self.kind)

    def frame(self, ipbytes, ethertype=None, vlans=(), outgoing=False):
        if ethertype is None:
            ethertype = ETH_IPV4 if ipbytes and ipbytes[0] >> 4 == 4 else ETH_IPV6
        f = self.header(ethertype, vlans, outgoing) + ipbytes
        if self.kind == "eth" and self.pad and len(f) < 60:
            f += b"\0" * (60 - len(f))
        return f


# --------------------------------------------------------------------------
# reference model (ground truth)

class ReplayModel:
    """RFC 4303 replay-window accounting, per SA, with Python ints.

    B baseline (first inferred number), H highest, W window.  The window
    is [H-W+1, H]; `win` holds the numbers received inside it.

    Tentative far jumps (the rule of src/replay_window.h): a packet more
    than W ahead of H is held; two further distinct packets within W-1 of
    it confirm it (the held ones are then accounted as if accepted on
    arrival, then the confirming one); a copy of a held packet is a
    duplicate; meanwhile a packet at or behind H is late until H moves
    once, normal after; H coming within W of the held one releases it
    (accounted normally, now); another far jump outside its zone, H
    moving W past where it was held, or finish() dismisses it: its held
    packets count as suspect.
    """

    def __init__(self, window=64):
        self.W = window
        self.started = False
        self.B = self.H = 0
        self.received = self.lost = self.late = self.duplicates = self.reordered = 0
        self.suspect = 0
        self.win = set()
        self.held = []              # 64-bit numbers held, arrival order
        self.held_h = 0             # H when held[0] was held
        self.finished = False

    def infer(self, x, ref=None):
        ref = self.H if ref is None else ref
        d = (x - (ref % MOD32)) % MOD32
        if d == 0:
            return ref
        if d < HALF32:
            return ref + d
        return ref - (MOD32 - d)            # may be negative: below baseline

    def _count_in(self, lo, hi):
        """How many numbers of win lie in [lo, hi]."""
        if hi - lo + 1 <= len(self.win):
            return sum(1 for n in range(lo, hi + 1) if n in self.win)
        return sum(1 for n in self.win if lo <= n <= hi)

    def _accept(self, s):
        """The plain RFC 4303 step for the 64-bit number s (not counted
        as received).  Returns its kind."""
        if s > self.H:
            # every number in [max(B, H-W+1), s-W] leaves the window now
            # (or is jumped over); those never received are lost.
            lo = max(self.B, self.H - self.W + 1)
            hi = s - self.W
            if hi >= lo:
                self.lost += (hi - lo + 1) - self._count_in(lo, hi)
                if hi - lo + 1 <= len(self.win):
                    for n in range(lo, hi + 1):
                        self.win.discard(n)
                else:
                    self.win = {n for n in self.win if n > hi}
            self.H = s
            self.win.add(s)
            return "next"
        if s < self.B or s < self.H - self.W + 1:
            self.late += 1
            return "late"
        if s in self.win:
            self.duplicates += 1
            return "duplicate"
        self.win.add(s)
        self.reordered += 1
        return "reordered"

    def _unhold(self):
        held, self.held = self.held, []
        for h in held:
            self._accept(h)

    def update(self, x):
        """Account one packet with 32-bit wire value x.  Returns its kind."""
        assert not self.finished
        self.received += 1
        if not self.started:
            self.started = True
            self.B = self.H = x
            self.win = {x}
            return "new"
        if self.held:
            t = self.infer(x, self.held[0])
            if abs(t - self.held[0]) < self.W:
                if t in self.held:
                    self.duplicates += 1
                    return "duplicate"
                if len(self.held) == 1:
                    self.held.append(t)
                    return "held"
                self._unhold()                  # confirmed
                return self._accept(t)
        s = self.infer(x)
        if s > self.H + self.W:
            self.suspect += len(self.held)      # replaces a held one
            self.held = [s]
            self.held_h = self.H
            return "held"
        if self.held and s <= self.H and self.H == self.held_h:
            self.late += 1
            return "late"
        h0 = self.H
        kind = self._accept(s)
        if self.held and self.H > h0:
            if self.held[0] - self.H <= self.W:
                self._unhold()                  # the old stream reached it
            elif self.H - self.held_h >= self.W:
                self.suspect += len(self.held)  # the old stream went on
                self.held = []
        return kind

    def finish(self):
        """End of file: a tentative jump is dismissed; the holes still
        inside the window are lost."""
        if self.started and not self.finished:
            self.suspect += len(self.held)
            self.held = []
            lo = max(self.B, self.H - self.W + 1)
            self.lost += (self.H - lo + 1) - self._count_in(lo, self.H)
        self.finished = True

    def counters(self):
        return {"received": self.received, "lost": self.lost, "late": self.late,
                "duplicates": self.duplicates, "reordered": self.reordered,
                "suspect": self.suspect}


def brute_force_counts(wire_seqs, W=64):
    """A second, deliberately naive formulation of the same definitions,
    for cross-checking ReplayModel on small streams: a number is lost iff
    it is in [B, H_end] and no packet carrying it was accepted (arrived
    while inside the window, not late, not duplicate).  The tentative
    far jump rule is applied as a filter deciding for every packet
    whether and when it reaches that accounting."""
    B = H = None
    accepted = set()
    c = {"received": 0, "lost": 0, "late": 0, "duplicates": 0, "reordered": 0,
         "suspect": 0}
    held, held_h = [], None

    def cands(ref, x):
        base = ref - (ref % MOD32)
        return [base - MOD32 + x, base + x, base + MOD32 + x]

    def nearest(ref, x):
        # the candidate at distance -2^31 < d <= ... choose per rule:
        # forward if 0 < d < 2^31, else the nearest one at or behind ref
        fwd = [v for v in cands(ref, x) if 0 < v - ref < HALF32]
        if fwd:
            return fwd[0]
        return max(v for v in cands(ref, x) if v <= ref)

    def accept(s):
        nonlocal H
        if s > H:
            H = s
            accepted.add(s)
        elif s < B or s < H - W + 1:
            c["late"] += 1
        elif s in accepted:
            c["duplicates"] += 1
        else:
            accepted.add(s)
            c["reordered"] += 1

    for x in wire_seqs:
        c["received"] += 1
        if H is None:
            B = H = x
            accepted.add(x)
            continue
        if held:
            t = nearest(held[0], x)
            if held[0] - W < t < held[0] + W:
                if t in held:
                    c["duplicates"] += 1
                elif len(held) == 1:
                    held.append(t)
                else:
                    for h in held + [t]:
                        accept(h)
                    held = []
                continue
        s = nearest(H, x)
        if s - H > W:
            c["suspect"] += len(held)
            held, held_h = [s], H
            continue
        if held and s <= H and H == held_h:
            c["late"] += 1
            continue
        accept(s)
        if held and held[0] - H <= W:
            for h in held:
                accept(h)
            held = []
        elif held and H - held_h >= W:
            c["suspect"] += len(held)
            held = []
    c["suspect"] += len(held)
    if H is not None:
        c["lost"] = (H - B + 1) - len(accepted)
    return c, H


# --------------------------------------------------------------------------
# tunnels and the expected report

class ConfiguredTunnel:
    def __init__(self, name, index, local, remote, local_text=None, remote_text=None):
        self.name, self.index = name, index
        self.local, self.remote = ip(local), ip(remote)
        # how the addresses are spelled in the config file (may be
        # non-canonical; the report always uses the canonical text)
        self.local_text = local_text or str(self.local)
        self.remote_text = remote_text or str(self.remote)


def config_text(tunnels):
    if not tunnels:
        return ""
    lines = ["tunnels = ("]
    for i, t in enumerate(tunnels):
        sep = "," if i + 1 < len(tunnels) else ""
        lines.append('  { name = "%s"; index = %d; local = "%s"; remote = "%s"; }%s'
                     % (t.name, t.index, t.local_text, t.remote_text, sep))
    lines.append(");")
    return "\n".join(lines) + "\n"


class Truth:
    """Feeds frame classifications through the reference model and
    produces the expected JSON report."""

    def __init__(self, window=64, configured=()):
        self.window = window
        self.configured = list(configured)
        self.capture = {"packets": 0, "esp": 0, "ignored": 0, "malformed": 0,
                        "untracked": 0, "pcap_drops": 0}
        self.tunnels = {}        # frozenset(pair) -> dict
        self.sas = {}            # (src, dst, spi) -> dict
        self.next_index = max([t.index for t in self.configured], default=0) + 1
        for t in self.configured:
            self.tunnels[frozenset((t.local, t.remote))] = {
                "name": t.name, "index": t.index, "origin": "configured",
                "local": t.local, "remote": t.remote}

    def _tunnel(self, src, dst):
        key = frozenset((src, dst))
        t = self.tunnels.get(key)
        if t is None:
            local, remote = sorted((src, dst), key=addr_key)
            idx = self.next_index
            self.next_index += 1
            name = "%s-%s" % (local, remote)
            if len(name) > 63:
                name = "tunnel-%d" % idx
            t = {"name": name, "index": idx, "origin": "discovered",
                 "local": local, "remote": remote}
            self.tunnels[key] = t
        return t

    def frame(self, kind, sa=None, ip_len=0):
        """kind: KIND_ESP/IGNORED/MALFORMED; sa = (src, dst, spi, encap, seq32);
        ip_len: the outer IP length from the packet's header (octets)."""
        self.capture["packets"] += 1
        self.capture[kind] += 1
        if kind != KIND_ESP:
            return None
        src, dst, spi, encap, seq = sa
        src, dst = ip(src), ip(dst)
        key = (src, dst, spi)
        e = self.sas.get(key)
        if e is None:
            t = self._tunnel(src, dst)
            e = {"src": src, "dst": dst, "spi": spi, "encap": encap, "tunnel": t,
                 "direction": "inbound" if dst == t["local"] else "outbound",
                 "model": ReplayModel(self.window), "octets": 0}
            self.sas[key] = e
        e["octets"] += ip_len
        return e["model"].update(seq)

    def report(self):
        for e in self.sas.values():
            e["model"].finish()
        fields = ("received", "lost", "late", "duplicates", "reordered", "suspect")
        sas = []
        for e in self.sas.values():
            m = e["model"]
            d = {"src": str(e["src"]), "dst": str(e["dst"]),
                 "spi": "0x%08x" % e["spi"], "encap": e["encap"],
                 "tunnel": e["tunnel"]["name"], "direction": e["direction"]}
            d.update(m.counters())
            d["octets"] = e["octets"]
            d["highest_seq"] = m.H
            sort = (e["tunnel"]["index"], 0 if e["direction"] == "inbound" else 1,
                    e["spi"], addr_key(e["src"]), addr_key(e["dst"]))
            sas.append((sort, d))
        sas.sort(key=lambda p: p[0])
        tunnels = []
        for t in sorted(self.tunnels.values(), key=lambda t: t["index"]):
            mine = [e for e in self.sas.values() if e["tunnel"] is t]
            d = {"name": t["name"], "index": t["index"], "origin": t["origin"],
                 "local": str(t["local"]), "remote": str(t["remote"]), "sas": len(mine)}
            for f in fields:
                d[f] = sum(e["model"].counters()[f] for e in mine
                           if e["direction"] == "inbound")
            d["octets"] = sum(e["octets"] for e in mine if e["direction"] == "inbound")
            d["outbound"] = {f: sum(e["model"].counters()[f] for e in mine
                                    if e["direction"] == "outbound") for f in fields}
            d["outbound"]["octets"] = sum(e["octets"] for e in mine
                                          if e["direction"] == "outbound")
            if not mine:
                d["state"] = "neverSeen"
            tunnels.append(d)
        return {"sas": [d for _, d in sas], "tunnels": tunnels,
                "capture": dict(self.capture)}


# --------------------------------------------------------------------------
# stream operations (on lists of 64-bit logical sequence numbers)

def seq_run(start, n):
    return list(range(start, start + n))


def drop_random(seqs, p, rng, keep_first=True, keep_last=True):
    out = []
    for i, s in enumerate(seqs):
        if (keep_first and i == 0) or (keep_last and i == len(seqs) - 1):
            out.append(s)
        elif rng.random() >= p:
            out.append(s)
    return out


def drop_bursts(seqs, nbursts, minlen, maxlen, rng):
    """Remove nbursts runs of minlen..maxlen consecutive elements (never
    the first or last element)."""
    seqs = list(seqs)
    for _ in range(nbursts):
        L = rng.randint(minlen, maxlen)
        if len(seqs) < L + 3:
            break
        i = rng.randint(1, len(seqs) - L - 1)
        del seqs[i:i + L]
    return seqs


def reorder(seqs, frac, maxdist, rng):
    """Move about frac of the packets later by 1..maxdist positions."""
    seqs = list(seqs)
    n = int(len(seqs) * frac)
    for _ in range(n):
        i = rng.randrange(0, max(1, len(seqs) - maxdist - 1))
        d = rng.randint(1, maxdist)
        x = seqs.pop(i)
        seqs.insert(min(i + d, len(seqs)), x)
    return seqs


def make_late(seqs, count, mindist, maxdist, rng):
    """Delay `count` packets by mindist..maxdist positions (choose mindist
    > W so that they arrive after leaving the window)."""
    seqs = list(seqs)
    for _ in range(count):
        if len(seqs) <= mindist + 2:
            break
        i = rng.randrange(1, len(seqs) - mindist - 1)
        d = rng.randint(mindist, maxdist)
        x = seqs.pop(i)
        seqs.insert(min(i + d, len(seqs)), x)
    return seqs


def duplicate(seqs, count, maxdist, rng):
    """Insert `count` copies of random packets 0..maxdist positions later."""
    seqs = list(seqs)
    for _ in range(count):
        i = rng.randrange(0, len(seqs))
        d = rng.randint(0, maxdist)
        seqs.insert(min(i + 1 + d, len(seqs)), seqs[i])
    return seqs


def wire(seqs):
    return [s & 0xFFFFFFFF for s in seqs]


# --------------------------------------------------------------------------
# scenario: SA streams + noise -> frames -> pcap + truth

class SAStream:
    def __init__(self, src, dst, spi, seqs, *, encap="esp", sport=NATT_PORT,
                 dport=NATT_PORT, exts=None, vlans=(), payload=(16, 1400),
                 t0=0, gap=1000, outgoing=False, frag_first=False):
        self.src, self.dst, self.spi = ip(src), ip(dst), spi
        self.seqs = seqs                  # 32-bit wire values, arrival order
        self.encap = encap
        self.sport, self.dport = sport, dport
        self.exts = exts                  # None, list, or callable(rng) -> list
        self.vlans = vlans
        self.payload = payload
        self.t0, self.gap = t0, gap
        self.outgoing = outgoing
        self.frag_first = frag_first      # IPv4 first fragment (MF=1, offset 0)


class Frame:
    """l3: (ip bytes, ethertype or None, vlans, outgoing) the frame was
    built from (None for frames given at L2), for Scenario.relink()."""
    __slots__ = ("ts", "data", "kind", "sa", "esp_end", "order", "l3")

    def __init__(self, ts, data, kind, sa=None, esp_end=None, l3=None):
        self.ts, self.data, self.kind, self.sa, self.esp_end = ts, data, kind, sa, esp_end
        self.order = 0
        self.l3 = l3


class Scenario:
    def __init__(self, name, link="eth", snaplen=262144, window=64, configured=(),
                 window_arg=None, seed=1, pad=True):
        self.name = name
        self.link = Link(link, pad=pad)
        self.snaplen = snaplen
        self.window = window
        self.window_arg = window_arg     # None: don't pass --window
        self.configured = list(configured)
        self.rng = random.Random(seed)
        self.frames = []
        self._ident = 0

    # ---- frames
    def _payload(self, rng, rangespec):
        lo, hi = rangespec
        return rng.randbytes(rng.randint(lo, hi))

    def esp_frame(self, sa, seq, ts, rng):
        self._ident = (self._ident + 1) & 0xFFFF
        body = esp(sa.spi, seq, self._payload(rng, sa.payload))
        if sa.encap == "udp":
            l4 = udp(sa.src, sa.dst, sa.sport, sa.dport, body)
            proto, extra = IPPROTO_UDP, 8
        else:
            l4, proto, extra = body, IPPROTO_ESP, 0
        exts = sa.exts(rng) if callable(sa.exts) else (sa.exts or ())
        kw = {}
        if sa.src.version == 4:
            kw = {"ident": self._ident, "df": not sa.frag_first, "mf": sa.frag_first}
        pkt, iphl = ip_packet(sa.src, sa.dst, proto, l4, exts=exts, **kw)
        l2 = self.link.header(ETH_IPV4 if sa.src.version == 4 else ETH_IPV6,
                              sa.vlans, sa.outgoing)
        frame = self.link.frame(pkt, vlans=sa.vlans, outgoing=sa.outgoing)
        esp_end = len(l2) + iphl + extra + 8
        return Frame(ts, frame, KIND_ESP, (sa.src, sa.dst, sa.spi, sa.encap, seq), esp_end,
                     (pkt, None, sa.vlans, sa.outgoing))

    def add_stream(self, sa):
        rng = self.rng
        t = sa.t0
        for seq in sa.seqs:
            t += max(1, int(sa.gap * (0.5 + rng.random())))
            self.frames.append(self.esp_frame(sa, seq, BASE_TS_US + t, rng))

    def add_raw(self, ts, ipbytes, kind, ethertype=None, vlans=(), sa=None):
        """A frame from given IP bytes with a known classification."""
        self.frames.append(Frame(BASE_TS_US + ts,
                                 self.link.frame(ipbytes, ethertype, vlans), kind, sa,
                                 l3=(ipbytes, ethertype, vlans, False)))

    def add_l2(self, ts, frame, kind):
        self.frames.append(Frame(BASE_TS_US + ts, frame, kind))

    def relink(self, kind):
        """Re-frame every frame for link type `kind` (a key of Link.DLT).
        The IP packets and their classification stay; only a frame whose
        ESP header the snap length cuts depends on the link header."""
        new = Link(kind, pad=self.link.pad)
        for f in self.frames:
            if f.l3 is None:
                raise ValueError("%s: a frame given at L2 cannot be re-framed" % self.name)
            ipbytes, ethertype, vlans, outgoing = f.l3
            if ethertype is None:
                ethertype = ETH_IPV4 if ipbytes and ipbytes[0] >> 4 == 4 else ETH_IPV6
            nv = vlans if kind == "eth" else ()
            if f.esp_end is not None:
                f.esp_end += len(new.header(ethertype, nv, outgoing)) - \
                    len(self.link.header(ethertype, vlans, outgoing))
            f.data = new.frame(ipbytes, ethertype, nv, outgoing)
        self.link = new
        return self

    def span(self):
        return max((f.ts for f in self.frames), default=BASE_TS_US) - BASE_TS_US

    # ---- output
    def ordered(self):
        for i, f in enumerate(self.frames):
            f.order = i
        return sorted(self.frames, key=lambda f: (f.ts, f.order))

    def classify(self, f):
        if f.kind == KIND_ESP and f.esp_end is not None and f.esp_end > self.snaplen:
            return KIND_MALFORMED          # ESP header cut off by the snap length
        return f.kind

    def write(self, path):
        w = PcapWriter(self.link.dlt, self.snaplen, self.link.big_endian_file)
        for f in self.ordered():
            w.add(f.ts, f.data)
        w.write(path)

    def truth(self):
        tr = Truth(self.window, self.configured)
        for f in self.ordered():
            k = self.classify(f)
            tr.frame(k, f.sa if k == KIND_ESP else None,
                     ip_header_length(f.l3[0]) if k == KIND_ESP else 0)
        return tr.report()

    def args(self):
        return [] if self.window_arg is None else ["--window", str(self.window_arg)]

    def config(self):
        return config_text(self.configured)


# --------------------------------------------------------------------------
# noise

def ike_message(rng):
    """A plausible IKEv2 message: header + one Encrypted (SK) payload."""
    body = rng.randbytes(rng.randint(24, 300))
    sk = struct.pack("!BBH", 0, 0, 4 + len(body)) + body
    hdr = struct.pack("!8s8sBBBBII", rng.randbytes(8), rng.randbytes(8), 46, 0x20,
                      37, 0x08, rng.randrange(1 << 16), 28 + len(sk))
    return hdr + sk


def add_natt_noise(sc, a, b, count, rng, span, vlans=()):
    """IKE on 4500 (non-ESP marker) and NAT keepalives, both port directions."""
    for i in range(count):
        ts = rng.randint(0, span)
        src, dst = (a, b) if i % 2 == 0 else (b, a)
        sport, dport = (NATT_PORT, 31000 + i) if i % 4 < 2 else (32000 + i, NATT_PORT)
        if i % 3 == 0:
            payload = b"\xff"                                    # keepalive
        else:
            payload = b"\0\0\0\0" + ike_message(rng)                   # IKE
        pkt, _ = ip_packet(src, dst, IPPROTO_UDP, udp(src, dst, sport, dport, payload))
        sc.add_raw(ts, pkt, KIND_IGNORED, vlans=vlans)


def add_other_noise(sc, a, b, rng, span):
    """Well-formed non-ESP traffic: IKE on 500, TCP, ICMP, ARP."""
    a, b = ip(a), ip(b)
    for i in range(3):
        pkt, _ = ip_packet(a, b, IPPROTO_UDP, udp(a, b, 500, 500, ike_message(rng)))
        sc.add_raw(rng.randint(0, span), pkt, KIND_IGNORED)
        tcp = struct.pack("!HHIIBBHHH", 40000 + i, 22, 1, 0, 0x50, 0x02, 65535, 0, 0)
        pkt, _ = ip_packet(a, b, IPPROTO_TCP, tcp)
        sc.add_raw(rng.randint(0, span), pkt, KIND_IGNORED)
        if a.version == 4:
            icmp = struct.pack("!BBHHH", 8, 0, 0, 1, i) + b"ping"
            icmp = icmp[:2] + struct.pack("!H", inet_checksum(icmp)) + icmp[4:]
            pkt, _ = ip_packet(a, b, IPPROTO_ICMP, icmp)
            sc.add_raw(rng.randint(0, span), pkt, KIND_IGNORED)
    if sc.link.kind == "eth":
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1,
                          bytes.fromhex("020000000001"), bytes([192, 0, 2, 1]),
                          b"\0" * 6, bytes([192, 0, 2, 2]))
        sc.add_raw(rng.randint(0, span), arp, KIND_IGNORED, ethertype=ETH_ARP)


# --------------------------------------------------------------------------
# scenarios

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__.replace("sc_", "")] = fn
    return fn


A4, B4 = "198.51.100.1", "203.0.113.7"
C4, D4 = "192.0.2.10", "192.0.2.200"
A6, B6 = "2001:db8::1", "2001:db8:0:1::2"


def two_way(sc, a, b, spi_in, spi_out, seqs_ab, seqs_ba, **kw):
    """SA a->b and b->a."""
    sc.add_stream(SAStream(a, b, spi_in, wire(seqs_ab), **kw))
    sc.add_stream(SAStream(b, a, spi_out, wire(seqs_ba), **kw))


@scenario
def sc_loss(seed=1, packets=None):
    n = packets or 3000
    sc = Scenario("loss", seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0xC0FFEE01, 0xC0FFEE02,
            drop_random(seq_run(1, n), 0.02, r), drop_random(seq_run(1, n), 0.05, r))
    add_other_noise(sc, A4, B4, r, sc.span())
    return sc


@scenario
def sc_bursts(seed=2, packets=None):
    n = packets or 3000
    sc = Scenario("bursts", seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0x1000, 0x1001,
            drop_bursts(seq_run(1, n), 10, 1, 200, r),   # some bursts longer than W
            drop_bursts(drop_random(seq_run(1, n), 0.01, r), 5, 50, 120, r))
    return sc


@scenario
def sc_reorder(seed=3, packets=None):
    n = packets or 3000
    sc = Scenario("reorder", seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0x2000, 0x2001,
            reorder(seq_run(1, n), 0.05, 20, r),
            reorder(drop_random(seq_run(1, n), 0.01, r), 0.1, 40, r))
    return sc


@scenario
def sc_late(seed=4, packets=None):
    n = packets or 3000
    sc = Scenario("late", seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0x3000, 0x3001,
            make_late(seq_run(1, n), 30, 70, 300, r),
            make_late(drop_random(seq_run(1, n), 0.01, r), 20, 100, 1000, r))
    # an SA that starts at 5, then sees 0xfffffff0 (= 5 - 21: below baseline)
    sc.add_stream(SAStream(C4, D4, 0x3002, [5, 6, 7, 0xFFFFFFF0, 8, 2, 9], t0=10))
    return sc


@scenario
def sc_duplicates(seed=5, packets=None):
    n = packets or 3000
    sc = Scenario("duplicates", seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0x4000, 0x4001,
            duplicate(seq_run(1, n), 100, 30, r),
            duplicate(drop_random(seq_run(1, n), 0.02, r), 200, 100, r))
    return sc


def mixed_seqs(n, r, start=1):
    s = drop_random(seq_run(start, n), 0.02, r)
    s = drop_bursts(s, 4, 5, 150, r)
    s = reorder(s, 0.03, 30, r)
    s = make_late(s, 10, 80, 400, r)
    s = duplicate(s, 40, 50, r)
    return s


@scenario
def sc_mix(seed=6, packets=None):
    n = packets or 4000
    sc = Scenario("mix", seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0xAABBCCDD, 0x00000100, mixed_seqs(n, r), mixed_seqs(n, r, 77))
    two_way(sc, C4, D4, 0x5000, 0x5001, mixed_seqs(n // 2, r), mixed_seqs(n // 2, r))
    add_other_noise(sc, A4, B4, r, sc.span())
    return sc


@scenario
def sc_natt(seed=7, packets=None):
    n = packets or 2000
    sc = Scenario("natt", seed=seed)
    r = sc.rng
    # responder side port 4500, NAT-rewritten initiator port arbitrary,
    # in both directions
    sc.add_stream(SAStream(A4, B4, 0x6000, wire(mixed_seqs(n, r)), encap="udp",
                           sport=4500, dport=40123))
    sc.add_stream(SAStream(B4, A4, 0x6001, wire(mixed_seqs(n, r)), encap="udp",
                           sport=40123, dport=4500))
    sc.add_stream(SAStream(A6, B6, 0x6002, wire(mixed_seqs(n, r)), encap="udp",
                           sport=51000, dport=4500))
    sc.add_stream(SAStream(B6, A6, 0x6003, wire(drop_random(seq_run(1, n), 0.03, r)),
                           encap="udp", sport=4500, dport=51000))
    span = sc.span()
    add_natt_noise(sc, A4, B4, 60, r, span)
    add_natt_noise(sc, A6, B6, 40, r, span)
    add_other_noise(sc, A4, B4, r, span)
    return sc


def random_exts(rng):
    choices = [[], ["hop"], ["dst"], ["route"], [("frag", {"offset": 0, "more": False})],
               ["hop", "route", "dst"], ["hop", "dst", "route", ("frag", {"offset": 0})]]
    return rng.choice(choices)


@scenario
def sc_ipv6(seed=8, packets=None):
    n = packets or 2000
    sc = Scenario("ipv6", seed=seed)
    r = sc.rng
    two_way(sc, A6, B6, 0x7000, 0x7001, mixed_seqs(n, r), mixed_seqs(n, r))
    # long addresses: name longer than 63 characters -> tunnel-<index>
    L1 = "2001:db8:1111:2222:3333:4444:5555:6666"
    L2 = "2001:db8:1111:2222:3333:4444:5555:7777"
    two_way(sc, L1, L2, 0x7002, 0x7003, mixed_seqs(n, r), mixed_seqs(n, r),
            exts=random_exts)
    sc.add_stream(SAStream("2001:db8::a", "2001:db8::b", 0x7004,
                           wire(mixed_seqs(n, r)), exts=["hop", "route", "dst"]))
    sc.add_stream(SAStream("2001:db8::b", "2001:db8::a", 0x7005,
                           wire(mixed_seqs(n, r, 1000)), encap="udp", sport=4500,
                           dport=4500, exts=random_exts))
    # name length limit: exactly 63 characters is kept, 64 is not
    N63 = ("2001:db8:aaaa:bbbb:cccc:ddd::1", "2001:db8:aaaa:bbbb:cccc:ddd::2")
    N64 = ("2001:db8:aaaa:bbbb:cccc:ddd::1", "2001:db8:aaaa:bbbb:cccc:dddd::2")
    sc.add_stream(SAStream(N63[1], N63[0], 0x7006, wire(mixed_seqs(n // 4, r))))
    sc.add_stream(SAStream(N64[1], N64[0], 0x7007, wire(mixed_seqs(n // 4, r))))
    span = sc.span()
    # non-first IPv6 fragment carrying (what would be) ESP: ignored
    for i in range(5):
        pkt = ipv6(A6, B6, IPPROTO_ESP, r.randbytes(100),
                   exts=[("frag", {"offset": 100 + i, "more": False})])
        sc.add_raw(r.randint(0, span), pkt, KIND_IGNORED)
    add_other_noise(sc, A6, B6, r, span)
    return sc


@scenario
def sc_vlan(seed=9, packets=None):
    n = packets or 2000
    sc = Scenario("vlan", seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0x8000, 0x8001, mixed_seqs(n, r), mixed_seqs(n, r), vlans=[100])
    two_way(sc, C4, D4, 0x8002, 0x8003, mixed_seqs(n, r), mixed_seqs(n, r),
            vlans=[200, 300])
    two_way(sc, A6, B6, 0x8004, 0x8005, mixed_seqs(n, r), mixed_seqs(n, r),
            vlans=[10, 20], exts=random_exts)
    sc.add_stream(SAStream("10.0.0.1", "10.0.0.2", 0x8006, wire(mixed_seqs(n, r)),
                           vlans=[5, 6], encap="udp", sport=4500, dport=1024))
    add_natt_noise(sc, "10.0.0.1", "10.0.0.2", 20, r, sc.span(), vlans=[5, 6])
    return sc


@scenario
def sc_qinq(seed=26, packets=None):
    """Stacked tags with every TPID the parser knows (0x8100, 0x88a8,
    0x9100), 1 to 5 tags, IPv4 and IPv6 (also behind extension headers),
    ESP and ESP-in-UDP from and to port 4500, IKE on 4500 behind QinQ."""
    n = packets or 1000
    sc = Scenario("qinq", seed=seed)
    r = sc.rng
    Q, AD, OLD = ETH_VLAN, ETH_QINQ, ETH_QINQ_OLD
    two_way(sc, A4, B4, 0x91000001, 0x91000002, mixed_seqs(n, r), mixed_seqs(n, r),
            vlans=[(OLD, 100), (Q, 200)])
    two_way(sc, A6, B6, 0x91000003, 0x91000004, mixed_seqs(n, r), mixed_seqs(n, r),
            vlans=[(OLD, 10), (Q, 20)], exts=random_exts)
    sc.add_stream(SAStream("2001:db8::a1", "2001:db8::b1", 0x91000005, wire(mixed_seqs(n, r)),
                           vlans=[(AD, 11), (Q, 21)], exts=["hop", "dst"]))
    # NAT-T: to port 4500 behind 0x88a8, from port 4500 behind 0x9100
    sc.add_stream(SAStream(C4, D4, 0x91000006, wire(mixed_seqs(n, r)), encap="udp",
                           sport=40500, dport=4500, vlans=[(AD, 5), (Q, 6)]))
    sc.add_stream(SAStream(D4, C4, 0x91000007, wire(mixed_seqs(n, r)), encap="udp",
                           sport=4500, dport=40500, vlans=[(OLD, 5), (Q, 6)]))
    sc.add_stream(SAStream("2001:db8::c1", "2001:db8::d1", 0x91000008,
                           wire(mixed_seqs(n, r)), encap="udp", sport=51000, dport=4500,
                           vlans=[(OLD, 7), (Q, 8)], exts=["dst"]))
    # one tag of each outer TPID; two 0x8100 tags; 3, 4 and 5 tags
    for k, tags in enumerate([[(AD, 30)], [(OLD, 31)], [(Q, 32), (Q, 33)],
                              [(AD, 1), (Q, 2), (Q, 3)], [(OLD, 1), (AD, 2), (Q, 3)],
                              [(Q, 1), (Q, 2), (Q, 3), (Q, 4)],
                              [(AD, 1), (Q, 2), (Q, 3), (Q, 4), (Q, 5)]]):
        src, dst = "10.91.%d.1" % k, "10.91.%d.2" % k
        if k % 2:
            sc.add_stream(SAStream(src, dst, 0x91000100 + k, wire(mixed_seqs(n // 2, r)),
                                   vlans=tags))
        else:
            sc.add_stream(SAStream("2001:db8:91:%d::1" % k, "2001:db8:91:%d::2" % k,
                                   0x91000100 + k, wire(mixed_seqs(n // 2, r)), vlans=tags,
                                   exts=random_exts))
    span = sc.span()
    add_natt_noise(sc, C4, D4, 20, r, span, vlans=[(OLD, 5), (Q, 6)])
    add_natt_noise(sc, A6, B6, 20, r, span, vlans=[(AD, 5), (Q, 6)])
    add_other_noise(sc, A4, B4, r, span)
    return sc


def _linktype_scenario(name, link, seed, packets):
    n = packets or 2000
    sc = Scenario(name, link=link, seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0x9000, 0x9001, mixed_seqs(n, r), mixed_seqs(n, r))
    sc.add_stream(SAStream(A6, B6, 0x9002, wire(mixed_seqs(n, r)), exts=random_exts,
                           outgoing=True))
    sc.add_stream(SAStream(C4, D4, 0x9003, wire(mixed_seqs(n, r)), encap="udp",
                           sport=33333, dport=4500))
    span = sc.span()
    add_natt_noise(sc, C4, D4, 20, r, span)
    add_other_noise(sc, A4, B4, r, span)
    return sc


@scenario
def sc_sll(seed=10, packets=None):
    return _linktype_scenario("sll", "sll", seed, packets)


@scenario
def sc_sll2(seed=11, packets=None):
    return _linktype_scenario("sll2", "sll2", seed, packets)


@scenario
def sc_raw(seed=12, packets=None):
    return _linktype_scenario("raw", "raw", seed, packets)


@scenario
def sc_esn_wrap(seed=13, packets=None):
    n = packets or 2000
    sc = Scenario("esn_wrap", seed=seed)
    r = sc.rng
    start = MOD32 - n // 2
    two_way(sc, A4, B4, 0xE5E50001, 0xE5E50002,
            mixed_seqs(n, r, start),
            reorder(drop_random(seq_run(MOD32 - 3, n), 0.05, r), 0.05, 10, r))
    # starts exactly at 0xffffffff, wraps after one packet
    sc.add_stream(SAStream(C4, D4, 0xE5E50003,
                           wire(drop_random(seq_run(MOD32 - 1, n), 0.01, r))))
    return sc


@scenario
def sc_rekey(seed=14, packets=None):
    n = packets or 2000
    sc = Scenario("rekey", seed=seed)
    r = sc.rng
    # old SAs
    sc.add_stream(SAStream(A4, B4, 0xA0000001, wire(mixed_seqs(n, r)), t0=0))
    sc.add_stream(SAStream(B4, A4, 0xA0000002, wire(mixed_seqs(n, r)), t0=0))
    span = sc.span()
    # new SAs after the rekey (overlap a bit in time, as in reality)
    sc.add_stream(SAStream(A4, B4, 0xB0000001, wire(mixed_seqs(n, r)),
                           t0=span - 50_000))
    sc.add_stream(SAStream(B4, A4, 0xB0000002, wire(mixed_seqs(n, r)),
                           t0=span - 50_000))
    # one more packet of the old inbound SA after the new one started: a
    # forward jump of ~500 that nothing follows, so it stays tentative and
    # is dismissed at the end of the file (suspect 1, nothing lost for it)
    sc.add_stream(SAStream(A4, B4, 0xA0000001, [n + 500], t0=sc.span() + 10))
    return sc


@scenario
def sc_midstream(seed=15, packets=None):
    n = packets or 2000
    sc = Scenario("midstream", seed=seed)
    r = sc.rng
    # first packet is 1_000_000 but earlier ones (999_990..) straggle in
    s = seq_run(1_000_000, n)
    s = drop_random(s, 0.02, r)
    s = s[:5] + [999_990, 999_999] + s[5:20] + [999_995] + s[20:]
    sc.add_stream(SAStream(A4, B4, 0xD0000001, wire(s)))
    # reordering right at the start: baseline is the first packet seen
    s2 = seq_run(123_456_789, n)
    s2 = [s2[3], s2[0], s2[1], s2[2]] + s2[4:]
    sc.add_stream(SAStream(B4, A4, 0xD0000002, wire(reorder(s2, 0.02, 10, r))))
    return sc


@scenario
def sc_jump(seed=16, packets=None):
    n = packets or 1000
    sc = Scenario("jump", seed=seed)
    r = sc.rng
    J = 2_000_000_000
    s = seq_run(1, n) + seq_run(n + J, n)
    s = reorder(s, 0.02, 10, r)
    # a packet from before the jump arriving after it: late
    s.insert(n + 50, 500)
    sc.add_stream(SAStream(A4, B4, 0xF0000001, wire(s)))
    # jump twice: crosses 2^32 in the 64-bit domain
    s2 = seq_run(10, n) + seq_run(10 + n + J, n) + seq_run(10 + 2 * n + 2 * J, n)
    sc.add_stream(SAStream(B4, A4, 0xF0000002, wire(drop_random(s2, 0.01, r))))
    # serial-number boundary: a distance of exactly 2^31 is backwards
    # (below the baseline: late), 2^31 - 1 is forwards
    sc.add_stream(SAStream(C4, D4, 0xF0000003, wire([5, 6, 6 + HALF32, 7, 8])))
    sc.add_stream(SAStream(D4, C4, 0xF0000004, wire([5, 6, 5 + HALF32, 7, 6 + HALF32])))
    return sc


SPOOF_AHEAD = (10**3, 10**6, 2**31 - 1)


def spoof_jumps_streams(seed=26, n=3000, nlost=31):
    """(clean, spoofed, injected): an in-order stream 1..n without nlost
    random numbers, and the same stream with single packets SPOOF_AHEAD
    ahead of the highest number so far injected at 1/4, 1/2 and 3/4 of
    it (spoofed packets the stream does not continue from)."""
    r = random.Random(seed)
    drop = set(r.sample(range(2, n), nlost))
    clean = [x for x in seq_run(1, n) if x not in drop]
    spoofed, injected = [], []
    at = {len(clean) * k // 4: a for k, a in zip((1, 2, 3), SPOOF_AHEAD)}
    for i, x in enumerate(clean):
        spoofed.append(x)
        if i in at:
            injected.append(x + at[i])
            spoofed.append(injected[-1])
    return clean, spoofed, injected


def scenario_named(name):
    def reg(fn):
        SCENARIOS[name] = fn
        return fn
    return reg


@scenario_named("spoof-jumps")
def sc_spoof_jumps(seed=26, packets=None):
    """Issue 16: 3000 packets with 31 lost, plus 3 spoofed single packets
    10^3, 10^6 and 2^31-1 ahead: lost 31, late 0, suspect 3."""
    sc = Scenario("spoof-jumps", seed=seed)
    _, spoofed, _ = spoof_jumps_streams(seed, packets or 3000)
    # inbound (the discovered tunnel's local end is the lower address, A4)
    sc.add_stream(SAStream(B4, A4, 0x5B00F001, wire(spoofed)))
    # the other direction without spoofing
    sc.add_stream(SAStream(A4, B4, 0x5B00F002, wire(spoof_jumps_streams(seed + 1)[0])))
    return sc


@scenario
def sc_random_streams(seed=25, packets=None, window=64, window_arg=None):
    """Many short SAs with random starts (also next to 2^32 and 2^31
    boundaries) and random mixes of every operation."""
    nsa = 300
    sc = Scenario("random_streams", window=window, window_arg=window_arg, seed=seed)
    r = sc.rng
    W = window
    for k in range(nsa):
        start = r.choice([1, r.randrange(1, 1 << 20), MOD32 - r.randint(1, 3 * W),
                          HALF32 - r.randint(0, 2 * W), r.randrange(MOD32),
                          MOD32 * 3 - r.randint(1, W)])
        n = r.randint(1, packets or 150)
        s = seq_run(start, n)
        if r.random() < 0.5:
            s = drop_random(s, r.random() * 0.3, r, keep_last=r.random() < 0.5)
        if r.random() < 0.3:
            s = drop_bursts(s, r.randint(1, 3), 1, 3 * W, r)
        if r.random() < 0.5:
            s = reorder(s, r.random() * 0.2, r.randint(1, 2 * W), r)
        if r.random() < 0.3:
            s = make_late(s, r.randint(1, 5), W, 3 * W, r)
        if r.random() < 0.3:
            s = duplicate(s, r.randint(1, 10), 2 * W, r)
        if r.random() < 0.2 and s:
            # exactly W-1, W, W+1 behind the highest so far
            i = r.randrange(len(s))
            h = max(s[:i + 1])
            s.insert(i + 1, h - r.choice([W - 1, W, W + 1]))
        if r.random() < 0.1 and s:
            s.append(s[-1] + r.choice([HALF32 - 1, HALF32, HALF32 + 1]))
        if not s:
            continue
        a = "100.%d.%d.1" % (k // 200, k % 200)
        b = "100.64.%d.%d" % (k // 200, k % 200)
        src, dst = (a, b) if k % 2 else (b, a)
        sc.add_stream(SAStream(src, dst, 0x20000 + k, wire(s), payload=(16, 80),
                               t0=r.randrange(0, 500_000), gap=r.choice([10, 1000])))
    return sc


@scenario
def sc_snaplen64(seed=17, packets=None):
    n = packets or 1000
    sc = Scenario("snaplen64", snaplen=64, seed=seed)
    r = sc.rng
    # fits: eth+IPv4 (42), QinQ+IPv4 (50), eth+IPv6 (62), QinQ+IPv4+UDP (58)
    sc.add_stream(SAStream(A4, B4, 0x5A000001, wire(mixed_seqs(n, r))))
    sc.add_stream(SAStream(B4, A4, 0x5A000002, wire(mixed_seqs(n, r)), vlans=[7, 8]))
    sc.add_stream(SAStream(A6, B6, 0x5A000003, wire(mixed_seqs(n, r))))
    sc.add_stream(SAStream(C4, D4, 0x5A000004, wire(mixed_seqs(n, r)), vlans=[7, 8],
                           encap="udp", sport=4500, dport=4500))
    # QinQ + IPv6 (+ ext headers): ESP header beyond 64 bytes -> malformed;
    # with the VLAN tag only and no ext headers: 18+40+8 = 66 > 64 too.
    sc.add_stream(SAStream(B6, A6, 0x5A000005, wire(mixed_seqs(n, r)), vlans=[7, 8],
                           exts=random_exts))
    sc.add_stream(SAStream("2001:db8::c", "2001:db8::d", 0x5A000006,
                           wire(mixed_seqs(n, r)), vlans=[9]))
    # mixed: plain Ethernet IPv6, some packets with ext headers (cut), some not
    sc.add_stream(SAStream("2001:db8::e", "2001:db8::f", 0x5A000007,
                           wire(mixed_seqs(n, r)),
                           exts=lambda g: g.choice([[], [], ["hop"]])))
    return sc


@scenario
def sc_malformed(seed=18, packets=None):
    n = packets or 500
    sc = Scenario("malformed", seed=seed)
    r = sc.rng
    sc.add_stream(SAStream(A4, B4, 0x11110001, wire(mixed_seqs(n, r))))
    sc.add_stream(SAStream(B4, A4, 0x11110002, wire(mixed_seqs(n, r)), frag_first=True))
    span = sc.span()
    body = esp(0x11110001, 77, r.randbytes(40))
    for i in range(3):
        # IHL < 5
        sc.add_raw(r.randint(0, span), ipv4(A4, B4, IPPROTO_ESP, body, ihl=4),
                   KIND_MALFORMED)
        # total length < header
        sc.add_raw(r.randint(0, span),
                   ipv4(A4, B4, IPPROTO_ESP, body, total_length=12 + i), KIND_MALFORMED)
        # total length > wire length
        sc.add_raw(r.randint(0, span),
                   ipv4(A4, B4, IPPROTO_ESP, body, total_length=20 + len(body) + 1 + i * 50),
                   KIND_MALFORMED)
        # truncated ESP header (IP payload 0..7 bytes)
        for k in (0, 4, 7):
            sc.add_raw(r.randint(0, span),
                       ipv4(A4, B4, IPPROTO_ESP, body[:k]), KIND_MALFORMED)
            sc.add_raw(r.randint(0, span),
                       ipv6(A6, B6, IPPROTO_ESP, body[:k]), KIND_MALFORMED)
        # truncated ESP in UDP/4500: non-zero SPI but fewer than 8 bytes
        sc.add_raw(r.randint(0, span),
                   ipv4(A4, B4, IPPROTO_UDP, udp(A4, B4, 4500, 4500, body[:6])),
                   KIND_MALFORMED)
        # reserved SPI 0..255 (ESP), 1..255 (UDP: SPI 0 would be the IKE marker)
        for spi in (0, 1, 255):
            sc.add_raw(r.randint(0, span),
                       ipv4(A4, B4, IPPROTO_ESP, esp(spi, 5, r.randbytes(40))),
                       KIND_MALFORMED)
            sc.add_raw(r.randint(0, span),
                       ipv6(A6, B6, IPPROTO_ESP, esp(spi, 5, r.randbytes(40))),
                       KIND_MALFORMED)
        for spi in (1, 255):
            sc.add_raw(r.randint(0, span),
                       ipv4(A4, B4, IPPROTO_UDP,
                            udp(A4, B4, 4500, 4500, esp(spi, 5, r.randbytes(40)))),
                       KIND_MALFORMED)
        # non-first IPv4 fragments of an ESP packet: ignored
        sc.add_raw(r.randint(0, span),
                   ipv4(A4, B4, IPPROTO_ESP, r.randbytes(64), frag_offset=185, mf=True),
                   KIND_IGNORED)
        sc.add_raw(r.randint(0, span),
                   ipv4(A4, B4, IPPROTO_ESP, r.randbytes(64), frag_offset=370),
                   KIND_IGNORED)
    # SPI 256 is the smallest valid one: a real SA
    sc.add_stream(SAStream(C4, D4, 256, wire(seq_run(1, 10))))
    add_other_noise(sc, A4, B4, r, span)
    return sc


@scenario
def sc_many_sas(seed=19, packets=None):
    """2000 SAs: 500 tunnels x (2 inbound + 2 outbound)."""
    per = packets or 12
    sc = Scenario("many_sas", seed=seed)
    r = sc.rng
    spi = 0x10000
    for t in range(500):
        a = "10.%d.%d.1" % (t // 250, t % 250)
        b = "172.16.%d.%d" % (t // 250, t % 250 + 1)
        for k in range(2):
            for src, dst in ((a, b), (b, a)):
                s = reorder(drop_random(seq_run(1 + r.randrange(1000), per), 0.1, r),
                            0.1, 3, r)
                sc.add_stream(SAStream(src, dst, spi, wire(s), payload=(16, 64),
                                       t0=r.randrange(0, 1_000_000), gap=10_000))
                spi += 1
    return sc


@scenario
def sc_window32(seed=20, packets=None):
    n = packets or 3000
    sc = Scenario("window32", window=32, window_arg=32, seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0x32000001, 0x32000002, mixed_seqs(n, r), mixed_seqs(n, r))
    # reordering between 32 and 64 positions: late with W=32
    sc.add_stream(SAStream(C4, D4, 0x32000003, wire(reorder(seq_run(1, n), 0.05, 60, r))))
    return sc


@scenario
def sc_window4096(seed=21, packets=None):
    n = packets or 20000
    sc = Scenario("window4096", window=4096, window_arg=4096, seed=seed)
    r = sc.rng

    def big(start=1):
        s = drop_random(seq_run(start, n), 0.01, r)
        s = drop_bursts(s, 3, 1000, 5000, r)
        s = reorder(s, 0.01, 2000, r)
        s = make_late(s, 20, 4200, 8000, r)
        s = duplicate(s, 50, 3000, r)
        return s
    two_way(sc, A4, B4, 0x40960001, 0x40960002, big(), big(5000), payload=(16, 100))
    return sc


@scenario
def sc_configured(seed=22, packets=None):
    n = packets or 1000
    cfg = [ConfiguredTunnel("hq", 7, A4, B4),
           # local is the higher address; spelled non-canonically in the file
           ConfiguredTunnel("branch-v6", 3, B6, A6, local_text="2001:DB8:0:1:0:0:0:2",
                            remote_text="2001:0db8::0001"),
           ConfiguredTunnel("idle", 12, "192.0.2.77", "192.0.2.78")]
    sc = Scenario("configured", configured=cfg, seed=seed)
    r = sc.rng
    # configured tunnel hq: local A4, so A4->B4 is OUTBOUND
    two_way(sc, A4, B4, 0xC0000001, 0xC0000002, mixed_seqs(n, r), mixed_seqs(n, r))
    two_way(sc, A6, B6, 0xC0000003, 0xC0000004, mixed_seqs(n, r), mixed_seqs(n, r))
    # discovered alongside: numbered from 13, in order of first ESP packet
    sc.add_stream(SAStream(D4, C4, 0xC0000005, wire(mixed_seqs(n, r)), t0=5000))
    sc.add_stream(SAStream("10.9.9.9", "10.9.9.1", 0xC0000006, wire(mixed_seqs(n, r)),
                           t0=0))
    # hq's local address with another peer: a different (discovered) tunnel
    sc.add_stream(SAStream(A4, "192.0.2.99", 0xC0000007, wire(mixed_seqs(n // 2, r)),
                           t0=20000))
    return sc


@scenario
def sc_inorder_xcheck(seed=23, packets=None):
    """For the tshark cross-check: strictly increasing sequence numbers
    (plain loss and bursts, one forward jump), last packet received."""
    n = packets or 3000
    sc = Scenario("inorder_xcheck", seed=seed)
    r = sc.rng
    two_way(sc, A4, B4, 0x7E570001, 0x7E570002,
            drop_bursts(drop_random(seq_run(1, n), 0.03, r), 8, 1, 150, r),
            drop_random(seq_run(1000, n), 0.1, r))
    sc.add_stream(SAStream(A6, B6, 0x7E570003,
                           wire(drop_bursts(seq_run(50, n), 5, 64, 300, r)),
                           exts=random_exts))
    sc.add_stream(SAStream(C4, D4, 0x7E570004,
                           wire(drop_random(seq_run(7, n), 0.05, r)
                                + seq_run(7 + n + 1_000_000, 100)),
                           encap="udp", sport=4500, dport=62000))
    add_natt_noise(sc, C4, D4, 10, r, sc.span())
    return sc


# --------------------------------------------------------------------------
# bench: >= 2,000,000 ESP packets, fast path

def bench(path, seed=24, packets=2_000_000, nsa=8, window=64):
    """Write the bench capture directly (precomputed headers, only the
    sequence number and timestamps patched) and return the truth report."""
    rng = random.Random(seed)
    link = Link("eth", pad=False)
    per = (packets + nsa - 1) // nsa
    sas = []
    for k in range(nsa):
        src, dst = ("10.200.0.1", "10.200.%d.2" % (k // 2 + 1)) if k % 2 == 0 else \
                   ("10.200.%d.2" % (k // 2 + 1), "10.200.0.1")
        src, dst = ip(src), ip(dst)
        spi = 0xBE000000 + k
        payload = rng.randbytes(32)
        pkt = ipv4(src, dst, IPPROTO_ESP, esp(spi, 0, payload), df=True)
        frame = link.frame(pkt)
        spi_off = len(frame) - len(payload) - 8
        pre, post = frame[:spi_off + 4], frame[spi_off + 8:]
        pre = (pre, ip_header_length(pkt))
        # sequence list: mostly in order, ~0.5% loss, ~0.5% adjacent swaps,
        # one burst, a few duplicates
        start = 1 + rng.randrange(1_000_000)
        seqs = list(range(start, start + per + per // 50 + 200))
        keep = [s for s in seqs if rng.random() >= 0.005]
        keep[1000:1000 + 100] = []
        for _ in range(len(keep) // 200):
            i = rng.randrange(1, len(keep) - 2)
            keep[i], keep[i + 1] = keep[i + 1], keep[i]
        for _ in range(50):
            i = rng.randrange(1, len(keep) - 2)
            keep.insert(i + 1, keep[i])
        del keep[per:]
        sas.append((src, dst, spi, pre, post, keep))
    # interleave round-robin (timestamps 1 us apart)
    total = sum(len(s[5]) for s in sas)
    rec = struct.Struct("<IIII")
    chunks = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, DLT_EN10MB)]
    tr = Truth(window)
    idx = [0] * nsa
    t = BASE_TS_US
    order = []
    for k, s in enumerate(sas):
        order.extend([k] * len(s[5]))
    rng.shuffle(order)
    models = {}
    for k in order:
        src, dst, spi, (pre, ip_len), post, keep = sas[k]
        x = keep[idx[k]] & 0xFFFFFFFF
        idx[k] += 1
        flen = len(pre) + 4 + len(post)
        chunks.append(rec.pack(t // 1_000_000, t % 1_000_000, flen, flen))
        chunks.append(pre)
        chunks.append(x.to_bytes(4, "big"))
        chunks.append(post)
        t += 1
        m = models.get(k)
        if m is None:
            tr.frame(KIND_ESP, (src, dst, spi, "esp", x), ip_len)
            models[k] = tr.sas[(src, dst, spi)]["model"]
        else:
            tr.capture["packets"] += 1
            tr.capture["esp"] += 1
            tr.sas[(src, dst, spi)]["octets"] += ip_len
            m.update(x)
    with open(path, "wb") as f:
        f.write(b"".join(chunks))
    assert total == len(order)
    return tr.report()


# --------------------------------------------------------------------------
# CLI

def truth_document(sc, report):
    return {"scenario": sc.name, "window": sc.window, "args": sc.args(),
            "config": sc.config(), "expected": report}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario")
    ap.add_argument("--out")
    ap.add_argument("--truth")
    ap.add_argument("--config-out", help="write the scenario's config file here")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--packets", type=int)
    ap.add_argument("--linktype", choices=sorted(Link.DLT),
                    help="re-frame the scenario's packets for this link type")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args(argv)
    if a.list:
        print("\n".join(sorted(SCENARIOS) + ["bench"]))
        return 0
    if not a.scenario or not a.out:
        ap.error("--scenario and --out are required")
    if a.scenario == "bench":
        if a.linktype:
            ap.error("--linktype does not apply to the bench scenario")
        kw = {}
        if a.seed is not None:
            kw["seed"] = a.seed
        if a.packets:
            kw["packets"] = a.packets
        rep = bench(a.out, **kw)
        doc = {"scenario": "bench", "window": 64, "args": [], "config": "",
               "expected": rep}
    else:
        fn = SCENARIOS.get(a.scenario)
        if fn is None:
            ap.error("unknown scenario %r (try --list)" % a.scenario)
        kw = {}
        if a.seed is not None:
            kw["seed"] = a.seed
        if a.packets:
            kw["packets"] = a.packets
        sc = fn(**kw)
        if a.linktype:
            sc.relink(a.linktype)
        sc.write(a.out)
        doc = truth_document(sc, sc.truth())
    if a.truth:
        with open(a.truth, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    if a.config_out:
        with open(a.config_out, "w") as f:
            f.write(doc["config"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
