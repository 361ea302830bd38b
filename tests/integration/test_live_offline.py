"""Live capture counts exactly what offline analysis counts.

For every Ethernet scenario of the generator (tests/gen/espgen.py, listed
from espgen.SCENARIOS, not hand-picked) the frames are replayed with
tcpreplay onto a veth pair in a private network namespace, where the
subagent (`ipsecdiagtool run`, under a real snmpd) captures on the peer
end.  ipsecDiagSaTable, read with snmpbulkwalk, must then agree with
`ipsecdiagtool interactive -r FILE --json` of the same file, per SA:

  * received, late, duplicates, reordered and the highest sequence number
    exactly equal;
  * lost: offline, the holes still inside the window at the end of the
    file are counted lost; live they are still waiting for stragglers.  So
    0 <= lost(offline) - lost(live) <= W - 1, and exactly: live equals the
    generator's reference model before its end-of-file step, offline equals
    it after (ground truth from espgen, not from the program);
  * ipsecDiagCaptureDrops is 0 (the replay rate is chosen for that).

The scenarios include QinQ with 0x88a8 and 0x9100 outer TPIDs and up to 5
tags, IPv6 with extension headers before ESP, and ESP-in-UDP from source
port 4500 and to destination port 4500 (vlan, qinq, ipv6, natt).  On Linux
the kernel moves the outer 0x8100/0x88a8 tag to metadata before the capture
filter runs, which this test exercises for real.

One snmpd serves the whole module; the subagent is restarted per scenario
with the scenario's config (configured tunnels, window, snap length).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snmpenv import SnmpEnv, ROOT, sh, tool, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gen"))
import espgen  # noqa: E402

# (a small instance of each scenario tells its link type)
SCENARIOS = sorted(n for n, fn in espgen.SCENARIOS.items() if fn(packets=100).link.kind == "eth")
REPLAY_PPS = 25000                      # no capture drops on a veth at this rate
SA_ENTRY = ROOT + ".1.3.1"              # ipsecDiagSaEntry
ESP_PKTS = ROOT + ".1.1.2.0"            # ipsecDiagEspPkts
CAPTURE_DROPS = ROOT + ".1.1.4.0"       # ipsecDiagCaptureDrops
# ipsecDiagSaEntry columns (hand-copied from mibs/IPSECDIAG-MIB.txt)
SA_COLS = {8: "received", 9: "lost", 10: "late", 11: "duplicates", 12: "reordered",
           13: "highest_seq"}
SA_TEXT_COLS = {30: "src", 31: "dst", 32: "spi"}    # ipsecDiagReadableGroup
DIRECTION = {"inbound": 1, "outbound": 2}


def test_scenario_list_covers_the_cases():
    """The parametrisation below is the generator's own list; it must hold
    the cases this test exists for."""
    for name in ("vlan", "qinq", "ipv6", "natt", "snaplen64"):
        assert name in SCENARIOS, SCENARIOS
    tpids = {int.from_bytes(f.data[12:14], "big") for f in espgen.SCENARIOS["qinq"]().frames
             if f.kind == espgen.KIND_ESP}
    assert {espgen.ETH_QINQ, espgen.ETH_QINQ_OLD, espgen.ETH_VLAN} <= tpids


class LiveNet:
    """Namespace with veth vA <-> vB (MTU 9000: the generator's largest
    frames exceed 1514 bytes); snmpd inside; the subagent captures on vB."""

    def __init__(self, workdir):
        self.ns = "idtlo%d" % os.getpid()
        self.dir = workdir
        self.created = False
        self.env = None

    def up(self, idt_bin):
        if os.geteuid() != 0:
            pytest.fail("live tests need root (network namespaces)", pytrace=False)
        for t in ("ip", "tcpreplay", "snmpd", "snmpbulkwalk"):
            if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t):
                pytest.fail("live tests need %s (apt-get install iproute2 tcpreplay snmpd snmp)"
                            % t, pytrace=False)
        sh(tool("ip"), "netns", "add", self.ns)
        self.created = True
        ipn = [tool("ip"), "-n", self.ns]
        sh(*ipn, "link", "set", "lo", "up")
        sh(*ipn, "link", "add", "vA", "type", "veth", "peer", "name", "vB")
        for dev in ("vA", "vB"):
            # no IPv6 autoconfiguration noise on the capture interface
            sh(tool("ip"), "netns", "exec", self.ns, "sysctl", "-qw",
               "net.ipv6.conf.%s.disable_ipv6=1" % dev)
            sh(*ipn, "link", "set", dev, "mtu", "9000", "up")
        self.env = SnmpEnv(self.dir / "snmp", idt_bin, "", netns=self.ns, traps=False,
                           start_agent=False)
        self.env.__enter__()

    def down(self):
        if self.env is not None:
            self.env.close()
        if self.created:
            subprocess.run([tool("ip"), "netns", "del", self.ns], capture_output=True)
            self.created = False

    def replay(self, pcap, frames):
        timeout = 30 + frames / REPLAY_PPS * 3
        r = sh(tool("ip"), "netns", "exec", self.ns, "tcpreplay", "-q", "-i", "vA",
               "--pps=%d" % REPLAY_PPS, str(pcap), timeout=timeout)
        m = re.search(r"Actual: (\d+) packets", r.stdout)
        assert m and int(m.group(1)) == frames, r.stdout + r.stderr
        assert "Failed packets:          0" in r.stdout or \
            re.search(r"Failed packets:\s+0\b", r.stdout), r.stdout


@pytest.fixture(scope="module")
def live(idt_bin, tmp_path_factory):
    net = LiveNet(tmp_path_factory.mktemp("live_offline"))
    try:
        net.up(idt_bin)
        yield net
    finally:
        net.down()


def config_text(sc, snaplen):
    return ("agentx: { ping_interval = 1; };\n"
            'capture: { interface = "vB"; snaplen = %d; };\n'
            "loss: { window = %d; };\n%s" % (snaplen, sc.window, sc.config()))


def reference(sc):
    """Per SA (src, dst, spi): lost before and after the end-of-file step of
    the generator's reference model (frames classified at sc.snaplen)."""
    tr = espgen.Truth(sc.window, sc.configured)
    for f in sc.ordered():
        k = sc.classify(f)
        tr.frame(k, f.sa if k == espgen.KIND_ESP else None)
    before = {(str(e["src"]), str(e["dst"]), e["spi"]): e["model"].lost for e in tr.sas.values()}
    tr.report()                                         # runs finish()
    after = {(str(e["src"]), str(e["dst"]), e["spi"]): e["model"].lost for e in tr.sas.values()}
    return before, after, tr.capture["esp"]


def offline_report(idt_bin, pcap, conf, args, env):
    cmd = [idt_bin, "interactive", "-r", str(pcap), "--json", "-c", str(conf)] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, "%s: %s" % (" ".join(cmd), p.stderr[-3000:])
    return json.loads(p.stdout)


def counter(env, oid):
    p = env.client("snmpget", "-OqvU", oid, mibs=False, check=False, timeout=10)
    v = p.stdout.strip()
    return int(v) if p.returncode == 0 and v.isdigit() else None


def settled(env, want, timeout=30):
    """ipsecDiagEspPkts once it equals want, or has not changed for 3 s
    (the snapshot is refreshed about once a second)."""
    end = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < end:
        v = counter(env, ESP_PKTS)
        if v == want:
            return v
        if v != last:
            last, since = v, time.monotonic()
        elif time.monotonic() - since >= 3:
            return v
        time.sleep(0.5)
    return last


def live_sa_table(env):
    """{(tunnel index, direction, spi): {field: value}} of ipsecDiagSaTable."""
    p = env.client("snmpbulkwalk", "-OnqUet", "-Cr50", SA_ENTRY, mibs=False, timeout=120)
    rows = {}
    for line in p.stdout.splitlines():
        if not line.startswith(SA_ENTRY + "."):
            continue
        k, _, v = line.partition(" ")
        col, tidx, direction, spi = (int(x) for x in k[len(SA_ENTRY) + 1:].split("."))
        if col in SA_COLS:
            rows.setdefault((tidx, direction, spi), {})[SA_COLS[col]] = int(v)
        elif col in SA_TEXT_COLS:
            rows.setdefault((tidx, direction, spi), {})[SA_TEXT_COLS[col]] = v.strip('"')
    return rows


@pytest.mark.parametrize("name", SCENARIOS)
def test_live_equals_offline(name, idt_bin, live, workdir, child_env):
    sc = espgen.SCENARIOS[name]()
    # the file analysed offline (truncated at the scenario's snap length) and
    # the frames sent (complete; the live capture truncates at the same length)
    offline_pcap, sent_pcap = workdir / "offline.pcap", workdir / "sent.pcap"
    sc.write(offline_pcap)
    snaplen = min(sc.snaplen, 65535)
    full = espgen.PcapWriter(sc.link.dlt)
    for f in sc.ordered():
        full.add(f.ts, f.data)
    full.write(sent_pcap)
    conf = workdir / "idt.conf"
    conf.write_text(config_text(sc, snaplen))
    before, after, esp_frames = reference(sc)

    off = offline_report(idt_bin, offline_pcap, conf, sc.args(), child_env)
    assert off["capture"]["esp"] == esp_frames

    env = live.env
    env.conf.write_text(conf.read_text())
    env.start_agent()
    try:
        live.replay(sent_pcap, full.count)
        esp_live = settled(env, esp_frames)
        got = live_sa_table(env)
        drops = counter(env, CAPTURE_DROPS)
    finally:
        env.stop_agent()
    assert drops == 0, "capture drops at %d pps: the comparison would not be exact" % REPLAY_PPS

    index = {t["name"]: t["index"] for t in off["tunnels"]}
    W = sc.window
    problems = []
    want = {}
    for s in off["sas"]:
        key = (index[s["tunnel"]], DIRECTION[s["direction"]], int(s["spi"], 16))
        want[key] = s
    if set(got) != set(want):
        problems.append("SA rows differ: only live %s, only offline %s"
                        % (sorted(set(got) - set(want))[:10], sorted(set(want) - set(got))[:10]))
    for key in sorted(set(got) & set(want)):
        s, g = want[key], got[key]
        label = "SA %s>%s spi %s" % (s["src"], s["dst"], s["spi"])
        # the text columns: the generator's addresses (keys of its model
        # below), and the SPI of the row index in hex
        if (g.get("src"), g.get("dst"), g.get("spi")) != (s["src"], s["dst"],
                                                         "0x%08x" % key[2]):
            problems.append("%s: text columns live %s %s %s" % (label, g.get("src"), g.get("dst"),
                                                               g.get("spi")))
        for f in ("received", "late", "duplicates", "reordered", "highest_seq"):
            if g.get(f) != s[f]:
                problems.append("%s: %s live %s, offline %s" % (label, f, g.get(f), s[f]))
        ref = (s["src"], s["dst"], int(s["spi"], 16))
        if not 0 <= s["lost"] - g.get("lost", -1) <= W - 1:
            problems.append("%s: lost live %s, offline %d: not within the window (W=%d)"
                            % (label, g.get("lost"), s["lost"], W))
        if g.get("lost") != before[ref] or s["lost"] != after[ref]:
            problems.append("%s: lost live %s (model %d), offline %d (model %d)"
                            % (label, g.get("lost"), before[ref], s["lost"], after[ref]))
    if esp_live != esp_frames:
        problems.insert(0, "ipsecDiagEspPkts %s, ESP frames sent %d" % (esp_live, esp_frames))
    assert not problems, "%s: %d difference(s):\n  %s" % (
        name, len(problems), "\n  ".join(problems[:40]))
