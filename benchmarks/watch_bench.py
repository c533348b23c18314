"""What ``compose-net audit --watch`` costs: latency, idle CPU, memory and threads.

1. simulated engines: N (default 200) stand-in engines on unix sockets, each with a few
   containers and an open event stream (tests/harness/fakeengine.py), in this process; the
   watcher is a separate ``compose-net audit --nodes --watch --metrics-listen`` process.
   Measured: its resident memory (peak and now) and thread count once every engine is
   watched (goal: under 150 MB, at most one thread per engine), its CPU while nothing
   happens (goal: under 1% of one CPU), and the time from an event sent to the line printed
   and the metric scraped.
2. the three-node swarm of the test harness (one dockerd per network namespace; needs root):
   ``docker start`` of a container created with ``-p 0.0.0.0:P:80`` on n2, from the moment
   the command is started (so the figure includes the docker CLI and the container's start)
   to the line, and to the metric (goal: under 1 s); and from the start event as another
   client of the engine (``docker events``) received it to the line; then the watcher's CPU
   while the lab is idle.

Timing never fails the run; a command that cannot run does (exit 2).

Usage::

    python benchmarks/watch_bench.py                # both parts
    python benchmarks/watch_bench.py --short        # 50 simulated engines, short idle
    python benchmarks/watch_bench.py --no-swarm     # the simulated engines only
    python benchmarks/watch_bench.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]  # nodes.py, the test harness

from harness import free_port  # noqa: E402
from harness.fakeengine import FakeEngine, FakeFleet, container  # noqa: E402
from nodes import ROOT, CannotRun, three_node_swarm, write_inventory  # noqa: E402

GOAL_MB = 150.0
GOAL_CPU = 0.01
GOAL_LATENCY_S = 1.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def addresses(i: int) -> tuple[str, str]:
    """The i-th node's public and service addresses."""
    return f"198.51.{i // 250}.{i % 250 + 1}", f"10.77.{i // 250}.{i % 250 + 1}"


def milliseconds(seconds: Sequence[float]) -> dict[str, float]:
    """The median and the largest of ``seconds``, in milliseconds."""
    return {"median": round(statistics.median(seconds) * 1000, 1),
            "max": round(max(seconds) * 1000, 1)}


class Watcher:
    """A running ``audit --nodes --watch`` process and the lines it printed."""

    def __init__(self, inventory: Path, nodes: int, node_timeout: float) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "compose_net", "audit", "--nodes", "--inventory",
             str(inventory), "--watch", "--format", "json", "--node-timeout", str(node_timeout),
             "--metrics-listen", f"127.0.0.1:{self.port}"],
            cwd=inventory.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self.err: list[str] = []
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()
        want = f"watching {nodes} node"
        deadline = time.monotonic() + 120
        while not any(want in e for e in self.err):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise CannotRun("the watcher did not start: " + "".join(self.err).strip())
            time.sleep(0.05)

    def _out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), json.loads(line)))

    def _err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)

    def wait(self, match: Callable[[dict[str, Any]], bool], after: int,
             timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for when, data in self.lines[after:]:
                if match(data):
                    return when
            time.sleep(0.001)
        raise CannotRun(f"no line within {timeout}s: {''.join(self.err).strip()}")

    def scraped_port(self, port: int, timeout: float = 30) -> float:
        """When a scrape first shows a binding on ``port``."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/metrics"
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url, timeout=5) as r:
                if f'port="{port}"' in r.read().decode():
                    return time.monotonic()
            time.sleep(0.005)
        raise CannotRun(f"port {port} never scraped")

    def status(self) -> dict[str, int]:
        """VmRSS, VmHWM (kB) and Threads of the watcher."""
        out: dict[str, int] = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
        return out

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def idle_cpu(self, seconds: float) -> float:
        """The share of one CPU the watcher used over ``seconds`` of nothing happening."""
        before, started = self.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        return (self.cpu_seconds() - before) / (time.monotonic() - started)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def simulated(count: int, idle: float, samples: int, folder: Path) -> dict[str, Any]:
    with FakeFleet(folder) as fleet:
        engines: dict[str, FakeEngine] = {}
        engine_at: dict[str, str] = {}
        for i in range(count):
            name = f"sim{i:03d}"
            engines[name] = FakeEngine(name, [
                container(f"web{j}", ("10.77.0.1", 20000 + j, 80), ("127.0.0.1", 21000 + j, 81),
                          project="shop")
                for j in range(5)
            ])
            engine_at[name] = fleet.add(engines[name])
        inventory = write_inventory(folder / "nodes.yaml", engine_at, addresses)
        started = time.monotonic()
        watcher = Watcher(inventory, count, node_timeout=10.0)
        ready = time.monotonic() - started
        try:
            deadline = time.monotonic() + 60
            while sum(len(e.streams) for e in engines.values()) < count:
                if time.monotonic() > deadline:
                    raise CannotRun("not every engine's event stream was opened")
                time.sleep(0.05)
            status = watcher.status()
            cpu = watcher.idle_cpu(idle)
            line_s, metric_s = [], []
            for k in range(samples):
                engine = engines[f"sim{(k * 37) % count:03d}"]
                port = 30000 + k
                after = len(watcher.lines)
                sent = time.monotonic()
                engine.run(container(f"probe{k}", ("0.0.0.0", port, 80)))
                line_s.append(watcher.wait(lambda d, p=port: d.get("port") == p, after) - sent)
                metric_s.append(watcher.scraped_port(port) - sent)
            peak = watcher.status()["VmHWM"]
        finally:
            code = watcher.stop()
        if code != 0:
            raise CannotRun(f"the watcher exited {code}: {''.join(watcher.err).strip()}")
    return {
        "engines": count,
        "first_audit_seconds": round(ready, 3),
        "rss_mb": round(status["VmRSS"] / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "threads": status["Threads"],
        "idle_cpu_share": round(cpu, 4),
        "idle_seconds": idle,
        "event_to_line_ms": milliseconds(line_s),
        "event_to_metric_ms": milliseconds(metric_s),
    }


def swarm_part(samples: int, idle: float, folder: Path) -> dict[str, Any]:
    from harness import BUSYBOX_IMAGE

    with three_node_swarm() as swarm:
        inventory = write_inventory(folder / "lab.yaml", {
            name: node.docker_host for name, node in swarm.nodes.items()
        }, addresses)
        watcher = Watcher(inventory, 3, node_timeout=3.0)
        n2 = swarm.nodes["n2"]
        # another client of n2's event stream: when the engine sent each start event
        spy = subprocess.Popen(
            ["docker", "-H", n2.docker_host, "events", "--filter", "event=start", "--format",
             "{{.Actor.Attributes.name}}"], stdout=subprocess.PIPE, text=True,
        )
        sent: dict[str, float] = {}

        def spying() -> None:
            assert spy.stdout is not None
            for line in spy.stdout:
                sent[line.strip()] = time.monotonic()

        threading.Thread(target=spying, daemon=True).start()
        time.sleep(0.5)
        line_s, metric_s, event_s = [], [], []
        try:
            for k in range(samples):
                port = 16400 + k
                n2.docker("create", "--name", f"b{k}", "-p", f"0.0.0.0:{port}:80",
                          BUSYBOX_IMAGE, "sleep", "3600")
                after = len(watcher.lines)
                ran = time.monotonic()  # the start event comes while `docker start` runs
                n2.docker("start", f"b{k}")
                line_at = watcher.wait(lambda d, p=port: d.get("port") == p, after)
                line_s.append(line_at - ran)
                metric_s.append(watcher.scraped_port(port) - ran)
                deadline = time.monotonic() + 5
                while f"b{k}" not in sent and time.monotonic() < deadline:
                    time.sleep(0.001)
                event_s.append(line_at - sent.get(f"b{k}", line_at))
            cpu = watcher.idle_cpu(idle)
        finally:
            code = watcher.stop()
            spy.terminate()
            spy.wait()
        if code != 0:
            raise CannotRun(f"the watcher exited {code}: {''.join(watcher.err).strip()}")
    return {
        "samples": samples,
        "start_to_line_ms": milliseconds(line_s),
        "start_to_metric_ms": milliseconds(metric_s),
        "event_to_line_ms": milliseconds(event_s),
        "idle_cpu_share": round(cpu, 4),
        "idle_seconds": idle,
    }


def report(result: Mapping[str, Any]) -> str:
    sim = result["simulated"]
    out = [
        f"simulated: {sim['engines']} engines watched after {sim['first_audit_seconds']} s: "
        f"{sim['rss_mb']} MB resident (peak {sim['peak_rss_mb']} MB, goal < {GOAL_MB:g}), "
        f"{sim['threads']} threads, idle CPU {sim['idle_cpu_share'] * 100:.2f}% "
        f"(goal < {GOAL_CPU * 100:g}%); event to line {sim['event_to_line_ms']['median']} ms "
        f"(max {sim['event_to_line_ms']['max']}), to metric "
        f"{sim['event_to_metric_ms']['median']} ms",
    ]
    lab = result.get("swarm")
    if lab is None:
        out.append(f"three-node swarm: skipped ({result['swarm_skipped']})")
    else:
        out.append(
            f"three-node swarm: docker start to line {lab['start_to_line_ms']['median']} ms "
            f"(max {lab['start_to_line_ms']['max']}), to metric "
            f"{lab['start_to_metric_ms']['median']} ms (goal < {GOAL_LATENCY_S * 1000:g}); "
            f"the engine's event (as another client got it) to the line "
            f"{lab['event_to_line_ms']['median']} ms (max {lab['event_to_line_ms']['max']}); "
            f"idle CPU {lab['idle_cpu_share'] * 100:.2f}%"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--short", action="store_true", help="50 engines, 3 s idle")
    parser.add_argument("--engines", type=int, default=None, help="simulated engines (200)")
    parser.add_argument("--idle", type=float, default=None, help="idle seconds measured (20)")
    parser.add_argument("--samples", type=int, default=10, help="events timed per part")
    parser.add_argument("--no-swarm", action="store_true", help="skip the three-node swarm")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    count = args.engines or (50 if args.short else 200)
    idle = args.idle or (3.0 if args.short else 20.0)
    result: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="cnwb-") as tmp:
            result["simulated"] = simulated(count, idle, args.samples, Path(tmp))
            if args.no_swarm:
                result["swarm_skipped"] = "--no-swarm"
            else:
                result["swarm"] = swarm_part(args.samples, idle, Path(tmp))
    except CannotRun as e:
        print(f"watch_bench: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
