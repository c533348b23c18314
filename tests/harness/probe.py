"""TCP reachability checks, from the root namespace (loopback only) or from a lab namespace."""

from __future__ import annotations

import ipaddress
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from . import sockcheck
from .process import run

if TYPE_CHECKING:
    from .netns import Namespace

ProbeResult = Literal["open", "refused", "timeout"]

_SCRIPT = str(Path(sockcheck.__file__).resolve())
DEFAULT_PAYLOAD = b"compose-net echo check\n"


def _check_target(namespace: Namespace | None, address: str) -> None:
    """Traffic goes only to loopback, or to addresses inside namespaces the tests created."""
    if namespace is None:
        if not ipaddress.ip_address(address).is_loopback:
            raise ValueError(
                f"refusing to send traffic from the root namespace to {address}: "
                "only loopback is allowed there; probe from a lab namespace instead"
            )
    elif not namespace.path.exists():
        raise ValueError(f"namespace {namespace.netns} does not exist")


def _in_namespace(namespace: Namespace, args: list[str], timeout: float) -> str:
    argv = namespace.nsenter(sys.executable, "-I", _SCRIPT, *args)
    return run(argv, timeout=timeout + 15.0).stdout.strip()


def tcp_probe(
    namespace: Namespace | None, address: str, port: int, timeout: float = 3.0
) -> ProbeResult:
    """Try one TCP connect to address:port from namespace (None: root namespace, loopback only)."""
    _check_target(namespace, address)
    if namespace is None:
        result = sockcheck.probe(address, port, timeout)
    else:
        result = _in_namespace(namespace, ["probe", address, str(port), str(timeout)], timeout)
    if result not in ("open", "refused", "timeout"):
        raise RuntimeError(f"unexpected probe result {result!r} for {address}:{port}")
    return cast(ProbeResult, result)


def echo_exchange(
    namespace: Namespace | None,
    address: str,
    port: int,
    payload: bytes = DEFAULT_PAYLOAD,
    timeout: float = 3.0,
) -> bytes:
    """Send payload to address:port from namespace and return what came back (b'' for nothing)."""
    _check_target(namespace, address)
    if namespace is None:
        return sockcheck.echo(address, port, timeout, payload)
    out = _in_namespace(namespace, ["echo", address, str(port), str(timeout), payload.hex()],
                        timeout)
    return bytes.fromhex(out)


def echo_roundtrip(
    namespace: Namespace | None,
    address: str,
    port: int,
    payload: bytes = DEFAULT_PAYLOAD,
    timeout: float = 3.0,
) -> bool:
    """True when one exchange with an echo server returns exactly the payload."""
    return echo_exchange(namespace, address, port, payload, timeout) == payload


def wait_for_echo(
    namespace: Namespace | None,
    address: str,
    port: int,
    payload: bytes = DEFAULT_PAYLOAD,
    timeout: float = 20.0,
    interval: float = 0.2,
) -> bytes:
    """Retry echo exchanges until one returns the payload or timeout passes; return the last reply.

    A published port may accept (docker-proxy) before the server in the container listens, so a
    first exchange can come back empty.
    """
    deadline = time.monotonic() + timeout
    while True:
        remaining = max(0.5, min(3.0, deadline - time.monotonic()))
        reply = echo_exchange(namespace, address, port, payload, remaining)
        if reply == payload or time.monotonic() >= deadline:
            return reply
        time.sleep(interval)
