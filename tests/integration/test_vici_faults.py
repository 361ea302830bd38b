"""The VICI client under faults: capture and SNMP carry on unaffected.

Each test runs the subagent with a private snmpd (snmpenv.py) and checks,
while the fault lasts, that snmpget of ipsecDiagEspPkts still answers and
grows by exactly the number of ESP frames replayed (tcpreplay onto a veth;
frames from the generator tests/gen/espgen.py via test_bounds.Net).

  * the socket missing (ike.vici set explicitly): one warning, no more;
    a reload to a socket that answers connects at once;
  * permission denied: the subagent runs as nobody (setpriv, keeping only
    CAP_NET_RAW), the socket is root's with mode 0600 -- the real case of a
    root-only charon.vici; the line names the user, the socket's group and
    what to do;
  * a hostile VICI server (written here, FakeVici): it answers the
    registrations and list-sas correctly, then sends a malformed message,
    a length prefix over the 512 KiB limit, or sections nested 17 deep --
    one precise line each and a reconnect with backoff; a server that is
    hostile from the first byte is logged once per outage, not per attempt;
  * charon restarting: the real charon of tests/integration/lab.py is
    killed and started again; the client says it lost charon once,
    reconnects, and lists again (the new IKE SA appears in a view).

Expected log texts are the ones src/vici_client.c and src/vici_msg.c
write for these cases; counts of frames are those replayed.
"""
import grp
import os
import pwd
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path

import pytest

from snmpenv import SnmpEnv, wait_for
from test_bounds import Net, warm_up, esp_pkts, net_fixture, one_sa_pcap

net = net_fixture("idtv")

SPI = 0x0C1C1001
SRC, DST = "192.0.2.2", "192.0.2.1"


def config(vici, extra=""):
    return ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            'ike: { vici = "%s"; poll_interval = 2; };\n%s' % (vici, extra))


def esp_still_counted(net, env, n=20, tag="f"):
    """Replay n new ESP frames; ipsecDiagEspPkts answers and grows by n."""
    before = esp_pkts(env)
    assert isinstance(before, int), before
    p = net.dir / ("esp-%s-%d.pcap" % (tag, time.monotonic_ns()))
    base = int(time.monotonic() * 10) % 100000 * 100 + 1
    net.sa_pcap(p, list(range(base, base + n)), SPI, SRC, DST)
    assert net.replay(p) == n
    wait_for(lambda: esp_pkts(env) == before + n, 10, step=0.25,
             what="ipsecDiagEspPkts == %d + %d (now %r)" % (before, n, esp_pkts(env)))


def lines(env, text):
    return [l for l in env.agent_text().splitlines() if text in l]


# ---------------------------------------------------------------- a fake VICI server

def pkt(ptype, name=None, msg=b""):
    b = bytes([ptype])
    if name is not None:
        b += bytes([len(name)]) + name.encode()
    return struct.pack(">I", len(b) + len(msg)) + b + msg


MALFORMED = pkt(7, "ike-updown", bytes([1, 1, ord("x"), 9]))          # element type 9
OVERSIZED = struct.pack(">I", 1 << 20) + b"\x07" * 64                # 1 MiB > 512 KiB
DEEP = pkt(7, "child-updown", bytes([1, 1, ord("s")]) * 17 + bytes([2]) * 17)


class FakeVici:
    """A VICI server on a unix socket.  plan[i] is what connection i gets
    (the last entry repeats): ("good", BAD) answers the five registrations
    and list-sas like charon, then sends BAD; ("bad", BAD) sends BAD at once.
    conns holds each connection's monotonic start time."""

    def __init__(self, path, plan):
        self.path = str(path)
        self.plan = plan
        self.conns = []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(8)
        self.srv.settimeout(0.2)
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _recv_packet(self, c):
        hdr = b""
        while len(hdr) < 4:
            d = c.recv(4 - len(hdr))
            if not d:
                raise EOFError
            hdr += d
        n = struct.unpack(">I", hdr)[0]
        body = b""
        while len(body) < n:
            d = c.recv(n - len(body))
            if not d:
                raise EOFError
            body += d
        return body

    def _serve(self, c, how, bad):
        c.settimeout(5)
        try:
            if how == "good":
                for _ in range(6):          # 5 registrations, then list-sas
                    p = self._recv_packet(c)
                    c.sendall(pkt(5) if p[0] == 3 else pkt(1))
                time.sleep(0.2)
            c.sendall(bad)
            while c.recv(4096):             # until the client hangs up
                pass
        except (OSError, EOFError):
            pass
        finally:
            c.close()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            i = len(self.conns)
            self.conns.append(time.monotonic())
            how, bad = self.plan[min(i, len(self.plan) - 1)]
            threading.Thread(target=self._serve, args=(c, how, bad), daemon=True).start()

    def close(self):
        self.stop = True
        self.th.join(2)
        self.srv.close()


# ---------------------------------------------------------------- tests

def test_socket_missing(net, idt_bin):
    path = net.dir / "no-charon.vici"
    env = net.start_snmp(idt_bin, config("unix://%s" % path))
    warm_up(net, env)
    esp_still_counted(net, env, tag="missing")
    want = ("ike: VICI socket %s does not exist (is charon running with the vici plugin?); "
            "retrying with backoff" % path)
    assert len(lines(env, want)) == 1, env.agent_text()
    time.sleep(3.5)                         # attempts at +1 s, +3 s: no new line
    assert len(lines(env, "ike: ")) == 1, env.agent_text()

    # a reload (SIGHUP) to a socket that answers: connected at once
    live = net.dir / "live.vici"
    fake = FakeVici(live, [("good", b"")])
    try:
        env.write_conf(config("unix://%s" % live))
        env.agent.send_signal(signal.SIGHUP)
        wait_for(lambda: lines(env, "ike: connected to charon at %s (0 IKE SAs)" % live), 5,
                 step=0.1, what="the connection to the new socket")
        assert len(lines(env, "ike: VICI socket is now %s" % live)) == 1, env.agent_text()
        assert len(fake.conns) == 1
        esp_still_counted(net, env, tag="reloaded")
    finally:
        fake.close()


def test_hostile_server(net, idt_bin):
    path = net.dir / "fake.vici"
    fake = FakeVici(path, [("good", MALFORMED), ("good", OVERSIZED), ("good", DEEP),
                           ("bad", MALFORMED)])
    try:
        env = net.start_snmp(idt_bin, config(str(path)))
        warm_up(net, env)
        wait_for(lambda: len(fake.conns) >= 5, 20, step=0.2,
                 what="5 connections to the fake server (now %d)" % len(fake.conns))
        esp_still_counted(net, env, tag="hostile")
        lost = lines(env, "ike: lost charon at %s: " % path)
        why = [l.split(": ", 3)[-1] for l in lost]
        assert why == [
            "malformed ike-updown message: unknown message element type; reconnecting with backoff",
            "a packet of 1048576 bytes: packet length exceeds the 524288-byte limit; "
            "reconnecting with backoff",
            "malformed child-updown message: sections nested deeper than 16; reconnecting "
            "with backoff",
        ], env.agent_text()
        # backoff: after a good list it restarts at 1 s; the hostile-from-the-
        # start connections (4th, 5th) come 1 s and 2 s apart, and say nothing
        gaps = [b - a for a, b in zip(fake.conns[2:], fake.conns[3:5])]
        assert 0.8 < gaps[0] < 2.5 and 1.8 < gaps[1] < 3.5 and gaps[1] > gaps[0], fake.conns
        connected = lines(env, "ike: connected to charon at %s (0 IKE SAs)" % path)
        assert len(connected) == 2, env.agent_text()   # outages 1 and 2 ended by a good list
    finally:
        fake.close()


def test_permission_denied(idt_bin):
    """The subagent as nobody (CAP_NET_RAW only) and a root-only socket."""
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.fail("setpriv (util-linux) is needed", pytrace=False)
    pw = pwd.getpwnam("nobody")
    d = Path(tempfile.mkdtemp(prefix="idt-vici-"))
    os.chmod(d, 0o755)                      # pytest's tmp dirs are 0700
    n = Net(d, tag="idtp")
    try:
        n.up()
        sockpath = d / "charon.vici"
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(sockpath))
        s.listen()
        os.chmod(sockpath, 0o660)           # root:root, as charon leaves it without charon.group
        wrapper = d / "as-nobody"
        wrapper.write_text("#!/bin/sh\nexec %s --reuid=%d --regid=%d --clear-groups "
                           "--inh-caps=+net_raw --ambient-caps=+net_raw %s \"$@\"\n"
                           % (setpriv, pw.pw_uid, pw.pw_gid, idt_bin))
        os.chmod(wrapper, 0o755)
        env = SnmpEnv(d / "snmp", str(wrapper), config(str(sockpath), 'state: { dir = ""; };\n'),
                      netns=n.ns, traps=False)
        os.chmod(d / "snmp", 0o755)
        os.chmod(env.conf, 0o644)
        n.env = env
        env.__enter__()
        warm_up(n, env)
        esp_still_counted(n, env, tag="perm")
        root_group = grp.getgrgid(os.stat(sockpath).st_gid).gr_name
        want = ("ike: permission denied connecting to VICI socket %s as user nobody (socket "
                "mode 660, group %s): add nobody to group %s (strongSwan's charon.group sets "
                "the socket's group), or grant it with \"setfacl -m u:nobody:rw %s\"; retrying "
                "with backoff" % (sockpath, root_group, root_group, sockpath))
        assert len(lines(env, want)) == 1, env.agent_text()
        s.close()
    finally:
        n.down()
        shutil.rmtree(d, ignore_errors=True)


def test_charon_restart(tmp_path, idt_bin):
    """The real charon (lab.py) killed and started again."""
    import lab as L
    with L.Lab(tmp_path / "lab") as lab:
        gw = lab.gw("gw1")
        env = SnmpEnv(tmp_path / "snmp", idt_bin,
                      'agentx: { ping_interval = 2; };\ncapture: { interface = "out0"; };\n'
                      'ike: { vici = "%s"; poll_interval = 30; };\n' % gw.uri,
                      netns=lab.ns("gw1"), traps=False, start_agent=False)
        with env:
            env.start_agent(extra_args=("-d",))
            wait_for(lambda: lines(env, ": 1 IKE SAs, 1 children"), 10, step=0.2,
                     what="a view with the lab's IKE SA")
            gw.proc.kill()
            gw.proc.wait(5)
            wait_for(lambda: lines(env, "ike: lost charon at %s: charon closed the connection"
                                   % gw.vici), 10, step=0.2, what="the lost-charon line")
            # the tunnel is gone with charon (kernel-libipsec): generator ESP
            # frames sent out of gw1's out0 are counted all the same
            before = esp_pkts(env)
            p = tmp_path / "outage.pcap"
            one_sa_pcap(p, list(range(1, 31)), spi=SPI, src="198.51.100.2", dst="198.51.100.1")
            r = lab.run("gw1", "tcpreplay", "-q", "-i", "out0", str(p))
            assert "Actual: 30 packets" in r.stdout, r.stdout
            wait_for(lambda: esp_pkts(env) == before + 30, 10, step=0.25,
                     what="ipsecDiagEspPkts == %r + 30 during the outage (now %r)"
                     % (before, esp_pkts(env)))
            seen = len(lines(env, ": 1 IKE SAs, 1 children"))
            # the killed charon left its socket behind: without it, the lab
            # waits for the new charon's own
            gw.vici.unlink(missing_ok=True)
            lab._start_charon(gw)
            lab._load(gw)
            lab.initiate()
            wait_for(lambda: len(lines(env, ": 1 IKE SAs, 1 children")) > seen, 15, step=0.2,
                     what="a view of the new IKE SA after the restart")
            assert len(lines(env, "ike: lost charon at")) == 1, env.agent_text()
            assert len(lines(env, "ike: connected to charon at %s" % gw.vici)) == 1, \
                env.agent_text()
            before = esp_pkts(env)
            tx, rx = lab.ping(10, wait=1)
            assert rx == 10, (tx, rx)
            wait_for(lambda: esp_pkts(env) >= before + 20, 10, step=0.25,
                     what="ESP of 10 pings both ways counted (now %r, before %r)"
                     % (esp_pkts(env), before))
