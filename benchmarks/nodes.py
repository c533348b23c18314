"""What the benchmarks of many engines share (fleet_bench.py, watch_bench.py, which put this
folder and tests/ on the import path): their one failure, an inventory of engines, and the
three-node swarm of the test harness."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class CannotRun(Exception):
    pass


def write_inventory(
    path: Path, engines: Mapping[str, str], addresses: Callable[[int], tuple[str, str]]
) -> Path:
    """An inventory of ``engines`` (node name -> engine address); the i-th node's public and
    service IPv4 addresses are ``addresses(i)``."""
    lines = ["nodes:"]
    for i, (name, engine) in enumerate(engines.items()):
        public, service = addresses(i)
        lines += [f"  {name}:", f"    engine: {json.dumps(engine)}",
                  f"    public: {{ipv4: {public}}}", f"    service: {{ipv4: {service}}}"]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def three_node_swarm() -> Iterator[Any]:
    """The harness's three-node swarm (one dockerd per network namespace; needs root)."""
    from harness import Lab, build_swarm, netns_unavailable_reason

    reason = netns_unavailable_reason()
    if reason is not None:
        raise CannotRun(f"the three-node swarm needs network namespaces: {reason}")
    with Lab() as lab:
        yield build_swarm(lab)
