"""Every node of an inventory at once: each engine read in parallel, each within a deadline.

``gather`` asks every node's own engine (the inventory's ``engine``, ``context`` or ``env-file``)
for what it runs, at most ``jobs`` nodes at a time; a node that has not answered within
``timeout`` seconds is given up on (its thread is left to end by itself) and reported
unreachable, so the whole run costs about the slowest node, not the sum. ``assess`` is pure:
each node's bindings are judged with that node's own addresses, and the ports a swarm
publishes through its ingress routing mesh are on every interface of every swarm node.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from compose_net.errors import ComposeNetError
from compose_net.live.audit import Audit, EngineState
from compose_net.live.audit import assess as assess_engine
from compose_net.live.bindings import (
    Finding,
    NodeAddresses,
    SwarmService,
    allowed_text,
    exposure_findings,
    ingress_allowed_by,
    service_from_api,
)
from compose_net.policy.addresses import INTERNAL_NETWORKS, Network
from compose_net.policy.allowances import Allow
from compose_net.resolvers.inventory import Inventory, Node

if TYPE_CHECKING:
    from compose_net.resolvers.docker import Target

DEFAULT_TIMEOUT = 10.0
#: audit --nodes and probe --nodes: nodes read at once, per CPU (the work is mostly waiting)
JOBS_PER_CPU = 4

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one task gave: its value, or why it has none."""

    value: T | None = None
    error: str | None = None
    seconds: float = 0.0


def run_bounded(
    tasks: Sequence[Callable[[], T]],
    *,
    jobs: int,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
) -> list[Outcome[T]]:
    """Run ``tasks``, at most ``jobs`` at once, each given up after ``timeout`` seconds.

    A ComposeNetError a task raises becomes its ``error``; a task still running at its deadline
    gets the error "no answer within N s" and keeps running in a daemon thread of its own, so
    it neither holds a slot nor keeps the process alive.
    """
    if jobs < 1:
        raise ComposeNetError("--jobs must be at least 1")
    if timeout <= 0:
        raise ComposeNetError("--node-timeout must be more than 0 seconds")
    results: list[Outcome[T]] = [Outcome(error="not run")] * len(tasks)
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(tasks)):
        pending.put(index)

    def one(index: int) -> None:
        box: list[Outcome[T]] = []
        start = clock()

        def work() -> None:
            try:
                value = tasks[index]()
            except ComposeNetError as e:
                box.append(Outcome(error=e.message, seconds=clock() - start))
            except Exception as e:  # an engine's odd answer stays that node's problem
                box.append(Outcome(error=f"{type(e).__name__}: {e}", seconds=clock() - start))
            else:
                box.append(Outcome(value, seconds=clock() - start))

        worker = threading.Thread(target=work, name=f"node-{index}", daemon=True)
        worker.start()
        worker.join(timeout)
        results[index] = box[0] if box else Outcome(
            error=f"no answer within {timeout:g} s", seconds=clock() - start
        )

    def slot() -> None:
        while True:
            try:
                index = pending.get_nowait()
            except queue.Empty:
                return
            one(index)

    slots = [threading.Thread(target=slot, daemon=True) for _ in range(min(jobs, len(tasks)))]
    for thread in slots:
        thread.start()
    for thread in slots:
        thread.join()
    return results


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class NodeState:
    """One node's engine as read: its state, or why it could not be read."""

    node: Node
    engine: str
    state: EngineState | None
    error: str | None = None
    seconds: float = 0.0


def check_engines(inventory: Inventory) -> dict[str, Target | None]:
    """Every node's engine target, files checked; ComposeNetError for the first bad entry.

    A node without engine keys maps to None: it is reported unreachable, not an error.
    """
    from compose_net.resolvers import docker

    targets: dict[str, Target | None] = {}
    for node in inventory.nodes:
        targets[node.name] = (
            None if node.engine is None else docker.engine_target(node.engine, node.name)
        )
    return targets


NO_ENGINE = (
    "the inventory does not say how to reach its engine (give engine, context or env-file)"
)


def gather(
    inventory: Inventory,
    *,
    jobs: int,
    timeout: float = DEFAULT_TIMEOUT,
    project: str | None = None,
) -> list[NodeState]:
    """Read every node's engine in parallel; the inventory is checked before any connection."""
    from compose_net.live.audit import read_state
    from compose_net.resolvers import docker

    targets = check_engines(inventory)
    importlib.import_module("docker")  # once, before the clock of any node starts

    def reader(node: Node) -> Callable[[], EngineState]:
        target = targets[node.name]

        def read() -> EngineState:
            if target is None:
                raise ComposeNetError(NO_ENGINE)
            # the deadline is run_bounded's: the requests themselves may take a little longer
            client = docker.engine_client(target, timeout + 1)
            return read_state(client, target.host, project)

        return read

    tasks = [reader(node) for node in inventory.nodes]
    with docker.engine_ca_only(True):
        outcomes = run_bounded(tasks, jobs=jobs, timeout=timeout)
    return [
        NodeState(
            node,
            node.engine.describe() if node.engine is not None else "none",
            outcome.value,
            outcome.error,
            outcome.seconds,
        )
        for node, outcome in zip(inventory.nodes, outcomes)
    ]


# --------------------------------------------------------------------------- judging


def addresses_of(node: Node, networks: tuple[Network, ...] = INTERNAL_NETWORKS) -> NodeAddresses:
    return NodeAddresses.of(
        [a for a in (node.public_ipv4, node.public_ipv6) if a],
        [a for a in (node.service_ipv4, node.service_ipv6) if a],
        networks,
    )


@dataclass
class NodeAudit:
    """One node of ``audit --nodes``: its audit, or why it has none."""

    read: NodeState
    audit: Audit | None
    findings: list[Finding] = field(default_factory=list)
    #: why there is no audit: the engine did not answer, or its answer could not be read
    error: str | None = None

    @property
    def name(self) -> str:
        return self.read.node.name


@dataclass
class Fleet:
    nodes: list[NodeAudit]
    #: every service of the swarm(s), from the managers that answered, by ID
    services: list[SwarmService]

    @property
    def findings(self) -> list[Finding]:
        return [f for n in self.nodes for f in n.findings]

    @property
    def reachable(self) -> int:
        return sum(1 for n in self.nodes if n.audit is not None)

    @property
    def exposed(self) -> int:
        return sum(1 for f in self.findings if f.failing and f.kind in ("exposed", "host-network"))

    @property
    def failing(self) -> bool:
        return any(f.failing for f in self.findings)


def _ingress_findings(
    services: Sequence[SwarmService], node: str, allows: Sequence[Allow]
) -> list[Finding]:
    """The swarm's ingress ports on ``node``: exposed, or allowed by the configuration."""
    out: list[Finding] = []
    for s in services:
        for p in s.ports:
            if p.verdict != "all-interfaces":
                continue
            allow = ingress_allowed_by(allows, s, p) if allows else None
            if allow is not None:
                out.append(Finding(
                    "allowed", f"service {s.name}", f"{p.display()}: {allowed_text(allow)}",
                    node=node,
                ))
            else:
                message = p.why_exposed_here()
                out.append(Finding("exposed", f"service {s.name}", message, node=node))
    return out


#: what an engine's odd answer raises while it is read into containers and services
_UNREADABLE = (ComposeNetError, AttributeError, KeyError, TypeError, ValueError)


def _judge(
    read: NodeState,
    project: str | None,
    networks: tuple[Network, ...],
    allows: Sequence[Allow] = (),
) -> Audit:
    """The node's own audit: its containers by its addresses, the services it reports."""
    assert read.state is not None
    own = assess_engine(dataclasses.replace(read.state, services=()),
                        addresses_of(read.node, networks), project=project, allows=allows)
    own.services = sorted((service_from_api(s) for s in read.state.services),
                          key=lambda s: s.name)
    return own


def _unreachable(read: NodeState, why: str) -> NodeAudit:
    name = read.node.name
    return NodeAudit(read, None, [
        Finding("unreachable", f"node {name}", f"engine {read.engine}: {why}", node=name),
    ], why)


def assess(
    states: Sequence[NodeState],
    project: str | None = None,
    networks: tuple[Network, ...] = INTERNAL_NETWORKS,
    allows: Sequence[Allow] = (),
) -> Fleet:
    """Verdicts for every node, each by its own addresses; ingress ports on every swarm node.

    Ports published in host mode are judged by each node's real bindings (its task
    containers), so the per-node note of a single-engine audit is not repeated. An engine
    whose answer cannot be read is unreachable like one that does not answer.
    """
    judged: list[Audit | str] = []
    for read in states:
        if read.state is None:
            judged.append(read.error or "no answer")
            continue
        try:
            judged.append(_judge(read, project, networks, allows))
        except _UNREADABLE as e:
            text = e.message if isinstance(e, ComposeNetError) else f"{type(e).__name__}: {e}"
            judged.append(f"its answer cannot be read: {text}")
    services: dict[str, SwarmService] = {}
    for result in judged:
        for service in result.services if isinstance(result, Audit) else ():
            services.setdefault(service.id or service.name, service)
    swarm = sorted(services.values(), key=lambda s: s.name)
    out: list[NodeAudit] = []
    for read, result in zip(states, judged):
        if not isinstance(result, Audit):
            out.append(_unreachable(read, result))
            continue
        name = read.node.name
        findings = [dataclasses.replace(f, node=name)
                    for f in exposure_findings(result.containers, (), allows)]
        if read.state is not None and read.state.swarm != "inactive":
            findings += _ingress_findings(swarm, name, allows)
        result.findings = findings
        out.append(NodeAudit(read, result, findings))
    return Fleet(out, swarm)


# --------------------------------------------------------------------------- the node table


def node_table(
    inventory: str | None = None,
    resolve: str | None = None,
    *,
    interface: str | None = None,
    cidr: str | None = None,
    docker_image: str | None = None,
    start: str = ".",
) -> Inventory:
    """The nodes of ``--nodes``: ``--inventory``, ``--resolve``, else the configuration's.

    The configuration's ``inventory`` path is relative to the configuration file.
    """
    from compose_net import config, resolvers

    if inventory is None and resolve is None:
        _, _, resolve, inventory = resolvers.configured_source(config.find(start))
        if inventory is None and resolve is None:
            raise ComposeNetError(
                "--nodes needs an inventory: give --inventory FILE "
                "(or inventory: in .compose-net.yaml)"
            )
    table = resolvers.node_table(
        resolve, inventory=inventory, interface=interface, cidr=cidr, docker_image=docker_image
    )
    if not table.nodes:
        raise ComposeNetError(f"{table.origin or 'the inventory'} has no nodes")
    return table


def default_jobs() -> int:
    return JOBS_PER_CPU * (os.cpu_count() or 1)
