"""Offline integration tests: generated captures with exact ground truth.

Each scenario test builds a pcap with a fixed seed (tests/gen/espgen.py),
computes the expected report with the Python reference model, runs
`$IDT_BIN interactive -r FILE --json -c CONFIG [--window N]` and compares
the JSON field for field ("alerts" is not compared; keys the truth does
not know are ignored, everything the truth knows must match exactly, and
the order of "sas" and "tunnels" must match too).

The test_reference_model_* tests check the reference model itself against
hand-computed numbers and against a second naive formulation; they do not
need the binary.
"""
import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import espgen
from espgen import (MOD32, ReplayModel, Truth, brute_force_counts, KIND_ESP,
                    KIND_IGNORED, KIND_MALFORMED)

GEN = Path(__file__).resolve().parent.parent / "gen" / "espgen.py"
TIMEOUT = 300


# --------------------------------------------------------------------------
# helpers

def run_idt(idt_bin, pcap, config, args=(), env=None):
    cmd = [idt_bin, "interactive", "-r", str(pcap), "--json", "-c", str(config)] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    return p, cmd


def sa_label(d):
    return "sa[%s>%s spi %s]" % (d.get("src"), d.get("dst"), d.get("spi"))


def _diff_obj(label, exp, got, out):
    if not isinstance(got, dict):
        out.append("%s: expected an object, got %r" % (label, got))
        return
    for k, v in exp.items():
        if k not in got:
            out.append("%s.%s: missing (expected %r)" % (label, k, v))
        elif isinstance(v, dict):
            _diff_obj("%s.%s" % (label, k), v, got[k], out)
        elif got[k] != v or type(got[k]) is not type(v):
            out.append("%s.%s: expected %r, got %r" % (label, k, v, got[k]))


def report_diff(exp, got):
    """Human-readable list of differences between the expected report and
    the program's JSON (empty list: equal)."""
    out = []
    for top in ("sas", "tunnels", "capture"):
        if top not in got:
            out.append("missing top-level key %r" % top)
    if out:
        return out
    _diff_obj("capture", exp["capture"], got["capture"], out)

    gt = {t.get("name"): t for t in got["tunnels"]}
    for t in exp["tunnels"]:
        label = "tunnel[%s]" % t["name"]
        if t["name"] not in gt:
            out.append("%s: missing in output" % label)
        else:
            _diff_obj(label, t, gt[t["name"]], out)
    en = {t["name"] for t in exp["tunnels"]}
    for t in got["tunnels"]:
        if t.get("name") not in en:
            out.append("tunnel[%s]: unexpected in output: %s" % (t.get("name"), json.dumps(t)))
    if not out and [t["name"] for t in got["tunnels"]] != [t["name"] for t in exp["tunnels"]]:
        out.append("tunnel order: expected %s, got %s"
                   % ([t["name"] for t in exp["tunnels"]], [t["name"] for t in got["tunnels"]]))

    key = lambda d: (d.get("src"), d.get("dst"), d.get("spi"))
    gs = {key(s): s for s in got["sas"]}
    if len(gs) != len(got["sas"]):
        out.append("duplicate SA entries in output")
    for s in exp["sas"]:
        if key(s) not in gs:
            out.append("%s: missing in output (expected %s)" % (sa_label(s), json.dumps(s)))
        else:
            _diff_obj(sa_label(s), s, gs[key(s)], out)
    es = {key(s) for s in exp["sas"]}
    for s in got["sas"]:
        if key(s) not in es:
            out.append("%s: unexpected in output: %s" % (sa_label(s), json.dumps(s)))
    if not out and [key(s) for s in got["sas"]] != [key(s) for s in exp["sas"]]:
        for i, (e, g) in enumerate(zip(exp["sas"], got["sas"])):
            if key(e) != key(g):
                out.append("sa order differs first at position %d: expected %s, got %s"
                           % (i, sa_label(e), sa_label(g)))
                break
    return out


def assert_report(exp, got, limit=40):
    diff = report_diff(exp, got)
    if diff:
        more = "" if len(diff) <= limit else "\n  ... and %d more" % (len(diff) - limit)
        pytest.fail("%d difference(s) between truth and ipsecdiagtool:\n  %s%s"
                    % (len(diff), "\n  ".join(diff[:limit]), more), pytrace=False)


def check_scenario(name, idt_bin, workdir, env, **kw):
    """Generate scenario `name`, run the binary, compare with the truth.
    Returns the expected report for extra checks."""
    sc = espgen.SCENARIOS[name](**kw)
    pcap = workdir / ("%s.pcap" % name)
    sc.write(pcap)
    cfg = workdir / "idt.conf"
    cfg.write_text(sc.config())
    exp = sc.truth()
    p, cmd = run_idt(idt_bin, pcap, cfg, sc.args(), env)
    assert p.returncode == 0, "%s exited %d\nstderr:\n%s" % (" ".join(cmd), p.returncode,
                                                           p.stderr[-4000:])
    try:
        got = json.loads(p.stdout)
    except ValueError as e:
        pytest.fail("output of %s is not JSON (%s):\n%s" % (" ".join(cmd), e,
                                                           p.stdout[:2000]), pytrace=False)
    assert_report(exp, got)
    return exp


def total(exp, field):
    return sum(s[field] for s in exp["sas"])


# --------------------------------------------------------------------------
# the reference model itself (no binary needed)

def feed(seqs, W=64):
    m = ReplayModel(W)
    kinds = [m.update(x) for x in seqs]
    m.finish()
    return m, kinds


def test_reference_model_basic():
    # W=4: 1 2 3 5 4 4 9 6 1
    m, kinds = feed([1, 2, 3, 5, 4, 4, 9, 6, 1], W=4)
    assert kinds == ["new", "next", "next", "next", "reordered", "duplicate", "next",
                     "reordered", "late"]
    # at the end the window is [6, 9] with 7 and 8 missing -> lost 2
    assert m.counters() == {"received": 9, "lost": 2, "late": 1, "duplicates": 1,
                            "reordered": 2, "suspect": 0}
    assert (m.B, m.H) == (1, 9)


def test_reference_model_duplicate_of_highest():
    m, kinds = feed([7, 7, 8, 7])
    assert kinds == ["new", "duplicate", "next", "duplicate"]
    assert m.counters() == {"received": 4, "lost": 0, "late": 0, "duplicates": 2,
                            "reordered": 0, "suspect": 0}


def test_reference_model_left_edge():
    # W=32: 1, 40 (d = 39 > W: held), 41, 42 confirm it: at 40, 2..8 fall
    # off the left edge (lost 7), then 9 and 10 at 41, 42; 2 is late; at
    # the end 11..39 are holes in the window: lost 29 more.
    m = ReplayModel(32)
    m.update(1)
    assert m.update(40) == "held"
    assert m.update(41) == "held"
    assert m.update(42) == "next"
    assert m.lost == 9
    assert m.update(2) == "late"
    assert m.update(11) == "reordered"         # 11 = H-W+1: still inside
    assert m.update(10) == "late"
    m.finish()
    assert m.counters() == {"received": 7, "lost": 37, "late": 2, "duplicates": 0,
                            "reordered": 1, "suspect": 0}
    m.finish()                                 # idempotent
    assert m.lost == 37


def test_reference_model_esn_wrap():
    m, kinds = feed([0xFFFFFFFE, 0xFFFFFFFF, 1, 0, 0xFFFFFFFD])
    assert kinds == ["new", "next", "next", "reordered", "late"]
    assert m.H == MOD32 + 1
    assert m.counters() == {"received": 5, "lost": 0, "late": 1, "duplicates": 0,
                            "reordered": 1, "suspect": 0}


def test_reference_model_forward_jump():
    J = 2_000_000_000
    # J+3 is held; J+2 (within W-1) is held too; J+4 confirms; 3 is late
    m, kinds = feed([1, 2, J + 3, J + 2, J + 4, 3])
    assert kinds == ["new", "next", "held", "held", "next", "late"]
    assert m.H == J + 4
    # numbers 1..J+4, accepted 1, 2, J+2, J+3, J+4
    assert m.lost == J + 4 - 5 == 1_999_999_999
    assert (m.late, m.reordered, m.suspect) == (1, 1, 0)
    # 3 before the confirmation moves H: the jump is never confirmed
    # (J+2 is its second held packet), dismissed at the end: suspect 2
    m, kinds = feed([1, 2, J + 3, 3, J + 2])
    assert kinds == ["new", "next", "held", "next", "held"]
    assert m.counters() == {"received": 5, "lost": 0, "late": 0, "duplicates": 0,
                            "reordered": 0, "suspect": 2}
    assert m.H == 3


def test_reference_model_spoofed_jumps():
    # the generator's spoof-jumps streams: with and without the 3 injected
    # packets, everything but received and suspect is the same
    clean, spoofed, injected = espgen.spoof_jumps_streams()
    # the spoofed stream is the clean one with 3 packets inserted, each
    # 10^3, 10^6, 2^31-1 ahead of the (in-order) packet before it
    ahead, k = [], 0
    for i, v in enumerate(spoofed):
        if i - k < len(clean) and v == clean[i - k]:
            continue
        ahead.append(v - clean[i - k - 1])
        k += 1
    assert ahead == [10**3, 10**6, (1 << 31) - 1] and k == len(injected) == 3
    assert len(spoofed) == len(clean) + 3 == 3000 - 31 + 3
    a, _ = feed(clean)
    b, kinds = feed(spoofed)
    assert kinds.count("held") == 3
    assert a.counters() == {"received": 2969, "lost": 31, "late": 0, "duplicates": 0,
                            "reordered": 0, "suspect": 0}
    assert b.counters() == dict(a.counters(), received=2972, suspect=3)
    assert a.H == b.H == 3000


def test_reference_model_half_range_is_backwards():
    # d == 2^31 is not a forward move: below the baseline -> late
    m, kinds = feed([5, 5 + (1 << 31), 6])
    assert kinds == ["new", "late", "next"]
    assert (m.H, m.lost, m.late) == (6, 0, 1)
    # 2^31 - 1 is a forward (far) jump: held, and here confirmed
    T = 5 + (1 << 31) - 1
    m, kinds = feed([5, T, T + 1, T + 2])
    assert kinds == ["new", "held", "held", "next"]
    assert m.H == T + 2
    # [5, T+2] minus the 4 accepted
    assert m.lost == (T + 2 - 5 + 1) - 4 == (1 << 31) - 2
    # alone it is dismissed at the end
    m, kinds = feed([5, T])
    assert kinds == ["new", "held"]
    assert (m.H, m.lost, m.suspect) == (5, 0, 1)


def test_reference_model_baseline_midstream():
    m, kinds = feed([1000, 998, 1001, 1003, 999])
    assert kinds == ["new", "late", "next", "next", "late"]
    assert m.counters() == {"received": 5, "lost": 1, "late": 2, "duplicates": 0,
                            "reordered": 0, "suspect": 0}
    # below baseline through 32-bit underflow
    m, kinds = feed([5, 6, 7, 0xFFFFFFF0, 8, 2, 9])
    assert kinds == ["new", "next", "next", "late", "next", "late", "next"]
    assert (m.H, m.lost, m.late) == (9, 0, 2)


def test_reference_model_matches_brute_force():
    rng = random.Random(1234)
    for it in range(400):
        W = rng.choice([32, 64, 33, 100])
        start = rng.choice([1, 1000, MOD32 - 50, MOD32 - 1, rng.randrange(MOD32)])
        n = rng.randint(1, 200)
        s = espgen.seq_run(start, n)
        s = espgen.drop_random(s, rng.random() * 0.3, rng)
        s = espgen.reorder(s, 0.2, rng.randint(1, 80), rng)
        s = espgen.duplicate(s, rng.randint(0, 10), 20, rng)
        if rng.random() < 0.2:
            s.insert(rng.randrange(len(s) + 1), s[0] + rng.choice([-5, 2_000_000_000, -MOD32 // 2]))
        for _ in range(rng.choice([0, 0, 1, 3])):     # far singles, spoofed or not
            i = rng.randrange(len(s) + 1)
            s.insert(i, max(s[:i], default=s[0]) + rng.choice([W + 1, 1000, 10**6, (1 << 31) - 1]))
        wire = espgen.wire(s)
        m, _ = feed(wire, W)
        c, H = brute_force_counts(wire, W)
        assert m.counters() == c, (it, W, wire)
        assert m.H == H


def test_reference_model_tunnels():
    tr = Truth(64, [espgen.ConfiguredTunnel("hq", 7, "203.0.113.7", "198.51.100.1")])
    L1 = "2001:db8:1111:2222:3333:4444:5555:6666"
    L2 = "2001:db8:1111:2222:3333:4444:5555:7777"
    pk = [("2001:db8::2", "10.0.0.1", 300), ("10.0.0.1", "2001:db8::2", 301),
          ("198.51.100.1", "203.0.113.7", 302), ("203.0.113.7", "198.51.100.1", 303),
          (L2, L1, 304), ("10.0.0.9", "10.0.0.10", 305)]
    for src, dst, spi in pk:
        tr.frame(KIND_ESP, (src, dst, spi, "esp", 1))
    tr.frame(KIND_IGNORED)
    tr.frame(KIND_MALFORMED)
    rep = tr.report()
    tun = [(t["name"], t["index"], t["origin"], t["local"], t["remote"], t["sas"])
           for t in rep["tunnels"]]
    assert tun == [
        ("hq", 7, "configured", "203.0.113.7", "198.51.100.1", 2),
        ("10.0.0.1-2001:db8::2", 8, "discovered", "10.0.0.1", "2001:db8::2", 2),
        ("tunnel-9", 9, "discovered", L1, L2, 1),
        ("10.0.0.9-10.0.0.10", 10, "discovered", "10.0.0.9", "10.0.0.10", 1),
    ]
    dirs = [(s["spi"], s["tunnel"], s["direction"]) for s in rep["sas"]]
    # hq: configured local 203.0.113.7, so 198.51.100.1 -> 203.0.113.7 is inbound;
    # discovered: local is the lower address, IPv4 before IPv6 (10.0.0.1)
    assert dirs == [("0x0000012e", "hq", "inbound"), ("0x0000012f", "hq", "outbound"),
                    ("0x0000012c", "10.0.0.1-2001:db8::2", "inbound"),
                    ("0x0000012d", "10.0.0.1-2001:db8::2", "outbound"),
                    ("0x00000130", "tunnel-9", "inbound"),
                    # 10.0.0.9 < 10.0.0.10 by bytes (not as text): local is .9
                    ("0x00000131", "10.0.0.9-10.0.0.10", "outbound")]
    assert rep["capture"] == {"packets": 8, "esp": 6, "ignored": 1, "malformed": 1,
                              "untracked": 0, "pcap_drops": 0}
    hq = rep["tunnels"][0]
    assert hq["received"] == 1 and hq["outbound"]["received"] == 1


def test_reference_model_snaplen_classification():
    sc = espgen.SCENARIOS["snaplen64"]()
    cut = {}
    for f in sc.frames:
        k = sc.classify(f)
        cut.setdefault(f.sa[2], set()).add(k)
    assert cut[0x5A000001] == cut[0x5A000002] == cut[0x5A000003] == cut[0x5A000004] \
        == {KIND_ESP}
    assert cut[0x5A000005] == cut[0x5A000006] == {KIND_MALFORMED}
    assert cut[0x5A000007] == {KIND_ESP, KIND_MALFORMED}


def test_espgen_pcap_format(tmp_path):
    sc = espgen.SCENARIOS["snaplen64"](packets=50)
    p = tmp_path / "s.pcap"
    sc.write(p)
    lt, snap, recs = espgen.read_pcap(p)
    assert (lt, snap, len(recs)) == (1, 64, len(sc.frames))
    assert all(cap == min(wire, 64) == len(data) for _, cap, wire, data in recs)
    assert any(wire > cap for _, cap, wire, _ in recs)
    assert [r[0] for r in recs] == sorted(r[0] for r in recs)


def test_espgen_cli(tmp_path):
    out, truth, conf = tmp_path / "c.pcap", tmp_path / "c.json", tmp_path / "c.conf"
    subprocess.run([sys.executable, str(GEN), "--scenario", "configured", "--out", str(out),
                    "--truth", str(truth), "--config-out", str(conf)], check=True)
    doc = json.loads(truth.read_text())
    sc = espgen.SCENARIOS["configured"]()
    assert doc["expected"] == json.loads(json.dumps(sc.truth()))
    assert conf.read_text() == sc.config() and "index = 7" in sc.config()
    bench_out, bench_truth = tmp_path / "b.pcap", tmp_path / "b.json"
    subprocess.run([sys.executable, str(GEN), "--scenario", "bench", "--out", str(bench_out),
                    "--truth", str(bench_truth), "--packets", "20000"], check=True)
    bdoc = json.loads(bench_truth.read_text())
    _, _, recs = espgen.read_pcap(bench_out)
    assert bdoc["expected"]["capture"]["esp"] == len(recs) >= 20000


# --------------------------------------------------------------------------
# the binary against the truth

def test_random_loss(idt_bin, workdir, child_env):
    exp = check_scenario("loss", idt_bin, workdir, child_env)
    assert total(exp, "lost") > 0 and exp["capture"]["ignored"] > 0


def test_bursts(idt_bin, workdir, child_env):
    exp = check_scenario("bursts", idt_bin, workdir, child_env)
    assert total(exp, "lost") > 500


def test_reordering_within_window(idt_bin, workdir, child_env):
    exp = check_scenario("reorder", idt_bin, workdir, child_env)
    assert total(exp, "reordered") > 100


def test_late_beyond_window(idt_bin, workdir, child_env):
    exp = check_scenario("late", idt_bin, workdir, child_env)
    assert total(exp, "late") >= 50


def test_duplicates(idt_bin, workdir, child_env):
    exp = check_scenario("duplicates", idt_bin, workdir, child_env)
    assert total(exp, "duplicates") > 100


def test_mix(idt_bin, workdir, child_env):
    exp = check_scenario("mix", idt_bin, workdir, child_env)
    for f in ("lost", "late", "duplicates", "reordered"):
        assert total(exp, f) > 0, f


def test_esp_in_udp_with_ike_and_keepalives(idt_bin, workdir, child_env):
    exp = check_scenario("natt", idt_bin, workdir, child_env)
    assert {s["encap"] for s in exp["sas"]} == {"udp"}
    assert exp["capture"]["ignored"] >= 100


def test_ipv6_extension_headers(idt_bin, workdir, child_env):
    exp = check_scenario("ipv6", idt_bin, workdir, child_env)
    names = [t["name"] for t in exp["tunnels"]]
    # RFC 5952 text: a single zero group is not compressed to "::"
    n63 = "2001:db8:aaaa:bbbb:cccc:ddd:0:1-2001:db8:aaaa:bbbb:cccc:ddd:0:2"
    assert len(n63) == 63 and n63 in names
    assert sum(1 for x in names if x.startswith("tunnel-")) == 2


def test_vlan_and_qinq(idt_bin, workdir, child_env):
    check_scenario("vlan", idt_bin, workdir, child_env)


def test_stacked_tags_every_tpid(idt_bin, workdir, child_env):
    """0x8100, 0x88a8 and 0x9100 outer TPIDs, 1 to 5 tags."""
    check_scenario("qinq", idt_bin, workdir, child_env)


def test_linux_sll(idt_bin, workdir, child_env):
    check_scenario("sll", idt_bin, workdir, child_env)


def test_linux_sll2(idt_bin, workdir, child_env):
    check_scenario("sll2", idt_bin, workdir, child_env)


def test_raw_ip(idt_bin, workdir, child_env):
    check_scenario("raw", idt_bin, workdir, child_env)


def test_esn_wrap(idt_bin, workdir, child_env):
    exp = check_scenario("esn_wrap", idt_bin, workdir, child_env)
    assert all(s["highest_seq"] > MOD32 for s in exp["sas"])


def test_rekey_new_spi_same_tunnel(idt_bin, workdir, child_env):
    exp = check_scenario("rekey", idt_bin, workdir, child_env)
    assert len(exp["tunnels"]) == 1 and exp["tunnels"][0]["sas"] == 4
    # the old SA's lone last packet ~500 ahead: never confirmed
    old = [s for s in exp["sas"] if s["spi"] == "0xa0000001"][0]
    assert old["suspect"] == 1


def test_sa_first_seen_midstream(idt_bin, workdir, child_env):
    exp = check_scenario("midstream", idt_bin, workdir, child_env)
    sa = [s for s in exp["sas"] if s["spi"] == "0xd0000001"][0]
    assert sa["late"] == 3          # 999990, 999999, 999995: below the baseline


def test_forward_jump_2e9(idt_bin, workdir, child_env):
    exp = check_scenario("jump", idt_bin, workdir, child_env)
    sas = {s["spi"]: s for s in exp["sas"]}
    # jumps the stream continues from: counted as lost
    assert sas["0xf0000001"]["lost"] > 2_000_000_000 - 100
    assert sas["0xf0000002"]["lost"] > 4_000_000_000 - 100
    assert sas["0xf0000001"]["suspect"] == sas["0xf0000002"]["suspect"] == 0
    assert (sas["0xf0000003"]["late"], sas["0xf0000003"]["highest_seq"]) == (1, 8)
    # 5, 6, 5+2^31 (forward by 2^31-1: held), 7 (moves H), 6+2^31 (held
    # with it), end: dismissed -- suspect 2, nothing lost or late
    s4 = sas["0xf0000004"]
    assert (s4["late"], s4["lost"], s4["suspect"], s4["highest_seq"]) == (0, 0, 2, 7)


def test_spoofed_far_jumps(idt_bin, workdir, child_env):
    """Issue 16: three spoofed single packets 10^3, 10^6 and 2^31-1 ahead
    of a 3000-packet stream with 31 lost are suspect, not two billion
    lost and thousands late."""
    exp = check_scenario("spoof-jumps", idt_bin, workdir, child_env)
    sa = [s for s in exp["sas"] if s["spi"] == "0x5b00f001"][0]
    assert (sa["lost"], sa["late"], sa["suspect"], sa["received"]) == (31, 0, 3, 3000 - 31 + 3)
    t = exp["tunnels"][0]
    assert (t["lost"], t["late"], t["suspect"]) == (31, 0, 3)


def test_snaplen_64(idt_bin, workdir, child_env):
    exp = check_scenario("snaplen64", idt_bin, workdir, child_env)
    assert exp["capture"]["malformed"] > 0 and exp["capture"]["esp"] > 0
    # octets come from the IP header, not the 64 captured bytes
    assert any(s["octets"] > 64 * s["received"] for s in exp["sas"])


def test_both_directions_and_octets(idt_bin, workdir, child_env):
    """Out counters and octets per tunnel against the generator's truth
    (check_scenario compares every field, outbound and octets included);
    here: the scenario really has both directions, loss in the outbound
    one, and octets that are not a multiple of the packet count."""
    exp = check_scenario("loss", idt_bin, workdir, child_env)
    both = [t for t in exp["tunnels"] if t["received"] and t["outbound"]["received"]]
    assert both
    assert any(t["outbound"]["lost"] > 0 for t in both)
    for t in both:
        assert t["octets"] == sum(s["octets"] for s in exp["sas"]
                                  if s["tunnel"] == t["name"] and s["direction"] == "inbound")
        assert t["outbound"]["octets"] > 0
        assert t["octets"] % t["received"] or t["outbound"]["octets"] % t["outbound"]["received"]


def test_malformed_packets(idt_bin, workdir, child_env):
    exp = check_scenario("malformed", idt_bin, workdir, child_env)
    assert exp["capture"]["malformed"] == 3 * (3 + 6 + 1 + 6 + 2)


def test_2000_sas(idt_bin, workdir, child_env):
    exp = check_scenario("many_sas", idt_bin, workdir, child_env)
    assert len(exp["sas"]) == 2000 and len(exp["tunnels"]) == 500


@pytest.mark.parametrize("window", [64, 32, 100, 4096])
def test_random_streams(idt_bin, workdir, child_env, window):
    exp = check_scenario("random_streams", idt_bin, workdir, child_env, window=window,
                         window_arg=None if window == 64 else window)
    for f in ("lost", "late", "duplicates", "reordered"):
        assert total(exp, f) > 0, f


def test_window_32(idt_bin, workdir, child_env):
    check_scenario("window32", idt_bin, workdir, child_env)


def test_window_4096(idt_bin, workdir, child_env):
    check_scenario("window4096", idt_bin, workdir, child_env)


def test_configured_and_discovered_tunnels(idt_bin, workdir, child_env):
    exp = check_scenario("configured", idt_bin, workdir, child_env)
    t = {x["name"]: x for x in exp["tunnels"]}
    assert [(x["name"], x["index"]) for x in exp["tunnels"]] == [
        ("branch-v6", 3), ("hq", 7), ("idle", 12),
        ("10.9.9.1-10.9.9.9", 13), ("192.0.2.10-192.0.2.200", 14),
        ("192.0.2.99-198.51.100.1", 15)]
    assert t["idle"]["sas"] == 0 and t["idle"]["received"] == 0
    assert t["192.0.2.99-198.51.100.1"]["received"] > 0     # dst 192.0.2.99 is local
    assert (t["branch-v6"]["local"], t["branch-v6"]["remote"]) == \
        ("2001:db8:0:1::2", "2001:db8::1")


def test_nonexistent_file(idt_bin, workdir, child_env):
    cfg = workdir / "idt.conf"
    cfg.write_text("")
    missing = workdir / "no-such-capture.pcap"
    p, cmd = run_idt(idt_bin, missing, cfg, env=child_env)
    assert p.returncode != 0, "%s succeeded on a missing file" % " ".join(cmd)
    assert "no-such-capture.pcap" in p.stderr + p.stdout, \
        "message does not name the file:\nstdout: %s\nstderr: %s" % (p.stdout, p.stderr)


# --------------------------------------------------------------------------
# capture-file formats and read paths: a classic pcap is read in place
# (mapped), everything else and stdin through libpcap; all must give the
# same, exact answer

def _scenario_files(name, workdir):
    sc = espgen.SCENARIOS[name]()
    pcap = workdir / ("%s.pcap" % name)
    sc.write(pcap)
    cfg = workdir / "idt.conf"
    cfg.write_text(sc.config())
    return sc, pcap, cfg


def _json_of(p, cmd):
    assert p.returncode == 0, "%s exited %d\nstderr:\n%s" % (" ".join(cmd), p.returncode,
                                                           p.stderr[-4000:])
    return json.loads(p.stdout)


@pytest.mark.parametrize("fmt", ["be", "nsec", "nsec-be", "pcapng"])
@pytest.mark.parametrize("name", ["mix", "sll2", "raw"])
def test_capture_file_formats(idt_bin, workdir, child_env, name, fmt):
    sc, pcap, cfg = _scenario_files(name, workdir)
    conv = workdir / ("%s.%s" % (name, fmt))
    n = espgen.convert_pcap(pcap, conv, fmt)
    assert n == len(sc.frames)
    got = _json_of(*run_idt(idt_bin, conv, cfg, sc.args(), child_env))
    assert_report(sc.truth(), got)


def test_stdin_pipe(idt_bin, workdir, child_env):
    sc, pcap, cfg = _scenario_files("mix", workdir)
    cmd = [idt_bin, "interactive", "-r", "-", "--json", "-c", str(cfg)] + sc.args()
    with open(pcap, "rb") as f:
        p = subprocess.run(cmd, stdin=f, capture_output=True, text=True, timeout=TIMEOUT,
                           env=child_env)
    assert_report(sc.truth(), _json_of(p, cmd))


def _truncated_copy(pcap, path, cut):
    data = pcap.read_bytes()
    path.write_bytes(data[:len(data) - cut])


@pytest.mark.parametrize("cut,what", [(1, "captured bytes"), (0, None)])
def test_truncated_file(idt_bin, workdir, child_env, cut, what):
    """A capture cut inside its last record is refused with a precise
    message, mapped or piped (libpcap); cut at a record boundary it is a
    valid, shorter capture."""
    sc, pcap, cfg = _scenario_files("loss", workdir)
    part = workdir / "part.pcap"
    _, _, recs = espgen.read_pcap(pcap)
    last = 16 + recs[-1][1]
    _truncated_copy(pcap, part, cut if cut else last)
    p, cmd = run_idt(idt_bin, part, cfg, sc.args(), child_env)
    with open(part, "rb") as f:
        pipe = subprocess.run([idt_bin, "interactive", "-r", "-", "--json", "-c", str(cfg)],
                              stdin=f, capture_output=True, text=True, timeout=TIMEOUT,
                              env=child_env)
    if what:
        for q in (p, pipe):
            assert q.returncode == 1, q.stderr
            assert q.stdout == ""
            assert "truncated dump file" in q.stderr and what in q.stderr, q.stderr
        assert "part.pcap: read error:" in p.stderr
    else:
        got = _json_of(p, cmd)
        assert got["capture"]["packets"] == len(recs) - 1
        assert json.loads(pipe.stdout)["capture"] == got["capture"]
        assert json.loads(pipe.stdout)["sas"] == got["sas"]


def test_truncated_record_header(idt_bin, workdir, child_env):
    sc, pcap, cfg = _scenario_files("loss", workdir)
    part = workdir / "part.pcap"
    data = pcap.read_bytes()
    part.write_bytes(data + b"\0" * 7)          # 7 bytes of a record header
    p, _ = run_idt(idt_bin, part, cfg, sc.args(), child_env)
    assert p.returncode == 1 and p.stdout == ""
    assert "part.pcap: read error: truncated dump file; tried to read 16 header bytes, " \
           "only got 7" in p.stderr, p.stderr


def test_unsupported_link_type(idt_bin, workdir, child_env):
    cfg = workdir / "idt.conf"
    cfg.write_text("")
    for name, hdr in (("wifi.pcap", struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105)),
                      ("wifi-be.pcap", struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105))):
        f = workdir / name
        f.write_bytes(hdr)
        p, _ = run_idt(idt_bin, f, cfg, (), child_env)
        assert p.returncode == 1 and p.stdout == ""
        assert "%s: unsupported link type 105 (IEEE802_11)" % name in p.stderr, p.stderr


def test_not_a_capture(idt_bin, workdir, child_env):
    cfg = workdir / "idt.conf"
    cfg.write_text("")
    for name, data in (("empty.pcap", b""), ("text.pcap", b"this is not a capture file\n" * 3)):
        f = workdir / name
        f.write_bytes(data)
        p, _ = run_idt(idt_bin, f, cfg, (), child_env)
        assert p.returncode == 1 and p.stdout == ""
        assert "%s: cannot read capture:" % name in p.stderr, p.stderr


SHRINK_SHIM = r"""
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
/* fault injection: truncate the capture file at the moment the reader
 * announces sequential access to its mapping (before reading it) */
int madvise(void *addr, size_t len, int advice)
{
    const char *path = getenv("IDT_TEST_SHRINK_FILE");
    if (advice == MADV_SEQUENTIAL && path)
        (void)truncate(path, atol(getenv("IDT_TEST_SHRINK_TO")));
    return (int)syscall(SYS_madvise, addr, len, advice);
}
"""


def test_file_shrinks_while_mapped(idt_bin, workdir, child_env):
    """Another process truncating the capture under the mapped reader
    (SIGBUS on the pages gone) is a read error, not a crash."""
    sc, pcap, cfg = _scenario_files("many_sas", workdir)
    size = pcap.stat().st_size
    assert size > 3 * 65536
    src, shim = workdir / "shrink.c", workdir / "shrink.so"
    src.write_text(SHRINK_SHIM)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(shim), str(src)], check=True)
    env = dict(child_env, LD_PRELOAD=str(shim), IDT_TEST_SHRINK_FILE=str(pcap),
               IDT_TEST_SHRINK_TO="65536")
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")
    p, cmd = run_idt(idt_bin, pcap, cfg, sc.args(), env)
    assert pcap.stat().st_size == 65536, "the fault was not injected"
    assert p.returncode == 1, "%s: rc %d\n%s" % (" ".join(cmd), p.returncode, p.stderr)
    assert p.stdout == ""
    assert "many_sas.pcap: read error: the file shrank while it was being read" in p.stderr, \
        p.stderr
