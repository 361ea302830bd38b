"""Loss alerts: exact offline alert lists, and live alerts as SNMP
notifications + RFC 5424 syslog messages.

Offline: captures are built here from espgen's public pieces (frames,
pcap writer, the ReplayModel for per-packet loss); the expected alerts
are computed from the packet timestamps with the rules documented in
src/alert.h and src/engine.c, as plain arithmetic:

  * a sequence number is lost when the highest number passes it by
    W = 64 (ReplayModel gives, per packet, how many numbers it declares
    lost; each burst is also checked by hand: the k-th number of a burst
    starting at F is declared by the packet carrying F + k - 1 + 64);
  * the window is 64 buckets of w = interval * 15625 us aligned to 0;
    a packet at t is in the window at `now` iff
    floor(now/w) - floor(t/w) <= 63;
  * EXCEEDED at the packet whose loss makes the windowed lost count reach
    alert_lost; figures: lost/received in the window after that packet;
  * the condition goes false exactly when a loss bucket b leaves the
    window, at (b + 64) * w; CLEARED at the first evaluation at or after
    false_since + interval;
  * evaluations: every inbound packet that declares loss, and the
    engine's ticks: the first packet of the file starts the tick clock, a
    tick happens at an ESP packet whose time is >= 1 s after the last tick
    (before that packet is accounted).

Live: a network namespace with a veth pair; a private snmpd/snmptrapd and
the subagent run inside it, the subagent captures on one end, tcpreplay
sends a generated capture into the other; a UDP listener in the same
namespace records the remote syslog datagrams.
"""
import datetime
import decimal
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

import espgen
from espgen import IPPROTO_ESP, Link, PcapWriter, ReplayModel, esp, ipv4
from snmpenv import ROOT, SnmpEnv, wait_for

TIMEOUT = 120
W = 64
T0 = espgen.BASE_TS_US          # 1_700_000_000 s: a multiple of every bucket width used
US = 1_000_000


# --------------------------------------------------------------------------
# scenario builder (offline and live)

class Stream:
    """One SA: sequence number s (from `first`) is sent at t0 + (s - first) * gap
    unless it is in `drops` (a lost packet leaves a gap in time too)."""

    def __init__(self, src, dst, spi, first, last, drops=(), t0=T0, gap=10_000):
        self.src, self.dst, self.spi = src, dst, spi
        self.first, self.last = first, last
        self.drops = set(drops)
        self.t0, self.gap = t0, gap

    def packets(self):
        return [(self.t0 + (s - self.first) * self.gap, s)
                for s in range(self.first, self.last + 1) if s not in self.drops]


def burst(first, n):
    return range(first, first + n)


def esp_ipv4_frame(src, dst, spi, seq, dst_mac=None, src_mac=None):
    pkt = ipv4(src, dst, IPPROTO_ESP, esp(spi, seq, bytes(range(32))), df=True)
    if dst_mac is None:
        return Link("eth").frame(pkt)
    return dst_mac + src_mac + b"\x08\x00" + pkt


def build_pcap(path, streams, dst_mac=None, src_mac=None):
    """Writes the merged streams (time order, ties in stream order) and
    returns the merged list of (ts, stream, seq)."""
    merged = []
    for k, st in enumerate(streams):
        for ts, s in st.packets():
            merged.append((ts, k, s))
    merged.sort()
    assert len({ts for ts, _, _ in merged}) == len(merged), "scenario has equal timestamps"
    w = PcapWriter(espgen.DLT_EN10MB)
    for ts, k, s in merged:
        st = streams[k]
        w.add(ts, esp_ipv4_frame(st.src, st.dst, st.spi, s, dst_mac, src_mac))
    w.write(path)
    return [(ts, streams[k], s) for ts, k, s in merged]


# --------------------------------------------------------------------------
# expected alerts from the documented rules

def loss_declarations(stream):
    """[(ts, n_lost_declared_by_this_packet)] from the reference model."""
    m = ReplayModel(W)
    out = []
    for ts, s in stream.packets():
        before = m.lost
        m.update(s & 0xFFFFFFFF)
        out.append((ts, m.lost - before))
    return out


def tick_times(merged):
    """Engine ticks over the file: clock started by the first packet."""
    ticks = []
    last = merged[0][0]
    for ts, _, _ in merged:
        if ts - last >= US:
            ticks.append(ts)
            last = ts
    return ticks


def expected_alerts(name, inbound, merged, lost_thr, interval_s):
    """Alerts (EXCEEDED, CLEARED) of one tunnel whose inbound SA is
    `inbound`, for a single loss episode.  Times in us."""
    w = interval_s * 15625
    I = interval_s * US
    decl = loss_declarations(inbound)
    recv_ts = [ts for ts, _ in decl]
    loss_ts = [ts for ts, n in decl for _ in range(n)]
    assert len(loss_ts) >= lost_thr
    # EXCEEDED: the packet whose losses make the windowed count reach the threshold
    t_ex = loss_ts[lost_thr - 1]
    k = t_ex // w
    assert loss_ts[0] // w >= k - 63, "episode longer than one interval"
    L = sum(1 for t in loss_ts if t <= t_ex)
    R = sum(1 for t in recv_ts if t <= t_ex and t // w >= k - 63)
    exceeded = {"time": t_ex, "tunnel": name, "event": "exceeded", "lost": L,
                "interval": interval_s, "rate_ppm": L * US // (L + R)}
    # condition false when the bucket taking the count below the threshold leaves
    per_bucket = {}
    for t in loss_ts:
        per_bucket[t // w] = per_bucket.get(t // w, 0) + 1
    remaining = len(loss_ts)
    false_since = None
    for b in sorted(per_bucket):
        remaining -= per_bucket[b]
        if remaining < lost_thr:
            false_since = (b + 64) * w
            break
    assert max(loss_ts) < false_since
    evals = sorted(set(tick_times(merged)) | {ts for ts, n in decl if n})
    due = [t for t in evals if t >= false_since + I]
    assert due, "capture ends before the alert can clear"
    t_cl = due[0]
    kc = t_cl // w
    Lc = sum(1 for t in loss_ts if t // w >= kc - 63)
    # at a tick the ticking packet itself is not accounted yet
    Rc = sum(1 for t in recv_ts if t < t_cl and t // w >= kc - 63)
    cleared = {"time": t_cl, "tunnel": name, "event": "cleared", "lost": Lc,
               "interval": interval_s, "rate_ppm": Lc * US // (Lc + Rc) if Lc + Rc else 0}
    return [exceeded, cleared]


# --------------------------------------------------------------------------
# offline runner

def run_offline(idt_bin, pcap, conf, env=None):
    p = subprocess.run([idt_bin, "interactive", "-r", str(pcap), "--json", "-c", str(conf)],
                       capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert p.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    # exact decimal times: a double cannot hold 1.7e9 s with 1 us resolution reliably
    return json.loads(p.stdout, parse_float=decimal.Decimal)


DETAIL_KEYS = ("received", "criterion", "threshold_lost", "threshold_ppm", "reminder")


def iso_utc(time_us):
    """ISO 8601 UTC with microseconds, by Python's own calendar arithmetic."""
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + \
        datetime.timedelta(microseconds=time_us)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_alerts(rep, details=None):
    """The alerts list with the time converted to integer microseconds,
    without the detail fields (DETAIL_KEYS), which go to `details` (a list)
    if given; time_iso must be the same instant (checked, then dropped).
    Every alert here trips on the lost criterion (alert_ppm is 0) and has
    no reminders; its rate agrees with lost and received."""
    out = []
    for a in rep["alerts"]:
        a = dict(a)
        d = {k: a.pop(k) for k in DETAIL_KEYS}
        assert d["criterion"] == "lost" and d["threshold_ppm"] == 0 and d["reminder"] == 0, a
        total = a["lost"] + d["received"]
        assert a["rate_ppm"] == (a["lost"] * US // total if total else 0), (a, d)
        if details is not None:
            details.append(d)
        assert isinstance(a["time"], decimal.Decimal), a
        assert a["time"].as_tuple().exponent == -6, "time must have 6 decimals: %r" % a
        a["time"] = int(a["time"] * US)
        assert a.pop("time_iso") == iso_utc(a["time"]), a
        out.append(a)
    return out


def fmt(alerts):
    return "\n".join("%d.%06d %s" % (a["time"] // US, a["time"] % US,
                                     {k: v for k, v in a.items() if k != "time"})
                     for a in alerts)


A1, B1 = "198.51.100.1", "203.0.113.7"

SINGLE_CONF = """
loss: { alert_lost = 10; alert_interval = 4; };
tunnels = (
  { name = "hq"; index = 5; local = "%s"; remote = "%s"; }
);
""" % (B1, A1)


def single_scenario(tmp):
    # inbound (A1 -> B1, local is B1): s at s * 10 ms (s = 1..1300), 201..220 lost
    inb = Stream(A1, B1, 0xA1E70001, 1, 1300, drops=burst(201, 20), t0=T0 + 10_000)
    # outbound with a bigger burst: outbound loss never alerts
    out = Stream(B1, A1, 0xA1E70002, 1, 1300, drops=burst(501, 30), t0=T0 + 15_000)
    pcap = tmp / "single.pcap"
    merged = build_pcap(pcap, [inb, out])
    conf = tmp / "single.conf"
    conf.write_text(SINGLE_CONF)
    return pcap, conf, inb, out, merged


def test_offline_single_burst_exact_alerts(idt_bin, workdir, child_env):
    pcap, conf, inb, out, merged = single_scenario(workdir)
    rep = run_offline(idt_bin, pcap, conf, child_env)
    details = []
    got = json_alerts(rep, details)

    # --- hand calculation (interval 4 s: w = 62.5 ms; times relative to T0)
    # Lost numbers 201..210: the 10th (210) leaves the window when 210 + 64 = 274
    # arrives, at 2.740 s.  In the window then: 10 lost, received 1..200 and
    # 221..274 = 254 -> rate floor(10e6 / 264) = 37878.
    # Losses credited at 2.65..2.84 s: buckets 42 (265-268: 4), 43 (269-274: 6),
    # 44 (275-281: 7), 45 (282-284: 3).  The count drops below 10 when bucket 44
    # leaves, at (44 + 64) * 62.5 ms = 6.75 s; CLEARED at the first eval >= 10.75 s.
    # Ticks (all ESP packets, inbound at s*10 ms, outbound at s*10 ms + 5 ms, first
    # packet 0.010 s): 1.010, 2.015 (2.010 is inbound 201: dropped), 3.015, 4.015,
    # 5.020 (outbound 501..530 dropped: 5.015..5.305), 6.020, ... 10.020, 11.020.
    # No loss after 2.84 s, so CLEARED at 11.020 s with nothing lost in the window.
    hand = [
        {"time": T0 + 2_740_000, "tunnel": "hq", "event": "exceeded", "lost": 10,
         "interval": 4, "rate_ppm": 37878},
        {"time": T0 + 11_020_000, "tunnel": "hq", "event": "cleared", "lost": 0,
         "interval": 4, "rate_ppm": 0},
    ]
    # --- the same from the generic arithmetic (guards the hand calculation)
    assert expected_alerts("hq", inb, merged, 10, 4) == hand
    assert got == hand, "alerts differ:\nexpected:\n%s\ngot:\n%s" % (fmt(hand), fmt(got))
    assert details[0] == {"received": 254, "criterion": "lost", "threshold_lost": 10,
                          "threshold_ppm": 0, "reminder": 0}

    # the text report lists the same alerts (the cleared one's received as
    # in the JSON), epoch seconds then ISO 8601 UTC
    # (T0 = 1_700_000_000 s is 2023-11-14T22:13:20Z)
    p = subprocess.run([idt_bin, "interactive", "-r", str(pcap), "-c", str(conf)],
                       capture_output=True, text=True, timeout=TIMEOUT, env=child_env)
    assert p.returncode == 0, p.stderr
    tail = p.stdout[p.stdout.index("\nAlerts (time in Unix seconds, then in UTC)\n"):]
    assert tail.splitlines()[2:4] == [
        "1700000002.740000  2023-11-14T22:13:22.740000Z  exceeded tunnel hq: lost=10 "
        "received=254 interval=4s rate_ppm=37878 criterion=lost threshold_lost=10 "
        "threshold_ppm=0 reminder=0",
        "1700000011.020000  2023-11-14T22:13:31.020000Z  cleared  tunnel hq: lost=0 "
        "received=%d interval=4s rate_ppm=0 criterion=lost threshold_lost=10 "
        "threshold_ppm=0 reminder=0" % details[1]["received"]], tail

    # the totals behind it
    tu = {t["name"]: t for t in rep["tunnels"]}["hq"]
    assert (tu["index"], tu["lost"], tu["received"]) == (5, 20, 1280)
    assert (tu["outbound"]["lost"], tu["outbound"]["received"]) == (30, 1270)


def test_offline_same_file_twice_identical(idt_bin, workdir, child_env):
    pcap, conf, _, _, _ = single_scenario(workdir)
    r1 = run_offline(idt_bin, pcap, conf, child_env)
    r2 = run_offline(idt_bin, pcap, conf, child_env)
    assert len(r1["alerts"]) == 2
    assert r1["alerts"] == r2["alerts"]
    assert r1 == r2


A2, B2 = "198.51.100.2", "203.0.113.8"      # "strict": alert_lost = 3, alert_interval = 2
A3, B3 = "198.51.100.3", "203.0.113.9"      # "silenced": alerts = false
A5, B5 = "198.51.100.5", "203.0.113.11"     # "loud": global thresholds
C4, D4 = "192.0.2.10", "192.0.2.200"        # discovered (local = lower address)

OVERRIDE_CONF = """
loss: { alert_lost = 10; alert_interval = 4; };
tunnels = (
  { name = "silenced"; index = 5; local = "%s"; remote = "%s"; alerts = false; },
  { name = "strict"; index = 6; local = "%s"; remote = "%s"; alert_lost = 3; alert_interval = 2; },
  { name = "loud"; index = 7; local = "%s"; remote = "%s"; }
);
""" % (B3, A3, B2, A2, B5, A5)


def test_offline_overrides_and_silenced(idt_bin, workdir, child_env):
    silenced = Stream(A3, B3, 0x5E000001, 1, 1800, drops=burst(201, 30), t0=T0 + 1_000)
    strict = Stream(A2, B2, 0x5E000002, 1, 1800, drops=burst(301, 5), t0=T0 + 2_000)
    # discovered tunnel 192.0.2.10-192.0.2.200: inbound is towards the lower address
    disc = Stream(D4, C4, 0x5E000003, 1, 1800, drops=burst(401, 5), t0=T0 + 3_000)
    loud = Stream(A5, B5, 0x5E000004, 1, 1800, drops=burst(601, 12), t0=T0 + 4_000)
    pcap = workdir / "over.pcap"
    merged = build_pcap(pcap, [silenced, strict, disc, loud])
    conf = workdir / "over.conf"
    conf.write_text(OVERRIDE_CONF)
    rep = run_offline(idt_bin, pcap, conf, child_env)
    got = json_alerts(rep)

    # hand checks of the exceed points: the k-th lost number of a burst starting
    # at F is declared by the packet carrying F + k - 1 + 64
    ex_strict = strict.t0 + (301 + 3 - 1 + 64 - 1) * 10_000       # 3rd of 301..305
    ex_loud = loud.t0 + (601 + 10 - 1 + 64 - 1) * 10_000          # 10th of 601..612
    exp = (expected_alerts("strict", strict, merged, 3, 2)
           + expected_alerts("loud", loud, merged, 10, 4))
    exp.sort(key=lambda a: a["time"])
    assert [a["time"] for a in exp if a["event"] == "exceeded"] == [ex_strict, ex_loud]
    # strict (w = 31.25 ms, s at 2 ms + (s - 1) * 10 ms): 303 is declared by 367
    # at 3.662 s, bucket 117; the window starts at bucket 54 = 1.6875 s, i.e. at
    # s = 170: received 170..367 minus 301..305 = 193; rate floor(3e6 / 196) = 15306
    assert exp[0] == {"time": ex_strict, "tunnel": "strict", "event": "exceeded",
                      "lost": 3, "interval": 2, "rate_ppm": 15306}
    assert len({a["time"] for a in exp}) == 4, "scenario needs distinct alert times"
    assert got == exp, "alerts differ:\nexpected:\n%s\ngot:\n%s" % (fmt(exp), fmt(got))

    # the silenced and the discovered tunnel did lose packets
    tu = {t["name"]: t for t in rep["tunnels"]}
    assert tu["silenced"]["lost"] == 30 and tu["silenced"]["index"] == 5
    assert tu["strict"]["lost"] == 5
    assert tu["loud"]["lost"] == 12
    assert tu["%s-%s" % (C4, D4)]["lost"] == 5
    assert tu["%s-%s" % (C4, D4)]["origin"] == "discovered"


# --------------------------------------------------------------------------
# live: network namespace + veth + snmpd/snmptrapd + subagent + syslog listener

TRAP_OID = ".1.3.6.1.6.3.1.1.4.1.0"
N_EXCEEDED = ROOT + ".0.1"
N_CLEARED = ROOT + ".0.2"
COL = ROOT + ".1.2.1"
LIVE_INDEX = 5
LIVE_NAME = "hq"
LIVE_SPI = 0x5EC0FFEE
FACILITY = "local3"
FAC_CODE = 19                       # local3
LISTENER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
out = open(sys.argv[1], "ab", buffering=0)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    d, _ = s.recvfrom(65535)
    out.write(d.replace(b"\n", b"\\n") + b"\n")
"""

_ns_counter = [0]


from snmpenv import sh, tool as _tool  # noqa: E402  (shared helpers)


class LiveNet:
    """Namespace with veth vA <-> vB, the syslog listener, the SNMP world."""

    def __init__(self, workdir):
        _ns_counter[0] += 1
        self.ns = "idtal%d-%d" % (os.getpid(), _ns_counter[0])
        self.dir = workdir
        self.created = False
        self.listener = None
        self.env = None
        self.syslog_file = workdir / "syslog.txt"

    def up(self):
        if os.geteuid() != 0:
            pytest.fail("live alert tests need root (network namespaces)", pytrace=False)
        for t in ("ip", "tcpreplay"):
            if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t):
                pytest.fail("live alert tests need %s" % t, pytrace=False)
        sh(_tool("ip"), "netns", "add", self.ns)
        self.created = True
        ipn = [_tool("ip"), "-n", self.ns]
        sh(*ipn, "link", "set", "lo", "up")
        sh(*ipn, "link", "add", "vA", "type", "veth", "peer", "name", "vB")
        for dev in ("vA", "vB"):
            sh(*ipn, "link", "set", dev, "up")
        info = json.loads(sh(*ipn, "-j", "link", "show").stdout)
        macs = {d["ifname"]: bytes.fromhex(d["address"].replace(":", "")) for d in info}
        self.mac_a, self.mac_b = macs["vA"], macs["vB"]
        portfile = self.dir / "syslog.port"
        self.syslog_file.touch()
        self.listener_err = open(self.dir / "listener.err", "wb")
        self.listener = subprocess.Popen(
            [_tool("ip"), "netns", "exec", self.ns, sys.executable, "-c", LISTENER,
             str(self.syslog_file), str(portfile)],
            stdout=subprocess.DEVNULL, stderr=self.listener_err)
        wait_for(lambda: portfile.exists() or self.listener.poll() is not None, 10,
                 what="syslog listener")
        assert self.listener.poll() is None, (self.dir / "listener.err").read_text()
        self.syslog_port = int(portfile.read_text())

    def start_snmp(self, idt_bin, config_text):
        self.env = SnmpEnv(self.dir / "snmp", idt_bin, config_text, netns=self.ns)
        self.env.__enter__()
        return self.env

    def down(self):
        if self.env is not None:
            self.env.close()
        if self.listener is not None and self.listener.poll() is None:
            self.listener.kill()
            self.listener.wait()
        if self.listener is not None:
            self.listener_err.close()
        if self.created:
            subprocess.run([_tool("ip"), "netns", "del", self.ns], capture_output=True)
            self.created = False

    # -- traffic
    def replay(self, streams, name):
        pcap = self.dir / ("%s.pcap" % name)
        merged = build_pcap(pcap, streams, dst_mac=self.mac_b, src_mac=self.mac_a)
        span = (merged[-1][0] - merged[0][0]) / US
        r = sh(_tool("ip"), "netns", "exec", self.ns, "tcpreplay", "-q", "-i", "vA", str(pcap),
               timeout=span + 30)
        return merged, r

    def syslog(self):
        return [l for l in self.syslog_file.read_text(errors="replace").splitlines() if l]


@pytest.fixture
def live(workdir):
    net = LiveNet(workdir)
    try:
        net.up()
        yield net
    finally:
        net.down()


def live_config(port, traps=True):
    return """
agentx: { ping_interval = 1; };
capture: { interface = "vB"; };
loss: { alert_lost = 10; alert_interval = 4; };
syslog: { facility = "%s"; server = "127.0.0.1:%d"; };
traps: { enabled = %s; };
tunnels = (
  { name = "%s"; index = %d; local = "%s"; remote = "%s"; }
);
""" % (FACILITY, port, "true" if traps else "false", LIVE_NAME, LIVE_INDEX, B1, A1)


def warm_up(net, env):
    """Make sure the capture is open before the measured traffic: packets of
    an unrelated (discovered) tunnel until ipsecDiagEspPkts counts them."""
    def seen():
        net.replay([Stream(C4, D4, 0x3A000001, 1, 5, gap=1_000)], "warmup")
        v = env.get_raw(ROOT + ".1.1.2.0")
        return v is not None and num(v) >= 5
    wait_for(seen, 20, step=0.5, what="the capture to see packets on vB")


# Inbound stream of tunnel hq: 100 pps; numbers first..first+99, then 20 lost,
# then 120 more.  The 10th lost number (first+109) is declared by first+173,
# 1.73 s after the first packet: all received numbers of the stream are then
# within the 4 s window (>= 3.9375 s back): 10 lost, 154 received,
# rate floor(10e6 / 164) = 60975.
LIVE_RATE = 10 * US // (10 + 154)


def live_stream(first):
    return Stream(A1, B1, LIVE_SPI, first, first + 239, drops=burst(first + 100, 20),
                  t0=T0, gap=10_000)


SYSLOG_RE = re.compile(r"^<(\d+)>1 (\S+) (\S+) ipsecdiagtool (\d+) LOSS - (.*)$")


STATE_RE = re.compile(r"^<(\d+)>1 (\S+) (\S+) ipsecdiagtool (\d+) STATE - (.*)$")


def state_msgs(net):
    """The tunnel state lines (idle/active) of the remote syslog."""
    return [m.group(5) for m in map(STATE_RE.match, net.syslog()) if m]


def syslog_msgs(net):
    """The LOSS lines; every other line must be a STATE line."""
    out = []
    for line in net.syslog():
        if STATE_RE.match(line):
            continue
        m = SYSLOG_RE.match(line)
        assert m, "not an RFC 5424 LOSS message: %r" % line
        out.append({"pri": int(m.group(1)), "ts": m.group(2), "host": m.group(3),
                    "pid": int(m.group(4)), "text": m.group(5)})
    return out


def expected_text(event, lost, rate, received):
    what = "packet loss cleared on tunnel" if event == "cleared" else "packet loss on tunnel"
    return ("%s %s: lost=%d received=%d interval=4s rate_ppm=%d criterion=lost threshold=10 "
            "threshold_ppm=0 reminder=0 lost_while_dropping=0 local=%s remote=%s spis=0x%08x"
            % (what, LIVE_NAME, lost, received, rate, B1, A1, LIVE_SPI))


def check_syslog(msg, env, event, lost, rate):
    sev = 5 if event == "cleared" else 4
    assert msg["pri"] == FAC_CODE * 8 + sev, msg
    # received in the interval: 154 at the exceeded (see LIVE_RATE); none
    # at the cleared (the stream ended more than an interval before)
    received = 0 if event == "cleared" else 154
    assert msg["text"] == expected_text(event, lost, rate, received), msg
    assert msg["pid"] == env.agent.pid, msg
    assert msg["host"] == socket.gethostname(), msg
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", msg["ts"]), msg


def loss_traps(env):
    return [t for t in env.traps() if t.get(TRAP_OID, "").endswith((N_EXCEEDED, N_CLEARED))]


def num(v):
    """First integer of a value as printed by the net-snmp tools, e.g.
    "Counter64: 20", "20 packets", "Gauge32: 60975"."""
    return int(re.search(r"(\d+)", v.split(":", 1)[-1]).group(1))


def check_trap(trap, event, total_lost, interval_lost, rate):
    i = LIVE_INDEX
    assert trap[TRAP_OID] == "OID: " + (N_EXCEEDED if event == "exceeded" else N_CLEARED), trap
    name = trap["%s.2.%d" % (COL, i)]
    assert re.sub(r"^STRING:\s*", "", name).strip('"') == LIVE_NAME, trap
    assert num(trap["%s.10.%d" % (COL, i)]) == total_lost, trap
    assert num(trap["%s.22.%d" % (COL, i)]) == interval_lost, trap
    assert num(trap["%s.14.%d" % (COL, i)]) == rate, trap
    # the additional varbinds: criterion lostPkts(2), thresholds 10 and 0,
    # interval 4, received in the interval, remote ipv4(1) A1, lost while
    # dropping 0, reminders 0
    assert num(trap["%s.69.%d" % (COL, i)]) == 2, trap
    assert num(trap["%s.64.%d" % (COL, i)]) == 10, trap
    assert num(trap["%s.65.%d" % (COL, i)]) == 0, trap
    assert num(trap["%s.66.%d" % (COL, i)]) == 4, trap
    assert num(trap["%s.70.%d" % (COL, i)]) == (0 if event == "cleared" else 154), trap
    assert num(trap["%s.6.%d" % (COL, i)]) == 1, trap
    assert hex_bytes(trap["%s.7.%d" % (COL, i)]) == bytes(map(int, A1.split("."))), trap
    assert num(trap["%s.23.%d" % (COL, i)]) == 0, trap
    assert num(trap["%s.71.%d" % (COL, i)]) == 0, trap
    # nothing else than snmpTrapOID, sysUpTime and these objects
    extra = set(trap) - {TRAP_OID, ".1.3.6.1.2.1.1.3.0"} - {
        "%s.%d.%d" % (COL, c, i) for c in (2, 10, 22, 14, 69, 64, 65, 66, 70, 6, 7, 23, 71)}
    assert not extra, trap


def hex_bytes(v):
    """The octets of an OCTET STRING as snmptrapd prints it."""
    if v.startswith("Hex-STRING:"):
        return bytes.fromhex(v.split(":", 1)[1].strip())
    return v.split(":", 1)[1].strip().strip('"').encode("latin-1")


def test_live_notifications_and_syslog(idt_bin, live):
    net = live
    env = net.start_snmp(idt_bin, live_config(net.syslog_port))
    warm_up(net, env)
    assert loss_traps(env) == [] and net.syslog() == []

    # ---- burst 1: one EXCEEDED (10 lost so far), one CLEARED (20 lost in all)
    t_start = time.monotonic()
    net.replay([live_stream(1)], "burst1")
    wait_for(lambda: len(loss_traps(env)) >= 2 and len(syslog_msgs(net)) >= 2, 30, step=0.2,
             what="exceeded + cleared notifications and syslog messages")
    cleared_after = time.monotonic() - t_start
    traps = loss_traps(env)
    assert len(traps) == 2, traps
    check_trap(traps[0], "exceeded", 10, 10, LIVE_RATE)
    check_trap(traps[1], "cleared", 20, 0, 0)
    msgs = syslog_msgs(net)
    assert len(msgs) == 2, msgs
    check_syslog(msgs[0], env, "exceeded", 10, LIVE_RATE)
    check_syslog(msgs[1], env, "cleared", 0, 0)
    # the quiet interval is respected: loss declared ~1.8 s after the start,
    # condition false ~4 s later, cleared one interval after that
    assert cleared_after >= 1.7 + 4 + 4 - 0.5, cleared_after
    # SNMP shows the totals and no alarm
    assert num(env.get_raw("%s.10.%d" % (COL, LIVE_INDEX))) == 20

    # ---- snmpd dies; the next alert still reaches syslog, the agent survives
    env.stop_snmpd(signal.SIGKILL)
    net.replay([live_stream(241)], "burst2")
    wait_for(lambda: len(syslog_msgs(net)) >= 3, 20, step=0.2, what="syslog exceeded after snmpd died")
    msgs = syslog_msgs(net)
    check_syslog(msgs[2], env, "exceeded", 10, LIVE_RATE)
    assert env.agent.poll() is None, "subagent died:\n" + env.agent_text()
    # the alert was handled when the message went out: no new notification
    time.sleep(1.0)
    assert len(loss_traps(env)) == 2, env.traps()
    assert env.agent.poll() is None, "subagent died:\n" + env.agent_text()
    assert len(syslog_msgs(net)) == 3


def test_live_traps_disabled_syslog_only(idt_bin, live):
    net = live
    env = net.start_snmp(idt_bin, live_config(net.syslog_port, traps=False))
    warm_up(net, env)
    net.replay([live_stream(1)], "burst1")
    wait_for(lambda: len(syslog_msgs(net)) >= 2, 30, step=0.2,
             what="exceeded + cleared syslog messages")
    msgs = syslog_msgs(net)
    assert len(msgs) == 2, msgs
    check_syslog(msgs[0], env, "exceeded", 10, LIVE_RATE)
    check_syslog(msgs[1], env, "cleared", 0, 0)
    # snmpd is up and its trap sink works (its own coldStart arrived), yet no
    # IPSECDIAG-MIB notification came (the cleared message went out seconds
    # after the exceeded one)
    traps = env.traps()
    assert [t for t in traps if t.get(TRAP_OID) == "OID: .1.3.6.1.6.3.1.1.5.1"], traps
    assert [t for t in traps if ROOT in t.get(TRAP_OID, "")] == [], traps
    assert env.agent.poll() is None
