"""``compose-net audit``: what the running containers really publish, and who can reach it."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from compose_net.commands import other_options
from compose_net.errors import ComposeNetError
from compose_net.live import audit as live
from compose_net.live.bindings import NodeAddresses
from compose_net.report import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from compose_net.config import Config
    from compose_net.live.exposures import NodeReport
    from compose_net.live.fleet import Fleet
    from compose_net.live.watch import NodeSpec, Setup
    from compose_net.policy.allowances import Allow
    from compose_net.resolvers.docker import Target
    from compose_net.resolvers.inventory import Inventory, Node

#: seconds an engine may be down before --watch reports it unreachable
DEFAULT_NODE_TIMEOUT = 10.0
#: the node name of a single engine (without --nodes) in lines and metrics
LOCAL_NODE = "local"


#: what the command line asks of ``audit`` (compose_net.commands.options)
Options = other_options.Audit


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
    source_of = opts.node_source
    if not source_of.given:
        return NodeAddresses(networks=networks)
    from compose_net import resolvers

    table = resolvers.node_table(
        source_of.resolve, inventory=source_of.inventory, interface=source_of.interface,
        cidr=source_of.cidr, docker_image=source_of.docker_image,
        internal=configured.internal_extra,
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


def fleet_reports(fleet: Fleet, allowed: Sequence[Allow]) -> list[NodeReport]:
    """Each node of ``fleet`` as the metrics show it."""
    import time

    from compose_net.live.exposures import NodeReport, node_rows

    now = time.time()
    out: list[NodeReport] = []
    for n in fleet.nodes:
        if n.audit is None:
            out.append(NodeReport(n.name, False, (), {"unreachable": 1}, None, None))
            continue
        swarm = n.read.state is not None and n.read.state.swarm != "inactive"
        rows, counts = node_rows(n.name, n.audit.containers, fleet.services if swarm else (),
                                 allowed)
        out.append(NodeReport(n.name, True, tuple(rows), dict(counts), now,
                              round(n.read.seconds, 6)))
    return out


def emit(opts: Options, text: str | bytes) -> None:
    """The report to standard output, or atomically to ``-o``."""
    if opts.output is not None:
        from compose_net import source

        source.write_atomic(opts.output, text.encode("utf-8") if isinstance(text, str) else text)
        return
    sys.stdout.write(text if isinstance(text, str) else text.decode("utf-8"))


def run_nodes(opts: Options) -> int:
    from compose_net.live import fleet as fleets

    if opts.file is not None:
        raise ComposeNetError("--file compares one engine with a file: it does not go with --nodes")
    table = node_table(opts)
    configured = configuration(opts)
    allowed = configured.allows()
    states = fleets.gather(
        table, jobs=opts.fleet.jobs or fleets.default_jobs(),
        timeout=opts.fleet.node_timeout or fleets.DEFAULT_TIMEOUT,
        project=opts.project,
    )
    fleet = fleets.assess(
        states, opts.project, configured.internal_networks(), allows=allowed
    )
    if opts.fmt == "json":
        emit(opts, json.dumps(fleet_json(fleet, table.origin, opts.project), indent=2) + "\n")
    elif opts.fmt == "openmetrics":
        from compose_net.live import metrics

        emit(opts, metrics.text(fleet_reports(fleet, allowed)))
    else:
        emit(opts, fleet_text(fleet))
    if fleet.reachable == 0:
        raise ComposeNetError(
            f"no node could be audited ({_count(len(fleet.nodes), 'node')} unreachable)"
        )
    return EXIT_FINDINGS if fleet.failing else EXIT_OK


def main(opts: Options) -> int:
    """The command line's ``audit``."""
    if opts.metrics_listen is not None and not opts.watch:
        raise ComposeNetError("--metrics-listen serves the metrics while --watch runs: add --watch")
    if opts.watch:
        return run_watch(opts)
    if opts.fleet.nodes:
        return run_nodes(opts)
    if opts.fleet.jobs is not None or opts.fleet.node_timeout is not None:
        raise ComposeNetError("--jobs and --node-timeout go with --nodes")
    from compose_net.live.declared import declared_ports

    declared = None
    if opts.file is not None:
        declared = live.DeclaredFile(opts.file, declared_ports(opts.file, opts.env_files))
    configured = configuration(opts)  # read once: it judges addresses and allows ports
    node = node_addresses(opts, configured)
    allowed = configured.allows()
    state = live.collect(opts.project)
    result = live.assess(state, node, declared, opts.project, allowed)
    if opts.fmt == "json":
        emit(opts, json.dumps(as_json(result, declared is not None), indent=2) + "\n")
    elif opts.fmt == "openmetrics":
        import time

        from compose_net.live import metrics
        from compose_net.live.exposures import NodeReport, node_rows

        rows, counts = node_rows(LOCAL_NODE, result.containers, result.services, allowed)
        emit(opts, metrics.text([NodeReport(LOCAL_NODE, True, tuple(rows), dict(counts),
                                            time.time())]))
    else:
        emit(opts, as_text(result, declared is not None))
    return EXIT_FINDINGS if result.failing else EXIT_OK


# --------------------------------------------------------------------------- --watch


def _spec(
    name: str, engine: str, target_of: Callable[[], Target], addresses: NodeAddresses
) -> NodeSpec:
    from compose_net.live import engineapi
    from compose_net.live.watch import NodeSpec

    target = target_of()  # a bad file of the inventory is an error, as in audit --nodes
    try:
        endpoint = engineapi.endpoint(target.host, tls=target.tls, verify=target.verify,
                                      ca=target.ca, cert=target.cert, key=target.key)
    except ComposeNetError as e:
        return NodeSpec(name, engine, None, addresses, e.message)
    return NodeSpec(name, engine, endpoint, addresses)


def watch_setup(opts: Options) -> Setup:
    """The nodes to watch and the allowed ports, read now (and again on SIGHUP)."""
    from compose_net.live.watch import NodeSpec, Setup
    from compose_net.resolvers import docker

    configured = configuration(opts)
    allowed = configured.allows()
    networks = configured.internal_networks()
    if not opts.fleet.nodes:
        engine = docker.current_engine()
        return Setup([_spec(LOCAL_NODE, docker.describe_target(),
                            lambda: docker.engine_target(engine, LOCAL_NODE),
                            node_addresses(opts, configured))], allowed)
    from compose_net.live import fleet as fleets

    table = node_table(opts)
    specs: list[NodeSpec] = []
    for node in table.nodes:
        if node.engine is None:
            specs.append(NodeSpec(node.name, "none", None, fleets.addresses_of(node, networks),
                                  fleets.NO_ENGINE))
            continue
        specs.append(_spec(node.name, node.engine.describe(),
                           functools.partial(docker.engine_target, node.engine, node.name),
                           fleets.addresses_of(node, networks)))
    return Setup(specs, allowed)


def run_watch(opts: Options) -> int:
    from compose_net import report
    from compose_net.live import watch

    if opts.file is not None:
        raise ComposeNetError("--file compares with a file once: it does not go with --watch")
    if opts.output is not None or opts.fmt == "openmetrics":
        raise ComposeNetError(
            "--watch prints a line per change (text or json); serve the metrics with "
            "--metrics-listen HOST:PORT"
        )
    if opts.fleet.jobs is not None:
        raise ComposeNetError("--jobs does not go with --watch: every node is watched at once")
    if opts.metrics_listen is not None:
        from compose_net.live import metrics

        metrics.parse_listen(opts.metrics_listen)
    setup = watch_setup(opts)

    def say(text: str) -> None:
        report.info(f"compose-net: {text}")

    watch.watch(
        setup,
        emit=watch.printer(sys.stdout, opts.fmt),
        timeout=opts.fleet.node_timeout or DEFAULT_NODE_TIMEOUT,
        project=opts.project,
        reload=lambda: watch_setup(opts),
        say=say,
        metrics_listen=opts.metrics_listen,
    )
    return EXIT_OK


def node_table(opts: Options) -> Inventory:
    """``--nodes``: the inventory's nodes (or the resolver's)."""
    from compose_net.live import fleet as fleets

    source_of = opts.node_source
    return fleets.node_table(
        source_of.inventory, source_of.resolve, interface=source_of.interface,
        cidr=source_of.cidr, docker_image=source_of.docker_image,
    )
