"""The subagent watching a real strongSwan tunnel, end to end.

Every test builds its own lab (tests/integration/lab.py: gw1 and gw2, and
gw3 for two tunnels, in namespaces, joined by a bridge in a middle
namespace where nftables drops/black-holes packets with exact counters) and
runs a private snmpd + snmptrapd + ``ipsecdiagtool run`` *inside gw1's
namespace* (SnmpEnv(netns=...)), capturing on gw1's outer interface out0.

Expected values never come from the program under test:
  * loss / received / highest sequence number: from the nft counters in the
    middle namespace (exact per-rule ``seen`` and ``dropped`` packet counts,
    filtered on the SPI and direction), cross-checked against a tcpdump on
    the bridge port facing gw1 (test 1);
  * SPIs: from strongSwan (``swanctl --list-sas`` on gw1 and gw2);
  * MTUs: by hand from the lab set-up (ipsec0 MTU, black-hole limits) and
    the measured ESP size formula outer = 68 + roundup16(inner + 2) for
    aes128-sha256 in UDP (see lab.py).

Why every loss test starts with a rekey: the lab already sent a ping over
the first CHILD_SA before the subagent (and our counters) existed.  A
``lab.rekey()`` right after the subagent has started gives a CHILD_SA whose
ESP sequence numbers start at 1 while both the subagent and the nft
counters watch; rekeying is IKE traffic only (UDP/4500 with the non-ESP
marker), so the subagent sees no ESP of the old SA at all.

Drops are put *in the middle* of an SA's sequence (after some clean
packets), because the first sequence number seen is the SA's baseline and
nothing below it counts as lost.  A sequence number counts as lost when it
leaves the replay window (W = 64), so at least W clean packets follow the
last drop before the counters are read.
"""
import os
import subprocess
import time

import pytest

from lab import Lab, missing_prereqs
from snmpenv import SnmpEnv
import live_helpers as H

W = 64                      # loss.window in every config here
PING_INTERVAL = 0.01        # s between echo requests (root may go this fast)


# ---------------------------------------------------------------- utilities

def roundup16(n):
    return (n + 15) // 16 * 16


def max_inner(outer_limit):
    """Largest inner IPv4 packet whose ESP-in-UDP packet (68 + roundup16(S + 2))
    is <= outer_limit, found by plain search (independent of lab.py)."""
    s = 0
    while 68 + roundup16(s + 1 + 2) <= outer_limit:
        s += 1
    return s


@pytest.fixture
def lab_factory(workdir):
    """Lab(...) context managers with prerequisites checked first (a missing
    prerequisite fails, it never skips)."""
    problems = missing_prereqs()
    if problems:
        pytest.fail("live tunnel lab cannot run: " + "; ".join(problems), pytrace=False)
    for tool in ("/usr/sbin/snmpd", "/usr/sbin/snmptrapd", "/usr/bin/snmpget"):
        if not os.path.exists(tool):
            pytest.fail("%s missing: apt-get install snmpd snmptrapd snmp" % tool, pytrace=False)

    def make(**kw):
        return Lab(workdir / "lab", **kw)
    return make


def start_env(lab, workdir, idt_bin, conf, name="snmp"):
    return SnmpEnv(workdir / name, idt_bin, conf, netns=lab.ns("gw1"), traps=True)


def gw1_sa(lab, spi_in):
    for s in lab.sas("gw1"):
        if s["spi_in"] == spi_in:
            return s
    raise AssertionError("gw1 has no CHILD_SA with inbound SPI 0x%08x: %r" % (spi_in, lab.sas("gw1")))


HIGH = 1 << 31


def fresh_sa(lab, spi_in_high=None, tries=40):
    """Rekey and return gw1's new INSTALLED CHILD_SA; check the mirror SPIs
    on gw2.  strongSwan picks SPIs at random over all 32 bits; with
    spi_in_high=True/False rekey (no traffic yet) until the inbound SPI has
    that top bit, so that a test is deterministic with respect to SPIs
    >= 2^31 (see test_live_sa_table_spis_above_2_31)."""
    for _ in range(tries):
        sa = lab.rekey()
        if spi_in_high is None or (sa["spi_in"] >= HIGH) == spi_in_high:
            break
    else:
        raise AssertionError("no inbound SPI with high bit %s in %d rekeys" % (spi_in_high, tries))
    assert sa["state"] == "INSTALLED"
    peer = [s for s in lab.sas("gw2") if s["state"] == "INSTALLED"]
    assert len(peer) == 1, peer
    # the responder's SPIs are the mirror of the initiator's
    assert (peer[0]["spi_in"], peer[0]["spi_out"]) == (sa["spi_out"], sa["spi_in"])
    return sa


def ping_all(lab, count, expect_lost=0, dst="10.10.2.1"):
    sent, rcvd = lab.ping(count, interval=PING_INTERVAL, dst=dst)
    assert sent == count and rcvd == count - expect_lost, (sent, rcvd, expect_lost)


def settled_row(env, index, expect):
    """Wait (counters refresh about once a second) until the tunnel row
    shows the expected values, then return it; on timeout, return the last
    row so that the assertion shows the difference."""
    end = time.monotonic() + 8
    while True:
        row = H.tunnel_row(env, index)
        if all(row.get(k) == v for k, v in expect.items()) or time.monotonic() > end:
            return row
        time.sleep(0.3)


# ------------------------------------------------------------------ 1. loss

def test_live_loss_counts_dropped_esp(lab_factory, workdir, idt_bin):
    N = 9                       # inbound ESP packets to drop
    P0 = 50                     # clean pings before the drops
    with lab_factory() as lab, \
            start_env(lab, workdir, idt_bin, H.agent_config([H.gw1_gw2_tunnel(mtu=False)])) as env:
        sa = fresh_sa(lab)
        spi_in, spi_out = sa["spi_in"], sa["spi_out"]
        # exact=0: pure counters (seen) for everything on this SA, per direction
        cnt_in = lab.nft_drop_esp(direction="gw2->gw1", exact=0, spi=spi_in)
        cnt_out = lab.nft_drop_esp(direction="gw1->gw2", exact=0, spi=spi_out)
        with lab.capture(ns="mid", iface="m1", bpf="udp port 4500", name="m1") as cap:
            ping_all(lab, P0)
            drop = lab.nft_drop_esp(direction="gw2->gw1", exact=N, spi=spi_in)
            ping_all(lab, 150, expect_lost=N)
            ping_all(lab, 100)          # >= W clean packets after the last drop
        seen_in, dropped = cnt_in.seen, drop.dropped
        seen_out = cnt_out.seen
        assert dropped == N and cnt_in.dropped == 0
        assert seen_in == seen_out == P0 + 150 + 100     # one reply per request
        received = seen_in - dropped

        # second, independent source: what actually left the bridge towards gw1
        esp_to_gw1 = [p for p in cap.esp(src="192.0.2.2", dst="192.0.2.1") if p["spi"] == spi_in]
        seqs = sorted(p["seq"] for p in esp_to_gw1)
        assert len(seqs) == received
        # ESP sequence numbers start at 1; the first N after the P0 clean ones are missing
        assert seqs == [s for s in range(1, seen_in + 1) if not P0 < s <= P0 + N]

        row = settled_row(env, 1, {"InPkts": received, "LostPkts": dropped})
        assert row["Name"] == "gw1-gw2"
        assert row["InPkts"] == received
        assert row["LostPkts"] == dropped == N
        assert row["LatePkts"] == 0
        assert row["DuplicatePkts"] == 0
        assert row["ReorderedPkts"] == 0
        assert row["ActiveSAs"] == 2
        assert row["LostWhileDropping"] == 0
        # the same through the MIB names
        assert env.get("IPSECDIAG-MIB::ipsecDiagTunnelLostPkts.1") == str(N)
        assert env.get("IPSECDIAG-MIB::ipsecDiagTunnelInPkts.1") == str(received)

        sas = H.sa_table(env)
        assert sorted(sas) == sorted([(1, H.INBOUND, spi_in), (1, H.OUTBOUND, spi_out)]), \
            "SA table rows %r, strongSwan SPIs in=0x%08x out=0x%08x" % (sorted(sas), spi_in, spi_out)
        sa_in, sa_out = sas[(1, H.INBOUND, spi_in)], sas[(1, H.OUTBOUND, spi_out)]
        assert sa_in["Encap"] == H.UDP_ESP and sa_out["Encap"] == H.UDP_ESP
        assert sa_in["SrcAddr"].strip() == H.hexaddr("192.0.2.2")
        assert sa_in["DstAddr"].strip() == H.hexaddr("192.0.2.1")
        assert sa_out["SrcAddr"].strip() == H.hexaddr("192.0.2.1")
        assert sa_out["DstAddr"].strip() == H.hexaddr("192.0.2.2")
        assert sa_in["Pkts"] == received
        assert sa_in["LostPkts"] == N
        assert sa_in["HighestSeq"] == seen_in     # gw2 sent seen_in packets, seq 1..seen_in
        assert (sa_in["LatePkts"], sa_in["DuplicatePkts"], sa_in["ReorderedPkts"]) == (0, 0, 0)
        assert sa_out["Pkts"] == seen_out
        assert sa_out["HighestSeq"] == seen_out
        assert sa_out["LostPkts"] == 0
        # strongSwan agrees on the SA the subagent reported
        assert gw1_sa(lab, spi_in)["spi_out"] == spi_out


# ----------------------------------------------------------------- 2. rekey

def test_live_rekey_new_spis_totals_add_up(lab_factory, workdir, idt_bin):
    N1, N2 = 7, 4
    with lab_factory(delete_rekeyed_delay=5) as lab, \
            start_env(lab, workdir, idt_bin, H.agent_config([H.gw1_gw2_tunnel(mtu=False)])) as env:
        counts = []
        spis = []
        for n in (N1, N2):
            # inbound SPIs below 2^31: SPIs above are covered (and currently
            # broken) in test_live_sa_table_spis_above_2_31
            sa = fresh_sa(lab, spi_in_high=False)
            assert sa["spi_in"] not in [s[0] for s in spis]
            spis.append((sa["spi_in"], sa["spi_out"]))
            cnt = lab.nft_drop_esp(direction="gw2->gw1", exact=0, spi=sa["spi_in"])
            ping_all(lab, 40)
            drop = lab.nft_drop_esp(direction="gw2->gw1", exact=n, spi=sa["spi_in"])
            ping_all(lab, 120, expect_lost=n)    # 120 - n >= W clean after the drops
            counts.append((cnt, drop))
        (old_in, old_out), (new_in, new_out) = spis
        # strongSwan: the second SA is the installed one now
        installed = [s for s in lab.sas("gw1") if s["state"] == "INSTALLED"]
        assert [(s["spi_in"], s["spi_out"]) for s in installed] == [(new_in, new_out)]

        per_sa = [(c.seen, c.seen - d.dropped, d.dropped) for c, d in counts]
        assert [x[2] for x in per_sa] == [N1, N2]
        total_in = sum(x[1] for x in per_sa)
        total_lost = N1 + N2

        row = settled_row(env, 1, {"InPkts": total_in, "LostPkts": total_lost})
        assert row["InPkts"] == total_in
        assert row["LostPkts"] == total_lost
        assert (row["LatePkts"], row["DuplicatePkts"], row["ReorderedPkts"]) == (0, 0, 0)

        sas = H.sa_table(env)
        assert sorted(sas) == sorted([(1, H.INBOUND, old_in), (1, H.OUTBOUND, old_out),
                                      (1, H.INBOUND, new_in), (1, H.OUTBOUND, new_out)]), sorted(sas)
        assert row["ActiveSAs"] == 4
        # the new inbound SPI's row is indexed .1.1.<spi> (tunnel 1, inbound(1))
        oid = "%s.%d.1.1.%d" % (H.SA_ENTRY, 8, new_in)
        assert H.get_numeric(env, oid) == per_sa[1][1]
        for (spi_in, _), (seen, rcvd, lost) in zip(spis, per_sa):
            r = sas[(1, H.INBOUND, spi_in)]
            assert (r["Pkts"], r["LostPkts"], r["HighestSeq"]) == (rcvd, lost, seen), (hex(spi_in), r)
        # tunnel totals == sum over both inbound SAs
        assert sum(sas[(1, H.INBOUND, s)]["Pkts"] for s in (old_in, new_in)) == row["InPkts"]
        assert sum(sas[(1, H.INBOUND, s)]["LostPkts"] for s in (old_in, new_in)) == row["LostPkts"]


def test_live_sa_table_spis_above_2_31(lab_factory, workdir, idt_bin):
    """SPIs are 32-bit unsigned; about half of all real SPIs are >= 2^31.
    Two inbound SAs with such SPIs (rekey until strongSwan picked them):
    every row must be readable by GET and appear in a walk."""
    with lab_factory() as lab, \
            start_env(lab, workdir, idt_bin, H.agent_config([H.gw1_gw2_tunnel(mtu=False)])) as env:
        expect = {}
        for _ in range(2):
            sa = fresh_sa(lab, spi_in_high=True)
            cin = lab.nft_drop_esp(direction="gw2->gw1", exact=0, spi=sa["spi_in"])
            cout = lab.nft_drop_esp(direction="gw1->gw2", exact=0, spi=sa["spi_out"])
            ping_all(lab, 20)
            expect[(1, H.INBOUND, sa["spi_in"])] = cin.seen
            expect[(1, H.OUTBOUND, sa["spi_out"])] = cout.seen
        assert set(expect.values()) == {20}
        settled_row(env, 1, {"InPkts": 40})
        got_get = {}
        for (t, d, spi) in expect:
            p = env.client("snmpget", "-OnqvU", "%s.8.%d.%d.%d" % (H.SA_ENTRY, t, d, spi),
                           mibs=False, check=False)
            got_get[(t, d, spi)] = p.stdout.strip()
        got_walk = {k: v["Pkts"] for k, v in H.sa_table(env).items()}
        assert got_walk == expect, "walk: %r, expected %r, GET: %r" % (got_walk, expect, got_get)
        assert got_get == {k: str(v) for k, v in expect.items()}, got_get


# ----------------------------------------------------------------- 3. alert

def test_live_alert_on_loss(lab_factory, workdir, idt_bin):
    N, P0, THRESH, INTERVAL = 20, 30, 5, 10
    conf = H.agent_config([H.gw1_gw2_tunnel(mtu=False)], alert_lost=THRESH,
                          alert_interval=INTERVAL)
    name_oid = H.TUNNEL_ENTRY + ".2.1"
    lost_oid = H.TUNNEL_ENTRY + ".10.1"
    ilost_oid = H.TUNNEL_ENTRY + ".22.1"
    rate_oid = H.TUNNEL_ENTRY + ".14.1"
    with lab_factory() as lab, start_env(lab, workdir, idt_bin, conf) as env:
        sa = fresh_sa(lab)
        cnt = lab.nft_drop_esp(direction="gw2->gw1", exact=0, spi=sa["spi_in"])
        ping_all(lab, P0)
        drop = lab.nft_drop_esp(direction="gw2->gw1", exact=N, spi=sa["spi_in"])
        ping_all(lab, 100, expect_lost=N)
        t_loss = time.monotonic()
        assert drop.dropped == N

        exc = H.wait_until(lambda: H.traps_of(env, H.TRAP_LOSS_EXCEEDED), 5,
                           what="ipsecDiagLossThresholdExceeded")
        # The threshold is reached by the 5th hole leaving the window: hole
        # k is seq P0+k, it is counted when H reaches P0+k+W.  All traffic of
        # the SA lies within the 10 s interval, so at that moment
        # received = (P0+THRESH+W) - N (every seq up to H except the N holes).
        h5 = P0 + THRESH + W
        rate = THRESH * 10 ** 6 // (THRESH + h5 - N)
        assert H.trap_str(exc[0][name_oid]) == "gw1-gw2"
        assert H.trap_int(exc[0][lost_oid]) == THRESH
        assert H.trap_int(exc[0][ilost_oid]) == THRESH
        assert H.trap_int(exc[0][rate_oid]) == rate
        # the table follows at the next snapshot (published once a second)
        H.wait_until(lambda: H.tunnel_col(env, "LossAlarm", 1) == H.ALARM_ALARM, 3,
                     what="LossAlarm.1 == alarm")
        assert "packet loss on tunnel gw1-gw2: lost=%d " % THRESH in env.agent_text()

        # quiet traffic, no loss, until cleared
        bg = lab.popen("gw1", "ping", "-n", "-q", "-i", "0.1", "-I", "10.10.1.1", "10.10.2.1",
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            clr = H.wait_until(lambda: H.traps_of(env, H.TRAP_LOSS_CLEARED), 2 * INTERVAL + 10,
                               step=0.5, what="ipsecDiagLossThresholdCleared")
            t_clear = time.monotonic() - t_loss
            time.sleep(1.5)     # nothing else may follow
        finally:
            bg.terminate()
            bg.wait(5)
        assert drop.dropped == N and cnt.dropped == 0
        assert len(H.traps_of(env, H.TRAP_LOSS_EXCEEDED)) == 1, env.traps()
        assert len(H.traps_of(env, H.TRAP_LOSS_CLEARED)) == 1, env.traps()
        assert H.trap_str(clr[0][name_oid]) == "gw1-gw2"
        assert H.trap_int(clr[0][lost_oid]) == N
        assert H.trap_int(clr[0][ilost_oid]) == 0
        assert H.trap_int(clr[0][rate_oid]) == 0
        # C goes false when the lost buckets leave the 10 s window, CLEARED a
        # whole interval later
        assert INTERVAL <= t_clear <= 2 * INTERVAL + 5, t_clear
        assert H.tunnel_col(env, "LossAlarm", 1) == H.ALARM_NORMAL
        assert H.tunnel_col(env, "LostPkts", 1) == N
        assert "packet loss cleared on tunnel gw1-gw2" in env.agent_text()


# ------------------------------------------------------------------- 4. MTU

M = "IPSECDIAG-MIB::"
IPSEC0 = 1400               # kernel-libipsec's TUN MTU (lab.py), checked below
OUTER_LINK = 1500           # veth MTU of out0


def start_discovery(env, index):
    before = H.mtu_last_run(env, index)
    p = env.set(M + "ipsecDiagTunnelMtuDiscover.%d" % index, "i", 2)
    assert p.returncode == 0, p.stdout + p.stderr
    return before


def test_live_mtu_clean_blackhole_and_loss(lab_factory, workdir, idt_bin):
    """(a) clean tunnel, (b) black hole in the middle, (c) black hole plus
    10% random ESP loss both ways - one agent, conditions changed between runs."""
    with lab_factory() as lab, \
            start_env(lab, workdir, idt_bin, H.agent_config([H.gw1_gw2_tunnel()])) as env:
        assert lab.ipsec0_mtu("gw1") == IPSEC0 and lab.ipsec0_mtu("gw2") == IPSEC0
        # (a) the largest IP packet that fits ipsec0 is its MTU, and its ESP
        # packet (68 + roundup16(1402) = 1476) still fits the 1500 outer link
        expect_a = min(IPSEC0, max_inner(OUTER_LINK))
        assert expect_a == 1400 and 68 + roundup16(1400 + 2) == 1476
        res = {}
        before = start_discovery(env, 1)
        res["a"] = H.wait_mtu_done(env, 1, before)
        assert res["a"][:2] == (H.MTU_SUCCEEDED, expect_a), res

        # (b) black hole for outer packets > 1200 in the middle
        lab.flush_route_cache()
        OUTER = 1200
        expect_b = max_inner(OUTER)
        assert expect_b == 1118          # 68 + roundup16(1120) = 1188; 1119 -> 1204
        bh = lab.nft_blackhole_above(OUTER)
        before = start_discovery(env, 1)
        res["b"] = H.wait_mtu_done(env, 1, before)
        assert res["b"][:2] == (H.MTU_SUCCEEDED, expect_b), res
        assert bh.dropped > 0            # the black hole was really hit

        # (c) same black hole + 10% random ESP loss in both directions.  Only
        # some 30 ESP packets pass the black hole in a run, so a run without
        # a single loss happens (~5%): repeat until the loss rule has hit.
        lab.flush_route_cache()
        loss = lab.nft_drop_esp(direction="both", probability=0.1)
        for attempt in range(4):
            before = start_discovery(env, 1)
            res["c%d" % attempt] = r = H.wait_mtu_done(env, 1, before)
            assert r[:2] == (H.MTU_SUCCEEDED, expect_b), (res, loss)
            if loss.dropped > 0:
                break
        assert loss.dropped > 0, loss
        ncomp = 2 + attempt + 1

        done = H.traps_of(env, H.TRAP_MTU_COMPLETED)
        mtu_oid = H.TUNNEL_ENTRY + ".18.1"
        assert [H.trap_int(t[mtu_oid]) for t in done] == [expect_a] + [expect_b] * (ncomp - 1)
        assert all(H.trap_str(t[H.TUNNEL_ENTRY + ".2.1"]) == "gw1-gw2" for t in done)
        assert H.traps_of(env, H.TRAP_MTU_FAILED) == []
        print("mtu runs (status, mtu, seconds): %r, loss %r" % (res, loss))


def test_live_mtu_unanswered_target_fails(lab_factory, workdir, idt_bin):
    """(d) mtu.target 10.10.2.99 is inside gw2's LAN but nobody has it: the
    probes go through the tunnel and are never answered."""
    tun = ("gw1-gw2", 1, "192.0.2.1", "192.0.2.2",
           H.mtu_block("10.10.1.1", "10.10.2.99"))
    with lab_factory() as lab, start_env(lab, workdir, idt_bin, H.agent_config([tun])) as env:
        out = lab.nft_drop_esp(direction="gw1->gw2", exact=0)     # counter only
        before = start_discovery(env, 1)
        st, mtu, secs = H.wait_mtu_done(env, 1, before)
        assert (st, mtu) == (H.MTU_FAILED, 0)
        failed = H.traps_of(env, H.TRAP_MTU_FAILED)
        assert len(failed) == 1, env.traps()
        assert H.trap_str(failed[0][H.TUNNEL_ENTRY + ".2.1"]) == "gw1-gw2"
        assert H.trap_int(failed[0][H.TUNNEL_ENTRY + ".17.1"]) == H.MTU_FAILED
        assert H.traps_of(env, H.TRAP_MTU_COMPLETED) == []
        # every probe that was sent went into the tunnel as one ESP packet
        probes = H.tunnel_col(env, "MtuProbesSent", 1)
        assert probes > 0 and out.seen == probes, (probes, out)
        assert "mtu discovery failed on tunnel gw1-gw2" in env.agent_text()


def test_live_mtu_cli_trap(lab_factory, workdir, idt_bin):
    """(e) case (b) started with `ipsecdiagtool mtu-discovery` (an SNMP SET
    through snmpd), result as ipsecDiagMtuDiscoveryCompleted."""
    with lab_factory() as lab, \
            start_env(lab, workdir, idt_bin, H.agent_config([H.gw1_gw2_tunnel()])) as env:
        OUTER = 1200
        expect = max_inner(OUTER)
        lab.flush_route_cache()
        lab.nft_blackhole_above(OUTER)
        before = H.mtu_last_run(env, 1)
        p = lab.run("gw1", idt_bin, "mtu-discovery", "--config", env.conf, "-v2c", "-c", "private",
                    "127.0.0.1:%d" % env.port, "gw1-gw2", check=False,
                    env=dict(env.env))
        assert p.returncode == 0, p.stdout + p.stderr
        assert "mtu discovery started on tunnel gw1-gw2" in p.stdout
        # the CLI waits for the result and prints it
        assert "mtu discovered on tunnel gw1-gw2: mtu=%d" % expect in p.stdout, p.stdout
        st, mtu, _ = H.wait_mtu_done(env, 1, before)
        assert (st, mtu) == (H.MTU_SUCCEEDED, expect)
        done = H.wait_until(lambda: H.traps_of(env, H.TRAP_MTU_COMPLETED), 5,
                            what="ipsecDiagMtuDiscoveryCompleted")
        assert len(done) == 1
        assert H.trap_str(done[0][H.TUNNEL_ENTRY + ".2.1"]) == "gw1-gw2"
        assert H.trap_int(done[0][H.TUNNEL_ENTRY + ".18.1"]) == expect


def test_live_mtu_two_tunnels_parallel(lab_factory, workdir, idt_bin):
    """(f) gw1-gw2 and gw1-gw3 with different black holes, both started by
    one SET of ipsecDiagMtuDiscoverAll.0."""
    OUT2, OUT3 = 1200, 1000
    exp2, exp3 = max_inner(OUT2), max_inner(OUT3)
    assert (exp2, exp3) == (1118, 926)   # 68+roundup16(928)=996 <= 1000 < 68+roundup16(929)
    conf = H.agent_config([
        H.gw1_gw2_tunnel(),
        ("gw1-gw3", 2, "192.0.2.1", "192.0.2.3", H.mtu_block("10.10.1.1", "10.10.3.1")),
    ])
    with lab_factory(tunnels=2) as lab, start_env(lab, workdir, idt_bin, conf) as env:
        lab.flush_route_cache()
        for a, b, lim in (("gw1", "gw2", OUT2), ("gw2", "gw1", OUT2),
                          ("gw1", "gw3", OUT3), ("gw3", "gw1", OUT3)):
            lab.nft_blackhole_above(lim, direction="%s->%s" % (a, b))
        before = {i: H.mtu_last_run(env, i) for i in (1, 2)}
        t0 = time.monotonic()
        p = env.set(M + "ipsecDiagMtuDiscoverAll.0", "i", 2)
        assert p.returncode == 0, p.stdout + p.stderr
        r1 = H.wait_mtu_done(env, 1, before[1])
        r2 = H.wait_mtu_done(env, 2, before[2])
        elapsed = time.monotonic() - t0
        assert r1[:2] == (H.MTU_SUCCEEDED, exp2), (r1, r2)
        assert r2[:2] == (H.MTU_SUCCEEDED, exp3), (r1, r2)
        done = {H.trap_str(t[H.TUNNEL_ENTRY + ".2.%d" % i]): H.trap_int(t[H.TUNNEL_ENTRY + ".18.%d" % i])
                for t in H.traps_of(env, H.TRAP_MTU_COMPLETED)
                for i in (1, 2) if H.TUNNEL_ENTRY + ".2.%d" % i in t}
        assert done == {"gw1-gw2": exp2, "gw1-gw3": exp3}
        # in parallel: both runs were started before either ended
        events = [l for l in env.agent_text().splitlines()
                  if "mtu discovery started on tunnel" in l or "mtu discovered on tunnel" in l]
        assert [("started" in l) for l in events] == [True, True, False, False], events
        print("two tunnels: %r %r in %.1fs" % (r1, r2, elapsed))
