"""``compose-net audit``: what the running containers really publish, and who can reach it."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compose_net.errors import ComposeNetError
from compose_net.live import audit as live
from compose_net.live.bindings import NodeAddresses
from compose_net.report import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from compose_net.config import Config
    from compose_net.live.fleet import Fleet
    from compose_net.resolvers.inventory import Node


@dataclass(frozen=True)
class Options:
    fmt: str = "text"
    project: str | None = None
    file: str | None = None
    env_files: Sequence[str] = ()
    resolve: str | None = None
    inventory: str | None = None
    interface: str | None = None
    cidr: str | None = None
    docker_image: str | None = None
    #: --nodes: every node of the inventory, each through its own engine
    nodes: bool = False
    jobs: int | None = None
    node_timeout: float | None = None


def configuration(opts: Options) -> Config:
    """The configuration that judges addresses: ``--file``'s own, else (no file) the
    working folder's, as ``nodes`` reads it."""
    from compose_net import unit

    if opts.file is not None:
        return unit.configuration(opts.file)
    return unit.configuration_at(".")


def node_addresses(opts: Options, configured: Config | None = None) -> NodeAddresses:
    """The nodes' addresses from the resolver options; none given: address ranges decide,
    with the configuration's ``internal-networks`` (as check judges an address)."""
    configured = configured or configuration(opts)
    networks = configured.internal_networks()
    if opts.resolve is None and opts.inventory is None:
        return NodeAddresses(networks=networks)
    from compose_net import resolvers

    table = resolvers.node_table(
        opts.resolve, inventory=opts.inventory, interface=opts.interface, cidr=opts.cidr,
        docker_image=opts.docker_image, internal=configured.internal_extra,
    )
    return live.node_addresses(table.nodes, networks)


def as_json(result: live.Audit, declared: bool) -> dict[str, Any]:
    state = result.state
    bindings = [b for c in result.containers for b in c.bindings]
    return {
        "engine": {"host": state.host, "name": state.name, "swarm": state.swarm},
        "project": result.project,
        "containers": [c.as_json() for c in result.containers],
        "services": [s.as_json() for s in result.services],
        "findings": [f.as_json() for f in result.findings],
        "drift": [f.as_json() for f in result.drift] if declared else None,
        "summary": {
            "containers": len(result.containers),
            "bindings": len(bindings),
            "exposed": sum(1 for f in result.findings if f.failing),
            "drift": len(result.drift),
        },
    }


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n" for r in rows)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def as_text(result: live.Audit, declared: bool) -> str:
    state = result.state
    out = [f"engine {state.host} ({state.name or '?'}, swarm {state.swarm})\n"]
    rows: list[tuple[str, ...]] = [("CONTAINER", "PROJECT/SERVICE", "BINDING", "VERDICT")]
    for c in result.containers:
        first = (c.name, c.owner)
        if c.host_network:
            rows.append((*first, "(host network)", "host-network"))
            first = ("", "")
        for b in c.bindings:
            rows.append((*first, b.display(), b.verdict))
            first = ("", "")
        if first[0]:
            rows.append((*first, "-", "-"))
    out.append("\n" + _table(rows) if result.containers else "\nno running containers\n")
    if result.services:
        srows: list[tuple[str, ...]] = [("SERVICE", "STACK", "PUBLISHED", "VERDICT")]
        for s in result.services:
            first = (s.name, s.stack or "-")
            for p in s.ports:
                srows.append((*first, p.display(), p.verdict))
                first = ("", "")
            if first[0]:
                srows.append((*first, "-", "-"))
        out.append("\n" + _table(srows))
    lines = [f.line() for f in [*result.findings, *result.drift]]
    if lines:
        out.append("\n" + "".join(line + "\n" for line in lines))
    exposed = sum(1 for f in result.findings if f.failing)
    bindings = sum(len(c.bindings) for c in result.containers)
    summary = (f"\n{_count(len(result.containers), 'container')}, "
               f"{_count(bindings, 'binding')}: {exposed or 'nothing'} exposed")
    if declared:
        summary += f", {len(result.drift) or 'no'} drift"
    out.append(summary + "\n")
    return "".join(out)


# --------------------------------------------------------------------------- --nodes


def _addresses_json(node: Node) -> dict[str, Any]:
    return {
        "public": {"ipv4": node.public_ipv4, "ipv6": node.public_ipv6},
        "service": {"ipv4": node.service_ipv4, "ipv6": node.service_ipv6},
    }


def fleet_json(fleet: Fleet, origin: str, project: str | None) -> dict[str, Any]:
    nodes = []
    for n in fleet.nodes:
        read, result = n.read, n.audit
        nodes.append({
            "name": n.name,
            "engine": read.engine,
            "reachable": result is not None,
            "error": n.error,
            "addresses": _addresses_json(read.node),
            "swarm": read.state.swarm if read.state is not None else None,
            "containers": [c.as_json() for c in result.containers] if result else [],
            "services": [s.as_json() for s in result.services] if result else [],
            "findings": [f.as_json() for f in n.findings],
            "seconds": round(read.seconds, 3),
        })
    return {
        "inventory": origin,
        "project": project,
        "nodes": nodes,
        "findings": [f.as_json() for f in fleet.findings],
        "summary": {
            "nodes": len(fleet.nodes),
            "reachable": fleet.reachable,
            "unreachable": len(fleet.nodes) - fleet.reachable,
            "exposed": fleet.exposed,
        },
    }


def _indent(text: str, prefix: str = "  ") -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


def fleet_text(fleet: Fleet) -> str:
    out: list[str] = []
    for n in fleet.nodes:
        node, result = n.read.node, n.audit
        addrs = ", ".join(
            f"{a} {side}" for side, pair in (
                ("public", (node.public_ipv4, node.public_ipv6)),
                ("internal", (node.service_ipv4, node.service_ipv6)),
            ) for a in pair if a
        ) or "no addresses known"
        out.append(f"node {n.name}: engine {n.read.engine}; {addrs}\n")
        if result is None:
            out.extend(_indent(f.line()) + "\n" for f in n.findings)
            out.append("\n")
            continue
        body = as_text(result, False)
        out.append(_indent(body.split("\n", 1)[1] if body.startswith("engine ") else body))
        out.append("\n")
    unreachable = len(fleet.nodes) - fleet.reachable
    out.append(
        f"{_count(len(fleet.nodes), 'node')}: {fleet.reachable} reachable, "
        f"{unreachable} unreachable; {fleet.exposed or 'nothing'} exposed\n"
    )
    return "".join(out)


def run_nodes(opts: Options) -> int:
    from compose_net.live import fleet as fleets

    if opts.file is not None:
        raise ComposeNetError("--file compares one engine with a file: it does not go with --nodes")
    table = fleets.node_table(
        opts.inventory, opts.resolve, interface=opts.interface, cidr=opts.cidr,
        docker_image=opts.docker_image,
    )
    states = fleets.gather(
        table, jobs=opts.jobs or fleets.default_jobs(),
        timeout=opts.node_timeout or fleets.DEFAULT_TIMEOUT,
        project=opts.project,
    )
    fleet = fleets.assess(states, opts.project, configuration(opts).internal_networks())
    if opts.fmt == "json":
        json.dump(fleet_json(fleet, table.origin, opts.project), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(fleet_text(fleet))
    if fleet.reachable == 0:
        raise ComposeNetError(
            f"no node could be audited ({_count(len(fleet.nodes), 'node')} unreachable)"
        )
    return EXIT_FINDINGS if fleet.failing else EXIT_OK


def run(opts: Options) -> int:
    if opts.nodes:
        return run_nodes(opts)
    if opts.jobs is not None or opts.node_timeout is not None:
        raise ComposeNetError("--jobs and --node-timeout go with --nodes")
    from compose_net.live.declared import declared_ports

    declared = None
    if opts.file is not None:
        declared = live.DeclaredFile(opts.file, declared_ports(opts.file, opts.env_files))
    node = node_addresses(opts)
    state = live.collect(opts.project)
    result = live.assess(state, node, declared, opts.project)
    if opts.fmt == "json":
        json.dump(as_json(result, declared is not None), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(as_text(result, declared is not None))
    return EXIT_FINDINGS if result.failing else EXIT_OK


def main(
    *,
    fmt: str,
    project: str | None,
    file: str | None,
    env_files: Sequence[str],
    resolve: str | None,
    inventory: str | None,
    interface: str | None,
    cidr: str | None,
    docker_image: str | None,
    nodes: bool,
    jobs: int | None,
    node_timeout: float | None,
) -> int:
    """The command line's ``audit``, with the options as click parses them."""
    return run(
        Options(
            fmt=fmt,
            project=project,
            file=file,
            env_files=env_files,
            resolve=resolve,
            inventory=inventory,
            interface=interface,
            cidr=cidr,
            docker_image=docker_image,
            nodes=nodes,
            jobs=jobs,
            node_timeout=node_timeout,
        )
    )
