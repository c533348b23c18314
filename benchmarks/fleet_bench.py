"""How long ``compose-net audit --nodes`` takes: about the slowest node, not the sum.

1. a simulated fleet: N engines (default 200) on unix sockets, each a small HTTP server
   answering the calls audit makes with a few containers and bindings
   (tests/harness/fakeengine.py), audited with ``--jobs 32``. Goal: under 10 s.
2. the three-node swarm of the test harness (one dockerd per network namespace; needs root)
   plus a node that accepts connections and never answers, with ``--node-timeout T``.
   Goals: with the silent node, at most T + 1 s; with every node answering, under 1.5x the
   time of auditing the slowest node alone (each node is audited alone first).

Every figure is the wall time of a whole ``compose-net`` process (start-up included), the
median of the repeats. Timing never fails the run; a command that cannot run does (exit 2).

Usage::

    python benchmarks/fleet_bench.py                # both parts
    python benchmarks/fleet_bench.py --short        # 50 simulated engines, one repeat
    python benchmarks/fleet_bench.py --no-swarm     # the simulated fleet only
    python benchmarks/fleet_bench.py --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]  # nodes.py, the test harness

from harness.fakeengine import FakeEngine, FakeFleet, container, service  # noqa: E402
from nodes import ROOT, CannotRun, three_node_swarm, write_inventory  # noqa: E402

JOBS = 32
GOAL_SIMULATED_S = 10.0
GOAL_RATIO = 1.5


def addresses(i: int) -> tuple[str, str]:
    """The i-th node's public and service addresses."""
    return f"198.18.{i // 250}.{i % 250 + 1}", f"10.{i // 250}.{i % 250}.1"


def audit(inventory: Path, *args: str) -> tuple[float, dict[str, Any]]:
    """One ``audit --nodes`` process: (wall seconds, its JSON)."""
    argv = [sys.executable, "-m", "compose_net", "audit", "--nodes", "--inventory",
            str(inventory), "--format", "json", *args]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False,
                          cwd=ROOT)
    elapsed = time.monotonic() - started
    if proc.returncode not in (0, 1) or not proc.stdout:
        raise CannotRun(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return elapsed, json.loads(proc.stdout)


def median_audit(inventory: Path, repeat: int, *args: str) -> tuple[float, dict[str, Any]]:
    runs = [audit(inventory, *args) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), runs[-1][1]


def simulated(count: int, repeat: int, folder: Path) -> dict[str, Any]:
    with FakeFleet(folder) as fleet:
        engines = {}
        for i in range(count):
            name = f"sim{i:03d}"
            engines[name] = fleet.add(FakeEngine(
                name,
                [container(f"web{j}", ("0.0.0.0", 8000 + j, 80), ("10.0.0.1", 9000 + j, 90))
                 for j in range(3)],
                [service("st_api", (7000, 7000, "ingress"))] if i == 0 else (),
                swarm="manager" if i == 0 else "worker",
            ))
        inventory = write_inventory(folder / "fleet.yaml", engines, addresses)
        seconds, data = median_audit(inventory, repeat, "--jobs", str(JOBS))
    if data["summary"]["reachable"] != count:
        raise CannotRun(f"only {data['summary']['reachable']} of {count} engines answered")
    return {"engines": count, "jobs": JOBS, "seconds": round(seconds, 3),
            "goal_seconds": GOAL_SIMULATED_S, "met": seconds < GOAL_SIMULATED_S}


def swarm_part(timeout: float, repeat: int, folder: Path) -> dict[str, Any]:
    with three_node_swarm() as swarm, FakeFleet(folder) as fleet:
        engines = {name: node.docker_host for name, node in swarm.nodes.items()}
        alone = {}
        for name, engine in engines.items():
            one = write_inventory(folder / f"{name}.yaml", {name: engine}, addresses)
            alone[name], _ = median_audit(one, repeat)
        everyone = write_inventory(folder / "swarm.yaml", engines, addresses)
        together, data = median_audit(everyone, repeat)
        if data["summary"]["reachable"] != len(engines):
            raise CannotRun(f"the swarm nodes did not all answer: {data['summary']}")
        silent = write_inventory(folder / "silent.yaml",
                                 {**engines, "mute": fleet.add_silent("mute")}, addresses)
        with_silent, data = median_audit(silent, repeat, "--node-timeout", str(timeout))
        if data["summary"]["unreachable"] != 1:
            raise CannotRun(f"the silent node was not the one unreachable: {data['summary']}")
    slowest = max(alone.values())
    ratio = together / slowest
    return {
        "alone_seconds": {k: round(v, 3) for k, v in alone.items()},
        "all_seconds": round(together, 3),
        "ratio_to_slowest": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
        "ratio_met": ratio < GOAL_RATIO,
        "node_timeout": timeout,
        "with_silent_node_seconds": round(with_silent, 3),
        "silent_met": with_silent <= timeout + 1,
    }


def report(result: Mapping[str, Any]) -> str:
    lines = []
    sim = result.get("simulated")
    if sim:
        lines.append(f"simulated fleet: {sim['engines']} engines, --jobs {sim['jobs']}: "
                     f"{sim['seconds']:.2f} s (goal < {sim['goal_seconds']:g} s: "
                     f"{'met' if sim['met'] else 'NOT met'})")
    sw = result.get("swarm")
    if sw:
        alone = ", ".join(f"{k} {v:.2f} s" for k, v in sw["alone_seconds"].items())
        lines.append(f"three-node swarm, each alone: {alone}")
        lines.append(f"  all three: {sw['all_seconds']:.2f} s = {sw['ratio_to_slowest']:.2f}x "
                     f"the slowest alone (goal < {sw['goal_ratio']:g}x: "
                     f"{'met' if sw['ratio_met'] else 'NOT met'})")
        lines.append(f"  plus a silent node, --node-timeout {sw['node_timeout']:g}: "
                     f"{sw['with_silent_node_seconds']:.2f} s (goal <= "
                     f"{sw['node_timeout'] + 1:g} s: {'met' if sw['silent_met'] else 'NOT met'})")
    elif "swarm_skipped" in result:
        lines.append(f"three-node swarm: not run ({result['swarm_skipped']})")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="50 engines, one repeat")
    parser.add_argument("--engines", type=int, default=None, help="simulated engines (200)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per figure (3)")
    parser.add_argument("--node-timeout", type=float, default=2.0)
    parser.add_argument("--no-swarm", action="store_true", help="skip the three-node swarm")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    engines = args.engines or (50 if args.short else 200)
    repeat = args.repeat or (1 if args.short else 3)
    result: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
            (Path(tmp) / "sim").mkdir()
            result["simulated"] = simulated(engines, repeat, Path(tmp) / "sim")
            if args.no_swarm:
                result["swarm_skipped"] = "--no-swarm"
            else:
                (Path(tmp) / "swarm").mkdir()
                result["swarm"] = swarm_part(args.node_timeout, repeat, Path(tmp) / "swarm")
    except CannotRun as e:
        print(f"fleet_bench: cannot run: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
