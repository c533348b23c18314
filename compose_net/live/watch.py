"""``audit --watch``: audit once, then follow every engine's events and print what changes.

One asyncio event loop for every engine (``compose_net.live.engineapi``): each node has one
task that opens the engine's event stream, audits the node (its running containers, and the
swarm's services on a manager), then handles each event by reading only what it touched (the
one container or service; the manager itself for a node update) and comparing the node's
exposed bindings (``compose_net.live.exposures``) before and after. A change of verdict is one
line.

An engine whose stream ends, whose request fails or that stops answering the liveness ping is
retried with an exponential backoff; it is reported unreachable once it has been down for the
node timeout, and reachable again (and re-audited in full) when it answers. Until then the
metrics show it unreachable and without bindings. Nothing one node does ends the watch:
SIGINT and SIGTERM do (exit 0); SIGHUP re-reads the inventory and the configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TextIO

from compose_net.errors import ComposeNetError
from compose_net.live import engineapi
from compose_net.live.audit import in_project
from compose_net.live.bindings import (
    UNKNOWN_NODE,
    Container,
    NodeAddresses,
    SwarmService,
    container_from_summary,
    service_from_api,
)
from compose_net.live.exposures import Exposure, NodeReport, node_rows
from compose_net.policy.allowances import Allow
from compose_net.printable import escape

#: what the watcher asks the engine to send
EVENT_FILTERS: Final[dict[str, list[str]]] = {
    "type": ["container", "service", "node"],
    "event": ["start", "die", "destroy", "rename", "create", "update", "remove"],
}
CONTAINER_ACTIONS = frozenset({"start", "die", "destroy", "rename"})
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 30.0

Change = Literal["exposed", "no longer exposed", "unreachable", "reachable again"]


def backoff(attempt: int, timeout: float, jitter: float = 1.0) -> float:
    """Seconds before retry ``attempt`` (0 first): doubling from 0.25 s up to the node
    timeout (at least 1 s, at most 30 s), times ``jitter`` (0.75 to 1: engines that dropped
    together do not come back in step)."""
    cap = min(BACKOFF_MAX, max(1.0, timeout))
    return min(cap, BACKOFF_FIRST * 2.0 ** min(attempt, 16)) * jitter


@dataclass(frozen=True)
class NodeSpec:
    """A node to watch: its name, its engine (or why it has none), its addresses."""

    name: str
    engine: str
    endpoint: engineapi.Endpoint | None
    addresses: NodeAddresses = UNKNOWN_NODE
    #: why the engine cannot be watched (no engine in the inventory, an ssh:// engine)
    problem: str | None = None


@dataclass(frozen=True)
class Setup:
    """What SIGHUP re-reads: the nodes and the allowed ports."""

    nodes: Sequence[NodeSpec]
    allows: Sequence[Allow] = ()


@dataclass(frozen=True)
class Line:
    """One change of verdict."""

    time: float
    node: str
    change: Change
    subject: str
    message: str
    exposure: Exposure | None = None

    def stamp(self) -> str:
        whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.time))
        return f"{whole}.{int(self.time % 1 * 1000):03d}Z"

    def text(self) -> str:
        """One line, whatever the names hold (control characters escaped)."""
        return escape(f"{self.stamp()} node {self.node}: {self.change}: {self.subject}: "
                      f"{self.message}")

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"time": self.stamp(), "node": self.node, "change": self.change,
                                "subject": self.subject, "message": self.message}
        if self.exposure is not None:
            data.update({k: v for k, v in self.exposure.as_json().items()
                         if k not in data and k != "node"})
        return data


@dataclass
class _Node:
    spec: NodeSpec
    swarm: str = "inactive"
    #: running containers by ID, judged by the node's addresses when read
    containers: dict[str, Container] = field(default_factory=dict)
    services: list[SwarmService] = field(default_factory=list)
    exposures: dict[tuple[str, str, str, int, str], Exposure] = field(default_factory=dict)
    #: the engine answered its last audit and its stream is open
    up: bool = False
    #: "unreachable" was printed and not yet taken back
    reported: bool = False
    down_since: float | None = None
    #: when the liveness ping that is under way began (monotonic)
    suspect: float | None = None
    why: str = ""
    last_audit: float | None = None
    duration: float | None = None
    events: int = 0
    #: bindings an allow entry names
    allowed: int = 0
    alarm: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = None
    #: the first audit was tried (the watcher says it is watching once every node was)
    tried: bool = False


class Watcher:
    """Follow every node of ``setup``; ``emit`` gets each change of verdict."""

    def __init__(
        self,
        setup: Setup,
        *,
        emit: Callable[[Line], None],
        timeout: float,
        project: str | None = None,
        reload: Callable[[], Setup] | None = None,
        say: Callable[[str], None] = lambda text: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if timeout <= 0:
            raise ComposeNetError("--node-timeout must be more than 0 seconds")
        self.setup = setup
        self.emit = emit
        self.timeout = timeout
        self.project = project
        self.reload_setup = reload
        self.say = say
        self.clock = clock
        self.nodes: dict[str, _Node] = {}
        self.lock = threading.Lock()
        self._reports: dict[str, NodeReport] = {}
        self.stopping: asyncio.Event | None = None
        self.ready: asyncio.Event | None = None

    # ------------------------------------------------------------------ what the metrics see

    def reports(self) -> list[NodeReport]:
        with self.lock:
            return list(self._reports.values())

    def _publish(self, node: _Node) -> None:
        counts: dict[str, int] = {}
        for e in node.exposures.values():
            counts[e.kind] = counts.get(e.kind, 0) + 1
        if node.allowed:
            counts["allowed"] = node.allowed
        if node.reported:
            counts = {"unreachable": 1}
        reachable = node.last_audit is not None and not node.reported
        report = NodeReport(  # what was known before the node went away is not shown
            node.spec.name, reachable, tuple(node.exposures.values()) if reachable else (),
            counts, node.last_audit, node.duration, node.events,
        )
        with self.lock:
            self._reports[node.spec.name] = report

    # ------------------------------------------------------------------ judging

    def _swarm_services(self) -> list[SwarmService]:
        found: dict[str, SwarmService] = {}
        for n in self.nodes.values():
            for s in n.services if n.swarm == "manager" else ():
                found.setdefault(s.id or s.name, s)
        return list(found.values())

    def _judge(self, node: _Node) -> None:
        """Compare the node's exposed bindings with what it had; a line for each change."""
        ingress = self._swarm_services() if node.swarm != "inactive" else []
        rows, counts = node_rows(node.spec.name, list(node.containers.values()), ingress,
                                 self.setup.allows)
        node.allowed = counts["allowed"]
        new = {e.key: e for e in rows}
        now = self.clock()
        lines = [
            *(Line(now, node.spec.name, "no longer exposed", e.subject, _binding(e), e)
              for key, e in node.exposures.items() if key not in new),
            *(Line(now, node.spec.name, "exposed", e.subject, e.message, e)
              for key, e in new.items() if key not in node.exposures),
        ]
        node.exposures = new
        self._publish(node)  # the metrics first: a scrape after a line shows its change
        for line in lines:
            self.emit(line)

    def _rejudge_swarm(self, skip: _Node | None = None) -> None:
        for n in self.nodes.values():
            if n.swarm != "inactive" and n.up and n is not skip:
                self._judge(n)

    # ------------------------------------------------------------------ reading

    async def _get(self, node: _Node, path: str) -> Any:
        assert node.spec.endpoint is not None
        return await asyncio.wait_for(engineapi.get(node.spec.endpoint, path), self.timeout)

    def _mine(self, labels: Any) -> bool:
        return self.project is None or in_project(labels if isinstance(labels, dict) else None,
                                                  self.project)

    async def _read_services(self, node: _Node) -> None:
        if node.swarm != "manager":
            node.services = []
            return
        raw = await self._get(node, "/services")
        node.services = [
            service_from_api(s) for s in _items(raw, "/services")
            if self._mine((s.get("Spec") or {}).get("Labels"))
        ]

    async def _service(self, node: _Node, sid: str) -> None:
        """Read the one service an event names (gone: dropped)."""
        raw = await self._get(node, engineapi.query("/services", {"filters": {"id": [sid]}}))
        found = [service_from_api(s) for s in _items(raw, "/services")
                 if str(s.get("ID")) == sid and self._mine((s.get("Spec") or {}).get("Labels"))]
        node.services = [s for s in node.services if s.id != sid] + found

    async def _audit(self, node: _Node) -> None:
        """Read the whole node: its swarm role, running containers and (manager) services."""
        started = time.monotonic()
        info = await self._get(node, "/info")
        if not isinstance(info, dict):
            raise engineapi.EngineError("the engine's answer to /info is not an object")
        swarm = info.get("Swarm") or {}
        if swarm.get("ControlAvailable"):
            node.swarm = "manager"
        else:
            node.swarm = "worker" if swarm.get("LocalNodeState") == "active" else "inactive"
        raw = await self._get(
            node, engineapi.query("/containers/json", {"filters": {"status": ["running"]}})
        )
        addresses = node.spec.addresses
        node.containers = {  # an answer that cannot be read fails here, for this node only
            str(c.get("Id")): container_from_summary(c, addresses)
            for c in _items(raw, "/containers/json") if self._mine(c.get("Labels"))
        }
        await self._read_services(node)
        node.last_audit = self.clock()
        node.duration = time.monotonic() - started

    async def _container(self, node: _Node, cid: str) -> None:
        started = time.monotonic()
        raw = await self._get(node, engineapi.query(
            "/containers/json", {"filters": {"id": [cid], "status": ["running"]}}
        ))
        found = [container_from_summary(c, node.spec.addresses)
                 for c in _items(raw, "/containers/json")
                 if str(c.get("Id")) == cid and self._mine(c.get("Labels"))]
        node.containers.pop(cid, None)
        for c in found:
            node.containers[cid] = c
        node.last_audit = self.clock()
        node.duration = time.monotonic() - started

    async def _handle(self, node: _Node, event: Mapping[str, Any]) -> None:
        kind = event.get("Type")
        action = str(event.get("Action") or event.get("status") or "")
        actor = event.get("Actor") or {}
        node.events += 1
        if kind == "container" and action in CONTAINER_ACTIONS:
            cid = str(actor.get("ID") or event.get("id") or "")
            if cid:
                await self._container(node, cid)
                self._judge(node)
                return
        elif kind == "service" and node.swarm == "manager":
            sid = str(actor.get("ID") or "")
            started = time.monotonic()
            if sid and action == "remove":
                node.services = [s for s in node.services if s.id != sid]
            elif sid:
                await self._service(node, sid)
            else:
                await self._read_services(node)
            node.last_audit, node.duration = self.clock(), time.monotonic() - started
            self._rejudge_swarm()
            return
        elif kind == "node":
            await self._audit(node)  # a role or membership may have changed
            self._judge(node)
            self._rejudge_swarm(skip=node)
            return
        self._publish(node)

    # ------------------------------------------------------------------ up and down

    def _went_up(self, node: _Node) -> None:
        if node.alarm is not None:
            node.alarm.cancel()
            node.alarm = None
        was_reported = node.reported
        node.up, node.reported, node.down_since = True, False, None
        if was_reported:
            self.emit(Line(self.clock(), node.spec.name, "reachable again",
                           f"engine {node.spec.engine}", "answers again; audited in full"))

    def _went_down(self, node: _Node, why: str, since: float) -> None:
        """The node stopped answering at ``since`` (monotonic): unreachable a timeout later."""
        node.up = False
        node.why = why
        if node.down_since is None:
            node.down_since = since
            delay = max(0.0, since + self.timeout - time.monotonic())
            node.alarm = asyncio.get_running_loop().call_later(delay, self._alarm, node)
        self._publish(node)

    def _alarm(self, node: _Node) -> None:
        node.alarm = None
        if node.up or node.reported or self.nodes.get(node.spec.name) is not node:
            return
        node.reported = True
        self.emit(Line(self.clock(), node.spec.name, "unreachable", f"engine {node.spec.engine}",
                       f"no answer for {self.timeout:g} s: {node.why}"))
        self._publish(node)

    # ------------------------------------------------------------------ one node

    async def _session(self, node: _Node) -> None:
        """Open the stream, audit in full, then handle events until the stream ends."""
        assert node.spec.endpoint is not None
        stream = await asyncio.wait_for(
            engineapi.events(node.spec.endpoint, EVENT_FILTERS), self.timeout
        )
        try:
            await self._audit(node)
            self._went_up(node)
            self._judge(node)
            if node.swarm == "manager":  # the swarm's services, as this manager sees them
                self._rejudge_swarm(skip=node)
            node.tried = True
            self._check_ready()
            queue: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()

            async def pump() -> None:
                try:
                    while True:
                        event = await stream.next()
                        await queue.put(event)
                        if event is None:
                            return
                except (OSError, engineapi.EngineError) as e:
                    await queue.put(e)

            pumping = asyncio.ensure_future(pump())
            try:
                while True:
                    try:
                        item = await asyncio.wait_for(queue.get(), max(self.timeout, 1.0))
                    except asyncio.TimeoutError:
                        node.suspect = time.monotonic()
                        await self._get(node, "/_ping")  # a silent stream: is it alive?
                        node.suspect = None
                        continue
                    if item is None:
                        raise engineapi.EngineError("the engine ended its event stream")
                    if isinstance(item, BaseException):
                        raise item
                    await self._handle(node, item)
            finally:
                pumping.cancel()
        finally:
            stream.close()

    async def _follow(self, node: _Node) -> None:
        attempt = 0
        if node.spec.endpoint is None:
            node.why = node.spec.problem or "no engine"
            node.reported = True
            node.tried = True
            self.emit(Line(self.clock(), node.spec.name, "unreachable",
                           f"engine {node.spec.engine}", node.why))
            self._publish(node)
            self._check_ready()
            return
        while True:
            audited = node.last_audit
            began = time.monotonic()
            node.suspect = None
            try:
                await self._session(node)
                why = "the engine ended its event stream"
            except asyncio.TimeoutError:
                why = f"no answer within {self.timeout:g} s"
            except (OSError, engineapi.EngineError) as e:
                why = _one_line(e)
            except ComposeNetError as e:
                why = f"its answer cannot be read: {e.message}"
            except Exception as e:  # whatever an engine sends stays that node's problem
                why = f"its answer cannot be read: {type(e).__name__}: {_one_line(e)}"
            if node.last_audit != audited:
                attempt = 0
            # down since this attempt began, or since the engine it answered went silent
            since = (node.suspect or time.monotonic()) if node.up else began
            self._went_down(node, why, since)
            if not node.tried:
                node.tried = True
                self._check_ready()
            await asyncio.sleep(backoff(attempt, self.timeout, 0.75 + 0.25 * random.random()))
            attempt += 1

    # ------------------------------------------------------------------ the whole watch

    def _check_ready(self) -> None:
        if self.ready is not None and not self.ready.is_set() and all(
            n.tried for n in self.nodes.values()
        ):
            self.ready.set()
            up = sum(1 for n in self.nodes.values() if n.up)
            exposed = sum(len(n.exposures) for n in self.nodes.values())
            self.say(f"watching {_count(len(self.nodes), 'node')}: {up} reachable, "
                     f"{exposed} exposed")

    def _start(self, spec: NodeSpec, previous: _Node | None = None) -> None:
        node = _Node(spec)
        if previous is not None:  # what was printed stands: only changes are printed again
            node.exposures, node.reported = previous.exposures, previous.reported
        self.nodes[spec.name] = node
        self._publish(node)
        node.task = asyncio.ensure_future(self._follow(node))

    def _stop(self, name: str) -> None:
        node = self.nodes.pop(name)
        if node.alarm is not None:
            node.alarm.cancel()
        if node.task is not None:
            node.task.cancel()
        with self.lock:
            self._reports.pop(name, None)

    def stop(self) -> None:
        if self.stopping is not None:
            self.stopping.set()

    def reload(self) -> None:
        """Read the setup again; start, stop or restart the nodes that changed."""
        if self.reload_setup is None:
            return
        try:
            setup = self.reload_setup()
        except Exception as e:  # a signal handler: whatever went wrong, the watch goes on
            text = e.message if isinstance(e, ComposeNetError) else _one_line(e)
            self.say(f"error: {text}; still watching as before")
            return
        old = {s.name: s for s in self.setup.nodes}
        new = {s.name: s for s in setup.nodes}
        allows_changed = list(setup.allows) != list(self.setup.allows)
        self.setup = setup
        previous: dict[str, _Node] = {}
        for name in [n for n in self.nodes if n not in new or new[n] != old.get(n)]:
            previous[name] = self.nodes[name]
            self._stop(name)
        for name, spec in new.items():
            if name not in self.nodes:
                self._start(spec, previous.get(name))
        if allows_changed:
            for n in self.nodes.values():
                if n.up:
                    self._judge(n)
        self.say(f"reloaded: {_count(len(self.nodes), 'node')}")

    async def run(self, signals: bool = True) -> None:
        """Watch until SIGINT or SIGTERM (with ``signals``), or until ``stop``."""
        loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()
        stopping = self.stopping
        if signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stopping.set)
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        try:
            names = [s.name for s in self.setup.nodes]
            if len(set(names)) != len(names):
                raise ComposeNetError("the inventory names a node twice")
            for spec in self.setup.nodes:
                self._start(spec)
            if not self.nodes:
                self._check_ready()
            await stopping.wait()
        finally:
            if signals:
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                    loop.remove_signal_handler(sig)
            for name in list(self.nodes):
                self._stop(name)
            await asyncio.sleep(0)


def _items(raw: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise engineapi.EngineError(f"the engine's answer to {what} is not a list")
    return [item for item in raw if isinstance(item, dict)]


def _binding(e: Exposure) -> str:
    if e.kind == "host-network":
        return "no longer on the host's network"
    if e.address == "*":
        return f"*:{e.port}->{e.container_port}/{e.protocol} (ingress) is no longer published"
    host = f"[{e.address}]" if ":" in e.address else e.address
    return f"{host}:{e.port}->{e.container_port}/{e.protocol} is no longer published"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def printer(stream: TextIO, fmt: str) -> Callable[[Line], None]:
    """Each line as text or JSON Lines, flushed at once (a closed output is not the nodes'
    problem: the watch, and its metrics, go on)."""

    def emit(line: Line) -> None:
        text = json.dumps(line.as_json()) if fmt == "json" else line.text()
        with contextlib.suppress(OSError, ValueError):  # a reader gone: the metrics go on
            stream.write(text + "\n")
            stream.flush()

    return emit


def watch(
    setup: Setup,
    *,
    emit: Callable[[Line], None],
    timeout: float,
    project: str | None = None,
    reload: Callable[[], Setup] | None = None,
    say: Callable[[str], None] = lambda text: None,
    metrics_listen: str | None = None,
) -> None:
    """Watch until SIGINT or SIGTERM, serving ``/metrics`` on ``metrics_listen`` if given."""
    watcher = Watcher(setup, emit=emit, timeout=timeout, project=project, reload=reload,
                      say=say)
    server = None
    if metrics_listen is not None:
        from compose_net.live.metrics import Server

        server = Server(metrics_listen, watcher.reports)
        say(f"metrics on http://{metrics_listen}/metrics")
    try:
        asyncio.run(watcher.run())
    finally:
        if server is not None:
            server.close()

