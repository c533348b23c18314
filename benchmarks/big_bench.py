"""The goals of big files, each measured against a reference from the same run.

1. writing: ``compose-net harden`` (which writes) on a generated 5 MB file of 2,000
   services, against ``docker-compose -f FILE config -q`` on the same file (the real
   Compose binary) and against ``harden --check`` (which writes nothing). Goals: faster
   than Compose, about what ``--check`` costs, under 300 MB peak memory.
2. many services: ``compose-net check`` on a file of 100,000 services that all reuse one
   anchored port list. Goal: under 10 s.

Usage::

    python benchmarks/big_bench.py           # the goals' sizes
    python benchmarks/big_bench.py --short   # a quick run: 200 services and 10,000
    python benchmarks/big_bench.py --json

Exit status 0 when every measurement ran (whatever the figures), 2 when one could not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench
from bench import CannotRun, Run, compose_binary, compose_net, machine, quiet_env

GOALS = {"write_vs_compose": 1.0, "write_megabytes": 300.0, "check_seconds": 10.0}


def five_megabytes(services: int) -> str:
    """About 2.6 KB a service: environment, labels and three port forms (5.3 MB at 2,000)."""
    out = ["services:\n"]
    for i in range(services):
        env = "".join(f'      VAR_{j}: "value-{i}-{j}-{"y" * 40}"\n' for j in range(30))
        out.append(
            f"  s{i}:\n    image: registry.example.com/team/app-{i}:1.2.3\n"
            f"    environment:\n{env}    labels:\n"
            f'      com.example.description: "service {i} {"z" * 300}"\n'
            f'    ports:\n      - "{10000 + i}:80"\n      - {20000 + i}:443\n'
            f"      - target: 53\n        published: {30000 + i}\n        protocol: udp\n"
        )
    return "".join(out)


def anchored(services: int) -> str:
    head = "x-ports: &ports\n  - \"80:80\"\n  - target: 443\n    published: 8443\nservices:\n"
    body = "".join(f"  s{i}:\n    image: nginx\n    ports: *ports\n" for i in range(services))
    return head + body


def writing(services: int, rounds: int, env: dict[str, str], home: str) -> dict[str, Any]:
    original = Path(home) / "five.yaml"
    text = five_megabytes(services)
    original.write_text(text, encoding="utf-8")
    target = Path(home) / "compose.yaml"
    harden = [*compose_net(), "harden", "--no-config", "-q", "--bind", "10.0.0.5"]
    writes, checks, composes = [], [], []
    for _ in range(rounds):  # interleaved, so that a busy moment hits all three alike
        shutil.copyfile(original, target)
        writes.append(Run([*harden, str(target)], env, home, (0,)))
        checks.append(Run([*harden, "--check", str(original)], env, home, (1,)))
        composes.append(Run([compose_binary(), "-f", str(original), "config", "-q"], env, home,
                            (0,)))
    write = statistics.median(r.wall for r in writes)
    compose = statistics.median(r.wall for r in composes)
    check = statistics.median(r.wall for r in checks)
    return {
        "services": services, "bytes": len(text.encode()), "rounds": rounds,
        "write_seconds": write, "check_seconds": check, "compose_seconds": compose,
        "write_cpu_seconds": statistics.median(r.cpu for r in writes),
        "compose_cpu_seconds": statistics.median(r.cpu for r in composes),
        "write_vs_compose": write / compose, "write_vs_check": write / check,
        "write_max_rss_mb": max(r.max_rss_mb for r in writes),
        "compose_max_rss_mb": max(r.max_rss_mb for r in composes),
    }


def many(services: int, env: dict[str, str], home: str) -> dict[str, Any]:
    path = Path(home) / "anchored.yaml"
    text = anchored(services)
    path.write_text(text, encoding="utf-8")
    run = Run([*compose_net(), "check", "--no-config", str(path)], env, home, (1,))
    return {"services": services, "bytes": len(text.encode()), "seconds": run.wall,
            "cpu_seconds": run.cpu, "max_rss_mb": run.max_rss_mb}


def report(result: dict[str, Any]) -> str:
    w, m = result["writing"], result["many"]
    ok = {True: "met", False: "MISSED"}
    return "\n".join([
        f"machine: {result['machine']['cpus']} CPUs, load {result['machine']['load_1min']:.1f}",
        f"1. harden writing {w['services']:,} services ({w['bytes'] / 1e6:.1f} MB), median of "
        f"{w['rounds']}:",
        f"   harden            {w['write_seconds']:7.2f} s  {w['write_max_rss_mb']:6.0f} MB peak",
        f"   harden --check    {w['check_seconds']:7.2f} s  "
        f"(writing costs {w['write_vs_check']:.2f}x --check)",
        f"   docker-compose config -q {w['compose_seconds']:7.2f} s  "
        f"{w['compose_max_rss_mb']:6.0f} MB peak",
        f"   goal: faster than Compose ({w['write_vs_compose']:.2f}x): "
        f"{ok[w['write_vs_compose'] < GOALS['write_vs_compose']]}; under 300 MB: "
        f"{ok[w['write_max_rss_mb'] < GOALS['write_megabytes']]}",
        f"2. check, {m['services']:,} services reusing one anchored port list "
        f"({m['bytes'] / 1e6:.1f} MB): {m['seconds']:.2f} s ({m['cpu_seconds']:.2f} s CPU), "
        f"{m['max_rss_mb']:.0f} MB peak; goal under 10 s: "
        f"{ok[m['seconds'] < GOALS['check_seconds']]}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="small files, one round")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    parser.add_argument("--rounds", type=int, help="rounds of the writing benchmark (default 3)")
    parser.add_argument("--checkout", metavar="DIR", help="run this source tree's compose_net")
    args = parser.parse_args(argv)
    if args.checkout:
        bench.CHECKOUT.append(str(Path(args.checkout).resolve()))
    with tempfile.TemporaryDirectory(prefix="compose-net-big-") as home:
        env = quiet_env(home)
        try:
            result = {
                "machine": machine(),
                "writing": writing(200 if args.short else 2000,
                                   args.rounds or (1 if args.short else 3), env, home),
                "many": many(10_000 if args.short else 100_000, env, home),
                "goals": GOALS,
            }
        except CannotRun as e:
            print(f"big_bench: cannot run: {e}", file=sys.stderr)
            return 2
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
