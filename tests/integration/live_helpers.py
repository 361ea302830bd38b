"""Helpers for test_live_tunnel.py: the subagent watching a real strongSwan
tunnel (tests/integration/lab.py) from inside gw1's namespace.

Everything here reads the MIB by *numeric* OIDs (the column numbers are
hand-copied from mibs/IPSECDIAG-MIB.txt), so a test does not depend on how
the MIB files render enum indexes.
"""
import re
import time

from snmpenv import ROOT, wait_for

TUNNEL_ENTRY = ROOT + ".1.2.1"          # ipsecDiagTunnelEntry
SA_ENTRY = ROOT + ".1.3.1"              # ipsecDiagSaEntry
GLOBALS = ROOT + ".1.1"
NOTIF = ROOT + ".0"                     # ipsecDiagNotifications
SNMP_TRAP_OID = ".1.3.6.1.6.3.1.1.4.1.0"

TRAP_LOSS_EXCEEDED = NOTIF + ".1"
TRAP_LOSS_CLEARED = NOTIF + ".2"
TRAP_MTU_COMPLETED = NOTIF + ".3"
TRAP_MTU_FAILED = NOTIF + ".4"

# ipsecDiagTunnelEntry columns
TUNNEL_COLS = {
    "Name": 2, "Origin": 3, "ActiveSAs": 8, "InPkts": 9, "LostPkts": 10,
    "LatePkts": 11, "DuplicatePkts": 12, "ReorderedPkts": 13, "LossRate": 14,
    "LossAlarm": 15, "MtuStatus": 17, "Mtu": 18, "MtuLastRun": 19,
    "MtuProbesSent": 20, "MtuDiscover": 21, "IntervalLostPkts": 22,
    "LostWhileDropping": 23, "MtuLastSuccess": 24, "MtuRuns": 25, "MtuFailures": 26,
    "MtuFailReason": 27, "MtuTargetAddrType": 28, "MtuTargetAddr": 29, "SuspectPkts": 30,
}
# ipsecDiagSaEntry columns
SA_COLS = {
    3: "Encap", 4: "SrcAddrType", 5: "SrcAddr", 6: "DstAddrType", 7: "DstAddr",
    8: "Pkts", 9: "LostPkts", 10: "LatePkts", 11: "DuplicatePkts",
    12: "ReorderedPkts", 13: "HighestSeq", 14: "FirstSeen", 15: "LastSeen",
    16: "SuspectPkts",
}
INBOUND, OUTBOUND = 1, 2
MTU_NEVERRUN, MTU_RUNNING, MTU_SUCCEEDED, MTU_FAILED, MTU_NOTCONFIGURED = 1, 2, 3, 4, 5
# ipsecDiagTunnelMtuFailReason
FAIL_NONE, FAIL_NOREPLY, FAIL_NOTARGET, FAIL_PROBERUNAVAILABLE = 1, 2, 3, 4
ALARM_NORMAL, ALARM_ALARM = 1, 2
UDP_ESP = 2


def mtu_block(source, target, mn=576, mx=1500, probes=16, timeout=1.0, retries=2):
    return ('mtu: { source = "%s"; target = "%s"; min = %d; max = %d; probes = %d; '
            'timeout = %.1f; retries = %d; };' % (source, target, mn, mx, probes, timeout, retries))


def agent_config(tunnels, interface="out0", alert_lost=5, alert_interval=10, window=64):
    """libconfig text for the subagent on gw1.  tunnels: list of
    (name, index, local, remote, mtu_block_text_or_None)."""
    rows = []
    for name, index, local, remote, mtu in tunnels:
        rows.append('  { name = "%s"; index = %d; local = "%s"; remote = "%s"; %s }'
                    % (name, index, local, remote, mtu or ""))
    return ("agentx: { ping_interval = 2; };\n"
            'capture: { interface = "%s"; };\n'
            "loss: { window = %d; sa_idle_timeout = 600; alert_lost = %d; alert_interval = %d; };\n"
            "tunnels = (\n%s\n);\n" % (interface, window, alert_lost, alert_interval,
                                      ",\n".join(rows)))


def gw1_gw2_tunnel(mtu=True, target="10.10.2.1"):
    return ("gw1-gw2", 1, "192.0.2.1", "192.0.2.2",
            mtu_block("10.10.1.1", target) if mtu else None)


def _value(v):
    v = v.strip()
    if v.startswith('"') and v.endswith('"'):
        return v[1:-1]
    try:
        return int(v)
    except ValueError:
        return v


def walk_numeric(env, oid):
    """{numeric-oid: value} (ints where numeric, strings unquoted)."""
    p = env.client("snmpwalk", "-OnqUet", oid, mibs=False)
    out = {}
    for line in p.stdout.splitlines():
        if not line.startswith("."):
            continue
        k, _, v = line.partition(" ")
        if v.startswith("No Such") or v.startswith("No more variables"):
            continue
        out[k] = _value(v)
    return out


def get_numeric(env, oid):
    p = env.client("snmpget", "-OnqvUet", oid, mibs=False)
    return _value(p.stdout)


def tunnel_row(env, index):
    """{column-name: value} of one ipsecDiagTunnelTable row."""
    names = {v: k for k, v in TUNNEL_COLS.items()}
    w = walk_numeric(env, TUNNEL_ENTRY)
    row = {}
    for oid, v in w.items():
        col, idx = oid[len(TUNNEL_ENTRY) + 1:].split(".", 1)
        if idx == str(index) and int(col) in names:
            row[names[int(col)]] = v
    return row


def sa_table(env):
    """{(tunnel_index, direction, spi): {column-name: value}} of
    ipsecDiagSaTable."""
    w = walk_numeric(env, SA_ENTRY)
    rows = {}
    for oid, v in w.items():
        parts = oid[len(SA_ENTRY) + 1:].split(".")
        col, tidx, direction, spi = (int(x) for x in parts)
        rows.setdefault((tidx, direction, spi), {})[SA_COLS.get(col, col)] = v
    return rows


def wait_until(pred, timeout, step=0.25, what="condition"):
    return wait_for(pred, timeout, step=step, what=what)


def wait_stable_row(env, index, keys, timeout=10):
    """Wait until the given tunnel-row columns stop changing (the counters
    are refreshed about once a second): two equal reads 1.2 s apart."""
    end = time.monotonic() + timeout
    prev = None
    while True:
        row = tunnel_row(env, index)
        cur = tuple(row.get(k) for k in keys)
        if cur == prev:
            return row
        if time.monotonic() > end:
            raise AssertionError("tunnel %d row did not settle: %r" % (index, row))
        prev = cur
        time.sleep(1.2)


def tunnel_col(env, col, index):
    return get_numeric(env, "%s.%d.%d" % (TUNNEL_ENTRY, TUNNEL_COLS[col], index))


def mtu_last_run(env, index):
    return tunnel_col(env, "MtuLastRun", index)


def wait_mtu_done(env, index, last_run_before, timeout=90):
    """Poll until a run that ended after last_run_before (the value of
    ipsecDiagTunnelMtuLastRun.index read before the run was started) is
    reported: MtuStatus succeeded(3)/failed(4) and MtuLastRun changed.
    Returns (status, mtu, seconds)."""
    t0 = time.monotonic()

    def done():
        st = tunnel_col(env, "MtuStatus", index)
        if st in (MTU_SUCCEEDED, MTU_FAILED) and mtu_last_run(env, index) != last_run_before:
            # read status again: the row may have been updated in between
            return tunnel_col(env, "MtuStatus", index)
        return None
    st = wait_until(done, timeout, step=0.3,
                    what="MtuStatus.%d succeeded/failed after the start" % index)
    return st, tunnel_col(env, "Mtu", index), time.monotonic() - t0


def trap_oid_value(v):
    """snmptrapd -On renders an OID varbind as 'OID: .1.3...'."""
    return re.sub(r"^OID:\s*", "", (v or "").strip())


def traps_of(env, trap_oid):
    """Notifications whose snmpTrapOID.0 value is trap_oid."""
    return [t for t in env.traps() if trap_oid_value(t.get(SNMP_TRAP_OID)) == trap_oid]


def hexaddr(dotted):
    """InetAddress of an IPv4 address as net-snmp prints it, without the
    trailing blank: '192.0.2.1' -> 'C0 00 02 01'."""
    return " ".join("%02X" % int(x) for x in dotted.split("."))


def trap_str(v):
    """snmptrapd -On shows a string varbind as  "text"  (sometimes with a
    STRING: prefix); return the bare text."""
    v = v.strip()
    v = re.sub(r"^STRING:\s*", "", v)
    if v.startswith('"') and v.endswith('"'):
        v = v[1:-1]
    return v


def trap_int(v):
    m = re.search(r"(-?\d+)\s*$", v.strip())
    return int(m.group(1)) if m else None
