"""The fleet benchmark runs (short, simulated engines only) and reports its figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "fleet_bench.py"


@pytest.mark.parametrize(
    ("args", "engines"),
    [
        pytest.param(["--short"], 50, id="short"),
        pytest.param(["--engines", "7", "--repeat", "1"], 7, id="seven"),
    ],
)
def test_simulated_fleet_is_measured(args: list[str], engines: int) -> None:
    proc = subprocess.run([sys.executable, str(BENCH), *args, "--no-swarm", "--json"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    simulated = result["simulated"]
    assert simulated["engines"] == engines
    assert isinstance(simulated["seconds"], float) and simulated["seconds"] > 0
    assert result["swarm_skipped"] == "--no-swarm"
