"""``compose-net probe``: try every published TCP port at one address and say what answers."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from compose_net.errors import ComposeNetError
from compose_net.live import probe as live
from compose_net.report import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Report

#: Fewer ports than this are probed without a progress bar.
PROGRESS_MIN = 20
_BAR_WIDTH = 30


@dataclass(frozen=True)
class Options:
    address: str
    files: Sequence[str] = ()
    from_docker: bool = False
    project: str | None = None
    timeout: float = 2.0
    concurrency: int = 64
    fmt: str = "text"
    env_files: Sequence[str] = ()


class Progress:
    """A plain-text progress bar on a terminal; silent when ``stream`` is not one."""

    def __init__(self, stream: TextIO, label: str, minimum: int = PROGRESS_MIN) -> None:
        self.stream = stream
        self.label = label
        self.minimum = minimum
        self.shown = False
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty is not None and isatty())

    def update(self, done: int, total: int) -> None:
        if not self.enabled or total < self.minimum:
            return
        filled = _BAR_WIDTH * done // total
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def gather_targets(opts: Options) -> list[live.Target] | None:
    """The ports to try; None when a file could not be read (the errors are shown)."""
    if opts.from_docker:
        from compose_net.live import audit

        result = audit.assess(audit.collect(opts.project))
        return live.targets_from_engine(result.containers, result.services)
    from compose_net.live.declared import declared_ports, file_env

    report = Report()
    declared = []
    for path in opts.files:
        try:
            declared += declared_ports(path, file_env(path, opts.env_files))
        except ComposeNetError as e:
            report.failure(e.with_path(path))
    if report.failed:
        return None
    return live.targets_from_declared(declared)


def as_json(address: str, opts: Options, outcomes: Sequence[live.Outcome]) -> dict[str, Any]:
    return {
        "address": address,
        "timeout": opts.timeout,
        "results": [
            {
                "port": o.target.port,
                "protocol": o.target.protocol,
                "result": o.result,
                "detail": o.detail,
                "sources": list(o.target.sources),
            }
            for o in outcomes
        ],
        "summary": summary(outcomes),
    }


def summary(outcomes: Sequence[live.Outcome]) -> dict[str, int]:
    return {r: sum(1 for o in outcomes if o.result == r) for r in live.RESULTS}


def as_text(address: str, outcomes: Sequence[live.Outcome]) -> str:
    rows = [("PORT", "PROTO", "RESULT", "SOURCE", "NOTE")]
    for o in outcomes:
        rows.append((
            "-" if o.target.port is None else str(o.target.port), o.target.protocol, o.result,
            "; ".join(o.target.sources), o.detail,
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    text = "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n" for r in rows)
    counts = summary(outcomes)
    parts = [f"{n} {r.replace('-', ' ')}" for r, n in counts.items() if n or r in ("open",)]
    return text + f"{address}: " + ", ".join(parts) + "\n"


def run(opts: Options) -> int:
    address = live.check_address(opts.address)
    if opts.from_docker and opts.files:
        raise ComposeNetError("give compose files or --from-docker, not both")
    if opts.project is not None and not opts.from_docker:
        raise ComposeNetError("--project chooses running containers: use it with --from-docker")
    if not opts.from_docker and not opts.files:
        from compose_net import discovery

        opts = dataclasses.replace(opts, files=discovery.default_files())
    targets = gather_targets(opts)
    if targets is None:
        return EXIT_ERROR
    bar = Progress(sys.stderr, f"probing {address}")
    try:
        outcomes = live.probe(address, targets, timeout=opts.timeout,
                              concurrency=opts.concurrency, progress=bar.update)
    finally:
        bar.close()
    if opts.fmt == "json":
        json.dump(as_json(address, opts, outcomes), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(as_text(address, outcomes))
    if any(o.result == "open" for o in outcomes):
        return EXIT_FINDINGS
    if any(o.result == "error" for o in outcomes):
        return EXIT_ERROR
    return EXIT_OK
