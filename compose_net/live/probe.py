"""Knock on published ports from outside: TCP connects to one address, bounded and timed out.

Only the address given is ever connected to, and only with a plain TCP handshake that is closed
at once. A port answers ``open`` (the handshake completed), ``refused`` (a reset came back),
``filtered`` (nothing came back within the timeout, or an ICMP "unreachable" did) or ``error``
(this host could not send at all, e.g. no route). UDP and SCTP ports, and ports whose number is
only known once a container runs, are ``not-provable``: silence proves nothing there.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from compose_net.errors import ComposeNetError
from compose_net.live.bindings import Container, Declared, SwarmService
from compose_net.policy.addresses import parse_ip

Result = Literal["open", "refused", "filtered", "not-provable", "error"]
RESULTS: tuple[Result, ...] = ("open", "refused", "filtered", "not-provable", "error")

#: errno values that mean something on the way answered "you cannot get there": no listener
#: was reached, but neither did a reset prove the port closed.
_FILTERED_ERRNOS = frozenset({errno.EHOSTUNREACH, errno.ETIMEDOUT})

UDP_REASON = "UDP: a closed port and a silent service look the same from outside"
OTHER_PROTOCOL_REASON = "only TCP is probed"
NO_PORT_REASON = "no fixed host port: Docker picks one when the container starts (--from-docker)"
HOST_NETWORK_REASON = "host network: the engine does not know which ports it opens"


@dataclass(frozen=True)
class Target:
    """One port to try (``port`` None: unknown), and what publishes it."""

    port: int | None
    protocol: str
    sources: tuple[str, ...]
    reason: str = ""

    @property
    def provable(self) -> bool:
        return self.port is not None and self.protocol == "tcp"


@dataclass(frozen=True)
class Outcome:
    target: Target
    result: Result
    detail: str = ""


def check_address(text: str) -> str:
    """The address to probe, canonical; ComposeNetError for anything that is not one address."""
    addr = parse_ip(text)
    if addr is None:
        raise ComposeNetError(f"{text!r} is not an IP address (give the node's public address)")
    if addr.is_unspecified or addr.is_multicast:
        raise ComposeNetError(f"{addr} is not an address a connection can go to")
    return str(addr)


def _reason(protocol: str) -> str:
    return UDP_REASON if protocol == "udp" else OTHER_PROTOCOL_REASON


def make_targets(items: Iterable[tuple[int | None, str, str, str]]) -> list[Target]:
    """Targets from (port, protocol, source, reason) items: one per port and protocol.

    Sources of the same port are merged; unknown ports stay one target per source.
    """
    merged: dict[tuple[int | None, str, str], list[str]] = {}
    reasons: dict[tuple[int | None, str, str], str] = {}
    for port, protocol, source, reason in items:
        protocol = protocol.lower()
        if port is not None and protocol != "tcp" and not reason:
            reason = _reason(protocol)
        key = (port, protocol, source if port is None else "")
        merged.setdefault(key, [])
        if source not in merged[key]:
            merged[key].append(source)
        reasons.setdefault(key, reason)
    out = [Target(port, protocol, tuple(sources), reasons[(port, protocol, extra)])
           for (port, protocol, extra), sources in merged.items()]
    return sorted(out, key=lambda t: (t.port is None, t.port or 0, t.protocol, t.sources))


def targets_from_declared(declared: Iterable[Declared]) -> list[Target]:
    items: list[tuple[int | None, str, str, str]] = []
    for d in declared:
        source = f"{d.location} {d.service} {d.display()}"
        if d.published is None:
            items.append((None, d.protocol, source, NO_PORT_REASON))
            continue
        items += [(port, d.protocol, source, "")
                  for port in range(d.published[0], d.published[1] + 1)]
    return make_targets(items)


def targets_from_engine(
    containers: Iterable[Container], services: Iterable[SwarmService] = ()
) -> list[Target]:
    items: list[tuple[int | None, str, str, str]] = []
    for c in containers:
        if c.host_network:
            items.append((None, "tcp", f"container {c.name}", HOST_NETWORK_REASON))
        items += [(b.host_port, b.protocol, f"container {c.name} {b.display()}", "")
                  for b in c.bindings]
    for s in services:
        for p in s.ports:
            reason = NO_PORT_REASON if p.published is None else ""
            items.append((p.published, p.protocol, f"service {s.name} {p.display()}", reason))
    return make_targets(items)


def outcome_of_error(error: BaseException, timeout: float) -> tuple[Result, str]:
    """What a failed connect means."""
    if isinstance(error, ConnectionRefusedError):
        return "refused", ""
    if isinstance(error, (TimeoutError, asyncio.TimeoutError, socket.timeout)):
        return "filtered", f"no answer within {timeout:g}s"
    if isinstance(error, OSError) and error.errno in _FILTERED_ERRNOS:
        return "filtered", error.strerror or str(error)
    if isinstance(error, OSError):  # this host could not send it: no route, a local block...
        return "error", error.strerror or str(error)
    raise error


async def _connect(address: str, port: int, timeout: float) -> tuple[Result, str]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.sock_connect(sock, (address, port)), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        return outcome_of_error(e, timeout)
    finally:
        sock.close()
    return "open", ""


async def _probe_all(
    address: str,
    targets: Sequence[Target],
    timeout: float,
    concurrency: int,
    progress: Callable[[int, int], None] | None,
) -> list[Outcome]:
    gate = asyncio.Semaphore(concurrency)
    provable = [t for t in targets if t.provable]
    done = 0

    async def one(target: Target) -> Outcome:
        nonlocal done
        assert target.port is not None
        async with gate:
            result, detail = await _connect(address, target.port, timeout)
        done += 1
        if progress is not None:
            progress(done, len(provable))
        return Outcome(target, result, detail)

    results = await asyncio.gather(*(one(t) for t in provable))
    by_target = dict(zip(provable, results))
    return [by_target.get(t) or Outcome(t, "not-provable", t.reason) for t in targets]


def probe(
    address: str,
    targets: Sequence[Target],
    *,
    timeout: float = 2.0,
    concurrency: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Try every provable target at ``address`` (at most ``concurrency`` at once), in order."""
    if timeout <= 0:
        raise ComposeNetError("--timeout must be more than 0 seconds")
    if concurrency < 1:
        raise ComposeNetError("--concurrency must be at least 1")
    return asyncio.run(_probe_all(check_address(address), targets, timeout, concurrency, progress))


async def _probe_plan(
    plan: Sequence[tuple[str, Sequence[Target]]],
    timeout: float,
    concurrency: int,
    progress: Callable[[int, int], None] | None,
) -> list[list[Outcome]]:
    gate = asyncio.Semaphore(concurrency)
    total = sum(1 for _, targets in plan for t in targets if t.provable)
    done = 0

    async def one(address: str, target: Target) -> Outcome:
        nonlocal done
        assert target.port is not None
        async with gate:
            result, detail = await _connect(address, target.port, timeout)
        done += 1
        if progress is not None:
            progress(done, total)
        return Outcome(target, result, detail)

    async def address_all(address: str, targets: Sequence[Target]) -> list[Outcome]:
        provable = [t for t in targets if t.provable]
        results = await asyncio.gather(*(one(address, t) for t in provable))
        by_target = dict(zip(provable, results))
        return [by_target.get(t) or Outcome(t, "not-provable", t.reason) for t in targets]

    return list(await asyncio.gather(*(address_all(a, ts) for a, ts in plan)))


def probe_plan(
    plan: Sequence[tuple[str, Sequence[Target]]],
    *,
    timeout: float = 2.0,
    concurrency: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[Outcome]]:
    """``probe`` for several addresses at once, at most ``concurrency`` connections in flight.

    The outcomes come in the order of ``plan``, each list in the order of its targets.
    """
    if timeout <= 0:
        raise ComposeNetError("--timeout must be more than 0 seconds")
    if concurrency < 1:
        raise ComposeNetError("--concurrency must be at least 1")
    checked = [(check_address(address), targets) for address, targets in plan]
    return asyncio.run(_probe_plan(checked, timeout, concurrency, progress))
