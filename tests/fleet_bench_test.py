"""The fleet benchmark runs (short, simulated engines only) and reports its figure."""

from __future__ import annotations

import pytest
from harness import simulated_figures


@pytest.mark.parametrize(
    ("args", "engines"),
    [
        pytest.param(["--short"], 50, id="short"),
        pytest.param(["--engines", "7", "--repeat", "1"], 7, id="seven"),
    ],
)
def test_simulated_fleet_is_measured(args: list[str], engines: int) -> None:
    simulated = simulated_figures("fleet_bench.py", *args)
    assert simulated["engines"] == engines
    assert isinstance(simulated["seconds"], float) and simulated["seconds"] > 0
