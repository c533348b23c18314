"""``compose-net server``: start-up, diagnostics after a change, memory per open document,
and a burst of keystrokes on a 5 MB file.

Each figure drives the real server over standard input and output with pygls's client:

1. start-up: from starting the process to the answer to ``initialize`` (goal: under 0.5 s);
2. a change to a 1,000-line file: from sending ``didChange`` to receiving the diagnostics of
   that version (goal: within 100 ms; the server waits 15 ms for the next keystroke first);
3. memory: the server's resident memory grown by each of several open copies of a 1 MB
   file, against what parsing it once takes (goal: under 5x);
4. five changes in a row to a 5 MB file: only the last version is published, and the time to
   it is about one check of the file, not five (later versions make the earlier ones stale).

Usage:
  python benchmarks/server_bench.py [--runs N] [--json]
  python benchmarks/server_bench.py --short      # a few runs for CI: fails only if it cannot run

Exit status 0, or 2 when the server cannot run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]


def compose_text(services: int, exposed: int = 10) -> str:
    """A Compose file of ``services`` services (4 lines each, at most 64,000), ``exposed`` of
    them public, each on a host port of its own."""
    out = ["services:"]
    for i in range(services):
        ip = "" if i < exposed else "10.0.0.5:"
        out.append(f"  s{i}:\n    image: nginx:1.27\n    ports:\n      - \"{ip}{1024 + i}:80\"")
    return "\n".join(out) + "\n"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Bench:
    def __init__(self) -> None:
        self.client = LanguageClient("server-bench", "1")
        self.published: list[tuple[str, int | None, int, float]] = []
        self.event = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.published.append(
                (params.uri, params.version, len(params.diagnostics), time.perf_counter())
            )
            self.event.set()

    async def start(self) -> float:
        begin = time.perf_counter()
        await self.client.start_io(sys.executable, "-m", "compose_net", "server", env=_env())
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                initialization_options={"bind": "10.0.0.5"},
            )
        )
        took = time.perf_counter() - begin
        self.client.initialized(types.InitializedParams())
        return took

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    @property
    def pid(self) -> int:
        server = self.client._server
        assert server is not None
        return int(server.pid)

    def open(self, uri: str, text: str) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "yaml", 1, text))
        )

    def change(self, uri: str, version: int, text: str) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version, uri),
                [types.TextDocumentContentChangeWholeDocument(text)],
            )
        )

    async def wait(self, uri: str, version: int, timeout: float = 300) -> float:
        """When the diagnostics of ``version`` arrived."""

        async def found() -> float:
            while True:
                for u, v, _, at in self.published:
                    if u == uri and v == version:
                        return at
                self.event.clear()
                await self.event.wait()

        return await asyncio.wait_for(found(), timeout)


def cpu(pid: int) -> float:
    """The CPU time (user and system) a process has used, in seconds: a figure the other
    processes of a busy machine do not inflate as they do the wall-clock time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def parsed_size(text: str) -> int:
    """What parsing the file once takes (tracemalloc's peak), in this process."""
    sys.path.insert(0, str(ROOT))
    from compose_net import document, source

    tracemalloc.start()
    doc = document.load(source.Source("bench.yaml", text, False))
    list(doc.entries())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


async def measure(runs: int, big_mb: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="server-bench-"))
    (folder / ".git").mkdir()
    out: dict[str, Any] = {}

    starts, start_cpu = [], []
    for _ in range(runs):
        bench = Bench()
        starts.append(await bench.start())
        start_cpu.append(cpu(bench.pid))
        await bench.stop()
    out["startup_s"] = statistics.median(starts)
    out["startup_cpu_s"] = statistics.median(start_cpu)

    bench = Bench()
    await bench.start()
    text = compose_text(250)  # 1,001 lines
    assert text.count("\n") >= 1000
    uri = (folder / "compose.yaml").as_uri()
    bench.open(uri, text)
    await bench.wait(uri, 1)
    latencies, used = [], []
    for version in range(2, 2 + runs * 4):
        edited = text.replace('"1024:80"', f'"{20000 + version}:80"')
        before_cpu = cpu(bench.pid)
        sent = time.perf_counter()
        bench.change(uri, version, edited)
        latencies.append(await bench.wait(uri, version) - sent)
        used.append(cpu(bench.pid) - before_cpu)
    out["change_cpu_ms"] = statistics.median(used) * 1000
    out["lines"] = text.count("\n")
    out["change_to_diagnostics_ms"] = statistics.median(latencies) * 1000
    out["change_to_diagnostics_max_ms"] = max(latencies) * 1000

    one_mb = compose_text(12_000)
    before = rss(bench.pid)
    copies = 4
    for i in range(copies):
        u = (folder / f"copy{i}" / "docker-compose.yml").as_uri()
        bench.open(u, one_mb)
        await bench.wait(u, 1)
    grown = (rss(bench.pid) - before) / copies
    parsed = parsed_size(one_mb)
    out["doc_bytes"] = len(one_mb)
    out["memory_per_doc_mb"] = grown / 2**20
    out["parsed_mb"] = parsed / 2**20
    out["memory_per_doc_x_parsed"] = grown / parsed
    await bench.stop()

    bench = Bench()
    await bench.start()
    big = compose_text(min(big_mb * 12_000, 64_000))
    uri = (folder / "big" / "compose.yaml").as_uri()
    begin = time.perf_counter()
    bench.open(uri, big)
    await bench.wait(uri, 1)
    one = time.perf_counter() - begin
    sent = time.perf_counter()
    for version in range(2, 7):
        bench.change(uri, version, big.replace('"1024:80"', f'"{30000 + version}:80"'))
        await asyncio.sleep(0.005)  # keystrokes
    await bench.wait(uri, 6)
    burst = time.perf_counter() - sent
    await asyncio.sleep(0.5)
    out["big_bytes"] = len(big)
    out["big_one_check_s"] = one
    out["big_five_keystrokes_s"] = burst
    out["big_versions_published"] = sorted(
        {v for u, v, _, _ in bench.published if u == uri and v is not None}
    )
    await bench.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--short", action="store_true", help="a few runs, small big file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs, big_mb = (2, 1) if args.short else (args.runs, 5)
    try:
        out = asyncio.run(measure(runs, big_mb))
    except Exception as e:  # the server could not run
        print(f"server_bench: cannot run: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(
        f"start-up (initialize answered): {out['startup_s'] * 1000:.0f} ms, "
        f"{out['startup_cpu_s'] * 1000:.0f} ms of CPU (goal < 500)"
    )
    print(
        f"{out['lines']}-line file, change -> diagnostics: "
        f"{out['change_to_diagnostics_ms']:5.0f} ms median, "
        f"{out['change_to_diagnostics_max_ms']:.0f} ms max, {out['change_cpu_ms']:.0f} ms of "
        "the server's CPU (goal < 100)"
    )
    print(
        f"memory per open {out['doc_bytes'] / 2**20:.1f} MB document: "
        f"{out['memory_per_doc_mb']:.0f} MB = {out['memory_per_doc_x_parsed']:.1f}x its parsed "
        f"size ({out['parsed_mb']:.0f} MB) (goal < 5x)"
    )
    print(
        f"{out['big_bytes'] / 2**20:.1f} MB file: one check {out['big_one_check_s']:.2f} s; "
        f"5 keystrokes -> last diagnostics {out['big_five_keystrokes_s']:.2f} s; versions "
        f"published: {out['big_versions_published']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
