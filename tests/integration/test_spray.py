"""SPI spraying must not blind the monitor to real SAs (issue 16, part 2).

The table-full policy (src/engine.h, mibs/IPSECDIAG-MIB.txt
ipsecDiagTentativeSAs): a new SA is tentative until a packet moves its
highest sequence number forward by 1..W; when the table is full a new SA
evicts the oldest tentative SA, confirmed SAs are never evicted, and with
nothing to evict the new SA is refused.  SAs of configured tunnels have 8
reserved slots per configured tunnel and are never evicted by other SAs.

Offline (``interactive -r --json``, peak RSS measured as test_bounds.py
does) and live (a namespace with a veth pair, a private snmpd + our
subagent capturing on vB, tcpreplay sending on vA):
  * 70,000 single-packet SPIs, then a real 2,000-packet SA with 25 lost:
    the real SA is tracked with exact counts; memory stays bounded;
  * a configured tunnel's SA (and a discovered one) while the spray goes
    on around it: tracked with exact counts;
  * offline: the reserve holds when the table is full of *confirmed* junk.

Expected values come from how the packets are built here and from the
documented rules (hand calculations in the comments), never from the
program.
"""
import re
import struct
import subprocess
import signal
import time
from pathlib import Path

import pytest

from snmpenv import SnmpEnv, ROOT, wait_for
import live_helpers as H
from test_bounds import (PCAP_HDR, BASE_TS, US, A4, B4, SPI_OFF, esp_frame, record, run_offline,
                         Net, esp_pkts, warm_up, net_fixture)

MAX_SAS = 65536                 # loss.max_sas default (config.c)
N_SPRAY = 70_000
SPRAY_SRC = "192.0.2.66"        # the sprayer's (spoofed) source; to A4
SPRAY_SPI0 = 0x0B000000
REAL_SPI = 0x5EA10001
CONF_SPI_IN, CONF_SPI_OUT = 0xC0F00001, 0xC0F00002
CONF_L, CONF_R = "192.0.2.1", "192.0.2.2"
RESERVE_PER_TUNNEL = 8          # engine.h ENGINE_RESERVE_PER_TUNNEL

# The real SA: sequence numbers 1..2025 with 25 of them never sent (one in
# every 80, from 3 on: each gap is a single number, well inside W = 64, so
# all 25 are lost and nothing is late); 2,000 packets.
LOST = [3 + 80 * k for k in range(25)]
REAL_SEQS = [s for s in range(1, 2026) if s not in set(LOST)]
assert len(REAL_SEQS) == 2000 and len(LOST) == 25 and LOST[-1] == 1923
REAL_EXP = {"received": 2000, "lost": 25, "late": 0, "duplicates": 0, "reordered": 0,
            "highest_seq": 2025}


def spray_records(n, spi0, ts0, step_us=1, macs=None):
    """n packets, seq 1, SPIs spi0 .. spi0+n-1, SPRAY_SRC -> A4."""
    dst_mac, src_mac = macs or (None, None)
    args = (dst_mac, src_mac) if macs else ()
    tmpl = bytearray(record(ts0, esp_frame(SPRAY_SRC, A4, spi0, 1, *args)))
    rl = len(tmpl)
    buf = bytearray(tmpl * n)
    for i in range(n):
        ts = ts0 + i * step_us
        struct.pack_into("<II", buf, i * rl, ts // US, ts % US)
        struct.pack_into("!I", buf, i * rl + 16 + SPI_OFF, spi0 + i)
    return bytes(buf)


def sa_counts(s):
    return {k: s[k] for k in REAL_EXP}


def by_spi(rep):
    return {int(s["spi"], 16): s for s in rep["sas"]}


# --------------------------------------------------------------------------
# offline

def test_spray_then_real_sa_offline(idt_bin, workdir):
    """70,000 sprayed SPIs fill the table (65,536 slots) with tentative
    junk; the real SA that starts 40 s later evicts the oldest and is
    confirmed by its second packet."""
    pcap = Path(workdir) / "spray.pcap"
    with open(pcap, "wb") as f:
        f.write(PCAP_HDR)
        f.write(spray_records(N_SPRAY, SPRAY_SPI0, BASE_TS))
        t0 = BASE_TS + 40 * US
        for i, s in enumerate(REAL_SEQS):
            f.write(record(t0 + i * 100, esp_frame(B4, A4, REAL_SPI, s)))
    total = N_SPRAY + len(REAL_SEQS)
    # the reference: one SA, as many packets
    base = Path(workdir) / "base.pcap"
    with open(base, "wb") as f:
        f.write(PCAP_HDR)
        for i in range(total):
            f.write(record(BASE_TS + i, esp_frame(B4, A4, REAL_SPI, i + 1)))
    _, base_rss, _ = run_offline(idt_bin, workdir, base, "", "spray-base")
    rep, rss, _ = run_offline(idt_bin, workdir, pcap, "", "spray")

    assert rep["capture"]["untracked"] == 0
    # spray: 65,536 admitted, 70,000 - 65,536 = 4,464 evictions; the real SA
    # evicts one more.  Left: 65,535 tentative junk + the real SA.
    assert rep["sa_table"] == {"max_sas": MAX_SAS, "reserved": 0, "active": MAX_SAS,
                               "tentative": MAX_SAS - 1, "evicted": N_SPRAY - MAX_SAS + 1,
                               "refused_pkts": 0}
    real = by_spi(rep)[REAL_SPI]
    assert (real["src"], real["dst"], real["direction"], real["tentative"]) == (B4, A4, "inbound",
                                                                               False)
    assert sa_counts(real) == REAL_EXP
    tun = {t["name"]: t for t in rep["tunnels"]}
    rt = tun["%s-%s" % (A4, B4)]
    assert (rt["sas"], rt["received"], rt["lost"], rt["late"], rt["tentative_sas"],
            rt["evicted_sas"], rt["refused_pkts"]) == (1, 2000, 25, 0, 0, 0, 0)
    # the spray's pair: 192.0.2.66 < 198.51.100.1, so offline its SAs are
    # outbound (the lower address is local)
    st = tun["%s-%s" % (SPRAY_SRC, A4)]
    assert (st["sas"], st["outbound"]["received"], st["outbound"]["lost"], st["tentative_sas"],
            st["evicted_sas"]) == (N_SPRAY, N_SPRAY, 0, MAX_SAS - 1, N_SPRAY - MAX_SAS + 1)
    # memory: the table is bounded by max_sas; 256 B per slot is the
    # project's budget per SA at window 64 (make bench)
    budget = base_rss + MAX_SAS * 256 // 1024
    print("spray: peak RSS %d KiB, 1-SA run of as many packets %d KiB, budget %d KiB"
          % (rss, base_rss, budget))
    assert rss <= budget


def test_configured_and_real_sa_during_spray_offline(idt_bin, workdir):
    """The spray fills the table first, then goes on between every two
    packets of a configured tunnel's SA and of a discovered SA."""
    cfg = 'tunnels = ( { name = "conf"; index = 1; local = "%s"; remote = "%s"; } );\n' % (
        CONF_L, CONF_R)
    per_step = 50
    pcap = Path(workdir) / "interleave.pcap"
    with open(pcap, "wb") as f:
        f.write(PCAP_HDR)
        f.write(spray_records(N_SPRAY, SPRAY_SPI0, BASE_TS))
        ts = BASE_TS + 10 * US
        spi = SPRAY_SPI0 + N_SPRAY
        for s in REAL_SEQS:
            f.write(record(ts, esp_frame(CONF_R, CONF_L, CONF_SPI_IN, s)))
            f.write(record(ts + 1, esp_frame(B4, A4, REAL_SPI, s)))
            f.write(spray_records(per_step, spi, ts + 2))
            spi += per_step
            ts += 100
    extra = per_step * len(REAL_SEQS)
    rep, _, _ = run_offline(idt_bin, workdir, pcap, cfg, "interleave")

    # open share: 65,536 - 8 reserved = 65,528.  Spray: 70,000 - 65,528 =
    # 4,472 evictions.  The configured SA takes a reserved slot (no
    # eviction); the discovered SA evicts 1; the 100,000 later sprayed
    # SPIs evict one each.
    open_share = MAX_SAS - RESERVE_PER_TUNNEL
    evicted = (N_SPRAY - open_share) + 1 + extra
    assert evicted == 104_473
    assert rep["capture"]["untracked"] == 0
    assert rep["sa_table"] == {"max_sas": MAX_SAS, "reserved": RESERVE_PER_TUNNEL,
                               "active": open_share + 1, "tentative": open_share - 1,
                               "evicted": evicted, "refused_pkts": 0}
    sas = by_spi(rep)
    for spi, tname in ((CONF_SPI_IN, "conf"), (REAL_SPI, "%s-%s" % (A4, B4))):
        s = sas[spi]
        assert (s["tunnel"], s["direction"], s["tentative"]) == (tname, "inbound", False)
        assert sa_counts(s) == REAL_EXP, tname
    conf = [t for t in rep["tunnels"] if t["name"] == "conf"][0]
    assert (conf["sas"], conf["received"], conf["lost"], conf["evicted_sas"],
            conf["refused_pkts"]) == (1, 2000, 25, 0, 0)


def test_reserve_holds_against_confirmed_junk_offline(idt_bin, workdir):
    """Junk that confirms itself (two packets in sequence per SPI) fills
    the open share of a 1,000-slot table; new discovered SAs are refused,
    the configured tunnel's SAs still get their reserved slots."""
    cfg = ("loss: { max_sas = 1000; };\n"
           'tunnels = ( { name = "conf"; index = 1; local = "%s"; remote = "%s"; } );\n'
           % (CONF_L, CONF_R))
    recs = []
    ts = BASE_TS
    for i in range(1000):
        for seq in (1, 2):
            recs.append(record(ts, esp_frame(SPRAY_SRC, A4, SPRAY_SPI0 + i, seq)))
            ts += 1
    for s in range(1, 11):                                # a new discovered SA: refused
        recs.append(record(ts, esp_frame(B4, A4, REAL_SPI, s)))
        ts += 1
    for s in range(1, 101):                               # configured, inbound
        recs.append(record(ts, esp_frame(CONF_R, CONF_L, CONF_SPI_IN, s)))
        ts += 1
    for s in range(1, 51):                                # configured, outbound
        recs.append(record(ts, esp_frame(CONF_L, CONF_R, CONF_SPI_OUT, s)))
        ts += 1
    pcap = Path(workdir) / "confirmed_junk.pcap"
    with open(pcap, "wb") as f:
        f.write(PCAP_HDR + b"".join(recs))
    rep, _, _ = run_offline(idt_bin, workdir, pcap, cfg, "confirmed_junk")

    # open share 1000 - 8 = 992 junk SAs, all confirmed; the other 8 junk
    # SPIs (2 packets each) and the discovered SA's 10 packets are refused
    refused = 8 * 2 + 10
    assert rep["capture"]["untracked"] == refused
    assert rep["sa_table"] == {"max_sas": 1000, "reserved": 8, "active": 994, "tentative": 0,
                               "evicted": 0, "refused_pkts": refused}
    sas = by_spi(rep)
    assert REAL_SPI not in sas
    assert sorted(s for s in sas if SPRAY_SPI0 <= s < SPRAY_SPI0 + 1000) == \
        [SPRAY_SPI0 + i for i in range(992)]
    cin, cout = sas[CONF_SPI_IN], sas[CONF_SPI_OUT]
    assert (cin["direction"], cin["received"], cin["lost"], cin["highest_seq"]) == \
        ("inbound", 100, 0, 100)
    assert (cout["direction"], cout["received"], cout["lost"], cout["highest_seq"]) == \
        ("outbound", 50, 0, 50)
    tun = {t["name"]: t for t in rep["tunnels"]}
    assert set(tun) == {"conf", "%s-%s" % (SPRAY_SRC, A4)}
    assert (tun["conf"]["received"], tun["conf"]["outbound"]["received"],
            tun["conf"]["refused_pkts"]) == (100, 50, 0)
    junk = tun["%s-%s" % (SPRAY_SRC, A4)]
    assert (junk["sas"], junk["outbound"]["received"], junk["refused_pkts"]) == \
        (992, 992 * 2, 8 * 2)                             # outbound: 192.0.2.66 is the lower


def test_no_eviction_for_an_sa_without_tunnel_offline(idt_bin, workdir):
    """At the discovered-tunnel cap, an SA of a new address pair cannot be
    tracked: it must not evict anyone on its way to being refused."""
    cfg = "loss: { max_sas = 16; max_tunnels = 1; };\n"
    recs = [spray_records(16, SPRAY_SPI0, BASE_TS)]            # table full, 1 tunnel
    recs += [record(BASE_TS + 100 + s, esp_frame(B4, A4, REAL_SPI, s)) for s in (1, 2, 3)]
    recs.append(spray_records(1, SPRAY_SPI0 + 16, BASE_TS + 200))   # evicts #0
    pcap = Path(workdir) / "nontunnel.pcap"
    with open(pcap, "wb") as f:
        f.write(PCAP_HDR + b"".join(recs))
    rep, _, _ = run_offline(idt_bin, workdir, pcap, cfg, "nontunnel")
    assert rep["capture"]["untracked"] == 3                      # untracked_tunnels
    assert rep["sa_table"] == {"max_sas": 16, "reserved": 0, "active": 16, "tentative": 16,
                               "evicted": 1, "refused_pkts": 0}
    assert sorted(by_spi(rep)) == [SPRAY_SPI0 + i for i in range(1, 17)]


# --------------------------------------------------------------------------
# live

G = H.GLOBALS
OID_DROPS = G + ".4.0"
OID_ACTIVE = G + ".5.0"
OID_UNTRACKED = G + ".8.0"
OID_TENTATIVE = G + ".13.0"
OID_EVICTED = G + ".14.0"
OID_PRESSURE = G + ".15.0"
OID_RESERVED = G + ".16.0"
TRAP_PRESSURE = H.NOTIF + ".6"
TRUE, FALSE = 1, 2


net = net_fixture("idts")


def start_with_traps(net, idt_bin, conf):
    net.env = SnmpEnv(net.dir / "snmp", idt_bin, conf, netns=net.ns, traps=True)
    net.env.__enter__()
    return net.env


def tunnel_index(env, name):
    names = H.walk_numeric(env, H.TUNNEL_ENTRY + ".2")
    for oid, v in names.items():
        if v == name:
            return int(oid.rsplit(".", 1)[1])
    return None


def sa_row(env, tidx, direction, spi):
    """Columns 8..13 of one ipsecDiagSaTable row by GET (a walk of 65,536
    rows would take minutes)."""
    oids = ["%s.%d.%d.%d.%d" % (H.SA_ENTRY, c, tidx, direction, spi) for c in range(8, 14)]
    p = env.client("snmpget", "-OnqUet", *oids, mibs=False)
    vals = {}
    for line in p.stdout.splitlines():
        k, _, v = line.partition(" ")
        if k.startswith("."):
            vals[int(k[len(H.SA_ENTRY) + 1:].split(".")[0])] = H._value(v)
    keys = {8: "received", 9: "lost", 10: "late", 11: "duplicates", 12: "reordered",
            13: "highest_seq"}
    return {keys[c]: vals.get(c) for c in keys}


def stable_esp(env):
    """ipsecDiagEspPkts once two reads 1.5 s apart agree (snapshots are
    published about once a second)."""
    prev = None
    for _ in range(40):
        v = esp_pkts(env)
        if v == prev:
            return v
        prev = v
        time.sleep(1.5)
    raise AssertionError("ipsecDiagEspPkts never settled (last %r)" % prev)


def vm_hwm_kib(pid):
    m = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/%d/status" % pid).read_text())
    return int(m.group(1))


def write_pcap_bytes(path, *chunks):
    with open(path, "wb") as f:
        f.write(PCAP_HDR)
        for c in chunks:
            f.write(c)


def test_live_spray_then_real_sa(net, idt_bin):
    conf = 'agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
    env = start_with_traps(net, idt_bin, conf)
    warm_up(net, env)                       # one confirmed SA (seq 1, 2, 3)
    wait_for(lambda: H.get_numeric(env, OID_ACTIVE) == 1, 10, what="ActiveSAs 1")
    esp0 = stable_esp(env)
    hwm0 = vm_hwm_kib(env.agent.pid)
    macs = (net.mac_b, net.mac_a)

    spray = net.dir / "spray.pcap"
    write_pcap_bytes(spray, spray_records(N_SPRAY, SPRAY_SPI0, BASE_TS, macs=macs))
    assert net.replay(spray, "--pps=25000", timeout=300) == N_SPRAY
    got = stable_esp(env) - esp0
    assert (got, H.get_numeric(env, OID_DROPS)) == (N_SPRAY, 0), \
        "the spray: %d ESP packets counted (drops: capture)" % got
    # 65,535 free slots, then 70,000 - 65,535 = 4,465 evictions (checked
    # below, after the real SA: ipsecDiagEvictedSAs then is 4,466)

    real = net.dir / "real.pcap"
    net.sa_pcap(real, REAL_SEQS, REAL_SPI, B4, A4, gap_us=100)
    assert net.replay(real) == 2000
    wait_for(lambda: esp_pkts(env) == esp0 + N_SPRAY + 2000, 20, step=0.5,
             what="ipsecDiagEspPkts to count the real SA")
    tidx = wait_for(lambda: tunnel_index(env, "%s-%s" % (A4, B4)), 10, what="the real tunnel row")
    # the row may lag one snapshot behind the packet counter
    wait_for(lambda: sa_row(env, tidx, H.INBOUND, REAL_SPI)["received"] == 2000, 10,
             what="the real SA row with 2000 packets")
    got = sa_row(env, tidx, H.INBOUND, REAL_SPI)
    assert got == REAL_EXP
    assert H.get_numeric(env, OID_DROPS) == 0, "capture drops: counts are not comparable"
    assert H.get_numeric(env, OID_UNTRACKED) == 0
    assert H.get_numeric(env, OID_EVICTED) == N_SPRAY - (MAX_SAS - 1) + 1
    assert H.get_numeric(env, OID_ACTIVE) == MAX_SAS
    assert H.get_numeric(env, OID_TENTATIVE) == MAX_SAS - 2     # the warm-up and the real SA are confirmed
    assert H.get_numeric(env, OID_RESERVED) == 0
    assert H.get_numeric(env, OID_PRESSURE) == TRUE
    row = {c: H.get_numeric(env, "%s.%d.%d" % (H.TUNNEL_ENTRY, c, tidx)) for c in (8, 9, 10, 31, 32, 33)}
    assert row == {8: 1, 9: 2000, 10: 25, 31: 0, 32: 0, 33: 0}

    # one notification (rate limit: at most one per 300 s) with its varbinds,
    # and the same line once in the log
    traps = wait_for(lambda: H.traps_of(env, TRAP_PRESSURE), 10, what="ipsecDiagSaTablePressure")
    vb = traps[0]
    assert {G + ".14.0", G + ".8.0", G + ".13.0", G + ".5.0"} <= set(vb), vb
    assert len(H.traps_of(env, TRAP_PRESSURE)) == 1, env.traps()
    assert env.agent_text().count("SA table under pressure") == 1

    # memory: bounded by max_sas - a second spray of 70,000 new SPIs
    # evicts 70,000 and adds nothing
    hwm1 = vm_hwm_kib(env.agent.pid)
    spray2 = net.dir / "spray2.pcap"
    write_pcap_bytes(spray2, spray_records(N_SPRAY, SPRAY_SPI0 + N_SPRAY, BASE_TS, macs=macs))
    assert net.replay(spray2, "--pps=25000", timeout=300) == N_SPRAY
    ev2 = N_SPRAY - (MAX_SAS - 1) + 1 + N_SPRAY
    wait_for(lambda: H.get_numeric(env, OID_EVICTED) == ev2, 20, step=0.5,
             what="ipsecDiagEvictedSAs = %d" % ev2)
    time.sleep(2)                          # a snapshot or two of the new state
    hwm2 = vm_hwm_kib(env.agent.pid)
    print("agent VmHWM: %d KiB after warm-up, %d KiB after spray + real SA, %d KiB after a "
          "second spray" % (hwm0, hwm1, hwm2))
    assert hwm1 - hwm0 <= MAX_SAS * 512 // 1024, "table + snapshots over 512 B per slot"
    assert hwm2 - hwm1 <= 4096, "a second spray grew the peak RSS by %d KiB" % (hwm2 - hwm1)
    assert sa_row(env, tidx, H.INBOUND, REAL_SPI) == REAL_EXP     # still there, untouched
    assert len(H.traps_of(env, TRAP_PRESSURE)) == 1
    assert env.agent.poll() is None


def test_live_configured_sa_during_spray(net, idt_bin):
    conf = ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            'tunnels = ( { name = "conf"; index = 1; local = "%s"; remote = "%s"; } );\n'
            % (CONF_L, CONF_R))
    env = net.start_snmp(idt_bin, conf)
    warm_up(net, env, spi=0x3A000001, src=CONF_R, dst=CONF_L)
    macs = (net.mac_b, net.mac_a)
    spray = net.dir / "spray.pcap"
    write_pcap_bytes(spray, spray_records(N_SPRAY, SPRAY_SPI0, BASE_TS, step_us=50, macs=macs))
    # the configured SA and a discovered SA, alternating, 1 ms apart
    both = []
    for i, s in enumerate(REAL_SEQS):
        ts = BASE_TS + i * 1000
        both.append(record(ts, esp_frame(CONF_R, CONF_L, CONF_SPI_IN, s, *macs)))
        both.append(record(ts + 500, esp_frame(B4, A4, REAL_SPI, s, *macs)))
    pair = net.dir / "pair.pcap"
    write_pcap_bytes(pair, b"".join(both))

    # the spray loops (same SPIs: evicted ones come back and evict others)
    feeder = subprocess.Popen(net.exec_cmd("tcpreplay", "-q", "-i", "vA", "--pps=20000",
                                           "--loop=0", spray),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: H.get_numeric(env, OID_ACTIVE) >= MAX_SAS - RESERVE_PER_TUNNEL + 1, 30,
                 step=0.5, what="the spray to fill the open share of the table")
        time.sleep(1)                       # evicting by now
        ev_before = H.get_numeric(env, OID_EVICTED)
        assert net.replay(pair) == 4000
        ev_after = H.get_numeric(env, OID_EVICTED)
        still = feeder.poll() is None
    finally:
        if feeder.poll() is None:
            feeder.send_signal(signal.SIGINT)
            try:
                feeder.wait(5)
            except subprocess.TimeoutExpired:
                feeder.kill()
                feeder.wait()
    time.sleep(1.5)                         # the next snapshot
    ridx = wait_for(lambda: tunnel_index(env, "%s-%s" % (A4, B4)), 10, what="the discovered row")
    wait_for(lambda: sa_row(env, 1, H.INBOUND, CONF_SPI_IN)["received"] == 2000, 10,
             what="the configured SA row with 2000 packets")
    assert H.get_numeric(env, OID_DROPS) == 0, "capture drops: counts are not comparable"
    assert sa_row(env, 1, H.INBOUND, CONF_SPI_IN) == REAL_EXP
    assert sa_row(env, ridx, H.INBOUND, REAL_SPI) == REAL_EXP
    assert still, "the spray stopped before the SAs ended"
    assert ev_after > ev_before, "no eviction while the SAs ran: the spray did not go on"
    assert H.get_numeric(env, OID_RESERVED) == RESERVE_PER_TUNNEL
    # the configured tunnel: the warm-up SA's 3+ packets and the 2000
    row = {c: H.get_numeric(env, "%s.%d.1" % (H.TUNNEL_ENTRY, c)) for c in (10, 31, 32, 33)}
    assert row == {10: 25, 31: 0, 32: 0, 33: 0}
    print("evicted during the 4 s of the two SAs: %d" % (ev_after - ev_before))
    assert env.agent.poll() is None
