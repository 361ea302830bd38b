"""Independent cross-check with tshark (Wireshark's dissectors).

1. Wireshark's ESP sequence analysis (esp.do_esp_sequence_analysis) keeps,
   per SPI, the previous sequence number and flags every packet whose
   number is not previous+1 with esp.sequence-analysis.expected-sn
   (= previous+1).  On a stream whose numbers strictly increase (plain
   loss and bursts, no reordering/duplicates/late packets, no 2^32 wrap)
   the numbers skipped are sum(seq - expected) over the flagged packets.
   Our `lost` counts the numbers in [B, H] never received in the window;
   with strictly increasing arrivals none is received late, and the last
   packet received is H, so lost == H - B + 1 - received == that sum
   (the holes still in the window at the end are gaps between received
   packets, which tshark has counted too).  Every SPI is used by exactly
   one SA in these scenarios (Wireshark keys only by SPI).

2. The generated captures decode cleanly in tshark, and tshark's view of
   which frames carry a complete ESP header (and how many per SPI)
   agrees with the truth.

Needs tshark (it must be installed; the tests fail otherwise).  The
comparisons against the binary need IDT_BIN as in test_offline.py.
"""
import collections
import json
import shutil
import subprocess

import pytest

import espgen

XCHECK_SCENARIOS = ["inorder_xcheck", "loss", "bursts"]
DECODE_SCENARIOS = sorted(espgen.SCENARIOS)


@pytest.fixture(scope="session")
def tshark():
    path = shutil.which("tshark")
    if not path:
        pytest.fail("tshark is not installed (apt-get install tshark)", pytrace=False)
    return path


def run_tshark(tshark, pcap, env, *args):
    cmd = [tshark, "-n", "-r", str(pcap), "-o", "esp.do_esp_sequence_analysis:TRUE"] + \
        list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, "%s failed:\n%s" % (" ".join(cmd), p.stderr)
    return p.stdout


def esp_fields(tshark, pcap, env):
    """[(frame, spi, seq, expected_or_None)] for frames with a full ESP header."""
    out = run_tshark(tshark, pcap, env, "-T", "fields", "-E", "separator=/t",
                     "-e", "frame.number", "-e", "esp.spi", "-e", "esp.sequence",
                     "-e", "esp.sequence-analysis.expected-sn")
    rows = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 3 or not f[2]:
            continue
        assert "," not in f[1], "more than one ESP header in frame %s" % f[0]
        rows.append((int(f[0]), int(f[1], 0), int(f[2]),
                     int(f[3]) if len(f) > 3 and f[3] else None))
    return rows


def tshark_skipped(rows):
    """Per SPI: (packets, skipped numbers, first seq, last seq)."""
    per = {}
    for _frame, spi, seq, expected in rows:
        n, skipped, first, _last = per.get(spi, (0, 0, seq, seq))
        if expected is not None:
            assert seq > expected, \
                "SPI 0x%08x: seq %d not above expected %d: not an in-order stream" \
                % (spi, seq, expected)
            skipped += seq - expected
        per[spi] = (n + 1, skipped, first, seq)
    return per


def make(name, workdir, **kw):
    sc = espgen.SCENARIOS[name](**kw)
    pcap = workdir / ("%s.pcap" % name)
    sc.write(pcap)
    cfg = workdir / "idt.conf"
    cfg.write_text(sc.config())
    return sc, pcap, cfg


@pytest.mark.parametrize("name", XCHECK_SCENARIOS)
def test_tshark_lost_equals_truth(name, tshark, workdir, child_env):
    sc, pcap, _ = make(name, workdir)
    exp = sc.truth()
    per = tshark_skipped(esp_fields(tshark, pcap, child_env))
    truth = {int(s["spi"], 16): s for s in exp["sas"]}
    assert sorted(per) == sorted(truth)
    for spi, (n, skipped, first, last) in per.items():
        s = truth[spi]
        assert s["late"] == s["duplicates"] == s["reordered"] == 0
        assert (n, skipped, last) == (s["received"], s["lost"], s["highest_seq"]), \
            "SPI 0x%08x: tshark (received, skipped, last) = %s, truth = %s" \
            % (spi, (n, skipped, last), (s["received"], s["lost"], s["highest_seq"]))
        assert skipped == last - first + 1 - n
    assert sum(p[1] for p in per.values()) > 0


@pytest.mark.parametrize("name", XCHECK_SCENARIOS)
def test_tshark_lost_equals_binary(name, tshark, idt_bin, workdir, child_env):
    sc, pcap, cfg = make(name, workdir)
    per = tshark_skipped(esp_fields(tshark, pcap, child_env))
    cmd = [idt_bin, "interactive", "-r", str(pcap), "--json", "-c", str(cfg)] + sc.args()
    p = subprocess.run(cmd, capture_output=True, text=True, env=child_env, timeout=300)
    assert p.returncode == 0, "%s exited %d:\n%s" % (" ".join(cmd), p.returncode, p.stderr)
    got = {int(s["spi"], 16): s for s in json.loads(p.stdout)["sas"]}
    assert sorted(got) == sorted(per)
    bad = []
    for spi, (n, skipped, _first, last) in sorted(per.items()):
        g = got[spi]
        if (g["received"], g["lost"], g["highest_seq"]) != (n, skipped, last):
            bad.append("SPI 0x%08x: tshark received/skipped/last %d/%d/%d, "
                       "ipsecdiagtool received/lost/highest_seq %d/%d/%d"
                       % (spi, n, skipped, last, g["received"], g["lost"], g["highest_seq"]))
    assert not bad, "\n".join(bad)


def _tshark_view_applies(sc):
    """tshark does not dissect ESP inside IPv4 fragments (first fragments
    with MF set) - the malformed scenario has those; skip that comparison
    there (the decode check still runs)."""
    return sc.name != "malformed"


@pytest.mark.parametrize("name", DECODE_SCENARIOS)
def test_tshark_decodes_cleanly(name, tshark, workdir, child_env):
    kw = {} if name == "many_sas" else {"packets": 300}
    sc, pcap, _ = make(name, workdir, **kw)
    exp = sc.truth()
    # expert errors: none, except the deliberately malformed frames
    out = run_tshark(tshark, pcap, child_env, "-o", "ip.check_checksum:TRUE",
                     "-o", "udp.check_checksum:TRUE", "-q", "-z", "expert,error")
    errors = collections.Counter()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0].isdigit():
            errors[" ".join(f[1:])] += int(f[0])
    if name == "malformed":
        assert sum(errors.values()) > 0
    else:
        assert not errors, "tshark expert errors in %s: %s" % (name, dict(errors))
    if not _tshark_view_applies(sc):
        return
    rows = esp_fields(tshark, pcap, child_env)
    counts = collections.Counter(spi for _, spi, _, _ in rows)
    assert sum(counts.values()) == exp["capture"]["esp"]
    assert dict(counts) == {int(s["spi"], 16): s["received"] for s in exp["sas"]}
    assert exp["capture"]["packets"] == len(sc.frames)
