"""Compose's accept/reject verdict and normalisation, entry by entry, against the real binary.

Each case is one ``ports:`` item as written in YAML (flow style for mappings),
the variables in the project's ``.env``, and what Compose makes of it: either the
objects ``docker-compose config --format json`` prints, or a rejection (with the
message compose-net gives). Every case is checked twice:

* ``test_compose_net_*``: ``compose-net ports --format json`` (in process) prints
  exactly those objects, or exits 2 with one ``file:line:col: message`` line;
* ``test_compose_*``: the docker-compose binary prints the same objects (valid
  cases are batched, one service per case, one run per environment) or rejects
  the entry (one run per case).
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import pytest
from harness import oracle

Obj = dict[str, Union[str, int]]


def p(
    target: int | None,
    published: str | None = None,
    *,
    ip: str | None = None,
    proto: str | None = "tcp",
    mode: str | None = "ingress",
    **extra: str,
) -> Obj:
    """One object as Compose prints it (a None argument leaves the key out)."""
    obj: Obj = dict(extra)
    if mode is not None:
        obj["mode"] = mode
    if ip is not None:
        obj["host_ip"] = ip
    if target is not None:
        obj["target"] = target
    if published is not None:
        obj["published"] = published
    if proto is not None:
        obj["protocol"] = proto
    return obj


@dataclass(frozen=True)
class Case:
    entry: str
    objects: tuple[Obj, ...] | None  # None: rejected
    message: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        env = ",".join(f"{k}={v}" for k, v in self.env.items())
        return f"{self.entry} [{env}]" if env else self.entry


def ok(entry: str, *objects: Obj, env: dict[str, str] | None = None) -> Case:
    return Case(entry, objects, env=env or {})


def bad(entry: str, message: str, env: dict[str, str] | None = None) -> Case:
    return Case(entry, None, message, env or {})


SHORT = (
    ok('"5000"', p(5000)),
    ok("5000", p(5000)),
    ok('"8080:80"', p(80, "8080")),
    ok("8080:80", p(80, "8080")),
    ok('"127.0.0.1:8080:80"', p(80, "8080", ip="127.0.0.1")),
    ok('"127.0.0.1::80"', p(80, ip="127.0.0.1")),
    ok('"8000-8002:9000-9002"', p(9000, "8000"), p(9001, "8001"), p(9002, "8002")),
    ok('"8000-8002:9000"', p(9000, "8000-8002")),
    ok('"9000-9002"', p(9000), p(9001), p(9002)),
    ok('"9-10:9-10"', p(10, "10"), p(9, "9")),
    ok('"1-2-3:80"', p(80, "1-2")),
    ok('"0-5:80"', p(80, "0-5")),
    ok('"80/udp"', p(80, proto="udp")),
    ok('"80/sctp"', p(80, proto="sctp")),
    ok('"80/SCTP"', p(80, proto="sctp")),
    ok('"80/TCP"', p(80)),
    ok('"80/Udp"', p(80, proto="udp")),
    ok('"80/"', p(80)),
    ok('"[::1]:80:80"', p(80, "80", ip="::1")),
    ok('"::1:80:80"', p(80, "80", ip="::1")),
    ok('"[::1]::80"', p(80, ip="::1")),
    ok('":::80:80"', p(80, "80", ip="::")),
    ok('"[::]:80:80"', p(80, "80", ip="::")),
    ok('"[::ffff:127.0.0.1]:80:80"', p(80, "80", ip="::ffff:127.0.0.1")),
    ok('"::ffff:127.0.0.1:80:80"', p(80, "80", ip="::ffff:127.0.0.1")),
    ok('"::FFFF:1.2.3.4:80:80"', p(80, "80", ip="::FFFF:1.2.3.4")),
    ok('"[0:0::0]:80:80"', p(80, "80", ip="0:0::0")),
    ok('"[fd00::1]:8080:80/udp"', p(80, "8080", ip="fd00::1", proto="udp")),
    ok('":80:80"', p(80, "80")),
    ok('"::80"', p(80)),
    ok('":80"', p(80)),
    ok('"080:080"', p(80, "80")),
    ok('"00080:80"', p(80, "80")),
    ok('"007"', p(7)),
    ok("007", p(7)),
    ok('"0:80"', p(80, "0")),
    ok('"65535:65535"', p(65535, "65535")),
    ok("65535", p(65535)),
    ok("0x50", p(80)),
    ok("0o120", p(80)),
    ok("0120", p(80)),
    ok("0b1010000", p(80)),
    ok("8_0", p(80)),
    ok("+80", p(80)),
    ok("22:22", p(22, "22")),
    ok("60:60", p(60, "60")),
    ok('"[127.0.0.1]:80:80"', p(80, "80", ip="127.0.0.1")),
    ok('"[1.2.3.4]::80"', p(80, ip="1.2.3.4")),
    ok('"10.0.0.1:80:80"', p(80, "80", ip="10.0.0.1")),
    ok('"1.2.3.4:80:80"', p(80, "80", ip="1.2.3.4")),
    ok('"0.0.0.0:80:80"', p(80, "80", ip="0.0.0.0")),
    ok('"127.0.0.1:80-81:80"', p(80, "80-81", ip="127.0.0.1")),
    ok('"127.0.0.1:80:80/udp"', p(80, "80", ip="127.0.0.1", proto="udp")),
    ok("!!str 80", p(80)),
    ok('!!int "80"', p(80)),
    ok("'8443:443'", p(443, "8443")),
    ok('"100-200:80"', p(80, "100-200")),
    ok('"1-3:1-3/udp"', p(1, "1", proto="udp"), p(2, "2", proto="udp"), p(3, "3", proto="udp")),
    ok('"${CN_PORT:-8080}:80"', p(80, "8080")),
    ok('"${CN_PORT:-8080}:80"', p(80, "9090"), env={"CN_PORT": "9090"}),
    ok('"${CN_IP:-127.0.0.1}:80:80"', p(80, "80", ip="127.0.0.1")),
    ok('"${CN_IP:-127.0.0.1}:80:80"', p(80, "80", ip="10.0.0.5"), env={"CN_IP": "10.0.0.5"}),
    ok('"${CN_IP}:80:80"', p(80, "80")),
    ok('"$CN_PORT:80"', p(80, "7070"), env={"CN_PORT": "7070"}),
    ok('"$CN_PORT:80"', p(80)),
    ok('"${CN_TARGET:-80}"', p(80)),
    ok('"80/${CN_PROTO:-udp}"', p(80, proto="udp")),
    ok('"${CN_SPEC:-127.0.0.1:8080:80}"', p(80, "8080", ip="127.0.0.1")),
    ok('"${CN_IP:-::1}:80:80"', p(80, "80", ip="::1")),
    ok('"[${CN_IP:-::1}]:80:80"', p(80, "80", ip="::1")),
    ok('"${CN_IP-}:80:80"', p(80, "80")),
    ok('"${CN_RANGE:-8000-8001}:9000-9001"', p(9000, "8000"), p(9001, "8001")),
    ok('"${CN_IP:-${CN_FALLBACK:-192.168.1.10}}:80:80"', p(80, "80", ip="192.168.1.10")),
    ok('"${CN_IP:+127.0.0.1}:80:80"', p(80, "80", ip="127.0.0.1"), env={"CN_IP": "10.0.0.5"}),
    ok('"${CN_IP:+127.0.0.1}:80:80"', p(80, "80")),
    bad('"$$CN:80"', "invalid hostPort: $CN"),
    ok('"${CN_IP:?set it}:80:80"', p(80, "80", ip="10.0.0.5"), env={"CN_IP": "10.0.0.5"}),
    bad('"${CN_IP}:80:80"', "the host IP from ${CN_IP} is not an IP address", env={"CN_IP": "abc"}),
    bad('"${CN_UNSET:?set it}:80"', "required variable CN_UNSET is missing a value: set it"),
    bad('"${CN_BAD"', "invalid interpolation format: ${ needs a variable name"),
    bad('"${CN_UNSET}"', "invalid proto: "),
    bad('"80:80:80:80"', "invalid IP address: 80:80"),
    bad('"abc"', "invalid containerPort: abc"),
    bad('"70000:80"', "invalid hostPort: 70000"),
    bad(
        '"8000-8002:9000-9001"',
        "invalid ranges specified for container and host Ports: 9000-9001 and 8000-8002",
    ),
    bad('"1.2.3:80:80"', "invalid IP address: 1.2.3"),
    bad('"[::1:80:80"', "invalid IP address [::1: missing ']' in address"),
    bad('"80/tcp/x"', "invalid proto: tcp/x"),
    bad('"/tcp"', "invalid proto: "),
    bad('"0"', "the port is missing a target (container) port"),
    bad('"80:0"', "the port is missing a target (container) port"),
    bad('"+80"', "invalid containerPort: +80"),
    bad('" 80"', "invalid containerPort:  80"),
    bad('"80 "', "invalid containerPort: 80 "),
    bad('"80: 80"', "invalid containerPort:  80"),
    bad('"80-1:80"', "invalid hostPort: 80-1"),
    bad('"80:90-80"', "invalid containerPort: 90-80"),
    bad('"65536:80"', "invalid hostPort: 65536"),
    bad('"80:65536"', "invalid containerPort: 65536"),
    bad('"-1"', "invalid containerPort: -1"),
    bad('"80-:80"', "invalid hostPort: 80-"),
    bad('"-80:80"', "invalid hostPort: -80"),
    bad('"localhost:80:80"', "invalid IP address: localhost"),
    bad('"fe80::1%eth0:80:80"', "invalid IP address: fe80::1%eth0"),
    bad('"[fe80::1%eth0]:80:80"', "invalid IP address: fe80::1%eth0"),
    bad('"127.000.000.001:80:80"', "invalid IP address: 127.000.000.001"),
    bad('"0127.0.0.1:80:80"', "invalid IP address: 0127.0.0.1"),
    bad('"127.0.0.1:3001"', "invalid hostPort: 127.0.0.1"),
    bad('"1.2.3.4:"', "invalid proto: "),
    bad('"80:"', "invalid proto: "),
    bad('""', "invalid proto: "),
    bad('"1:2:3"', "invalid IP address: 1"),
    bad('"a:80"', "invalid hostPort: a"),
    bad('"80:a"', "invalid containerPort: a"),
    bad('"80:80/ tcp"', "invalid proto:  tcp"),
    bad('"80:1-3"', "invalid ranges specified for container and host Ports: 1-3 and 80"),
    bad('"4294967376"', "invalid containerPort: 4294967376"),
    bad("80.0", "a port must be a string, a number or a mapping"),
    bad("8.0e1", "a port must be a string, a number or a mapping"),
    bad("080", "a port must be a string, a number or a mapping"),
    bad("true", "a port must be a string, a number or a mapping"),
    bad("null", "a port must be a string, a number or a mapping"),
    bad("~", "a port must be a string, a number or a mapping"),
    bad("[80, 81]", "a port must be a string, a number or a mapping"),
    bad("1:00", "the port is missing a target (container) port"),
    bad("0x10000", "invalid containerPort: 65536"),
    bad("65536", "invalid containerPort: 65536"),
    bad("0", "the port is missing a target (container) port"),
    bad("'0x50'", "invalid containerPort: 0x50"),
    bad("1_0:80", "invalid hostPort: 1_0"),
    bad("-80", "invalid containerPort: -80"),
    bad("1e2", "a port must be a string, a number or a mapping"),
    bad(".inf", "a port must be a string, a number or a mapping"),
    bad("2020-01-01", "invalid containerPort: 2020-01-01"),
    bad('"[::1]80:80"', "invalid IP address [:: missing ']' in address"),
    ok('"[::1]:80:80/"', p(80, "80", ip="::1")),
    bad('"80:80/udp/"', "invalid proto: udp/"),
)

LONG = (
    ok("{target: 80}", p(80)),
    ok("{target: 80, published: 8080}", p(80, "8080")),
    ok('{target: 80, published: "8080"}', p(80, "8080")),
    ok('{target: 80, published: "8000-8010"}', p(80, "8000-8010")),
    ok('{target: 80, published: "abc"}', p(80, "abc")),
    ok('{target: 80, published: ""}', p(80)),
    ok("{target: 80, published: 0}", p(80, "0")),
    ok("{target: 80, published: -1}", p(80, "-1")),
    ok("{target: 80, published: 99999}", p(80, "99999")),
    ok("{target: 80, published: 0x50}", p(80, "80")),
    ok("{target: 80, published: 0120}", p(80, "80")),
    ok('{target: 80, published: "0120"}', p(80, "0120")),
    ok('{target: "80"}', p(80)),
    ok('{target: "+80"}', p(80)),
    ok("{target: 0}", p(None)),
    ok("{target: 99999}", p(99999)),
    ok("{target: 80.0}", p(80)),
    ok("{target: 1e2}", p(100)),
    ok("{target: 4294967377}", p(81)),
    ok("{target: 0x50}", p(80)),
    ok("{target: 0120}", p(80)),
    ok('{target: "080"}', p(80)),
    ok("{target: 80, host_ip: 127.0.0.1}", p(80, ip="127.0.0.1")),
    ok('{target: 80, host_ip: "::1"}', p(80, ip="::1")),
    ok("{target: 80, host_ip: 0.0.0.0}", p(80, ip="0.0.0.0")),
    ok('{target: 80, host_ip: "::"}', p(80, ip="::")),
    ok('{target: 80, host_ip: "::ffff:10.0.0.1"}', p(80, ip="::ffff:10.0.0.1")),
    ok('{target: 80, host_ip: "0:0::0"}', p(80, ip="0:0::0")),
    ok("{target: 80, protocol: udp}", p(80, proto="udp")),
    ok("{target: 80, protocol: UDP}", p(80, proto="UDP")),
    ok("{target: 80, protocol: xyz}", p(80, proto="xyz")),
    ok('{target: 80, protocol: ""}', p(80, proto=None)),
    ok("{target: 80, mode: host}", p(80, mode="host")),
    ok("{target: 80, mode: whatever}", p(80, mode="whatever")),
    ok('{target: 80, mode: ""}', p(80, mode=None)),
    ok("{target: 80, name: web}", p(80, name="web")),
    ok("{target: 80, app_protocol: http}", p(80, app_protocol="http")),
    ok('{target: 80, name: ""}', p(80)),
    ok('{target: 80, app_protocol: ""}', p(80)),
    ok(
        "{target: 80, name: web, app_protocol: http, mode: host, protocol: udp,"
        ' host_ip: 10.0.0.1, published: "8080"}',
        p(80, "8080", ip="10.0.0.1", proto="udp", mode="host", name="web", app_protocol="http"),
    ),
    ok("{target: 80, x-foo: bar}", p(80)),
    ok("{target: 80, x-a: 1, name: n}", p(80, name="n")),
    ok("{target: 65536, published: 65536}", p(65536, "65536")),
    ok('{target: "${CN_TARGET:-80}"}', p(80)),
    ok('{target: "${CN_TARGET:-80}"}', p(81), env={"CN_TARGET": "81"}),
    ok('{target: 80, published: "${CN_PORT:-8080}"}', p(80, "8080")),
    ok('{target: 80, host_ip: "${CN_IP:-127.0.0.1}"}', p(80, ip="127.0.0.1")),
    ok(
        '{target: 80, host_ip: "${CN_IP:-127.0.0.1}"}',
        p(80, ip="10.0.0.5"),
        env={"CN_IP": "10.0.0.5"},
    ),
    ok('{target: 80, published: "${CN_PORT}"}', p(80)),
    ok('{target: 80, protocol: "${CN_PROTO:-udp}"}', p(80, proto="udp")),
    ok('{target: 80, mode: "${CN_MODE:-host}"}', p(80, mode="host")),
    ok('{target: 80, published: "$$80"}', p(80, "$80")),
    bad("{target: 80, published: 80.5}", "published must be an integer or a string, not 80.5"),
    bad("{target: 80, published: true}", "published must be an integer or a string, not True"),
    bad("{target: 80, published: null}", "published must be an integer or a string, not null"),
    bad("{target: 80, published: 080}", "published must be an integer or a string, not 80.0"),
    bad("{target: 80, published: [1]}", "published must be an integer or a string, not [1]"),
    bad('{target: "abc"}', "invalid target port: 'abc'"),
    bad("{target: -1}", "invalid target port: -1 is negative"),
    bad('{target: "-80"}', "invalid target port: -80 is negative"),
    bad("{target: 80.5}", "invalid target port: 80.5"),
    bad("{target: true}", "invalid target port: True"),
    bad("{target: null}", "invalid target port: null"),
    bad("{published: 80}", "the port mapping is missing a target port"),
    bad("{}", "the port mapping is missing a target port"),
    bad('{target: "0x50"}', "invalid target port: '0x50'"),
    bad('{target: " 80"}', "invalid target port: ' 80'"),
    bad('{target: 80, host_ip: "[::1]"}', "invalid IP address: [::1]"),
    bad('{target: 80, host_ip: ""}', "invalid IP address: "),
    bad('{target: 80, host_ip: "abc"}', "invalid IP address: abc"),
    bad('{target: 80, host_ip: "fe80::1%eth0"}', "invalid IP address: fe80::1%eth0"),
    bad("{target: 80, host_ip: 1}", "host_ip must be a string, not 1"),
    bad("{target: 80, host_ip: null}", "host_ip must be a string, not null"),
    bad('{target: 80, host_ip: "127.0.0.01"}', "invalid IP address: 127.0.0.01"),
    bad("{target: 80, protocol: 1}", "protocol must be a string, not 1"),
    bad("{target: 80, protocol: null}", "protocol must be a string, not null"),
    bad("{target: 80, mode: null}", "mode must be a string, not null"),
    bad("{target: 80, name: 1}", "name must be a string, not 1"),
    bad("{target: 80, name: null}", "name must be a string, not null"),
    bad("{target: 80, app_protocol: null}", "app_protocol must be a string, not null"),
    bad("{target: 80, extra: 1}", "additional property 'extra' is not allowed in a port mapping"),
    bad('{target: "${CN_TARGET}"}', "invalid target port: ''"),
    bad('{target: 80, host_ip: "${CN_IP}"}', "invalid IP address: "),
    bad(
        '{target: 80, host_ip: "${CN_UNSET:?need it}"}',
        "required variable CN_UNSET is missing a value: need it",
    ),
)

CASES = SHORT + LONG
VALID = [c for c in CASES if c.objects is not None]
INVALID = [c for c in CASES if c.objects is None]
VARIABLES = sorted({name for c in CASES for name in re.findall(r"CN_[A-Z_]+", c.entry)})


def _document(entries: dict[str, str]) -> str:
    services = "".join(
        f"  {name}:\n    image: x\n    ports:\n      - {entry}\n" for name, entry in entries.items()
    )
    return f"services:\n{services}"


def _project(folder: Path, text: str, env: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    path = folder / "compose.yaml"
    path.write_text(text)
    return path


def _unescape(value: Any) -> Any:
    """compose config writes a literal "$" back as "$$"."""
    return value.replace("$$", "$") if isinstance(value, str) else value


def _compose(binary: str, path: Path) -> subprocess.CompletedProcess[str]:
    return oracle.run(  # once per run for the same files, whichever worker asks first
        [binary, "--profile", "*", "-f", path.name, "config", "--format", "json"],
        path.parent,
        {"PATH": "/usr/bin:/bin", "HOME": str(path.parent), "DOCKER_HOST": "unix:///none"},
    )


@pytest.fixture(autouse=True)
def _no_outside_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- compose-net


def _ports(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, Any, str]:
    """``compose-net ports --format json`` with the values variables take shown (the command
    line shows ``${VAR}`` instead: no value of the environment is printed), to compare with
    what Compose makes of them."""
    from compose_net.commands import ports as command

    code = command.run([str(path)], fmt="json", interpolate=True, show_values=True)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in VALID])
def test_compose_net_normalises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: Case
) -> None:
    path = _project(tmp_path, _document({"s": case.entry}), case.env)
    code, data, err = _ports(capsys, path)
    assert (code, err) == (0, "")
    ports = data["files"][0]["services"]["s"]["ports"]
    assert [
        {k: v for k, v in port.items() if k not in ("line", "column", "exposure")} for port in ports
    ] == list(case.objects or ())
    assert {(port["line"], port["column"]) for port in ports} == {(5, 9)}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in INVALID])
def test_compose_net_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: Case
) -> None:
    path = _project(tmp_path, _document({"s": case.entry}), case.env)
    code, _, err = _ports(capsys, path)
    prefix = f"compose-net: error: {path}:5:9: "
    assert (code, err.count("\n"), err[: len(prefix)]) == (2, 1, prefix)
    assert case.message in err


# --------------------------------------------------------------------------- docker-compose


@pytest.fixture(scope="module")
def compose_valid(compose_bin: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The binary's objects for every valid case: one run per distinct environment.

    When a batch is rejected, its cases are run one by one, so that each failure
    names its own case.
    """
    groups: dict[str, list[Case]] = {}
    for case in VALID:
        groups.setdefault(json.dumps(case.env, sort_keys=True), []).append(case)
    root = tmp_path_factory.mktemp("valid")

    def run(folder: Path, cases: list[Case]) -> dict[str, Any]:
        names = {f"s{i}": c for i, c in enumerate(cases)}
        text = _document({k: c.entry for k, c in names.items()})
        proc = _compose(compose_bin, _project(folder, text, cases[0].env))
        if proc.returncode != 0:
            return {c.id: proc.stderr for c in cases}
        services = json.loads(proc.stdout)["services"]
        return {c.id: services.get(name, {}).get("ports") for name, c in names.items()}

    out: dict[str, Any] = {}
    for n, (_, cases) in enumerate(sorted(groups.items())):
        got = run(root / str(n), cases)
        if any(isinstance(v, str) for v in got.values()) and len(cases) > 1:
            jobs = [(root / f"{n}-{i}", [case]) for i, case in enumerate(cases)]
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                singles = list(pool.map(lambda job: run(*job), jobs))
            got = {k: v for single in singles for k, v in single.items()}
        out.update(got)
    return out


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in VALID])
def test_compose_normalises(compose_valid: dict[str, Any], case: Case) -> None:
    ports = compose_valid[case.id]
    assert isinstance(ports, list), ports
    assert [{k: _unescape(v) for k, v in port.items()} for port in ports] == list(
        case.objects or ()
    )


@pytest.fixture(scope="module")
def compose_invalid(
    compose_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[int, str]]:
    """The binary's exit code and message for every invalid case, one run each."""
    root = tmp_path_factory.mktemp("invalid")

    def one(i: int) -> tuple[str, tuple[int, str]]:
        case = INVALID[i]
        proc = _compose(
            compose_bin, _project(root / str(i), _document({"s": case.entry}), case.env)
        )
        return case.id, (proc.returncode, proc.stderr)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, range(len(INVALID))))


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in INVALID])
def test_compose_rejects(compose_invalid: dict[str, tuple[int, str]], case: Case) -> None:
    code, err = compose_invalid[case.id]
    assert (code != 0, bool(err.strip())) == (True, True)


# --------------------------------------------------------------------------- fixed points

CANONICAL = (
    p(80),
    p(80, "8080"),
    p(80, "8000-8010"),
    p(80, "8080", ip="127.0.0.1"),
    p(80, "8080", ip="::1"),
    p(53, "53", ip="10.0.0.1", proto="udp"),
    p(80, "80", mode="host"),
    p(80, "8080", ip="0.0.0.0", proto="sctp", mode="host", name="web", app_protocol="http"),
)


def _flow(obj: Obj) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in obj.items()) + "}"


@pytest.mark.parametrize("obj", CANONICAL, ids=_flow)
def test_compose_net_canonical_noop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], obj: Obj
) -> None:
    code, data, _ = _ports(capsys, _project(tmp_path, _document({"s": _flow(obj)}), {}))
    ports = data["files"][0]["services"]["s"]["ports"]
    assert (code, [{k: port[k] for k in obj} for port in ports]) == (0, [obj])
    assert [set(port) - set(obj) for port in ports] == [{"line", "column", "exposure"}]


def test_compose_canonical_noop(compose_bin: str, tmp_path: Path) -> None:
    entries = {f"s{i}": _flow(obj) for i, obj in enumerate(CANONICAL)}
    proc = _compose(compose_bin, _project(tmp_path, _document(entries), {}))
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    assert [services[name]["ports"] for name in entries] == [[obj] for obj in CANONICAL]


# --------------------------------------------------------------------------- whole files
# Compose merges entries that name the same host IP, published port, target and protocol
# (a missing host_ip counts as 0.0.0.0, a missing protocol as tcp; a published port
# written as an integer is not the same as one written as a string): the later entry
# replaces the earlier one in its place. Ports reached through extends come first.

MERGES = """\
services:
  short-and-long: {image: x, ports: ["3000", {target: 3000}]}
  long-int-twice:
    image: x
    ports: [{target: 80, published: 80}, {target: 80, published: 80, mode: host}]
  target-string: {image: x, ports: [{target: "80"}, "80"]}
  protocol-case: {image: x, ports: [{target: 80, protocol: TCP}, "80"]}
  any-ip: {image: x, ports: [{target: 80, host_ip: "0.0.0.0"}, "80"]}
  int-entry: {image: x, ports: [80, "80"]}
  udp-apart: {image: x, ports: ["80/udp", "80"]}
  tcp-suffix: {image: x, ports: ["127.0.0.1:80:80", "127.0.0.1:80:80/tcp"]}
  ipv6-forms: {image: x, ports: ["[::1]:80:80", "::1:80:80", "[::1]:80:80/tcp"]}
  later-wins: {image: x, ports: ["80:80", {target: 80, published: "80", mode: host, name: n}]}
  range-host: {image: x, ports: ["8000-8001:80", {target: 80, published: "8000-8001"}]}
  in-place: {image: x, ports: ["80:80", "81:81", "0.0.0.0:80:80", "0.0.0.0:81:81"]}
  range-expanded: {image: x, ports: ["9-10:9-10", "9:9"]}
  int-vs-string: {image: x, ports: [{target: 80, published: 8080}, {target: 80, published: "8080"}]}
  tcp-default: {image: x, ports: [{target: 80, protocol: tcp}, {target: 80}]}
  ipv6-any-apart: {image: x, ports: ["80:80", {target: 80, published: "80", host_ip: "::"}]}
  mode-ignored:
    image: x
    ports: [{target: 80, published: "80", mode: host}, {target: 80, published: "80"}]
  host-port-0: {image: x, ports: ["0:80", "80"]}
  variables: {image: x, ports: ["${CN_PORT:-80}:80", "80:80"]}
  variable-target: {image: x, ports: [{target: "${CN_TARGET:-80}"}, "80"]}
  same-text: {image: x, ports: ["80:80", "80:80", 80:80]}
  extension-keys: {image: x, ports: [{target: 80, x-a: 1}, {target: 80, x-a: 2}]}
"""

EXTENDS = {
    "compose.yaml": """\
services:
  base:
    image: x
    ports: ["80:80", "81:81"]
  mid:
    extends: base
    ports: ["82:82", "0.0.0.0:80:80"]
  override:
    extends: {service: mid}
    ports: !override ["90:90"]
  reset:
    extends: {service: mid}
    ports: !reset []
  inherit:
    extends: {service: base}
  other-file:
    extends: {service: web, file: sub/base.yml}
    ports: ["${CN_PORT:-70}:70"]
  chain:
    extends: {service: api, file: sub/base.yml}
    ports: ["127.0.0.1:60:60"]
""",
    "sub/base.yml": """\
services:
  web:
    image: x
    ports: ["60:60"]
  api:
    extends: {file: more.yml, service: core}
    ports: [{target: 61, published: "61"}]
""",
    "sub/more.yml": """\
services:
  core:
    image: x
    ports: ["61:61", "62:62"]
""",
}

FILES = (
    pytest.param(
        {"compose.yaml": MERGES},
        {},
        {
            "short-and-long": [p(3000)],
            "long-int-twice": [p(80, "80", mode="host")],
            "target-string": [p(80)],
            "protocol-case": [p(80, proto="TCP"), p(80)],
            "any-ip": [p(80)],
            "int-entry": [p(80)],
            "udp-apart": [p(80, proto="udp"), p(80)],
            "tcp-suffix": [p(80, "80", ip="127.0.0.1")],
            "ipv6-forms": [p(80, "80", ip="::1")],
            "later-wins": [p(80, "80", mode="host", name="n")],
            "range-host": [p(80, "8000-8001")],
            "in-place": [p(80, "80", ip="0.0.0.0"), p(81, "81", ip="0.0.0.0")],
            "range-expanded": [p(10, "10"), p(9, "9")],
            "int-vs-string": [p(80, "8080"), p(80, "8080")],
            "tcp-default": [p(80)],
            "ipv6-any-apart": [p(80, "80"), p(80, "80", ip="::")],
            "mode-ignored": [p(80, "80")],
            "host-port-0": [p(80, "0"), p(80)],
            "variables": [p(80, "80")],
            "variable-target": [p(80)],
            "same-text": [p(80, "80")],
            "extension-keys": [p(80)],
        },
        id="merges",
    ),
    pytest.param(
        EXTENDS,
        {"CN_PORT": "71"},
        {
            "base": [p(80, "80"), p(81, "81")],
            "mid": [p(80, "80", ip="0.0.0.0"), p(81, "81"), p(82, "82")],
            "override": [p(90, "90")],
            "inherit": [p(80, "80"), p(81, "81")],
            "other-file": [p(60, "60"), p(70, "71")],
            "chain": [p(61, "61"), p(62, "62"), p(60, "60", ip="127.0.0.1")],
        },
        id="extends",
    ),
)


def _write(root: Path, files: dict[str, str], env: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return root / "compose.yaml"


@pytest.mark.parametrize(("files", "env", "expected"), FILES)
def test_compose_net_files(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    env: dict[str, str],
    expected: dict[str, list[Obj]],
) -> None:
    code, data, err = _ports(capsys, _write(tmp_path, files, env))
    assert (code, err) == (0, "")
    got = {
        name: [{k: v for k, v in port.items() if k in KEYS} for port in service["ports"]]
        for name, service in data["files"][0]["services"].items()
    }
    assert got == expected


KEYS = ("name", "app_protocol", "mode", "host_ip", "target", "published", "protocol")


@pytest.mark.parametrize(("files", "env", "expected"), FILES)
def test_compose_files(
    compose_bin: str,
    tmp_path: Path,
    files: dict[str, str],
    env: dict[str, str],
    expected: dict[str, list[Obj]],
) -> None:
    proc = _compose(compose_bin, _write(tmp_path, files, env))
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    assert {name: s["ports"] for name, s in services.items() if s.get("ports")} == expected


def test_compose_net_extends_file_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, _ = _ports(capsys, _write(tmp_path, EXTENDS, {}))
    chain = data["files"][0]["services"]["chain"]["ports"]
    # 61 is written in more.yml and again in base.yml: the later entry stands, in the first place
    assert (code, [(port.get("file"), port["line"], port["column"]) for port in chain]) == (
        0,
        [
            (str(tmp_path / "sub/base.yml"), 7, 13),
            (str(tmp_path / "sub/more.yml"), 4, 22),
            (None, 21, 13),
        ],
    )


@pytest.mark.parametrize(
    ("files", "message"),
    (
        pytest.param(
            {"compose.yaml": "services:\n  a:\n    extends: b\n    image: x\n"},
            "compose.yaml:3:14: cannot extend service 'b': it is not defined",
            id="missing-service",
        ),
        pytest.param(
            {"compose.yaml": "services:\n  a:\n    extends: {service: b, file: nope.yml}\n"},
            "compose.yaml:3:33: cannot extend 'b': file nope.yml not found",
            id="missing-file",
        ),
        pytest.param(
            {"compose.yaml": "services:\n  a:\n    extends: b\n  b:\n    extends: a\n"},
            "circular reference",
            id="cycle",
        ),
        pytest.param(
            {
                "compose.yaml": "services:\n  a:\n    extends: {service: b, file: b.yml}\n",
                "b.yml": "services:\n  b:\n    image: x\n    ports: ['80:80:80:80']\n",
            },
            "b.yml:4:13: services.b.ports[0]: invalid IP address: 80:80",
            id="error-in-the-other-file",
        ),
    ),
)
def test_compose_net_extends_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], message: str
) -> None:
    code, _, err = _ports(capsys, _write(tmp_path, files, {}))
    assert (code, err.count("\n"), message in err) == (2, 1, True), err


@pytest.mark.parametrize(
    "files",
    (
        {"compose.yaml": "services:\n  a:\n    extends: b\n    image: x\n"},
        {"compose.yaml": "services:\n  a:\n    extends: {service: b, file: nope.yml}\n"},
        {"compose.yaml": "services:\n  a:\n    extends: b\n  b:\n    extends: a\n"},
    ),
    ids=("missing-service", "missing-file", "cycle"),
)
def test_compose_extends_errors(compose_bin: str, tmp_path: Path, files: dict[str, str]) -> None:
    assert _compose(compose_bin, _write(tmp_path, files, {})).returncode != 0
