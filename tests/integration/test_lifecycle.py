"""Daemon lifecycle of `ipsecdiagtool run` under a real snmpd: SIGHUP reload
(good and refused), privilege drop, and shutdown on SIGTERM/SIGINT while the
capture and an MTU discovery run are busy.

Topology (all created here, inside namespaces only; names carry the pid):

    NS:   vA <-veth-> vB  (tcpreplay sends on vA, the subagent captures on vB)
          f0 198.18.2.1/24 <-veth-> f1 198.18.2.2/24 in FAR
    FAR:  MTU probe target; in the shutdown test an nftables rule drops every
          ICMP echo request, so a discovery run never gets an answer.

The snmpd, snmptrapd and subagent of SnmpEnv run inside NS.  ESP packets are
synthetic (tests/gen/espgen.py builders); expected counters come from
espgen's ReplayModel (RFC 4303 window accounting), not from the program.

Needs root, iproute2, nftables, tcpreplay, net-snmp (snmpd, snmp) and
useradd/userdel (passwd).  A missing prerequisite FAILS the test.
"""
import itertools
import json
import os
import pwd
import grp
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import espgen
from snmpenv import MIBDIR, SnmpEnv, wait_for

M = "IPSECDIAG-MIB::"
SERVICE_USER = "ipsecdiag"          # fixed in src/daemon.c
CAP_NET_RAW = 13
CAPS_KEPT = 1 << CAP_NET_RAW        # 0x2000: all the daemon needs (src/privs.c)

# tunnels (name, index, local, remote): ESP from remote to local is inbound
TA = ("alpha", 1, "198.51.100.1", "203.0.113.1")
TB = ("bravo", 2, "198.51.100.2", "203.0.113.2")
TC = ("charlie", 3, "198.51.100.3", "203.0.113.3")
SPI_A = 0xA1000001

# probe path NS f0 -> FAR f1
PROBE_SRC, PROBE_DST = "198.18.2.1", "198.18.2.2"
FAR_MTU = 1400                      # MTU of f0 and f1 in the privilege test

_counter = itertools.count()


from snmpenv import sh, tool as _tool  # noqa: E402  (shared helpers)


def _require(*tools):
    if os.geteuid() != 0:
        pytest.fail("test_lifecycle needs root (namespaces, capture, privilege drop)",
                    pytrace=False)
    for t in ("ip", "tcpreplay", "snmpd", "snmpget") + tools:
        if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t):
            pytest.fail("test_lifecycle needs '%s' on PATH" % t, pytrace=False)


def num(v):
    """First integer of a value printed by the net-snmp tools ("50", "Counter64: 50")."""
    m = re.search(r"(\d+)", v.split(":", 1)[-1])
    assert m, "not a number: %r" % v
    return int(m.group(1))


class Net:
    """NS (vA/vB, f0) and FAR (f1); always torn down by the fixture."""

    def __init__(self):
        n = next(_counter)
        self.ns = "idtlc%d-%d" % (os.getpid(), n)
        self.far = self.ns + "f"
        self.created = []

    def ip(self, ns, *args):
        return sh(_tool("ip"), "-n", ns, *args)

    def exec(self, ns, *args, **kw):
        return sh(_tool("ip"), "netns", "exec", ns, *args, **kw)

    def up(self, far_mtu=None, far_drops_icmp=False):
        for ns in (self.ns, self.far):
            sh(_tool("ip"), "netns", "add", ns)
            self.created.append(ns)
            self.ip(ns, "link", "set", "lo", "up")
        self.ip(self.ns, "link", "add", "vA", "type", "veth", "peer", "name", "vB")
        self.ip(self.ns, "link", "add", "f0", "type", "veth", "peer", "name", "f1",
                "netns", self.far)
        self.ip(self.ns, "addr", "add", PROBE_SRC + "/24", "dev", "f0")
        self.ip(self.far, "addr", "add", PROBE_DST + "/24", "dev", "f1")
        if far_mtu:
            self.ip(self.ns, "link", "set", "f0", "mtu", far_mtu)
            self.ip(self.far, "link", "set", "f1", "mtu", far_mtu)
        for ns, dev in ((self.ns, "vA"), (self.ns, "vB"), (self.ns, "f0"), (self.far, "f1")):
            self.ip(ns, "link", "set", dev, "up")
        info = json.loads(self.ip(self.ns, "-j", "link", "show").stdout)
        macs = {d["ifname"]: bytes.fromhex(d["address"].replace(":", "")) for d in info}
        self.mac_a, self.mac_b = macs["vA"], macs["vB"]
        # the probe path works (ARP resolved) before anything is dropped
        for _ in range(20):
            if self.exec(self.ns, "ping", "-c", "1", "-W", "1", PROBE_DST,
                         check=False).returncode == 0:
                break
        else:
            raise AssertionError("set-up: %s does not answer ping" % PROBE_DST)
        if far_drops_icmp:
            sh(_tool("ip"), "netns", "exec", self.far, _tool("nft"), "-f", "-", input=(
                "table inet idtlc {\n"
                "  chain input { type filter hook input priority 0; policy accept;\n"
                "    icmp type echo-request drop; }\n"
                "}\n"))
            r = self.exec(self.ns, "ping", "-c", "1", "-W", "1", PROBE_DST, check=False)
            assert r.returncode != 0, "set-up: the nft rule in %s does not drop pings" % self.far

    def down(self):
        for ns in reversed(self.created):
            subprocess.run([_tool("ip"), "netns", "del", ns], capture_output=True)
        self.created = []

    def netns_pids(self):
        r = sh(_tool("ip"), "netns", "pids", self.ns, check=False)
        return [int(x) for x in r.stdout.split()]

    # -- traffic
    def write_pcap(self, path, seqs, spi=SPI_A, tunnel=TA, gap_us=2000):
        """Inbound ESP (remote -> local) of `tunnel`, one frame per wire
        sequence number, Ethernet vA -> vB."""
        _, _, local, remote = tunnel
        w = espgen.PcapWriter(espgen.DLT_EN10MB)
        ts = espgen.BASE_TS_US
        for s in seqs:
            pkt = espgen.ipv4(remote, local, espgen.IPPROTO_ESP,
                              espgen.esp(spi, s, bytes(range(48))), df=True)
            w.add(ts, self.mac_b + self.mac_a + b"\x08\x00" + pkt)
            ts += gap_us
        w.write(path)
        return path

    def replay(self, pcap):
        return self.exec(self.ns, _tool("tcpreplay"), "-q", "-i", "vA", str(pcap), timeout=120)

    def replay_bg(self, pcap):
        return subprocess.Popen([_tool("ip"), "netns", "exec", self.ns, _tool("tcpreplay"),
                                 "-q", "-i", "vA", str(pcap)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def model(seq_batches, window=64):
    """Reference counts after each batch: [(received, lost), ...]."""
    m = espgen.ReplayModel(window)
    out = []
    for batch in seq_batches:
        for s in batch:
            m.update(s)
        out.append((m.received, m.lost))
    return out


def tunnel_block(t, mtu=None):
    name, index, local, remote = t
    return '  { name = "%s"; index = %d; local = "%s"; remote = "%s"; %s}' % (
        name, index, local, remote, (mtu + " ") if mtu else "")


def config(tunnels, alert_lost=100, mtu=None):
    """mtu: {tunnel name: mtu block text}."""
    mtu = mtu or {}
    return ("agentx: { ping_interval = 1; };\n"
            'capture: { interface = "vB"; };\n'
            "loss: { alert_lost = %d; alert_interval = 60; };\n"
            "tunnels = (\n%s\n);\n"
            % (alert_lost, ",\n".join(tunnel_block(t, mtu.get(t[0])) for t in tunnels)))


def mtu_block(timeout, retries, mx=1500):
    return ('mtu: { source = "%s"; target = "%s"; min = 576; max = %d; probes = 16; '
            'timeout = %.1f; retries = %d; };' % (PROBE_SRC, PROBE_DST, mx, timeout, retries))


def get_num(env, col, index):
    return num(env.get("%sipsecDiagTunnel%s.%d" % (M, col, index)))


def wait_counter(env, col, index, expect, timeout=10):
    """Wait until the counter reads exactly `expect`; fail on overshoot."""
    def ok():
        v = get_num(env, col, index)
        assert v <= expect, "%s.%d overshot: %d > %d" % (col, index, v, expect)
        return v == expect
    wait_for(ok, timeout, step=0.2, what="ipsecDiagTunnel%s.%d == %d" % (col, index, expect))
    time.sleep(1.2)         # one more publication: it must stay exact
    assert get_num(env, col, index) == expect


def table_rows(walk):
    """{index: name} of a tunnel table walk; every key must belong to a listed row."""
    rows = {int(k.rsplit(".", 1)[1]): v.strip('"') for k, v in walk.items()
            if k.startswith("ipsecDiagTunnelName.")}
    for k in walk:
        assert int(k.rsplit(".", 1)[1]) in rows, "cell of an unknown row: %s" % k
    return rows


def rows_settled(env, expect):
    """For wait_for: the walk shows exactly `expect` ({index: name}).  A walk is
    many GETNEXTs and may straddle a snapshot publication (Name column before,
    later columns after a reload), so a mixed walk just means "not yet"."""
    try:
        return table_rows(env.walk(M + "ipsecDiagTunnelTable")) == expect
    except AssertionError:
        return False


def log_count(env, text):
    return env.agent_text().count(text)


@pytest.fixture
def net():
    _require("nft")
    n = Net()
    try:
        yield n
    finally:
        n.down()


# --------------------------------------------------------------------- 1

def test_sighup_reload_keeps_counters_and_applies_changes(idt_bin, workdir, net):
    net.up()
    env = SnmpEnv(workdir / "snmp", idt_bin, config([TA, TB], alert_lost=100), netns=net.ns)
    with env:
        rows = table_rows(env.walk(M + "ipsecDiagTunnelTable"))
        assert rows == {1: "alpha", 2: "bravo"}

        # first replay: seqs 1..50, no loss
        b1 = list(range(1, 51))
        # second replay: 51..178 with 101..108 missing: 120 received, 8 lost
        # (all 8 leave the 64-window since the highest number is 178 >= 108 + 64)
        b2 = [s for s in range(51, 179) if not 101 <= s <= 108]
        (n1, l1), (n2, l2) = model([b1, b2])
        assert (n1, l1) == (50, 0) and (n2 - n1, l2) == (120, 8)

        net.replay(net.write_pcap(workdir / "r1.pcap", b1))
        wait_counter(env, "InPkts", 1, n1)
        assert get_num(env, "LostPkts", 1) == 0
        assert get_num(env, "InPkts", 2) == 0

        # new config: alert_lost 100 -> 5, bravo removed, charlie added
        env.write_conf(config([TA, TC], alert_lost=5))
        env.agent.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded from %s (2 tunnels)" % env.conf in env.agent_text(),
                 10, what="'configuration reloaded' in the subagent log")
        assert env.agent.poll() is None

        wait_for(lambda: rows_settled(env, {1: "alpha", 3: "charlie"}), 5, step=0.3,
                 what="tunnel table {1: alpha, 3: charlie}")
        w = env.walk(M + "ipsecDiagTunnelTable")
        assert table_rows(w) == {1: "alpha", 3: "charlie"}, w
        assert w["ipsecDiagTunnelLocalAddr.3"] == '"C6 33 64 03 "'      # 198.51.100.3
        assert w["ipsecDiagTunnelRemoteAddr.3"] == '"CB 00 71 03 "'     # 203.0.113.3
        assert num(w["ipsecDiagTunnelInPkts.1"]) == n1, "InPkts.1 was reset by the reload"
        assert num(w["ipsecDiagTunnelInPkts.3"]) == 0
        assert w["ipsecDiagTunnelLossAlarm.1"] == "normal"

        # second replay adds exactly 120 and loses 8; 8 >= the new alert_lost 5
        # (the old threshold 100 would not alarm)
        net.replay(net.write_pcap(workdir / "r2.pcap", b2))
        wait_counter(env, "InPkts", 1, n2)
        assert get_num(env, "LostPkts", 1) == l2
        assert get_num(env, "InPkts", 3) == 0
        wait_for(lambda: env.get(M + "ipsecDiagTunnelLossAlarm.1") == "alarm", 5, step=0.3,
                 what="LossAlarm.1 == alarm under the reloaded alert_lost = 5")
        assert table_rows(env.walk(M + "ipsecDiagTunnelTable")) == {1: "alpha", 3: "charlie"}
        assert env.stop_agent(signal.SIGTERM, timeout=5) == 0


# --------------------------------------------------------------------- 2

SYNTAX_BROKEN = 'loss: {\n  alert_lost = 5;\n  alert_interval = = 60;\n};\n'
RANGE_BROKEN = 'loss: {\n  alert_lost = 5;\n  alert_interval = 0;\n};\n'


def test_refused_reload_keeps_running_config(idt_bin, workdir, net):
    net.up()
    env = SnmpEnv(workdir / "snmp", idt_bin, config([TA, TB]), netns=net.ns)
    with env:
        b1, b2 = list(range(1, 31)), list(range(31, 41))
        (n1, _), (n2, _) = model([b1, b2])
        net.replay(net.write_pcap(workdir / "r1.pcap", b1))
        wait_counter(env, "InPkts", 1, n1)
        before = env.walk(M + "ipsecDiagTunnelTable")
        assert table_rows(before) == {1: "alpha", 2: "bravo"}
        good_text = env.conf.read_text()

        for text, where in ((SYNTAX_BROKEN, "%s:3: syntax error" % env.conf),
                            (RANGE_BROKEN,
                             "%s:3: loss.alert_interval: 0 is out of range (1..86400)" % env.conf)):
            k = log_count(env, "reload refused")
            env.conf.write_text(text)
            env.agent.send_signal(signal.SIGHUP)
            wait_for(lambda: log_count(env, "reload refused") == k + 1, 10,
                     what="'reload refused' in the subagent log")
            line = [l for l in env.agent_text().splitlines() if "reload refused" in l][-1]
            assert where in line, line
            assert "configuration reloaded" not in env.agent_text()
            time.sleep(1.2)     # a publication after the refusal
            assert env.agent.poll() is None, "the subagent died on a refused reload"
            assert env.walk(M + "ipsecDiagTunnelTable") == before

        # the old configuration is the one running: capture still counts for alpha
        net.replay(net.write_pcap(workdir / "r2.pcap", b2))
        wait_counter(env, "InPkts", 1, n2)
        assert table_rows(env.walk(M + "ipsecDiagTunnelTable")) == {1: "alpha", 2: "bravo"}

        # and a later valid reload is still applied
        env.write_conf(good_text.replace(tunnel_block(TB), tunnel_block(TB) + ",\n" +
                                              tunnel_block(TC)))
        env.agent.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded from %s (3 tunnels)" % env.conf in env.agent_text(),
                 10, what="'configuration reloaded' after the refused ones")
        wait_for(lambda: rows_settled(env, {1: "alpha", 2: "bravo", 3: "charlie"}), 5, step=0.3,
                 what="three tunnels")
        assert table_rows(env.walk(M + "ipsecDiagTunnelTable")) == \
            {1: "alpha", 2: "bravo", 3: "charlie"}
        assert get_num(env, "InPkts", 1) == n2

        t0 = time.monotonic()
        assert env.stop_agent(signal.SIGTERM, timeout=5) == 0
        assert time.monotonic() - t0 < 2


# --------------------------------------------------------------------- 3

@pytest.fixture
def service_user():
    """The fixed service user; created (and removed afterwards) only if missing."""
    _require("useradd", "userdel")
    created = False
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        sh(_tool("useradd"), "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
           "--user-group", SERVICE_USER)
        created = True
    pw = pwd.getpwnam(SERVICE_USER)
    try:
        yield pw
    finally:
        if created:
            subprocess.run([_tool("userdel"), SERVICE_USER], capture_output=True)
            try:
                grp.getgrnam(SERVICE_USER)
                subprocess.run([_tool("groupdel"), SERVICE_USER], capture_output=True)
            except KeyError:
                pass


@pytest.fixture
def open_workdir():
    """A work dir that the service user can traverse (pytest's tmp is 0700)."""
    d = Path(tempfile.mkdtemp(prefix="idt-lifecycle-", dir="/tmp"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def proc_status(path):
    out = {}
    for line in Path(path).read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.split()
    return out


def unit_as_setpriv(idt_bin):
    """The privilege settings of the shipped unit (User, Group,
    AmbientCapabilities, CapabilityBoundingSet, NoNewPrivileges of the
    generated conf/ipsecdiagtool.service), as a setpriv(1) command prefix:
    what systemd does to the process before exec, without systemd."""
    unit = Path(idt_bin).parent / "conf" / "ipsecdiagtool.service"
    if not unit.is_file():
        pytest.fail("%s does not exist: `make` generates it" % unit, pytrace=False)
    svc, section = {}, None
    for line in unit.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            svc[k] = v
    def caps(key):
        names = [c.lower().replace("cap_", "", 1) for c in svc[key].split()]
        return "-all" + "".join(",+" + c for c in names)
    cmd = [_tool("setpriv"), "--reuid", svc["User"], "--regid", svc["Group"], "--init-groups",
           "--inh-caps", caps("AmbientCapabilities"),
           "--ambient-caps", caps("AmbientCapabilities"),
           "--bounding-set", caps("CapabilityBoundingSet")]
    if svc.get("NoNewPrivileges") == "yes":
        cmd.append("--no-new-privs")
    return cmd


@pytest.mark.parametrize("how", ["root", "unit"])
def test_least_privilege(idt_bin, open_workdir, net, service_user, how):
    """The running daemon holds CAP_NET_RAW and nothing else (effective,
    permitted, bounding; no inheritable, no ambient), NoNewPrivs 1, as the
    service user, in every thread: started by hand as root (it drops by
    itself) and started with the shipped unit's settings.  Capture, a
    capture reopened after its interface came back, and MTU discovery all
    work so: nothing needs more (CAP_NET_ADMIN in particular)."""
    _require("setpriv")
    uid, gid = service_user.pw_uid, service_user.pw_gid
    assert uid != 0 and gid != 0
    net.up(far_mtu=FAR_MTU)
    env = SnmpEnv(open_workdir / "snmp", idt_bin,
                  config([TA, TB], mtu={"alpha": mtu_block(timeout=0.5, retries=2)}),
                  netns=net.ns, start_agent=False)
    env.env.pop("IDT_NO_PRIVDROP", None)
    with env:
        os.chmod(env.dir, 0o755)
        if how == "unit":           # the subagent only; snmpd and snmptrapd run as before
            prefix = [_tool("ip"), "netns", "exec", net.ns] + unit_as_setpriv(idt_bin)
            env._prefix = lambda: prefix
            # the clients run so too: give them a MIB copy they can read
            # wherever the checkout is (a 0700 home or mktemp dir)
            mibs = open_workdir / "mibs"
            shutil.copytree(MIBDIR, mibs)
            env.mibpath = env.mibpath.replace(str(MIBDIR), str(mibs))
        env.start_agent()
        pid = env.agent.pid
        assert os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(idt_bin)
        dropped = "dropped privileges to user %s (keeping CAP_NET_RAW)" % SERVICE_USER
        assert (dropped in env.agent_text()) == (how == "root"), env.agent_text()

        def check_creds(where):
            tasks = sorted(os.listdir("/proc/%d/task" % pid))
            assert len(tasks) >= 2, tasks        # main + capture thread at least
            for tid in tasks:
                try:
                    st = proc_status("/proc/%d/task/%s/status" % (pid, tid))
                except FileNotFoundError:
                    continue                     # a finished worker
                what = "%s, thread %s" % (where, tid)
                assert st["Uid"] == [str(uid)] * 4, (what, st["Uid"])
                assert st["Gid"] == [str(gid)] * 4, (what, st["Gid"])
                for k in ("CapEff", "CapPrm", "CapBnd"):
                    assert st[k] == ["%016x" % CAPS_KEPT], (what, k, st[k])
                assert st["CapInh"] == ["0" * 16], (what, st["CapInh"])
                assert st["CapAmb"] == ["0" * 16], (what, st["CapAmb"])
                assert st["NoNewPrivs"] == ["1"], (what, st["NoNewPrivs"])
            return tasks

        check_creds("after start")
        st = proc_status("/proc/%d/status" % pid)
        assert st["CapEff"] == ["0000000000002000"] and st["CapBnd"] == ["0000000000002000"]
        assert st["NoNewPrivs"] == ["1"]

        # capture works as the service user
        b1 = list(range(1, 41))
        ((n1, l1),) = model([b1])
        net.replay(net.write_pcap(open_workdir / "r1.pcap", b1))
        wait_counter(env, "InPkts", 1, n1)
        assert get_num(env, "LostPkts", 1) == l1 == 0

        # the capture is opened again, unprivileged, when its interface comes back
        net.ip(net.ns, "link", "del", "vA")
        wait_for(lambda: "capture on vB failed" in env.agent_text(), 10, step=0.2,
                 what="the 'capture on vB failed' log line")
        net.ip(net.ns, "link", "add", "vA", "type", "veth", "peer", "name", "vB")
        for dev in ("vA", "vB"):
            net.ip(net.ns, "link", "set", dev, "up")
        info = json.loads(net.ip(net.ns, "-j", "link", "show").stdout)
        macs = {d["ifname"]: bytes.fromhex(d["address"].replace(":", "")) for d in info}
        net.mac_a, net.mac_b = macs["vA"], macs["vB"]
        wait_for(lambda: "capture on vB resumed" in env.agent_text(), 15, step=0.2,
                 what="the 'capture on vB resumed' log line")
        b2 = list(range(41, 61))
        ((_, _), (n2, l2)) = model([b1, b2])
        net.replay(net.write_pcap(open_workdir / "r2.pcap", b2))
        wait_counter(env, "InPkts", 1, n2)
        assert get_num(env, "LostPkts", 1) == l2 == 0

        # MTU discovery is accepted and its raw socket works: the path
        # f0 -> f1 has MTU 1400 on both links, so the answer is 1400
        p = env.set(M + "ipsecDiagTunnelMtuDiscover.1", "i", 2)
        assert p.returncode == 0, p.stdout + p.stderr
        wait_for(lambda: env.get(M + "ipsecDiagTunnelMtuStatus.1") in ("succeeded", "failed"), 20,
                 step=0.3, what="MTU discovery to finish")
        assert env.get(M + "ipsecDiagTunnelMtuStatus.1") == "succeeded", env.agent_text()
        assert get_num(env, "Mtu", 1) == FAR_MTU
        assert "cannot open raw" not in env.agent_text()
        check_creds("after the capture reopened and MTU discovery")

        assert env.stop_agent(signal.SIGTERM, timeout=5) == 0


# --------------------------------------------------------------------- 4

def same_binary(pid, idt_bin):
    try:
        return os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(idt_bin)
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_while_capturing_and_probing(idt_bin, workdir, net, sig):
    net.up(far_drops_icmp=True)
    env = SnmpEnv(workdir / "snmp", idt_bin,
                  config([TA], mtu={"alpha": mtu_block(timeout=2.0, retries=2)}),
                  netns=net.ns, start_agent=False)
    pidfile = workdir / "ipsecdiagtool.pid"
    replay_box = []
    try:
        _signal_run(idt_bin, workdir, net, env, pidfile, sig, lambda r: replay_box.append(r))
    finally:
        for r in replay_box:
            if r.poll() is None:
                r.terminate()
                r.wait(10)


def _signal_run(idt_bin, workdir, net, env, pidfile, sig, keep):
    with env:
        env.start_agent(["-p", str(pidfile)])
        pid = env.agent.pid
        assert same_binary(pid, idt_bin)
        # written right after the AgentX registration, which wait_registered saw
        wait_for(lambda: pidfile.exists() and pidfile.read_text().endswith("\n"), 5,
                 step=0.05, what="pidfile")
        assert pidfile.read_text() == "%d\n" % pid

        # ~6 s of traffic in the background
        replay = net.replay_bg(net.write_pcap(workdir / "long.pcap", range(1, 3001), gap_us=2000))
        keep(replay)
        p = env.set(M + "ipsecDiagTunnelMtuDiscover.1", "i", 2)
        assert p.returncode == 0, p.stdout + p.stderr
        wait_for(lambda: env.get(M + "ipsecDiagTunnelMtuStatus.1") == "running", 5, step=0.2,
                 what="MTU discovery running")
        wait_for(lambda: get_num(env, "InPkts", 1) > 0, 5, step=0.2, what="capture counting")
        time.sleep(0.5)         # the prober is now waiting inside a 2 s round
        assert replay.poll() is None, "tcpreplay finished too early for the test"
        assert env.get(M + "ipsecDiagTunnelMtuStatus.1") == "running"
        assert "mtu discovery started on tunnel alpha" in env.agent_text()
        tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
        # main, capture, prober scheduler and the running worker
        assert len(tids) >= 4, tids

        t0 = time.monotonic()
        env.agent.send_signal(sig)
        try:
            rc = env.agent.wait(2.0)
        except subprocess.TimeoutExpired:
            raise AssertionError("no exit within 2 s of signal %d\n%s" % (sig, env.agent_text()))
        elapsed = time.monotonic() - t0
        env.agent = None
        assert rc == 0, env.agent_text()
        assert elapsed < 2.0
        replay_running = replay.poll() is None
        assert replay_running, "the shutdown did not happen while traffic was being replayed"

        assert not pidfile.exists(), "pidfile left behind"
        assert not os.path.exists("/proc/%d" % pid)
        for tid in tids:
            assert not same_binary(tid, idt_bin) or not os.path.exists("/proc/%d" % tid), \
                "thread %d of the daemon is still there" % tid
        strays = [q for q in net.netns_pids() if same_binary(q, idt_bin)]
        assert strays == [], "stray ipsecdiagtool processes: %s" % strays
        text = env.agent_text()
        assert "signal %d: shutting down" % int(sig) in text, text
        assert text.rstrip().splitlines()[-1].endswith("stopped"), text
