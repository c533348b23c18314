"""``audit --watch`` and the metrics, on stand-in engines (tests/harness/fakeengine.py).

The stand-ins speak the calls and the event stream a real engine does; each row changes what
an engine runs and sends the event a real engine would send. tests/e2e/watch_e2e_test.py runs
the acceptance on the real three-node swarm.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from harness import free_port
from harness.fakeengine import FakeEngine, FakeFleet, container, service
from prometheus_client.parser import text_string_to_metric_families

from compose_net.cli import main
from compose_net.errors import ComposeNetError
from compose_net.live import engineapi, metrics
from compose_net.live.bindings import NodeAddresses
from compose_net.live.exposures import Exposure, NodeReport
from compose_net.live.watch import Line, NodeSpec, Setup, Watcher, backoff
from compose_net.policy.allowances import Allow

TIMEOUT = 1.0
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fakes() -> Iterator[FakeFleet]:
    folder = Path(tempfile.mkdtemp(prefix="cnw-"))  # short: a socket path has 108 bytes
    try:
        with FakeFleet(folder) as made:
            yield made
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def spec(name: str, address: str, public: Sequence[str] = (),
         internal: Sequence[str] = ()) -> NodeSpec:
    return NodeSpec(name, address, engineapi.endpoint(address),
                    NodeAddresses.of(public, internal))


async def until(what: str, cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


Body = Callable[[Watcher, list[Line]], Awaitable[None]]


def watching(specs: Sequence[NodeSpec], body: Body, *, allows: Sequence[Allow] = (),
             timeout: float = TIMEOUT, reload: Callable[[], Setup] | None = None) -> None:
    """Run ``body`` while a watcher follows ``specs`` (after its first audit of every node)."""

    async def run() -> None:
        lines: list[Line] = []
        watcher = Watcher(Setup(specs, allows), emit=lines.append, timeout=timeout,
                          reload=reload)
        task = asyncio.ensure_future(watcher.run(signals=False))

        def ready() -> bool:
            return watcher.ready is not None and watcher.ready.is_set()

        await until("the first audit", ready)
        try:
            await body(watcher, lines)
        finally:
            watcher.stop()
            await asyncio.wait_for(task, 10)

    asyncio.run(run())


def seen(lines: Sequence[Line]) -> list[tuple[str, str, str]]:
    return [(line.node, line.change, line.subject) for line in lines]


def events(watcher: Watcher) -> int:
    return sum(r.events or 0 for r in watcher.reports())


def report(watcher: Watcher, node: str) -> NodeReport:
    return {r.name: r for r in watcher.reports()}[node]


WEB = container("web", ("0.0.0.0", 8080, 80))
SWARM_API = service("st_api", (8081, 80, "ingress"), stack="st")

# --------------------------------------------------------------------------- event kinds

Engines = dict[str, FakeEngine]


def _start(ip: str) -> Callable[[Engines], None]:
    return lambda e: e["a"].run(container("web", (ip, 8080, 80)))


def _new_service(e: Engines) -> None:
    e["m"].services = [SWARM_API]
    e["m"].emit("service", "update", str(SWARM_API["ID"]), name="st_api")


def _removed_service(e: Engines) -> None:
    e["m"].services = []
    e["m"].emit("service", "remove", str(SWARM_API["ID"]), name="st_api")


def _left_swarm(e: Engines) -> None:
    e["m"].swarm = "inactive"
    e["m"].emit("node", "update", "m-node-id", name="m")


def _host_network(e: Engines) -> None:
    e["a"].run(container("agent", network_mode="host"))


def _other_event(e: Engines) -> None:
    e["a"].containers = [container("web", ("0.0.0.0", 8080, 80))]  # not announced by start
    e["a"].emit("container", "exec_start", str(WEB["Id"]), name="web")


def _die(e: Engines) -> None:
    e["a"].remove("web", ("die",))


def _destroy(e: Engines) -> None:
    e["a"].remove("web", ("destroy",))


def _rename(e: Engines) -> None:
    e["a"].rename("web", "web-2")


EXPOSED_WEB = ("a", "exposed", "container web")
SWARMED = {"m": ([], [], "manager"), "w": ([], [], "worker")}


@pytest.mark.parametrize(
    ("engines", "action", "handled", "allows", "expected", "message"),
    [
        pytest.param({"a": ([], [], "inactive")}, _start("0.0.0.0"), 1, (), [EXPOSED_WEB],
                     "0.0.0.0:8080->80/tcp listens on every interface", id="start-all-interfaces"),
        pytest.param({"a": ([], [], "inactive")}, _start("::"), 1, (), [EXPOSED_WEB],
                     "[::]:8080->80/tcp listens on every interface", id="start-ipv6-any"),
        pytest.param({"a": ([], [], "inactive")}, _start("203.0.113.5"), 1, (), [EXPOSED_WEB],
                     "bound to the public address 203.0.113.5", id="start-public-address"),
        pytest.param({"a": ([], [], "inactive")}, _start("10.0.0.5"), 1, (), [], None,
                     id="start-internal-address"),
        pytest.param({"a": ([], [], "inactive")}, _start("127.0.0.1"), 1, (), [], None,
                     id="start-loopback"),
        pytest.param({"a": ([], [], "inactive")}, _start("0.0.0.0"), 1,
                     (Allow.parse("web:8080"),), [], None, id="start-allowed-port"),
        pytest.param({"a": ([], [], "inactive")}, _start("0.0.0.0"), 1,
                     (Allow.parse("web:443"),), [EXPOSED_WEB], None,
                     id="start-other-port-allowed"),
        pytest.param({"a": ([], [], "inactive")}, _host_network, 1, (),
                     [("a", "exposed", "container agent")], "uses the host's network",
                     id="start-host-network"),
        pytest.param({"a": ([WEB], [], "inactive")}, _die, 1, (),
                     [EXPOSED_WEB, ("a", "no longer exposed", "container web")],
                     "0.0.0.0:8080->80/tcp is no longer published", id="die"),
        pytest.param({"a": ([WEB], [], "inactive")}, _destroy, 1, (),
                     [EXPOSED_WEB, ("a", "no longer exposed", "container web")],
                     "no longer published", id="destroy"),
        pytest.param({"a": ([WEB], [], "inactive")}, _rename, 1, (), [EXPOSED_WEB], None,
                     id="rename-keeps-the-verdict"),
        pytest.param({"a": ([], [], "inactive")}, _other_event, 1, (), [], None,
                     id="other-actions-read-nothing"),
        pytest.param(SWARMED, _new_service, 1, (),
                     [("m", "exposed", "service st_api"), ("w", "exposed", "service st_api")],
                     "*:8081->80/tcp (ingress) is published through the ingress routing mesh",
                     id="service-update-on-manager"),
        pytest.param({"m": ([], [SWARM_API], "manager"), "w": ([], [], "worker")},
                     _removed_service, 1, (),
                     [("m", "exposed", "service st_api"), ("w", "exposed", "service st_api"),
                      ("m", "no longer exposed", "service st_api"),
                      ("w", "no longer exposed", "service st_api")],
                     "(ingress) is no longer published", id="service-remove"),
        pytest.param({"m": ([], [SWARM_API], "manager"), "w": ([], [], "worker")},
                     _new_service, 1, (Allow.parse("api:8081"),), [], None,
                     id="service-allowed-by-its-name-in-the-stack"),
        pytest.param({"m": ([], [SWARM_API], "manager"), "w": ([], [], "worker")},
                     _left_swarm, 1, (),
                     [("m", "exposed", "service st_api"), ("w", "exposed", "service st_api"),
                      ("m", "no longer exposed", "service st_api"),
                      ("w", "no longer exposed", "service st_api")],
                     None, id="node-update-manager-left"),
    ],
)
def test_each_event_kind_re_audits_what_it_touched(
    fakes: FakeFleet,
    engines: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], str]],
    action: Callable[[Engines], None],
    handled: int,
    allows: Sequence[Allow],
    expected: list[tuple[str, str, str]],
    message: str | None,
) -> None:
    made = {name: FakeEngine(name, list(cs), list(ss), swarm=role)
            for name, (cs, ss, role) in engines.items()}
    specs = [spec(name, fakes.add(engine), public=["203.0.113.5"])
             for name, engine in made.items()]

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        before = {name: len(engine.requests) for name, engine in made.items()}
        action(made)
        await until("the event", lambda: events(watcher) >= handled)
        await until("the lines", lambda: len(lines) >= len(expected), timeout=2)
        await asyncio.sleep(0.1)  # nothing more comes
        assert seen(lines) == expected
        if message is not None:
            assert message in lines[-1].message
        if action is _other_event:  # nothing was read: the container it left stays unseen
            assert [len(e.requests) for e in made.values()] == list(before.values())
        if action is _rename:
            assert [e.container for e in report(watcher, "a").exposures] == ["web-2"]
        if allows and not expected:
            assert dict(report(watcher, next(iter(made))).findings) == {"allowed": 1}

    watching(specs, body, allows=allows)


def test_an_event_reads_only_the_container_it_names(fakes: FakeFleet) -> None:
    engine = FakeEngine("a", [container(f"c{i}", ("10.0.0.5", 9000 + i, 80)) for i in range(5)])
    specs = [spec("a", fakes.add(engine))]

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        first = list(engine.requests)
        engine.run(WEB)
        await until("the line", lambda: len(lines) == 1)
        later = engine.requests[len(first):]
        assert [p.split("?")[0] for p in later] == ["/containers/json"]
        assert "id" in json.loads(
            urllib.parse.unquote(later[0].split("filters=")[1])
        )

    watching(specs, body)


def test_a_service_event_reads_only_the_service_it_names(fakes: FakeFleet) -> None:
    other = service("st_db", (5432, 5432, "host"), stack="st")
    manager = FakeEngine("m", [], [other], swarm="manager")
    specs = [spec("m", fakes.add(manager))]

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        first = len(manager.requests)
        _new_service({"m": manager})
        manager.services = [other, SWARM_API]
        await until("the line", lambda: len(lines) == 1)
        later = manager.requests[first:]
        assert [p.split("?")[0] for p in later] == ["/services"]
        sent = json.loads(urllib.parse.unquote(later[0].split("filters=")[1]))
        assert sent == {"id": [SWARM_API["ID"]]}
        manager.services = [other]
        manager.emit("service", "remove", str(SWARM_API["ID"]), name="st_api")
        await until("gone", lambda: len(lines) == 2)
        assert len(manager.requests) == first + 1  # a removal reads nothing
        assert seen(lines) == [("m", "exposed", "service st_api"),
                               ("m", "no longer exposed", "service st_api")]

    watching(specs, body)


# --------------------------------------------------------------------------- metrics, labels

HOSTILE = [
    pytest.param('web"} 1\ncompose_net_forged{node="x"} 1', id="quote-brace-newline"),
    pytest.param("back\\slash\\", id="backslashes"),
    pytest.param("tab\there\rcr", id="tab-cr"),
    pytest.param("\x1b[31mred\x1b[0m", id="terminal-escape"),
    pytest.param("\u202eevil\u200b", id="bidi-override"),
    pytest.param("ünïcødé-名前", id="unicode"),
    pytest.param("", id="empty"),
]


def exposure(name: str, node: str = "n1") -> Exposure:
    return Exposure(node, "exposed", f"container {name}", name, "id1", name, name, "0.0.0.0",
                    6379, 6379, "tcp", "all-interfaces", f"{name} exposed")


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.mark.parametrize("name", HOSTILE)
def test_label_values_are_escaped_by_the_library(name: str) -> None:
    reports = [NodeReport("n1", True, (exposure(name),), {"exposed": 1}, 1.5e9, 0.25, 3)]
    parsed = families(metrics.text(reports).decode())
    assert sorted(parsed) == sorted(
        f"compose_net_{n}" for n in ("exposed_binding", "exposed_bindings", "node_reachable",
                                     "findings", "last_audit_timestamp_seconds",
                                     "audit_duration_seconds", "events_handled")
    )
    (sample,) = parsed["compose_net_exposed_binding"].samples
    assert sample.labels == {"node": "n1", "container": name, "service": name, "stack": name,
                             "address": "0.0.0.0", "port": "6379", "protocol": "tcp",
                             "verdict": "all-interfaces"}
    line = Line(1.5e9, "n1", "exposed", f"container {name}", f"{name} exposed")
    assert "\n" not in line.text() and "\x1b" not in line.text() and "\u202e" not in line.text()
    assert json.loads(json.dumps(line.as_json()))["subject"] == f"container {name}"


def test_hostile_names_from_an_engine_reach_metrics_and_lines_escaped(fakes: FakeFleet) -> None:
    names = ['x"}\n', "a\\b", "\x1b]0;t\x07"]
    engine = FakeEngine("a", [{**container("c", ("0.0.0.0", 7000 + i, 80)), "Names": [f"/{n}"],
                               "Id": f"{i:064x}"} for i, n in enumerate(names)])
    specs = [spec("a", fakes.add(engine))]

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        text = metrics.text(watcher.reports()).decode()
        samples = families(text)["compose_net_exposed_binding"].samples
        assert sorted(s.labels["container"] for s in samples) == sorted(names)
        assert all("\n" not in line.text() and "\x07" not in line.text() for line in lines)
        assert len(lines) == 3

    watching(specs, body)


def test_metrics_server_serves_the_watch(fakes: FakeFleet) -> None:
    engine = FakeEngine("a", [WEB])
    specs = [spec("a", fakes.add(engine))]
    listen = f"127.0.0.1:{free_port()}"

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        server = metrics.Server(listen, watcher.reports)
        try:
            def scrape() -> dict[str, Any]:
                with urllib.request.urlopen(f"http://{listen}/metrics", timeout=5) as r:
                    return families(r.read().decode())

            got = await asyncio.get_running_loop().run_in_executor(None, scrape)
            assert [s.labels["port"] for s in got["compose_net_exposed_binding"].samples] == [
                "8080"
            ]
            assert [s.value for s in got["compose_net_node_reachable"].samples] == [1.0]
            engine.remove("web")
            await until("gone", lambda: len(lines) == 2)
            got = await asyncio.get_running_loop().run_in_executor(None, scrape)
            assert got["compose_net_exposed_binding"].samples == []
            assert [s.value for s in got["compose_net_events_handled"].samples] == [2.0]
        finally:
            server.close()

    watching(specs, body)


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        pytest.param("9779", "expected HOST:PORT", id="no-host"),
        pytest.param("127.0.0.1:", "expected HOST:PORT", id="no-port"),
        pytest.param("127.0.0.1:99999", "expected HOST:PORT", id="port-out-of-range"),
        pytest.param("127.0.0.1:x", "expected HOST:PORT", id="port-not-a-number"),
        pytest.param("127.0.0.1:TAKEN", "cannot listen: Address already in use",
                     id="port-in-use"),
    ],
)
def test_a_bad_listen_address_is_one_line(
    listen: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        listen = listen.replace("TAKEN", str(taken.getsockname()[1]))
        code = main(["audit", "--watch", "--metrics-listen", listen])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("compose-net: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("address", "tls", "expected"),
    [
        pytest.param("unix:///run/docker.sock", False, ("/run/docker.sock", "", 0), id="unix"),
        pytest.param("tcp://10.0.0.1", False, (None, "10.0.0.1", 2375), id="tcp-default-port"),
        pytest.param("tcp://10.0.0.1", True, (None, "10.0.0.1", 2376), id="tls-default-port"),
        pytest.param("tcp://[fd00::1]:2380", False, (None, "fd00::1", 2380), id="ipv6"),
        pytest.param("https://engine.example:443", False, (None, "engine.example", 443),
                     id="https"),
        pytest.param("ssh://me@host", False, "only unix://, tcp:// and http(s)://", id="ssh"),
        pytest.param("npipe:////./pipe/docker_engine", False, "only unix://", id="npipe"),
        pytest.param("tcp://10.0.0.1:port", False, "the port is not a number", id="bad-port"),
        pytest.param("unix://", False, "no socket path", id="no-path"),
    ],
)
def test_engine_addresses(address: str, tls: bool, expected: tuple[Any, ...] | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(ComposeNetError) as info:
            engineapi.endpoint(address, tls=tls)
        assert expected in info.value.message
        return
    ep = engineapi.endpoint(address, tls=tls)
    assert (ep.path, ep.host, ep.port) == expected
    assert (ep.tls is not None) == (tls or address.startswith("https"))


# --------------------------------------------------------------------------- reconnect, backoff


@pytest.mark.parametrize(
    ("attempt", "timeout", "jitter", "seconds"),
    [
        pytest.param(0, 10.0, 1.0, 0.25, id="first"),
        pytest.param(1, 10.0, 1.0, 0.5, id="doubles"),
        pytest.param(4, 10.0, 1.0, 4.0, id="fifth"),
        pytest.param(6, 10.0, 1.0, 10.0, id="capped-by-the-node-timeout"),
        pytest.param(60, 120.0, 1.0, 30.0, id="never-above-30s"),
        pytest.param(9, 0.2, 1.0, 1.0, id="at-least-1s-cap"),
        pytest.param(2, 10.0, 0.75, 0.75, id="jitter"),
    ],
)
def test_backoff(attempt: int, timeout: float, jitter: float, seconds: float) -> None:
    assert backoff(attempt, timeout, jitter) == pytest.approx(seconds)


def test_an_engine_that_drops_is_retried_reported_and_audited_when_back(
    fakes: FakeFleet,
) -> None:
    engine = FakeEngine("a", [WEB])
    other = FakeEngine("b", [])
    specs = [spec("a", fakes.add(engine)), spec("b", fakes.add(other))]

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        assert seen(lines) == [EXPOSED_WEB]
        fakes.stop(engine)
        stopped = time.monotonic()
        await until("unreachable", lambda: len(lines) == 2)
        took = time.monotonic() - stopped
        assert TIMEOUT * 0.9 <= took <= TIMEOUT + 1.0, took
        assert seen(lines)[1] == ("a", "unreachable", f"engine {specs[0].engine}")
        down = report(watcher, "a")
        assert (down.reachable, down.exposures, dict(down.findings)) == (
            False, (), {"unreachable": 1}
        )
        # the other node is followed as before
        other.run(container("db", ("0.0.0.0", 5432, 5432)))
        await until("b's line", lambda: len(lines) == 3)
        # while it is away, web goes and api comes
        engine.containers = [container("api", ("0.0.0.0", 9090, 90))]
        fakes.start(engine)
        await until("back", lambda: len(lines) == 6, timeout=5)
        assert seen(lines)[3:] == [
            ("a", "reachable again", f"engine {specs[0].engine}"),
            ("a", "no longer exposed", "container web"),
            ("a", "exposed", "container api"),
        ]
        assert report(watcher, "a").reachable
        assert [e.port for e in report(watcher, "a").exposures] == [9090]

    watching(specs, body)


def test_a_stream_that_ends_is_reopened_without_a_line(fakes: FakeFleet) -> None:
    engine = FakeEngine("a", [])
    specs = [spec("a", fakes.add(engine))]

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        engine.drop_streams()
        await until("a new stream", lambda: len(engine.streams) == 1, timeout=3)
        engine.run(WEB)
        await until("the line", lambda: len(lines) == 1)
        await asyncio.sleep(TIMEOUT + 0.2)
        assert seen(lines) == [EXPOSED_WEB]
        assert report(watcher, "a").reachable

    watching(specs, body)


@pytest.mark.parametrize(
    ("kind", "within"),
    [
        pytest.param("silent", (TIMEOUT * 0.9, TIMEOUT + 1.0), id="accepts-and-never-answers"),
        pytest.param("missing", (TIMEOUT * 0.9, TIMEOUT + 1.0), id="no-socket"),
        pytest.param("no-engine", (0.0, 0.5), id="no-engine-in-the-inventory"),
        pytest.param("ssh", (0.0, 0.5), id="ssh-engine"),
        pytest.param("odd-binding", (TIMEOUT * 0.9, TIMEOUT + 1.0),
                     id="a-binding-to-something-not-an-ip"),
        pytest.param("odd-service", (TIMEOUT * 0.9, TIMEOUT + 1.0), id="a-service-not-an-object"),
    ],
)
def test_a_node_that_never_answers_is_unreachable(
    fakes: FakeFleet, kind: str, within: tuple[float, float]
) -> None:
    good = FakeEngine("good", [WEB])
    if kind == "odd-binding":
        bad = spec("bad", fakes.add(FakeEngine("bad", [
            {"Id": "x", "Ports": [{"IP": "not-an-ip", "PrivatePort": 80, "PublicPort": 80}]}
        ])))
    elif kind == "odd-service":
        bad = spec("bad", fakes.add(FakeEngine("bad", [], [{"Spec": "x"}], swarm="manager")))
    elif kind == "silent":
        bad = spec("bad", fakes.add_silent("bad"))
    elif kind == "missing":
        bad = spec("bad", f"unix://{fakes.folder}/none.sock")
    elif kind == "no-engine":
        bad = NodeSpec("bad", "none", None, NodeAddresses(), "no engine given")
    else:
        with pytest.raises(ComposeNetError) as info:
            engineapi.endpoint("ssh://me@host")
        bad = NodeSpec("bad", "ssh://me@host", None, NodeAddresses(), info.value.message)
    started = time.monotonic()

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        await until("unreachable", lambda: ("bad", "unreachable") in
                    [(line.node, line.change) for line in lines], timeout=5)
        took = time.monotonic() - started
        assert within[0] <= took <= within[1], took
        assert not report(watcher, "bad").reachable
        assert report(watcher, "good").reachable
        assert ("good", "exposed", "container web") in seen(lines)
        (line,) = [line for line in lines if line.node == "bad"]
        if kind.startswith("odd"):
            assert "its answer cannot be read" in line.message, line.message

    watching([spec("good", fakes.add(good)), bad], body)


def test_reload_with_new_addresses_prints_only_what_changed(fakes: FakeFleet) -> None:
    a = FakeEngine("a", [WEB, container("db", ("10.0.0.7", 5432, 5432))])
    address = fakes.add(a)
    before = spec("a", address, public=["203.0.113.5"], internal=["10.0.0.7"])
    after = spec("a", address, public=["203.0.113.5", "10.0.0.7"])

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        assert seen(lines) == [EXPOSED_WEB]
        watcher.reload()
        await until("db", lambda: len(lines) == 2)
        await asyncio.sleep(0.2)
        assert seen(lines) == [EXPOSED_WEB, ("a", "exposed", "container db")]
        assert "bound to the public address 10.0.0.7" in lines[1].message

    watching([before], body, reload=lambda: Setup([after]))


def test_reload_adds_removes_and_re_judges_with_new_allows(fakes: FakeFleet) -> None:
    a = FakeEngine("a", [WEB])
    b = FakeEngine("b", [container("db", ("0.0.0.0", 5432, 5432))])
    sa, sb = spec("a", fakes.add(a)), spec("b", fakes.add(b))
    setups = [Setup([sb], [Allow.parse("web:8080")])]

    async def body(watcher: Watcher, lines: list[Line]) -> None:
        assert seen(lines) == [EXPOSED_WEB]
        watcher.reload()
        await until("b", lambda: len(lines) == 2)
        assert seen(lines)[1] == ("b", "exposed", "container db")
        assert sorted(r.name for r in watcher.reports()) == ["b"]

    watching([sa], body, reload=lambda: setups.pop())


# --------------------------------------------------------------------------- the command


def inventory(tmp_path: Path, engines: dict[str, str], extra: str = "") -> Path:
    path = tmp_path / "nodes.yaml"
    body = "".join(
        f"  {name}:\n    engine: \"{address}\"\n    public: {{ipv4: 203.0.113.{i + 1}}}\n"
        f"    service: {{ipv4: 10.0.0.{i + 1}}}\n"
        for i, (name, address) in enumerate(engines.items())
    )
    path.write_text("nodes:\n" + body + extra)
    return path


def start_watch(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "compose_net", "audit", "--watch", *args],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def read_until(stream: Any, want: str, timeout: float = 10.0) -> str:
    """Lines of ``stream`` up to the first that holds ``want``."""
    got = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        got += line
        if want in line:
            return got
        if not line:
            break
    raise AssertionError(f"{want!r} never came; got {got!r}")


@pytest.mark.parametrize(
    ("sig", "fmt"),
    [
        pytest.param(signal.SIGINT, "text", id="SIGINT"),
        pytest.param(signal.SIGTERM, "text", id="SIGTERM"),
        pytest.param(signal.SIGTERM, "json", id="SIGTERM-json-lines"),
        pytest.param(signal.SIGHUP, "text", id="SIGHUP-reloads-then-SIGTERM"),
        pytest.param(signal.SIGHUP, "bad-inventory", id="SIGHUP-bad-inventory-keeps-watching"),
    ],
)
def test_signals(fakes: FakeFleet, tmp_path: Path, sig: signal.Signals, fmt: str) -> None:
    a = FakeEngine("a", [WEB])
    b = FakeEngine("b", [container("db", ("0.0.0.0", 5432, 5432))])
    address = fakes.add(a)
    path = inventory(tmp_path, {"a": address})
    proc = start_watch(tmp_path, "--nodes", "--inventory", str(path), "--node-timeout", "2",
                       "--format", "json" if fmt == "json" else "text")
    try:
        first = read_until(proc.stdout, "8080")
        if fmt == "json":
            data = json.loads(first.splitlines()[-1])
            assert (data["node"], data["change"], data["container"], data["port"],
                    data["address"]) == ("a", "exposed", "web", 8080, "0.0.0.0")
        read_until(proc.stderr, "watching 1 node")
        if sig == signal.SIGHUP:
            if fmt == "bad-inventory":
                path.write_text("nodes: [\n")
                proc.send_signal(sig)
                err = read_until(proc.stderr, "still watching as before")
                assert "error:" in err
                a.run(container("api", ("0.0.0.0", 9090, 90)))
                assert "container api" in read_until(proc.stdout, "9090")
            else:
                inventory(tmp_path, {"a": address, "b": fakes.add(b)})
                proc.send_signal(sig)
                read_until(proc.stderr, "reloaded: 2 nodes")
                assert "node b: exposed: container db" in read_until(proc.stdout, "5432")
            proc.send_signal(signal.SIGTERM)
        else:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out == ""  # nothing changed after the lines read


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--metrics-listen", "127.0.0.1:9779"], "add --watch",
                     id="metrics-listen-without-watch"),
        pytest.param(["--watch", "--format", "openmetrics"], "--metrics-listen",
                     id="watch-openmetrics"),
        pytest.param(["--watch", "-o", "x.prom"], "--metrics-listen", id="watch-output"),
        pytest.param(["--watch", "--file", "compose.yaml"], "does not go with --watch",
                     id="watch-file"),
        pytest.param(["--watch", "--nodes", "--jobs", "3"], "--jobs", id="watch-jobs"),
    ],
)
def test_watch_usage_errors(args: list[str], message: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("compose-net: error: ") and message in err and err.count("\n") == 1


# --------------------------------------------------------------------------- openmetrics once


def exposed_json(data: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    return {
        (n["name"], c["name"], b["host_ip"], str(b["host_port"]), b["protocol"])
        for n in data["nodes"] for c in n["containers"] for b in c["bindings"] if b["exposed"]
    }


def exposed_metrics(text: str) -> set[tuple[str, str, str, str, str]]:
    return {
        (s.labels["node"], s.labels["container"], s.labels["address"], s.labels["port"],
         s.labels["protocol"])
        for s in families(text)["compose_net_exposed_binding"].samples if s.labels["container"]
    }


def test_openmetrics_file_holds_the_json_bindings_and_is_replaced_atomically(
    fakes: FakeFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    a = FakeEngine("a", [WEB, container("db", ("10.0.0.1", 5432, 5432))])
    b = FakeEngine("b", [container("cache", ("0.0.0.0", 6379, 6379), ("::", 6379, 6379))],
                   [service("st_api", (8081, 80, "ingress"), stack="st")], swarm="manager")
    path = inventory(tmp_path, {"a": fakes.add(a), "b": fakes.add(b),
                                "c": f"unix://{fakes.folder}/none.sock"})
    prom = tmp_path / "out" / "fleet.prom"
    prom.parent.mkdir()
    prom.write_text("old\n")
    inode = prom.stat().st_ino
    args = ["audit", "--nodes", "--inventory", str(path), "--node-timeout", "2"]
    assert main([*args, "--format", "openmetrics", "-o", str(prom)]) == 1
    assert capsys.readouterr().out == ""
    assert prom.stat().st_ino != inode and sorted(os.listdir(prom.parent)) == ["fleet.prom"]
    text = prom.read_text()
    assert main([*args, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert exposed_metrics(text) == exposed_json(data) == {
        ("a", "web", "0.0.0.0", "8080", "tcp"), ("b", "cache", "0.0.0.0", "6379", "tcp"),
        ("b", "cache", "::", "6379", "tcp"),
    }
    got = families(text)
    ingress = [s.labels for s in got["compose_net_exposed_binding"].samples
               if not s.labels["container"]]
    assert ingress == [{"node": "b", "container": "", "service": "st_api", "stack": "st",
                        "address": "*", "port": "8081", "protocol": "tcp",
                        "verdict": "all-interfaces"}]
    assert {s.labels["node"]: s.value for s in got["compose_net_node_reachable"].samples} == {
        "a": 1.0, "b": 1.0, "c": 0.0
    }
    findings = {(s.labels["node"], s.labels["rule"]): s.value
                for s in got["compose_net_findings"].samples}
    assert findings == {("a", "exposed"): 1.0, ("b", "exposed"): 3.0, ("c", "unreachable"): 1.0}
    assert "compose_net_events_handled" not in got
    assert [s.labels["node"] for s in got["compose_net_last_audit_timestamp_seconds"].samples
            ] == ["a", "b"]


@pytest.mark.parametrize(
    ("config", "exposed", "code"),
    [
        pytest.param(None, {"8080", "6379"}, 1, id="no-configuration"),
        pytest.param("allow: ['web:8080']\n", {"6379"}, 1, id="one-allowed"),
        pytest.param("allow: [{service: '*', port: 6379, reason: cache for all}, web]\n",
                     set(), 0, id="all-allowed"),
    ],
)
def test_an_allowed_port_is_not_exposed(
    fakes: FakeFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, config: str | None, exposed: set[str], code: int,
) -> None:
    monkeypatch.chdir(tmp_path)
    if config is not None:
        (tmp_path / ".compose-net.yaml").write_text(config)
    a = FakeEngine("a", [WEB, container("cache", ("0.0.0.0", 6379, 6379))])
    path = inventory(tmp_path, {"a": fakes.add(a)})
    args = ["audit", "--nodes", "--inventory", str(path)]
    assert main([*args, "--format", "openmetrics"]) == code
    got = families(capsys.readouterr().out)
    assert {s.labels["port"] for s in got["compose_net_exposed_binding"].samples} == exposed
    allowed = [s.value for s in got["compose_net_findings"].samples
               if s.labels["rule"] == "allowed"]
    assert allowed == ([] if len(exposed) == 2 else [float(2 - len(exposed))])
    assert main([*args, "--format", "json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["exposed"] == len(exposed)
    notes = [f for f in data["findings"] if f["kind"] == "allowed"]
    assert len(notes) == 2 - len(exposed) and not any(f["failing"] for f in notes)


def test_a_reader_never_sees_half_an_openmetrics_file(
    fakes: FakeFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The file is rewritten again and again while another thread reads it: every read is the
    old text or a whole report (the textfile collector's view)."""
    a = FakeEngine("a", [container(f"c{i}", ("0.0.0.0", 7000 + i, 80)) for i in range(300)])
    path = inventory(tmp_path, {"a": fakes.add(a)})
    prom = tmp_path / "fleet.prom"
    prom.write_text("old\n")
    reads: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            reads.append(prom.read_text())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(5):
            assert main(["audit", "--nodes", "--inventory", str(path), "--format",
                         "openmetrics", "-o", str(prom)]) == 1
    finally:
        done.set()
        thread.join()
    capsys.readouterr()
    whole = prom.read_text()
    assert len(families(whole)["compose_net_exposed_binding"].samples) == 300
    torn = [r for r in reads if r != "old\n" and r.count("\n") != whole.count("\n")]
    assert reads and not torn


@pytest.mark.docker
def test_one_real_engine_is_watched(docker_engine: Any, busybox: str, tmp_path: Path) -> None:
    """Without --nodes: the engine the docker CLI uses (here the host's real dockerd)."""
    port = free_port()
    name = f"cnw-{os.getpid()}-{port}"
    env = {**docker_engine.env(), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "compose_net", "audit", "--watch", "--node-timeout", "3"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        read_until(proc.stderr, "watching 1 node")
        docker_engine.docker("run", "-d", "--name", name, "-p", f"0.0.0.0:{port}:80", busybox,
                             "sleep", "300")
        got = read_until(proc.stdout, f"container {name}: 0.0.0.0:")
        assert f" node local: exposed: container {name}: 0.0.0.0:{port}->80/tcp listens" in got
        docker_engine.docker("rm", "-f", name)
        got = read_until(proc.stdout, f"no longer exposed: container {name}: 0.0.0.0:")
        assert f" node local: no longer exposed: container {name}: 0.0.0.0:{port}->80" in got
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        docker_engine.docker("rm", "-f", name, check=False)
    assert proc.returncode == 0 and "Traceback" not in err, err
