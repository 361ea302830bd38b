"""benchlib.py - what the live benchmark parts share (tests/bench).

The private network namespace with its veth pair, tcpreplay, tcpdump, the
private snmpd with our subagent, per-process and system-wide CPU counters,
and the per-SA capture writer.  No measurement policy lives here.
"""

import os
import re
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "gen"))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
import espgen  # noqa: E402
from snmpenv import ROOT, SnmpEnv  # noqa: E402

BUILDDIR = os.environ.get("IDT_BUILDDIR") or SRCDIR
BIN = os.environ.get("IDT_BIN") or os.path.join(BUILDDIR, "ipsecdiagtool")
KEEP = os.environ.get("IDT_BENCH_KEEP") == "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# numeric OIDs (hand-copied from mibs/IPSECDIAG-MIB.txt)
OID_CAPTURED = ROOT + ".1.1.1.0"
OID_DROPS = ROOT + ".1.1.4.0"
OID_ACTIVE_SAS = ROOT + ".1.1.5.0"
OID_UNTRACKED = ROOT + ".1.1.8.0"
OID_TUNNEL_INPKTS = ROOT + ".1.2.1.9"
OID_SA_TABLE = ROOT + ".1.3"
OID_SA_PKTS = ROOT + ".1.3.1.8"           # ipsecDiagSaPkts, one column
SA_COLUMNS = 20                            # accessible columns 3..16, 20 and 30..34

# per-SA captures for the walk and memory parts: 4 tunnels (address pairs),
# SPIs spread over them and over both directions
SA_TUNNELS = [("10.77.0.1", "10.78.0.1"), ("10.77.0.2", "10.78.0.2"),
              ("10.77.0.3", "10.78.0.3"), ("10.77.0.4", "10.78.0.4")]


def log(msg=""):
    print(msg, flush=True)


def pct(vals, p):
    v = sorted(vals)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def median(vals):
    return pct(vals, 50)


# --------------------------------------------------------------------------
# CPU and memory counters


def proc_cpu_ns(pid):
    """Sum of sum_exec_runtime (s, ns resolution) over the live threads."""
    tot = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                tot += int(f.read().split()[0])
        except OSError:
            pass
    return tot / 1e9


def proc_rss_kb(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                d[k] = int(v.split()[0])
    return d


def system_cpu():
    """CPU seconds over all cores since boot, from the "cpu" line of
    /proc/stat: (busy, softirq+irq).  Busy is user+nice+system+irq+softirq+
    steal (guest time is already inside user); idle and iowait are not."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK, (irq + softirq) / CLK_TCK


# --------------------------------------------------------------------------
# the namespace, replay and tcpdump


class Netns:
    """A private namespace with lo and a veth pair va <-> vb (both inside)."""

    def __init__(self):
        self.name = "idtbl%d" % os.getpid()
        self.tx, self.rx = "va", "vb"
        self.created = False

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.created = True
        for cmd in (["link", "set", "lo", "up"],
                    ["link", "add", self.tx, "type", "veth", "peer", "name", self.rx],
                    ["link", "set", self.tx, "up"], ["link", "set", self.rx, "up"]):
            subprocess.run(["ip", "-n", self.name] + cmd, check=True)
        # no IPv6 chatter (router solicitations, MLD) on the capture link
        for dev in (self.tx, self.rx):
            self.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev], check=False)
        time.sleep(0.3)
        return self

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def run(self, cmd, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.prefix() + cmd, **kw)

    def close(self):
        if self.created:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            self.created = False

    def __exit__(self, *exc):
        self.close()


def rate_name(rate):
    return "topspeed" if rate == "top" else "%dk pps" % (rate // 1000)


def replay_args(rate, limit=None):
    """A fixed rate is kept with nanosleep (--timer=nano), not the default
    busy-waiting gettimeofday loop that would burn a core for the replay."""
    a = ["--topspeed"] if rate == "top" else ["--pps=%d" % rate, "--timer=nano"]
    if limit:
        a.append("--limit=%d" % limit)
    return a


def replay(ns, pcap, rate, limit=None):
    """tcpreplay onto the veth; returns (packets sent, seconds, pps, CPU s).
    The CPU is tcpreplay's own (os.wait4; `ip netns exec` execs it), which
    includes the kernel's work done in its context: the veth transmit and
    the receive softirq that runs when it re-enables bottom halves (this
    kernel does no separate IRQ-time accounting)."""
    p = subprocess.Popen(ns.prefix() + ["tcpreplay", "-q", "-K", "-i", ns.tx] +
                         replay_args(rate, limit) + [pcap],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    p.stdout.close()
    _pid, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    m = re.search(r"Actual: (\d+) packets .* sent in ([0-9.]+) seconds", out)
    if p.returncode != 0 or not m:
        raise RuntimeError("tcpreplay failed (rc %d): %s" % (p.returncode, out[-500:]))
    n, secs = int(m.group(1)), float(m.group(2))
    return n, secs, (n / secs if secs > 0 else 0.0), ru.ru_utime + ru.ru_stime


def softirqd_cpu():
    """CPU s of the ksoftirqd/N threads (softirq work deferred to them)."""
    tot = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if not f.read().startswith("ksoftirqd/"):
                    continue
            tot += proc_cpu_ns(int(pid))
        except OSError:
            pass
    return tot


def capture_filter():
    """The daemon's kernel filter for Ethernet (src/capture_filter.c), as
    printed by tests/unit/test_capture_filter (`make bench` builds it)."""
    helper = os.path.join(BUILDDIR, "tests", "unit", "test_capture_filter")
    if not os.access(helper, os.X_OK):
        raise RuntimeError("%s not built (make tests/unit/test_capture_filter)" % helper)
    return subprocess.run([helper, "--print", "1"], capture_output=True, text=True,
                          check=True).stdout.strip()


class Tcpdump:
    def __init__(self, ns, filt, buffer_kb=4096, immediate=False):
        cmd = ["tcpdump", "-i", ns.rx, "-w", "/dev/null", "-s", "128", "-B", str(buffer_kb)]
        if immediate:
            cmd.append("--immediate-mode")
        cmd.append(filt)
        self.p = subprocess.Popen(ns.prefix() + cmd, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()      # "listening on vb, ..."
        if "listening" not in line:
            self.p.kill()
            self.p.wait()
            raise RuntimeError("tcpdump did not start: %s" % line)
        self.pid = self.p.pid

    def stop(self):
        """SIGINT; returns tcpdump's closing statistics."""
        self.p.send_signal(signal.SIGINT)
        try:
            err = self.p.stderr.read()
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise RuntimeError("tcpdump did not stop on SIGINT")
        st = {}
        for key, pat in (("captured", r"(\d+) packets? captured"),
                         ("received", r"(\d+) packets? received by filter"),
                         ("dropped", r"(\d+) packets? dropped by kernel"),
                         ("ifdropped", r"(\d+) packets? dropped by interface")):
            m = re.search(pat, err)
            if key != "ifdropped" and not m:
                raise RuntimeError("tcpdump statistics without %r: %s" % (key, err[-300:]))
            st[key] = int(m.group(1)) if m else 0
        return st


# --------------------------------------------------------------------------
# our daemon behind a private snmpd


def daemon_config(iface, buffer_kb=4096, window=64, max_sas=65536):
    return ("agentx: { ping_interval = 15; };\n"
            'capture: { interface = "%s"; snaplen = 128; buffer_kb = %d; };\n'
            "loss: { window = %d; max_sas = %d; max_tunnels = 4096; sa_idle_timeout = 3600; };\n"
            % (iface, buffer_kb, window, max_sas))


class Snmp:
    """The private snmpd (AgentX master) plus our subagent, restartable."""

    def __init__(self, ns, workdir):
        self.ns = ns
        self.env = SnmpEnv(workdir, BIN, daemon_config(ns.rx), netns=ns.name, traps=False,
                           start_agent=False)
        self.env.__enter__()

    def start_agent(self, cfg_text):
        self.env.write_conf(cfg_text)
        self.env.start_agent()
        return self.env.agent.pid

    def stop_agent(self):
        self.env.stop_agent()

    def get(self, *oids):
        p = self.env.client("snmpget", "-Oqv", "-On", *oids, mibs=False, check=False,
                            extra=["-t", "5", "-r", "1"])
        vals = []
        for line in p.stdout.splitlines():
            try:
                vals.append(int(line.strip().strip('"')))
            except ValueError:
                vals.append(None)
        return vals + [None] * (len(oids) - len(vals))

    def cmd(self, tool, *args, opts=()):
        return self.ns.prefix() + [tool, "-v2c", "-c", "public", "-m", "", "-On", "-Oq",
                                   "-t", "5", "-r", "0"] + list(opts) + \
            ["127.0.0.1:%d" % self.env.port] + list(args)

    def snmpd_log(self):
        try:
            return self.env.snmpd_log.read_text(errors="replace")
        except OSError:
            return ""

    def close(self):
        self.env.close()


def wait_settled(snmp, oid, timeout=30, min_value=None, stable_s=12.0):
    """Poll a counter until it reaches min_value, or else stops changing for
    stable_s seconds: with a million SAs the daemon republishes its SNMP
    snapshot only every few seconds (a build never takes more than ~5% of the
    capture thread), so two equal reads a second apart prove nothing."""
    end = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < end:
        time.sleep(1.1)
        v = snmp.get(oid)[0]
        if v is not None and min_value is not None and v >= min_value:
            return v
        if v != last:
            last, since = v, time.monotonic()
        elif v is not None and min_value is None and time.monotonic() - since >= 2.0:
            return v
        elif v is not None and time.monotonic() - since >= stable_s:
            return v
    return last


# --------------------------------------------------------------------------
# captures


def write_sa_capture(path, spi_start, count, pkts_per_sa):
    """count SAs (SPIs spi_start..), pkts_per_sa in-order packets each,
    round by round (not SA by SA) so that every SA is created in the first
    round."""
    link = espgen.Link("eth", pad=False)
    payload = bytes(32)
    tmpl = []
    for a, b in SA_TUNNELS:
        for src, dst in ((a, b), (b, a)):
            frame = link.frame(espgen.ipv4(espgen.ip(src), espgen.ip(dst), espgen.IPPROTO_ESP,
                                           espgen.esp(0, 0, payload), df=True))
            off = len(frame) - len(payload) - 8
            tmpl.append((frame[:off], frame[off + 8:]))
    nt = len(tmpl)
    rec = struct.Struct("<IIII")
    hdr = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, espgen.DLT_EN10MB)
    t = espgen.BASE_TS_US
    with open(path, "wb") as f:
        f.write(hdr)
        for seq in range(1, pkts_per_sa + 1):
            chunks = []
            for i in range(count):
                spi = spi_start + i
                pre, post = tmpl[spi % nt]
                flen = len(pre) + 8 + len(post)
                chunks.append(rec.pack(t // 1_000_000, t % 1_000_000, flen, flen))
                chunks.append(pre)
                chunks.append(struct.pack(">II", spi, seq))
                chunks.append(post)
                t += 1
            f.write(b"".join(chunks))
