"""Stable identities of discovered tunnels across restarts (state.dir).

Live: a network namespace with a veth pair vA <-> vB (test_bounds.Net); a
private snmpd + our subagent inside it capture on vB; tcpreplay sends
generator-built ESP onto vA.  Values are read back with snmpwalk.

  * tunnels A, B, C and a long IPv6 pair D are discovered in this order;
    after a restart they reappear in reverse order (B with its addresses
    swapped) and every pair has its old ipsecDiagTunnelIndex and
    ipsecDiagTunnelName; a new pair gets an index never used before;
  * a corrupt, a truncated and an unknown-version state file, and a state
    directory on a read-only mount, each give exactly one log line about
    the state, and a daemon that discovers and serves tunnels as usual.

Expected indexes come from the documented rule (ipsecdiagtool.conf(5):
discovered tunnels are numbered after the highest configured index, in
order of first appearance, and keep their numbers), names from the
documented scheme ("LOCAL-REMOTE", or "tunnel-INDEX" beyond 63 characters;
without a local address the lower address is local).
"""
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from snmpenv import wait_for
import live_helpers as H
from test_bounds import Net, warm_up, one_sa_pcap, PCAP_HDR, record, BASE_TS, net_fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gen"))
import espgen  # noqa: E402

CONF_IDX = 1
CONF_L, CONF_R = "192.0.2.1", "192.0.2.2"
L4 = "198.18.0.1"
PAIRS = {                       # name: (local, remote) as the program orders them
    "A": (L4, "198.18.1.1"),
    "B": (L4, "198.18.1.2"),
    "C": (L4, "198.18.1.3"),
    "D": ("2001:db8:1111:2222:3333:4444:5555:6666", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"),
    "E": (L4, "198.18.1.5"),
}
SPI = {"A": 0x57A70001, "B": 0x57A70002, "C": 0x57A70003, "D": 0x57A70004, "E": 0x57A70005}


def conf_text(state_dir):
    return ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            'state: { dir = "%s"; };\n'
            'tunnels = ( { name = "conf1"; index = %d; local = "%s"; remote = "%s"; } );\n'
            % (state_dir, CONF_IDX, CONF_L, CONF_R))


def v6_pcap(path, net, src, dst, spi, n=3):
    recs = []
    for i in range(n):
        pkt = espgen.ipv6(src, dst, espgen.IPPROTO_ESP, espgen.esp(spi, i + 1, bytes(16)))
        f = net.mac_b + net.mac_a + struct.pack("!H", espgen.ETH_IPV6) + pkt
        recs.append(record(BASE_TS + i * 100, f))
    with open(path, "wb") as fh:
        fh.write(PCAP_HDR)
        for r in recs:
            fh.write(r)


def send(net, key, swap=False):
    """Three packets of pair key, remote -> local (or local -> remote)."""
    loc, rem = PAIRS[key]
    src, dst = (loc, rem) if swap else (rem, loc)
    p = net.dir / ("p_%s_%d.pcap" % (key, swap))
    if ":" in loc:
        v6_pcap(p, net, src, dst, SPI[key])
    else:
        one_sa_pcap(p, [1, 2, 3], spi=SPI[key], src=src, dst=dst, dst_mac=net.mac_b,
                    src_mac=net.mac_a, gap_us=100)
    assert net.replay(p) == 3


def names(env):
    """{index: name} of ipsecDiagTunnelTable."""
    w = H.walk_numeric(env, H.TUNNEL_ENTRY + ".2")
    return {int(k.rsplit(".", 1)[1]): v for k, v in w.items()}


def wait_rows(env, n):
    return wait_for(lambda: (lambda d: d if len(d) == n else None)(names(env)), 15,
                    step=0.3, what="%d tunnel rows" % n)


def expected_name(key, index):
    loc, rem = PAIRS[key]
    name = "%s-%s" % (loc, rem)
    return name if len(name) <= 63 else "tunnel-%d" % index


def state_lines(env):
    return [ln for ln in env.agent_text().splitlines() if "state file" in ln or "state.dir" in ln]


net = net_fixture("idts")


def test_identities_survive_restart_in_any_order(net, idt_bin):
    state = net.dir / "state"
    env = net.start_snmp(idt_bin, conf_text(state))
    warm_up(net, env, spi=0x3A000001, src=CONF_R, dst=CONF_L)
    want = {CONF_IDX: "conf1"}
    for i, key in enumerate("ABCD"):
        send(net, key)
        idx = CONF_IDX + 1 + i      # in order of appearance after the configured maximum
        want[idx] = expected_name(key, idx)
        wait_rows(env, len(want))
    assert names(env) == want
    assert want[5] == "tunnel-5"    # D's "LOCAL-REMOTE" is 77 characters
    assert env.stop_agent() == 0
    text = (state / "tunnels.state").read_text()
    assert text.startswith("ipsecdiagtool-tunnels 1\nnext-index 6\n"), text
    assert text.endswith("end 4\n"), text

    # restart: reverse order, B from the other side
    env.start_agent()
    warm_up(net, env, spi=0x3A000001, src=CONF_R, dst=CONF_L)
    n = 1
    for key in "DCBA":
        send(net, key, swap=(key == "B"))
        n += 1
        wait_rows(env, n)
    assert names(env) == want
    send(net, "E")
    want[6] = expected_name("E", 6)                     # never used before
    wait_rows(env, 6)
    assert names(env) == want
    assert len(set(want.values())) == len(want)         # names are unique
    assert [ln for ln in state_lines(env) if "remembered tunnel identities" in ln], \
        env.agent_text()
    # and the reload keeps them too
    env.agent.send_signal(1)
    wait_for(lambda: "configuration reloaded" in env.agent_text(), 10, what="reload")
    assert names(env) == want
    assert env.stop_agent() == 0
    assert "tunnel 6 %s %s " % PAIRS["E"] in (state / "tunnels.state").read_text()


VALID = ("ipsecdiagtool-tunnels 1\nnext-index 40\n"
         "tunnel 39 198.18.0.1 198.18.1.1 1764460000 198.18.0.1-198.18.1.1\nend 1\n")
BAD = {
    "corrupt": ("ipsecdiagtool-tunnels 1\nnext-index 40\n"
                "tunnel 39 198.18.0.1 198.18.1.x 1764460000 198.18.0.1-198.18.1.1\nend 1\n",
                "line 3: remote address is not an IPv4 or IPv6 address"),
    "truncated": (VALID[:-1], "line 4: no end of line (the file is truncated)"),
    "version": (VALID.replace("tunnels 1", "tunnels 2"), "line 1: unknown version \"2\""),
}


@pytest.mark.parametrize("case", sorted(BAD) + ["readonly"])
def test_bad_state_one_line_and_working(net, idt_bin, case):
    state = net.dir / "state"
    state.mkdir()
    mounted = False
    try:
        if case == "readonly":
            (state / "tunnels.state").write_text(VALID)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "none", str(state)], check=True)
            mounted = True
        else:
            (state / "tunnels.state").write_text(BAD[case][0])
        env = net.start_snmp(idt_bin, conf_text(state))
        warm_up(net, env, spi=0x3A000001, src=CONF_R, dst=CONF_L)
        send(net, "A")
        wait_rows(env, 2)
        # a fresh start: A is numbered after the configured maximum
        assert names(env) == {CONF_IDX: "conf1", 2: expected_name("A", 2)}
        lines = state_lines(env)
        assert len(lines) == 1, env.agent_text()
        if case == "readonly":
            assert "state.dir %s: Read-only file system" % state in lines[0], lines
        else:
            assert "state file %s/tunnels.state: %s" % (state, BAD[case][1]) in lines[0], lines
            assert "starting with new tunnel indexes" in lines[0]
        assert env.agent.poll() is None
        assert env.stop_agent() == 0
        assert len(state_lines(env)) == 1, env.agent_text()
        if case != "readonly":
            assert (state / "tunnels.state.bad").read_text() == BAD[case][0]
            saved = (state / "tunnels.state").read_text()
            assert "tunnel 2 %s %s " % PAIRS["A"] in saved, saved
    finally:
        if mounted:
            subprocess.run(["umount", str(state)], check=False)
