"""What the command line asks of the commands other than ``check`` and ``harden``.

One frozen value per command, as :mod:`compose_net.commands.options` (which names each of
these too, as ``options.Ports``): kept apart so that ``check`` does not pay for creating
them at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compose_net.commands.options import Inputs
from compose_net.unit import NodeSource

__all__ = ["Addr", "Audit", "Fleet", "NodeSetup", "Nodes", "Ports", "Probe", "Server", "Validate"]


@dataclass(frozen=True)
class Fleet:
    """``--nodes``: every node of the inventory, and how many are read at once, how long."""

    nodes: bool = False
    jobs: int | None = None
    node_timeout: float | None = None


@dataclass(frozen=True)
class Ports:
    inputs: Inputs = field(default_factory=Inputs)
    #: text or json
    fmt: str = "text"
    interpolate: bool = True
    show_values: bool = False


@dataclass(frozen=True)
class Validate:
    inputs: Inputs = field(default_factory=Inputs)
    #: compose or stack
    target: str = "compose"


@dataclass(frozen=True)
class Audit:
    #: text, json or openmetrics
    fmt: str = "text"
    #: write the report here (atomically) instead of standard output
    output: str | None = None
    #: follow the engines' events and print each change of verdict
    watch: bool = False
    #: with watch: serve /metrics on HOST:PORT
    metrics_listen: str | None = None
    project: str | None = None
    #: ``--file``: compare the running bindings with what it declares
    file: str | None = None
    env_files: tuple[str, ...] = ()
    fleet: Fleet = field(default_factory=Fleet)
    node_source: NodeSource = field(default_factory=NodeSource)


@dataclass(frozen=True)
class Probe:
    #: the node's public address (None: with --nodes, every node's)
    address: str | None = None
    files: tuple[str, ...] = ()
    from_docker: bool = False
    project: str | None = None
    #: seconds to wait for each port
    timeout: float = 2.0
    #: connections in flight at once
    concurrency: int = 64
    fmt: str = "text"
    env_files: tuple[str, ...] = ()
    fleet: Fleet = field(default_factory=Fleet)
    #: with --nodes: the inventory (probe takes no resolver)
    node_source: NodeSource = field(default_factory=NodeSource)
    #: with --nodes: probe the internal addresses too
    internal: bool = False


@dataclass(frozen=True)
class Nodes:
    node_source: NodeSource = field(default_factory=NodeSource)
    #: text, json or yaml
    fmt: str = "text"


@dataclass(frozen=True)
class NodeSetup:
    #: its ``node``: the node to set up
    node_source: NodeSource = field(default_factory=NodeSource)
    fmt: str = "text"


@dataclass(frozen=True)
class Addr:
    #: ``[public|service] [ipv4|ipv6]``
    words: tuple[str, ...] = ()
    interface: str | None = None
    cidr: str | None = None
    fmt: str = "text"


@dataclass(frozen=True)
class Server:
    #: standard input and output (the one transport, and the default)
    stdio: bool = False

