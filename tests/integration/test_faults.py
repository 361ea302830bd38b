"""Faults: the subagent keeps counting and serving through them.

Every test runs in its own network namespace with a veth pair vA <-> vB
(tests/integration/test_bounds.py: Net); a private snmpd + our subagent run
inside it and capture on vB; tcpreplay sends hand-built ESP on vA.

  * snmpd killed (SIGKILL) during a walk and restarted: the subagent
    re-registers within the AgentX ping interval, counters continue;
  * the capture interface deleted and recreated: one "failed" and one
    "resumed" log line, and capture resumes with exact counts;
  * the event log on a full disk (/dev/full) or in a missing directory:
    exactly one clear error line, capture and SNMP go on;
  * a storm of 1000 SETs with every kind of error: the exact error status
    for each, one MTU job only (no probe storm), the subagent stays up;
  * a reload (SIGHUP) with a broken file is refused and the old
    configuration keeps running; the fixed file is applied.

Expected values are derived by hand from the code paths named in each
test (src/capture.c, src/event_log.c, src/daemon.c, src/prober.c,
src/mib.c, src/mib_table.c), never read back from the program.
"""
import json
import re
import signal
import subprocess
import sys
import time

import pytest

from snmpenv import ROOT, wait_for
import live_helpers as H
from test_bounds import Net, warm_up, net_fixture

CONF_IDX = 1
CONF_L, CONF_R = "192.0.2.1", "192.0.2.2"
SPI_IN = 0x0FA17001
W = 64


def base_config(extra="", tunnels=None, ping=2):
    tunnels = tunnels or ['{ name = "conf1"; index = %d; local = "%s"; remote = "%s"; }'
                          % (CONF_IDX, CONF_L, CONF_R)]
    return ('agentx: { ping_interval = %d; };\ncapture: { interface = "vB"; };\n%s'
            "tunnels = (\n  %s\n);\n" % (ping, extra, ",\n  ".join(tunnels)))


net = net_fixture("idtf")


def replay_seqs(net, name, seqs, spi=SPI_IN, src=CONF_R, dst=CONF_L):
    p = net.dir / ("%s.pcap" % name)
    net.sa_pcap(p, seqs, spi, src, dst)
    sent = net.replay(p)
    assert sent == len(seqs), (sent, len(seqs))
    return sent


def in_pkts(env, index=CONF_IDX):
    return H.tunnel_col(env, "InPkts", index)


def wait_in_pkts(env, value, timeout=8, index=CONF_IDX):
    wait_for(lambda: in_pkts(env, index) == value, timeout, step=0.25,
             what="InPkts.%d == %d (now %r)" % (index, value, in_pkts(env, index)))


def count_lines(text, pattern):
    return len([l for l in text.splitlines() if re.search(pattern, l)])


# --------------------------------------------------------------------------
# 1. snmpd SIGKILLed during a walk

PING = 2


def test_snmpd_kill9_during_walk(net, idt_bin):
    env = net.start_snmp(idt_bin, base_config(ping=PING))
    warm_up(net, env)                   # a discovered pair, not conf1
    replay_seqs(net, "a", list(range(1, 51)))
    wait_in_pkts(env, 50)
    # a long GETNEXT walk of everything snmpd has, killed under its feet
    walk = subprocess.Popen(env._prefix() + ["snmpwalk", "-v2c", "-c", "public", "-m", "", "-On",
                                             "-t", "1", "-r", "0", "127.0.0.1:%d" % env.port, ".1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    assert walk.poll() is None, "the walk ended before snmpd was killed"
    env.stop_snmpd(signal.SIGKILL)
    walk.wait(10)
    assert env.agent.poll() is None
    time.sleep(0.5)
    env.start_snmpd()
    t0 = time.monotonic()
    env.wait_registered(timeout=2 * PING + 3)
    took = time.monotonic() - t0
    print("re-registered %.2f s after snmpd restart (ping_interval %d s)" % (took, PING))
    # the ping interval, plus registration round trips and the 0.2 s poll step
    assert took <= PING + 1.0, "re-registration took %.2f s (ping_interval %d)" % (took, PING)
    # no traffic in between: exactly the same counters
    assert in_pkts(env) == 50
    assert H.tunnel_col(env, "LostPkts", CONF_IDX) == 0
    # and counting goes on from there
    replay_seqs(net, "b", list(range(51, 58)))
    wait_in_pkts(env, 57)
    assert env.agent.poll() is None


# --------------------------------------------------------------------------
# 2. capture interface deleted and recreated

def test_capture_interface_deleted_and_recreated(net, idt_bin):
    env = net.start_snmp(idt_bin, base_config())
    warm_up(net, env)
    replay_seqs(net, "a", list(range(1, 21)))
    wait_in_pkts(env, 20)
    net.del_veth()
    # capture.c: pcap_dispatch() < 0 -> "capture on vB failed: ...; retrying with backoff"
    wait_for(lambda: "capture on vB failed" in env.agent_text(), 10, step=0.2,
             what="the 'capture on vB failed' log line")
    assert env.agent.poll() is None
    assert in_pkts(env) == 20          # SNMP still serves, counters kept
    time.sleep(1.5)                     # at least one reopen attempt fails meanwhile
    net.make_veth()
    # backoff 1 s, 2 s, 4 s ... (capped at 30 s): resumed within a few seconds
    t0 = time.monotonic()
    wait_for(lambda: "capture on vB resumed" in env.agent_text(), 15, step=0.2,
             what="the 'capture on vB resumed' log line")
    print("capture resumed %.1f s after the interface came back" % (time.monotonic() - t0))
    replay_seqs(net, "b", list(range(21, 51)))
    wait_in_pkts(env, 50)
    time.sleep(1.2)
    assert in_pkts(env) == 50
    assert H.tunnel_col(env, "LostPkts", CONF_IDX) == 0
    text = env.agent_text()
    assert count_lines(text, r"capture on vB failed") == 1, text
    assert count_lines(text, r"capture on vB resumed") == 1, text
    assert env.agent.poll() is None


# --------------------------------------------------------------------------
# 3. event log unwritable

# 1..200 without 41..45: 195 received; the 5 holes leave the 64-packet
# window long before the end (W clean packets follow): LostPkts 5.
LOSSY = [s for s in range(1, 201) if not 41 <= s <= 45]


@pytest.mark.parametrize("path,pattern", [
    # event_log.c: the buffered writes fail at the first flush (tick) with ENOSPC;
    # the retries (reopen, write) of the same episode log nothing more
    ("/dev/full", r"event log /dev/full: write failed: No space left on device; "
                  r"retrying \(up to 64 KiB of lines are kept meanwhile; capture and SNMP go on\)"),
    # capture.c open_event_log(): fopen fails once, at the start of the capture thread
    ("/nonexistent-idt-dir/gaps.csv",
     r"event log /nonexistent-idt-dir/gaps\.csv: cannot open: No such file or directory; "
     r"gap logging is off, capture and SNMP go on"),
], ids=["disk-full", "missing-dir"])
def test_event_log_unwritable(net, idt_bin, path, pattern):
    env = net.start_snmp(idt_bin, base_config('loss: { event_log = "%s"; };\n' % path))
    warm_up(net, env)
    replay_seqs(net, "lossy", LOSSY)
    wait_in_pkts(env, 195)
    wait_for(lambda: H.tunnel_col(env, "LostPkts", CONF_IDX) == 5, 5, step=0.25,
             what="LostPkts 5")
    time.sleep(2.5)                     # a few more ticks (each flushes the log)
    text = env.agent_text()
    assert count_lines(text, pattern) == 1, text
    assert count_lines(text, r"event log") == 1, text
    assert (in_pkts(env), H.tunnel_col(env, "LostPkts", CONF_IDX)) == (195, 5)
    # still serving and capturing after the error
    replay_seqs(net, "more", list(range(201, 211)))
    wait_in_pkts(env, 205)
    assert count_lines(env.agent_text(), r"event log") == 1
    assert env.agent.poll() is None


# --------------------------------------------------------------------------
# 4. SET storm

SET_CLIENT = r"""
import json, socket, sys, os

def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82, n >> 8, n & 0xFF])
    return bytes([tag]) + ln + body

def enc_int(v, tag=0x02):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True)
    return tlv(tag, b)

def enc_oid(s):
    p = [int(x) for x in s.strip(".").split(".")]
    out = bytearray([40 * p[0] + p[1]])
    for x in p[2:]:
        chunk = [x & 0x7F]
        x >>= 7
        while x:
            chunk.append(0x80 | (x & 0x7F))
            x >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))

def parse(buf, off=0, end=None):
    end = len(buf) if end is None else end
    items = []
    while off < end:
        tag = buf[off]; ln = buf[off + 1]; off += 2
        if ln & 0x80:
            k = ln & 0x7F
            ln = int.from_bytes(buf[off:off + k], "big"); off += k
        items.append((tag, buf[off:off + ln]))
        off += ln
    return items

port, reqfile, outfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
reqs = json.load(open(reqfile))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
res = []
for rid, (oid, typ, val) in enumerate(reqs, 1000):
    v = enc_int(val) if typ == "i" else tlv(0x04, val.encode())
    vb = tlv(0x30, tlv(0x30, enc_oid(oid) + v))
    pdu = tlv(0xA3, enc_int(rid) + enc_int(0) + enc_int(0) + vb)
    msg = tlv(0x30, enc_int(1) + tlv(0x04, b"private") + pdu)
    s.sendto(msg, ("127.0.0.1", port))
    while True:
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            res.append(["timeout", None])
            break
        top = parse(parse(d)[0][1])
        tag, body = top[2]
        f = parse(body)
        if int.from_bytes(f[0][1], "big", signed=True) != rid:
            continue
        res.append([tag, int.from_bytes(f[1][1], "big", signed=True)])
        break
json.dump(res, open(outfile, "w"))
"""

# SNMPv2 error-status values (RFC 3416)
NO_ERROR, WRONG_TYPE, WRONG_VALUE, NO_CREATION, NOT_WRITABLE = 0, 7, 10, 11, 17
MTU_IDX = 7
MTU_SRC, MTU_TGT = "10.77.0.1", "10.77.0.2"
N_SETS = 1000
COL_NAME, COL_MTUDISCOVER = 2, 21


def test_set_storm(net, idt_bin):
    # The MTU target does not answer: 10.77.0.2 has a static neighbour entry
    # on vA (no ARP, so no local "host unreachable"), frames go to vB and are
    # dropped.  timeout = 60 s per round: the one job started by the first
    # start(2) is still running when the storm ends.
    ipn = ["ip", "-n", net.ns]
    subprocess.run(ipn + ["addr", "add", MTU_SRC + "/24", "dev", "vA"], check=True)
    subprocess.run(ipn + ["neigh", "replace", MTU_TGT, "lladdr", "02:00:00:00:77:02", "dev", "vA",
                          "nud", "permanent"], check=True)
    tunnels = ['{ name = "t7"; index = %d; local = "%s"; remote = "%s"; '
               'mtu: { source = "%s"; target = "%s"; probes = 4; timeout = 60.0; retries = 0; }; }'
               % (MTU_IDX, CONF_L, CONF_R, MTU_SRC, MTU_TGT)]
    env = net.start_snmp(idt_bin, base_config(tunnels=tunnels))
    t = H.TUNNEL_ENTRY
    kinds = [
        # (oid, type, value, expected status)                      mib.c / mib_table.c
        ("%s.%d.%d" % (t, COL_MTUDISCOVER, MTU_IDX), "i", 2, NO_ERROR),       # start(2)
        ("%s.%d.%d" % (t, COL_MTUDISCOVER, MTU_IDX), "i", 1, WRONG_VALUE),    # idle(1): check_start
        ("%s.%d.%d" % (t, COL_MTUDISCOVER, MTU_IDX), "s", "start", WRONG_TYPE),
        ("%s.%d.%d" % (t, COL_MTUDISCOVER, 99), "i", 2, NO_CREATION),         # no such row
        ("%s.%d.%d" % (t, COL_NAME, MTU_IDX), "s", "x", NOT_WRITABLE),        # read-only column
    ]
    reqs = [kinds[i % len(kinds)][:3] for i in range(N_SETS)]
    expect = [kinds[i % len(kinds)][3] for i in range(N_SETS)]
    rf, of = net.dir / "sets.json", net.dir / "sets.out.json"
    rf.write_text(json.dumps(reqs))
    t0 = time.monotonic()
    p = subprocess.run(net.exec_cmd(sys.executable, "-c", SET_CLIENT, env.port, rf, of),
                       capture_output=True, text=True, timeout=120)
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    res = json.loads(of.read_text())
    print("%d SETs in %.1f s" % (N_SETS, took))
    assert len(res) == N_SETS
    assert [r[0] for r in res] == [0xA2] * N_SETS, "some SETs got no Response-PDU: %r" % \
        [(i, r) for i, r in enumerate(res) if r[0] != 0xA2][:5]
    wrong = [(i, reqs[i], r[1], expect[i]) for i, r in enumerate(res) if r[1] != expect[i]]
    assert not wrong, "wrong error status (index, request, got, expected): %r" % wrong[:10]
    assert took < 55, "the storm took %.1f s, longer than the probe round" % took
    assert env.agent.poll() is None

    # one job: daemon.c on_mtu_start -> prober_request(): the first start(2)
    # enqueues a run; every later one finds it active (queued or running)
    # and is ignored; the "already running ... start ignored" line is rate-limited to one
    # per 10 s (the storm lasts well under 10 s), like every line a SET can trigger.
    n_start = N_SETS // len(kinds)
    wait_for(lambda: "mtu discovery started on tunnel t7" in env.agent_text(), 5,
             what="the MTU job start line")
    text = env.agent_text()
    assert count_lines(text, r"mtu discovery started on tunnel t7") == 1, text[-3000:]
    assert took < 10
    assert count_lines(text, r"MTU discovery already running on tunnel index %d; start ignored"
                       % MTU_IDX) == 1
    # mib.c check_start(): the idle(1) refusal is logged once per 10 s, not once per SET
    assert count_lines(text, r"SET idle\(1\) refused") == 1
    assert count_lines(text, r"mtu discovery failed|mtu discovered") == 0
    assert H.tunnel_col(env, "MtuStatus", MTU_IDX) == H.MTU_RUNNING
    # still serving
    assert H.tunnel_col(env, "Name", MTU_IDX) == "t7"


# --------------------------------------------------------------------------
# 5. reload with a malformed file

def tunnel_names(env):
    w = H.walk_numeric(env, H.TUNNEL_ENTRY + ".2")
    return {int(k.rsplit(".", 1)[1]): v for k, v in w.items()}


def test_reload_with_broken_config_is_refused(net, idt_bin):
    t_a = '{ name = "a"; index = 1; local = "%s"; remote = "%s"; }' % (CONF_L, CONF_R)
    t_b = '{ name = "b"; index = 2; local = "192.0.2.1"; remote = "192.0.2.3"; }'
    t_c = '{ name = "c"; index = 3; local = "192.0.2.1"; remote = "192.0.2.4"; }'
    env = net.start_snmp(idt_bin, base_config(tunnels=[t_a, t_b]))
    warm_up(net, env)
    replay_seqs(net, "a", list(range(1, 31)))
    wait_in_pkts(env, 30, index=1)
    # the warm-up pair is discovered: index = highest configured + 1 (tunnel_table.c)
    old = {1: "a", 2: "b", 3: "192.0.2.100-192.0.2.200"}
    assert tunnel_names(env) == old

    conf = env.conf
    broken = [
        ("syntax", base_config(tunnels=[t_a, t_c]).replace("agentx: {", "agentx: {{", 1),
         r"reload refused, keeping the running configuration: %s:1: syntax error" % re.escape(str(conf))),
        ("range", base_config('loss: { window = 20; };\n', tunnels=[t_a, t_c]),
         r"reload refused, keeping the running configuration: %s:3: loss\.window: 20 is out of range"
         % re.escape(str(conf))),
    ]
    for k, (what, text, pattern) in enumerate(broken, 1):
        conf.write_text(text)
        env.agent.send_signal(signal.SIGHUP)
        wait_for(lambda: count_lines(env.agent_text(), r"reload refused") == k, 5, step=0.2,
                 what="'reload refused' line for the %s error" % what)
        assert count_lines(env.agent_text(), pattern) == 1, env.agent_text()[-2000:]
        time.sleep(1.2)                 # a snapshot later: still the old table
        assert tunnel_names(env) == old, what
        assert in_pkts(env, 1) == 30
        assert env.agent.poll() is None
    assert "configuration reloaded" not in env.agent_text()

    # fixed: b goes, c comes, a keeps its counters; c takes index 3, so the
    # discovered tunnel is dropped and its SA re-attached to a new discovered
    # tunnel with the next free index, 4 (tunnel_table_reconfigure + engine)
    conf.write_text(base_config(tunnels=[t_a, t_c]))
    env.agent.send_signal(signal.SIGHUP)
    wait_for(lambda: "configuration reloaded from %s (2 tunnels)" % conf in env.agent_text(), 5,
             step=0.2, what="the 'configuration reloaded' line")
    wait_for(lambda: tunnel_names(env) == {1: "a", 3: "c", 4: "192.0.2.100-192.0.2.200"}, 5,
             step=0.3, what="the new tunnel table")
    assert in_pkts(env, 1) == 30
    replay_seqs(net, "b", list(range(31, 41)))
    wait_in_pkts(env, 40, index=1)
    assert env.agent.poll() is None
