"""A benchmark of benchmarks/ run from a test: its simulated part alone, its JSON figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def simulated_figures(script: str, *args: str) -> dict[str, Any]:
    """``benchmarks/SCRIPT ARGS --no-swarm --json``: the figures of its simulated part; the
    test fails if it exits non-zero or ran the three-node swarm."""
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args, "--no-swarm", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["swarm_skipped"] == "--no-swarm"
    simulated: dict[str, Any] = result["simulated"]
    return simulated
