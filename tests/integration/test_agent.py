"""Foundation: the subagent under a real snmpd, queried with the real clients."""
import os
import signal
import subprocess
import time

import pytest

from snmpenv import SnmpEnv, ROOT, wait_for

CONFIG = """
agentx: { ping_interval = 2; };
capture: { interface = "lo"; };
tunnels = (
  { name = "hq-branch1"; index = 7; local = "198.51.100.1"; remote = "203.0.113.7";
    mtu: { source = "10.10.1.1"; target = "10.10.2.1"; }; },
  { name = "v6-site"; index = 3; local = "2001:db8::1"; remote = "2001:db8:ffff::2";
    alert_ppm = 500; alerts = false; idle_timeout = 0; idle_alerts = false; }
);
"""

M = "IPSECDIAG-MIB::"


@pytest.fixture
def env(workdir, idt_bin):
    e = SnmpEnv(workdir / "snmp", idt_bin, CONFIG)
    with e:
        yield e


def test_tunnel_table_identity(env):
    w = env.walk(M + "ipsecDiagTunnelTable")
    # hand-written expectations from CONFIG
    assert w["ipsecDiagTunnelName.3"] == 'v6-site'
    assert w["ipsecDiagTunnelName.7"] == 'hq-branch1'
    assert w["ipsecDiagTunnelOrigin.7"] == "configured"
    assert w["ipsecDiagTunnelLocalAddrType.7"] == "ipv4"
    assert w["ipsecDiagTunnelLocalAddr.7"] == '"C6 33 64 01 "'
    assert w["ipsecDiagTunnelRemoteAddr.7"] == '"CB 00 71 07 "'
    assert w["ipsecDiagTunnelLocalAddrType.3"] == "ipv6"
    assert w["ipsecDiagTunnelLocalAddr.3"] == '"20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 01 "'
    for idx in ("3", "7"):
        for col in ("InPkts", "LostPkts", "LatePkts", "DuplicatePkts", "ReorderedPkts", "ActiveSAs",
                    "LossRate", "Mtu", "MtuProbesSent", "SuspectPkts", "TentativeSAs",
                    "EvictedSAs", "RefusedPkts"):
            assert w["ipsecDiagTunnel%s.%s" % (col, idx)] == "0", col
        for col in ("MtuRuns", "MtuFailures", "MtuLastSuccess"):
            assert w["ipsecDiagTunnel%s.%s" % (col, idx)] in ("0", "0:0:00:00.00"), col
        assert w["ipsecDiagTunnelLossAlarm.%s" % idx] == "normal"
        assert w["ipsecDiagTunnelMtuDiscover.%s" % idx] == "idle"
    # 7 has an mtu block, 3 none
    assert w["ipsecDiagTunnelMtuStatus.7"] == "neverRun"
    assert w["ipsecDiagTunnelMtuFailReason.7"] == "none"
    assert w["ipsecDiagTunnelMtuTargetAddrType.7"] == "ipv4"
    assert w["ipsecDiagTunnelMtuTargetAddr.7"] == '"0A 0A 02 01 "'
    assert w["ipsecDiagTunnelMtuStatus.3"] == "notConfigured"
    assert w["ipsecDiagTunnelMtuFailReason.3"] == "noTarget"
    assert w["ipsecDiagTunnelMtuTargetAddrType.3"] == "unknown"
    assert w["ipsecDiagTunnelMtuTargetAddr.3"] == '""'
    # both directions, state, rekeys, effective alert settings (no traffic yet)
    for idx in ("3", "7"):
        for col in ("OutPkts", "OutLostPkts", "OutLatePkts", "OutDuplicatePkts", "OutReorderedPkts",
                    "OutSuspectPkts", "InOctets", "OutOctets", "SAsSeen", "IntervalInPkts",
                    "AlarmReminders"):
            assert w["ipsecDiagTunnel%s.%s" % (col, idx)] == "0", col
        for col in ("LastSeen", "NewestSaFirstSeen"):
            assert w["ipsecDiagTunnel%s.%s" % (col, idx)] in ("0", "0:0:00:00.00"), col
        assert w["ipsecDiagTunnelState.%s" % idx] == "neverSeen"
        assert w["ipsecDiagTunnelAlarmCriterion.%s" % idx] == "none"
        assert w["ipsecDiagTunnelAlertLost.%s" % idx] == "10"
        assert w["ipsecDiagTunnelAlertInterval.%s" % idx] == "60"
        assert w["ipsecDiagTunnelAlertMinPkts.%s" % idx] == "100"
        # IKE: never known to IKE (no vici socket here)
        assert w["ipsecDiagTunnelIkeState.%s" % idx] == "none"
        for col in ("IkeRekeys", "ChildRekeys", "GatewayDropPkts"):
            assert w["ipsecDiagTunnel%s.%s" % (col, idx)] == "0", col
    # defaults (7) and the overrides of 3
    assert w["ipsecDiagTunnelIdleTimeout.7"] == "300"
    assert w["ipsecDiagTunnelStateAlerts.7"] == "true"
    assert w["ipsecDiagTunnelAlertLossRate.7"] == "0"
    assert w["ipsecDiagTunnelAlertsEnabled.7"] == "true"
    assert w["ipsecDiagTunnelIdleTimeout.3"] == "0"
    assert w["ipsecDiagTunnelStateAlerts.3"] == "false"
    assert w["ipsecDiagTunnelAlertLossRate.3"] == "500"
    assert w["ipsecDiagTunnelAlertsEnabled.3"] == "false"
    # the same addresses as text (ipsecDiagReadableGroup)
    assert w["ipsecDiagTunnelLocalAddrText.7"] == "198.51.100.1"
    assert w["ipsecDiagTunnelRemoteAddrText.7"] == "203.0.113.7"
    assert w["ipsecDiagTunnelMtuTargetAddrText.7"] == "10.10.2.1"
    assert w["ipsecDiagTunnelLocalAddrText.3"] == "2001:db8::1"
    assert w["ipsecDiagTunnelRemoteAddrText.3"] == "2001:db8:ffff::2"
    assert w["ipsecDiagTunnelMtuTargetAddrText.3"] == ""
    # exactly two rows: 33 - 1 (index) + 3 (text, 40..42) + 22 (50..71) + 4 (IKE, 72..75)
    # accessible columns each
    assert len(w) == 2 * 61
    # rows come in index order within a column (GETNEXT order)
    keys = [k for k in w if k.startswith("ipsecDiagTunnelName.")]
    assert keys == ["ipsecDiagTunnelName.3", "ipsecDiagTunnelName.7"]


def test_sa_table_empty_and_globals(env):
    assert env.walk(M + "ipsecDiagSaTable") == {}
    assert env.get(M + "ipsecDiagReplayWindow.0") == "64"
    assert env.get(M + "ipsecDiagActiveSAs.0") == "0"
    assert env.get(M + "ipsecDiagMtuDiscoverAll.0") == "idle"
    assert env.get(M + "ipsecDiagCaptureIsDropping.0") == "false"
    # SA table policy: 8 reserved slots per configured tunnel (2 configured)
    assert env.get(M + "ipsecDiagReservedSAs.0") == "16"
    assert env.get(M + "ipsecDiagTentativeSAs.0") == "0"
    assert env.get(M + "ipsecDiagEvictedSAs.0") == "0"
    assert env.get(M + "ipsecDiagSaTableUnderPressure.0") == "false"


def test_whole_mib_walk_is_ordered(env):
    # snmpwalk fails with "OID not increasing" if GETNEXT goes backwards
    p = env.client("snmpwalk", "-On", ROOT)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    assert "not increasing" not in p.stderr
    assert len(lines) == 16 + 2 * 61      # 16 scalars, 2 tunnel rows of 61 readable columns
    assert lines[0].startswith(ROOT + ".1.1.1.0 = Counter64: ")
    # bulkwalk gives the same
    pb = env.client("snmpbulkwalk", "-On", ROOT)
    assert [l for l in pb.stdout.splitlines() if l.strip()] == lines


def test_getnext_from_odd_places(env):
    # GETNEXT on an OID between rows / columns / beyond ranges lands on the next cell
    nx = lambda oid: env.client("snmpgetnext", "-On", oid).stdout.split(" = ")[0]
    t = ROOT + ".1.2.1"
    assert nx(t + ".2.3") == t + ".2.7"
    assert nx(t + ".2.4") == t + ".2.7"
    assert nx(t + ".2.7") == t + ".3.3"
    assert nx(t + ".2.7.0") == t + ".3.3"
    assert nx(t + ".1") == t + ".2.3"           # index column is not accessible
    assert nx(t + ".2.4294967295") == t + ".3.3"
    assert nx(t + ".29.7") == t + ".30.3"
    assert nx(t + ".33.7") == t + ".40.3"       # columns 34..39 do not exist
    assert nx(t + ".35") == t + ".40.3"
    assert nx(t + ".42.7") == t + ".50.3"       # columns 43..49 do not exist
    assert nx(t + ".45") == t + ".50.3"
    assert nx(ROOT + ".1.1.11.0") == ROOT + ".1.1.12.0"
    assert nx(ROOT + ".1.1.12.0") == ROOT + ".1.1.13.0"
    assert nx(ROOT + ".1.1.16.0") == t + ".2.3"  # last scalar -> first tunnel cell
    assert nx(t + ".23.7") == t + ".24.3"        # last row of a column -> first row of the next
    assert nx(t + ".71.7") == t + ".72.3"        # the IKE columns follow
    assert not nx(t + ".75.7").startswith(ROOT)  # the last cell (no SA rows here)
    assert nx(ROOT + ".1.1") == ROOT + ".1.1.1.0"


def test_snmptable(env):
    p = env.client("snmptable", "-Cf", "|", "-Cb", M + "ipsecDiagTunnelTable")
    lines = [l for l in p.stdout.splitlines() if "|" in l]
    header, rows = lines[0].split("|"), [l.split("|") for l in lines[1:]]
    assert header[0] == "Name"
    assert [r[0] for r in rows] == ['v6-site', 'hq-branch1']


def test_set_errors_and_accepts(env):
    def err(p):
        return (p.stdout + p.stderr)
    # numeric OID without MIBs, so that the client does not refuse the wrong type itself
    p = env.set(ROOT + ".1.2.1.21.7", "s", "start", mibs=False)
    assert p.returncode != 0 and "wrongType" in err(p)
    p = env.set(ROOT + ".1.1.7.0", "u", 2, mibs=False)
    assert p.returncode != 0 and "wrongType" in err(p)
    p = env.set(ROOT + ".1.2.1.21.99", "i", 2, mibs=False)    # no such row
    assert p.returncode != 0 and "noCreation" in err(p)
    p = env.set(M + "ipsecDiagTunnelMtuDiscover.7", "i", 1)
    assert p.returncode != 0 and "wrongValue" in err(p)
    p = env.set(M + "ipsecDiagTunnelMtuDiscover.7", "i", 3)
    assert p.returncode != 0 and "wrongValue" in err(p)
    p = env.set(M + "ipsecDiagTunnelMtuDiscover.3", "i", 2)   # no mtu block
    assert p.returncode != 0 and "inconsistentValue" in err(p)
    p = env.set(M + "ipsecDiagTunnelName.7", "s", "x")
    assert p.returncode != 0 and "notWritable" in err(p)
    p = env.set(M + "ipsecDiagMtuDiscoverAll.0", "i", 1)
    assert p.returncode != 0 and "wrongValue" in err(p)
    p = env.set(M + "ipsecDiagTunnelMtuDiscover.7", "i", 2)
    assert p.returncode == 0, err(p)
    p = env.set(M + "ipsecDiagMtuDiscoverAll.0", "i", 2)
    assert p.returncode == 0, err(p)
    # a read-only community cannot set
    p = env.set(M + "ipsecDiagMtuDiscoverAll.0", "i", 2, community="public")
    assert p.returncode != 0


def test_reconnect_after_snmpd_restart(env):
    env.stop_snmpd(signal.SIGKILL)
    time.sleep(1)
    env.start_snmpd()
    t0 = time.monotonic()
    # ping_interval = 2 s: the subagent must be back within the ping interval (+ slack)
    env.wait_registered(timeout=2 * 2 + 3)
    assert time.monotonic() - t0 < 7
    assert env.get(M + "ipsecDiagTunnelName.7") == 'hq-branch1'
    assert env.agent.poll() is None


def test_sigterm_exits_zero(env):
    t0 = time.monotonic()
    rc = env.stop_agent(signal.SIGTERM, timeout=2)
    assert rc == 0
    assert time.monotonic() - t0 < 2


def test_bad_config_exit_2_names_line(workdir, idt_bin):
    conf = workdir / "bad.conf"
    conf.write_text('loss: {\n  window = 20;\n};\n')
    p = subprocess.run([idt_bin, "run", "-c", str(conf)], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert "%s:2:" % conf in p.stderr and "loss.window" in p.stderr
    p = subprocess.run([idt_bin, "check-config", "-c", str(conf)], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "%s:2:" % conf in p.stderr
    conf.write_text('tunnels = ( { name = "a"; index = 1; local = "1.2.3"; remote = "10.0.0.1"; } );\n')
    p = subprocess.run([idt_bin, "check-config", "-c", str(conf)], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "%s:1:" % conf in p.stderr


def test_cli_usage_errors(idt_bin):
    p = subprocess.run([idt_bin, "frobnicate"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown command" in p.stderr and "Usage:" in p.stderr
    p = subprocess.run([idt_bin, "run", "--bogus"], capture_output=True, text=True)
    assert p.returncode == 2
    p = subprocess.run([idt_bin, "help"], capture_output=True, text=True)
    assert p.returncode == 0 and "mtu-discovery" in p.stdout
    p = subprocess.run([idt_bin, "about"], capture_output=True, text=True)
    assert p.returncode == 0 and "net-snmp" in p.stdout and "libpcap" in p.stdout and "libconfig" in p.stdout


def test_indexes_above_2_31(workdir, idt_bin):
    # sub-identifiers >= 2^31 must survive the AgentX path (GET, GETNEXT and SET)
    conf = CONFIG.replace("index = 7;", "index = 3000000000;")
    with SnmpEnv(workdir / "hi", idt_bin, conf) as e:
        assert e.get(M + "ipsecDiagTunnelName.3000000000") == "hq-branch1"
        nx = e.client("snmpgetnext", "-On", ROOT + ".1.2.1.2.3").stdout.split(" = ")[0]
        assert nx == ROOT + ".1.2.1.2.3000000000"
        p = e.set(M + "ipsecDiagTunnelMtuDiscover.3000000000", "i", 2)
        assert p.returncode == 0, p.stdout + p.stderr
