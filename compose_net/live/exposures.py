"""What is exposed on each node right now, one row per binding. Pure: no Docker, no network.

``audit --watch`` compares these rows before and after an event and prints the difference;
the metrics (``compose_net.live.metrics``) show them. A row is an exposed binding of a running
container (``all-interfaces`` or ``public``), a container on the host's network, or a swarm
service port published through the ingress routing mesh (on every interface of every swarm
node). A binding an ``allow`` entry of the configuration names is meant to be public: it is
counted as allowed, never as exposed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compose_net.live.bindings import (
    Container,
    SwarmService,
    Verdict,
    allowed_by,
    ingress_allowed_by,
)
from compose_net.policy.allowances import Allow

#: ``address`` of an ingress port: every interface of every swarm node
INGRESS_ADDRESS = "*"


@dataclass(frozen=True)
class Exposure:
    """One exposed binding on one node."""

    node: str
    #: the finding kind: "exposed" or "host-network"
    kind: str
    #: what it belongs to, for a person: ``container NAME`` or ``service NAME``
    subject: str
    container: str
    #: the container's ID, or "" for a service port
    container_id: str
    service: str
    #: the Compose project or the swarm stack
    stack: str
    #: the host address ("" on the host's network, ``*`` through the ingress mesh)
    address: str
    #: the host port (0 on the host's network: the engine cannot tell)
    port: int
    container_port: int
    protocol: str
    verdict: Verdict
    message: str

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        """What stays the same while the verdict does (a rename keeps the container's ID)."""
        return (self.node, self.container_id or self.subject, self.address, self.port,
                self.protocol)

    def as_json(self) -> dict[str, Any]:
        return {
            "node": self.node, "kind": self.kind, "container": self.container or None,
            "service": self.service or None, "stack": self.stack or None,
            "address": self.address, "port": self.port or None,
            "container_port": self.container_port or None, "protocol": self.protocol or None,
            "verdict": self.verdict, "message": self.message,
        }


@dataclass(frozen=True)
class NodeReport:
    """One node as the metrics show it."""

    name: str
    reachable: bool
    exposures: tuple[Exposure, ...] = ()
    #: finding kind -> how many (``allowed`` counts the bindings meant to be public)
    findings: Mapping[str, int] = field(default_factory=dict)
    #: when the node was last audited (Unix time) and how long it took; None: never
    last_audit: float | None = None
    duration: float | None = None
    #: engine events handled (``audit --watch``); None: not watching
    events: int | None = None


def _container_rows(node: str, c: Container, allows: Sequence[Allow],
                    counts: Counter[str]) -> list[Exposure]:
    service, stack = c.service or "", c.project or ""
    subject = f"container {c.name}"
    rows: list[Exposure] = []
    if c.host_network:
        counts["host-network"] += 1
        rows.append(Exposure(
            node, "host-network", subject, c.name, c.id, service, stack, "", 0, 0, "",
            "host-network",
            "uses the host's network: every port it opens is on the node's interfaces",
        ))
    for b in c.bindings:
        if not b.exposed:
            continue
        if allows and allowed_by(allows, c, b) is not None:
            counts["allowed"] += 1
            continue
        counts["exposed"] += 1
        rows.append(Exposure(
            node, "exposed", subject, c.name, c.id, service, stack, b.host_ip, b.host_port,
            b.container_port, b.protocol, b.verdict, b.why_exposed(),
        ))
    return rows


def _ingress_rows(node: str, s: SwarmService, allows: Sequence[Allow],
                  counts: Counter[str]) -> list[Exposure]:
    rows: list[Exposure] = []
    for p in s.ports:
        if p.verdict != "all-interfaces":
            continue
        if ingress_allowed_by(allows, s, p) is not None:
            counts["allowed"] += 1
            continue
        counts["exposed"] += 1
        rows.append(Exposure(
            node, "exposed", f"service {s.name}", "", "", s.name, s.stack or "",
            INGRESS_ADDRESS, p.published or 0, p.target, p.protocol, "all-interfaces",
            p.why_exposed_here(),
        ))
    return rows


def node_rows(
    node: str,
    containers: Sequence[Container],
    ingress: Sequence[SwarmService] = (),
    allows: Sequence[Allow] = (),
) -> tuple[list[Exposure], Counter[str]]:
    """The node's exposed bindings, in a stable order, and its findings counted by kind.

    ``ingress``: the swarm's services when the node is a swarm member (else none).
    """
    counts: Counter[str] = Counter()
    rows: list[Exposure] = []
    for c in sorted(containers, key=lambda c: (c.name, c.id)):
        rows += _container_rows(node, c, allows, counts)
    for s in sorted(ingress, key=lambda s: (s.name, s.id)):
        rows += _ingress_rows(node, s, allows, counts)
    return rows, counts

