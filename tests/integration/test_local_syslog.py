"""Loss alerts to the local syslog: `ipsecdiagtool run` (not -f, stderr not a
terminal) logs through syslog(3), i.e. datagrams to /dev/log.

The subagent runs in a private mount namespace in which /dev/log is a
socket this test listens on (tests/integration/with_dev_log.sh), inside the
network namespace of the live alert tests (test_alerts.py: veth vA <-> vB,
snmpd, snmptrapd, tcpreplay).  The loss scenario and its expected figures
are test_alerts.py's (worked out by hand there): one "packet loss" alert at
WARNING, then "packet loss cleared" at NOTICE, with facility local3.
The priority is checked against RFC 3164's PRI = facility * 8 + severity.
"""
import os
import re
import socket
import subprocess
from pathlib import Path

from snmpenv import SnmpEnv, tool as _tool, wait_for
from test_alerts import (FAC_CODE, LIVE_RATE, expected_text, live, live_config, syslog_msgs,  # noqa: F401
                         live_stream, warm_up)

WRAP = Path(__file__).resolve().parent / "with_dev_log.sh"
LOG_WARNING, LOG_NOTICE = 4, 5
# glibc syslog(3): "<PRI>Mmm dd hh:mm:ss TAG[PID]: MESSAGE"
LOCAL_RE = re.compile(r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d ipsecdiagtool\[(\d+)\]: (.*)$")


class DevLog:
    """The stand-in for /dev/log: an AF_UNIX datagram socket."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.lines = []

    def read(self):
        while True:
            try:
                d = self.sock.recv(65536)
            except BlockingIOError:
                return self.lines
            self.lines.append(d.decode(errors="replace").rstrip("\n"))

    def parsed(self):
        out = []
        for line in self.read():
            m = LOCAL_RE.match(line)
            assert m, "not a syslog(3) datagram of ipsecdiagtool: %r" % line
            out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
        return out

    def close(self):
        self.sock.close()


def test_local_syslog_warning_on_loss_notice_when_cleared(idt_bin, live):
    net = live
    devlog = DevLog(net.dir / "devlog.sock")
    try:
        env = SnmpEnv(net.dir / "snmp", idt_bin, live_config(net.syslog_port), netns=net.ns,
                      start_agent=False)
        net.env = env                   # closed by the fixture
        env.__enter__()
        env.env.pop("IDT_LOG_STDERR", None)
        env.agent_out = open(env.agent_log, "ab")
        env.agent = subprocess.Popen(
            [_tool("ip"), "netns", "exec", net.ns, str(WRAP), devlog.path, idt_bin, "run",
             "-c", str(env.conf), "-x", "unix:%s" % env.sock],
            env=env.env, stdout=env.agent_out, stderr=subprocess.STDOUT)
        env.wait_registered()
        pid = env.agent.pid             # ip netns exec, unshare and sh exec: the same process
        assert os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(idt_bin)

        # everything went to /dev/log, nothing to stderr
        starting = [m for m in devlog.parsed() if " starting (config " in m[2]]
        assert starting and starting[0][:2] == (FAC_CODE * 8 + LOG_NOTICE, pid), devlog.lines
        assert env.agent_text() == ""

        warm_up(net, env)
        net.replay([live_stream(1)], "burst1")

        def loss():
            return [m for m in devlog.parsed() if m[2].startswith("packet loss")]
        wait_for(lambda: len(loss()) >= 2, 30, step=0.2,
                 what="the loss and the cleared message on /dev/log")
        assert loss() == [
            (FAC_CODE * 8 + LOG_WARNING, pid, expected_text("exceeded", 10, LIVE_RATE, 154)),
            (FAC_CODE * 8 + LOG_NOTICE, pid, expected_text("cleared", 0, 0, 0)),
        ], devlog.lines
        # the same two alerts reached the remote syslog server (besides the
        # tunnel's state line: configured tunnels announce active/idle)
        assert len(syslog_msgs(net)) == 2, net.syslog()
        assert env.agent.poll() is None
    finally:
        devlog.close()
