"""Mass ageing does not stall the capture (live, veth + real snmpd).

A network namespace with a veth pair vA <-> vB (test_bounds.Net); a private
snmpd and our subagent capture on vB with loss.max_tunnels = 100000 and
sa_idle_timeout = 10.  tcpreplay sends 50,000 single-SA discovered tunnels
on vA at 50,000 packets/s (4 rounds: every tunnel once a second), while a
steady feeder keeps 10 other SAs going at 2,000 packets/s.  The 50,000
then go idle together and age out while the feeder goes on.

Checked, from the documented rules (engine.h: at most 2048 SA expiries
and 2048 watched tunnels per tick, a tick a second):
  * ipsecDiagCaptureDrops stays 0 throughout (the kernel never had to drop);
  * ipsecDiagEspPkts keeps moving: it grows between every two samples 2 s
    apart during the ageing;
  * the ageing is spread over ticks: between two samples dt seconds apart
    ipsecDiagActiveSAs falls by at most 2048 * (dt + 2) (the ticks within
    dt, plus one at each end for the snapshot's age), and it takes at least
    5 distinct values between 50,000 and 0; every churned SA and tunnel is
    gone within sa_idle_timeout + ceil(50000 / 2048) ticks + 15 s of slack
    after the churn ended;
  * the "discovered"/"aged out" log lines: at most 20 a second one by one,
    the rest summed up, and the totals add up to the tunnels discovered and
    aged out;
  * the exact packet counts: ipsecDiagEspPkts = every packet sent.
"""
import re
import struct
import subprocess
import time

from snmpenv import ROOT, wait_for
import live_helpers as H
from test_bounds import (BASE_TS, PCAP_HDR, SEQ_OFF, esp_frame, net, record,  # noqa: F401
                         warm_up)

N_TUNNELS = 50_000
ROUNDS = 4
PPS = 50_000
IDLE = 10
BUDGET = 2048                       # SA expiries and watched tunnels per tick (engine.h)
FEED_SAS, FEED_PPS, FEED_PKTS = 10, 2000, 2000 * 70
HUB = "192.0.2.1"
FEED_SRC, FEED_DST = "198.51.100.50", "198.51.100.60"

ESP_PKTS = ROOT + ".1.1.2.0"
DROPS = ROOT + ".1.1.4.0"
ACTIVE_SAS = ROOT + ".1.1.5.0"


def churn_pcap(path, mac_a, mac_b):
    """N_TUNNELS tunnels 10.x.y.z <-> HUB, one SA each, ROUNDS packets each
    (round r carries sequence number r for every tunnel)."""
    recs = []
    for t in range(N_TUNNELS):
        src = "10.%d.%d.%d" % (1 + (t >> 16), (t >> 8) & 255, t & 255)
        recs.append(record(BASE_TS, esp_frame(src, HUB, 0x10000000 + t, 0, mac_b, mac_a)))
    rl = len(recs[0])
    one = bytearray(b"".join(recs))
    buf = bytearray()
    for r in range(1, ROUNDS + 1):
        blk = bytearray(one)
        for t in range(N_TUNNELS):
            struct.pack_into("!I", blk, t * rl + 16 + SEQ_OFF, r)
            struct.pack_into("<I", blk, t * rl + 4, (r - 1) * N_TUNNELS + t)
        buf += blk
    with open(path, "wb") as f:
        f.write(PCAP_HDR + buf)
    return N_TUNNELS * ROUNDS


def feed_pcap(path, mac_a, mac_b):
    """FEED_SAS SAs interleaved, FEED_PKTS packets in all, in order."""
    tmpl = [record(BASE_TS, esp_frame(FEED_SRC, FEED_DST, 0x20000000 + k, 0, mac_b, mac_a))
            for k in range(FEED_SAS)]
    rl = len(tmpl[0])
    buf = bytearray(b"".join(tmpl) * (FEED_PKTS // FEED_SAS))
    for i in range(FEED_PKTS):
        struct.pack_into("!I", buf, i * rl + 16 + SEQ_OFF, 1 + i // FEED_SAS)
    with open(path, "wb") as f:
        f.write(PCAP_HDR + buf)
    return FEED_PKTS


def num(env, oid):
    v = H.get_numeric(env, oid)
    assert isinstance(v, int), "%s: %r" % (oid, v)
    return v


def test_mass_ageing_keeps_capturing(net, idt_bin):
    conf = ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            "loss: { max_tunnels = 100000; max_sas = 200000; sa_idle_timeout = %d; };\n" % IDLE)
    env = net.start_snmp(idt_bin, conf)
    warm_up(net, env)
    churn, feed = net.dir / "churn.pcap", net.dir / "feed.pcap"
    n_churn = churn_pcap(churn, net.mac_a, net.mac_b)
    n_feed = feed_pcap(feed, net.mac_a, net.mac_b)
    base_esp = num(env, ESP_PKTS)
    assert num(env, DROPS) == 0

    feeder = subprocess.Popen(net.exec_cmd("tcpreplay", "-q", "-i", "vA", "--pps", FEED_PPS, feed),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        t0 = time.monotonic()
        assert net.replay(churn, "--pps", PPS, timeout=60) == n_churn
        t_churn = time.monotonic()
        assert t_churn - t0 < 2 * n_churn / PPS, "tcpreplay could not keep %d pps" % PPS
        wait_for(lambda: num(env, ACTIVE_SAS) >= N_TUNNELS, 10, step=0.5,
                 what="ipsecDiagActiveSAs >= %d" % N_TUNNELS)

        # the ageing, sampled every 2 s while the feeder goes on
        deadline = t_churn + IDLE + -(-N_TUNNELS // BUDGET) + 15
        samples = []
        last_esp = num(env, ESP_PKTS)
        while True:
            time.sleep(2)
            esp, drops, active = num(env, ESP_PKTS), num(env, DROPS), num(env, ACTIVE_SAS)
            now = time.monotonic()
            samples.append((round(now - t_churn, 1), esp, drops, active))
            assert drops == 0, "capture drops during the ageing: %s" % samples
            if feeder.poll() is None:
                assert esp > last_esp, "ipsecDiagEspPkts froze: %s" % samples
            last_esp = esp
            if active <= FEED_SAS + 1:
                break
            assert now < deadline, "the churned SAs did not age out in time: %s" % samples
        assert feeder.poll() is None, "the feeder ended before the ageing did: %s" % samples
        t_aged = time.monotonic() - t_churn
        print("aged out %.1f s after the churn; samples (s, esp, drops, active SAs): %s"
              % (t_aged, samples))
        for (ta, _, _, a), (tb, _, _, b) in zip(samples, samples[1:]):
            assert a - b <= BUDGET * (tb - ta + 2), \
                "more than %d SAs expired a tick: %s" % (BUDGET, samples)
        between = {a for _, _, _, a in samples if FEED_SAS + 1 < a < N_TUNNELS}
        assert len(between) >= 5, "the ageing was not spread over ticks: %s" % samples
        # every churned tunnel is gone (only the feeder's and the warm-up's remain)
        names = wait_for(lambda: (lambda w: w if len(w) <= 2 else None)(
                         H.walk_numeric(env, H.TUNNEL_ENTRY + ".2")), 15, step=1,
                         what="the churned tunnels to age out")
        assert "%s-%s" % (FEED_DST, FEED_SRC) in names.values() or \
               "%s-%s" % (FEED_SRC, FEED_DST) in names.values(), names
    finally:
        if feeder.poll() is None:
            feeder.wait(timeout=60)
    out = feeder.stdout.read()
    assert "Actual: %d packets" % n_feed in out, out
    # every packet sent was counted (warm-up included in base_esp)
    wait_for(lambda: num(env, ESP_PKTS) == base_esp + n_churn + n_feed, 10, step=0.5,
             what="ipsecDiagEspPkts = every packet sent")
    assert num(env, DROPS) == 0
    assert env.agent.poll() is None

    # log lines: the churned, the feeder's and the warm-up's tunnels were
    # discovered; the churned and (when its row is gone) the warm-up's aged out
    warm_gone = not any(v.startswith("192.0.2.100-") for v in names.values())
    text = env.agent_text()
    one_new = len(re.findall(r"discovered tunnel \S+ \(index \d+\)$", text, re.M))
    one_aged = len(re.findall(r"discovered tunnel \S+ \(index \d+\) aged out$", text, re.M))
    sum_new = sum(int(x) for x in re.findall(r"(\d+) more tunnels discovered in the last second",
                                               text))
    sum_aged = sum(int(x) for x in re.findall(
        r"(\d+) more discovered tunnels aged out in the last second", text))
    assert one_new + sum_new == N_TUNNELS + 2, (one_new, sum_new)
    assert one_aged + sum_aged == N_TUNNELS + warm_gone, (one_aged, sum_aged)
    assert one_new <= 20 * 120 and one_aged <= 20 * 120, (one_new, one_aged)
