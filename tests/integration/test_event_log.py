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
