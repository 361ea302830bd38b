"""Tests of the real-IPsec lab itself (tests/integration/lab.py).

Run (as root): /usr/bin/python3 -m pytest -q tests/integration/test_lab.py
"""

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab as L  # noqa: E402



@pytest.fixture(autouse=True)
def _prereqs():
    # like conftest.py: fail loudly instead of skipping
    problems = L.missing_prereqs()
    if problems:
        pytest.fail("lab prerequisites: " + "; ".join(problems), pytrace=False)


def _assert_gone(lab):
    names = [lab.mid] + [g.ns for g in lab.gws.values()]
    existing = set(L.list_netns())
    assert not existing.intersection(names), existing.intersection(names)
    for g in lab.gws.values():
        if g.proc is not None:
            assert g.proc.poll() is not None, "charon still running"
    assert not lab.workdir.exists()


@pytest.fixture(scope="module", name="lab")
def _shared_lab(tmp_path_factory):
    lb = L.Lab(tmp_path_factory.mktemp("lab"))
    with lb:
        yield lb
    _assert_gone(lb)


@pytest.fixture
def clean_lab(lab):
    """The shared lab with all nft filtering removed before and after."""
    lab.nft_clear()
    lab.flush_route_cache()
    yield lab
    lab.nft_clear()
    for g in lab.gws:
        lab.set_ipsec0_mtu(g, L.IPSEC0_DEFAULT_MTU)
    lab.flush_route_cache()


def test_formula_helpers():
    assert L.esp_outer_len(84) == 68 + 96
    assert L.esp_outer_len(1400) == 1476
    for outer in range(200, 1500, 7):
        n = L.max_inner_for_outer(outer)
        assert L.esp_outer_len(n) <= outer < L.esp_outer_len(n + 1)


def test_vici_raw_parser():
    text = ("list-sa event {c1 {uniqueid=1 state=ESTABLISHED child-sas {c1-1 "
            "{name=c1 state=INSTALLED spi-in=c0ffee01 spi-out=0000abcd "
            "local-ts=[10.10.1.0/24] remote-ts=[10.10.2.0/24 10.10.3.0/24]}}}}\n"
            "list-sas reply {}\n")
    msgs = L.parse_vici_raw(text)
    assert msgs[0][0] == "list-sa" and msgs[1] == ("list-sas", {})
    ch = msgs[0][1]["c1"]["child-sas"]["c1-1"]
    assert ch["spi-in"] == "c0ffee01"
    assert ch["remote-ts"] == ["10.10.2.0/24", "10.10.3.0/24"]


def test_tunnel_up_and_ping(clean_lab):
    lab = clean_lab
    sas = lab.sas("gw1")
    assert len(sas) == 1
    sa = sas[0]
    assert sa["state"] == "INSTALLED" and sa["ike_state"] == "ESTABLISHED"
    assert sa["encap"] and sa["local_port"] == 4500 and sa["remote_port"] == 4500
    assert sa["local_ts"] == ["10.10.1.0/24"] and sa["remote_ts"] == ["10.10.2.0/24"]
    # the responder sees the mirrored SPIs
    sa2 = lab.sas("gw2")[0]
    assert (sa2["spi_in"], sa2["spi_out"]) == (sa["spi_out"], sa["spi_in"])
    assert lab.ipsec0_mtu("gw1") == 1400
    assert "dev ipsec0" in lab.route_get()
    with lab.capture("gw1", "ipsec0", bpf="icmp") as inner:
        assert lab.ping(20) == (20, 20)
    after = lab.sas("gw1")[0]
    # plaintext inner packets are visible on ipsec0 (raw IP link type)
    icmp = inner.packets()
    assert len(icmp) == 40
    assert {(p["src"], p["dst"], p["icmp_type"]) for p in icmp} == {
        ("10.10.1.1", "10.10.2.1", 8), ("10.10.2.1", "10.10.1.1", 0)}
    assert after["packets_out"] - sa["packets_out"] == 20
    assert after["packets_in"] - sa["packets_in"] == 20


def test_capture_sees_udp4500_esp_with_df(clean_lab):
    lab = clean_lab
    sa = lab.sas("gw1")[0]
    with lab.capture("mid", "m1") as cap:
        assert lab.ping(5, size=100) == (5, 5)
    pkts = cap.packets()
    esp = [p for p in pkts if p.get("kind") == "esp"]
    assert len(esp) == 10, pkts
    for p in esp:
        assert p["proto"] == 17 and p["sport"] == 4500 and p["dport"] == 4500
        assert p["df"], p
        assert p["spi"] != 0
        assert p["ip_len"] == L.esp_outer_len(100 + 28)
    out = [p for p in esp if p["src"] == "192.0.2.1"]
    back = [p for p in esp if p["src"] == "192.0.2.2"]
    assert {p["spi"] for p in out} == {sa["spi_out"]}
    assert {p["spi"] for p in back} == {sa["spi_in"]}
    seqs = [p["seq"] for p in out]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    # no plain ESP (IP proto 50) on the wire
    assert not [p for p in pkts if p["proto"] == 50]


@pytest.mark.parametrize("size", [0, 1, 13, 14, 15, 29, 100, 500, 1000, 1371, 1372])
def test_outer_size_formula(clean_lab, size):
    lab = clean_lab
    with lab.capture("mid", "m1") as cap:
        assert lab.ping(1, size=size, df=True) == (1, 1)
    esp = cap.esp(src="192.0.2.1")
    assert len(esp) == 1
    inner = size + 28
    assert esp[0]["ip_len"] == L.esp_outer_len(inner) == 68 + ((inner + 2 + 15) // 16) * 16
    assert esp[0]["df"]


def test_ipsec0_mtu_limits_df_pings(clean_lab):
    lab = clean_lab
    # default MTU 1400: inner 1400 (= -s 1372) fits, 1401 does not
    assert lab.ping(1, size=1372, df=True) == (1, 1)
    assert lab.ping(1, size=1373, df=True)[1] == 0
    lab.set_ipsec0_mtu("gw1", 1300)
    lab.flush_route_cache()
    assert lab.ipsec0_mtu("gw1") == 1300
    assert lab.ping(1, size=1272, df=True) == (1, 1)
    assert lab.ping(1, size=1273, df=True)[1] == 0


def test_exact_esp_drops_one_direction(clean_lab):
    lab = clean_lab
    h = lab.nft_drop_esp("gw2->gw1", exact=7)
    with lab.capture("mid", "m2", name="ingress") as cin, \
            lab.capture("mid", "m1", name="egress") as cout:
        sent, rcvd = lab.ping(20, interval=0.02)
    assert (sent, rcvd) == (20, 13)
    assert h.dropped == 7 and h.seen == 20
    # first 7 replies (lowest ESP sequence numbers) are the dropped ones
    replies_in = cin.esp(src="192.0.2.2")
    replies_out = cout.esp(src="192.0.2.2")
    assert len(replies_in) == 20 and len(replies_out) == 13
    dropped = sorted({p["seq"] for p in replies_in} - {p["seq"] for p in replies_out})
    assert dropped == sorted(p["seq"] for p in replies_in)[:7]
    # requests were untouched
    assert len(cout.esp(src="192.0.2.1")) == 20
    # quota used up: further traffic passes
    assert lab.ping(10) == (10, 10)
    assert h.dropped == 7 and h.seen == 30


def test_every_nth_and_random_drops(clean_lab):
    lab = clean_lab
    h = lab.nft_drop_esp("gw1->gw2", every_nth=4)
    assert lab.ping(20) == (20, 15)
    assert (h.seen, h.dropped) == (20, 5)
    lab.nft_clear()
    h = lab.nft_drop_esp("gw2->gw1", probability=0.5)
    sent, rcvd = lab.ping(60, interval=0.005)
    assert h.seen == 60
    assert sent - rcvd == h.dropped
    assert 5 < h.dropped < 55


def test_blackhole_above(clean_lab):
    lab = clean_lab
    limit = 1000
    inner_max = L.max_inner_for_outer(limit)       # 926
    assert inner_max == 926
    h = lab.nft_blackhole_above(limit)
    with lab.capture("mid", "m2") as cap:
        assert lab.ping(2, size=inner_max - 28, df=True) == (2, 2)
        assert lab.ping(2, size=inner_max - 28 + 1, df=True, wait=1) == (2, 0)
    assert h.dropped == 2
    # silently: nothing at all comes back from the middle (no ICMP)
    assert not [p for p in cap.packets() if p["proto"] == 1]
    assert not cap.esp(src="192.0.2.1") or max(p["ip_len"] for p in cap.esp(src="192.0.2.1")) <= limit
    # fitting packets keep working afterwards
    assert lab.ping(3, size=500, df=True) == (3, 3)


def test_outer_pmtu_exception_fragments_esp_and_flush_clears_it(clean_lab):
    lab = clean_lab
    lab.inject_frag_needed("gw1", "gw2", 1200)
    assert "mtu 1200" in lab.route_get("192.0.2.2", None, "gw1")
    # note: "udp port 4500" would not match non-first fragments
    with lab.capture("mid", "m1", bpf="ip") as cap:
        assert lab.ping(1, size=1100, df=True) == (1, 1)      # outer 1204 > 1200
    out = [p for p in cap.packets() if p["src"] == "192.0.2.1"]
    # gw1 fragments the ESP-in-UDP datagram itself and clears DF
    assert len(out) == 2
    first, second = out
    assert first["kind"] == "esp" and first["mf"] and not first["df"]
    assert first["udp_len"] + 20 == L.esp_outer_len(1128) == 1204
    assert second["frag_off"] > 0 and not second["df"]
    lab.flush_route_cache()
    assert "mtu" not in lab.route_get("192.0.2.2", None, "gw1")
    with lab.capture("mid", "m1") as cap:
        assert lab.ping(1, size=1100, df=True) == (1, 1)
    (p,) = [p for p in cap.packets() if p["src"] == "192.0.2.1"]
    assert p["df"] and p["ip_len"] == 1204


def test_manual_rekey_new_spis_carry_traffic(clean_lab):
    lab = clean_lab
    old = lab.sas("gw1")[0]
    new = lab.rekey("gw1-gw2")
    assert new["spi_in"] != old["spi_in"] and new["spi_out"] != old["spi_out"]
    # the old CHILD_SA lingers as DELETED for delete_rekeyed_delay (5 s)
    states = {s["spi_in"]: s["state"] for s in lab.sas("gw1")}
    assert states[new["spi_in"]] == "INSTALLED"
    assert states.get(old["spi_in"], "DELETED") == "DELETED"
    with lab.capture("mid", "m1") as cap:
        assert lab.ping(5) == (5, 5)
    spis = {p["spi"] for p in cap.esp()}
    assert spis == {new["spi_in"], new["spi_out"]}
    # ESP sequence numbers restart at 1 on the new SA
    assert [p["seq"] for p in cap.esp(src="192.0.2.1")] == [1, 2, 3, 4, 5]
    assert [p["seq"] for p in cap.esp(src="192.0.2.2")] == [1, 2, 3, 4, 5]


# slow-ish (~10 s); no custom marker to avoid PytestUnknownMarkWarning
def test_timed_rekey(tmp_path):
    rekey = 8
    t0 = time.time()
    with L.Lab(tmp_path, rekey_time=rekey, delete_rekeyed_delay=1) as lab:
        first = lab.sas("gw1")[0]
        assert first["raw"]["rekey-time"] in (str(rekey), str(rekey - 1))
        new = lab.wait_new_sa("gw1-gw2", {first["spi_in"]}, timeout=rekey + 10)
        assert time.time() - t0 >= rekey - 1
        deadline = time.time() + 5
        while time.time() < deadline and len(lab.sas("gw1")) > 1:
            time.sleep(0.1)
        assert [s["spi_in"] for s in lab.sas("gw1")] == [new["spi_in"]]
        with lab.capture("mid", "m2") as cap:
            assert lab.ping(5) == (5, 5)
        assert {p["spi"] for p in cap.esp()} == {new["spi_in"], new["spi_out"]}
        # responder agrees
        sa2 = lab.sas("gw2")
        assert [(s["spi_in"], s["spi_out"]) for s in sa2] == [(new["spi_out"], new["spi_in"])]
    _assert_gone(lab)


def test_two_tunnels(tmp_path):
    with L.Lab(tmp_path, tunnels=2) as lab:
        sas = {s["child"]: s for s in lab.sas("gw1")}
        assert set(sas) == {"gw1-gw2", "gw1-gw3"}
        assert all(s["state"] == "INSTALLED" for s in sas.values())
        assert lab.ping(5, dst="10.10.2.1") == (5, 5)
        assert lab.ping(5, dst="10.10.3.1") == (5, 5)
        h = lab.nft_drop_esp("gw3->gw1", exact=2)
        with lab.capture("mid", "m1") as cap:
            assert lab.ping(5, dst="10.10.2.1") == (5, 5)
            assert lab.ping(5, dst="10.10.3.1") == (5, 3)
        assert h.dropped == 2
        by_spi = {}
        for p in cap.esp():
            by_spi.setdefault(p["spi"], 0)
            by_spi[p["spi"]] += 1
        assert by_spi == {sas["gw1-gw2"]["spi_out"]: 5, sas["gw1-gw2"]["spi_in"]: 5,
                          sas["gw1-gw3"]["spi_out"]: 5, sas["gw1-gw3"]["spi_in"]: 3}
    _assert_gone(lab)


def test_cleanup_after_failed_setup(tmp_path, monkeypatch):
    lab = L.Lab(tmp_path)
    monkeypatch.setattr(L.Lab, "initiate",
                        lambda self, *a, **k: (_ for _ in ()).throw(L.LabError("boom")))
    with pytest.raises(L.LabError, match="boom"):
        with lab:
            pass
    _assert_gone(lab)
