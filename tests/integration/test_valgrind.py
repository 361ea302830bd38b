"""valgrind memcheck on `interactive -r`: no leaks, no invalid accesses."""
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gen"))
import espgen  # noqa: E402

import pytest


@pytest.mark.parametrize("scenario", ["mix", "natt", "ipv6", "malformed", "sll2"])
def test_memcheck_offline(idt_bin, workdir, scenario):
    pcap, truth = workdir / "c.pcap", workdir / "t.json"
    subprocess.run([sys.executable, str(Path(espgen.__file__)), "--scenario", scenario, "--seed", "3",
                    "--out", str(pcap), "--truth", str(truth)], check=True, capture_output=True)
    conf = workdir / "empty.conf"
    conf.write_text("")
    evlog = workdir / "gaps.csv"
    p = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
                        "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=3",
                        idt_bin, "interactive", "-c", str(conf), "-r", str(pcap), "--json",
                        "--event-log", str(evlog)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in p.stderr
    assert '"sas": [' in p.stdout
