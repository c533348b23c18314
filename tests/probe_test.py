"""``compose-net probe``: verdict tables, real listeners on loopback, real drops in a namespace."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import pty
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import Lab, Namespace

from compose_net.cli import main
from compose_net.commands.probe import Progress
from compose_net.errors import ComposeNetError
from compose_net.live import probe
from compose_net.live.bindings import Binding, Container, Declared, ServicePort, SwarmService

# --------------------------------------------------------------------------- pure tables


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("203.0.113.10", "203.0.113.10", id="ipv4"),
        pytest.param("127.0.0.1", "127.0.0.1", id="loopback"),
        pytest.param("2001:DB8::1", "2001:db8::1", id="ipv6-canonical"),
        pytest.param("[2001:db8::1]", "2001:db8::1", id="ipv6-bracketed"),
        pytest.param("0.0.0.0", None, id="unspecified"),
        pytest.param("::", None, id="unspecified-v6"),
        pytest.param("224.0.0.1", None, id="multicast"),
        pytest.param("example.com", None, id="hostname"),
        pytest.param("fe80::1%eth0", None, id="zone"),
        pytest.param("", None, id="empty"),
    ],
)
def test_check_address(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ComposeNetError):
            probe.check_address(text)
    else:
        assert probe.check_address(text) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "refused",
                     id="reset"),
        pytest.param(TimeoutError(), "filtered", id="timeout"),
        pytest.param(asyncio.TimeoutError(), "filtered", id="asyncio-timeout"),
        pytest.param(OSError(errno.EHOSTUNREACH, "No route to host"), "filtered",
                     id="host-unreachable"),
        pytest.param(OSError(errno.ETIMEDOUT, "Connection timed out"), "filtered",
                     id="kernel-timeout"),
        pytest.param(OSError(errno.ENETUNREACH, "Network is unreachable"), "error",
                     id="no-route"),
        pytest.param(OSError(errno.EACCES, "Permission denied"), "error", id="prohibited"),
        pytest.param(OSError(errno.EINVAL, "Invalid argument"), "error", id="blackhole"),
    ],
)
def test_outcome_of_error(error: BaseException, expected: str) -> None:
    assert probe.outcome_of_error(error, 2.0)[0] == expected


def test_outcome_of_error_reraises_what_is_not_a_network_error() -> None:
    with pytest.raises(KeyboardInterrupt):
        probe.outcome_of_error(KeyboardInterrupt(), 2.0)


def _declared(
    published: tuple[int, int] | None, protocol: str = "tcp", service: str = "web",
    line: int = 5,
) -> Declared:
    return Declared(service, None, published, 80, protocol, f"c.yaml:{line}:9")


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        pytest.param([_declared((8080, 8080))],
                     [(8080, "tcp", ("c.yaml:5:9 web 8080:80/tcp",), "")], id="one"),
        pytest.param([_declared((8000, 8002))],
                     [(p, "tcp", ("c.yaml:5:9 web 8000-8002:80/tcp",), "")
                      for p in (8000, 8001, 8002)], id="range-every-port"),
        pytest.param([_declared((53, 53), "udp")],
                     [(53, "udp", ("c.yaml:5:9 web 53:80/udp",), probe.UDP_REASON)], id="udp"),
        pytest.param([_declared((9, 9), "sctp")],
                     [(9, "sctp", ("c.yaml:5:9 web 9:80/sctp",), probe.OTHER_PROTOCOL_REASON)],
                     id="sctp"),
        pytest.param([_declared(None)],
                     [(None, "tcp", ("c.yaml:5:9 web 80/tcp",), probe.NO_PORT_REASON)],
                     id="engine-picks-port"),
        pytest.param([_declared((8080, 8080), line=7), _declared((8080, 8080), service="api")],
                     [(8080, "tcp", ("c.yaml:7:9 web 8080:80/tcp", "c.yaml:5:9 api 8080:80/tcp"),
                       "")], id="same-port-merged"),
        pytest.param([_declared((8080, 8080)), _declared((8080, 8080), "udp", line=6)],
                     [(8080, "tcp", ("c.yaml:5:9 web 8080:80/tcp",), ""),
                      (8080, "udp", ("c.yaml:6:9 web 8080:80/udp",), probe.UDP_REASON)],
                     id="tcp-and-udp-apart"),
        pytest.param([_declared(None), _declared(None, line=6), _declared((1, 1))],
                     [(1, "tcp", ("c.yaml:5:9 web 1:80/tcp",), ""),
                      (None, "tcp", ("c.yaml:5:9 web 80/tcp",), probe.NO_PORT_REASON),
                      (None, "tcp", ("c.yaml:6:9 web 80/tcp",), probe.NO_PORT_REASON)],
                     id="unknown-ports-stay-apart-and-last"),
    ],
)
def test_targets_from_declared(
    declared: list[Declared], expected: list[tuple[int | None, str, tuple[str, ...], str]]
) -> None:
    got = probe.targets_from_declared(declared)
    assert [(t.port, t.protocol, t.sources, t.reason) for t in got] == expected


def _container(name: str, *bindings: tuple[str, int, str], mode: str = "bridge") -> Container:
    return Container(
        id=name * 4, name=name, project=None, service=None, network_mode=mode,
        bindings=tuple(Binding(ip, port, 80, proto, "all-interfaces")
                       for ip, port, proto in bindings),
    )


@pytest.mark.parametrize(
    ("containers", "services", "expected"),
    [
        pytest.param(
            [_container("a", ("0.0.0.0", 8080, "tcp"), ("::", 8080, "tcp"))], [],
            [(8080, "tcp", ("container a 0.0.0.0:8080->80/tcp", "container a [::]:8080->80/tcp"))],
            id="v4-and-v6-twins-one-probe"),
        pytest.param(
            [_container("a", ("127.0.0.1", 9000, "tcp")), _container("b", ("0.0.0.0", 53, "udp"))],
            [],
            [(53, "udp", ("container b 0.0.0.0:53->80/udp",)),
             (9000, "tcp", ("container a 127.0.0.1:9000->80/tcp",))],
            id="every-binding-whatever-its-address"),
        pytest.param(
            [_container("h", mode="host")], [],
            [(None, "tcp", ("container h",))], id="host-network-unknown"),
        pytest.param(
            [], [SwarmService("id", "st_web", "st", (ServicePort(8080, 80, "tcp", "ingress"),
                                                     ServicePort(None, 81, "tcp", "host")))],
            [(8080, "tcp", ("service st_web *:8080->80/tcp (ingress)",)),
             (None, "tcp", ("service st_web *:*->81/tcp (host)",))],
            id="swarm-services"),
    ],
)
def test_targets_from_engine(
    containers: list[Container], services: list[SwarmService],
    expected: list[tuple[int | None, str, tuple[str, ...]]],
) -> None:
    got = probe.targets_from_engine(containers, services)
    assert [(t.port, t.protocol, t.sources) for t in got] == expected
    provable = [p is not None and proto == "tcp" for p, proto, _ in expected]
    assert [t.provable for t in got] == provable


# --------------------------------------------------------------------------- real loopback


@pytest.fixture
def listener() -> Iterator[Callable[[str], socket.socket]]:
    """listen(address): a listening TCP socket on a free port, closed after the test."""
    opened: list[socket.socket] = []

    def listen(address: str = "127.0.0.1") -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((address, 0))
        sock.listen(16)
        opened.append(sock)
        return sock

    yield listen
    for sock in opened:
        sock.close()


def closed_port() -> int:
    """A port nothing listens on: bound once, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def compose_file(tmp_path: Path, ports: list[str]) -> Path:
    path = tmp_path / "compose.yaml"
    lines = ["services:", "  web:", "    image: nginx", "    ports:"]
    lines += [f'      - "{p}"' for p in ports]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_open_and_refused_on_loopback(
    tmp_path: Path, listener: Callable[[str], socket.socket], capsys: pytest.CaptureFixture[str]
) -> None:
    opened = listener("127.0.0.1").getsockname()[1]
    refused = closed_port()
    path = compose_file(tmp_path, [f"{opened}:80", f"{refused}:81", "5353:53/udp", "9000"])
    code, out, err = run_cli(capsys, "probe", "127.0.0.1", str(path), "--format", "json")
    assert (code, err) == (1, "")
    report = json.loads(out)
    got = {(r["port"], r["protocol"]): r["result"] for r in report["results"]}
    assert got == {
        (opened, "tcp"): "open",
        (refused, "tcp"): "refused",
        (5353, "udp"): "not-provable",
        (None, "tcp"): "not-provable",
    }
    assert report["summary"] == {"open": 1, "refused": 1, "filtered": 0, "not-provable": 2,
                                 "error": 0}
    assert report["address"] == "127.0.0.1"
    sources = {r["port"]: r["sources"] for r in report["results"]}
    assert sources[opened] == [f"{path}:5:9 web {opened}:80/tcp"]


def test_nothing_open_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = compose_file(tmp_path, [f"{closed_port()}:80"])
    code, out, _ = run_cli(capsys, "probe", "127.0.0.1", str(path))
    assert code == 0
    assert out.splitlines()[-1] == "127.0.0.1: 0 open, 1 refused"


def test_only_the_given_address_is_connected_to(
    tmp_path: Path, listener: Callable[[str], socket.socket], capsys: pytest.CaptureFixture[str]
) -> None:
    other = listener("127.0.0.2")
    other.settimeout(0.3)
    port = other.getsockname()[1]
    path = compose_file(tmp_path, [f"127.0.0.2:{port}:80"])
    code, out, _ = run_cli(capsys, "probe", "127.0.0.1", str(path), "--format", "json")
    assert code == 0
    assert [r["result"] for r in json.loads(out)["results"]] == ["refused"]
    with pytest.raises(socket.timeout):
        other.accept()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["0.0.0.0"], "not an address a connection can go to", id="unspecified"),
        pytest.param(["db.example"], "is not an IP address", id="hostname"),
        pytest.param(["127.0.0.1", "x.yaml", "--from-docker"], "not both", id="files-and-docker"),
        pytest.param(["127.0.0.1", "x.yaml", "--project", "p"], "use it with --from-docker",
                     id="project-without-docker"),
        pytest.param(["127.0.0.1", "missing.yaml"], "missing.yaml", id="unreadable-file"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text("services: {}\n")
    code, out, err = run_cli(capsys, "probe", *args)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and message in err, err


def test_docker_unreachable_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    code, out, err = run_cli(capsys, "probe", "127.0.0.1", "--from-docker")
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "Docker" in err, err


# --------------------------------------------------------------------------- progress bar


@pytest.mark.parametrize(
    ("tty", "ports", "shown"),
    [
        pytest.param(True, 30, True, id="terminal-many-ports"),
        pytest.param(True, 3, False, id="terminal-few-ports"),
        pytest.param(False, 30, False, id="pipe"),
    ],
)
def test_progress_bar_only_on_a_terminal(
    tmp_path: Path, tty: bool, ports: int, shown: bool
) -> None:
    """The real CLI with stderr on a pseudo-terminal, or on a pipe."""
    path = compose_file(tmp_path, [f"{closed_port()}:80" for _ in range(ports)])
    argv = [sys.executable, "-m", "compose_net", "probe", "127.0.0.1", str(path)]
    if tty:
        master, slave = pty.openpty()
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave) as proc:
            os.close(slave)
            err = _read_all(master)
            proc.wait(timeout=60)
        os.close(master)
    else:
        done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        err = done.stderr
    assert (b"probing 127.0.0.1 [" in err) is shown, err
    if shown:
        total = len(set(path.read_text().split("\n")[4:-1]))
        assert f"] {total}/{total}".encode() in err
        assert err.endswith(b"\r\033[K")


def _read_all(fd: int) -> bytes:
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal has no writer left
            return data
        if not chunk:
            return data
        data += chunk


def test_progress_bar_draws_and_clears() -> None:
    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as stream:
        bar = Progress(stream, "probing x", minimum=2)
        assert bar.enabled
        bar.update(1, 4)
        bar.update(4, 4)
        bar.close()
    drawn = _read_all(master)
    os.close(master)
    assert drawn == (
        b"\rprobing x [" + b"#" * 7 + b"." * 23 + b"] 1/4"
        b"\rprobing x [" + b"#" * 30 + b"] 4/4"
        b"\r\033[K"
    )


# --------------------------------------------------------------------------- real drops


def _namespace_with_routes(make_lab: Callable[..., Lab]) -> Namespace:
    """A lab namespace with a silent path and three kinds of local refusal.

    192.0.2.0/24 goes out a veth whose peer has no address; 192.0.2.2 has a fixed neighbour
    entry, so the SYNs leave without an ARP question and nobody ever answers them. The other
    routes are the kernel's own unreachable, blackhole and prohibit routes.
    """
    ns = make_lab().internet
    ns.ip("link", "add", "drop0", "type", "veth", "peer", "name", "drop1")
    ns.ip("addr", "add", "192.0.2.1/24", "dev", "drop0")
    ns.ip("link", "set", "drop0", "up")
    ns.ip("link", "set", "drop1", "up")
    ns.ip("neigh", "add", "192.0.2.2", "lladdr", "02:00:00:00:02:02", "dev", "drop0",
          "nud", "permanent")
    ns.ip("route", "add", "unreachable", "198.51.100.1/32")
    ns.ip("route", "add", "blackhole", "198.51.100.2/32")
    ns.ip("route", "add", "prohibit", "198.51.100.3/32")
    return ns


def _probe_in(ns: Namespace, address: str, *args: str) -> tuple[int, dict[str, object], float]:
    argv = ns.nsenter(sys.executable, "-m", "compose_net", "probe", address, *args,
                      "--format", "json")
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.monotonic() - started
    assert done.returncode in (0, 1, 2), done.stderr
    return done.returncode, json.loads(done.stdout), elapsed


@pytest.mark.netns
@pytest.mark.parametrize(
    ("address", "result", "code"),
    [
        pytest.param("192.0.2.2", "filtered", 0, id="dropped-silently"),
        pytest.param("198.51.100.1", "filtered", 0, id="unreachable-route"),
        pytest.param("198.51.100.2", "error", 2, id="blackhole-route"),
        pytest.param("198.51.100.3", "error", 2, id="prohibit-route"),
        pytest.param("203.0.113.99", "filtered", 0, id="nobody-answers-arp"),
    ],
)
def test_real_drops_in_a_namespace(
    make_lab: Callable[..., Lab], tmp_path: Path, address: str, result: str, code: int
) -> None:
    ns = _namespace_with_routes(make_lab)
    path = compose_file(tmp_path, ["6379:6379"])
    got_code, report, _ = _probe_in(ns, address, str(path), "--timeout", "1")
    results = report["results"]
    assert isinstance(results, list)
    assert [(r["port"], r["result"]) for r in results] == [(6379, result)]
    assert got_code == code


@pytest.mark.netns
@pytest.mark.parametrize(
    ("concurrency", "at_least", "at_most"),
    [
        pytest.param(2, 3.0, 4.4, id="two-at-once"),
        pytest.param(4, 1.5, 2.9, id="all-at-once"),
    ],
)
def test_concurrency_is_bounded(
    make_lab: Callable[..., Lab], tmp_path: Path, concurrency: int, at_least: float,
    at_most: float,
) -> None:
    """Four silently dropped ports with a 1.5 s timeout take ceil(4/N) * 1.5 s, plus start-up.

    The lower bound shows that no more than N connections were in flight, the upper one that
    N were (the margin is for the interpreter's start-up).
    """
    ns = _namespace_with_routes(make_lab)
    path = compose_file(tmp_path, [f"{7000 + i}:80" for i in range(4)])
    code, report, elapsed = _probe_in(
        ns, "192.0.2.2", str(path), "--timeout", "1.5", "--concurrency", str(concurrency))
    assert code == 0
    assert report["summary"] == {"open": 0, "refused": 0, "filtered": 4, "not-provable": 0,
                                 "error": 0}
    assert at_least <= elapsed <= at_most, elapsed
