#!/usr/bin/python3
"""bench.py - ipsecdiagtool benchmark (`make bench`).

Every row measures what its label says and carries its expected value; a
row whose result does not meet it FAILS, and then bench.py exits 1.  The
figures are ratios against baselines measured in the same run, next to
ours (no absolute timing thresholds).  Parts (--only, comma-separated;
"offline", "live" and "all" name groups):

  offline  throughput  `interactive -r F --json` on a >= 2,000,000-packet
                       capture (espgen bench) vs a trivial libpcap reader
                       (floor_reader.c), after checking ours against the
                       generator's ground truth;
           tshark      ours vs tshark with ESP sequence analysis, 200k slice;
           rss         peak RSS per SA with 100,000 SAs, window 64 and 4096;
           mtu         the MTU search simulator (mtu_sim.c);
           tick        the worst engine tick (tick_bench.c) while 100,000 and
                       1,000,000 discovered tunnels age out together;
  live     capture, syscpu (bench_live.py), get, walk, memory
           (bench_snmp.py): root, network namespaces, real snmpd.

--out FILE writes the report as Markdown (machine, date, commit, command,
the table, notes).  Environment: IDT_BIN, IDT_BUILDDIR, IDT_BENCH_PACKETS
(default 2000000), IDT_BENCH_RUNS (default 3), IDT_BENCH_KEEP=1, and the
IDT_BENCH_LIVE_* / IDT_BENCH_SYS_REPS variables of the live parts.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree (EXTRA_DIST)
HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRCDIR, "tests", "gen"))
import espgen  # noqa: E402

BUILDDIR = os.environ.get("IDT_BUILDDIR") or SRCDIR
BIN = os.environ.get("IDT_BIN") or os.path.join(BUILDDIR, "ipsecdiagtool")
PACKETS = int(os.environ.get("IDT_BENCH_PACKETS", "2000000"))
RUNS = max(1, int(os.environ.get("IDT_BENCH_RUNS", "3")))
SLICE = 200_000
SLICE_OURS_RUNS = 10        # ours on the slice: a ~15 ms process, best of more runs
RSS_SAS = 100_000
RSS_TUNNELS = 1000          # 100 SAs per tunnel: 50 SPIs each way
RSS_PKTS_PER_SA = 3

TARGET_FLOOR = 0.60
TARGET_TSHARK = 100.0
TARGET_BPS_64 = 256.0
TARGET_BPS_4096 = 768.0
TARGET_MTU_EXACT_10 = 99.0

RSS_CONF = "loss: { max_sas = 200000; max_tunnels = 200000; };\n"

TICK_TUNNELS = 100_000
TICK_TUNNELS_MAX = 1_000_000
TICK_MAX = 1_048_576        # loss.max_tunnels and max_sas at their maximum / the largest
TICK_IDLE = 10              # sa_idle_timeout
TICK_BUDGET_MS = 10.0       # the stated budget (README, engine.h)
TICK_SCALE = 4.0            # worst tick at 1M / at 100k: the work does not grow with how
                            # many age (the hash tables' cache misses do: 1.5-3x measured;
                            # work that grows with n gives >= 10x)
OFFLINE_PARTS = ("throughput", "tshark", "rss", "mtu", "tick")
LIVE_PARTS = ("capture", "syscpu", "get", "walk", "memory")


def log(msg=""):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# running and measuring

class Result:
    def __init__(self, wall, cpu, maxrss_kb, rc):
        self.wall, self.cpu, self.maxrss_kb, self.rc = wall, cpu, maxrss_kb, rc


def run_measured(cmd, stdout=subprocess.DEVNULL, env=None):
    """Run cmd; wall clock and user+sys CPU of that child alone (os.wait4).
    Its ru_maxrss is NOT ours alone (see peak_rss_kb)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError("%s failed (rc %d): %s" % (" ".join(cmd), p.returncode, err.strip()))
    return Result(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, p.returncode)


TIME_BIN = "/usr/bin/time"


def peak_rss_kb(cmd, tmp):
    """Peak RSS (KiB) of cmd alone.  Measured through /usr/bin/time: Linux
    carries ru_maxrss across fork+exec, so a child forked directly from
    this (large) Python process would report at least Python's own RSS."""
    if os.access(TIME_BIN, os.X_OK):
        out = os.path.join(tmp, "time.out")
        run_measured([TIME_BIN, "-f", "%M", "-o", out] + cmd)
        with open(out) as f:
            return int(f.read().split()[-1])
    raise RuntimeError("%s missing (apt-get install time): without it the RSS would "
                       "include the forking Python's image" % TIME_BIN)


def best_of(cmds, runs, env=None):
    """cmds: {name: argv}.  Runs them interleaved (a b a b ...) `runs`
    times; returns {name: (best_wall, best_cpu, [walls])}."""
    walls = {k: [] for k in cmds}
    cpus = {k: [] for k in cmds}
    for _ in range(runs):
        for k, c in cmds.items():
            r = run_measured(c, env=env)
            walls[k].append(r.wall)
            cpus[k].append(r.cpu)
    return {k: (min(walls[k]), min(cpus[k]), walls[k]) for k in cmds}


# --------------------------------------------------------------------------
# captures

def slice_pcap(src, dst, n):
    """First n records of a classic little-endian pcap (what
    `editcap -r src dst 1-n` does)."""
    k = 0
    with open(src, "rb") as f, open(dst, "wb") as out:
        ghdr = f.read(24)
        assert struct.unpack_from("<I", ghdr, 0)[0] == 0xA1B2C3D4, \
            "bench capture must be a little-endian microsecond pcap"
        out.write(ghdr)
        while k < n:
            rhdr = f.read(16)
            if len(rhdr) < 16:
                break
            caplen = struct.unpack_from("<I", rhdr, 8)[0]
            out.write(rhdr + f.read(caplen))
            k += 1
    return k


def write_many_sas(path, nsas, ntunnels, per_sa):
    """nsas SAs spread over ntunnels address pairs (half the SPIs of a
    tunnel in each direction), per_sa in-order packets each, interleaved
    round by round so that every SA is live at the end.  Timestamps 1 us
    apart (far below sa_idle_timeout)."""
    link = espgen.Link("eth", pad=False)
    payload = bytes(range(32))
    per_tunnel = (nsas + ntunnels - 1) // ntunnels
    templates = []          # (pre, post, spi)
    spi = 0x1000
    for t in range(ntunnels):
        a = "10.%d.%d.1" % (t // 250, t % 250)
        b = "172.16.%d.%d" % (t // 250, t % 250 + 1)
        heads = []
        for src, dst in ((a, b), (b, a)):
            pkt = espgen.ipv4(src, dst, espgen.IPPROTO_ESP, espgen.esp(0, 0, payload))
            frame = link.frame(pkt)
            off = len(frame) - len(payload) - 8
            heads.append((frame[:off], frame[off + 8:]))
        for k in range(per_tunnel):
            if len(templates) == nsas:
                break
            pre, post = heads[k % 2]
            templates.append((pre, post, spi))
            spi += 1
    rec = struct.Struct("<IIII")
    chunks = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, espgen.DLT_EN10MB)]
    ts = espgen.BASE_TS_US
    for seq in range(1, per_sa + 1):
        for pre, post, s in templates:
            flen = len(pre) + 8 + len(post)
            chunks.append(rec.pack(ts // 1_000_000, ts % 1_000_000, flen, flen))
            chunks.append(pre)
            chunks.append(struct.pack("!II", s, seq))
            chunks.append(post)
            ts += 1
    with open(path, "wb") as f:
        f.write(b"".join(chunks))
    return len(templates) * per_sa


def write_ageing(path, ntunnels, idle_s, tail_s, pps_tail=100):
    """ntunnels single-SA tunnels (2 in-order packets each, 1 us apart,
    raw IPv4), then one steady SA at pps_tail packets/s for idle_s + tail_s
    seconds: every other tunnel ages out together while packets keep
    coming, so the engine ticks from its packet path as it does live."""
    rec = struct.Struct("<IIII")
    ip = struct.Struct("!BBHHHBBH4s4sII8x")
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)]
    ts = espgen.BASE_TS_US
    hub = bytes([192, 0, 2, 1])
    for seq in (1, 2):
        for t in range(ntunnels):
            src = bytes([10, (t >> 16) & 255, (t >> 8) & 255, t & 255])
            out.append(rec.pack(ts // 1_000_000, ts % 1_000_000, 36, 36))
            out.append(ip.pack(0x45, 0, 36, 0, 0, 64, 50, 0, src, hub, 0x1000 + t, seq))
            ts += 1
    steady = bytes([198, 51, 100, 1])
    step = 1_000_000 // pps_tail
    for k in range((idle_s + tail_s) * pps_tail):
        out.append(rec.pack(ts // 1_000_000, ts % 1_000_000, 36, 36))
        out.append(ip.pack(0x45, 0, 36, 0, 0, 64, 50, 0, steady, hub, 0xabc, k + 1))
        ts += step
    with open(path, "wb") as f:
        f.write(b"".join(out))


def run_tick_bench(tb, path):
    out = subprocess.run([tb, "-m", str(TICK_MAX), "-s", str(TICK_MAX), "-i", str(TICK_IDLE),
                          path], capture_output=True, text=True, check=True).stdout
    return {k: float(v) for k, v in (x.split("=", 1) for x in out.split())}


# --------------------------------------------------------------------------
# checks

def check_against_truth(report, truth):
    """Compare ours with the generator's ground truth; returns a list of
    differences (empty = identical counters)."""
    diffs = []
    exp = truth["expected"]
    for k, v in exp["capture"].items():
        if report["capture"].get(k) != v:
            diffs.append("capture.%s: ours %r, truth %r" % (k, report["capture"].get(k), v))
    ours = {(s["src"], s["dst"], s["spi"]): s for s in report["sas"]}
    for s in exp["sas"]:
        o = ours.get((s["src"], s["dst"], s["spi"]))
        if o is None:
            diffs.append("SA %s %s>%s missing" % (s["spi"], s["src"], s["dst"]))
            continue
        for k in ("received", "lost", "late", "duplicates", "reordered"):
            if o.get(k) != s[k]:
                diffs.append("SA %s %s: ours %r, truth %r" % (s["spi"], k, o.get(k), s[k]))
    if len(ours) != len(exp["sas"]):
        diffs.append("SA count: ours %d, truth %d" % (len(ours), len(exp["sas"])))
    return diffs


def tshark_seq_pref():
    """The ESP sequence-analysis preference name of this tshark."""
    out = subprocess.run(["tshark", "-G", "defaultprefs"], capture_output=True,
                         text=True).stdout
    for name in ("esp.do_esp_sequence_analysis", "esp.enable_sequence_analysis"):
        if name + ":" in out:
            return name
    return None


# --------------------------------------------------------------------------

def fmt_rate(pps):
    return "%.2f M pkt/s" % (pps / 1e6) if pps >= 1e6 else "%.0f k pkt/s" % (pps / 1e3)


# --------------------------------------------------------------------------
# offline parts; each appends (figure, ours, baseline, ratio, target, met)
# rows, met None for information


class Offline:
    """The bench capture, its ground truth and an empty config, made once."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.empty_conf = os.path.join(tmp, "empty.conf")
        open(self.empty_conf, "w").close()
        self.big = os.path.join(tmp, "bench.pcap")
        truth_path = os.path.join(tmp, "bench.json")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(SRCDIR, "tests", "gen", "espgen.py"),
                        "--scenario", "bench", "--out", self.big, "--truth", truth_path,
                        "--packets", str(PACKETS)], check=True)
        with open(truth_path) as f:
            self.truth = json.load(f)
        self.npk = self.truth["expected"]["capture"]["packets"]
        log("capture: %d packets, %d SAs, %.0f MB (generated in %.1f s)"
            % (self.npk, len(self.truth["expected"]["sas"]), os.path.getsize(self.big) / 1e6,
               time.perf_counter() - t0))

    def ours(self, path):
        return [BIN, "interactive", "-r", path, "--json", "-c", self.empty_conf]


def part_throughput(o, rows):
    # correctness first: the throughput of a wrong answer means nothing
    rep_path = os.path.join(o.tmp, "ours.json")
    with open(rep_path, "w") as out:
        run_measured(o.ours(o.big), stdout=out)
    with open(rep_path) as f:
        diffs = check_against_truth(json.load(f), o.truth)
    for d in diffs[:10]:
        log("  differs from the ground truth: " + d)
    rows.append(("offline counters of every SA equal espgen's ground truth, %dk pkts"
                 % (o.npk // 1000), "%d differences" % len(diffs), "espgen truth", "-", "0", not diffs))

    floor = os.path.join(o.tmp, "floor_reader")
    subprocess.run(["gcc", "-O2", "-o", floor, os.path.join(HERE, "floor_reader.c"), "-lpcap"],
                   check=True)
    fl = subprocess.run([floor, o.big], capture_output=True, text=True, check=True).stdout
    log("floor:   %s" % fl.strip())     # also warms the page cache
    floor_ok = "esp=%d " % o.npk in fl

    r = best_of({"ours": o.ours(o.big), "floor": [floor, o.big]}, RUNS)
    ow, oc, owalls = r["ours"]
    fw, fc, fwalls = r["floor"]
    # the figure is user+sys CPU time: on an idle machine it equals wall
    # time for these single-threaded, page-cache-fed runs; on a shared one
    # wall time also counts run-queue waits
    ours_pps, floor_pps = o.npk / oc, o.npk / fc
    ratio_floor = ours_pps / floor_pps
    log("\n## throughput, %d packets" % o.npk)
    log("ours  wall %s s, cpu best %.3f s -> %s"
        % (" ".join("%.3f" % x for x in owalls), oc, fmt_rate(ours_pps)))
    log("floor wall %s s, cpu best %.3f s -> %s"
        % (" ".join("%.3f" % x for x in fwalls), fc, fmt_rate(floor_pps)))
    rows.append(("offline throughput, %dk pkts, vs libpcap floor reader (CPU, best of %d; "
                 "floor saw every packet as ESP)" % (o.npk // 1000, RUNS),
                 fmt_rate(ours_pps), fmt_rate(floor_pps), "%.2f" % ratio_floor,
                 ">= %.2f" % TARGET_FLOOR, ratio_floor >= TARGET_FLOOR and floor_ok))
    rows.append(("  same, wall clock (info; noisy on a shared machine)",
                 fmt_rate(o.npk / ow), fmt_rate(o.npk / fw), "%.2f" % (fw / ow), "-", None))


def part_tshark(o, rows):
    sl = os.path.join(o.tmp, "slice.pcap")
    nsl = slice_pcap(o.big, sl, SLICE)
    log("\n## vs tshark, %d-packet slice" % nsl)
    pref = tshark_seq_pref() if shutil.which("tshark") else None
    if pref is None:
        rows.append(("vs tshark ESP sequence analysis: NOT RUN (tshark or its ESP "
                     "sequence-analysis preference missing)", "-", "-", "-",
                     ">= %g" % TARGET_TSHARK, False))
        return
    home = os.path.join(o.tmp, "home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"))
    tsh_cmd = ["tshark", "-n", "-r", sl, "-o", pref + ":TRUE", "-T", "fields", "-e", "esp.sequence"]
    log("tshark: %s" % " ".join(tsh_cmd))
    run_measured(tsh_cmd, env=env)      # untimed: page cache, plugin/profile init
    r = best_of({"ours": o.ours(sl), "tshark": tsh_cmd}, RUNS, env=env)
    tw, tc, twalls = r["tshark"]
    # ours takes ~15 ms here, so a stray ms of scheduling shows: more runs
    more = best_of({"ours": o.ours(sl)}, SLICE_OURS_RUNS - RUNS, env=env)["ours"] \
        if SLICE_OURS_RUNS > RUNS else (float("inf"), float("inf"), [])
    ow, oc = min(r["ours"][0], more[0]), min(r["ours"][1], more[1])
    owalls = r["ours"][2] + more[2]
    ratio_t = tc / oc
    log("ours   wall %s s, cpu best %.3f s -> %s"
        % (" ".join("%.3f" % x for x in owalls), oc, fmt_rate(nsl / oc)))
    log("tshark wall %s s, cpu best %.3f s -> %s"
        % (" ".join("%.3f" % x for x in twalls), tc, fmt_rate(nsl / tc)))
    rows.append(("vs `tshark -o %s:TRUE`, %dk slice (CPU, best of %d; ours best of %d)"
                 % (pref, nsl // 1000, RUNS, max(RUNS, SLICE_OURS_RUNS)),
                 fmt_rate(nsl / oc), fmt_rate(nsl / tc), "%.0f" % ratio_t,
                 ">= %g" % TARGET_TSHARK, ratio_t >= TARGET_TSHARK))
    rows.append(("  same, wall clock (info)", fmt_rate(nsl / ow), fmt_rate(nsl / tw),
                 "%.0f" % (tw / ow), "-", None))


def part_rss(o, rows):
    log("\n## peak RSS, %d SAs in %d tunnels, %d packets each"
        % (RSS_SAS, RSS_TUNNELS, RSS_PKTS_PER_SA))
    rss_conf = os.path.join(o.tmp, "rss.conf")
    with open(rss_conf, "w") as f:
        f.write(RSS_CONF)
    log("config: %s" % RSS_CONF.strip())
    many = os.path.join(o.tmp, "sas100k.pcap")
    one = os.path.join(o.tmp, "sas1.pcap")
    write_many_sas(many, RSS_SAS, RSS_TUNNELS, RSS_PKTS_PER_SA)
    write_many_sas(one, 1, 1, RSS_PKTS_PER_SA)
    many_t = os.path.join(o.tmp, "sas100k_50kt.pcap")      # one SA pair per tunnel
    write_many_sas(many_t, RSS_SAS, RSS_SAS // 2, RSS_PKTS_PER_SA)

    def tracked(path):
        chk = os.path.join(o.tmp, "rss.json")
        with open(chk, "w") as out:
            run_measured([BIN, "interactive", "-r", path, "--json", "-c", rss_conf], stdout=out)
        with open(chk) as f:
            return len(json.load(f)["sas"])
    n_many, n_t = tracked(many), tracked(many_t)
    log("check: %d and %d SAs tracked (of %d)" % (n_many, n_t, RSS_SAS))

    def rss(path, window):
        cmd = [BIN, "interactive", "-r", path, "--json", "-c", rss_conf, "--window", str(window)]
        return min(peak_rss_kb(cmd, o.tmp) for _ in range(2))   # nearly deterministic

    for window, target in ((64, TARGET_BPS_64), (4096, TARGET_BPS_4096)):
        r1, rn = rss(one, window), rss(many, window)
        bps = (rn - r1) * 1024.0 / RSS_SAS
        log("window %4d: RSS 1 SA %.1f MiB, %d SAs %.1f MiB -> %.0f bytes/SA"
            % (window, r1 / 1024, RSS_SAS, rn / 1024, bps))
        rows.append(("offline peak RSS per SA, %s SAs tracked / %d tunnels, window %d"
                     % (f"{n_many:,}", RSS_TUNNELS, window), "%.0f B/SA" % bps,
                     "1 SA: %.1f MiB, %dk: %.1f MiB" % (r1 / 1024, RSS_SAS // 1000, rn / 1024),
                     "-", "<= %g, %s tracked" % (target, f"{RSS_SAS:,}"),
                     bps <= target and n_many == RSS_SAS))
        if window == 64:
            rt = rss(many_t, window)
            bpt = (rt - r1) * 1024.0 / RSS_SAS
            rows.append(("  same, %s SAs tracked in %dk tunnels x 2 SAs (info: incl. tunnel state)"
                         % (f"{n_t:,}", RSS_SAS // 2000), "%.0f B/SA" % bpt,
                         "%dk: %.1f MiB" % (RSS_SAS // 1000, rt / 1024), "-", "-", None))


def part_mtu(o, rows):
    log("\n## MTU search (tests/bench/mtu_sim.c, simulated path)")
    sim = os.path.join(o.tmp, "mtu_sim")
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-I" + os.path.join(SRCDIR, "src"),
                    os.path.join(SRCDIR, "src", "mtu_search.c"),
                    os.path.join(HERE, "mtu_sim.c"), "-o", sim], check=True)
    log(subprocess.run([sim, "-R", "1"], capture_output=True, text=True, check=True).stdout.rstrip())
    kv = {}
    for line in subprocess.run([sim, "-k", "-R", "1"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        d = dict(x.split("=", 1) for x in line.split())
        kv[(d["method"], d["loss"])] = d
    for loss in ("0%", "10%", "10%x2"):
        if not all((m, loss) in kv for m in ("ours", "binary", "fastmtu")):
            raise RuntimeError("mtu_sim printed no %s row for every method" % loss)
    o_, b, f = kv[("ours", "0%")], kv[("binary", "0%")], kv[("fastmtu", "0%")]
    fewer = (float(o_["mean_rounds"]) < float(b["mean_rounds"]) and
             float(o_["mean_rounds"]) < float(f["mean_rounds"]) and o_["exact_rate"] == "100.00%")
    rows.append(("MTU search mean rounds, 0% loss, retries 1 (exact rate)",
                 "%s (%s)" % (o_["mean_rounds"], o_["exact_rate"]),
                 "binary %s, FastMTU %s" % (b["mean_rounds"], f["mean_rounds"]), "-",
                 "fewer than both, exact", fewer))
    for loss in ("10%", "10%x2"):
        o_, b, f = kv[("ours", loss)], kv[("binary", loss)], kv[("fastmtu", loss)]
        exact = float(o_["exact_rate"].rstrip("%"))
        if loss == "10%":       # the default retries = 1 is meant for this
            rows.append(("MTU search exact-answer rate, 10% probe loss, retries 1", o_["exact_rate"],
                         "binary %s, FastMTU %s" % (b["exact_rate"], f["exact_rate"]), "-",
                         ">= %.0f%%" % TARGET_MTU_EXACT_10, exact >= TARGET_MTU_EXACT_10))
        else:
            rows.append(("MTU search exact-answer rate, 10% loss on probe and reply (info)", o_["exact_rate"],
                         "binary %s, FastMTU %s" % (b["exact_rate"], f["exact_rate"]), "-", "-", None))
        rows.append(("MTU search mean rounds / probes, %s loss (info)"
                     % ("10% on probe and reply" if loss == "10%x2" else loss),
                     "%s / %s" % (o_["mean_rounds"], o_["mean_probes"]),
                     "binary %s / %s, FastMTU %s / %s"
                     % (b["mean_rounds"], b["mean_probes"], f["mean_rounds"], f["mean_probes"]),
                     "-", "-", None))


def part_tick(o, rows):
    log("\n## worst engine tick, discovered tunnels ageing together (max_tunnels = max_sas = %d, "
        "sa_idle_timeout = %d)" % (TICK_MAX, TICK_IDLE))
    tb = os.path.join(o.tmp, "tick_bench")
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-I" + os.path.join(SRCDIR, "src"),
                    "-I" + BUILDDIR, os.path.join(HERE, "tick_bench.c"),
                    os.path.join(BUILDDIR, "libidtpure.a"), "-lconfig", "-lm", "-o", tb],
                   check=True)
    res = {}
    all_removed = True
    for n in (TICK_TUNNELS, TICK_TUNNELS_MAX):
        path = os.path.join(o.tmp, "ageing%d.pcap" % n)
        write_ageing(path, n, TICK_IDLE, 10)
        # the smaller of 2 runs' worst tick (CPU time of the thread)
        runs = [run_tick_bench(tb, path) for _ in range(2 if n == TICK_TUNNELS else 1)]
        os.unlink(path)
        best = min(runs, key=lambda r: r["worst_tick_us"])
        res[n] = best
        log("%7d tunnels: worst tick %.2f ms (CPU), worst other packet call %.1f ms (wall), "
            "%d SAs expired, %d tunnels removed, %d left, drained %d ticks after the capture"
            % (n, best["worst_tick_us"] / 1000, best["worst_other_us"] / 1000,
               best["sas_expired"], best["tunnels_removed"], best["tunnels_left"],
               best["drain_ticks"]))
        all_removed &= best["tunnels_removed"] == n + 1 and best["tunnels_left"] == 0
    w1 = res[TICK_TUNNELS]["worst_tick_us"] / 1000
    w2 = res[TICK_TUNNELS_MAX]["worst_tick_us"] / 1000
    rows.append(("ageing: every discovered tunnel removed (100k and 1M runs)",
                 "yes" if all_removed else "no", "-", "-", "all removed", all_removed))
    rows.append(("worst engine tick (CPU), %dk discovered tunnels ageing together"
                 % (TICK_TUNNELS // 1000), "%.2f ms" % w1, "budget %g ms" % TICK_BUDGET_MS,
                 "%.2f" % (w1 / TICK_BUDGET_MS), "<= 1", w1 <= TICK_BUDGET_MS))
    rows.append(("  same, %dM tunnels vs %dk (work independent of how many age)"
                 % (TICK_TUNNELS_MAX // 1000000, TICK_TUNNELS // 1000), "%.2f ms" % w2,
                 "%.2f ms" % w1, "%.2f" % (w2 / w1), "<= %g" % TICK_SCALE,
                 w2 <= TICK_SCALE * w1 and w2 <= TICK_BUDGET_MS))


# --------------------------------------------------------------------------
# the report


def machine_line():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d CPU(s) usable, %s; %s %s" % (len(os.sched_getaffinity(0)), model,
                                          platform.system(), platform.release())


def load_line():
    return " ".join("%.2f" % x for x in os.getloadavg())


def commit_line():
    def git(*a):
        return subprocess.run(["git", "-C", SRCDIR] + list(a), capture_output=True,
                              text=True).stdout.strip()
    rev = git("rev-parse", "--short=12", "HEAD")
    if not rev:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return rev + (" with uncommitted changes" if dirty else "")


def command_line(args):
    cmd = "tests/bench/bench.py" + ("" if args.only == "all" else " --only " + args.only)
    env = " ".join("%s=%s" % (k, v) for k, v in sorted(os.environ.items())
                   if k.startswith("IDT_BENCH_"))
    if os.environ.get("MAKELEVEL"):
        only = "" if args.only == "all" else " BENCH_ONLY=%s" % args.only
        return "`%smake bench%s` (runs %s)" % (env + " " if env else "", only, cmd)
    return "`%s%s`" % (env + " " if env else "", cmd)


def table(rows):
    out = ["| figure | ours | baseline | ratio | expected | met? |", "|---|---|---|---|---|---|"]
    for fig, ours, base, ratio, target, met in rows:
        m = "-" if met is None else ("yes" if met else "**FAILED**")
        out.append("| %s | %s | %s | %s | %s | %s |" % (fig, ours, base, ratio, target, m))
    return out


def report(args, started, start_load, rows, notes, seconds):
    failed = [r for r in rows if r[5] is False]
    lines = ["Machine: %s; load average %s at the start, %s at the end." % (
                 machine_line(), start_load, load_line()),
             "Date: %s, %.0f s.  Commit: %s.  Command: %s." % (
                 started.strftime("%Y-%m-%d %H:%M UTC"), seconds, commit_line(), command_line(args)),
             ""] + table(rows) + [""]
    lines += ["Note: " + n for n in notes]
    if notes:
        lines.append("")
    if failed:
        lines.append("Result: %d of %d rows with an expected value FAILED." % (
            len(failed), sum(1 for r in rows if r[5] is not None)))
    else:
        lines.append("Result: all %d rows with an expected value met." % sum(
            1 for r in rows if r[5] is not None))
    return "\n".join(lines) + "\n", failed


def parse_parts(spec):
    groups = {"all": OFFLINE_PARTS + LIVE_PARTS, "offline": OFFLINE_PARTS, "live": LIVE_PARTS}
    parts = []
    for w in spec.replace(" ", ",").split(","):
        if not w:
            continue
        if w not in groups and w not in OFFLINE_PARTS + LIVE_PARTS:
            raise SystemExit("bench: unknown part %r (parts: %s; groups: all, offline, live)"
                             % (w, ", ".join(OFFLINE_PARTS + LIVE_PARTS)))
        parts += groups.get(w, (w,))
    return parts or list(groups["all"])


def main():
    ap = argparse.ArgumentParser(description="ipsecdiagtool benchmark (make bench)")
    ap.add_argument("--only", default="all", help="comma-separated parts or groups (default all)")
    ap.add_argument("--out", help="write the Markdown report to this file")
    args = ap.parse_args()
    args.only = args.only.strip() or "all"
    parts = parse_parts(args.only)
    started = datetime.datetime.now(datetime.timezone.utc)
    start_load = load_line()
    t_start = time.perf_counter()
    if not os.access(BIN, os.X_OK):
        log("bench: %s not found or not executable (build it first)" % BIN)
        return 2
    tmp = tempfile.mkdtemp(prefix="idt-bench-")
    rows, notes = [], []
    try:
        log("# ipsecdiagtool benchmark: %s" % ", ".join(parts))
        log("machine: %s; load average %s" % (machine_line(), start_load))
        log("binary:  %s" % BIN)
        if any(p in OFFLINE_PARTS for p in parts):
            o = Offline(tmp)
            for name, fn in (("throughput", part_throughput), ("tshark", part_tshark),
                             ("rss", part_rss), ("mtu", part_mtu), ("tick", part_tick)):
                if name in parts:
                    fn(o, rows)
        live = [p for p in parts if p in LIVE_PARTS]
        if live:
            import bench_live   # noqa: E402  (tests/bench/bench_live.py)
            why = bench_live.check_tools()
            if why:
                rows.append(("live parts (%s): NOT RUN: %s" % (", ".join(live), why),
                             "-", "-", "-", "run", False))
            else:
                log("\n## live: %s" % ", ".join(live))
                lrows, lnotes = bench_live.run(live, tmp)
                rows += lrows
                notes += lnotes
    finally:
        if os.environ.get("IDT_BENCH_KEEP"):
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    text, failed = report(args, started, start_load, rows, notes, time.perf_counter() - t_start)
    log("\n## summary\n")
    log(text)
    for r in failed:
        log("FAILED: %s: ours %s, baseline %s, ratio %s, expected %s" % r[:5])
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        log("report written to %s" % args.out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
