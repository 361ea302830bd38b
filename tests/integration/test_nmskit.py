"""The Prometheus kit (conf/prometheus) with the real programs.

The real prometheus-snmp-generator builds snmp.yml from generator.yml and
mibs/ (conf/prometheus/regen.sh, into this test's directory); it must equal
the tracked conf/prometheus/snmp.yml.  In a network namespace with a veth
pair vA <-> vB (tests/integration/test_bounds.py: Net) a real snmpd with our
subagent behind it captures on vB, and the real prometheus-snmp-exporter,
listening on 127.0.0.1 of that namespace with the generated snmp.yml,
scrapes it, through the views of conf/snmpd.conf.example with a community
of its own (set in a copy of snmp.yml, as README.md tells an operator).
tcpreplay sends a hand-built loss burst on vA.

Expected values come from how the burst is built: sequence numbers 1..300
of one inbound SA without 101..137, so 263 received and 37 lost (the holes
leave the 64-packet replay window once 201 has arrived, well before 300);
loss rate over the alert interval 37 * 1000000 // (37 + 263) = 123333 ppm;
37 lost >= alert_lost 10, so the tunnel's loss alarm is on.

Finally the rules in conf/prometheus/ipsecdiag-rules.yml are evaluated by
promtool on the real scrapes (before and after the burst, and with the
subagent stopped): the alerts expected fire, for the configured tunnel
only, and no other, so the rules select metric and label names the
exporter really produces.
"""
import re
import shutil
import subprocess
import urllib.parse

import pytest

from snmpenv import SRCDIR, SnmpEnv, sh, wait_for
from test_bounds import Net, warm_up, net_fixture

KIT = SRCDIR / "conf" / "prometheus"
# the exporter reads through the views of conf/snmpd.conf.example, with a
# community of the site's own (README.md: "Prometheus")
COMMUNITY = "nms-read"

CONF_IDX = 7
CONF_NAME = "hq-branch"
CONF_L, CONF_R = "192.0.2.1", "192.0.2.2"
SPI = 0x1D000007
# the warm-up tunnel (test_bounds.warm_up: 192.0.2.200 -> 192.0.2.100);
# neither address is local, the lower one is taken as local and the name of a
# discovered tunnel is "local-remote" (see test_bounds.py)
DISC_NAME = "192.0.2.100-192.0.2.200"

BURST = [s for s in range(1, 301) if not 101 <= s <= 137]
RECEIVED, LOST = 263, 37
LOSS_PPM = LOST * 1000000 // (LOST + RECEIVED)


def tools_present():
    for t in ("prometheus-snmp-exporter", "prometheus-snmp-generator", "promtool"):
        if not shutil.which(t):
            pytest.fail("%s not found: apt-get install prometheus-snmp-exporter prometheus "
                        "(.ci/deps.sh)" % t, pytrace=False)


net = net_fixture("idtn")


def parse_exposition(text):
    """[(name, {label: value}, float)] of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, "unparsable exposition line: %r" % line
        labels = {k: v.replace('\\"', '"').replace("\\\\", "\\")
                  for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")}
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def pick(samples, name, **labels):
    """The value of the one sample named name whose labels include labels."""
    hits = [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items())]
    assert len(hits) == 1, "%s%r: %d samples (%r)" % (name, labels, len(hits), hits)
    return hits[0]


class Exporter:
    """prometheus-snmp-exporter inside the namespace, on 127.0.0.1."""

    def __init__(self, net, config):
        self.net = net
        # a free TCP port of the namespace (nothing else listens there)
        self.port = int(sh(*net.exec_cmd("python3", "-c",
                                         "import socket; s = socket.socket(); "
                                         "s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"))
                        .stdout)
        self.log = open(net.dir / "exporter.log", "wb")
        self.proc = subprocess.Popen(
            net.exec_cmd("prometheus-snmp-exporter", "--config.file=%s" % config,
                         "--web.listen-address=127.0.0.1:%d" % self.port),
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.fetch("/", check=False) is not None, 10, step=0.2,
                 what="prometheus-snmp-exporter to listen")

    def fetch(self, path, check=True):
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        r = subprocess.run(self.net.exec_cmd(
            "python3", "-c", "import sys, urllib.request; "
            "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())", url),
            capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            assert not check, "GET %s failed: %s" % (url, r.stderr[-2000:])
            return None
        return r.stdout

    def scrape(self, module, snmp_port):
        q = urllib.parse.urlencode({"module": module, "target": "127.0.0.1:%d" % snmp_port})
        return self.fetch("/snmp?" + q)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def promtool_rules_on(workdir, scrapes, expect, name="real"):
    """promtool test rules (conf/prometheus/ipsecdiag-rules.yml) on real
    scrapes: scrapes[i] is the exposition at minute i (labels
    job="ipsecdiag", instance="gw" added, as the scrape config in README.md
    gives them); expect: {alertname: [(labels, annotations)]} of the alerts
    firing at the last minute.  Returns promtool's result."""
    def q(v):
        return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
    series = {}
    for i, text in enumerate(scrapes):
        for metric, labels, value in parse_exposition(text):
            labels = dict(labels, job="ipsecdiag", instance="gw")
            key = metric + "{" + ",".join("%s=%s" % (k, q(labels[k])) for k in sorted(labels)) + "}"
            series.setdefault(key, ["_"] * len(scrapes))[i] = repr(value)
    lines = ["rule_files: [%s]" % q(str(KIT / "ipsecdiag-rules.yml")), "evaluation_interval: 1m",
             "tests:", "  - interval: 1m", "    input_series:"]
    for key, vals in sorted(series.items()):
        lines.append("      - series: %s" % q(key))
        lines.append("        values: %s" % q(" ".join(vals)))
    lines.append("    alert_rule_test:")
    for alertname, alerts in expect.items():
        lines += ["      - eval_time: %dm" % (len(scrapes) - 1),
                  "        alertname: %s" % alertname,
                  "        exp_alerts:" + ("" if alerts else " []")]
        for labels, annotations in alerts:
            lines.append("          - exp_labels:")
            lines += ["              %s: %s" % (k, q(v)) for k, v in labels.items()]
            lines.append("            exp_annotations:")
            lines += ["              %s: %s" % (k, q(v)) for k, v in annotations.items()]
    test = workdir / ("%s.test.yml" % name)
    test.write_text("\n".join(lines) + "\n")
    return subprocess.run(["promtool", "test", "rules", str(test)], capture_output=True,
                          text=True, timeout=60)


def test_exporter_scrapes_loss_burst(net, idt_bin, workdir):
    tools_present()
    # the real generator, from mibs/, into this test's directory
    gen = workdir / "snmp.yml"
    sh(KIT / "regen.sh", gen)
    assert gen.read_text() == (KIT / "snmp.yml").read_text(), \
        "conf/prometheus/snmp.yml is out of date: run conf/prometheus/regen.sh"

    conf = ('agentx: { ping_interval = 2; };\ncapture: { interface = "vB"; };\n'
            "loss: { window = 64; alert_lost = 10; alert_interval = 300; idle_timeout = 5; };\n"
            'tunnels = ( { name = "%s"; index = %d; local = "%s"; remote = "%s"; } );\n'
            % (CONF_NAME, CONF_IDX, CONF_L, CONF_R))
    views = [l for l in (SRCDIR / "conf" / "snmpd.conf.example").read_text().splitlines()
             if l.startswith("view ")]
    assert views, "no view lines in conf/snmpd.conf.example"
    env = net.env = SnmpEnv(net.dir / "snmp", idt_bin, conf, netns=net.ns, traps=False,
                            extra_snmpd_conf="\n".join(views) + "\nrocommunity %s 127.0.0.1 "
                            "-V systemview\n" % COMMUNITY)
    env.__enter__()
    warm_up(net, env)
    site = workdir / "snmp-site.yml"
    text = gen.read_text()
    assert text.count("community: public") == 2
    site.write_text(text.replace("community: public", "community: " + COMMUNITY))
    exp = Exporter(net, site)
    try:
        before = exp.scrape("ipsecdiag", env.port)
        s0 = parse_exposition(before)
        assert pick(s0, "ipsecDiagTunnelInPkts", ipsecDiagTunnelName=CONF_NAME) == 0
        assert pick(s0, "ipsecDiagTunnelLostPkts", ipsecDiagTunnelName=CONF_NAME) == 0

        pcap = net.dir / "burst.pcap"
        net.sa_pcap(pcap, BURST, SPI, CONF_R, CONF_L)
        assert net.replay(pcap) == len(BURST)

        def counted():
            s = parse_exposition(exp.scrape("ipsecdiag", env.port))
            return s if pick(s, "ipsecDiagTunnelInPkts", ipsecDiagTunnelName=CONF_NAME) == RECEIVED \
                else None
        s1 = wait_for(counted, 10, step=0.5, what="InPkts %d through the exporter" % RECEIVED)
        after = exp.scrape("ipsecdiag", env.port)
        (workdir / "scrape-after.txt").write_text(after)     # for a failing test's reader
        s1 = parse_exposition(after)

        # the burst, exactly, under the tunnel's name
        t = {"ipsecDiagTunnelName": CONF_NAME}
        assert pick(s1, "ipsecDiagTunnelLostPkts", **t) == LOST
        assert pick(s1, "ipsecDiagTunnelInPkts", **t) == RECEIVED
        for col in ("Late", "Duplicate", "Reordered", "Suspect"):
            assert pick(s1, "ipsecDiagTunnel%sPkts" % col, **t) == 0, col
        assert pick(s1, "ipsecDiagTunnelIntervalLostPkts", **t) == LOST
        assert pick(s1, "ipsecDiagTunnelLossRate", **t) == LOSS_PPM == 123333
        assert pick(s1, "ipsecDiagTunnelActiveSAs", **t) == 1
        # tunnel series carry the name and no index
        tun = [(n, l) for n, l, v in s1 if n.startswith("ipsecDiagTunnel")]
        assert tun and all("ipsecDiagTunnelName" in l and "ipsecDiagTunnelIndex" not in l
                           for n, l in tun), tun
        assert {l["ipsecDiagTunnelName"] for n, l in tun} == {CONF_NAME, DISC_NAME}
        # enums: state sets and info metrics with the MIB's names
        assert pick(s1, "ipsecDiagTunnelLossAlarm", ipsecDiagTunnelLossAlarm="alarm", **t) == 1
        assert pick(s1, "ipsecDiagTunnelLossAlarm", ipsecDiagTunnelLossAlarm="normal", **t) == 0
        assert pick(s1, "ipsecDiagTunnelOrigin_info", ipsecDiagTunnelOrigin="configured", **t) == 1
        assert pick(s1, "ipsecDiagTunnelOrigin_info", ipsecDiagTunnelOrigin="discovered",
                    ipsecDiagTunnelName=DISC_NAME) == 1
        assert pick(s1, "ipsecDiagTunnelMtuStatus", ipsecDiagTunnelMtuStatus="notConfigured",
                    **t) == 1
        assert pick(s1, "ipsecDiagTunnelMtuFailReason_info", ipsecDiagTunnelMtuFailReason="noTarget",
                    **t) == 1
        assert pick(s1, "ipsecDiagCaptureIsDropping", ipsecDiagCaptureIsDropping="false") == 1
        assert pick(s1, "ipsecDiagTunnelRemoteAddr", ipsecDiagTunnelRemoteAddr=CONF_R, **t) == 1
        assert pick(s1, "ipsecDiagTunnelLocalAddr", ipsecDiagTunnelLocalAddr=CONF_L, **t) == 1
        assert pick(s1, "ipsecDiagReplayWindow") == 64
        # nothing useless: no trigger, no address type, no name metric
        names = {n for n, l, v in s1}
        for useless in ("ipsecDiagTunnelMtuDiscover", "ipsecDiagMtuDiscoverAll",
                        "ipsecDiagTunnelName", "ipsecDiagTunnelIndex",
                        "ipsecDiagTunnelLocalAddrType", "ipsecDiagTunnelRemoteAddrType",
                        "ipsecDiagTunnelMtuTargetAddrType"):
            assert useless not in names, useless
        assert "sysUpTime" in names

        # the tunnel state: active after the burst, idle loss.idle_timeout (5 s) later
        assert pick(s1, "ipsecDiagTunnelState", ipsecDiagTunnelState="active", **t) == 1

        def idle_now():
            text = exp.scrape("ipsecdiag", env.port)
            ok = pick(parse_exposition(text), "ipsecDiagTunnelState",
                      ipsecDiagTunnelState="idle", **t) == 1
            return text if ok else None
        idle = wait_for(idle_now, 15, step=0.5, what="ipsecDiagTunnelState idle through the exporter")

        # the per-SA module
        sa = parse_exposition(exp.scrape("ipsecdiag_sa", env.port))
        sal = dict(ipsecDiagTunnelName=CONF_NAME, ipsecDiagSaDirection="1",   # inbound(1)
                   ipsecDiagSaSpi=str(SPI))
        assert pick(sa, "ipsecDiagSaLostPkts", **sal) == LOST
        assert pick(sa, "ipsecDiagSaPkts", **sal) == RECEIVED
        assert pick(sa, "ipsecDiagSaHighestSeq", **sal) == 300
        assert pick(sa, "ipsecDiagSaEncap_info", ipsecDiagSaEncap="esp", **sal) == 1
        assert not [n for n, l, v in sa if n.startswith("ipsecDiagTunnel")]
    finally:
        exp.close()
    assert env.agent.poll() is None

    # The alert rules on these real scrapes: minute 0 before the burst,
    # minutes 1..10 after it (tunnel active), minutes 11..16 with the agent
    # saying idle (ipsecDiagTunnelState).  The agent's loss alarm stays on;
    # IpsecDiagTunnelIdle fires after 5 minutes of idle, at minute 16; the
    # discovered tunnel is as silent but does not alarm.
    gw = {"job": "ipsecdiag", "instance": "gw", "ipsecDiagTunnelName": CONF_NAME}
    r = promtool_rules_on(workdir, [before] + [after] * 10 + [idle] * 6, {
        "IpsecDiagTunnelLossAlarm": [(
            dict(gw, severity="warning", ipsecDiagTunnelLossAlarm="alarm"),
            {"summary": "IPsec tunnel %s on gw loses packets" % CONF_NAME,
             "description": "The loss of tunnel %s exceeds the thresholds configured in "
             "ipsecdiagtool (ipsecDiagTunnelLossAlarm = alarm). See "
             "ipsecDiagTunnelIntervalLostPkts and ipsecDiagTunnelLossRate." % CONF_NAME})],
        "IpsecDiagTunnelIdle": [(
            dict(gw, severity="critical"),
            {"summary": "IPsec tunnel %s on gw carries no traffic" % CONF_NAME,
             "description": "No ESP packet arrives on the configured tunnel %s: IKE down, "
             "peer dead or route lost?" % CONF_NAME})],
        "IpsecDiagCaptureDropping": [], "IpsecDiagMtuDiscoveryFailed": [],
        "IpsecDiagSubagentMissing": [], "IpsecDiagSaTablePressure": [],
    })
    assert r.returncode == 0, r.stdout + r.stderr

    # Without the subagent snmpd still answers: only sysUpTime is scraped,
    # and IpsecDiagSubagentMissing fires after 5 minutes.
    assert env.stop_agent() == 0
    exp = Exporter(net, site)
    try:
        gone = exp.scrape("ipsecdiag", env.port)
    finally:
        exp.close()
    assert [n for n, l, v in parse_exposition(gone) if not n.startswith("snmp_")] == ["sysUpTime"]
    r = promtool_rules_on(workdir, [gone] * 6, {
        "IpsecDiagSubagentMissing": [(
            {"job": "ipsecdiag", "instance": "gw", "severity": "critical"},
            {"summary": "ipsecdiagtool is not serving IPSECDIAG-MIB on gw",
             "description": "snmpd on gw answers, but the ipsecdiagtool subagent's objects are "
             "missing: is ipsecdiagtool running and connected to snmpd's AgentX socket?"})],
    }, name="gone")
    assert r.returncode == 0, r.stdout + r.stderr
