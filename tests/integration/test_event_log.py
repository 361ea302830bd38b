"""The loss event log (loss.event_log / --event-log): one CSV line per gap."""
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gen"))
import espgen  # noqa: E402
from espgen import IPPROTO_ESP, Link, PcapWriter, esp, ipv4  # noqa: E402

SRC, DST, SPI = "203.0.113.7", "198.51.100.1", 0x1A2B3C4D
T0 = 1_700_000_000_000_000


def frame(seq):
    return Link("eth").frame(ipv4(SRC, DST, IPPROTO_ESP, esp(SPI, seq, bytes(16))))


def test_event_log_lines(idt_bin, workdir):
    # Hand-built stream, W = 64: 1..10, 15..100 (gap 11..14), then 5 again (late),
    # then 102..170 (gap 101), then 3 again (late).  Packet k is sent at T0 + k ms.
    seqs = list(range(1, 11)) + list(range(15, 101)) + [5] + list(range(102, 171)) + [3]
    w = PcapWriter(espgen.DLT_EN10MB)
    for k, s in enumerate(seqs):
        w.add(T0 + k * 1000, frame(s))
    pcap = workdir / "gaps.pcap"
    w.write(pcap)
    conf = workdir / "c.conf"
    conf.write_text("")
    log = workdir / "gaps.csv"
    p = subprocess.run([idt_bin, "interactive", "-c", str(conf), "-r", str(pcap), "--event-log", str(log)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    # By hand: 11 leaves the window [H-63, H] when H reaches 11 + 64 = 75 (then 12..14 one
    # by one: one gap, one line, stamped when its first number was declared lost); seq 75
    # is at index 10 + (75 - 15) = 70 -> time T0 + 70 ms.  Seq 5 arrives at index 96 (late).
    # 101 leaves when H = 165, at index 97 + (165 - 102) = 160.  Seq 3 is late at index 166.
    # Nothing is left in the window at the end (106..170 all received, 101 already counted).
    lines = log.read_text().splitlines()
    spi = "0x1a2b3c4d"
    tun = "%s-%s" % (DST, SRC)    # offline: the lower address is local
    assert lines == [
        "time,tunnel,src,dst,spi,first_seq,last_seq,count,kind",
        "1700000000.070000,%s,%s,%s,%s,11,14,4,lost" % (tun, SRC, DST, spi),
        "1700000000.096000,%s,%s,%s,%s,5,5,1,late" % (tun, SRC, DST, spi),
        "1700000000.160000,%s,%s,%s,%s,101,101,1,lost" % (tun, SRC, DST, spi),
        "1700000000.166000,%s,%s,%s,%s,3,3,1,late" % (tun, SRC, DST, spi),
    ]


def test_event_log_unwritable_is_one_clear_error(idt_bin, workdir):
    conf = workdir / "c.conf"
    conf.write_text("")
    pcap = workdir / "x.pcap"
    w = PcapWriter(espgen.DLT_EN10MB)
    w.add(T0, frame(1))
    w.write(pcap)
    p = subprocess.run([idt_bin, "interactive", "-c", str(conf), "-r", str(pcap),
                        "--event-log", str(workdir / "no" / "such" / "dir.csv")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "event log" in p.stderr and "no/such/dir.csv" in p.stderr and "No such file" in p.stderr


# --------------------------------------------------------------------------
# live daemon: the event log is reopened on SIGHUP (logrotate) and survives
# write errors.  Expected gap lines come from the generated drops: every
# maximal run of missing numbers passed by the window is one "lost" line
# (cross-checked against espgen's ReplayModel count).

import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from snmpenv import SnmpEnv, wait_for  # noqa: E402
from test_alerts import (A1, B1, LIVE_NAME, LIVE_SPI, Stream, _tool, build_pcap,  # noqa: E402
                         live, live_config, warm_up)

assert live  # the fixture, imported for the tests below

SRCDIR = Path(__file__).resolve().parents[2]


def gap_stream(first, n, rng, nbursts, maxlen, gap_us):
    """Numbers first..first+n-1 with nbursts runs of 1..maxlen dropped inside
    [first+1, first+n-1), then 70 more received: every gap is passed by the
    window (W = 64) before the stream ends."""
    kept = espgen.drop_bursts(espgen.seq_run(first, n), nbursts, 1, maxlen, rng)
    last = first + n + 69
    drops = set(range(first, first + n)) - set(kept)
    return Stream(A1, B1, LIVE_SPI, first, last, drops=drops, t0=espgen.BASE_TS_US, gap=gap_us)


def expected_lines(stream):
    """CSV lines without the time column, in the order they are declared."""
    out, run = [], None
    for s in range(stream.first, stream.last + 1):
        if s in stream.drops:
            run = [s, s] if run is None else [run[0], s]
        elif run is not None:
            out.append("%s,%s,%s,0x%08x,%d,%d,%d,lost" % (LIVE_NAME, A1, B1, LIVE_SPI, run[0], run[1],
                                                         run[1] - run[0] + 1))
            run = None
    model = espgen.ReplayModel(64)
    for _, s in stream.packets():
        model.update(s)
    assert model.lost == len(stream.drops) == sum(int(l.split(",")[6]) for l in out)
    return out


def merged(lines):
    """A run that straddles the once-a-second flush is written as two lines
    that continue each other (event_log.h); join them for comparison."""
    out = []
    for l in lines:
        f = l.split(",")
        if out:
            p = out[-1].split(",")
            if p[:4] == f[:4] and p[7] == f[7] and int(f[4]) == int(p[5]) + 1:
                p[5], p[6] = f[5], str(int(p[6]) + int(f[6]))
                out[-1] = ",".join(p)
                continue
        out.append(l)
    return out


def csv_lines(path):
    """(header ok, lines without the time column) of an event log file."""
    if not path.exists():
        return False, []
    rows = path.read_text().splitlines()
    head = bool(rows) and rows[0] == "time,tunnel,src,dst,spi,first_seq,last_seq,count,kind"
    for r in rows[1:]:
        assert re.match(r"^\d+\.\d{6},", r), "not a whole CSV line: %r" % r
    return head, [r.split(",", 1)[1] for r in rows[1:]]


def elog_config(port, path):
    cfg = live_config(port).replace("alert_interval = 4;",
                                    'alert_interval = 4; event_log = "%s";' % path)
    assert str(path) in cfg
    return cfg


def start_replay(net, stream, name):
    pcap = net.dir / ("%s.pcap" % name)
    build_pcap(pcap, [stream], dst_mac=net.mac_b, src_mac=net.mac_a)
    return subprocess.Popen([_tool("ip"), "netns", "exec", net.ns, "tcpreplay", "-q", "-i", "vA",
                             str(pcap)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish_replay(p, timeout=60):
    _, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, err


def test_live_rename_and_sighup_reopens_none_lost(idt_bin, live, workdir):
    net = live
    log = workdir / "elog" / "gaps.csv"
    log.parent.mkdir()
    env = net.start_snmp(idt_bin, elog_config(net.syslog_port, log))
    warm_up(net, env)
    stream = gap_stream(1, 500, random.Random(4242), 40, 4, 10_000)   # 5.7 s at 100 pps
    want = expected_lines(stream)
    p = start_replay(net, stream, "gaps")
    # part of the gaps are in the file, more are coming: rotate now
    wait_for(lambda: len(csv_lines(log)[1]) >= 5, 30, step=0.05, what="first gap lines")
    rotated = workdir / "elog" / "gaps.csv.1"
    os.rename(log, rotated)
    env.agent.send_signal(signal.SIGHUP)
    wait_for(lambda: log.exists(), 10, step=0.05, what="the event log opened again")
    finish_replay(p)
    both = lambda: csv_lines(rotated)[1] + csv_lines(log)[1]   # noqa: E731
    wait_for(lambda: len(both()) >= len(want), 15, step=0.2, what="all gap lines")
    time.sleep(1.5)                 # nothing more than expected arrives
    head_old, old = csv_lines(rotated)
    head_new, new = csv_lines(log)
    assert head_old and head_new
    assert old and new, (old, new)
    assert merged(old + new) == want
    assert "configuration reloaded" in env.agent_text()
    assert "event log" not in env.agent_text(), env.agent_text()


@pytest.fixture
def tiny_fs(workdir):
    mnt = workdir / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(mnt)],
                   check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(path):
    """Write a file until the file system is full."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == 28, e     # ENOSPC
        try:
            while True:
                f.write(b"\0")
        except OSError as e:
            assert e.errno == 28, e


def test_live_write_error_episode_retries_and_recovers(idt_bin, live, workdir, tiny_fs):
    net = live
    log = tiny_fs / "gaps.csv"
    env = net.start_snmp(idt_bin, elog_config(net.syslog_port, log))
    warm_up(net, env)
    wait_for(lambda: csv_lines(log)[0], 10, what="the header")
    filler = tiny_fs / "filler"
    fill(filler)
    # 1200 single-number gaps at 1000 pps: ~90 KB of lines while the file
    # system is full; some fit in the log file's last page, the 64 KiB
    # buffer takes the next ones, the rest are lost and counted
    # every third number lost: single gaps, one line each
    s1 = Stream(A1, B1, LIVE_SPI, 1, 3669, drops={3 * i + 2 for i in range(1200)},
                t0=espgen.BASE_TS_US, gap=1_000)
    want1 = expected_lines(s1)
    assert len(want1) == 1200
    finish_replay(start_replay(net, s1, "full"))
    wait_for(lambda: "write failed" in env.agent_text(), 15, what="the write failure line")
    time.sleep(2)
    filler.unlink()
    wait_for(lambda: "writing again" in env.agent_text(), 45, step=0.2, what="the recovery line")
    wait_for(lambda: len(csv_lines(log)[1]) > 0 and env.agent_text().count("writing again"), 5)
    time.sleep(1.5)
    text = env.agent_text()
    fails = [l for l in text.splitlines() if "event log" in l]
    assert len(fails) == 2, fails
    assert re.search(r"event log %s: write failed: No space left on device; retrying" % re.escape(str(log)),
                     fails[0]), fails
    m = re.search(r"event log %s: writing again; (\d+) lines? lost while it failed$" % re.escape(str(log)),
                  fails[1])
    assert m, fails
    lost = int(m.group(1))
    head, got = csv_lines(log)
    assert head
    # what is in the file is the expected sequence with one block missing: the
    # lines that came while the buffer was full
    assert lost > 0 and got == want1[:len(want1) - lost], (lost, len(got), len(want1))
    # a second burst after recovery is logged in full
    s2 = gap_stream(s1.last + 1, 300, random.Random(8), 10, 3, 10_000)   # the SA goes on
    want2 = expected_lines(s2)
    finish_replay(start_replay(net, s2, "after"))
    wait_for(lambda: len(csv_lines(log)[1]) >= len(got) + len(want2), 15, step=0.2,
             what="the lines of the second burst")
    time.sleep(1.5)
    assert merged(csv_lines(log)[1]) == want1[:len(got)] + want2
    assert [l for l in env.agent_text().splitlines() if "event log" in l] == fails


def shipped_logrotate(glob, pidfile):
    text = (SRCDIR / "conf" / "ipsecdiagtool.logrotate").read_text()
    assert "/var/log/ipsecdiagtool/*.csv {" in text and "/run/ipsecdiagtool.pid" in text
    text = text.replace("/var/log/ipsecdiagtool/*.csv", str(glob))
    text = text.replace("/run/ipsecdiagtool.pid", str(pidfile))
    # the test runs as root on root-owned files: no su to the service user
    return "\n".join(l for l in text.splitlines() if not l.strip().startswith("su "))


def test_live_logrotate_snippet_rotates_and_signals(idt_bin, live, workdir):
    net = live
    d = workdir / "lr"
    d.mkdir(mode=0o755)
    log, pidfile, state = d / "gaps.csv", workdir / "idt.pid", workdir / "lr.state"
    conf = workdir / "lr.conf"
    conf.write_text(shipped_logrotate(d / "*.csv", pidfile))
    lr = shutil.which("logrotate") or "/usr/sbin/logrotate"
    dry = subprocess.run([lr, "-d", "-s", str(state), str(conf)], capture_output=True, text=True,
                         timeout=30)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert str(d / "*.csv") in dry.stdout + dry.stderr
    assert "error" not in (dry.stdout + dry.stderr).lower(), dry.stdout + dry.stderr

    net.env = env = SnmpEnv(net.dir / "snmp", idt_bin, elog_config(net.syslog_port, log),
                            netns=net.ns, start_agent=False)
    env.__enter__()
    env.start_agent(extra_args=["-p", str(pidfile)])
    warm_up(net, env)
    s1 = gap_stream(1, 300, random.Random(1), 8, 3, 10_000)
    want1 = expected_lines(s1)
    finish_replay(start_replay(net, s1, "one"))
    wait_for(lambda: len(csv_lines(log)[1]) >= len(want1), 15, step=0.2, what="first lines")
    r = subprocess.run([lr, "-f", "-v", "-s", str(state), str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    rotated = d / "gaps.csv.1"
    assert rotated.exists(), sorted(os.listdir(d))
    wait_for(lambda: env.agent_text().count("configuration reloaded") == 1, 10,
             what="the reload after postrotate")
    wait_for(lambda: csv_lines(log)[0], 10, what="the new file with its header")
    s2 = gap_stream(s1.last + 1, 300, random.Random(2), 8, 3, 10_000)   # the SA goes on
    want2 = expected_lines(s2)
    finish_replay(start_replay(net, s2, "two"))
    wait_for(lambda: len(csv_lines(log)[1]) >= len(want2), 15, step=0.2, what="second lines")
    time.sleep(1.5)
    head1, got1 = csv_lines(rotated)
    head2, got2 = csv_lines(log)
    assert head1 and head2
    assert merged(got1) == want1
    assert merged(got2) == want2
