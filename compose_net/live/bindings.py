"""From Docker's port data to verdicts and findings. Pure: no Docker, no network.

A *binding* is one published port of a running container as the engine reports it (the PORTS
column of ``docker ps``). Its verdict says who can reach it:

* ``all-interfaces``: bound to ``0.0.0.0`` or ``::``, so also to the node's public address;
* ``public``: bound to one of the node's public addresses;
* ``internal``: bound to an internal (service-network) address;
* ``loopback``: bound to ``127.0.0.1`` or ``::1``.

A container on the host's network (``network_mode: host``) has no bindings: whatever it listens
on is on the node's interfaces, so it gets the verdict ``host-network``. A swarm service port
published through the ingress mesh is on every interface of every node (``all-interfaces``); one
published in host mode is bound by each node's own settings (``per-node``, a note).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from compose_net.errors import ComposeNetError
from compose_net.policy.addresses import (
    INTERNAL_NETWORKS,
    Address,
    Network,
    classify,
    parse_ip,
    unmapped,
)
from compose_net.policy.allowances import Allow, allowing, service_names

Verdict = Literal["all-interfaces", "public", "internal", "loopback", "host-network", "per-node"]
VERDICTS: tuple[Verdict, ...] = (
    "all-interfaces", "public", "internal", "loopback", "host-network", "per-node",
)
#: Verdicts that make ``audit`` exit 1.
EXPOSED: frozenset[Verdict] = frozenset({"all-interfaces", "public", "host-network"})

LABEL_PROJECT = "com.docker.compose.project"
LABEL_SERVICE = "com.docker.compose.service"
LABEL_CONFIG_FILES = "com.docker.compose.project.config_files"
LABEL_STACK = "com.docker.stack.namespace"
LABEL_SWARM_SERVICE = "com.docker.swarm.service.name"

FindingKind = Literal[
    "exposed", "host-network", "undeclared", "missing", "not-running", "per-node", "unreachable",
    "open", "allowed",
]
#: Finding kinds that are only notes: shown, but ``audit`` still exits 0 for them.
NOTE_KINDS: frozenset[FindingKind] = frozenset({"per-node", "allowed"})


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class NodeAddresses:
    """The node's own addresses, when known; they decide before the address ranges do."""

    public: frozenset[Address] = frozenset()
    internal: frozenset[Address] = frozenset()
    #: the networks that count as internal (the configuration's ``internal-networks`` too),
    #: as check and ports judge an address
    networks: tuple[Network, ...] = INTERNAL_NETWORKS

    @classmethod
    def of(
        cls,
        public: Iterable[str] = (),
        internal: Iterable[str] = (),
        networks: tuple[Network, ...] = INTERNAL_NETWORKS,
    ) -> NodeAddresses:
        return cls(frozenset(_addresses(public)), frozenset(_addresses(internal)), networks)

    def __bool__(self) -> bool:
        return bool(self.public or self.internal)


#: No addresses known: the address ranges decide.
UNKNOWN_NODE = NodeAddresses()


def _addresses(texts: Iterable[str]) -> Iterable[Address]:
    for text in texts:
        addr = parse_ip(text)
        if addr is None:
            raise ComposeNetError(f"{text!r} is not an IP address")
        yield unmapped(addr)


def verdict(host_ip: str, node: NodeAddresses = UNKNOWN_NODE) -> Verdict:
    """Who can reach a port bound to ``host_ip`` (empty: every interface) on ``node``."""
    if not host_ip:
        return "all-interfaces"
    addr = parse_ip(host_ip)
    if addr is None:
        raise ComposeNetError(f"the engine reported a binding to {host_ip!r}, which is not an IP")
    addr = unmapped(addr)
    if addr.is_unspecified:
        return "all-interfaces"
    if addr.is_loopback:
        return "loopback"
    if addr in node.public:
        return "public"
    if addr in node.internal:
        return "internal"
    return "internal" if classify(addr, node.networks) == "private" else "public"


# --------------------------------------------------------------------------- containers


def host_and_port(ip: str, port: int) -> str:
    """``ip:port`` with an IPv6 address in brackets, as ``docker ps`` prints it."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


@dataclass(frozen=True)
class Binding:
    """One published port of a running container."""

    host_ip: str
    host_port: int
    container_port: int
    protocol: str
    verdict: Verdict

    @property
    def exposed(self) -> bool:
        return self.verdict in EXPOSED

    def display(self) -> str:
        host = host_and_port(self.host_ip, self.host_port)
        return f"{host}->{self.container_port}/{self.protocol}"

    def why_exposed(self) -> str:
        """What the finding of an ``all-interfaces`` or ``public`` binding says."""
        if self.verdict == "all-interfaces":
            return f"{self.display()} listens on every interface, the public address included"
        return f"{self.display()} is bound to the public address {self.host_ip}"

    def as_json(self) -> dict[str, Any]:
        return {
            "host_ip": self.host_ip, "host_port": self.host_port,
            "container_port": self.container_port, "protocol": self.protocol,
            "binding": self.display(), "verdict": self.verdict, "exposed": self.exposed,
        }


@dataclass(frozen=True)
class Container:
    """A running container and what it publishes."""

    id: str
    name: str
    project: str | None
    service: str | None
    network_mode: str
    bindings: tuple[Binding, ...]
    #: ports the image exposes but nobody published, as ``7005/tcp``
    unpublished: tuple[str, ...] = ()
    config_files: tuple[str, ...] = ()

    @property
    def host_network(self) -> bool:
        return self.network_mode == "host"

    @property
    def exposed(self) -> bool:
        return self.host_network or any(b.exposed for b in self.bindings)

    @property
    def owner(self) -> str:
        """``project/service`` (or what of it is known), ``-`` for a plain container."""
        if self.project and self.service:
            return f"{self.project}/{self.service}"
        return self.service or self.project or "-"

    def ports_column(self) -> str:
        return ports_column(self.bindings, self.unpublished)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id[:12], "name": self.name, "project": self.project,
            "service": self.service, "network_mode": self.network_mode,
            "verdict": "host-network" if self.host_network else None,
            "ports": self.ports_column(),
            "bindings": [b.as_json() for b in self.bindings],
            "exposed": self.exposed,
        }


def _family_key(ip: str) -> tuple[int, bytes]:
    addr = parse_ip(ip)
    if addr is None:
        return (9, ip.encode())
    return (addr.version, addr.packed)


def ports_column(bindings: Sequence[Binding], unpublished: Sequence[str] = ()) -> str:
    """Bindings as one line, like the PORTS column of ``docker ps``.

    Bindings to the same address and protocol whose host and container ports both count up by
    one are shown as one range (``0.0.0.0:7102-7103->7001-7002/tcp``).
    """
    ordered = sorted(
        set(bindings),
        key=lambda b: (_family_key(b.host_ip), b.protocol, b.container_port, b.host_port),
    )
    runs: list[list[Binding]] = []
    for b in ordered:
        if runs:
            last = runs[-1][-1]
            if (last.host_ip, last.protocol) == (b.host_ip, b.protocol) and (
                b.host_port == last.host_port + 1 and b.container_port == last.container_port + 1
            ):
                runs[-1].append(b)
                continue
        runs.append([b])
    parts = list(unpublished)
    for run in runs:
        first, last = run[0], run[-1]
        if len(run) == 1:
            parts.append(first.display())
        else:
            host = host_and_port(first.host_ip, first.host_port)
            parts.append(
                f"{host}-{last.host_port}->{first.container_port}-{last.container_port}"
                f"/{first.protocol}"
            )
    return ", ".join(parts)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def container_from_summary(
    summary: Mapping[str, Any], node: NodeAddresses = UNKNOWN_NODE
) -> Container:
    """A Container from one item of the engine's container list (``GET /containers/json``)."""
    cid = str(summary.get("Id") or "")
    names = summary.get("Names") or []
    name = str(names[0]).lstrip("/") if names else cid[:12]
    labels: Mapping[str, str] = summary.get("Labels") or {}
    host_config: Mapping[str, Any] = summary.get("HostConfig") or {}
    bindings: list[Binding] = []
    unpublished: list[str] = []
    for port in summary.get("Ports") or []:
        protocol = str(port.get("Type") or "tcp")
        private = _int(port.get("PrivatePort"))
        public = _int(port.get("PublicPort"))
        if private is None:
            continue
        if not public:
            unpublished.append(f"{private}/{protocol}")
            continue
        ip = str(port.get("IP") or "") or "0.0.0.0"
        bindings.append(Binding(ip, public, private, protocol, verdict(ip, node)))
    files = labels.get(LABEL_CONFIG_FILES, "")
    return Container(
        id=cid,
        name=name,
        project=labels.get(LABEL_PROJECT) or labels.get(LABEL_STACK),
        service=labels.get(LABEL_SERVICE) or labels.get(LABEL_SWARM_SERVICE),
        network_mode=str(host_config.get("NetworkMode") or "default"),
        bindings=tuple(dict.fromkeys(bindings)),
        unpublished=tuple(dict.fromkeys(unpublished)),
        config_files=tuple(f for f in files.split(",") if f),
    )


# --------------------------------------------------------------------------- swarm services


@dataclass(frozen=True)
class ServicePort:
    """A port a swarm service publishes; swarm never takes a host IP."""

    published: int | None
    target: int
    protocol: str
    mode: str

    @property
    def verdict(self) -> Verdict:
        return "per-node" if self.mode == "host" else "all-interfaces"

    @property
    def exposed(self) -> bool:
        return self.verdict in EXPOSED

    def display(self) -> str:
        published = "*" if self.published is None else str(self.published)
        return f"*:{published}->{self.target}/{self.protocol} ({self.mode})"

    def why_exposed_here(self) -> str:
        """What the finding of an ingress port says on one swarm node."""
        return (f"{self.display()} is published through the ingress routing mesh: on every "
                "interface of this node")

    def as_json(self) -> dict[str, Any]:
        return {
            "published": self.published, "target": self.target, "protocol": self.protocol,
            "mode": self.mode, "binding": self.display(), "verdict": self.verdict,
            "exposed": self.exposed,
        }


@dataclass(frozen=True)
class SwarmService:
    id: str
    name: str
    stack: str | None
    ports: tuple[ServicePort, ...]

    @property
    def exposed(self) -> bool:
        return any(p.exposed for p in self.ports)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id[:12], "name": self.name, "stack": self.stack,
            "ports": [p.as_json() for p in self.ports], "exposed": self.exposed,
        }


def service_from_api(data: Mapping[str, Any]) -> SwarmService:
    """A SwarmService from one item of ``GET /services``."""
    spec: Mapping[str, Any] = data.get("Spec") or {}
    endpoint: Mapping[str, Any] = data.get("Endpoint") or {}
    raw = endpoint.get("Ports") or (spec.get("EndpointSpec") or {}).get("Ports") or []
    ports: list[ServicePort] = []
    for port in raw:
        target = _int(port.get("TargetPort"))
        if target is None:
            continue
        published = _int(port.get("PublishedPort")) or None
        ports.append(ServicePort(
            published, target, str(port.get("Protocol") or "tcp"),
            str(port.get("PublishMode") or "ingress"),
        ))
    labels: Mapping[str, str] = spec.get("Labels") or {}
    return SwarmService(
        id=str(data.get("ID") or ""),
        name=str(spec.get("Name") or data.get("ID") or ""),
        stack=labels.get(LABEL_STACK),
        ports=tuple(dict.fromkeys(ports)),
    )


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """One thing ``audit`` reports; ``location`` is ``FILE:LINE:COL`` for a declared entry."""

    kind: FindingKind
    subject: str
    message: str
    location: str | None = None
    #: the inventory node it was found on (audit and probe --nodes)
    node: str | None = None

    @property
    def failing(self) -> bool:
        return self.kind not in NOTE_KINDS

    def line(self) -> str:
        """``FILE:LINE:COL: KIND: SUBJECT: MESSAGE`` or ``SUBJECT: KIND: MESSAGE``."""
        if self.location is not None:
            return f"{self.location}: {self.kind}: {self.subject}: {self.message}"
        return f"{self.subject}: {self.kind}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind, "subject": self.subject, "message": self.message,
            "location": self.location, "failing": self.failing,
        }
        if self.node is not None:
            data["node"] = self.node
        return data


def allowed_by(allows: Sequence[Allow], container: Container, binding: Binding) -> Allow | None:
    """The ``allow`` entry that makes ``binding`` meant to be public, if any.

    An entry names a service (the container's Compose service, its swarm service with or
    without the stack's prefix, or the container's name; ``*`` for any) and optionally a port,
    the host or the container port.
    """
    names = service_names(container.service, container.project) if container.service else []
    if container.name:
        names.append(container.name)
    return allowing(allows, names, str(binding.host_port), str(binding.container_port))


def ingress_allowed_by(
    allows: Sequence[Allow], service: SwarmService, port: ServicePort
) -> Allow | None:
    """The ``allow`` entry that makes a swarm service's ingress port meant to be public, if
    any (the service named with or without its stack's prefix)."""
    names = service_names(service.name, service.stack)
    return allowing(allows, names, str(port.published or ""), str(port.target))


def allowed_text(allow: Allow) -> str:
    return allow.reason or f"allowed by {allow} in the configuration"


def exposure_findings(
    containers: Sequence[Container],
    services: Sequence[SwarmService] = (),
    allows: Sequence[Allow] = (),
) -> list[Finding]:
    """A finding for each exposed binding, host-network container and swarm service port.

    A binding an ``allow`` entry names is a note (``allowed``), not a finding that counts.
    """
    out: list[Finding] = []
    for c in containers:
        subject = f"container {c.name}"
        if c.host_network:
            out.append(Finding(
                "host-network", subject,
                "uses the host's network (network_mode: host): every port it opens is on the "
                "node's interfaces, and the engine cannot list them",
            ))
        for b in c.bindings:
            allow = allowed_by(allows, c, b) if b.exposed and allows else None
            if allow is not None:
                out.append(Finding("allowed", subject, f"{b.display()}: {allowed_text(allow)}"))
            elif b.verdict in ("all-interfaces", "public"):
                out.append(Finding("exposed", subject, b.why_exposed()))
    for s in services:
        subject = f"service {s.name}"
        for p in s.ports:
            allow = ingress_allowed_by(allows, s, p) if allows else None
            if p.verdict == "all-interfaces" and allow is not None:
                out.append(Finding("allowed", subject, f"{p.display()}: {allowed_text(allow)}"))
            elif p.verdict == "all-interfaces":
                out.append(Finding("exposed", subject,
                                   f"{p.display()} is published through the ingress routing "
                                   "mesh: on every interface of every node"))
            elif p.verdict == "per-node":
                out.append(Finding("per-node", subject,
                                   f"{p.display()} is bound on each node that runs a task, by "
                                   "that node's settings; audit each node to see where"))
    return out


# --------------------------------------------------------------------------- drift


@dataclass(frozen=True)
class Declared:
    """One published port a file declares, as Compose reads it."""

    service: str
    #: None: every interface
    host_ip: str | None
    #: the host port range (first, last); None when Docker picks a port
    published: tuple[int, int] | None
    target: int
    protocol: str
    location: str
    #: how it is printed when variables filled some of it (their references, never their
    #: values: compose_net.model.value_free); "" when the file writes it all
    shown: str = ""

    def display(self) -> str:
        if self.shown:
            return self.shown
        if self.published is None:
            host = ""
        elif self.published[0] == self.published[1]:
            host = str(self.published[0])
        else:
            host = f"{self.published[0]}-{self.published[1]}"
        ip = ""
        if self.host_ip:
            ip = (f"[{self.host_ip}]:" if ":" in self.host_ip else f"{self.host_ip}:")
        text = f"{ip}{host}:{self.target}" if ip or host else str(self.target)
        return f"{text}/{self.protocol}"

    def accepts(self, b: Binding) -> bool:
        """True when ``b`` is what this declaration makes the engine publish."""
        if (b.protocol, b.container_port) != (self.protocol, self.target):
            return False
        if self.published is not None and not (
            self.published[0] <= b.host_port <= self.published[1]
        ):
            return False
        return same_host_ip(self.host_ip, b.host_ip)


def same_host_ip(declared: str | None, running: str) -> bool:
    """Whether a declared host IP gives the engine's ``running`` one (none gives 0.0.0.0 and ::)."""
    have = parse_ip(running)
    if not declared:
        return have is not None and have.is_unspecified
    want = parse_ip(declared)
    if want is None or have is None:
        return False
    return unmapped(want) == unmapped(have)


def drift(
    file: str, declared: Sequence[Declared], containers: Sequence[Container]
) -> list[Finding]:
    """Differences between what ``file`` declares and what its running containers publish."""
    by_service: dict[str, list[Declared]] = {}
    for d in declared:
        by_service.setdefault(d.service, []).append(d)
    out: list[Finding] = []
    running_services: set[str] = set()
    for c in containers:
        if c.service is not None:
            running_services.add(c.service)
        wanted = by_service.get(c.service or "", [])
        met: set[Declared] = set()
        for b in c.bindings:
            hits = [d for d in wanted if d.accepts(b)]
            if hits:
                met.update(hits)
            else:
                out.append(Finding("undeclared", f"container {c.name}",
                                   f"{b.display()} is published but {file} does not declare it"))
        for d in wanted:
            if d not in met:
                out.append(Finding(
                    "missing", f"service {d.service}",
                    f"{d.display()} is declared but container {c.name} does not publish it",
                    d.location,
                ))
    for service, wanted in by_service.items():
        if service not in running_services:
            out.append(Finding("not-running", f"service {service}",
                               "declares ports but no container of it is running",
                               wanted[0].location))
    return out


def parse_published(value: object) -> tuple[int, int] | None:
    """Compose's ``published`` (``"7101"``, ``"8000-8001"``, 7101 or absent) as a range."""
    if value is None or value == "":
        return None
    text = str(value)
    first, _, last = text.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        raise ComposeNetError(f"published port {text!r} is not a port or a range")
    low = int(first)
    high = int(last) if last else low
    if not (0 < low <= high <= 65535):
        raise ComposeNetError(f"published port {text!r} is out of range")
    return (low, high)

