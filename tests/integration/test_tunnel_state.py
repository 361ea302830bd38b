"""Tunnel state and both directions, live: a network namespace with a veth
pair, a private snmpd/snmptrapd with the subagent capturing on one end,
tcpreplay sending generated ESP into the other, a UDP syslog listener
(the LiveNet helper of test_alerts.py).

  * idle -> exactly one ipsecDiagTunnelIdle and one syslog line; traffic
    again -> exactly one ipsecDiagTunnelActive;
  * 200 tunnels going idle together -> the announcements stay within the
    documented bound (engine.h: 20 at once, then 2 a second) while
    ipsecDiagTunnelState shows all 200 idle at once;
  * a tap (the capturing host is neither end): Out counters and octets of
    a configured tunnel, exact.

Expected numbers come from the streams built here (packets sent, numbers
dropped, the IP length in each generated header).
"""
import re
import time

import espgen
from espgen import IPPROTO_ESP, esp, ipv4
from snmpenv import ROOT, wait_for
from test_alerts import (A1, B1, C4, D4, COL, FACILITY, T0, TRAP_OID, LiveNet, Stream,  # noqa: F401
                         burst, hex_bytes, live, num, state_msgs, warm_up)

N_IDLE = ROOT + ".0.10"
N_ACTIVE = ROOT + ".0.11"
SPI_IN, SPI_OUT = 0x51A70001, 0x51A70002
PAYLOAD = 32                            # esp_ipv4_frame's payload


def ip_len():
    """Outer IP length of every generated packet, from its own header."""
    return espgen.ip_header_length(ipv4(A1, B1, IPPROTO_ESP, esp(1, 1, bytes(PAYLOAD)), df=True))


def config(port, tunnels, idle_timeout):
    rows = ",\n".join('  { name = "%s"; index = %d; local = "%s"; remote = "%s"; }' % t
                      for t in tunnels)
    return """
agentx: { ping_interval = 1; };
capture: { interface = "vB"; };
loss: { idle_timeout = %d; };
syslog: { facility = "%s"; server = "127.0.0.1:%d"; };
tunnels = (
%s
);
""" % (idle_timeout, FACILITY, port, rows)


STATES = {"neverSeen": 1, "active": 2, "idle": 3, "lostPkts": 2, "true": 1, "false": 2,
          "ipv4": 1}


def enum(v):
    """An enumerated value as the net-snmp tools print it: "idle",
    "idle(3)", "INTEGER: 3"."""
    label = v.split(":", 1)[-1].strip()
    return num(v) if re.search(r"\d", label) else STATES[label]


def ticks(v):
    """TimeTicks printed as d:h:mm:ss.cc (or a plain number) -> centiseconds."""
    m = re.match(r"^(\d+):(\d+):(\d+):(\d+)\.(\d+)$", v.strip())
    if not m:
        return num(v)
    d, h, mi, sec, cs = map(int, m.groups())
    return (((d * 24 + h) * 60 + mi) * 60 + sec) * 100 + cs


def state_traps(env):
    return [t for t in env.traps() if t.get(TRAP_OID) in ("OID: " + N_IDLE, "OID: " + N_ACTIVE)]


def check_state_trap(trap, idle, index, name, remote):
    assert trap[TRAP_OID] == "OID: " + (N_IDLE if idle else N_ACTIVE), trap
    assert re.sub(r"^STRING:\s*", "", trap["%s.2.%d" % (COL, index)]).strip('"') == name, trap
    assert enum(trap["%s.58.%d" % (COL, index)]) == (3 if idle else 2), trap
    assert num(trap["%s.59.%d" % (COL, index)]) > 0, trap          # LastSeen
    assert enum(trap["%s.6.%d" % (COL, index)]) == 1, trap
    assert hex_bytes(trap["%s.7.%d" % (COL, index)]) == bytes(map(int, remote.split("."))), trap


def test_live_idle_then_active_once(idt_bin, live):
    net = live
    env = net.start_snmp(idt_bin, config(net.syslog_port, [("hq", 5, B1, A1)], 3))
    warm_up(net, env)                   # a discovered tunnel: never announced
    assert enum(env.get_raw("%s.58.5" % COL)) == 1                   # neverSeen
    net.replay([Stream(A1, B1, SPI_IN, 1, 50, gap=10_000)], "first")
    wait_for(lambda: len(state_traps(env)) >= 1, 20, step=0.2, what="ipsecDiagTunnelActive")
    wait_for(lambda: len(state_traps(env)) >= 2, 20, step=0.2, what="ipsecDiagTunnelIdle")
    t_idle = time.monotonic()
    traps = state_traps(env)
    check_state_trap(traps[0], False, 5, "hq", A1)
    check_state_trap(traps[1], True, 5, "hq", A1)
    assert enum(env.get_raw("%s.58.5" % COL)) == 3                   # idle
    # nothing more while it stays idle
    time.sleep(max(0.0, t_idle + 5 - time.monotonic()))
    assert len(state_traps(env)) == 2, state_traps(env)
    lines = state_msgs(net)
    assert len(lines) == 2, lines
    assert lines[0] == "tunnel hq active: ESP seen for the first time local=%s remote=%s" % (B1, A1)
    m = re.match(r"^tunnel hq idle: no ESP for (\d+) s \(idle_timeout=3s\) local=(\S+) remote=(\S+)$",
                 lines[1])
    assert m and int(m.group(1)) in (3, 4) and m.groups()[1:] == (B1, A1), lines[1]
    # traffic again: exactly one active
    net.replay([Stream(A1, B1, SPI_IN, 51, 60, gap=10_000)], "again")
    wait_for(lambda: len(state_traps(env)) >= 3, 20, step=0.2, what="ipsecDiagTunnelActive again")
    check_state_trap(state_traps(env)[2], False, 5, "hq", A1)
    assert state_msgs(net)[2] == "tunnel hq active: ESP seen again after idle local=%s remote=%s" % (B1, A1)
    assert enum(env.get_raw("%s.58.5" % COL)) == 2
    assert env.agent.poll() is None, env.agent_text()


def test_live_200_tunnels_idle_bounded(idt_bin, live):
    net = live
    remotes = ["10.77.%d.%d" % (k // 100, k % 100 + 1) for k in range(200)]
    tunnels = [("t%d" % k, 1000 + k, B1, r) for k, r in enumerate(remotes)]
    env = net.start_snmp(idt_bin, config(net.syslog_port, tunnels, 2))
    warm_up(net, env)
    t0 = time.monotonic()
    net.replay([Stream(r, B1, 0x7000 + k, 1, 1, t0=T0 + k * 1000) for k, r in enumerate(remotes)],
               "all200")

    def states():                       # of the 200 (not the warm-up tunnel)
        w = env.walk(ROOT + ".1.2.1.58")
        return [enum(v) for k, v in w.items() if 1000 <= int(k.rsplit(".", 1)[1]) < 1200]
    wait_for(lambda: states().count(3) == 200, 30, step=0.5, what="all 200 tunnels idle")
    for _ in range(8):                  # observe the pacing for about 8 s
        time.sleep(1)
        traps = state_traps(env)
        elapsed = time.monotonic() - t0
        # engine.h: at most 20 at once, then 2 per second (+2 s of slack)
        assert len(traps) <= 20 + 2 * (elapsed + 2), (len(traps), elapsed)
    traps = state_traps(env)
    assert len(traps) >= 20, len(traps)
    # never two announcements of the same state for one tunnel
    seen = {}
    for t in traps:
        key = (t[TRAP_OID], [k for k in t if k.startswith(COL + ".2.")][0])
        assert key not in seen, t
        seen[key] = 1
    # one syslog line per notification (give the last ones a moment)
    wait_for(lambda: abs(len(state_msgs(net)) - len(state_traps(env))) <= 2, 5, step=0.2,
             what="syslog lines matching the notifications")
    assert env.agent.poll() is None, env.agent_text()


def test_live_tap_both_directions(idt_bin, live):
    """The capturing host owns neither address (a tap or mirror port): the
    configured order says which direction is in and which is out."""
    net = live
    env = net.start_snmp(idt_bin, config(net.syslog_port, [("hq", 5, B1, A1)], 300))
    warm_up(net, env)
    inbound = Stream(A1, B1, SPI_IN, 1, 240, drops=burst(101, 20), gap=10_000)
    outbound = Stream(B1, A1, SPI_OUT, 1, 240, drops=burst(51, 7), t0=T0 + 5_000, gap=10_000)
    net.replay([inbound, outbound], "tap")
    L = ip_len()
    want = {9: 220, 10: 20, 50: 233, 51: 7, 52: 0, 53: 0, 54: 0, 56: 220 * L, 57: 233 * L,
            62: 2, 58: 2}

    def got():
        vals = {c: env.get_raw("%s.%d.5" % (COL, c)) for c in want}
        return {c: enum(v) if v is not None else None for c, v in vals.items()}
    wait_for(lambda: got() == want, 20, step=0.5, what="tunnel counters %s" % want)
    # TimeStamps: the newest SA came first, at or before the last packet
    newest, last = ticks(env.get_raw("%s.63.5" % COL)), ticks(env.get_raw("%s.59.5" % COL))
    assert 0 < newest <= last, (newest, last)
    sa = ROOT + ".1.3.1.20.5"
    assert num(env.get_raw("%s.1.%d" % (sa, SPI_IN))) == 220 * L
    assert num(env.get_raw("%s.2.%d" % (sa, SPI_OUT))) == 233 * L
