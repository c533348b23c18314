"""How long ``compose-net ports`` takes to start and answer on one small file.

A CLI that runs in pre-commit and CI starts many times, so its start-up is what
users feel. Timing a whole process is noisy, and machines differ, so each run of
``compose-net ports FILE`` is paired with a run of ``python -c pass`` and one of
``python -c "import click"`` (what any click command costs) on the same interpreter, in
alternating order (A B, B A, ...), and the figure to read is the **median of the paired
ratios**, in wall time and in CPU time (user + system of the child: on a shared machine it
varies much less). Absolute medians are printed too.

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
import resource
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


ROOT = Path(__file__).resolve().parents[1]
#: every run imports this checkout's compose_net, whichever tree an editable install names
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
)}


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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``cmd``."""
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if proc.returncode != 0:
        raise CannotRun(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[:500]}")
    return elapsed, cpu


def _ratio(b: float, a: float) -> float:
    return b / a if a > 0 else float("nan")


def measure(runs: int, file: str, warmup: int = 2) -> dict[str, float | int]:
    """Paired runs of ``python -c pass`` (A), ``python -c "import click"`` (C) and
    ``compose-net ports FILE`` (B), the order alternating."""
    cwd = str(Path(file).resolve().parent)
    baseline = [sys.executable, "-c", "pass"]
    click = [sys.executable, "-c", "import click"]
    command = [console_script(), "ports", str(Path(file).resolve())]
    for _ in range(warmup):
        timed(baseline, cwd)
        timed(click, cwd)
        timed(command, cwd)
    a_times: list[tuple[float, float]] = []
    b_times: list[tuple[float, float]] = []
    c_times: list[tuple[float, float]] = []
    for i in range(runs):
        if i % 2 == 0:
            a, c, b = timed(baseline, cwd), timed(click, cwd), timed(command, cwd)
        else:
            b, c, a = timed(command, cwd), timed(click, cwd), timed(baseline, cwd)
        a_times.append(a)
        b_times.append(b)
        c_times.append(c)
    ratios = [_ratio(b[0], a[0]) for a, b in zip(a_times, b_times)]
    return {
        "runs": runs,
        "python_pass_ms": statistics.median(a[0] for a in a_times) * 1000,
        "import_click_ms": statistics.median(c[0] for c in c_times) * 1000,
        "compose_net_ports_ms": statistics.median(b[0] for b in b_times) * 1000,
        "python_pass_cpu_ms": statistics.median(a[1] for a in a_times) * 1000,
        "import_click_cpu_ms": statistics.median(c[1] for c in c_times) * 1000,
        "compose_net_ports_cpu_ms": statistics.median(b[1] for b in b_times) * 1000,
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "cpu_ratio_median": statistics.median(
            _ratio(b[1], a[1]) for a, b in zip(a_times, b_times)
        ),
        "click_ratio_median": statistics.median(
            _ratio(b[0], c[0]) for c, b in zip(c_times, b_times)
        ),
        "click_cpu_ratio_median": statistics.median(
            _ratio(b[1], c[1]) for c, b in zip(c_times, b_times)
        ),
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
            f"compose-net ports, one small file: {result['compose_net_ports_ms']:.1f} ms "
            f"(CPU {result['compose_net_ports_cpu_ms']:.1f} ms); python -c pass: "
            f"{result['python_pass_ms']:.1f} ms (CPU {result['python_pass_cpu_ms']:.1f} ms); "
            f"python -c \"import click\": {result['import_click_ms']:.1f} ms "
            f"(CPU {result['import_click_cpu_ms']:.1f} ms); medians of {runs} paired runs\n"
            f"ratio to python -c pass: {result['ratio_median']:.2f}x median "
            f"(min {result['ratio_min']:.2f}x, max {result['ratio_max']:.2f}x; "
            f"CPU {result['cpu_ratio_median']:.2f}x)\n"
            f"ratio to python -c \"import click\": {result['click_ratio_median']:.2f}x median "
            f"(CPU {result['click_cpu_ratio_median']:.2f}x)",
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
