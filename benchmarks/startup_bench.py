"""How long ``compose-net ports`` takes to start and answer on one small file.

A CLI that runs in pre-commit and CI starts many times, so its start-up is what
users feel. Timing a whole process is noisy, and machines differ, so each run of
``compose-net ports FILE`` is paired with a run of ``python -c pass`` on the
same interpreter, in alternating order (A B, B A, ...), and the figure to read is
the **median of the paired ratios**. Absolute medians are printed too.

Usage:
  python benchmarks/startup_bench.py [--runs N] [--file FILE] [--max-ratio R] [--json]
  python benchmarks/startup_bench.py --short      # a few runs for CI: fails only if it cannot run

Exit status: 0; 1 when ``--max-ratio`` is given and the median ratio is above it;
2 when a command cannot run (compose-net missing, or it exits non-zero).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL_FILE = """\
services:
  web:
    image: nginx:1.27
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443"
  db:
    image: postgres:16
    ports:
      - target: 5432
        published: "5432"
        host_ip: 10.0.0.5
"""


class CannotRun(Exception):
    """A command of the benchmark failed; the figures would mean nothing."""


def console_script() -> str:
    """The installed ``compose-net`` next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "compose-net"
    if beside.is_file():
        return str(beside)
    found = shutil.which("compose-net")
    if found is None:
        raise CannotRun("compose-net is not installed (pip install -e .)")
    return found


def timed(cmd: list[str], cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise CannotRun(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[:500]}")
    return elapsed


def measure(runs: int, file: str, warmup: int = 2) -> dict[str, float | int]:
    """Paired runs of ``python -c pass`` (A) and ``compose-net ports FILE`` (B)."""
    cwd = str(Path(file).resolve().parent)
    baseline = [sys.executable, "-c", "pass"]
    command = [console_script(), "ports", str(Path(file).resolve())]
    for _ in range(warmup):
        timed(baseline, cwd)
        timed(command, cwd)
    a_times: list[float] = []
    b_times: list[float] = []
    ratios: list[float] = []
    for i in range(runs):
        if i % 2 == 0:
            a, b = timed(baseline, cwd), timed(command, cwd)
        else:
            b, a = timed(command, cwd), timed(baseline, cwd)
        a_times.append(a)
        b_times.append(b)
        ratios.append(b / a)
    return {
        "runs": runs,
        "python_pass_ms": statistics.median(a_times) * 1000,
        "compose_net_ports_ms": statistics.median(b_times) * 1000,
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="paired runs (default 21)")
    parser.add_argument(
        "--short",
        action="store_true",
        help="5 paired runs, no threshold: fails only if it cannot run",
    )
    parser.add_argument("--file", help="compose file to read (default: a small generated one)")
    parser.add_argument(
        "--max-ratio",
        type=float,
        default=None,
        help="exit 1 when the median ratio to `python -c pass` is above this",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    runs = 5 if args.short else args.runs
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        file = args.file
        if file is None:
            file = os.path.join(tmp, "compose.yaml")
            Path(file).write_text(SMALL_FILE)
        try:
            result = measure(runs, file, warmup=1 if args.short else 2)
        except (CannotRun, OSError) as e:
            print(f"startup_bench: cannot run: {e}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"compose-net ports, one small file: {result['compose_net_ports_ms']:.1f} ms; "
            f"python -c pass: {result['python_pass_ms']:.1f} ms (medians of {runs} paired runs)\n"
            f"ratio to python -c pass: {result['ratio_median']:.2f}x median "
            f"(min {result['ratio_min']:.2f}x, max {result['ratio_max']:.2f}x)",
        )
    if args.max_ratio is not None and not args.short and result["ratio_median"] > args.max_ratio:
        print(
            f"startup_bench: median ratio {result['ratio_median']:.2f}x is above "
            f"{args.max_ratio:.2f}x",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
