"""The operator's first hour: conf/snmpd.conf.example and conf/ipsecdiagtool.conf
used exactly as shipped.

A real snmpd runs in a private network namespace with the example file as it
is in the source tree; the only change is the AgentX socket path (moved into
this test's directory).  It listens where the example says (UDP 161 on
127.0.0.1 and ::1 of the namespace).  The subagent runs with the shipped
default config; only the AgentX socket is given on the command line.

The expected OIDs do not come from the example file: the MIB root is what
snmptranslate (Net-SNMP) reads from mibs/IPSECDIAG-MIB.txt, the standard OIDs
are the well-known ones of SNMPv2-MIB and IF-MIB, and the replay window is
the default that ipsecdiagtool.conf(5) documents (64).
"""
import os
import re
import subprocess

import pytest

from snmpenv import SRCDIR, MIBDIR, ietf_mib_dir, sh, tool, wait_for

SYS_DESCR = ".1.3.6.1.2.1.1.1.0"     # SNMPv2-MIB::sysDescr.0, in the example's systemview
IF_NUMBER = ".1.3.6.1.2.1.2.1.0"     # IF-MIB::ifNumber.0, in no view of the example
DEFAULT_WINDOW = "64"                # loss.window default, ipsecdiagtool.conf(5)


def mib_root():
    p = sh(tool("snmptranslate"), "-M", "+%s:%s" % (ietf_mib_dir(), MIBDIR), "-m",
           "+IPSECDIAG-MIB", "-On", "IPSECDIAG-MIB::ipsecDiagMIB")
    root = p.stdout.strip()
    assert re.fullmatch(r"(\.\d+)+", root), p.stdout + p.stderr
    return root


class World:
    """snmpd (example config) + subagent (shipped config) in a namespace."""

    def __init__(self, workdir, idt_bin):
        self.dir = workdir
        self.ns = "idtex%d" % os.getpid()
        self.idt_bin = idt_bin
        self.sock = workdir / "agentx" / "master"
        self.snmpd = self.agent = None
        self.snmpd_log = workdir / "snmpd.log"
        self.agent_log = workdir / "agent.log"
        self.env = dict(os.environ, LC_ALL="C", HOME=str(workdir), IDT_NO_PRIVDROP="1")

    def start(self):
        example = (SRCDIR / "conf" / "snmpd.conf.example").read_text()
        conf, n = re.subn(r"^agentXSocket\s+unix:\S+$", "agentXSocket unix:%s" % self.sock,
                          example, flags=re.M)
        assert n == 1, "conf/snmpd.conf.example has no single 'agentXSocket unix:...' line"
        # the socket path is the one and only change
        assert [ln for ln in conf.splitlines() if ln not in example.splitlines()] == \
            ["agentXSocket unix:%s" % self.sock]
        (self.dir / "snmpd.conf").write_text(conf)
        (self.dir / "persist").mkdir()

        sh(tool("ip"), "netns", "add", self.ns)
        sh(tool("ip"), "-n", self.ns, "link", "set", "lo", "up")
        env = dict(self.env, SNMP_PERSISTENT_DIR=str(self.dir / "persist"), MIBS="",
                   MIBDIRS=ietf_mib_dir())
        self.snmpd = subprocess.Popen(
            self.prefix() + [tool("snmpd"), "-f", "-C", "-c", str(self.dir / "snmpd.conf"),
                             "-Lf", str(self.snmpd_log)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: self.sock.exists() or self.snmpd.poll() is not None, 10,
                 what="snmpd's AgentX socket")
        assert self.snmpd.poll() is None, "snmpd exited:\n" + self.snmpd_log.read_text()

        self.agent_out = open(self.agent_log, "ab")
        self.agent = subprocess.Popen(
            self.prefix() + [self.idt_bin, "run", "-f", "-c",
                             str(SRCDIR / "conf" / "ipsecdiagtool.conf"),
                             "-x", "unix:%s" % self.sock],
            env=self.env, stdout=self.agent_out, stderr=subprocess.STDOUT)
        wait_for(lambda: "connected to the master agent" in self.agent_log.read_text()
                 or self.agent.poll() is not None, 15, what="the subagent to connect")
        assert self.agent.poll() is None, "subagent exited:\n" + self.agent_log.read_text()

    def prefix(self):
        return ["ip", "netns", "exec", self.ns]

    def client(self, cmd, *args, community="public", host="udp:127.0.0.1:161"):
        return subprocess.run(
            self.prefix() + [tool(cmd), "-v2c", "-c", community, "-M",
                             "+%s:%s" % (ietf_mib_dir(), MIBDIR), "-m", "IPSECDIAG-MIB",
                             "-OU", "-t", "3", "-r", "1", host] + list(args),
            capture_output=True, text=True, timeout=60, env=self.env)

    def close(self):
        for p in (self.agent, self.snmpd):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.agent:
            self.agent_out.close()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)

    def logs(self):
        return "--- snmpd.log\n%s--- agent.log\n%s" % (
            self.snmpd_log.read_text() if self.snmpd_log.exists() else "",
            self.agent_log.read_text() if self.agent_log.exists() else "")


@pytest.fixture
def world(workdir, idt_bin):
    w = World(workdir, idt_bin)
    try:
        w.start()
        yield w
    finally:
        w.close()


def varbinds(out):
    """[(numeric oid, value)] of -On -Oq output."""
    res = []
    for ln in out.splitlines():
        oid, _, val = ln.partition(" ")
        res.append((oid, val.strip()))
    return res


def test_public_walks_the_whole_mib(world):
    root = mib_root()
    p = world.client("snmpwalk", "-On", "-Oq", root)
    assert p.returncode == 0, p.stdout + p.stderr + world.logs()
    # snmpwalk prints "No more variables left in this MIB View" when the
    # view ends; only as the first and only answer it means the MIB is hidden
    vbs = [(oid, v) for oid, v in varbinds(p.stdout) if not v.startswith("No more variables")]
    assert vbs, "the example's views hide the MIB (%s)\n%s" % (root, p.stdout)
    assert all(oid.startswith(root + ".") for oid, _ in vbs), p.stdout
    # ipsecDiagGlobals (root.1.1) is there, with the shipped config's window
    globals_ = dict((oid, v) for oid, v in vbs if oid.startswith(root + ".1.1."))
    assert globals_.get(root + ".1.1.6.0") == DEFAULT_WINDOW, p.stdout
    # and the symbolic walk the README and install(8) tell the operator to run
    p = world.client("snmpwalk", "IPSECDIAG-MIB::ipsecDiagGlobals")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines()[0].startswith("IPSECDIAG-MIB::ipsecDiagCapturedPkts.0 = "), p.stdout
    assert "IPSECDIAG-MIB::ipsecDiagReplayWindow.0 = Gauge32: 64\n" in p.stdout, p.stdout


def test_public_over_ipv6(world):
    root = mib_root()
    p = world.client("snmpget", "-On", "-Oqv", root + ".1.1.6.0", host="udp6:[::1]:161")
    assert p.returncode == 0 and p.stdout.strip() == DEFAULT_WINDOW, p.stdout + p.stderr


def test_views_restrict(world):
    # public: the system group, not the rest of MIB-2
    p = world.client("snmpget", "-On", "-Oq", SYS_DESCR, IF_NUMBER)
    vbs = dict(varbinds(p.stdout))
    assert not vbs[SYS_DESCR].startswith("No Such"), p.stdout
    assert vbs[IF_NUMBER].startswith("No Such Object"), p.stdout
    # private: the IPSECDIAG-MIB only
    root = mib_root()
    p = world.client("snmpget", "-On", "-Oq", SYS_DESCR, root + ".1.1.6.0", community="private")
    vbs = dict(varbinds(p.stdout))
    assert vbs[SYS_DESCR].startswith("No Such Object"), p.stdout
    assert vbs[root + ".1.1.6.0"] == DEFAULT_WINDOW, p.stdout


def test_private_may_set(world):
    """The write view covers the MIB: a start(2) of MTU discovery on all
    tunnels reaches the subagent, which refuses it because the shipped config
    has no tunnel with an mtu block (inconsistentValue), not the view
    (noAccess)."""
    p = world.client("snmpset", "IPSECDIAG-MIB::ipsecDiagMtuDiscoverAll.0", "i", "2",
                     community="private")
    assert p.returncode != 0, p.stdout + p.stderr
    assert "inconsistentValue" in p.stderr, p.stdout + p.stderr
    assert "noAccess" not in p.stderr and "notWritable" not in p.stderr, p.stderr
    # public has no write access at all
    p = world.client("snmpset", "IPSECDIAG-MIB::ipsecDiagMtuDiscoverAll.0", "i", "2")
    assert p.returncode != 0 and "inconsistentValue" not in p.stderr, p.stdout + p.stderr
