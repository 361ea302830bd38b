"""Shared pytest fixtures for the integration tests.

IDT_BIN must name the built ipsecdiagtool binary (make check-integration
sets it).  Nothing is skipped: without it the tests fail with a clear
message.
"""
import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent.parent
# make tests/gen/espgen.py importable as `espgen`
sys.path.insert(0, str(TESTS_DIR / "gen"))


@pytest.fixture(scope="session")
def idt_bin():
    """Absolute path of the ipsecdiagtool binary under test (from $IDT_BIN)."""
    path = os.environ.get("IDT_BIN")
    if not path:
        pytest.fail("IDT_BIN is not set: point it at the built ipsecdiagtool binary "
                    "(e.g. IDT_BIN=$PWD/ipsecdiagtool, or run `make check-integration`)",
                    pytrace=False)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("IDT_BIN=%s does not exist or is not executable (build it first)"
                    % path, pytrace=False)
    return os.path.abspath(path)


@pytest.fixture
def workdir(tmp_path):
    """A fresh temporary directory, also used as HOME for child processes."""
    (tmp_path / "home").mkdir()
    return tmp_path


@pytest.fixture
def child_env(workdir):
    """Environment for child processes: isolated HOME, C locale."""
    env = dict(os.environ)
    env["HOME"] = str(workdir / "home")
    env["LC_ALL"] = "C"
    return env
