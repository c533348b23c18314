"""The performance benchmark runs (short mode) and reports every goal as a measured figure.

Timing never fails it; only a command that cannot run does (exit 2).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness import compose_binary, require

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


@pytest.mark.compose
def test_short_run_reports_the_three_goals() -> None:
    try:
        compose_binary()
    except FileNotFoundError as e:
        require(False, str(e))
    proc = subprocess.run([sys.executable, str(BENCH), "--short", "--json"], capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    figures = [
        result["startup"]["check"]["ratio"],
        result["throughput"]["check_files_per_second"],
        result["throughput"]["ratio"],
        result["big"]["seconds"],
        result["big"]["max_rss_mb"],
    ]
    assert all(isinstance(f, float) and f > 0 for f in figures), figures
    assert result["big"]["services"] == 200


def test_cannot_run_is_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--corpus", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("bench: cannot run: no corpus at ")


@pytest.mark.compose
def test_big_files_short_run_reports_both_goals() -> None:
    try:
        compose_binary()
    except FileNotFoundError as e:
        require(False, str(e))
    big = BENCH.with_name("big_bench.py")
    proc = subprocess.run([sys.executable, str(big), "--short", "--json"], capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    writing, many = result["writing"], result["many"]
    figures = [writing["write_seconds"], writing["compose_seconds"], writing["check_seconds"],
               writing["write_max_rss_mb"], many["seconds"], many["max_rss_mb"]]
    assert all(isinstance(f, float) and f > 0 for f in figures), figures
    assert (writing["services"], many["services"]) == (200, 10_000)
