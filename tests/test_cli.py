"""The `resilience` command: bad input is one line, exit status 2, no traceback."""
import subprocess
import sys

import pytest

from analysis.cli import main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], capture_output=True, text=True)


def test_help_lists_every_command():
    out = _run("--help").stdout
    for cmd in ("reproduce", "verify", "instrument", "simulate", "ingest", "screen", "fit", "report", "scan"):
        assert cmd in out


def test_missing_model_file_is_a_clean_error(tmp_path):
    proc = _run("fit", str(tmp_path / "nope.lav"), str(tmp_path / "nope.csv"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "nope.lav" in proc.stderr and "not found" in proc.stderr


def test_unknown_step_is_a_clean_error(capsys):
    assert main(["reproduce", "no-such-step"]) == 2
    err = capsys.readouterr().err
    assert "unknown step" in err and "instrument" in err
