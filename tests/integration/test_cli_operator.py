"""The operator's commands against a real snmpd and subagent.

* ``ipsecdiagtool mtu-discovery`` (src/mtu_cli.c): the tunnel name is looked
  up over SNMP (no configuration file is given, and the build's default
  one does not name these tunnels), the command waits for the run and
  prints the MTU or the failure reason.  Expected MTUs come from the
  namespace set-up (the routed topology of test_prober_netns.py, link
  towards B at 1360 bytes); the CLI's output is cross-checked with
  snmpget of the MIB columns.
* ``ipsecdiagtool run`` as the unprivileged user ``nobody`` (setpriv):
  with nothing that can work it exits 1 with one line; with a usable
  AgentX socket it keeps serving and names the capture error once.

Requires root (namespaces, setpriv), iproute2, nftables and util-linux.
"""
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import live_helpers as H
from snmpenv import SnmpEnv, ROOT, wait_for
from test_prober_netns import Net, _require_prereqs, blackhole_b, daemon_conf, explain

TUNNELS = """
  { name = "t1"; index = 1; local = "192.0.2.1"; remote = "192.0.2.2";
    mtu: { source = "10.77.1.1"; target = "10.77.2.1"; min = 576; max = 1500;
           probes = 16; timeout = 0.5; retries = 2; }; },
  { name = "slow"; index = 3; local = "192.0.2.1"; remote = "192.0.2.3";
    mtu: { source = "10.77.1.1"; target = "10.77.2.1"; min = 576; max = 1500;
           probes = 4; timeout = 1.0; retries = 3; }; },
  { name = "plain"; index = 9; local = "192.0.2.1"; remote = "192.0.2.9"; }"""


@pytest.fixture
def routed():
    _require_prereqs()
    net = Net("routed")
    try:
        net.up()
        yield net
    finally:
        net.down()


def test_mtu_discovery_cli_by_name_over_snmp(idt_bin, routed, workdir):
    routed.set_mtu(routed.m, "m2", 1360)
    routed.set_mtu(routed.b, "b0", 1360)
    with SnmpEnv(workdir / "snmp", idt_bin, daemon_conf(TUNNELS), netns=routed.a) as env:
        host = "127.0.0.1:%d" % env.port

        def cli(*args, timeout=120):
            return routed.exec(routed.a, idt_bin, "mtu-discovery", *args, check=False,
                               timeout=timeout)

        # --- by name, waiting: the MTU of the set-up, the same as the MIB's
        r = cli("-v2c", "-c", "private", host, "t1")
        assert r.returncode == 0, explain(r)
        assert r.stdout.splitlines() == ["mtu discovery started on tunnel t1 (index 1)",
                                         "mtu discovered on tunnel t1: mtu=1360"], explain(r)
        assert H.tunnel_col(env, "Mtu", 1) == 1360
        assert H.tunnel_col(env, "MtuRuns", 1) == 1

        # --- --all (a single argument is then the host): t1 and slow, not plain
        r = cli("-v2c", "-c", "private", "--all", host)
        assert r.returncode == 0, explain(r)
        lines = r.stdout.splitlines()
        assert sorted(lines[:2]) == ["mtu discovery started on tunnel slow (index 3)",
                                     "mtu discovery started on tunnel t1 (index 1)"], explain(r)
        assert sorted(lines[2:]) == ["mtu discovered on tunnel slow: mtu=1360",
                                     "mtu discovered on tunnel t1: mtu=1360"], explain(r)
        assert (H.tunnel_col(env, "MtuRuns", 1), H.tunnel_col(env, "MtuRuns", 3)) == (2, 1)
        assert H.tunnel_col(env, "MtuRuns", 9) == 0

        # --- -c with a '/' is a configuration file: the name is looked up there
        # ("alias" is index 1 in it; the agent knows no such name)
        cf = workdir / "alias.conf"
        cf.write_text('tunnels = ({ name = "alias"; index = 1; local = "192.0.2.1"; '
                      'remote = "192.0.2.2"; });\n')
        r = cli("-c", str(cf), "-v2c", "-c", "private", host, "alias")
        assert r.returncode == 0, explain(r)
        assert r.stdout.splitlines()[-1] == "mtu discovered on tunnel alias: mtu=1360", explain(r)
        assert H.tunnel_col(env, "MtuRuns", 1) == 3

        # --- refusals: unknown name (lists the known ones), no mtu block,
        # a read-only community (hint at rwcommunity / VACM)
        r = cli("-v2c", "-c", "private", host, "nosuch")
        assert r.returncode == 2, explain(r)
        assert r.stderr.strip() == ("ipsecdiagtool: mtu-discovery: no tunnel named 'nosuch' "
                                    "at %s (tunnels: t1, slow, plain)" % host), explain(r)
        r = cli("-v2c", "-c", "private", host, "plain")
        assert r.returncode == 1, explain(r)
        assert "inconsistentValue (notConfigured: the tunnel has no mtu block)" in r.stderr
        r = cli("-v2c", "-c", "public", host, "t1")
        assert r.returncode == 1, explain(r)
        assert "refused the SET of start(2): noAccess" in r.stderr, explain(r)
        assert '"rwcommunity private 127.0.0.1"' in r.stderr and "VACM" in r.stderr, explain(r)
        assert H.tunnel_col(env, "MtuRuns", 1) == 3        # nothing was started

        # --- a failed run: the reason from ipsecDiagTunnelMtuFailReason
        blackhole_b(routed)
        r = cli("-v2c", "-c", "private", host, "t1")
        assert r.returncode == 1, explain(r)
        assert r.stdout.splitlines()[-1] == (
            "mtu discovery failed on tunnel t1: not even the smallest size was answered: "
            "the target is unreachable, does not answer ICMP echo, or the tunnel is down "
            "(reason=noReply)"), explain(r)
        assert H.tunnel_col(env, "MtuFailReason", 1) == H.FAIL_NOREPLY

        # --- --no-wait returns while the run goes on (slow: 1 s rounds, no replies)
        t0 = time.monotonic()
        r = cli("-v2c", "-c", "private", "--no-wait", host, "slow")
        assert r.returncode == 0, explain(r)
        assert r.stdout.strip() == ("mtu discovery started on tunnel slow; the result will be "
                                    "in ipsecDiagTunnelMtuStatus.3 and ipsecDiagTunnelMtu.3")
        assert H.tunnel_col(env, "MtuStatus", 3) == H.MTU_RUNNING, time.monotonic() - t0
        H.wait_until(lambda: H.tunnel_col(env, "MtuRuns", 3) == 2, 60, what="slow run ends")

        # --- --max-wait: gives up while the run goes on
        r = cli("-v2c", "-c", "private", "--max-wait", "1", host, "slow")
        assert r.returncode == 1, explain(r)
        assert r.stdout.splitlines()[-1] == (
            "mtu discovery on tunnel slow: still running after 1 s; the result will be "
            "in ipsecDiagTunnelMtuStatus.3"), explain(r)

        # --- the subagent gone: the MIB is not visible, said so
        env.stop_agent()
        r = cli("-v2c", "-c", "private", host, "t1")
        assert r.returncode == 1, explain(r)
        assert "%s shows no IPSECDIAG-MIB: ipsecdiagtool is not running" % host in r.stderr, \
            explain(r)
        assert r.stderr.rstrip().endswith("does not include " + ROOT), explain(r)


def test_mtu_discovery_cli_usage(idt_bin):
    r = subprocess.run([idt_bin, "mtu-discovery", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "--no-wait" in r.stdout and "--all" in r.stdout and "'/'" in r.stdout, r.stdout
    for args, msg in ((["--all", "h", "t"], "--all takes no TUNNEL (got 't')"),
                      (["--max-wait", "0", "t"], "--max-wait needs a number of seconds"),
                      (["-c", "./nonexistent.conf", "t"], "./nonexistent.conf")):
        r = subprocess.run([idt_bin, "mtu-discovery"] + args, capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 2 and msg in r.stderr, (args, r.returncode, r.stderr)


# ----------------------------------------------------------- run as nobody

def nobody():
    pw = pwd.getpwnam("nobody")
    return pw, grp.getgrgid(pw.pw_gid).gr_name


def as_nobody(cmd):
    pw, _ = nobody()
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.fail("setpriv (util-linux) is needed", pytrace=False)
    return [setpriv, "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups"] + cmd


@pytest.fixture
def open_dir():
    """A directory that nobody can read (pytest's tmp dirs are 0700)."""
    d = Path(tempfile.mkdtemp(prefix="idt-cli-"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def write_conf(d):
    conf = d / "run.conf"
    conf.write_text('capture: { interface = "lo"; };\nstate: { dir = "%s"; };\n' % (d / "state"))
    os.chmod(conf, 0o644)
    (d / "state").mkdir()
    os.chmod(d / "state", 0o777)
    return conf


def test_run_as_nobody_with_nothing_that_can_work_exits(idt_bin, open_dir):
    """No CAP_NET_RAW and an AgentX socket only root may use (mode 0600),
    or none at all: exit 1 at once, one error line."""
    conf = write_conf(open_dir)
    path = open_dir / "master"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.listen()
    os.chmod(path, 0o600)
    _, group = nobody()
    try:
        for spec, why in (("unix:%s" % path,
                           "cannot connect to AgentX socket %s: permission denied; allow the "
                           '%s group with "agentXPerms 0660 0755 root %s" in snmpd.conf'
                           % (path, group, group)),
                          ("unix:%s/none" % open_dir,
                           "AgentX socket %s/none does not exist" % open_dir)):
            r = subprocess.run(as_nobody([idt_bin, "run", "-f", "-c", str(conf), "-x", spec]),
                               capture_output=True, text=True, timeout=20)
            out = r.stdout + r.stderr
            assert r.returncode == 1, out
            errors = [l for l in out.splitlines() if " error: " in l]
            assert len(errors) == 1, out
            assert "nothing can work, exiting: capture on lo: " in errors[0], out
            assert "(capturing needs root or CAP_NET_RAW); and " + why in errors[0], out
            assert "SNMP" not in out and "retrying" not in out, out
    finally:
        s.close()


def test_run_as_nobody_with_agentx_serves_and_says_capture_error_once(idt_bin, open_dir):
    """An AgentX socket nobody may use (agentXPerms 0777): the subagent runs,
    registers, and names the capture error once."""
    env = SnmpEnv(open_dir / "snmp", idt_bin, "", traps=False, start_agent=False)
    os.chmod(open_dir / "snmp", 0o755)
    conf = write_conf(open_dir)
    with env:
        log = open_dir / "agent.out"
        with open(log, "wb") as out:
            p = subprocess.Popen(as_nobody([idt_bin, "run", "-f", "-c", str(conf), "-x",
                                            "unix:%s" % env.sock]),
                                 stdout=out, stderr=subprocess.STDOUT, env=env.env)
            try:
                wait_for(lambda: env.get_raw(ROOT + ".1.1.6.0") is not None, 15,
                         what="registration of the subagent run by nobody")
                assert p.poll() is None
            finally:
                p.terminate()
                rc = p.wait(10)
        text = log.read_text()
        assert rc == 0, text
        assert "connected to the master agent" in text, text
        cap = [l for l in text.splitlines() if "capture on lo:" in l]
        assert len(cap) == 1, text
        assert cap[0].endswith("(capturing needs root or CAP_NET_RAW); retrying with backoff "
                               "(up to every 30 s)"), text
        assert "agentXPerms" not in text, text
