"""What the engine really runs: containers (and swarm services) with their port bindings.

``collect`` is the only function here that talks to Docker; the docker SDK is imported when it
connects. The engine is the one the docker CLI would use (``DOCKER_HOST`` with the TLS
variables, else ``DOCKER_CONTEXT`` or the current docker context, else the default socket).
``assess`` is pure: it turns what was collected into verdicts, findings and drift.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compose_net.errors import ComposeNetError
from compose_net.live.bindings import (
    LABEL_PROJECT,
    LABEL_STACK,
    UNKNOWN_NODE,
    Container,
    Declared,
    Finding,
    NodeAddresses,
    SwarmService,
    container_from_summary,
    drift,
    exposure_findings,
    service_from_api,
)
from compose_net.policy.addresses import INTERNAL_NETWORKS, Network
from compose_net.policy.allowances import Allow


@dataclass(frozen=True)
class EngineState:
    """What one engine reported, as the API gave it."""

    host: str
    name: str
    #: "inactive", "manager" or "worker"
    swarm: str
    containers: Sequence[Mapping[str, Any]]
    services: Sequence[Mapping[str, Any]] = ()
    #: the engine's swarm node ID ("" outside a swarm)
    node_id: str = ""


@dataclass(frozen=True)
class DeclaredFile:
    """A file ``audit --file`` compares with the running containers."""

    path: str
    ports: Sequence[Declared]


@dataclass
class Audit:
    state: EngineState
    containers: list[Container]
    services: list[SwarmService]
    findings: list[Finding]
    drift: list[Finding] = field(default_factory=list)
    #: the project whose containers the drift was computed from (None: matched by file)
    project: str | None = None

    @property
    def failing(self) -> bool:
        return any(f.failing for f in [*self.findings, *self.drift])


def in_project(labels: Mapping[str, str] | None, project: str) -> bool:
    labels = labels or {}
    return project in (labels.get(LABEL_PROJECT), labels.get(LABEL_STACK))


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def engine_address() -> str:
    """The engine address the docker CLI would use, for display."""
    from compose_net.resolvers import docker as resolver

    host = os.environ.get("DOCKER_HOST")
    if host:
        return host
    name = resolver.current_context()
    if name == "default":
        return "unix:///var/run/docker.sock"
    try:
        return resolver.context_endpoint(name).host
    except ComposeNetError:  # connect() has said why already
        return f"docker context {name}"


def collect(project: str | None = None) -> EngineState:
    """Ask the engine for its running containers and, on a swarm manager, its services."""
    from compose_net.resolvers.docker import connect

    return read_state(connect(), engine_address(), project)


def read_state(client: Any, host: str, project: str | None = None) -> EngineState:
    """What the engine behind ``client`` runs (the client is closed afterwards)."""
    from docker.errors import DockerException

    try:
        info = client.info()
        containers = list(client.api.containers(filters={"status": "running"}))
        swarm = info.get("Swarm") or {}
        if swarm.get("ControlAvailable"):
            role = "manager"
            services = list(client.api.services())
        else:
            role = "worker" if swarm.get("LocalNodeState") == "active" else "inactive"
            services = []
    except DockerException as e:
        raise ComposeNetError(f"cannot audit the Docker engine at {host}: {_one_line(e)}") from None
    finally:
        client.close()
    if project is not None:
        containers = [c for c in containers if in_project(c.get("Labels"), project)]
        services = [s for s in services
                    if in_project((s.get("Spec") or {}).get("Labels"), project)]
    return EngineState(host, str(info.get("Name") or ""), role, containers, services,
                       str(swarm.get("NodeID") or ""))


def _file_keys(path: str) -> set[str]:
    return {os.path.abspath(path), os.path.realpath(path)}


def containers_of_file(containers: Iterable[Container], path: str) -> list[Container]:
    """The containers Compose started from ``path`` (by their config-files label)."""
    keys = _file_keys(path)
    return [c for c in containers if keys & set(c.config_files)]


def assess(
    state: EngineState,
    node: NodeAddresses = UNKNOWN_NODE,
    declared: DeclaredFile | None = None,
    project: str | None = None,
    allows: Sequence[Allow] = (),
) -> Audit:
    """Verdicts for every binding, the exposure findings and, with ``declared``, the drift.

    A binding ``allows`` names is a note, not an exposure."""
    containers = sorted(
        (container_from_summary(c, node) for c in state.containers),
        key=lambda c: (c.project or "", c.service or "", c.name),
    )
    services = sorted((service_from_api(s) for s in state.services), key=lambda s: s.name)
    result = Audit(state, containers, services, exposure_findings(containers, services, allows),
                   project=project)
    if declared is not None:
        if project is not None:
            mine = [c for c in containers if c.project == project]
        else:
            mine = containers_of_file(containers, declared.path)
        result.drift = drift(declared.path, declared.ports, mine)
    return result


def node_addresses(
    nodes: Iterable[Any], networks: tuple[Network, ...] = INTERNAL_NETWORKS
) -> NodeAddresses:
    """Public and internal addresses of every node of a node table (resolvers.inventory.Node);
    ``networks``: what counts as internal besides them."""
    public: list[str] = []
    internal: list[str] = []
    for n in nodes:
        public += [a for a in (n.public_ipv4, n.public_ipv6) if a]
        internal += [a for a in (n.service_ipv4, n.service_ipv6) if a]
    return NodeAddresses.of(public, internal, networks)
