"""interactive -i: live capture on a veth, Ctrl-C, final report equals the ground truth."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gen"))
import espgen  # noqa: E402

import pytest


@pytest.fixture
def ns():
    name = "idtil%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for cmd in (["link", "set", "lo", "up"], ["link", "add", "a0", "type", "veth", "peer", "name", "a1"],
                    ["link", "set", "a0", "up"], ["link", "set", "a1", "up"]):
            subprocess.run(["ip", "-n", name] + cmd, check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name])


@pytest.mark.parametrize("scenario", ["loss", "mix"])
def test_live_console_final_report(idt_bin, workdir, ns, scenario):
    pcap, truth = workdir / "c.pcap", workdir / "t.json"
    subprocess.run([sys.executable, str(Path(espgen.__file__)), "--scenario", scenario, "--seed", "5",
                    "--out", str(pcap), "--truth", str(truth)], check=True, capture_output=True)
    want = json.loads(truth.read_text())
    want = want.get("expected", want)
    conf = workdir / "c.conf"
    conf.write_text("")
    out = open(workdir / "out.json", "w")
    err = open(workdir / "err.txt", "w")
    p = subprocess.Popen(["ip", "netns", "exec", ns, idt_bin, "interactive", "-c", str(conf), "-i", "a1", "--json"],
                         stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + 10
        while "capturing on a1" not in (workdir / "err.txt").read_text():
            assert time.monotonic() < deadline and p.poll() is None, (workdir / "err.txt").read_text()
            time.sleep(0.05)
        subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "a0", "--pps=5000", str(pcap)],
                       check=True, capture_output=True)
        time.sleep(0.6)
    finally:
        p.send_signal(signal.SIGINT)
        rc = p.wait(5)
    assert rc == 0
    got = json.loads((workdir / "out.json").read_text())
    # offline tunnels sort the lower address as local; live, neither address is local to the
    # namespace, so the same rule applies: the reports must agree field for field
    key = lambda s: (s["src"], s["dst"], s["spi"])
    fields = ("received", "lost", "late", "duplicates", "reordered", "highest_seq", "direction", "encap")
    assert sorted(key(s) for s in got["sas"]) == sorted(key(s) for s in want["sas"])
    w = {key(s): s for s in want["sas"]}
    for s in got["sas"]:
        for f in fields:
            assert s[f] == w[key(s)][f], (key(s), f)
    assert got["capture"]["esp"] == want["capture"]["esp"]
    assert got["capture"]["pcap_drops"] == 0
