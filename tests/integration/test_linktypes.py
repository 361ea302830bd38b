"""Router link types: DLT_NULL (both byte orders), DLT_LOOP, DLT_PPP,
DLT_PPP_SERIAL (PPP in HDLC-like framing, and Cisco HDLC framing) and
DLT_C_HDLC.

An Ethernet scenario of tests/gen/espgen.py is re-framed for each link
type (Scenario.relink: the same IP packets; VLAN tags dropped, ARP becomes
the link's own non-IP protocol).  The expected report is the generator's
truth, which must equal the Ethernet version's; the binary must produce it
from the mapped file (src/pcap_file.c) and from stdin (libpcap).  With a
64-byte snap length the shorter link headers let more ESP headers into the
capture: the truth then differs from Ethernet, by the generator's count.
tshark (Wireshark's dissectors) must find the same ESP packets per SPI.
Live, `-i any` (Linux cooked) must open with the kernel filter and count.
"""
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import espgen
from test_offline import assert_report, run_idt, TIMEOUT

GEN = Path(__file__).resolve().parent.parent / "gen" / "espgen.py"

KINDS = ["null", "null-be", "loop", "ppp", "ppp-serial", "ppp-serial-chdlc", "chdlc"]
DLT = {"null": 0, "null-be": 0, "loop": 108, "ppp": 9, "ppp-serial": 50,
       "ppp-serial-chdlc": 50, "chdlc": 104}
# vlan: IPv4, IPv6 with extension headers, ESP-in-UDP, IKE and keepalives;
# natt: ESP-in-UDP both families, IKE, keepalives, TCP/ICMP/IKE-500/ARP noise
SCENARIOS = ["vlan", "natt"]


def _files(workdir, name, kind, **kw):
    eth = espgen.SCENARIOS[name](**kw)
    sc = espgen.SCENARIOS[name](**kw).relink(kind)
    pcap = workdir / ("%s-%s.pcap" % (name, kind))
    sc.write(pcap)
    cfg = workdir / "idt.conf"
    cfg.write_text(sc.config())
    return eth, sc, pcap, cfg


def _json(p, cmd):
    assert p.returncode == 0, "%s exited %d\nstderr:\n%s" % (" ".join(cmd), p.returncode,
                                                           p.stderr[-4000:])
    return json.loads(p.stdout)


def _run_stdin(idt_bin, pcap, cfg, args, env):
    cmd = [idt_bin, "interactive", "-r", "-", "--json", "-c", str(cfg)] + list(args)
    with open(pcap, "rb") as f:
        p = subprocess.run(cmd, stdin=f, capture_output=True, text=True, timeout=TIMEOUT,
                           env=env)
    return p, cmd


def test_relink_frames():
    """The re-framed bytes, by hand, for one IPv4 and one IPv6 packet."""
    for kind, h4, h6 in (
            ("null", "02000000", "1e000000"),
            ("null-be", "00000002", "0000001c"),
            ("loop", "00000002", "00000018"),
            ("ppp", "ff030021", "ff030057"),
            ("ppp-serial", "ff030021", "ff030057"),
            ("ppp-serial-chdlc", "0f000800", "0f0086dd"),
            ("chdlc", "0f000800", "0f0086dd")):
        link = espgen.Link(kind)
        assert link.dlt == DLT[kind]
        p4 = espgen.ipv4("192.0.2.1", "192.0.2.2", 50, espgen.esp(0x1234, 1, b""))
        p6 = espgen.ipv6("2001:db8::1", "2001:db8::2", 50, espgen.esp(0x1234, 1, b""))
        assert link.frame(p4) == bytes.fromhex(h4) + p4
        assert link.frame(p6) == bytes.fromhex(h6) + p6
    assert espgen.Link("ppp").frame(b"\0" * 28, espgen.ETH_ARP)[:4] == bytes.fromhex("ff03c021")
    assert espgen.Link("chdlc").frame(b"\0" * 28, espgen.ETH_ARP)[:4] == bytes.fromhex("8f000806")
    assert espgen.Link("loop").frame(b"\0" * 28, espgen.ETH_ARP)[:4] == bytes.fromhex("00000010")


def test_espgen_linktype_cli(tmp_path):
    out, truth = tmp_path / "n.pcap", tmp_path / "n.json"
    subprocess.run([sys.executable, str(GEN), "--scenario", "natt", "--packets", "50",
                    "--linktype", "null-be", "--out", str(out), "--truth", str(truth)],
                   check=True)
    assert out.read_bytes()[:4] == bytes.fromhex("a1b2c3d4")      # big-endian file
    lt, _, recs = espgen.read_pcap(out)
    sc = espgen.SCENARIOS["natt"](packets=50)
    assert lt == 0 and len(recs) == len(sc.frames)
    assert json.loads(truth.read_text())["expected"] == json.loads(json.dumps(sc.truth()))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_linktype_same_figures_as_ethernet(idt_bin, workdir, child_env, name, kind):
    eth, sc, pcap, cfg = _files(workdir, name, kind)
    exp = sc.truth()
    assert exp == eth.truth()
    assert exp["capture"]["ignored"] > 0 and exp["capture"]["esp"] > 0
    lt, _, recs = espgen.read_pcap(pcap)
    assert lt == DLT[kind] and len(recs) == len(sc.frames)
    assert_report(exp, _json(*run_idt(idt_bin, pcap, cfg, sc.args(), child_env)))
    assert_report(exp, _json(*_run_stdin(idt_bin, pcap, cfg, sc.args(), child_env)))


@pytest.mark.parametrize("kind", ["null", "loop", "ppp", "ppp-serial-chdlc", "chdlc"])
def test_linktype_snaplen64(idt_bin, workdir, child_env, kind):
    eth, sc, pcap, cfg = _files(workdir, "snaplen64", kind)
    exp = sc.truth()
    # 10 bytes less link header: fewer ESP headers cut off than on Ethernet
    assert exp["capture"]["malformed"] < eth.truth()["capture"]["malformed"]
    assert_report(exp, _json(*run_idt(idt_bin, pcap, cfg, sc.args(), child_env)))
    assert_report(exp, _json(*_run_stdin(idt_bin, pcap, cfg, sc.args(), child_env)))


@pytest.fixture(scope="session")
def tshark():
    path = shutil.which("tshark")
    if not path:
        pytest.fail("tshark is not installed (apt-get install tshark)", pytrace=False)
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_linktype_tshark_esp_count(tshark, workdir, child_env, kind):
    _, sc, pcap, _ = _files(workdir, "vlan", kind, packets=300)
    exp = sc.truth()
    cmd = [tshark, "-n", "-r", str(pcap), "-Y", "esp", "-T", "fields", "-e", "esp.spi"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=child_env, timeout=600)
    assert p.returncode == 0, "%s failed:\n%s" % (" ".join(cmd), p.stderr)
    counts = collections.Counter(int(x, 0) for x in p.stdout.split())
    assert sum(counts.values()) == exp["capture"]["esp"] > 0
    assert dict(counts) == {int(s["spi"], 16): s["received"] for s in exp["sas"]}


# --------------------------------------------------------------------------
# live: the kernel filter must compile on a non-Ethernet link type (libpcap
# has "vlan" only for Ethernet); -i any captures Linux cooked frames

@pytest.fixture
def two_ns():
    """Namespaces idtlta<pid> (veth a0) and idtltb<pid> (its peer a1)."""
    a, b = "idtlta%d" % os.getpid(), "idtltb%d" % os.getpid()
    for n in (a, b):
        subprocess.run(["ip", "netns", "add", n], check=True)
    try:
        for n, cmd in ((a, ["link", "add", "a0", "type", "veth", "peer", "name", "a1",
                            "netns", b]),
                       (a, ["link", "set", "a0", "up"]), (b, ["link", "set", "a1", "up"]),
                       (a, ["link", "set", "lo", "up"]), (b, ["link", "set", "lo", "up"])):
            subprocess.run(["ip", "-n", n] + cmd, check=True)
        yield a, b
    finally:
        for n in (a, b):
            subprocess.run(["ip", "netns", "del", n])


def test_live_any_interface(idt_bin, workdir, two_ns):
    """`interactive -i any` in the receiving namespace (only a1 and lo:
    every packet is seen once) reports what the generator says."""
    a, b = two_ns
    sc = espgen.SCENARIOS["natt"](packets=300)
    pcap = workdir / "natt.pcap"
    sc.write(pcap)
    want = sc.truth()
    conf = workdir / "c.conf"
    conf.write_text("")
    errf = workdir / "err.txt"
    with open(workdir / "out.json", "w") as out, open(errf, "w") as err:
        p = subprocess.Popen(["ip", "netns", "exec", b, idt_bin, "interactive", "-c", str(conf),
                              "-i", "any", "--json"], stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + 10
        while "capturing on any" not in errf.read_text():
            assert time.monotonic() < deadline and p.poll() is None, errf.read_text()
            time.sleep(0.05)
        subprocess.run(["ip", "netns", "exec", a, "tcpreplay", "-q", "-i", "a0", "--pps=5000",
                        str(pcap)], check=True, capture_output=True)
        time.sleep(0.6)
    finally:
        p.send_signal(signal.SIGINT)
        rc = p.wait(5)
    assert rc == 0, errf.read_text()
    assert "LINUX_SLL" in errf.read_text()
    got = json.loads((workdir / "out.json").read_text())
    key = lambda s: (s["src"], s["dst"], s["spi"])
    assert sorted(key(s) for s in got["sas"]) == sorted(key(s) for s in want["sas"])
    w = {key(s): s for s in want["sas"]}
    for s in got["sas"]:
        for f in ("received", "lost", "late", "duplicates", "reordered", "highest_seq", "encap"):
            assert s[f] == w[key(s)][f], (key(s), f)
    assert got["capture"]["esp"] == want["capture"]["esp"]
