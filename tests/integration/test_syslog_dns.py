"""syslog.server given as a host name whose lookup is slow: the name is
resolved off the agent thread, so SNMP answers promptly meanwhile (also
across a reload that starts a second lookup), alerts raised before the
answer are dropped from the remote stream and counted, and once the name
resolves the next alert reaches the collector.

The slow name server is real: a small DNS responder on 127.0.0.1:53 inside
the test's network namespace, used by the daemon through
/etc/netns/NS/resolv.conf (which `ip netns exec` bind-mounts over
/etc/resolv.conf).  It answers only when the test opens its gate, so "slow"
is as long as the test wants, not a guessed delay.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from snmpenv import ROOT, wait_for
from test_alerts import (LIVE_RATE, LiveNet, _tool, check_syslog, live_config, live_stream,
                         syslog_msgs, warm_up)

NAME = "collector.idt-slow.test"
# Minimal DNS responder: logs "query ID TYPE NAME" when a question arrives,
# waits until the gate file exists (at most 120 s), then answers A NAME with
# 127.0.0.1, AAAA NAME with no data, anything else with NXDOMAIN, and logs
# "answer ID TYPE NAME".
DNS = r"""
import socket, struct, sys, threading, time, os
name, gate, logp, ready = sys.argv[1].lower(), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
lock = threading.Lock()
def log(line):
    with lock, open(logp, "a") as f:
        f.write(line + "\n")
def qname(d):
    i, labels = 12, []
    while d[i]:
        labels.append(d[i + 1:i + 1 + d[i]].decode("ascii", "replace"))
        i += 1 + d[i]
    return ".".join(labels).lower(), i + 1
def answer(d, peer):
    qid = struct.unpack("!H", d[:2])[0]
    q, end = qname(d)
    qtype = struct.unpack("!H", d[end:end + 2])[0]
    log("query %d %d %s" % (qid, qtype, q))
    t = time.monotonic()
    while not os.path.exists(gate) and time.monotonic() - t < 120:
        time.sleep(0.05)
    question = d[12:end + 4]
    flags, an = 0x8180, b""
    if q != name:
        flags = 0x8183
    elif qtype == 1:
        an = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
    hdr = struct.pack("!HHHHHH", qid, flags, 1, 1 if an else 0, 0, 0)
    s.sendto(hdr + question + an, peer)
    log("answer %d %d %s" % (qid, qtype, q))
open(ready, "w").close()
while True:
    d, peer = s.recvfrom(4096)
    threading.Thread(target=answer, args=(d, peer), daemon=True).start()
"""


class SlowDns:
    def __init__(self, net):
        self.net = net
        self.dir = net.dir / "dns"
        self.dir.mkdir()
        self.etc = Path("/etc/netns") / net.ns
        self.gate = self.dir / "gate"
        self.log = self.dir / "dns.log"
        self.proc = None

    def up(self):
        self.etc.mkdir(parents=True)
        (self.etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:30 attempts:1\n")
        (self.etc / "nsswitch.conf").write_text("hosts: files dns\n")
        (self.etc / "hosts").write_text("127.0.0.1 localhost\n")
        ready = self.dir / "ready"
        self.err = open(self.dir / "dns.err", "wb")
        self.proc = subprocess.Popen(
            [_tool("ip"), "netns", "exec", self.net.ns, sys.executable, "-c", DNS, NAME,
             str(self.gate), str(self.log), str(ready)],
            stdout=subprocess.DEVNULL, stderr=self.err)
        wait_for(lambda: ready.exists() or self.proc.poll() is not None, 10, what="fake DNS")
        assert self.proc.poll() is None, (self.dir / "dns.err").read_text()

    def down(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.err.close()
        shutil.rmtree(self.etc, ignore_errors=True)
        try:
            self.etc.parent.rmdir()     # /etc/netns, when no other namespace uses it
        except OSError:
            pass

    def lines(self, kind, qtype=1):
        if not self.log.exists():
            return []
        return [l for l in self.log.read_text().splitlines()
                if l.startswith(kind + " ") and l.split()[2] == str(qtype) and l.endswith(" " + NAME)]


def timed_get(env):
    t = time.monotonic()
    v = env.get_raw(ROOT + ".1.1.6.0")
    return v, time.monotonic() - t


def test_slow_syslog_name_does_not_block_snmp(idt_bin, workdir):
    net = LiveNet(workdir)
    dns = SlowDns(net)
    try:
        net.up()
        dns.up()
        cfg = live_config(net.syslog_port).replace('"127.0.0.1:%d"' % net.syslog_port,
                                                   '"%s:%d"' % (NAME, net.syslog_port))
        assert NAME in cfg
        # start_snmp waits for the subagent to register: with the lookup on the
        # agent thread it could not, the name server does not answer yet
        t0 = time.monotonic()
        env = net.start_snmp(idt_bin, cfg)
        assert time.monotonic() - t0 < 10
        wait_for(lambda: dns.lines("query"), 10, what="the lookup of %s" % NAME)
        assert dns.lines("answer") == []
        for _ in range(5):
            v, dt = timed_get(env)
            assert v is not None and dt < 1.0, (v, dt)

        # a reload while the lookup is pending starts a second one; the first
        # one's result must be discarded when it comes
        env.agent.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in env.agent_text(), 10, what="reload")
        wait_for(lambda: len(dns.lines("query")) >= 2, 10, what="the second lookup")
        assert dns.lines("answer") == []
        for _ in range(5):
            v, dt = timed_get(env)
            assert v is not None and dt < 1.0, (v, dt)

        # alerts while the name is unknown: local log only, counted
        warm_up(net, env)
        net.replay([live_stream(1)], "burst1")
        wait_for(lambda: "packet loss cleared on tunnel" in env.agent_text(), 30, step=0.2,
                 what="the cleared alert in the local log")
        text = env.agent_text()
        assert text.count("packet loss on tunnel hq") == 1, text
        assert text.count("is not resolved yet") == 1, text
        assert net.syslog() == []
        v, dt = timed_get(env)
        assert v is not None and dt < 1.0, (v, dt)

        # the name server answers: one "resolved" line (the stale lookup says nothing)
        dns.gate.touch()
        wait_for(lambda: len(dns.lines("answer")) >= 2, 10, what="both lookups answered")
        wait_for(lambda: "resolved to 127.0.0.1" in env.agent_text(), 10, what="resolved")
        time.sleep(0.5)
        text = env.agent_text()
        assert text.count("resolved to 127.0.0.1") == 1, text
        # dropped: the tunnel's first "active" state line, exceeded, cleared
        assert ("syslog.server %s:%d: resolved to 127.0.0.1; 3 messages were dropped while "
                "resolving" % (NAME, net.syslog_port)) in text, text
        assert net.syslog() == []

        # the next alert reaches the collector
        net.replay([live_stream(241)], "burst2")
        wait_for(lambda: len(net.syslog()) >= 1, 20, step=0.2, what="remote syslog exceeded")
        msgs = syslog_msgs(net)
        assert len(msgs) == 1, msgs
        check_syslog(msgs[0], env, "exceeded", 10, LIVE_RATE)
        assert env.agent.poll() is None, "subagent died:\n" + env.agent_text()
        assert env.stop_agent() == 0
    finally:
        net.down()
        dns.down()
        assert not os.path.exists(dns.etc)


def test_stop_during_slow_lookup_is_prompt_and_clean(idt_bin, workdir):
    """SIGTERM while the lookup hangs: the daemon exits at once with status 0
    (under ASan also without a leak report: the lookup thread still holds
    its handle)."""
    net = LiveNet(workdir)
    dns = SlowDns(net)
    try:
        net.up()
        dns.up()
        cfg = live_config(net.syslog_port).replace('"127.0.0.1:%d"' % net.syslog_port,
                                                   '"%s:%d"' % (NAME, net.syslog_port))
        env = net.start_snmp(idt_bin, cfg)
        wait_for(lambda: dns.lines("query"), 10, what="the lookup of %s" % NAME)
        env.agent.send_signal(signal.SIGHUP)        # a second lookup, the first one closed
        wait_for(lambda: len(dns.lines("query")) >= 2, 10, what="the second lookup")
        t = time.monotonic()
        assert env.stop_agent(timeout=5) == 0, env.agent_text()
        assert time.monotonic() - t < 3
        assert dns.lines("answer") == []
    finally:
        net.down()
        dns.down()
