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
import subprocess

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
                         r"\(rounds=(\d+) probes=(\d+)\)$", re.M)


def _require_prereqs():
    if os.geteuid() != 0:
        pytest.fail("test_prober_netns needs root (network namespaces, raw sockets)",
                    pytrace=False)
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            pytest.fail("test_prober_netns needs '%s' (Debian packages iproute2, nftables)"
                        % tool, pytrace=False)


from snmpenv import sh, tool as _tool  # noqa: E402  (shared helpers)


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
    fail = {m.group(1): m.group(2) for m in RESULT_FAIL.finditer(out)}
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
    assert re.search(r"^round 1: sent \d+, answered \d+:", r.stdout, re.M), explain(r)


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
    assert fail.get("t1") == "target unreachable or tunnel down", explain(r)


def test_unknown_tunnel_and_tunnel_without_mtu_block(idt_bin, workdir):
    """Bad names exit with 2 before any probe is sent (no namespace needed)."""
    conf = write_conf(workdir, nomtu=True)
    for name in ("nosuchtunnel", "plain"):
        r = subprocess.run([idt_bin, "interactive", "-c", str(conf), "--mtu", name],
                           capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert r.returncode == 2, explain(r)
        assert name in r.stderr, explain(r)
