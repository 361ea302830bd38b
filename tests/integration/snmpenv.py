"""A private Net-SNMP world for the integration tests.

SnmpEnv starts a real snmpd as AgentX master (AgentX socket in a temp
dir, UDP on 127.0.0.1 and a free port, public/private communities, a
trap2sink), a real snmptrapd logging to a file, and our subagent
(`ipsecdiagtool run`) with a test config.  The real net-snmp clients are
used to query it.  Everything started is stopped in close(), even when a
test fails.
"""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SRCDIR = Path(os.environ.get("IDT_SRCDIR", Path(__file__).resolve().parents[2]))
MIBDIR = SRCDIR / "mibs"
ROOT = ".1.3.6.1.4.1.8072.9999.9999.4500"   # ipsecDiagMIB (hand-copied from the MIB)


def ietf_mib_dir():
    dirs = sorted(glob.glob("/usr/lib/erlang/lib/snmp-*/mibs"))
    if not dirs:
        raise RuntimeError("IETF base MIBs not found: apt-get install erlang-snmp")
    return dirs[-1]


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tool(name):
    """Path of a system tool (sbin is not always on PATH)."""
    return shutil.which(name) or "/usr/sbin/" + name


def sh(*args, input=None, check=True, timeout=60):
    """Run a command; on failure (check=True) raise with its output."""
    r = subprocess.run([str(a) for a in args], input=input, capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("command failed (%d): %s\nstdout: %s\nstderr: %s"
                             % (r.returncode, " ".join(map(str, args)), r.stdout, r.stderr))
    return r


def wait_for(pred, timeout, step=0.1, what="condition"):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


class SnmpEnv:
    def __init__(self, workdir, idt_bin, config_text, netns=None, traps=True, env=None,
                 ping_interval=None, start_agent=True, extra_snmpd_conf=""):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.idt_bin = idt_bin
        self.netns = netns
        self.port = free_udp_port()
        self.trap_port = free_udp_port() if traps else None
        self.sock = str(self.dir / "agentx.sock")
        self.conf = self.dir / "ipsecdiagtool.conf"
        self.write_conf(config_text)
        self.snmpd = self.trapd = self.agent = None
        self.snmpd_log = self.dir / "snmpd.log"
        self.trap_log = self.dir / "traps.log"
        self.agent_log = self.dir / "agent.log"
        self.extra_snmpd_conf = extra_snmpd_conf
        self.env = dict(env or os.environ)
        self.env["LC_ALL"] = "C"
        self.env["IDT_NO_PRIVDROP"] = "1"
        self.env.setdefault("HOME", str(self.dir))
        self.mibpath = "+%s:%s" % (ietf_mib_dir(), MIBDIR)
        self._start_agent = start_agent

    def write_conf(self, text):
        """Write the subagent's config; without a state group of its own, its
        state file goes to this test's directory (never the build default,
        which other tests and runs share)."""
        if not re.search(r"^\s*state\s*[:=]", text, re.M):
            text += '\nstate: { dir = "%s"; };\n' % (self.dir / "state")
        self.conf.write_text(text)

    # ------------------------------------------------------------ processes
    def _prefix(self):
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def start_snmpd(self):
        conf = self.dir / "snmpd.conf"
        lines = [
            "master agentx",
            "agentXSocket unix:%s" % self.sock,
            "agentXPerms 0777 0777",
            "rocommunity public 127.0.0.1",
            "rwcommunity private 127.0.0.1",
        ]
        if self.trap_port:
            lines.append("trap2sink 127.0.0.1:%d public" % self.trap_port)
        conf.write_text("\n".join(lines) + "\n" + self.extra_snmpd_conf)
        persist = self.dir / "persist"
        persist.mkdir(exist_ok=True)
        env = dict(self.env, SNMP_PERSISTENT_DIR=str(persist), MIBS="", MIBDIRS=ietf_mib_dir())
        self.snmpd = subprocess.Popen(
            self._prefix() + ["snmpd", "-f", "-C", "-c", str(conf), "-Lf", str(self.snmpd_log),
                              "-p", str(self.dir / "snmpd.pid"), "udp:127.0.0.1:%d" % self.port],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.sock), 10, what="snmpd AgentX socket")

    def stop_snmpd(self, sig=signal.SIGTERM):
        if self.snmpd and self.snmpd.poll() is None:
            self.snmpd.send_signal(sig)
            try:
                self.snmpd.wait(5)
            except subprocess.TimeoutExpired:
                self.snmpd.kill()
                self.snmpd.wait()
        self.snmpd = None
        if os.path.exists(self.sock):
            os.unlink(self.sock)

    def start_trapd(self):
        conf = self.dir / "snmptrapd.conf"
        conf.write_text("disableAuthorization yes\nauthCommunity log public\n")
        persist = self.dir / "tpersist"
        persist.mkdir(exist_ok=True)
        env = dict(self.env, SNMP_PERSISTENT_DIR=str(persist), MIBS="", MIBDIRS=ietf_mib_dir())
        self.trapd = subprocess.Popen(
            self._prefix() + ["snmptrapd", "-f", "-C", "-c", str(conf), "-On", "-Lf", str(self.trap_log),
                              "udp:127.0.0.1:%d" % self.trap_port],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: self.trap_log.exists() and "NET-SNMP version" in self.trap_log.read_text(),
                 10, what="snmptrapd start")

    def start_agent(self, extra_args=(), expect_ready=True):
        self.agent_out = open(self.agent_log, "ab")
        self.agent = subprocess.Popen(
            self._prefix() + [self.idt_bin, "run", "-f", "-c", str(self.conf), "-x",
                              "unix:%s" % self.sock] + list(extra_args),
            env=self.env, stdout=self.agent_out, stderr=subprocess.STDOUT)
        if expect_ready:
            self.wait_registered()

    def wait_registered(self, timeout=15):
        wait_for(lambda: self.get_raw(ROOT + ".1.1.6.0") is not None, timeout,
                 step=0.2, what="subagent registration")

    def stop_agent(self, sig=signal.SIGTERM, timeout=5):
        rc = None
        if self.agent and self.agent.poll() is None:
            self.agent.send_signal(sig)
            try:
                rc = self.agent.wait(timeout)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
                raise AssertionError("ipsecdiagtool did not exit within %ss of signal %d" % (timeout, sig))
        elif self.agent:
            rc = self.agent.returncode
        self.agent = None
        return rc

    def __enter__(self):
        try:
            if self.trap_port:
                self.start_trapd()
            self.start_snmpd()
            if self._start_agent:
                self.start_agent()
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        for stop in (self.stop_agent, self.stop_snmpd):
            try:
                stop()
            except Exception:
                pass
        if self.trapd and self.trapd.poll() is None:
            self.trapd.terminate()
            try:
                self.trapd.wait(5)
            except subprocess.TimeoutExpired:
                self.trapd.kill()
        self.trapd = None

    def __exit__(self, *exc):
        self.close()

    def agent_text(self):
        return self.agent_log.read_text(errors="replace") if self.agent_log.exists() else ""

    # ------------------------------------------------------------ clients
    def client(self, tool, *args, community="public", check=True, timeout=30, extra=(), mibs=True):
        mibopt = ["-M", self.mibpath, "-m", "+IPSECDIAG-MIB"] if mibs else ["-m", ""]
        cmd = self._prefix() + [tool, "-v2c", "-c", community] + mibopt + [
                                "-t", "3", "-r", "1"] + list(extra) + ["127.0.0.1:%d" % self.port] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d): %s %s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
        return p

    def get(self, name):
        """Value of one object as text (-Oqv), named like IPSECDIAG-MIB::ipsecDiagTunnelName.1."""
        return self.client("snmpget", "-OqvU", name).stdout.strip()

    def get_raw(self, oid):
        p = self.client("snmpget", "-Oqv", "-On", oid, check=False, timeout=10)
        out = p.stdout.strip()
        if p.returncode != 0 or not out or out.startswith("No Such"):
            return None
        return out

    def walk(self, name, bulk=False):
        """{oid-suffix-name: value} of a walk, names symbolic without module prefix."""
        p = self.client("snmpbulkwalk" if bulk else "snmpwalk", "-OqsU", name)
        res = {}
        for line in p.stdout.splitlines():
            if not line.strip():
                continue
            k, _, v = line.partition(" ")
            if v.startswith("No Such") or v.startswith("No more variables"):
                continue
            res[k] = v.strip()
        return res

    def set(self, name, typ, value, community="private", mibs=True):
        return self.client("snmpset", name, typ, str(value), community=community, check=False, mibs=mibs)

    def traps(self):
        """Parsed notifications from snmptrapd's log: list of {oid: value} dicts."""
        if not self.trap_log.exists():
            return []
        out = []
        for line in self.trap_log.read_text(errors="replace").splitlines():
            if ".1.3.6.1.6.3.1.1.4.1.0" not in line:
                continue
            vbs = {}
            for m in re.finditer(r"(\.[0-9.]+) = ([^\t]*)", line):
                vbs[m.group(1)] = m.group(2).strip()
            out.append(vbs)
        return out
