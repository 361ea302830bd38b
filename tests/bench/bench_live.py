"""bench_live.py - live capture cost of ipsecdiagtool (bench.py's live parts).

ESP is replayed with tcpreplay onto one end of a veth pair inside a private
network namespace and captured on the other end by `ipsecdiagtool run`
(AgentX subagent of a private snmpd) or, in turn, by `tcpdump -w /dev/null`
with the same filter and snaplen.

  capture  CPU of the capturing process per packet CAPTURED (schedstat of
           all its threads, before/after), at fixed rates and top speed,
           interleaved with tcpdump; kernel drops; capture.buffer_kb
           variations; tcpdump --immediate-mode as a proxy for what
           immediate mode would cost us.  Every run must account for every
           packet: captured == sent - drops, or its row fails.
  syscpu   CPU over all cores from /proc/stat (this includes the kernel's
           share: softirq, AF_PACKET, the veth) per packet, replay alone vs
           replay + ours vs replay + tcpdump, interleaved in rotating order.

run(parts, ...) is called by bench.py with the SNMP walk, GET latency and
memory parts of bench_snmp.py; it returns (rows, notes).  A row is
(figure, ours, baseline, ratio, target, met) with met None for information.
"""

import os
import shutil
import tempfile
import time

import bench_snmp
import espgen
from benchlib import (BIN, KEEP, OID_CAPTURED, OID_DROPS, Netns, Snmp, Tcpdump, capture_filter,
                      daemon_config, log, median, proc_cpu_ns, rate_name, replay,
                      softirqd_cpu, system_cpu, wait_settled)

RUNS = max(1, int(os.environ.get("IDT_BENCH_LIVE_RUNS", "3")))
PACKETS = int(os.environ.get("IDT_BENCH_LIVE_PACKETS", "1000000"))
SYS_REPS = max(2, int(os.environ.get("IDT_BENCH_SYS_REPS", "5")))

# fixed replay rates (pps) and packet limits; "top" = --topspeed, the whole capture
RATES = [(100_000, 300_000), (300_000, None), ("top", None)]
BUFFERS_KB = [2048, 4096, 16384]
SYS_RATE, SYS_LIMIT = 100_000, 300_000

TARGET_CPU = 1.3

LIVE_PARTS = ("capture", "syscpu", "get", "walk", "memory")


# --------------------------------------------------------------------------
# one run


def measure_capture(ns, snmp, pcap, rate, limit, who, buffer_kb=4096, immediate=False):
    """One replay with `who` ("ours", "tcpdump" or "none") capturing.
    Returns sent, pps, captured, drops, the capturing process's CPU (cpu_ns)
    and the CPU over all cores (sys, sys_irq) in the window from just before
    the replay to 1.2 s after it."""
    pid = td = None
    if who == "ours":
        pid = snmp.start_agent(daemon_config(ns.rx, buffer_kb=buffer_kb))
        base_cap, base_drop = snmp.get(OID_CAPTURED, OID_DROPS)
        if base_cap is None or base_drop is None:
            raise RuntimeError("no ipsecDiagCapturedPkts/CaptureDrops from the daemon")
    elif who == "tcpdump":
        td = Tcpdump(ns, capture_filter(), buffer_kb, immediate)
        pid = td.pid
        time.sleep(0.2)
    try:
        n0 = proc_cpu_ns(pid) if pid else 0.0
        k0 = softirqd_cpu()
        s0, i0 = system_cpu()
        sent, secs, pps, rcpu = replay(ns, pcap, rate, limit)
        time.sleep(1.2)     # > pcap timeout (ours 100 ms, tcpdump 1000 ms): all blocks read
        s1, i1 = system_cpu()
        k1 = softirqd_cpu()
        n1 = proc_cpu_ns(pid) if pid else 0.0
        captured = drops = None
        if who == "ours":
            cap = wait_settled(snmp, OID_CAPTURED)
            drop = snmp.get(OID_DROPS)[0]
            if cap is None or drop is None:
                raise RuntimeError("no ipsecDiagCapturedPkts/CaptureDrops after the replay")
            captured, drops = cap - base_cap, drop - base_drop
        elif who == "tcpdump":
            st = td.stop()
            td = None
            captured, drops = st["captured"], st["dropped"] + st["ifdropped"]
    finally:
        if td:
            td.stop()
        if who == "ours":
            snmp.stop_agent()
    return {"who": who, "cpu_ns": n1 - n0, "sent": sent, "secs": secs, "pps": pps,
            "captured": captured, "drops": drops, "sys": s1 - s0, "sys_irq": i1 - i0,
            "replay_cpu": rcpu, "softirqd": k1 - k0,
            "tasks": rcpu + (k1 - k0) + (n1 - n0)}


def accounted(r):
    """Every packet sent was either captured or counted as dropped."""
    return r["captured"] == r["sent"] - r["drops"]


def per_mpkt(r):
    """CPU s of the capturing process per million packets captured."""
    return r["cpu_ns"] / r["captured"] * 1e6 if r["captured"] else float("inf")


def fmt_run(tag, r):
    s = "  %-26s sent %7d at %7.0f pps: " % (tag, r["sent"], r["pps"])
    if r["who"] != "none":
        s += "captured %7d, drops %6d%s, process CPU %.4f s = %.4f s/Mpkt captured; " % (
            r["captured"], r["drops"], "" if accounted(r) else " (UNACCOUNTED)",
            r["cpu_ns"], per_mpkt(r))
    return s + "tcpreplay %.2f s, ksoftirqd %.3f s; all cores %.2f s" % (
        r["replay_cpu"], r["softirqd"], r["sys"])


def agg(runs):
    """Median CPU per Mpkt captured over repetitions, max drops, and whether
    every run accounted for every packet."""
    return {"cpu_mpkt": median([per_mpkt(r) for r in runs]),
            "drops": max(r["drops"] for r in runs),
            "pps": sum(r["pps"] for r in runs) / len(runs),
            "captured": min(r["captured"] for r in runs), "sent": min(r["sent"] for r in runs),
            "ok": all(accounted(r) for r in runs)}


def acc_text(a):
    return "captured = sent - drops" + ("" if a["ok"] else " (NOT in every run)")


# --------------------------------------------------------------------------
# capture: process CPU per packet captured


def idle_cpu(ns, snmp, who, secs=3.0):
    if who == "ours":
        pid = snmp.start_agent(daemon_config(ns.rx))
        td = None
    else:
        td = Tcpdump(ns, capture_filter())
        pid = td.pid
    try:
        time.sleep(1.0)
        n0 = proc_cpu_ns(pid)
        time.sleep(secs)
        return (proc_cpu_ns(pid) - n0) / secs * 1e3
    finally:
        if td:
            td.stop()
        else:
            snmp.stop_agent()


def part_capture(ns, snmp, pcap, rows, notes):
    log("\n== capture: process CPU per packet captured, ours vs tcpdump (same filter, snaplen 128) ==")
    results = {}
    for rate, limit in RATES:
        rname = rate_name(rate)
        ours, td = [], []
        for _ in range(RUNS):           # interleaved, so drift hits both
            r = measure_capture(ns, snmp, pcap, rate, limit, "ours")
            log(fmt_run("ours %s" % rname, r))
            ours.append(r)
            r = measure_capture(ns, snmp, pcap, rate, limit, "tcpdump")
            log(fmt_run("tcpdump %s" % rname, r))
            td.append(r)
        a, b = agg(ours), agg(td)
        results[rate] = (a, b)
        ratio = a["cpu_mpkt"] / b["cpu_mpkt"] if b["cpu_mpkt"] > 0 else float("inf")
        rows.append(("live capture, process CPU s per Mpkt captured, %s (achieved ~%.0fk pps; "
                     "median of %d, every run %s)" % (rname, a["pps"] / 1000, RUNS,
                                                      "captured = sent - drops"),
                     "%.4f (%d of %d)" % (a["cpu_mpkt"], a["captured"], a["sent"]),
                     "%.4f (%d of %d, tcpdump)" % (b["cpu_mpkt"], b["captured"], b["sent"]),
                     "%.2f" % ratio, "<= %.1f" % TARGET_CPU,
                     ratio <= TARGET_CPU and a["ok"] and b["ok"]))
        rows.append(("  kernel drops, %s (of %d sent)" % (rname, a["sent"]),
                     str(a["drops"]), "%d (tcpdump)" % b["drops"],
                     "-" if b["drops"] == 0 else "%.2f" % (a["drops"] / b["drops"]),
                     "<= tcpdump", a["drops"] <= b["drops"]))
    # idle cost (no traffic): the 1 s tick against tcpdump's 1000 ms timeout
    ours_idle, td_idle = idle_cpu(ns, snmp, "ours"), idle_cpu(ns, snmp, "tcpdump")
    log("  idle (no traffic, 3 s): ours %.2f ms CPU/s, tcpdump %.2f ms CPU/s" % (ours_idle, td_idle))
    rows.append(("idle CPU ms per second (no traffic)", "%.2f" % ours_idle, "%.2f (tcpdump)" % td_idle,
                 "%.1f" % (ours_idle / td_idle) if td_idle > 0 else "-", "info", None))
    log("\n-- capture.buffer_kb variations (ours, topspeed) --")
    bufres = {}
    for kb in BUFFERS_KB:
        if kb == 4096:
            bufres[kb] = results["top"][0]
            continue
        runs = []
        for _ in range(RUNS):
            r = measure_capture(ns, snmp, pcap, "top", None, "ours", buffer_kb=kb)
            log(fmt_run("ours buffer_kb=%d" % kb, r))
            runs.append(r)
        bufres[kb] = agg(runs)
    best = min(BUFFERS_KB, key=lambda k: (bufres[k]["drops"], bufres[k]["cpu_mpkt"]))
    tdtop = results["top"][1]["cpu_mpkt"]
    for kb in BUFFERS_KB:
        rows.append(("  buffer_kb %d, topspeed: CPU s/Mpkt captured (drops)%s"
                     % (kb, " [best]" if kb == best else ""),
                     "%.4f (%d)" % (bufres[kb]["cpu_mpkt"], bufres[kb]["drops"]),
                     "%.4f (tcpdump -B 4096)" % tdtop, "%.2f" % (bufres[kb]["cpu_mpkt"] / tdtop),
                     acc_text(bufres[kb]), bufres[kb]["ok"]))
    notes.append("best capture.buffer_kb at topspeed: %d (fewest drops, then least CPU)" % best)
    notes.append("tcpreplay --topspeed reached ~%.0fk pps here (mean over runs)"
                 % (results["top"][0]["pps"] / 1000))
    log("\n-- immediate mode proxy (tcpdump --immediate-mode vs default 1000 ms timeout) --")
    for rate, limit in RATES[:1] + RATES[2:]:
        runs = []
        for _ in range(min(RUNS, 2)):
            r = measure_capture(ns, snmp, pcap, rate, limit, "tcpdump", immediate=True)
            log(fmt_run("tcpdump --immediate %s" % rate_name(rate), r))
            runs.append(r)
        a, b = agg(runs), results[rate][1]
        rows.append(("  tcpdump --immediate-mode vs default, %s: CPU s/Mpkt captured (drops)"
                     % rate_name(rate),
                     "%.4f (%d)" % (a["cpu_mpkt"], a["drops"]),
                     "%.4f (%d)" % (b["cpu_mpkt"], b["drops"]),
                     "%.2f" % (a["cpu_mpkt"] / b["cpu_mpkt"] if b["cpu_mpkt"] else float("inf")),
                     acc_text(a), a["ok"]))
    return results


# --------------------------------------------------------------------------
# syscpu: all cores, kernel included


def background_cpu(secs=3.0):
    """CPU s per s over all cores with nothing of ours running."""
    s0, _ = system_cpu()
    time.sleep(secs)
    return (system_cpu()[0] - s0) / secs


def spread(vals, fmt):
    return ("%s (%s..%s)" % (fmt, fmt, fmt)) % (median(vals), min(vals), max(vals))


def part_syscpu(ns, snmp, pcap, rows, notes):
    """Replay alone / + ours / + tcpdump, SYS_REPS rotations.  Two measures
    of the whole cost of a run: the CPU of the tasks involved (tcpreplay
    including the softirq it runs, the ksoftirqd threads, the capturer),
    which other load on the machine disturbs through contention only, and
    the busy time of all cores from /proc/stat, which counts everything
    else running too.
    The cost of capturing is the paired difference with the replay-alone
    run of the same rotation, per packet captured."""
    log("\n== syscpu: CPU per packet over all cores, %s x %d packets, replay alone / + ours / "
        "+ tcpdump, %d rotations ==" % (rate_name(SYS_RATE), SYS_LIMIT, SYS_REPS))
    bg0 = background_cpu()
    orders = (("none", "ours", "tcpdump"), ("ours", "tcpdump", "none"), ("tcpdump", "none", "ours"))
    res = {"none": [], "ours": [], "tcpdump": []}
    for i in range(SYS_REPS):
        for who in orders[i % 3]:
            r = measure_capture(ns, snmp, pcap, SYS_RATE, SYS_LIMIT, who)
            log(fmt_run("%s (rotation %d)" % (who, i + 1), r))
            res[who].append(r)
    bg1 = background_cpu()
    syscpu_rows(res, bg0, bg1, rows, notes)


def syscpu_rows(res, bg0, bg1, rows, notes):
    """The syscpu rows from the runs of part_syscpu ({who: [run]}, runs
    paired by index) and the background CPU (s/s) before and after."""
    alone = {k: [r[k] / r["sent"] * 1e6 for r in res["none"]] for k in ("tasks", "sys")}
    d = {}          # (who, measure) -> per-rotation values
    for who in ("ours", "tcpdump"):
        pairs = list(zip(res[who], res["none"]))
        for k in ("tasks", "sys"):
            d[who, k] = [(r[k] - n[k]) / r["captured"] * 1e6 for r, n in pairs]
            d[who, k + "%"] = [(r[k] - n[k]) / n[k] * 100 for r, n in pairs]
        d[who, "own"] = [r["cpu_ns"] / r["captured"] * 1e6 for r, _ in pairs]
        d[who, "ok"] = all(accounted(r) for r, _ in pairs)
    log("  background (nothing of ours running, 3 s before and after): %.0f / %.0f ms CPU per s "
        "over all cores" % (bg0 * 1e3, bg1 * 1e3))
    for who in ("ours", "tcpdump"):
        log("  %-7s added us/pkt: tasks %s; all cores %s; own process %s"
            % (who, " ".join("%.3f" % x for x in d[who, "tasks"]),
               " ".join("%.3f" % x for x in d[who, "sys"]), " ".join("%.3f" % x for x in d[who, "own"])))
    ok = d["ours", "ok"] and d["tcpdump", "ok"]
    slow = [r["pps"] for v in res.values() for r in v if r["pps"] < 0.95 * SYS_RATE]
    if slow:
        notes.append("syscpu: %d of %d replays fell short of %s (slowest %.0f pps): the machine "
                     "was too busy for this part" % (len(slow), sum(map(len, res.values())),
                                                     rate_name(SYS_RATE),
                                                     min(slow)))
    rows.append(("CPU per packet, replay alone at %s, us (median of %d; min..max): tasks involved "
                 "(tcpreplay incl. the softirq it runs, ksoftirqd) / all cores from /proc/stat"
                 % (rate_name(SYS_RATE), SYS_REPS), "-",
                 "%s / %s" % (spread(alone["tasks"], "%.2f"), spread(alone["sys"], "%.2f")),
                 "-", "info", None))
    for k, what in (("tasks", "tasks involved (the above + the capturer)"),
                    ("sys", "all cores from /proc/stat (counts all other load too)")):
        o, t = d["ours", k], d["tcpdump", k]
        ratio = median(o) / median(t) if median(t) > 0 else float("inf")
        # resolved: the run-to-run spread is small against the effect compared
        resolved = max(max(o) - min(o), max(t) - min(t)) <= 0.5 * median(t)
        rows.append(("  added by capturing, us per packet captured, %s (median of paired "
                     "differences; min..max)" % what,
                     spread(o, "%.3f"), "%s (tcpdump)" % spread(t, "%.3f"), "%.2f" % ratio,
                     "<= %.1f; spread <= half of tcpdump's; captured = sent - drops; "
                     "every replay >= 95%% of the rate" % TARGET_CPU,
                     ratio <= TARGET_CPU and resolved and ok and not slow))
        if k == "tasks":
            own_o, own_t = median(d["ours", "own"]), median(d["tcpdump", "own"])
            rows.append(("    of which the capturer's own threads + the kernel's share (softirq, "
                         "AF_PACKET, wake-ups)", "%.3f + %.3f" % (own_o, median(o) - own_o),
                         "%.3f + %.3f (tcpdump)" % (own_t, median(t) - own_t), "-", "info", None))
    rows.append(("  added by capturing, % of the replay alone (median; min..max): tasks involved / "
                 "all cores", "%s / %s" % (spread(d["ours", "tasks%"], "%.1f%%"),
                                           spread(d["ours", "sys%"], "%.1f%%")),
                 "%s / %s (tcpdump)" % (spread(d["tcpdump", "tasks%"], "%.1f%%"),
                                        spread(d["tcpdump", "sys%"], "%.1f%%")), "-", "info", None))
    notes.append("syscpu: CPU busy over all cores with nothing of ours running: %.0f ms/s before, "
                 "%.0f ms/s after, against ~%.0f ms/s for the replay alone; the all-cores figures "
                 "are only as good as that background is small and steady"
                 % (bg0 * 1e3, bg1 * 1e3, median(alone["sys"]) * SYS_RATE / 1e3))


# --------------------------------------------------------------------------


def run(parts, tmp_parent=None):
    """Runs the selected live parts; returns (rows, notes)."""
    rows, notes = [], []
    log("binary: %s; capture filter (src/capture_filter.c): %s" % (BIN, capture_filter()))
    tmp = tempfile.mkdtemp(prefix="idt-bench-live-", dir=tmp_parent)
    snmp = None
    try:
        pcap = os.path.join(tmp, "bench.pcap")
        t0 = time.monotonic()
        espgen.bench(pcap, packets=PACKETS)
        log("generated %s (%d ESP packets, 8 SAs) in %.1f s" % (pcap, PACKETS, time.monotonic() - t0))
        with Netns() as ns:
            try:
                snmp = Snmp(ns, os.path.join(tmp, "snmp"))
                best = None
                if "capture" in parts:
                    results = part_capture(ns, snmp, pcap, rows, notes)
                    # highest sustainable rate: highest achieved rate without drops
                    for rate, _ in RATES:
                        a = results[rate][0]
                        if a["drops"] == 0 and (best is None or a["pps"] > results[best][0]["pps"]):
                            best = rate
                if "syscpu" in parts:
                    part_syscpu(ns, snmp, pcap, rows, notes)
                if "get" in parts:
                    bench_snmp.part_get(ns, snmp, pcap, best or RATES[0][0], rows)
                if "walk" in parts or "memory" in parts:
                    bench_snmp.part_walk_and_memory(ns, snmp, tmp, rows, notes,
                                                    walks="walk" in parts, memory="memory" in parts)
            finally:
                if snmp:
                    snmp.close()
    finally:
        if KEEP:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rows, notes


def check_tools():
    """None if the live parts can run, else why not."""
    missing = [t for t in ("tcpreplay", "tcpdump", "snmpd", "snmpget", "snmpwalk", "snmpbulkwalk", "ip")
               if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t)]
    if missing:
        return "missing tools: %s" % " ".join(missing)
    if os.geteuid() != 0:
        return "needs root (ip netns): run make bench as root"
    if not os.access(BIN, os.X_OK):
        return "no ipsecdiagtool binary at %s" % BIN
    return None
