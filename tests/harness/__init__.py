"""Test harness: real Docker engines, network namespaces and the real compose binary."""

from __future__ import annotations

from .bench import simulated_figures
from .ci import in_ci, require
from .docker import (
    DEFAULT_DOCKER_HOST,
    Engine,
    compose_binary,
    docker_cli,
    root_engine,
    stack_config,
)
from .images import BUSYBOX_IMAGE, busybox_image
from .netns import (
    INTERNAL_IF,
    PUBLIC_IF,
    Lab,
    LabError,
    Namespace,
    Node,
    Peer,
    clean_leftovers,
    leftovers,
    netns_unavailable_reason,
)
from .probe import ProbeResult, echo_exchange, echo_roundtrip, tcp_probe, wait_for_echo
from .process import CommandError, run, wait_until
from .sockcheck import free_port
from .swarm import SWARM_NODES, Swarm, SwarmNode, build_swarm, create_gwbridge
from .tls import make_certificates

__all__ = [
    "BUSYBOX_IMAGE",
    "DEFAULT_DOCKER_HOST",
    "INTERNAL_IF",
    "PUBLIC_IF",
    "SWARM_NODES",
    "CommandError",
    "Engine",
    "Lab",
    "LabError",
    "Namespace",
    "Node",
    "Peer",
    "ProbeResult",
    "Swarm",
    "SwarmNode",
    "build_swarm",
    "busybox_image",
    "clean_leftovers",
    "compose_binary",
    "create_gwbridge",
    "docker_cli",
    "echo_exchange",
    "echo_roundtrip",
    "free_port",
    "in_ci",
    "leftovers",
    "make_certificates",
    "netns_unavailable_reason",
    "require",
    "root_engine",
    "run",
    "simulated_figures",
    "stack_config",
    "tcp_probe",
    "wait_for_echo",
    "wait_until",
]
