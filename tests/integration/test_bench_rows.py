"""The benchmark's rows fail when their label is not true (tests/bench).

Feeds the row builders of make bench hand-made measurements whose right
verdict follows from the numbers by hand, and checks the verdicts and the
report's result line.  No root, no network: the measuring itself is what
`make bench` runs.
"""
import importlib.util
import os
import sys
import types

import pytest

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench")
sys.path.insert(0, BENCH)
import bench_live  # noqa: E402
import bench_snmp  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_main", os.path.join(BENCH, "bench.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

SENT = 300_000


def run(who, tasks, sys_, captured=SENT, drops=0, pps=100_000, own=0.02):
    return {"who": who, "sent": SENT, "pps": pps, "captured": captured, "drops": drops,
            "cpu_ns": own, "tasks": tasks, "sys": sys_}


def sys_runs(ours_added=(0.030, 0.031, 0.029), td_added=(0.027, 0.027, 0.027)):
    """Three rotations: replay alone costs 1.5 s (tasks) and 3.0 s (all
    cores); capturing adds the given seconds to both measures."""
    return {"none": [run("none", 1.5, 3.0, captured=None, drops=None) for _ in range(3)],
            "ours": [run("ours", 1.5 + a, 3.0 + a) for a in ours_added],
            "tcpdump": [run("tcpdump", 1.5 + a, 3.0 + a) for a in td_added]}


def verdicts(res):
    rows, notes = [], []
    bench_live.syscpu_rows(res, 0.0, 0.0, rows, notes)
    got = {}
    for fig, ours, _base, ratio, _target, met in rows:
        if "added by capturing, us per packet" in fig:
            got["tasks" if "tasks involved" in fig else "sys"] = (ours, ratio, met)
    return got


def test_syscpu_quiet_runs_pass():
    v = verdicts(sys_runs())
    # 0.030 s / 300k = 0.100 us, 0.027 s / 300k = 0.090 us: ratio 1.11
    assert v["tasks"][0].startswith("0.100 (0.097..0.103)")
    assert v["tasks"][1] == "1.11"
    assert v["tasks"][2] is True and v["sys"][2] is True


def test_syscpu_unaccounted_packets_fail():
    res = sys_runs()
    res["ours"][1]["captured"] = SENT - 1000          # and no drop counted
    v = verdicts(res)
    assert v["tasks"][2] is False and v["sys"][2] is False


def test_syscpu_noise_larger_than_the_effect_fails():
    res = sys_runs()
    # 0.05 s more on all cores in one run: a spread of 0.167 us > half of 0.090
    res["ours"][1]["sys"] += 0.05
    v = verdicts(res)
    assert v["sys"][2] is False
    assert v["tasks"][2] is True


def test_syscpu_replay_short_of_its_rate_fails():
    res = sys_runs()
    res["none"][2]["pps"] = 80_000
    v = verdicts(res)
    assert v["tasks"][2] is False and v["sys"][2] is False


def test_syscpu_ratio_over_target_fails():
    v = verdicts(sys_runs(ours_added=(0.045, 0.045, 0.045)))   # 0.150 / 0.090 = 1.67
    assert v["tasks"][1] == "1.67" and v["tasks"][2] is False


def test_capture_accounting():
    ok = run("ours", 0, 0, captured=SENT - 5, drops=5)
    bad = run("ours", 0, 0, captured=SENT - 5, drops=0)
    assert bench_live.accounted(ok) and not bench_live.accounted(bad)
    assert bench_live.agg([ok, ok])["ok"] and not bench_live.agg([ok, bad])["ok"]
    # CPU per packet captured, not sent: 0.02 s / 299,995 packets
    assert bench_live.per_mpkt(ok) == pytest.approx(0.02 / (SENT - 5) * 1e6)


def walk(vb, secs, cpu, complete=True, err=""):
    return (vb, secs, complete, err, cpu)


def walk_verdicts(walks):
    rows, notes = [], []
    bench_snmp.walk_rows(walks, rows, notes)
    return [(fig, met) for fig, _o, _b, _r, _t, met in rows]


def base_walks():
    return {1000: (1000, {"bulk": walk(13_000, 0.5, 0.39), "walk": walk(13_000, 2.0, 1.3),
                          "col": walk(1000, 0.2, 0.1)}),
            10_000: (10_000, {"bulk": walk(130_000, 5.0, 3.9 * 1.2),       # CPU ratio 1.2
                              "walk": walk(130_000, 20.0, 13 * 1.6)}),    # CPU ratio 1.6
            100_000: (100_000, {"bulk": walk(1_300_000, 50.0, 39 * 1.1),
                                "col": walk(99_000, 20.0, 10.0, complete=False,
                                            err="99000 varbinds, expected 100000")})}


def test_walk_rows():
    v = walk_verdicts(base_walks())
    assert [met for _f, met in v] == [True, True, True,      # bulk 1k ref, 10k 1.2, 100k 1.1
                                      True, False,           # walk 1k ref, 10k 1.6 > 1.5
                                      True, False]           # col 1k ref, 100k incomplete
    assert "INCOMPLETE" in v[-1][0]


def test_walk_row_fails_when_the_daemon_had_other_sa_count():
    w = base_walks()
    w[10_000] = (9_999, w[10_000][1])
    v = walk_verdicts(w)
    assert v[1][1] is False and "9999 SAs" in v[1][0]


def test_report_result_line_and_failed_rows():
    args = types.SimpleNamespace(only="walk")
    rows = [("a", "1", "1", "1", "<= 1", True), ("b", "2", "1", "2", "<= 1", False),
            ("c", "3", "-", "-", "info", None)]
    text, failed = bench.report(args, bench.datetime.datetime.now(bench.datetime.timezone.utc),
                                "0.00", rows, ["n"], 1.0)
    assert [r[0] for r in failed] == ["b"]
    assert "| b | 2 | 1 | 2 | <= 1 | **FAILED** |" in text
    assert "Result: 1 of 2 rows with an expected value FAILED." in text
    text, failed = bench.report(args, bench.datetime.datetime.now(bench.datetime.timezone.utc),
                                "0.00", rows[:1] + rows[2:], [], 1.0)
    assert not failed and "Result: all 1 rows with an expected value met." in text


def test_parts():
    assert bench.parse_parts("offline,walk") == ["throughput", "tshark", "rss", "mtu", "tick", "walk"]
    with pytest.raises(SystemExit):
        bench.parse_parts("walks")
