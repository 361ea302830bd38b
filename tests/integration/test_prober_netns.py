"""MTU prober (src/prober.c) end to end, in network namespaces.

Drives the real binary in foreground mode
(``ipsecdiagtool interactive -c CONF --mtu [TUNNEL]``) inside a namespace
and checks the discovered MTU against values derived by hand from the
set-up.  No IPsec is needed: the prober only needs a path from mtu.source
to mtu.target.  Probes only ever go to addresses inside the namespaces
created here.

Topologies (all interfaces are created directly inside their namespaces,
nothing appears in the root namespace; names carry the pid and a counter):

routed:   A a0 10.77.1.1/24 fd77:1::1/64 -- m1 M m2 -- b0 B 10.77.2.1/24 fd77:2::1/64
          (M forwards, 10.77.1.254 / 10.77.2.254, fd77:1::fe / fd77:2::fe)
bridged:  A a0 10.77.1.1/24 -- m1 [br0 in M] m2 -- b0 B 10.77.1.2/24
          (M only bridges; an nftables bridge filter can black-hole packets)

Requires root (CAP_NET_ADMIN for the namespaces, CAP_NET_RAW for the
prober), iproute2 and nftables.  A missing prerequisite FAILS the test.
"""
import itertools
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

RUN_TIMEOUT = 120
_counter = itertools.count()

# Tunnel blocks used by the tests.  timeout is per round; the tests' paths
# have sub-millisecond latency.
CONF_TEMPLATE = """
tunnels = (
  { name = "t1"; index = 1; local = "192.0.2.1"; remote = "192.0.2.2";
    mtu: { source = "10.77.1.1"; target = "%(target4)s"; min = 576; max = 1500;
           probes = 16; timeout = 0.5; retries = 2; interval = 0; }; }%(more)s
);
"""
T6_BLOCK = """,
  { name = "t6"; index = 6; local = "192.0.2.1"; remote = "192.0.2.3";
    mtu: { source = "fd77:1::1"; target = "fd77:2::1"; min = 1280; max = 1500;
           probes = 16; timeout = 0.5; retries = 2; interval = 0; }; }"""
T_NOMTU_BLOCK = """,
  { name = "plain"; index = 9; local = "192.0.2.1"; remote = "192.0.2.9"; }"""

RESULT_OK = re.compile(r"^mtu discovered on tunnel (\S+): mtu=(\d+) previous=(\S+) "
                       r"rounds=(\d+) probes=(\d+) time=[0-9.]+s$", re.M)
RESULT_FAIL = re.compile(r"^mtu discovery failed on tunnel (\S+): (.*) "
                         r"\(reason=(\w+) rounds=(\d+) probes=(\d+)\)$", re.M)


def _require_prereqs():
    if os.geteuid() != 0:
        pytest.fail("test_prober_netns needs root (network namespaces, raw sockets)",
                    pytrace=False)
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            pytest.fail("test_prober_netns needs '%s' (Debian packages iproute2, nftables)"
                        % tool, pytrace=False)


from snmpenv import SnmpEnv, sh, tool as _tool  # noqa: E402  (shared helpers)
import live_helpers as H  # noqa: E402


class Net:
    """A set of namespaces that is always torn down (see the fixtures)."""

    def __init__(self, kind):
        n = next(_counter)
        self.prefix = "idtpr%d-%d" % (os.getpid(), n)
        self.a, self.m, self.b = (self.prefix + x for x in ("a", "m", "b"))
        self.kind = kind
        self.created = []

    # -- helpers
    def ip(self, ns, *args):
        return sh(_tool("ip"), "-n", ns, *args)

    def exec(self, ns, *args, check=True, timeout=60):
        r = subprocess.run([_tool("ip"), "netns", "exec", ns] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("command failed in %s (%d): %s\n%s%s"
                                 % (ns, r.returncode, " ".join(map(str, args)),
                                    r.stdout, r.stderr))
        return r

    def nft(self, ns, ruleset):
        sh(_tool("ip"), "netns", "exec", ns, _tool("nft"), "-f", "-", input=ruleset)

    def set_mtu(self, ns, dev, mtu):
        self.ip(ns, "link", "set", dev, "mtu", mtu)

    # -- set-up / tear-down
    def up(self):
        for ns in (self.a, self.m, self.b):
            sh(_tool("ip"), "netns", "add", ns)
            self.created.append(ns)
            self.ip(ns, "link", "set", "lo", "up")
        self.ip(self.a, "link", "add", "a0", "type", "veth", "peer", "name", "m1",
                "netns", self.m)
        self.ip(self.b, "link", "add", "b0", "type", "veth", "peer", "name", "m2",
                "netns", self.m)
        if self.kind == "routed":
            self.ip(self.a, "addr", "add", "10.77.1.1/24", "dev", "a0")
            self.ip(self.a, "addr", "add", "fd77:1::1/64", "dev", "a0", "nodad")
            self.ip(self.m, "addr", "add", "10.77.1.254/24", "dev", "m1")
            self.ip(self.m, "addr", "add", "fd77:1::fe/64", "dev", "m1", "nodad")
            self.ip(self.m, "addr", "add", "10.77.2.254/24", "dev", "m2")
            self.ip(self.m, "addr", "add", "fd77:2::fe/64", "dev", "m2", "nodad")
            self.ip(self.b, "addr", "add", "10.77.2.1/24", "dev", "b0")
            self.ip(self.b, "addr", "add", "fd77:2::1/64", "dev", "b0", "nodad")
        else:
            self.ip(self.m, "link", "add", "br0", "type", "bridge")
            self.ip(self.m, "link", "set", "m1", "master", "br0")
            self.ip(self.m, "link", "set", "m2", "master", "br0")
            self.ip(self.m, "link", "set", "br0", "up")
            self.ip(self.a, "addr", "add", "10.77.1.1/24", "dev", "a0")
            self.ip(self.b, "addr", "add", "10.77.1.2/24", "dev", "b0")
        for ns, dev in ((self.a, "a0"), (self.m, "m1"), (self.m, "m2"), (self.b, "b0")):
            self.ip(ns, "link", "set", dev, "up")
        if self.kind == "routed":
            self.ip(self.a, "route", "add", "default", "via", "10.77.1.254")
            self.ip(self.a, "-6", "route", "add", "default", "via", "fd77:1::fe")
            self.ip(self.b, "route", "add", "default", "via", "10.77.2.254")
            self.ip(self.b, "-6", "route", "add", "default", "via", "fd77:2::fe")
            self.exec(self.m, "sysctl", "-qw", "net.ipv4.ip_forward=1",
                      "net.ipv6.conf.all.forwarding=1")
            self.wait_ping("10.77.2.1")
            self.wait_ping("fd77:2::1")
        else:
            self.wait_ping("10.77.1.2")

    def wait_ping(self, target):
        """The path must work before probing (neighbour discovery, bridge STP-less forwarding)."""
        for _ in range(20):
            r = self.exec(self.a, "ping", "-c", "1", "-W", "1", target, check=False)
            if r.returncode == 0:
                return
        raise AssertionError("set-up: %s does not answer ping from %s" % (target, self.a))

    def down(self):
        for ns in reversed(self.created):
            subprocess.run([_tool("ip"), "netns", "del", ns], capture_output=True)
        self.created = []


@pytest.fixture
def routed():
    _require_prereqs()
    net = Net("routed")
    try:
        net.up()
        yield net
    finally:
        net.down()


@pytest.fixture
def bridged():
    _require_prereqs()
    net = Net("bridged")
    try:
        net.up()
        yield net
    finally:
        net.down()


def write_conf(workdir, target4="10.77.2.1", v6=False, nomtu=False):
    more = (T6_BLOCK if v6 else "") + (T_NOMTU_BLOCK if nomtu else "")
    path = workdir / "prober.conf"
    path.write_text(CONF_TEMPLATE % {"target4": target4, "more": more})
    return path


def run_mtu(idt_bin, net, conf, *tunnel):
    r = net.exec(net.a, idt_bin, "interactive", "-c", conf, "--mtu", *tunnel,
                 check=False, timeout=RUN_TIMEOUT)
    return r


def results(out):
    ok = {m.group(1): (int(m.group(2)), m.group(3), int(m.group(4)), int(m.group(5)))
          for m in RESULT_OK.finditer(out)}
    fail = {m.group(1): (m.group(2), m.group(3)) for m in RESULT_FAIL.finditer(out)}
    return ok, fail


def explain(r):
    return "rc=%d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout, r.stderr)


# --------------------------------------------------------------------- tests

def test_router_egress_mtu_frag_needed(idt_bin, routed, workdir):
    """M's link towards B has MTU 1360: M answers bigger DF probes with
    frag-needed (mtu 1360); 1360-byte packets pass.  Expected: 1360."""
    routed.set_mtu(routed.m, "m2", 1360)
    routed.set_mtu(routed.b, "b0", 1360)
    conf = write_conf(workdir)
    r = run_mtu(idt_bin, routed, conf, "t1")
    ok, fail = results(r.stdout)
    assert r.returncode == 0, explain(r)
    assert ok.get("t1", (None,))[0] == 1360, explain(r)
    mtu, previous, rounds, probes = ok["t1"]
    assert previous == "none"
    assert rounds >= 1 and probes >= rounds
    # the router's frag-needed was seen and used as a hint
    assert "10.77.1.254 reports mtu 1360 (hint)" in r.stdout, explain(r)
    # every round is shown
    m = re.search(r"^round 1: (\d+) sizes, sent (\d+), answered (\d+)((?:, \d+ [a-zA-Z ]+)*):"
                  r"((?: \d+[-+!x?])+)$", r.stdout, re.M)
    assert m, explain(r)
    # the counts add up to the marks listed (no local limit, no send error here)
    marks = [x[-1] for x in m.group(5).split()]
    assert int(m.group(1)) == len(marks), m.group(0)
    assert int(m.group(2)) == marks.count("+") + marks.count("-"), m.group(0)
    assert int(m.group(3)) == marks.count("+"), m.group(0)
    assert "+ answered, - sent, no answer" in r.stdout.splitlines()[0], explain(r)


def test_local_interface_mtu_emsgsize(idt_bin, routed, workdir):
    """The prober's own interface has MTU 1418: larger probes fail locally
    with EMSGSIZE and the interface MTU is read from the error queue.
    The rest of the path carries 1500.  Expected: 1418."""
    routed.set_mtu(routed.a, "a0", 1418)
    routed.set_mtu(routed.m, "m1", 1418)
    conf = write_conf(workdir)
    r = run_mtu(idt_bin, routed, conf, "t1")
    ok, _ = results(r.stdout)
    assert r.returncode == 0, explain(r)
    assert ok.get("t1", (None,))[0] == 1418, explain(r)
    assert "local interface mtu 1418" in r.stdout, explain(r)
    # sizes over 1418 are listed with '!' and counted as not sent
    over = [(int(m.group(1)), int(m.group(2)), m.group(3))
            for m in re.finditer(r"^round \d+: \d+ sizes, sent (\d+), answered \d+, "
                                 r"(\d+) over the local MTU[^:]*:(.*)$", r.stdout, re.M)]
    assert over, explain(r)
    for sent, n_over, sizes in over:
        marks = sizes.split()
        assert n_over == sum(1 for x in marks if x.endswith("!")), (n_over, sizes)
        assert all(int(x[:-1]) > 1418 for x in marks if x.endswith("!")), sizes
        assert sent == sum(1 for x in marks if x[-1] in "+-"), (sent, sizes)


def test_all_tunnels_ipv4_and_ipv6_packet_too_big(idt_bin, routed, workdir):
    """--mtu without a name probes every tunnel with an mtu block (and
    skips the one without).  M's link to B has MTU 1360 for both families:
    ICMPv6 packet-too-big for t6.  Expected: 1360 for t1 and t6."""
    routed.set_mtu(routed.m, "m2", 1360)
    routed.set_mtu(routed.b, "b0", 1360)
    conf = write_conf(workdir, v6=True, nomtu=True)
    r = run_mtu(idt_bin, routed, conf)
    ok, fail = results(r.stdout)
    assert r.returncode == 0, explain(r)
    assert not fail, explain(r)
    assert ok.get("t1", (None,))[0] == 1360, explain(r)
    assert ok.get("t6", (None,))[0] == 1360, explain(r)
    assert "plain" not in ok
    assert "fd77:1::fe reports mtu 1360 (hint)" in r.stdout, explain(r)


def test_black_hole_exact(idt_bin, bridged, workdir):
    """The bridge in M silently drops IPv4 packets longer than 1200 bytes
    (no ICMP at all).  Only real replies can find it.  Expected: 1200."""
    bridged.nft(bridged.m, """
table bridge idtprobe {
  chain pfwd {
    type filter hook forward priority 0;
    ip length > 1200 drop
  }
}
""")
    conf = write_conf(workdir, target4="10.77.1.2")
    r = run_mtu(idt_bin, bridged, conf, "t1")
    ok, _ = results(r.stdout)
    assert r.returncode == 0, explain(r)
    assert ok.get("t1", (None,))[0] == 1200, explain(r)
    assert "reports mtu" not in r.stdout, explain(r)


def test_target_not_answering_fails(idt_bin, bridged, workdir):
    """The target drops every ICMP packet: discovery fails with the
    documented reason and exit code 1."""
    bridged.nft(bridged.b, """
table inet idtprobe {
  chain pin {
    type filter hook input priority 0;
    meta l4proto { icmp, ipv6-icmp } drop
  }
}
""")
    conf = write_conf(workdir, target4="10.77.1.2")
    r = run_mtu(idt_bin, bridged, conf, "t1")
    ok, fail = results(r.stdout)
    assert r.returncode == 1, explain(r)
    assert not ok, explain(r)
    assert fail.get("t1") == ("target unreachable or tunnel down", "noReply"), explain(r)


def test_fail_reasons_local_limit_and_socket(idt_bin, routed, workdir):
    """Two more failure paths of src/probe.c, each with its reason name:
    A's interface MTU 1000 is below mtu.min 1280 (localLimit), and an
    mtu.source that is not an address of A cannot be bound (socketError,
    EADDRNOTAVAIL; nothing is sent)."""
    routed.set_mtu(routed.a, "a0", 1000)
    conf = workdir / "reasons.conf"
    conf.write_text("""
tunnels = (
  { name = "small"; index = 1; local = "192.0.2.1"; remote = "192.0.2.2";
    mtu: { source = "10.77.1.1"; target = "10.77.2.1"; min = 1280; max = 1500;
           probes = 8; timeout = 0.5; retries = 1; }; },
  { name = "nosrc"; index = 2; local = "192.0.2.1"; remote = "192.0.2.3";
    mtu: { source = "10.77.1.77"; target = "10.77.2.1"; min = 576; max = 1500;
           probes = 8; timeout = 0.5; retries = 1; }; }
);
""")
    r = run_mtu(idt_bin, routed, conf)
    ok, fail = results(r.stdout)
    assert r.returncode == 1 and not ok, explain(r)
    assert fail.get("small") == ("local interface mtu 1000 is below mtu.min 1280",
                                 "localLimit"), explain(r)
    assert fail.get("nosrc", ("", ""))[1] == "socketError", explain(r)
    assert fail["nosrc"][0].startswith("cannot bind to mtu.source 10.77.1.77: "), explain(r)


def test_unknown_tunnel_and_tunnel_without_mtu_block(idt_bin, workdir):
    """Bad names exit with 2 before any probe is sent (no namespace needed)."""
    conf = write_conf(workdir, nomtu=True)
    for name in ("nosuchtunnel", "plain"):
        r = subprocess.run([idt_bin, "interactive", "-c", str(conf), "--mtu", name],
                           capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert r.returncode == 2, explain(r)
        assert name in r.stderr, explain(r)


# ------------------------------------------------- the daemon, through SNMP
# ipsecdiagtool run + a real snmpd (+ snmptrapd) inside namespace A of the
# routed topology; read and set with the net-snmp clients by numeric OID.
# Column numbers and enum values are hand-copied from mibs/IPSECDIAG-MIB.txt
# (live_helpers.py).

SNMP_TUNNELS = """
  { name = "t1"; index = 1; local = "192.0.2.1"; remote = "192.0.2.2";
    mtu: { source = "10.77.1.1"; target = "10.77.2.1"; min = 576; max = 1500;
           probes = 16; timeout = 0.5; retries = 2; }; },
  { name = "slow"; index = 3; local = "192.0.2.1"; remote = "192.0.2.3";
    mtu: { source = "10.77.1.1"; target = "10.77.2.1"; min = 576; max = 1500;
           probes = 4; timeout = 1.0; retries = 3; }; },
  { name = "plain"; index = 9; local = "192.0.2.1"; remote = "192.0.2.9"; }"""
SNMP_TUNNELS_NO_MTU = """
  { name = "t1"; index = 1; local = "192.0.2.1"; remote = "192.0.2.2"; },
  { name = "plain"; index = 9; local = "192.0.2.1"; remote = "192.0.2.9"; }"""
SYSUPTIME = ".1.3.6.1.2.1.1.3.0"
DISCOVER_ALL = H.GLOBALS + ".7.0"


def daemon_conf(tunnels):
    return ('capture: { interface = "a0"; };\n'
            "tunnels = (%s\n);\n" % tunnels)


def col(env, name, index):
    return H.tunnel_col(env, name, index)


def set_start(env, oid):
    return env.set(oid, "i", 2, mibs=False)


def discover_oid(index):
    return "%s.%d.%d" % (H.TUNNEL_ENTRY, H.TUNNEL_COLS["MtuDiscover"], index)


def wait_ended(env, index, runs_before, timeout=40):
    """Until ipsecDiagTunnelMtuRuns.index passes runs_before; the status then."""
    H.wait_until(lambda: col(env, "MtuRuns", index) > runs_before, timeout, step=0.2,
                 what="MtuRuns.%d > %d" % (index, runs_before))
    return col(env, "MtuStatus", index)


def blackhole_b(net):
    """B drops every ICMP packet: probes get neither replies nor errors."""
    net.nft(net.b, """
table inet idtprobe {
  chain pin {
    type filter hook input priority 0;
    meta l4proto { icmp, ipv6-icmp } drop
  }
}
""")


def test_snmp_results_counters_and_refusals(idt_bin, routed, workdir):
    """One daemon: a notConfigured row and its refused SET (CLI text too),
    a success then a failure on t1 (Runs/Failures/FailReason/LastSuccess,
    the failure notification's reason), ProbesSent moving during a long
    run, a SET during that run (no second run), and after a reload
    without mtu blocks ipsecDiagMtuDiscoverAll refused."""
    routed.set_mtu(routed.m, "m2", 1360)
    routed.set_mtu(routed.b, "b0", 1360)
    with SnmpEnv(workdir / "snmp", idt_bin, daemon_conf(SNMP_TUNNELS), netns=routed.a) as env:
        # --- initial rows (values from the config above)
        assert col(env, "MtuStatus", 1) == H.MTU_NEVERRUN
        assert col(env, "MtuFailReason", 1) == H.FAIL_NONE
        assert col(env, "MtuTargetAddrType", 1) == 1                 # ipv4
        assert str(col(env, "MtuTargetAddr", 1)).strip() == H.hexaddr("10.77.2.1")
        for c in ("MtuRuns", "MtuFailures", "MtuLastSuccess", "MtuLastRun", "MtuProbesSent"):
            assert col(env, c, 1) == 0, c
        assert col(env, "MtuStatus", 9) == H.MTU_NOTCONFIGURED
        assert col(env, "MtuFailReason", 9) == H.FAIL_NOTARGET
        assert col(env, "MtuTargetAddrType", 9) == 0                 # unknown
        assert col(env, "MtuTargetAddr", 9) == ""

        # --- start(2) on the row without mtu block: inconsistentValue, nothing changes
        p = set_start(env, discover_oid(9))
        assert p.returncode != 0 and "inconsistentValue" in p.stdout + p.stderr, p.stdout + p.stderr
        assert col(env, "MtuStatus", 9) == H.MTU_NOTCONFIGURED
        assert col(env, "MtuRuns", 9) == 0
        # the CLI names the reason (src/mtu_cli.c)
        cli_conf = workdir / "cli.conf"
        cli_conf.write_text(daemon_conf(SNMP_TUNNELS))
        r = routed.exec(routed.a, idt_bin, "mtu-discovery", "--config", cli_conf, "-v2c", "-c",
                        "private", "127.0.0.1:%d" % env.port, "plain", check=False)
        assert r.returncode == 1, explain(r)
        assert "inconsistentValue" in r.stderr and "notConfigured" in r.stderr, explain(r)

        # --- success: M's link to B has MTU 1360 (see test_router_egress_mtu_frag_needed)
        assert set_start(env, discover_oid(1)).returncode == 0
        assert wait_ended(env, 1, 0) == H.MTU_SUCCEEDED, env.agent_text()[-2000:]
        assert col(env, "Mtu", 1) == 1360
        assert (col(env, "MtuRuns", 1), col(env, "MtuFailures", 1)) == (1, 0)
        assert col(env, "MtuFailReason", 1) == H.FAIL_NONE
        success = col(env, "MtuLastSuccess", 1)
        uptime = H.get_numeric(env, SYSUPTIME)
        assert 0 < success <= uptime, (success, uptime)
        assert col(env, "MtuLastRun", 1) == success
        probes_ok = col(env, "MtuProbesSent", 1)
        assert probes_ok > 0

        # --- failure: B drops ICMP -> noReply; LastSuccess and Mtu stay
        blackhole_b(routed)
        assert set_start(env, discover_oid(1)).returncode == 0
        assert wait_ended(env, 1, 1) == H.MTU_FAILED, env.agent_text()[-2000:]
        assert (col(env, "MtuRuns", 1), col(env, "MtuFailures", 1)) == (2, 1)
        assert col(env, "MtuFailReason", 1) == H.FAIL_NOREPLY
        assert col(env, "MtuLastSuccess", 1) == success
        assert col(env, "MtuLastRun", 1) > success
        assert col(env, "Mtu", 1) == 1360
        assert col(env, "MtuProbesSent", 1) > probes_ok
        assert re.search(r"mtu discovery failed on tunnel t1: target unreachable or tunnel down "
                         r"\(reason=noReply rounds=\d+ probes=\d+\)", env.agent_text())
        # the failure notification: MtuStatus failed(4), then FailReason noReply(2)
        st_oid = "%s.17.1" % H.TUNNEL_ENTRY
        why_oid = "%s.27.1" % H.TUNNEL_ENTRY
        H.wait_until(lambda: H.traps_of(env, H.TRAP_MTU_FAILED), 10, what="MtuDiscoveryFailed")
        trap = H.traps_of(env, H.TRAP_MTU_FAILED)[-1]
        assert H.trap_int(trap[st_oid]) == H.MTU_FAILED, trap
        assert H.trap_int(trap[why_oid]) == H.FAIL_NOREPLY, trap

        # --- a long run (no replies, 1 s rounds): ProbesSent moves while running;
        # a start(2) during the run is accepted and queues no second run
        assert set_start(env, discover_oid(3)).returncode == 0
        seen = []
        second_set = None
        while True:
            st = col(env, "MtuStatus", 3)
            n = col(env, "MtuProbesSent", 3)
            if st != H.MTU_RUNNING:
                break
            seen.append(n)
            if second_set is None and n > 0:
                second_set = set_start(env, discover_oid(3))
            time.sleep(0.25)
        assert st == H.MTU_FAILED, env.agent_text()[-2000:]
        assert second_set is not None and second_set.returncode == 0, second_set
        moving = sorted(set(x for x in seen if x > 0))
        assert len(moving) >= 2, seen                      # at least two rounds reported
        assert seen == sorted(seen), seen                  # never decreases
        final = col(env, "MtuProbesSent", 3)
        assert final >= moving[-1]
        time.sleep(1.5)     # a second run would be running by now
        assert col(env, "MtuStatus", 3) == H.MTU_FAILED
        assert (col(env, "MtuRuns", 3), col(env, "MtuFailures", 3)) == (1, 1)
        assert col(env, "MtuProbesSent", 3) == final
        assert len(re.findall(r"mtu discovery started on tunnel slow", env.agent_text())) == 1

        # --- reload without any mtu block: every row notConfigured, and
        # ipsecDiagMtuDiscoverAll refused with inconsistentValue
        env.conf.write_text(daemon_conf(SNMP_TUNNELS_NO_MTU))
        env.agent.send_signal(signal.SIGHUP)
        H.wait_until(lambda: "configuration reloaded" in env.agent_text(), 10, what="reload")
        assert col(env, "MtuStatus", 1) == H.MTU_NOTCONFIGURED
        assert col(env, "MtuTargetAddrType", 1) == 0
        p = set_start(env, DISCOVER_ALL)
        assert p.returncode != 0 and "inconsistentValue" in p.stdout + p.stderr, p.stdout + p.stderr
        assert "ipsecDiagMtuDiscoverAll refused: no tunnel has an mtu block" in env.agent_text()
        # what the runs counted survives the reload (state kept by name)
        assert (col(env, "MtuRuns", 1), col(env, "MtuFailures", 1)) == (2, 1)
        assert env.agent.poll() is None
