"""Live: spoofed far-ahead packets in a running stream (issue 16).

A network namespace with a veth pair vA <-> vB (test_bounds.Net); a private
snmpd + our subagent capture on vB; tcpreplay sends hand-built ESP on vA.
Two configured tunnels get the same 3000-packet stream with 31 numbers
missing (tests/gen/espgen.py spoof_jumps_streams); into the one of
"spoofed" three single packets 10^3, 10^6 and 2^31-1 ahead of the stream
are injected.  Read over SNMP (ipsecDiagSaTable, ipsecDiagTunnelTable),
both must show the same lost and late counts, and the spoofed one
SuspectPkts == 3 (the clean one 0).

Expected values by hand from the rule in src/replay_window.h: the stream
is in order, so the only lost numbers are the missing ones that have left
the window [H-W+1, H] by the end (H = 3000, W = 64; the SAs do not expire
during the test, so holes still inside the window are not counted yet);
nothing is late; each injected packet is held and dismissed once the
stream has advanced W past it.
"""
import pytest

from snmpenv import wait_for
import live_helpers as H
from test_bounds import Net, warm_up, net_fixture
from test_bounds import espgen

W = 64
SPOOF = (1, "spoofed", "192.0.2.1", "192.0.2.2", 0x5B00F101)
CLEAN = (2, "clean", "192.0.2.3", "192.0.2.4", 0x5B00F102)


net = net_fixture("idts")


def test_spoofed_far_jumps_live(net, idt_bin):
    clean, spoofed, injected = espgen.spoof_jumps_streams()
    missing = sorted(set(range(1, 3001)) - set(clean))
    assert len(missing) == 31 and len(injected) == 3 and len(spoofed) == 2972
    exp_lost = len([n for n in missing if n <= 3000 - W])

    tunnels = ",\n  ".join('{ name = "%s"; index = %d; local = "%s"; remote = "%s"; }'
                           % (name, idx, loc, rem) for idx, name, loc, rem, _ in (SPOOF, CLEAN))
    conf = ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            "loss: { window = %d; };\ntunnels = (\n  %s\n);\n" % (W, tunnels))
    env = net.start_snmp(idt_bin, conf)
    warm_up(net, env)                       # another (discovered) tunnel
    for (idx, name, loc, rem, spi), seqs in ((SPOOF, spoofed), (CLEAN, clean)):
        p = net.dir / ("%s.pcap" % name)
        net.sa_pcap(p, seqs, spi, rem, loc)     # inbound: remote -> local
        assert net.replay(p) == len(seqs)

    def rows():
        t = H.sa_table(env)
        a, b = t.get((SPOOF[0], H.INBOUND, SPOOF[4])), t.get((CLEAN[0], H.INBOUND, CLEAN[4]))
        if a and b and a.get("Pkts") == len(spoofed) and b.get("Pkts") == len(clean):
            return a, b
        return None
    sa_s, sa_c = wait_for(rows, 15, step=0.5, what="both SA rows with all packets")
    print("spoofed SA:", sa_s)
    print("clean SA:  ", sa_c)
    assert (sa_c["LostPkts"], sa_c["LatePkts"]) == (exp_lost, 0)
    assert (sa_s["LostPkts"], sa_s["LatePkts"]) == (sa_c["LostPkts"], sa_c["LatePkts"])
    assert (sa_s.get("SuspectPkts"), sa_c.get("SuspectPkts")) == (3, 0)
    assert sa_s["HighestSeq"] == sa_c["HighestSeq"] == 3000
    assert (sa_s["DuplicatePkts"], sa_s["ReorderedPkts"]) == (0, 0)

    keys = ("InPkts", "LostPkts", "LatePkts", "SuspectPkts")
    t_s = H.wait_stable_row(env, SPOOF[0], keys)
    t_c = H.wait_stable_row(env, CLEAN[0], keys)
    assert (t_s["InPkts"], t_c["InPkts"]) == (len(spoofed), len(clean))
    assert (t_s["LostPkts"], t_s["LatePkts"]) == (t_c["LostPkts"], t_c["LatePkts"]) == (exp_lost, 0)
    assert (t_s["SuspectPkts"], t_c["SuspectPkts"]) == (3, 0)
    assert env.agent.poll() is None
