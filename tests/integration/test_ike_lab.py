"""IKE awareness on the real strongSwan lab (issue 14): the subagent runs in
gw2's namespace (the receiving gateway of gw1's pings), capturing its out0,
with ``ike { vici = "unix://<gw2 dir>/charon.vici"; }`` and no configured
tunnel, next to a private snmpd + snmptrapd.  One lab for the module.

Expected values come from outside the program: tunnel and SA names from the
lab's swanctl.conf (connection and CHILD_SA "gw1-gw2"), SPIs from swanctl
--list-sas, state changes from the swanctl commands the test runs, and the
gateway drops from the packets the test itself injects in the middle
namespace (tests/integration/ike_inject.py): exact replays of ESP packets gw2
already accepted, and genuine packets with one ICV byte flipped on the way
(the originals dropped by nftables, the corrupted copies re-emitted,
sequence numbers untouched).  Neither kind is accepted by charon
(packets-in), both reach gw2's out0.  Traffic pauses before every reading,
so nothing is in flight (the documented bound is then 0).
"""
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import Lab, missing_prereqs
from snmpenv import SnmpEnv
import live_helpers as H

HERE = Path(__file__).resolve().parent
INJECT = str(HERE / "ike_inject.py")

# numeric columns (mibs/IPSECDIAG-MIB.txt)
COL_NAME, COL_INPKTS, COL_LOST, COL_DUP = 2, 9, 10, 12
COL_IKESTATE, COL_IKEREKEYS, COL_CHILDREKEYS, COL_GWDROPS = 72, 73, 74, 75
SA_COL_PKTS, SA_COL_DUP, SA_COL_IKENAME, SA_COL_GWDROPS = 8, 11, 33, 34
ESTABLISHED, DOWN = 3, 6
TRAP_UP = H.NOTIF + ".13"
TRAP_DOWN = H.NOTIF + ".14"
POLL = 1                    # ike.poll_interval, seconds


def config(lab):
    return (H.agent_config([], interface="out0") +
            'ike: { vici = "unix://%s"; poll_interval = %d; };\n' % (lab.gw("gw2").vici, POLL))


@pytest.fixture(scope="module")
def ike(tmp_path_factory, idt_bin):
    problems = missing_prereqs()
    if problems:
        pytest.fail("IKE lab cannot run: " + "; ".join(problems), pytrace=False)
    wd = tmp_path_factory.mktemp("ike")
    with Lab(wd / "lab") as lab, \
            SnmpEnv(wd / "snmp", idt_bin, config(lab), netns=lab.ns("gw2"), traps=True) as env:
        yield lab, env


def col(env, c, index):
    return H.get_numeric(env, "%s.%d.%d" % (H.TUNNEL_ENTRY, c, index))


def tunnel_index(env, name):
    for oid, v in H.walk_numeric(env, "%s.%d" % (H.TUNNEL_ENTRY, COL_NAME)).items():
        if v == name:
            return int(oid.rsplit(".", 1)[1])
    return None


def wait_col(env, c, index, want, timeout=10):
    return H.wait_until(lambda: col(env, c, index) == want or None, timeout,
                        what="column %d of tunnel %d == %r (now %r)" % (c, index, want,
                                                                         col(env, c, index)))


def gw2_child(lab):
    sas = [s for s in lab.sas("gw2") if s["state"] == "INSTALLED"]
    assert len(sas) == 1, sas
    return sas[0]


def pcap_frames(path):
    """Raw Ethernet frames of a tcpdump pcap file."""
    data = Path(path).read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    assert struct.unpack(endian + "I", data[20:24])[0] == 1, "not Ethernet"
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out


def esp_spi_seq(frame):
    ihl = (frame[14] & 0x0F) * 4
    udp = 14 + ihl
    return struct.unpack("!II", frame[udp + 8:udp + 16])


# ---------------------------------------------------------------- tests

def test_names_learnt_before_traffic(ike):
    lab, env = ike
    idx = H.wait_until(lambda: tunnel_index(env, "gw1-gw2"), 15, what="tunnel named gw1-gw2")
    # no ESP since the agent started: the row comes from IKE alone
    assert col(env, COL_INPKTS, idx) == 0
    assert col(env, COL_IKESTATE, idx) == ESTABLISHED
    # learnt at start: no Up/Down
    assert not H.traps_of(env, TRAP_UP) and not H.traps_of(env, TRAP_DOWN), env.traps()


def test_gateway_drops_replays_and_corruption(ike):
    lab, env = ike
    idx = tunnel_index(env, "gw1-gw2")
    sa = gw2_child(lab)
    spi_in = sa["spi_in"]
    with lab.capture(ns="mid", iface="m1", bpf="udp port 4500", name="ike_m1") as cap:
        assert lab.ping(20, interval=0.01) == (20, 20)
    frames = [f for f in pcap_frames(cap.path)
              if f[12:14] == b"\x08\x00" and f[26:30] == bytes([192, 0, 2, 1])
              and esp_spi_seq(f)[0] == spi_in]
    assert len(frames) == 20
    time.sleep(POLL + 0.5)                      # a quiet reading settles the baseline
    g0 = col(env, COL_GWDROPS, idx)
    d0 = col(env, COL_DUP, idx)
    assert g0 == 0

    # (a) exact replays of 3 packets gw2 has accepted
    replay = frames[5:8]
    p = lab.run("mid", sys.executable, INJECT, "send", "m2", *[f.hex() for f in replay])
    assert p.stdout.strip() == "sent 3"

    # (b) 4 genuine packets corrupted on the way (ICV byte flipped)
    N = 4
    bumper = subprocess.Popen(["ip", "netns", "exec", lab.ns("mid"), sys.executable, INJECT,
                               "bump", "m1", "m2", "192.0.2.1", str(N), "20"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert bumper.stdout.readline().strip() == "ready"
        drop = lab.nft_drop_esp(direction="gw1->gw2", exact=N, spi=spi_in)
        sent, rcvd = lab.ping(10, interval=0.05)
        assert (sent, rcvd) == (10, 10 - N)     # the corrupted requests got no reply
        out, _ = bumper.communicate(timeout=25)
    finally:
        if bumper.poll() is None:
            bumper.kill()
    assert out.splitlines()[0] == "bumped %d" % N, out
    assert drop.dropped == N
    lab.nft_clear()

    # traffic paused: the next readings are quiet, the estimate is exact
    wait_col(env, COL_GWDROPS, idx, g0 + 3 + N, timeout=5 * POLL + 5)
    time.sleep(POLL + 0.5)
    assert col(env, COL_GWDROPS, idx) == g0 + 3 + N        # and not more
    assert col(env, COL_LOST, idx) == 0                     # no loss in the network
    assert col(env, COL_DUP, idx) - d0 == 3                 # the replays
    rows = H.walk_numeric(env, "%s.%d.%d.%d.%d" % (H.SA_ENTRY, SA_COL_GWDROPS, idx, 1, spi_in))
    assert list(rows.values()) == [3 + N]
    name = H.get_numeric(env, "%s.%d.%d.%d.%d" % (H.SA_ENTRY, SA_COL_IKENAME, idx, 1, spi_in))
    assert name == "gw1-gw2/gw1-gw2"
    # cross-check with charon: it accepted every captured packet but the 7
    assert gw2_child(lab)["packets_in"] - sa["packets_in"] == 20 + (10 - N)


def test_rekey_counted(ike):
    lab, env = ike
    idx = tunnel_index(env, "gw1-gw2")
    before = col(env, COL_CHILDREKEYS, idx)
    lab.rekey()
    wait_col(env, COL_CHILDREKEYS, idx, before + 1, timeout=10)
    assert col(env, COL_IKESTATE, idx) == ESTABLISHED
    assert not H.traps_of(env, TRAP_DOWN), env.traps()     # a rekey is not a down


def test_terminate_sends_down_initiate_sends_up(ike):
    lab, env = ike
    idx = tunnel_index(env, "gw1-gw2")
    lab.swanctl("gw1", "--terminate", "--ike", "gw1-gw2")
    downs = H.wait_until(lambda: H.traps_of(env, TRAP_DOWN), 10, what="ipsecDiagTunnelDown")
    assert len(downs) == 1
    vb = downs[0]
    assert H.trap_str(vb["%s.%d.%d" % (H.TUNNEL_ENTRY, COL_NAME, idx)]) == "gw1-gw2"
    assert H.trap_int(vb["%s.%d.%d" % (H.TUNNEL_ENTRY, COL_IKESTATE, idx)]) in (5, 6)
    wait_col(env, COL_IKESTATE, idx, DOWN)
    assert re.search(r"tunnel gw1-gw2 IKE down: ", env.agent_text())
    lab.initiate()
    ups = H.wait_until(lambda: H.traps_of(env, TRAP_UP), 10, what="ipsecDiagTunnelUp")
    assert len(ups) == 1
    assert H.trap_int(ups[0]["%s.%d.%d" % (H.TUNNEL_ENTRY, COL_IKESTATE, idx)]) == ESTABLISHED
    wait_col(env, COL_IKESTATE, idx, ESTABLISHED)      # the table follows within a second
    assert tunnel_index(env, "gw1-gw2") == idx               # the same row
    assert re.search(r"tunnel gw1-gw2 IKE up: established", env.agent_text())
