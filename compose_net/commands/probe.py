"""``compose-net probe``: try every published TCP port at one address and say what answers."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from compose_net import printable
from compose_net.errors import ComposeNetError
from compose_net.live import bindings
from compose_net.live import probe as live
from compose_net.live.bindings import Finding
from compose_net.report import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Report

if TYPE_CHECKING:
    from compose_net.commands import other_options
    from compose_net.resolvers.inventory import Inventory, Node

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
        self.stream = printable.raw(stream)  # its own control sequences, nothing from a file
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
        from compose_net import unit
        from compose_net.live import audit
        from compose_net.live.bindings import NodeAddresses

        networks = unit.configuration_at(".").internal_networks()  # no file: the folder's
        result = audit.assess(audit.collect(opts.project), NodeAddresses(networks=networks))
        return live.targets_from_engine(result.containers, result.services)
    from compose_net.live.declared import declared_ports

    report = Report()
    declared = []
    for path in opts.files:
        try:
            declared += declared_ports(path, opts.env_files)
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


# --------------------------------------------------------------------------- --nodes


@dataclass(frozen=True)
class NodeOptions:
    """``probe --nodes``: every node's public addresses, the ports its engine publishes."""

    files: Sequence[str] = ()
    #: the nodes (None: the configuration's inventory; probe takes no resolver)
    inventory: str | None = None
    project: str | None = None
    timeout: float = 2.0
    concurrency: int = 64
    fmt: str = "text"
    env_files: Sequence[str] = ()
    jobs: int | None = None
    node_timeout: float | None = None
    #: also probe the nodes' internal addresses (shown; an answer there is no finding)
    internal: bool = False


@dataclass
class NodeProbe:
    name: str
    engine: str
    error: str | None
    #: (address, "public" or "service", outcomes)
    results: list[tuple[str, str, list[live.Outcome]]]
    findings: list[Finding]

    @property
    def reachable(self) -> bool:
        return self.error is None


def _node_addresses(node: Node, internal: bool) -> list[tuple[str, str]]:
    sides = ("public", "service") if internal else ("public",)
    return [
        (address, side)
        for side in sides
        for address in (getattr(node, f"{side}_ipv4"), getattr(node, f"{side}_ipv6"))
        if address
    ]


def _plan_nodes(opts: NodeOptions, table: Inventory) -> list[tuple[Node, str, str | None,
                                                                   list[live.Target]]]:
    """(node, engine, error, targets) for every node: from the files, else from its engine."""
    if opts.files:
        targets = gather_targets(Options(address="", files=opts.files, env_files=opts.env_files))
        if targets is None:
            raise ComposeNetError("the files could not be read (see above)")
        return [(node, "-", None, targets) for node in table.nodes]
    from compose_net.live import fleet as fleets

    states = fleets.gather(
        table, jobs=opts.jobs or fleets.default_jobs(),
        timeout=opts.node_timeout or fleets.DEFAULT_TIMEOUT, project=opts.project,
    )
    audited = fleets.assess(states, opts.project)
    out: list[tuple[Node, str, str | None, list[live.Target]]] = []
    for n in audited.nodes:
        result = n.audit
        if result is None:
            out.append((n.read.node, n.read.engine, n.error or "no answer", []))
            continue
        in_swarm = n.read.state is not None and n.read.state.swarm != "inactive"
        swarm = audited.services if in_swarm else []
        out.append((n.read.node, n.read.engine, None,
                    live.targets_from_engine(result.containers, swarm)))
    return out


def probe_nodes(opts: NodeOptions, table: Inventory) -> list[NodeProbe]:
    planned = _plan_nodes(opts, table)
    plan: list[tuple[str, Sequence[live.Target]]] = []
    where: list[tuple[int, str, str]] = []
    for index, (node, _, error, targets) in enumerate(planned):
        if error is not None:
            continue
        for address, side in _node_addresses(node, opts.internal):
            plan.append((address, targets))
            where.append((index, address, side))
    bar = Progress(sys.stderr, "probing nodes")
    try:
        outcomes = live.probe_plan(plan, timeout=opts.timeout, concurrency=opts.concurrency,
                                   progress=bar.update)
    finally:
        bar.close()
    probes = [
        NodeProbe(node.name, engine, error, [], [] if error is None else [
            Finding("unreachable", f"node {node.name}", f"engine {engine}: {error}",
                    node=node.name)
        ])
        for node, engine, error, _ in planned
    ]
    for (index, address, side), results in zip(where, outcomes):
        probe = probes[index]
        probe.results.append((address, side, results))
        if side != "public":
            continue
        for o in results:
            if o.result == "open":
                probe.findings.append(Finding(
                    "open", f"node {probe.name}",
                    f"{bindings.host_and_port(address, o.target.port or 0)}/{o.target.protocol} "
                    f"answers on the public address ({'; '.join(o.target.sources)})",
                    node=probe.name,
                ))
    for probe, (node, _, error, _) in zip(probes, planned):
        if error is None and not _node_addresses(node, False):
            probe.findings.append(Finding(
                "per-node", f"node {node.name}",
                "the inventory names no public address: nothing probed", node=node.name,
            ))
    return probes


def _result_json(address: str, side: str, o: live.Outcome) -> dict[str, Any]:
    return {
        "address": address, "side": side, "port": o.target.port,
        "protocol": o.target.protocol, "result": o.result, "detail": o.detail,
        "sources": list(o.target.sources),
    }


def nodes_json(opts: NodeOptions, origin: str, probes: Sequence[NodeProbe]) -> dict[str, Any]:
    every = [o for p in probes for _, _, results in p.results for o in results]
    findings = [f for p in probes for f in p.findings]
    return {
        "inventory": origin,
        "timeout": opts.timeout,
        "nodes": [
            {
                "name": p.name, "engine": p.engine, "reachable": p.reachable, "error": p.error,
                "results": [_result_json(a, side, o) for a, side, results in p.results
                            for o in results],
                "findings": [f.as_json() for f in p.findings],
            }
            for p in probes
        ],
        "findings": [f.as_json() for f in findings],
        "summary": {
            "nodes": len(probes),
            "reachable": sum(1 for p in probes if p.reachable),
            "unreachable": sum(1 for p in probes if not p.reachable),
            "open": sum(1 for f in findings if f.kind == "open"),
            **{r: sum(1 for o in every if o.result == r) for r in live.RESULTS if r != "open"},
        },
    }


def nodes_text(probes: Sequence[NodeProbe]) -> str:
    out: list[str] = []
    for p in probes:
        out.append(f"node {p.name}: engine {p.engine}\n")
        rows = [("ADDRESS", "PORT", "PROTO", "RESULT", "SOURCE", "NOTE")]
        for address, side, results in p.results:
            label = address if side == "public" else f"{address} (internal)"
            for o in results:
                rows.append((
                    label, "-" if o.target.port is None else str(o.target.port),
                    o.target.protocol, o.result, "; ".join(o.target.sources), o.detail,
                ))
        if len(rows) > 1:
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            out.extend("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n"
                       for r in rows)
        out.extend(f"  {f.line()}\n" for f in p.findings)
        out.append("\n")
    opened = sum(1 for p in probes for f in p.findings if f.kind == "open")
    unreachable = sum(1 for p in probes if not p.reachable)
    out.append(f"{len(probes)} node{'' if len(probes) == 1 else 's'}: "
               f"{opened or 'nothing'} open on a public address, {unreachable} unreachable\n")
    return "".join(out)


def run_nodes(opts: NodeOptions) -> int:
    from compose_net.live import fleet as fleets

    table = fleets.node_table(opts.inventory)
    probes = probe_nodes(opts, table)
    if opts.fmt == "json":
        json.dump(nodes_json(opts, table.origin, probes), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(nodes_text(probes))
    if not any(p.reachable for p in probes):
        raise ComposeNetError(f"no node could be read ({len(probes)} unreachable)")
    if any(f.failing for p in probes for f in p.findings):
        return EXIT_FINDINGS
    if any(o.result == "error" for p in probes for _, side, results in p.results
           if side == "public" for o in results):
        return EXIT_ERROR
    return EXIT_OK


def main(opts: other_options.Probe) -> int:
    """The command line's ``probe``: one ADDRESS, or with ``--nodes`` every node's."""
    fleet, inventory = opts.fleet, opts.node_source.inventory
    if fleet.nodes:
        if opts.from_docker:
            raise ComposeNetError("--nodes asks each node's engine: leave out --from-docker")
        address = opts.address
        return run_nodes(
            NodeOptions(
                files=[address, *opts.files] if address is not None else list(opts.files),
                inventory=inventory,
                project=opts.project,
                timeout=opts.timeout,
                concurrency=opts.concurrency,
                fmt=opts.fmt,
                env_files=opts.env_files,
                jobs=fleet.jobs,
                node_timeout=fleet.node_timeout,
                internal=opts.internal,
            )
        )
    fleet_only = (fleet.jobs, fleet.node_timeout, inventory)
    if opts.internal or any(given is not None for given in fleet_only):
        raise ComposeNetError("--jobs, --node-timeout, --inventory and --internal go with --nodes")
    if opts.address is None:
        raise ComposeNetError("give the ADDRESS to probe, or --nodes")
    return run(
        Options(
            address=opts.address,
            files=list(opts.files),
            from_docker=opts.from_docker,
            project=opts.project,
            timeout=opts.timeout,
            concurrency=opts.concurrency,
            fmt=opts.fmt,
            env_files=opts.env_files,
        )
    )
