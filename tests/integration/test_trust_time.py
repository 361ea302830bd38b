"""Numbers an NMS can trust over time: one clock, exact drop totals.

Every test runs in its own network namespace with a veth pair vA <-> vB
(test_bounds.Net); a private snmpd + our subagent capture on vB; tcpreplay
sends hand-built ESP on vA.

  * TimeStamps are the master agent's sysUpTime: a subagent started 6 s
    after snmpd has its discontinuity times near 6 s, not 0;
  * restarting only the subagent moves every discontinuity time to at
    least the sysUpTime read before the restart (an NMS sees a
    discontinuity, not a counter wrap);
  * a notification's sysUpTime.0 and the table's TimeStamps agree;
  * wall-clock steps of +-1 h (libfaketime, monotonic clock untouched)
    under load: no stall, no SA expiry, no loss counted;
  * capture drops across a reopen of the interface: captured + dropped
    equals what was sent, exactly.

Expected values come from the packets sent (hand-built sequence numbers)
and from snmpd's own sysUpTime.0, never from the subagent's figures.
"""
import os
import signal
import subprocess
import time

import pytest

from snmpenv import ROOT, wait_for
import live_helpers as H
from test_bounds import Net, warm_up, net_fixture

SYSUPTIME = ".1.3.6.1.2.1.1.3.0"
COUNTER_DISC = ROOT + ".1.1.12.0"        # ipsecDiagCounterDiscontinuityTime
ESP_PKTS = ROOT + ".1.1.2.0"
CAPTURE_DROPS = ROOT + ".1.1.4.0"
TUN_DISC = 16                            # ipsecDiagTunnelDiscontinuityTime column
CONF_IDX = 1
CONF_L, CONF_R = "192.0.2.1", "192.0.2.2"
SPI_IN = 0x0FA17001
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def config(extra="", ping=2, capture=""):
    return ('agentx: { ping_interval = %d; };\ncapture: { interface = "vB"; %s};\n%s'
            'tunnels = (\n  { name = "conf1"; index = %d; local = "%s"; remote = "%s"; }\n);\n'
            % (ping, capture, extra, CONF_IDX, CONF_L, CONF_R))


net = net_fixture("idtt")


def uptime(env):
    return H.get_numeric(env, SYSUPTIME)


def tun_disc(env, index=CONF_IDX):
    return H.get_numeric(env, "%s.%d.%d" % (H.TUNNEL_ENTRY, TUN_DISC, index))


def replay(net, name, seqs, spi=SPI_IN, src=CONF_R, dst=CONF_L, gap_us=100, *extra):
    p = net.dir / ("%s.pcap" % name)
    net.sa_pcap(p, seqs, spi, src, dst, gap_us=gap_us)
    return net.replay(p, *extra)


def in_pkts(env, index=CONF_IDX):
    return H.tunnel_col(env, "InPkts", index)


def start_late(net, idt_bin, delay, extra=""):
    """snmpd (and snmptrapd) first, the subagent `delay` seconds later."""
    from snmpenv import SnmpEnv
    env = SnmpEnv(net.dir / "snmp", idt_bin, config(extra), netns=net.ns, traps=True,
                  start_agent=False)
    net.env = env
    env.__enter__()
    time.sleep(delay)
    return env


# --------------------------------------------------------------------------
# 1. TimeStamps are the master's sysUpTime

def test_timestamps_are_master_uptime(net, idt_bin):
    env = start_late(net, idt_bin, 6)
    u_before = uptime(env)
    assert u_before >= 550, u_before       # snmpd has been up about 6 s
    env.start_agent()
    u_after = uptime(env)
    for what, v in (("CounterDiscontinuityTime", H.get_numeric(env, COUNTER_DISC)),
                    ("TunnelDiscontinuityTime.1", tun_disc(env))):
        # the subagent started between the two reads of snmpd's own uptime
        assert u_before - 100 <= v <= u_after, (what, u_before, v, u_after)


def test_subagent_restart_is_a_discontinuity(net, idt_bin):
    env = net.start_snmp(idt_bin, config())
    warm_up(net, env)
    assert replay(net, "a", list(range(1, 101))) == 100
    wait_for(lambda: in_pkts(env) == 100, 10, what="InPkts.1 == 100")
    time.sleep(1.5)
    u0 = uptime(env)
    env.stop_agent()
    env.start_agent()
    assert in_pkts(env) == 0               # counters restarted ...
    c = H.get_numeric(env, COUNTER_DISC)
    t = tun_disc(env)
    u1 = uptime(env)
    assert u0 <= c <= u1, (u0, c, u1)      # ... and say so
    assert u0 <= t <= u1, (u0, t, u1)


def test_trap_uptime_matches_table_timestamps(net, idt_bin):
    # the subagent starts 4 s after snmpd: a clock of its own would be 4 s off
    env = start_late(net, idt_bin, 4, extra="loss: { alert_lost = 5; alert_interval = 10; };\n")
    env.start_agent()
    warm_up(net, env)
    # a new discovered pair: its row is created by the first packet, and the
    # 5 holes raise the alert within the same 30 ms burst
    src, dst = "198.18.7.2", "198.18.7.1"
    seqs = [s for s in range(1, 301) if not 41 <= s <= 45]
    assert replay(net, "burst", seqs, 0x0DD50001, src, dst) == len(seqs)
    def exceeded():
        return [t for t in env.traps() if t.get(H.SNMP_TRAP_OID) == "OID: " + H.TRAP_LOSS_EXCEEDED]
    trap = wait_for(exceeded, 15, what="the LossThresholdExceeded notification")[0]
    trap_up = int(trap[SYSUPTIME].split("(")[1].split(")")[0])   # "Timeticks: (1234) 0:00:12.34"
    def row_index():
        rows = H.walk_numeric(env, "%s.%d" % (H.TUNNEL_ENTRY, 2))
        return [int(k.rsplit(".", 1)[1]) for k, v in rows.items() if v == "%s-%s" % (dst, src)]
    idx = wait_for(row_index, 5, what="the discovered tunnel's row")
    assert len(idx) == 1, idx
    disc = tun_disc(env, idx[0])
    print("trap sysUpTime %d, tunnel DiscontinuityTime %d" % (trap_up, disc))
    assert abs(trap_up - disc) <= 100, (trap_up, disc)
    sa = H.sa_table(env)[(idx[0], H.INBOUND, 0x0DD50001)]
    # SA first/last seen are kept in whole seconds: up to 1 s before the event
    for col in ("FirstSeen", "LastSeen"):
        assert trap_up - 200 <= sa[col] <= trap_up + 100, (col, sa, trap_up)


# --------------------------------------------------------------------------
# 2. wall-clock steps change nothing

def test_wall_clock_steps_under_load(net, idt_bin):
    if not os.path.exists(FAKETIME_LIB):
        pytest.fail("libfaketime not found: apt-get install faketime", pytrace=False)
    env = net.start_snmp(idt_bin, config())
    env.stop_agent()
    stamp = net.dir / "faketime"
    stamp.write_text("+0\n")
    env.env = dict(env.env, LD_PRELOAD=FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE=str(stamp),
                   FAKETIME_NO_CACHE="1", FAKETIME_DONT_FAKE_MONOTONIC="1",
                   FAKETIME_DONT_RESET="1")
    env.start_agent()
    warm_up(net, env)
    # 12,000 packets over 12 s (1 ms apart) with 3 holes of 4: 12 lost
    holes = {1000, 1001, 1002, 1003, 5000, 5001, 5002, 5003, 9000, 9001, 9002, 9003}
    seqs = [s for s in range(1, 12001 + len(holes)) if s not in holes]
    p = net.dir / "load.pcap"
    net.sa_pcap(p, seqs, SPI_IN, CONF_R, CONF_L, gap_us=1000)
    rep = subprocess.Popen(net.exec_cmd("tcpreplay", "-q", "-i", "vA", p),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        samples = []
        for step in ("+1h", "-1h", "+0"):
            time.sleep(3)
            stamp.write_text(step + "\n")
            t0 = time.monotonic()
            v0 = in_pkts(env)
            # no stall: the figures keep moving within two publications
            wait_for(lambda: in_pkts(env) > v0 + 200, 4, step=0.2,
                     what="InPkts moving after a %s wall-clock step" % step)
            samples.append((step, time.monotonic() - t0))
    finally:
        out, _ = rep.communicate(timeout=60)
    assert "Actual: %d packets" % len(seqs) in out, out
    wait_for(lambda: in_pkts(env) == len(seqs), 10, what="InPkts.1 == %d" % len(seqs))
    time.sleep(1.5)
    print("steps:", samples)
    row = H.tunnel_row(env, CONF_IDX)
    assert row["InPkts"] == len(seqs)
    assert row["LostPkts"] == len(holes), row          # nothing expired, nothing extra
    assert row["LatePkts"] == 0 and row["ActiveSAs"] == 1, row
    assert "aged out" not in env.agent_text()


# --------------------------------------------------------------------------
# 3. capture drops are counted once across a reopen

def frozen_burst(net, env, name, n, first):
    """SIGSTOP the subagent, send n ESP packets at top speed into a 256 KiB
    ring, SIGCONT: the kernel must drop part of them."""
    env.agent.send_signal(signal.SIGSTOP)
    try:
        sent = replay(net, name, list(range(first, first + n)), SPI_IN, CONF_R, CONF_L, 10,
                      "--topspeed")
    finally:
        env.agent.send_signal(signal.SIGCONT)
    assert sent == n
    return sent


def settled(env, total):
    last = []

    def ok():
        esp, drops = H.get_numeric(env, ESP_PKTS), H.get_numeric(env, CAPTURE_DROPS)
        last[:] = [esp, drops]
        return esp + drops == total and (esp, drops)
    try:
        return wait_for(ok, 15, step=0.5, what="EspPkts + CaptureDrops == %d sent" % total)
    except AssertionError:
        raise AssertionError("EspPkts %d + CaptureDrops %d != %d sent" % (last[0], last[1], total))


def test_capture_drops_exact_across_reopen(net, idt_bin):
    env = net.start_snmp(idt_bin, config(capture="buffer_kb = 256; "))
    warm_up(net, env)
    time.sleep(2.5)                       # warm_up may have replayed twice: let it settle
    total = H.get_numeric(env, ESP_PKTS)
    assert H.get_numeric(env, CAPTURE_DROPS) == 0
    total += frozen_burst(net, env, "b1", 20000, 1)
    esp1, drops1 = settled(env, total)
    assert drops1 > 0, "the burst should overflow a 256 KiB ring"
    net.del_veth()
    wait_for(lambda: "capture on vB failed" in env.agent_text(), 10, step=0.2)
    net.make_veth()
    wait_for(lambda: "capture on vB resumed" in env.agent_text(), 15, step=0.2)
    total += frozen_burst(net, env, "b2", 20000, 30001)
    esp2, drops2 = settled(env, total)
    print("drops %d then %d, captured %d then %d" % (drops1, drops2, esp1, esp2))
    assert drops2 > drops1
    time.sleep(2.5)                       # several more stats reads: still exact
    assert H.get_numeric(env, ESP_PKTS) + H.get_numeric(env, CAPTURE_DROPS) == total


# --------------------------------------------------------------------------
# 4. a thousand reloads leave memory and tick cost flat

def mem_kb(pid, what):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(what + ":"):
            return int(line.split()[1])
    raise AssertionError("no %s for %d" % (what, pid))


def cpu_ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])          # utime + stime (clock ticks)


def many_tunnels(n, variant):
    rows = ['{ name = "t%d"; index = %d; local = "10.%d.%d.1"; remote = "10.%d.%d.2"; alert_lost = %d; }'
            % (i, i, 100 + i // 250, i % 250, 100 + i // 250, i % 250, 5 + variant)
            for i in range(2, n + 1)]
    rows.insert(0, '{ name = "conf1"; index = %d; local = "%s"; remote = "%s"; }'
                % (CONF_IDX, CONF_L, CONF_R))
    return ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            'tunnels = (\n  %s\n);\n' % ",\n  ".join(rows))


def test_thousand_reloads_flat(net, idt_bin):
    n = 100
    env = net.start_snmp(idt_bin, many_tunnels(n, 0))
    warm_up(net, env)
    assert replay(net, "a", list(range(1, 51))) == 50
    wait_for(lambda: in_pkts(env) == 50, 10, what="InPkts.1 == 50")
    disc = tun_disc(env)
    pid = env.agent.pid

    def reloads(k0, k1):
        for k in range(k0, k1):
            env.conf.write_text(many_tunnels(n, k % 2))
            env.agent.send_signal(signal.SIGHUP)
            wait_for(lambda: env.agent_text().count("configuration reloaded") >= k + 1, 5,
                     step=0.002, what="reload %d applied" % (k + 1))

    def idle_cpu(seconds=5):
        c0 = cpu_ticks(pid)
        time.sleep(seconds)
        return cpu_ticks(pid) - c0

    reloads(0, 50)
    time.sleep(1)
    rss0, data0, cpu0 = mem_kb(pid, "VmRSS"), mem_kb(pid, "VmData"), idle_cpu()
    reloads(50, 1000)
    time.sleep(1)
    rss1, data1, cpu1 = mem_kb(pid, "VmRSS"), mem_kb(pid, "VmData"), idle_cpu()
    print("after 50 reloads: RSS %d KiB, data %d KiB, idle CPU %d ticks/5 s; "
          "after 1000: %d KiB, %d KiB, %d ticks" % (rss0, data0, cpu0, rss1, data1, cpu1))
    assert env.agent.poll() is None
    # no per-reload growth, resident or not (calloc'ed pages never written
    # are not resident, so the heap's size is checked too)
    assert rss1 - rss0 <= 2048 and data1 - data0 <= 4096, (rss0, rss1, data0, data1)
    assert cpu1 <= 2 * cpu0 + 5, (cpu0, cpu1)     # ticks cost what they did
    # the same tunnel, the same counters, no discontinuity
    assert in_pkts(env) == 50 and tun_disc(env) == disc
    assert len(H.walk_numeric(env, H.TUNNEL_ENTRY + ".2")) == n + 1   # + the warm-up pair
