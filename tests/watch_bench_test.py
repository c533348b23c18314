"""The watch benchmark runs (simulated engines only, short) and reports its figures."""

from __future__ import annotations

import pytest
from harness import simulated_figures


@pytest.mark.parametrize(
    ("args", "engines"),
    [
        pytest.param(["--engines", "7", "--idle", "1", "--samples", "2"], 7, id="seven"),
    ],
)
def test_simulated_watch_is_measured(args: list[str], engines: int) -> None:
    simulated = simulated_figures("watch_bench.py", *args)
    assert simulated["engines"] == engines
    assert 0 < simulated["rss_mb"] < 150
    assert 1 <= simulated["threads"] <= engines + 1
    assert simulated["event_to_line_ms"]["max"] >= simulated["event_to_line_ms"]["median"] > 0
