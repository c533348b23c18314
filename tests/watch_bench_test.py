"""The watch benchmark runs (simulated engines only, short) and reports its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "watch_bench.py"


@pytest.mark.parametrize(
    ("args", "engines"),
    [
        pytest.param(["--engines", "7", "--idle", "1", "--samples", "2"], 7, id="seven"),
    ],
)
def test_simulated_watch_is_measured(args: list[str], engines: int) -> None:
    proc = subprocess.run([sys.executable, str(BENCH), *args, "--no-swarm", "--json"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    simulated = result["simulated"]
    assert simulated["engines"] == engines
    assert 0 < simulated["rss_mb"] < 150
    assert 1 <= simulated["threads"] <= engines + 1
    assert simulated["event_to_line_ms"]["max"] >= simulated["event_to_line_ms"]["median"] > 0
    assert result["swarm_skipped"] == "--no-swarm"
