"""Resource bounds: every cap holds with exact counts, memory stays bounded.

Offline (``interactive -r --json``):
  * SA flood: 1,000,000 distinct SPIs against loss.max_sas = 1000 (the
    table-full policy itself: tests/integration/test_spray.py);
  * tunnel flood: 10,000 distinct address pairs against loss.max_tunnels = 100;
  * sequence-number extremes on one SA (2^31-1 forward jumps, reordering
    that alternates across the 2^32 / 2^33 wraps, 1,000,000 copies of one
    packet): exact counts, and peak RSS equal to a plain 1-SA run.

Live (a network namespace with a veth pair vA <-> vB; a private snmpd +
our subagent run inside it and capture on vB; tcpreplay sends on vA):
  * a discovered tunnel and its SAs age out after loss.sa_idle_timeout,
    a configured tunnel stays;
  * 10,000 SAs and 20 concurrent bulk walks of ipsecDiagSaTable while
    tcpreplay keeps feeding ESP: every walk complete, ordered, no errors.

Expected values are computed here by hand from the documented rules
(engine.h: a new SA is tentative until a packet moves its highest
sequence number forward by 1..W; when the table is full a new SA evicts
the oldest tentative SA, or is refused and counted in capture.untracked
if there is none; a packet of a new address pair beyond max_tunnels is
counted in capture.untracked), never read from the program.
Peak RSS is the program's own ru_maxrss, measured by GNU time (/usr/bin/time,
Debian package "time") around it.
"""
import ipaddress
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from snmpenv import SnmpEnv, ROOT, wait_for
import live_helpers as H

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gen"))
import espgen  # noqa: E402

US = 1_000_000
BASE_TS = 1_700_000_000 * US
ETH_DST = bytes.fromhex("020000000002")
ETH_SRC = bytes.fromhex("020000000001")
A4, B4 = "198.51.100.1", "203.0.113.7"       # A4 < B4: offline, A4 is "local"


# --------------------------------------------------------------------------
# pcap building (fast: one template frame, fields patched in place)

PCAP_HDR = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, espgen.DLT_EN10MB)


def esp_frame(src, dst, spi, seq, dst_mac=ETH_DST, src_mac=ETH_SRC, payload=16):
    """Ethernet + IPv4 + ESP(spi, seq) + payload bytes, padded to 60."""
    pkt = espgen.ipv4(src, dst, espgen.IPPROTO_ESP,
                      espgen.esp(spi, seq, bytes(range(payload))), df=True)
    f = dst_mac + src_mac + struct.pack("!H", espgen.ETH_IPV4) + pkt
    return f + b"\0" * max(0, 60 - len(f))


SPI_OFF = 14 + 20            # offset of the SPI in esp_frame()
SEQ_OFF = SPI_OFF + 4


def record(ts_us, frame):
    return struct.pack("<IIII", ts_us // US, ts_us % US, len(frame), len(frame)) + frame


def write_pcap(path, records):
    with open(path, "wb") as f:
        f.write(PCAP_HDR)
        for r in records:
            f.write(r)


def one_sa_pcap(path, seqs, spi=0x5A000001, src=B4, dst=A4, dst_mac=ETH_DST, src_mac=ETH_SRC,
                gap_us=10):
    """One SA, the given 32-bit wire sequence numbers in order, gap_us apart."""
    tmpl = bytearray(record(BASE_TS, esp_frame(src, dst, spi, 0, dst_mac, src_mac)))
    rl = len(tmpl)
    buf = bytearray(tmpl * len(seqs))
    for i, s in enumerate(seqs):
        ts = BASE_TS + i * gap_us
        struct.pack_into("<II", buf, i * rl, ts // US, ts % US)
        struct.pack_into("!I", buf, i * rl + 16 + SEQ_OFF, s & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(PCAP_HDR)
        f.write(buf)
    return len(seqs)


# --------------------------------------------------------------------------
# running the program offline, with its own peak RSS

def run_offline(idt_bin, workdir, pcap, config_text, name):
    """interactive -r --json; returns (report dict, ru_maxrss KiB, stderr)."""
    conf = Path(workdir) / ("%s.conf" % name)
    conf.write_text(config_text)
    out = Path(workdir) / ("%s.json" % name)
    err = Path(workdir) / ("%s.err" % name)
    env = dict(os.environ, LC_ALL="C")
    rssf = Path(workdir) / ("%s.rss" % name)
    timebin = "/usr/bin/time"
    if not os.access(timebin, os.X_OK):
        pytest.fail("/usr/bin/time is missing (apt-get install time): needed to measure the "
                    "peak RSS of the program alone", pytrace=False)
    # GNU time forks a small child that execs the program: ru_maxrss then
    # is the program's own (a child forked from this big Python process
    # would carry Python's RSS into its ru_maxrss across exec).
    with open(out, "wb") as fo, open(err, "wb") as fe:
        p = subprocess.run([timebin, "-f", "%M", "-o", str(rssf), idt_bin, "interactive", "-c",
                            str(conf), "-r", str(pcap), "--json"],
                           stdout=fo, stderr=fe, env=env, timeout=300)
    assert p.returncode == 0, "%s: exit %d: %s" % (name, p.returncode, err.read_text())
    rss = int(rssf.read_text().split()[-1])
    return json.loads(out.read_text()), rss, err.read_text()


def plain_pcap(workdir, n=1000):
    """The reference 1-SA capture: n in-order packets, nothing lost.
    (Peak RSS of a run grows by a few hundred KiB, once, with the size of
    the file read - measured: +~450 KiB from 1,000 to 100,000 packets, flat
    from there to 3,000,000 - so baselines have the same packet count.)"""
    path = Path(workdir) / ("plain%d.pcap" % n)
    one_sa_pcap(path, list(range(1, n + 1)), gap_us=1)
    return path


def check_plain(rep, n=1000):
    assert len(rep["sas"]) == 1
    sa = rep["sas"][0]
    assert (sa["received"], sa["lost"], sa["late"], sa["duplicates"], sa["reordered"],
            sa["highest_seq"]) == (n, 0, 0, 0, 0, n)


# --------------------------------------------------------------------------
# 1. SA flood

N_FLOOD = 1_000_000
MAX_SAS = 1000
FLOOD_SPI0 = 0x01000000
EXTRA = 5                   # more packets of the first (evicted long ago) and the last SA


def test_sa_flood_capped_at_max_sas(idt_bin, workdir):
    cfg = "loss: { max_sas = %d; };\n" % MAX_SAS
    # 1,000,000 packets, SPI FLOOD_SPI0 + i, seq 1 each; then EXTRA packets of
    # SPI #0 (seq 2..6) and EXTRA of SPI #999999 (seq 2..6).
    pcap = Path(workdir) / "saflood.pcap"
    tmpl = record(BASE_TS, esp_frame(B4, A4, FLOOD_SPI0, 1))
    rl = len(tmpl)
    buf = bytearray(tmpl * N_FLOOD)
    off = 16 + SPI_OFF
    for i in range(N_FLOOD):
        struct.pack_into("!I", buf, i * rl + off, FLOOD_SPI0 + i)
    extra = [record(BASE_TS + 1 + k, esp_frame(B4, A4, FLOOD_SPI0, 2 + k)) for k in range(EXTRA)]
    extra += [record(BASE_TS + 1 + k, esp_frame(B4, A4, FLOOD_SPI0 + N_FLOOD - 1, 2 + k))
              for k in range(EXTRA)]
    with open(pcap, "wb") as f:
        f.write(PCAP_HDR)
        f.write(buf)
        f.write(b"".join(extra))
    del buf

    total = N_FLOOD + 2 * EXTRA
    base_rep, base_rss, _ = run_offline(idt_bin, workdir, plain_pcap(workdir, total), cfg,
                                        "flood-base")
    check_plain(base_rep, total)
    rep, rss, err = run_offline(idt_bin, workdir, pcap, cfg, "saflood")

    # The table-full policy (engine.h): every flood SA stays tentative (one
    # packet each); once the 1000 slots are full each new SA evicts the
    # oldest tentative one.  After the flood the table holds SPIs
    # #999000..#999999.  SPI #0's seq 2 comes back as a new SA and evicts
    # #999000; its seq 3 confirms it.  SPI #999999's seq 2 confirms it.
    cap = rep["capture"]
    assert (cap["packets"], cap["esp"], cap["ignored"], cap["malformed"]) == (total, total, 0, 0)
    assert cap["untracked"] == 0                     # nothing refused: junk gives way
    evicted = N_FLOOD - MAX_SAS + 1
    assert evicted == 999_001
    assert rep["sa_table"] == {"max_sas": MAX_SAS, "reserved": 0, "active": MAX_SAS,
                               "tentative": MAX_SAS - 2, "evicted": 999_001, "refused_pkts": 0}
    assert len(rep["sas"]) == MAX_SAS
    spis = sorted(int(s["spi"], 16) for s in rep["sas"])
    assert spis == [FLOOD_SPI0] + [FLOOD_SPI0 + i for i in range(N_FLOOD - MAX_SAS + 1, N_FLOOD)]
    by_spi = {int(s["spi"], 16): s for s in rep["sas"]}
    first = by_spi[FLOOD_SPI0]                       # seq 2..6 of its second admission
    assert (first["received"], first["lost"], first["highest_seq"], first["tentative"]) == \
        (EXTRA, 0, 1 + EXTRA, False)
    last = by_spi[FLOOD_SPI0 + N_FLOOD - 1]          # seq 1..6
    assert (last["received"], last["lost"], last["highest_seq"], last["tentative"]) == \
        (1 + EXTRA, 0, 1 + EXTRA, False)
    for i in range(N_FLOOD - MAX_SAS + 1, N_FLOOD - 1):
        s = by_spi[FLOOD_SPI0 + i]
        assert (s["received"], s["lost"], s["highest_seq"], s["direction"], s["tentative"]) == \
            (1, 0, 1, "inbound", True)
    assert len(rep["tunnels"]) == 1
    tu = rep["tunnels"][0]
    # every packet was counted in the tunnel while its SA was in the table;
    # "sas" counts admissions (SPI #0 was admitted twice)
    assert (tu["origin"], tu["local"], tu["remote"], tu["sas"]) == ("discovered", A4, B4, N_FLOOD + 1)
    assert (tu["received"], tu["lost"]) == (total, 0)
    assert (tu["tentative_sas"], tu["evicted_sas"], tu["refused_pkts"]) == (MAX_SAS - 2, evicted, 0)
    # memory: a budget derived from max_sas, over the 1-SA run
    budget = base_rss + MAX_SAS * 1      # KiB: 1 KiB per SA slot, generous
    print("SA flood: peak RSS %d KiB, 1-SA run of as many packets %d KiB, budget %d KiB"
          % (rss, base_rss, budget))
    assert rss <= budget, "peak RSS %d KiB > budget %d KiB (1-SA run: %d KiB)" % (rss, budget, base_rss)


# --------------------------------------------------------------------------
# 2. tunnel flood

N_PAIRS = 10_000
MAX_TUNNELS = 100
CONF_PAIR = 5000            # this pair is a configured tunnel


def pair_addrs(i):
    local = str(ipaddress.IPv4Address(0x0A000000 + i))     # 10.0.x.y  (lower: local)
    remote = str(ipaddress.IPv4Address(0x0B000000 + i))    # 11.0.x.y
    return local, remote


def test_tunnel_flood_capped_at_max_tunnels(idt_bin, workdir):
    cl, cr = pair_addrs(CONF_PAIR)
    cfg = ("loss: { max_tunnels = %d; };\n"
           'tunnels = ( { name = "conf"; index = 1; local = "%s"; remote = "%s"; } );\n'
           % (MAX_TUNNELS, cl, cr))
    # two passes over all pairs: seq 1 for every pair, then seq 2 for every pair
    recs = []
    ts = BASE_TS
    for seq in (1, 2):
        for i in range(N_PAIRS):
            local, remote = pair_addrs(i)
            recs.append(record(ts, esp_frame(remote, local, 0x1000 + i, seq)))
            ts += 1
    pcap = Path(workdir) / "tflood.pcap"
    write_pcap(pcap, recs)
    rep, rss, _ = run_offline(idt_bin, workdir, pcap, cfg, "tflood")

    cap = rep["capture"]
    assert (cap["packets"], cap["esp"]) == (2 * N_PAIRS, 2 * N_PAIRS)
    # every packet of a pair that got no tunnel is refused (its SA is removed
    # again and the next packet is refused the same way): 9,899 pairs x 2
    assert cap["untracked"] == (N_PAIRS - MAX_TUNNELS - 1) * 2 == 19_798
    disc = [t for t in rep["tunnels"] if t["origin"] == "discovered"]
    conf = [t for t in rep["tunnels"] if t["origin"] == "configured"]
    assert len(disc) == MAX_TUNNELS
    assert len(conf) == 1 and conf[0]["name"] == "conf"
    assert (conf[0]["sas"], conf[0]["received"]) == (1, 2)
    # the first 100 pairs in arrival order, indexes 2..101 in that order
    exp = [(2 + i, "%s-%s" % pair_addrs(i)) for i in range(MAX_TUNNELS)]
    assert sorted((t["index"], t["name"]) for t in disc) == exp
    for t in disc:
        assert (t["sas"], t["received"], t["lost"]) == (1, 2, 0)
    assert len(rep["sas"]) == MAX_TUNNELS + 1
    print("tunnel flood: peak RSS %d KiB" % rss)


# --------------------------------------------------------------------------
# 3. sequence-number extremes: exact counts, RSS of a plain 1-SA run

J = (1 << 31) - 1           # the largest forward distance
M32, M33 = 1 << 32, 1 << 33


def jump_seqs():
    """1..100, a 2^31-1 jump, 100 in order, another 2^31-1 jump (crossing
    2^32 in the 64-bit space), 100 in order."""
    s = list(range(1, 101))
    h = 100 + J
    s += list(range(h, h + 101))
    h = h + 100 + J
    s += list(range(h, h + 101))
    return s


def alt_block(m):
    """64 packets alternating across the wrap at m: m, m-32, m+1, m-31, ..."""
    out = []
    for i in range(32):
        out += [m + i, m - 32 + i]
    return out


def esn_seqs():
    s = list(range(M32 - 256, M32 - 32))         # 224 in order below 2^32
    s += alt_block(M32)                           # 32 next + 32 reordered
    s += list(range(M32 + 32, M32 + 100))         # 68 in order
    x1 = M32 + 99 + J                             # jump: 2^31 - 2 lost
    x2 = M33 - 256                                # jump: x2 - (x1+2) - 1 lost
    # x1 is held until x1+1, x1+2 confirm it: x2 is 2^31 + 2 ahead of the
    # H before x1, i.e. behind it, so it is only a forward jump from x1
    s += [x1, x1 + 1, x1 + 2, x2]
    s += list(range(M33 - 255, M33 - 32))        # 223 in order below 2^33
    s += alt_block(M33)
    s += list(range(M33 + 32, M33 + 100))
    return s


def test_sequence_extremes_exact_counts_constant_memory(idt_bin, workdir):
    cfg = "loss: { window = 64; };\n"
    base = {}
    for n in (1000, 1_000_000):
        rep, base[n], _ = run_offline(idt_bin, workdir, plain_pcap(workdir, n), cfg, "plain%d" % n)
        check_plain(rep, n)

    cases = {}
    # (a) two forward jumps of exactly 2^31-1
    js = jump_seqs()
    p = Path(workdir) / "jump.pcap"
    one_sa_pcap(p, js)
    # received 100 + 101 + 101; lost: the numbers strictly inside each jump
    cases["jump"] = (p, (302, 2 * (J - 1), 0, 0, 0, 100 + J + 100 + J + 100))
    assert js[-1] == 4294967594 and 2 * (J - 1) == 4294967292
    # (b) reordering alternating across the 2^32 and the 2^33 wraps
    es = esn_seqs()
    p = Path(workdir) / "esn.pcap"
    one_sa_pcap(p, es)
    lost_b = (J - 1) + ((M33 - 256) - (M32 + 99 + J + 2) - 1)
    assert len(es) == 715 and lost_b == M32 - 359 == 4294966937
    cases["esn"] = (p, (715, lost_b, 0, 0, 64, M33 + 99))
    # (c) 1,000,000 copies of one packet
    p = Path(workdir) / "dups.pcap"
    one_sa_pcap(p, [77] * 1_000_000, gap_us=1)
    cases["dups"] = (p, (1_000_000, 0, 0, 999_999, 0, 77))

    # the reference model of espgen agrees with the hand calculation
    for name, seqs in (("jump", js), ("esn", es)):
        m = espgen.ReplayModel(64)
        for x in seqs:
            m.update(x & 0xFFFFFFFF)
        m.finish()
        c = m.counters()
        exp = cases[name][1]
        assert (c["received"], c["lost"], c["late"], c["duplicates"], c["reordered"], m.H) == exp, name

    for name, (path, exp) in cases.items():
        rep, rss, _ = run_offline(idt_bin, workdir, path, cfg, name)
        base_rss = base[1000 if exp[0] <= 1000 else 1_000_000]
        assert len(rep["sas"]) == 1 and len(rep["tunnels"]) == 1, name
        sa = rep["sas"][0]
        got = (sa["received"], sa["lost"], sa["late"], sa["duplicates"], sa["reordered"],
               sa["highest_seq"])
        assert got == exp, "%s: got %r expected %r" % (name, got, exp)
        tu = rep["tunnels"][0]
        assert (tu["received"], tu["lost"], tu["late"], tu["duplicates"], tu["reordered"]) == exp[:5]
        assert rep["capture"]["untracked"] == 0
        print("%s: peak RSS %d KiB (plain 1-SA run, %d packets: %d KiB)"
              % (name, rss, 1000 if exp[0] <= 1000 else 1_000_000, base_rss))
        assert abs(rss - base_rss) <= RSS_TOLERANCE_KIB, \
            "%s: peak RSS %d KiB vs %d KiB for a plain 1-SA run" % (name, rss, base_rss)


# Run-to-run noise of the peak RSS of identical runs is about +-350 KiB here;
# any per-packet allocation in the 1,000,000-duplicate run would add >= 32 MB.
RSS_TOLERANCE_KIB = 1024


# --------------------------------------------------------------------------
# live: namespace + veth

_ns_counter = [0]


from snmpenv import sh, tool as _tool  # noqa: E402  (shared helpers)


class Net:
    """Namespace with veth vA <-> vB; the subagent captures on vB."""

    def __init__(self, workdir, tag="idtb"):
        _ns_counter[0] += 1
        self.ns = "%s%d-%d" % (tag, os.getpid(), _ns_counter[0])
        self.dir = Path(workdir)
        self.created = False
        self.env = None

    def up(self):
        if os.geteuid() != 0:
            pytest.fail("live tests need root (network namespaces)", pytrace=False)
        for t in ("ip", "tcpreplay", "snmpd", "snmpbulkwalk"):
            if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t):
                pytest.fail("live tests need %s (apt-get install iproute2 tcpreplay snmpd snmp)" % t,
                            pytrace=False)
        sh(_tool("ip"), "netns", "add", self.ns)
        self.created = True
        sh(_tool("ip"), "-n", self.ns, "link", "set", "lo", "up")
        self.make_veth()

    def make_veth(self):
        ipn = [_tool("ip"), "-n", self.ns]
        sh(*ipn, "link", "add", "vA", "type", "veth", "peer", "name", "vB")
        # no IPv6 on them: a new link's MLD reports (with a hop-by-hop
        # header, so they pass the capture's superset filter) would be
        # counted among the kernel's drops when they meet a full ring
        sh(_tool("ip"), "netns", "exec", self.ns, _tool("sysctl"), "-qw",
           "net.ipv6.conf.vA.disable_ipv6=1", "net.ipv6.conf.vB.disable_ipv6=1")
        for dev in ("vA", "vB"):
            sh(*ipn, "link", "set", dev, "up")
        info = json.loads(sh(*ipn, "-j", "link", "show").stdout)
        macs = {d["ifname"]: bytes.fromhex(d["address"].replace(":", "")) for d in info}
        self.mac_a, self.mac_b = macs["vA"], macs["vB"]

    def del_veth(self):
        sh(_tool("ip"), "-n", self.ns, "link", "del", "vA")

    def start_snmp(self, idt_bin, config_text, name="snmp"):
        self.env = SnmpEnv(self.dir / name, idt_bin, config_text, netns=self.ns, traps=False)
        self.env.__enter__()
        return self.env

    def down(self):
        if self.env is not None:
            self.env.close()
        if self.created:
            subprocess.run([_tool("ip"), "netns", "del", self.ns], capture_output=True)
            self.created = False

    def exec_cmd(self, *args):
        return [_tool("ip"), "netns", "exec", self.ns] + [str(a) for a in args]

    def replay(self, pcap, *extra, timeout=120):
        """tcpreplay onto vA (arrives on vB); returns the packets sent."""
        r = sh(*self.exec_cmd("tcpreplay", "-q", "-i", "vA", *extra, pcap), timeout=timeout)
        m = re.search(r"Actual: (\d+) packets", r.stdout)
        assert m, r.stdout + r.stderr
        return int(m.group(1))

    def sa_pcap(self, path, seqs, spi, src, dst, gap_us=100):
        return one_sa_pcap(path, seqs, spi=spi, src=src, dst=dst, dst_mac=self.mac_b,
                           src_mac=self.mac_a, gap_us=gap_us)


def net_fixture(tag):
    """A pytest fixture `net`: a Net with namespace tag `tag`, up for the test."""
    @pytest.fixture
    def net(workdir):
        n = Net(workdir, tag=tag)
        try:
            n.up()
            yield n
        finally:
            n.down()
    return net


net = net_fixture("idtb")


def esp_pkts(env):
    return H.get_numeric(env, ROOT + ".1.1.2.0")      # ipsecDiagEspPkts


def warm_up(net, env, spi=0x3A000001, src="192.0.2.200", dst="192.0.2.100"):
    """Until ipsecDiagEspPkts moves: the capture is open.  Returns the
    number of ESP packets the warm-up added (counted, not assumed)."""
    p = net.dir / "warmup.pcap"
    net.sa_pcap(p, [1, 2, 3], spi, src, dst)

    def seen():
        net.replay(p)
        v = esp_pkts(env)
        return isinstance(v, int) and v >= 3
    wait_for(seen, 20, step=0.5, what="the capture to see packets on vB")
    # a replay sent just before the check may not be in the snapshot yet
    # (published about once a second): wait until two reads 1.2 s apart agree
    last = [esp_pkts(env)]

    def settled():
        time.sleep(1.2)
        v = esp_pkts(env)
        same = v == last[0]
        last[0] = v
        return same
    wait_for(settled, 10, step=0, what="ipsecDiagEspPkts to settle after the warm-up")
    return last[0]


CONF_IDX = 1
CONF_L, CONF_R = "192.0.2.1", "192.0.2.2"
DISC_L, DISC_R = "198.18.0.1", "198.18.0.2"     # no address is local: lower = local


def test_discovered_tunnel_ages_out(net, idt_bin):
    timeout = 10            # the minimum of loss.sa_idle_timeout (config.h: 10..604800)
    conf = ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            "loss: { sa_idle_timeout = %d; };\n"
            'tunnels = ( { name = "conf1"; index = %d; local = "%s"; remote = "%s"; } );\n'
            % (timeout, CONF_IDX, CONF_L, CONF_R))
    env = net.start_snmp(idt_bin, conf)
    # warm up on the configured tunnel (its row must stay anyway)
    warm_up(net, env, spi=0x3A000001, src=CONF_R, dst=CONF_L)
    # a discovered pair, both directions: inbound (remote -> local) and outbound
    p_in, p_out = net.dir / "d_in.pcap", net.dir / "d_out.pcap"
    net.sa_pcap(p_in, list(range(1, 6)), 0xD15C0001, DISC_R, DISC_L)
    net.sa_pcap(p_out, list(range(1, 4)), 0xD15C0002, DISC_L, DISC_R)
    assert net.replay(p_in) == 5 and net.replay(p_out) == 3
    t_last = time.monotonic()
    disc_idx = CONF_IDX + 1     # first discovered index = max configured + 1

    def row_seen():     # both replays in the same snapshot (published once a second)
        r = H.tunnel_row(env, disc_idx)
        return r if r.get("InPkts") == 5 and r.get("ActiveSAs") == 2 else None
    row = wait_for(row_seen, 5, step=0.2, what="discovered tunnel row with InPkts 5, 2 SAs")
    assert row["Name"] == "%s-%s" % (DISC_L, DISC_R)
    assert row["Origin"] == 2 and row["ActiveSAs"] == 2
    sas = H.sa_table(env)
    assert set(k for k in sas if k[0] == disc_idx) == {(disc_idx, H.INBOUND, 0xD15C0001),
                                                        (disc_idx, H.OUTBOUND, 0xD15C0002)}

    # it is gone after more than sa_idle_timeout, not before
    def gone():
        w = H.walk_numeric(env, H.TUNNEL_ENTRY + ".2")
        return "%s.2.%d" % (H.TUNNEL_ENTRY, disc_idx) not in w
    while time.monotonic() - t_last < timeout - 1:
        assert not gone(), "discovered tunnel gone after only %.1fs" % (time.monotonic() - t_last)
        time.sleep(1)
    wait_for(gone, 8, step=0.3, what="the discovered tunnel to age out")
    elapsed = time.monotonic() - t_last
    print("discovered tunnel aged out %.1f s after its last packet (sa_idle_timeout %d)"
          % (elapsed, timeout))
    assert timeout - 1 <= elapsed <= timeout + 6, elapsed
    sas = H.sa_table(env)
    assert [k for k in sas if k[0] == disc_idx] == []
    # the configured tunnel stays (and its own warm-up SA may have expired too)
    names = H.walk_numeric(env, H.TUNNEL_ENTRY + ".2")
    assert names == {"%s.2.%d" % (H.TUNNEL_ENTRY, CONF_IDX): "conf1"}
    assert H.tunnel_col(env, "InPkts", CONF_IDX) >= 3
    assert "discovered tunnel %s-%s (index %d) aged out" % (DISC_L, DISC_R, disc_idx) in env.agent_text()
    assert env.agent.poll() is None


# --------------------------------------------------------------------------
# SNMP under load
#
# Throughput measured here (2 CPUs): one snmpbulkwalk of the whole SA table
# (13 columns then, 130,013 varbinds) takes ~6 s unloaded, i.e. snmpd +
# AgentX move ~20,000 varbinds/s, serialised.  20 concurrent walks of the
# whole table would be 2.6 M varbinds (~130 s) per round, so each round is:
# walker 0 walks the whole table (20 columns, 200,020 varbinds), walkers
# 1..19 walk one column each (19 of the 20 in turn), 20 walks at once, 2 rounds,
# about 370,000 varbinds per round.

N_LOAD_SAS = 10_000
# ipsecDiagSaEntry columns 3..16, 20 (octets), the text columns 30..32 and the IKE
# columns 33..34: 20 accessible
SA_COLUMNS = list(range(3, 17)) + [20, 30, 31, 32, 33, 34]
N_WALKERS = 20
ROUNDS = 2
LOAD_SPI0 = 0x20000000


def test_snmp_walks_under_load(net, idt_bin):
    conf = ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            'tunnels = ( { name = "load"; index = 1; local = "%s"; remote = "%s"; } );\n'
            % (CONF_L, CONF_R))
    env = net.start_snmp(idt_bin, conf)
    warm_up(net, env, spi=LOAD_SPI0 - 1, src=CONF_R, dst=CONF_L)
    # 10,000 inbound SAs (plus the warm-up one): one packet each, seq 1
    tmpl = record(BASE_TS, esp_frame(CONF_R, CONF_L, LOAD_SPI0, 1, net.mac_b, net.mac_a))
    rl = len(tmpl)
    buf = bytearray(tmpl * N_LOAD_SAS)
    for i in range(N_LOAD_SAS):
        struct.pack_into("!I", buf, i * rl + 16 + SPI_OFF, LOAD_SPI0 + i)
        struct.pack_into("<I", buf, i * rl + 4, i)
    pcap = net.dir / "load.pcap"
    with open(pcap, "wb") as f:
        f.write(PCAP_HDR + buf)
    assert net.replay(pcap, "--topspeed") == N_LOAD_SAS
    nrows = N_LOAD_SAS + 1
    wait_for(lambda: H.get_numeric(env, ROOT + ".1.1.5.0") == nrows, 15, step=0.5,
             what="ipsecDiagActiveSAs = %d" % nrows)
    spis = sorted([LOAD_SPI0 - 1] + [LOAD_SPI0 + i for i in range(N_LOAD_SAS)])

    def expected(cols):
        return ["%s.%d.%d.%d.%d" % (H.SA_ENTRY, col, 1, H.INBOUND, spi) for col in cols for spi in spis]
    full = expected(SA_COLUMNS)
    assert len(full) == 20 * nrows == 200_020
    per_col = {c: expected([c]) for c in SA_COLUMNS}

    # background ESP: the same SAs again, looping as fast as tcpreplay can
    feeder = subprocess.Popen(net.exec_cmd("tcpreplay", "-q", "-i", "vA", "--topspeed",
                                           "--loop=0", pcap),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = []
    durations = []
    varbinds = [0]
    lock = threading.Lock()

    def walker(k, rnd):
        if k == 0:
            root, exp = H.SA_ENTRY, full
        else:
            col = SA_COLUMNS[(k - 1 + rnd) % len(SA_COLUMNS)]
            root, exp = "%s.%d" % (H.SA_ENTRY, col), per_col[col]
        t0 = time.monotonic()
        cmd = env._prefix() + ["snmpbulkwalk", "-v2c", "-c", "public", "-m", "", "-On", "-Oq",
                               "-t", "10", "-r", "1", "-Cr50",
                               "127.0.0.1:%d" % env.port, root]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=110)
        except subprocess.TimeoutExpired:
            with lock:
                failures.append("walk %d/%d of %s timed out (110 s)" % (rnd, k, root))
            return
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        oids = [l.split(" ", 1)[0] for l in lines]
        problems = []
        if p.returncode != 0:
            problems.append("exit %d: %s" % (p.returncode, p.stderr.strip()[:300]))
        if p.stderr.strip():
            problems.append("stderr: %s" % p.stderr.strip()[:300])
        if any("genErr" in l or "No Such" in l or "Timeout" in l for l in lines):
            problems.append("error in output")
        if len(oids) != len(exp):
            problems.append("%d varbinds, expected %d" % (len(oids), len(exp)))
        elif oids != exp:
            problems.append("OIDs differ from the expected ordered list")
        with lock:
            durations.append(time.monotonic() - t0)
            varbinds[0] += len(oids)
            if problems:
                failures.append("walk %d/%d of %s: %s" % (rnd, k, root, "; ".join(problems)))

    t_start = time.monotonic()
    in_before = H.tunnel_col(env, "InPkts", 1)
    try:
        for rnd in range(ROUNDS):
            ths = [threading.Thread(target=walker, args=(k, rnd)) for k in range(N_WALKERS)]
            for t in ths:
                t.start()
            for t in ths:
                t.join()
        feeder_alive = feeder.poll() is None
        in_after = H.tunnel_col(env, "InPkts", 1)
    finally:
        if feeder.poll() is None:
            feeder.send_signal(signal.SIGINT)
            try:
                feeder.wait(5)
            except subprocess.TimeoutExpired:
                feeder.kill()
                feeder.wait()
    total = time.monotonic() - t_start
    print("walks: %d rounds x %d concurrent, %d varbinds in %.1f s (%.0f/s), %.1f..%.1f s per walk; "
          "ESP during the walks: %d packets"
          % (ROUNDS, N_WALKERS, varbinds[0], total, varbinds[0] / total, min(durations or [0]),
             max(durations or [0]), in_after - in_before))
    assert not failures, "\n".join(failures[:10])
    assert feeder_alive, "tcpreplay stopped before the walks ended: no load during the walks"
    assert in_after > in_before, "no ESP was counted during the walks"
    assert env.agent.poll() is None
    log = env.snmpd_log.read_text(errors="replace")
    bad = [l for l in log.splitlines() if re.search(r"AgentX.*timeout|timed out", l, re.I)]
    assert not bad, bad[:5]
