"""The pure port model: the written view, Compose's normalisation, and exposure.

Every expected value here was checked against docker-compose 2.40.3
(tests/ports_oracle_test.py runs the same kinds of entries through the binary).
"""

from __future__ import annotations

import os

import pytest

from compose_net import document, source
from compose_net.document import Document, PortEntry
from compose_net.errors import ComposeNetError
from compose_net.model import compose_ports, document_ports, entry_exposure, normalize_entry
from compose_net.ports import (
    PortError,
    exposure_of,
    normalize_long,
    normalize_short,
    short_text,
    split_short,
)

# --------------------------------------------------------------------------- split_short

INVALID_TEMPLATE = (
    "invalid interpolation format: ${ needs a variable name and a closing } (a literal $ is $$)"
)


@pytest.mark.parametrize(
    ("text", "host_ip", "bracketed", "host_port", "container", "protocol"),
    (
        ("80", None, False, None, "80", "tcp"),
        ("8080:80", None, False, "8080", "80", "tcp"),
        ("8080:80/udp", None, False, "8080", "80/udp", "udp"),
        ("8080:80/SCTP", None, False, "8080", "80/SCTP", "sctp"),
        ("127.0.0.1:8080:80", "127.0.0.1", False, "8080", "80", "tcp"),
        ("127.0.0.1::80", "127.0.0.1", False, "", "80", "tcp"),
        (":80", None, False, "", "80", "tcp"),
        ("[::1]:80:80", "::1", True, "80", "80", "tcp"),
        ("[::1]::80/udp", "::1", True, "", "80/udp", "udp"),
        pytest.param("::1:80:80", "::1", False, "80", "80", "tcp", id="unbracketed-ipv6"),
        pytest.param(":::80:80", "::", False, "80", "80", "tcp", id="unbracketed-ipv6-any"),
        ("8000-8010:80", None, False, "8000-8010", "80", "tcp"),
        pytest.param("1:2:3:4", "1:2", False, "3", "4", "tcp", id="too-many-parts-ip-swallows"),
        pytest.param("80/tcp/x", None, False, None, "80/tcp/x", "tcp/x", id="protocol-rest"),
        pytest.param(
            "${IP:-127.0.0.1}:80:80",
            "${IP:-127.0.0.1}",
            False,
            "80",
            "80",
            "tcp",
            id="variable-ip",
        ),
        pytest.param(
            "${IP:-::1}:80:80",
            "${IP:-::1}",
            False,
            "80",
            "80",
            "tcp",
            id="colons-inside-a-variable-do-not-split",
        ),
        pytest.param(
            "${IP:-${FALLBACK:-0.0.0.0}}:80:80",
            "${IP:-${FALLBACK:-0.0.0.0}}",
            False,
            "80",
            "80",
            "tcp",
            id="nested-default",
        ),
        pytest.param("${P:-8080}:80", None, False, "${P:-8080}", "80", "tcp", id="variable-port"),
        pytest.param(
            "${IP}:${P:-80}:${T:-80}/${PROTO:-TCP}",
            "${IP}",
            False,
            "${P:-80}",
            "${T:-80}/${PROTO:-TCP}",
            "${PROTO:-TCP}",
            id="variable-protocol-keeps-its-case",
        ),
        pytest.param("$${X}:80", None, False, "$${X}", "80", "tcp", id="escaped-dollar"),
        pytest.param("", None, False, None, "", "tcp", id="empty"),
    ),
)
def test_split_short(
    text: str,
    host_ip: str | None,
    bracketed: bool,
    host_port: str | None,
    container: str,
    protocol: str,
) -> None:
    spec = split_short(text)
    got = (spec.text, spec.host_ip, spec.bracketed, spec.host_port, spec.container, spec.protocol)
    assert got == (text, host_ip, bracketed, host_port, container, protocol)


@pytest.mark.parametrize(
    "text",
    (
        "127.0.0.1:8080:80",
        "10.0.0.1::80/udp",
        "[::1]:80:80",
        "[fd00::1]:8000-8010:80",
        "${BIND}:80:80",
        "${BIND:-10.1.2.3}:${PORT:-80}:80/tcp",
    ),
)
def test_with_host_ip_noop(text: str) -> None:
    spec = split_short(text)
    assert spec.host_ip is not None
    assert spec.with_host_ip(spec.host_ip) == text


@pytest.mark.parametrize(
    ("text", "ip", "expected"),
    (
        ("80", "10.0.0.1", "10.0.0.1::80"),
        ("8080:80", "10.0.0.1", "10.0.0.1:8080:80"),
        ("8080:80/udp", "fd00::1", "[fd00::1]:8080:80/udp"),
        ("0.0.0.0:8080:80", "10.0.0.1", "10.0.0.1:8080:80"),
        pytest.param("::1:80:80", "10.0.0.1", "10.0.0.1:80:80", id="unbracketed-ipv6-replaced"),
        pytest.param("[::]:80:80", "fd00::2", "[fd00::2]:80:80", id="bracketed-ipv6-replaced"),
        pytest.param("${P:-80}:80", "${BIND}", "${BIND}:${P:-80}:80", id="variable-ip-unbracketed"),
        pytest.param("${IP:-::}:80:80", "10.0.0.1", "10.0.0.1:80:80", id="variable-ip-replaced"),
    ),
)
def test_with_host_ip(text: str, ip: str, expected: str) -> None:
    assert split_short(text).with_host_ip(ip) == expected


# --------------------------------------------------------------------------- normalize_short


def _obj(
    target: int, published: str | None = None, host_ip: str | None = None, protocol: str = "tcp"
) -> dict[str, str | int]:
    obj: dict[str, str | int] = {"mode": "ingress"}
    if host_ip is not None:
        obj["host_ip"] = host_ip
    obj["target"] = target
    if published is not None:
        obj["published"] = published
    obj["protocol"] = protocol
    return obj


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        ("5000", [_obj(5000)]),
        ("8080:80", [_obj(80, "8080")]),
        ("127.0.0.1:8080:80", [_obj(80, "8080", "127.0.0.1")]),
        ("127.0.0.1::80", [_obj(80, None, "127.0.0.1")]),
        ("80/udp", [_obj(80, protocol="udp")]),
        ("80/sctp", [_obj(80, protocol="sctp")]),
        pytest.param("80/SCTP", [_obj(80, protocol="sctp")], id="protocol-lower-cased"),
        pytest.param("80/", [_obj(80)], id="empty-protocol-is-tcp"),
        ("[::1]:80:80", [_obj(80, "80", "::1")]),
        ("::1:80:80", [_obj(80, "80", "::1")]),
        pytest.param("::80", [_obj(80)], id="empty-ip-and-empty-host-port"),
        (":80:80", [_obj(80, "80")]),
        (":80", [_obj(80)]),
        ("[::ffff:127.0.0.1]:80:80", [_obj(80, "80", "::ffff:127.0.0.1")]),
        ("8000-8002:9000", [_obj(9000, "8000-8002")]),
        (
            "8000-8002:9000-9002",
            [_obj(9000, "8000"), _obj(9001, "8001"), _obj(9002, "8002")],
        ),
        ("9000-9002", [_obj(9000), _obj(9001), _obj(9002)]),
        pytest.param("9-10:9-10", [_obj(10, "10"), _obj(9, "9")], id="string-sorted-expansion"),
        pytest.param("1-2-3:80", [_obj(80, "1-2")], id="third-range-part-ignored"),
        pytest.param("0:80", [_obj(80, "0")], id="host-port-zero"),
        pytest.param("080:080", [_obj(80, "80")], id="leading-zeros"),
        ("65535:65535", [_obj(65535, "65535")]),
        ("0-5:80", [_obj(80, "0-5")]),
    ),
)
def test_normalize_short(text: str, expected: list[dict[str, str | int]]) -> None:
    assert normalize_short(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    (
        ("80:80:80:80", "invalid IP address: 80:80"),
        ("abc", "invalid containerPort: abc"),
        ("70000:80", "invalid hostPort: 70000"),
        ("65536:80", "invalid hostPort: 65536"),
        ("80:65536", "invalid containerPort: 65536"),
        (
            "8000-8002:9000-9001",
            "invalid ranges specified for container and host Ports: 9000-9001 and 8000-8002",
        ),
        ("1.2.3:80:80", "invalid IP address: 1.2.3"),
        ("[::1:80:80", "missing ']'"),
        ("localhost:80:80", "invalid IP address: localhost"),
        ("fe80::1%eth0:80:80", "invalid IP address: fe80::1%eth0"),
        ("127.000.000.001:80:80", "invalid IP address: 127.000.000.001"),
        ("80/tcp/x", "invalid proto: tcp/x"),
        ("/tcp", "invalid proto: "),
        ("80:", "invalid proto: "),
        ("", "invalid proto: "),
        ("0", "missing a target"),
        ("80:0", "missing a target"),
        ("+80", "invalid containerPort: +80"),
        (" 80", "invalid containerPort:  80"),
        ("-1", "invalid containerPort: -1"),
        ("80-1:80", "invalid hostPort: 80-1"),
        ("80:90-80", "invalid containerPort: 90-80"),
        ("80-:80", "invalid hostPort: 80-"),
        ("127.0.0.1:3001", "invalid hostPort: 127.0.0.1"),
        ("80:1-3", "invalid ranges specified"),
    ),
)
def test_normalize_short_rejects(text: str, message: str) -> None:
    with pytest.raises(PortError) as excinfo:
        normalize_short(text)
    assert message in excinfo.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    ((80, "80"), ("80:80", "80:80"), (0, "0")),
)
def test_short_text(value: object, expected: str) -> None:
    assert short_text(value) == expected


@pytest.mark.parametrize("value", (True, None, 80.0, [80], {"a": 1}))
def test_short_text_rejects(value: object) -> None:
    with pytest.raises(PortError):
        short_text(value)


# --------------------------------------------------------------------------- normalize_long

T80: dict[str, object] = {"mode": "ingress", "target": 80, "protocol": "tcp"}


@pytest.mark.parametrize(
    ("entry", "expected"),
    (
        ({"target": 80}, T80),
        (
            {"target": 80, "published": 8080},
            {"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"},
        ),
        (
            {"target": 80, "published": "8000-8010"},
            {"mode": "ingress", "target": 80, "published": "8000-8010", "protocol": "tcp"},
        ),
        pytest.param(
            {"target": 80, "published": "abc"},
            {"mode": "ingress", "target": 80, "published": "abc", "protocol": "tcp"},
            id="published-any-string",
        ),
        pytest.param(
            {"target": 80, "published": -1}, {**T80, "published": "-1"}, id="published-negative-int"
        ),
        pytest.param({"target": 80, "published": ""}, T80, id="published-empty-dropped"),
        pytest.param({"target": "80"}, T80, id="target-string"),
        pytest.param({"target": "+80"}, T80, id="target-signed-string"),
        pytest.param({"target": 80.0}, T80, id="target-integral-float"),
        pytest.param({"target": 0}, {"mode": "ingress", "protocol": "tcp"}, id="target-0-omitted"),
        pytest.param({"target": 99999}, {**T80, "target": 99999}, id="target-above-65535"),
        pytest.param({"target": 2**32 + 81}, {**T80, "target": 81}, id="target-wraps-uint32"),
        ({"target": 80, "host_ip": "127.0.0.1"}, {**T80, "host_ip": "127.0.0.1"}),
        ({"target": 80, "host_ip": "::"}, {**T80, "host_ip": "::"}),
        pytest.param(
            {"target": 80, "protocol": "UDP"},
            {**T80, "protocol": "UDP"},
            id="protocol-kept-as-written",
        ),
        pytest.param(
            {"target": 80, "protocol": "xyz"}, {**T80, "protocol": "xyz"}, id="protocol-any-string"
        ),
        pytest.param(
            {"target": 80, "protocol": ""},
            {"mode": "ingress", "target": 80},
            id="protocol-empty-dropped",
        ),
        pytest.param(
            {"target": 80, "mode": ""}, {"target": 80, "protocol": "tcp"}, id="mode-empty-dropped"
        ),
        pytest.param(
            {"target": 80, "mode": "whatever"}, {**T80, "mode": "whatever"}, id="mode-any-string"
        ),
        pytest.param({"target": 80, "name": ""}, T80, id="name-empty-dropped"),
        pytest.param({"target": 80, "x-note": None}, T80, id="extension-key-ignored"),
        (
            {
                "target": 80,
                "published": "8080",
                "host_ip": "10.0.0.1",
                "protocol": "udp",
                "mode": "host",
                "name": "web",
                "app_protocol": "http",
            },
            {
                "name": "web",
                "app_protocol": "http",
                "mode": "host",
                "host_ip": "10.0.0.1",
                "target": 80,
                "published": "8080",
                "protocol": "udp",
            },
        ),
    ),
)
def test_normalize_long(entry: dict[str, object], expected: dict[str, object]) -> None:
    assert normalize_long(entry) == expected


@pytest.mark.parametrize(
    ("entry", "message"),
    (
        ({"published": 80}, "missing a target port"),
        ({"target": None}, "invalid target port: null"),
        ({"target": "abc"}, "invalid target port: 'abc'"),
        ({"target": " 80"}, "invalid target port"),
        ({"target": "0x50"}, "invalid target port"),
        ({"target": -1}, "negative"),
        ({"target": "-80"}, "negative"),
        ({"target": 80.5}, "invalid target port"),
        ({"target": True}, "invalid target port"),
        ({"target": 80, "published": None}, "published must be an integer or a string, not null"),
        ({"target": 80, "published": 80.5}, "published must be"),
        ({"target": 80, "published": 80.0}, "published must be"),
        ({"target": 80, "published": True}, "published must be"),
        ({"target": 80, "host_ip": ""}, "invalid IP address: "),
        ({"target": 80, "host_ip": "[::1]"}, "invalid IP address: [::1]"),
        ({"target": 80, "host_ip": "abc"}, "invalid IP address: abc"),
        ({"target": 80, "host_ip": "fe80::1%eth0"}, "invalid IP address"),
        ({"target": 80, "host_ip": None}, "host_ip must be a string, not null"),
        ({"target": 80, "host_ip": 1}, "host_ip must be a string"),
        ({"target": 80, "protocol": None}, "protocol must be a string"),
        ({"target": 80, "protocol": 1}, "protocol must be a string"),
        ({"target": 80, "mode": None}, "mode must be a string"),
        ({"target": 80, "name": None}, "name must be a string"),
        ({"target": 80, "app_protocol": None}, "app_protocol must be a string"),
        ({"target": 80, "extra": 1}, "additional property 'extra'"),
    ),
)
def test_normalize_long_rejects(entry: dict[str, object], message: str) -> None:
    with pytest.raises(PortError) as excinfo:
        normalize_long(entry)
    assert message in excinfo.value.message


# --------------------------------------------------------------------------- exposure


@pytest.mark.parametrize(
    ("host_ip", "expected"),
    (
        (None, "all-interfaces"),
        ("", "all-interfaces"),
        ("0.0.0.0", "all-interfaces"),
        ("::", "all-interfaces"),
        pytest.param("0:0::0", "all-interfaces", id="ipv6-any-long-form"),
        pytest.param("::ffff:0.0.0.0", "all-interfaces", id="ipv4-mapped-any"),
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("::1", "loopback"),
        pytest.param("::ffff:127.0.0.1", "loopback", id="ipv4-mapped-loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        pytest.param("100.64.0.1", "private", id="cgnat"),
        ("100.127.255.254", "private"),
        ("169.254.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "private"),
        pytest.param("::ffff:10.0.0.1", "private", id="ipv4-mapped-private"),
        ("172.32.0.1", "public"),
        ("172.15.255.255", "public"),
        pytest.param("100.128.0.1", "public", id="just-past-cgnat"),
        ("8.8.8.8", "public"),
        ("203.0.113.11", "public"),
        ("2001:4860::8888", "public"),
        ("::ffff:8.8.8.8", "public"),
        ("${BIND}", "variable"),
        pytest.param("${BIND:-127.0.0.1}", "variable", id="variable-with-loopback-default"),
        pytest.param("$BIND", "variable", id="unbraced-variable"),
        pytest.param("$${BIND}", None, id="escaped-dollar-is-no-variable"),
        ("abc", None),
        ("fe80::1%eth0", None),
        ("1.2.3", None),
    ),
)
def test_exposure_of(host_ip: str | None, expected: str | None) -> None:
    assert exposure_of(host_ip) == expected


# --------------------------------------------------------------------------- the document model


def _doc(text: str, path: str = "c.yaml") -> Document:
    return document.load(source.decode(path, text.encode()))


def _entry(item: str) -> PortEntry:
    return next(_doc(f"services:\n  s:\n    image: x\n    ports:\n      - {item}\n").entries())


@pytest.mark.parametrize(
    ("item", "expected"),
    (
        pytest.param(
            '"${IP}:${P:-80}:80/udp"',
            {
                "mode": "ingress",
                "host_ip": "${IP}",
                "target": 80,
                "published": "${P:-80}",
                "protocol": "udp",
            },
            id="short-variables-kept",
        ),
        pytest.param(
            '"${T}"',
            {"mode": "ingress", "target": "${T}", "protocol": "tcp"},
            id="variable-target-stays-text",
        ),
        pytest.param(
            '"80/${PROTO}"',
            {"mode": "ingress", "target": 80, "protocol": "${PROTO}"},
            id="variable-protocol",
        ),
        pytest.param(
            '"8080:80/UDP"',
            {"mode": "ingress", "target": 80, "published": "8080", "protocol": "udp"},
            id="no-variables-normalised",
        ),
        pytest.param(
            '{target: 80, published: "${P}", x-note: "${N}"}',
            {"target": 80, "published": "${P}", "mode": "ingress", "protocol": "tcp"},
            id="long-variables-kept",
        ),
        pytest.param(
            '{target: 80, host_ip: "${IP:-10.0.0.1}", mode: host}',
            {"target": 80, "host_ip": "${IP:-10.0.0.1}", "mode": "host", "protocol": "tcp"},
            id="long-variable-ip",
        ),
    ),
)
def test_normalize_entry_symbolic(item: str, expected: dict[str, object]) -> None:
    assert normalize_entry(_entry(item), None) == [expected]


@pytest.mark.parametrize(
    ("item", "env", "message"),
    (
        ('"80:80:80:80"', {}, "services.s.ports[0]: invalid IP address: 80:80"),
        (
            '"${P:?set P}:80"',
            {},
            "services.s.ports[0]: required variable P is missing a value: set P",
        ),
        ('"${P"', {}, f"services.s.ports[0]: {INVALID_TEMPLATE}"),
        (
            "{target: 80, host_ip: '${IP}'}",
            {"IP": "abc"},
            "services.s.ports[0]: the host_ip from ${IP} is not an IP address",
        ),
    ),
)
def test_normalize_entry_rejects(item: str, env: dict[str, str] | None, message: str) -> None:
    with pytest.raises(ComposeNetError) as excinfo:
        normalize_entry(_entry(item), env)
    assert (excinfo.value.message, excinfo.value.line, excinfo.value.column) == (message, 5, 9)


@pytest.mark.parametrize(
    ("item", "expected"),
    (
        ('"80:80"', "all-interfaces"),
        ('"${IP:-127.0.0.1}:80:80"', "variable"),
        ("{target: 80, host_ip: 10.1.2.3}", "private"),
        ("{target: 80, host_ip: '${IP}'}", "variable"),
        ('"[::1]:80:80"', "loopback"),
    ),
)
def test_entry_exposure(item: str, expected: str) -> None:
    assert entry_exposure(_entry(item)) == expected


def test_entry_exposure_invalid_ip() -> None:
    with pytest.raises(PortError):
        entry_exposure(_entry("{target: 80, host_ip: abc}"))


MERGED = """\
services:
  a:
    image: x
    ports: ["80:80", "0.0.0.0:80:80", "81:81"]
  b:
    extends: a
    ports: ["82:82"]
  c:
    image: x
"""


def test_document_ports_keeps_every_written_entry() -> None:
    ports = document_ports(_doc(MERGED), {})
    assert {
        name: [(p.service, p.obj.get("host_ip"), p.obj["target"]) for p in v]
        for name, v in ports.items()
    } == {
        "a": [("a", None, 80), ("a", "0.0.0.0", 80), ("a", None, 81)],
        "b": [("b", None, 82)],
    }


def test_compose_ports_merges_and_extends() -> None:
    ports = compose_ports(_doc(MERGED), {})
    assert {
        name: [(p.service, p.obj.get("host_ip"), p.obj["target"], p.entry.position.line) for p in v]
        for name, v in ports.items()
    } == {
        "a": [("a", "0.0.0.0", 80, 4), ("a", None, 81, 4)],
        "b": [("a", "0.0.0.0", 80, 4), ("a", None, 81, 4), ("b", None, 82, 7)],
    }


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    (
        pytest.param(
            "services:\n  a:\n    extends: null\n    ports: ['80']\n",
            {},
            {"a": [80]},
            id="null-extends-ignored",
        ),
        pytest.param(
            "services:\n  a:\n    extends: '${BASE}'\n  b:\n    ports: ['81']\n",
            {"BASE": "b"},
            {"a": [81], "b": [81]},
            id="extends-interpolated",
        ),
        pytest.param(
            "services:\n  a:\n    extends: '${BASE}'\n  b:\n    ports: ['81']\n",
            None,
            None,
            id="extends-variable-unresolved",
        ),
    ),
)
def test_compose_ports_extends_forms(
    text: str,
    env: dict[str, str] | None,
    expected: dict[str, list[int]] | None,
) -> None:
    if expected is None:
        with pytest.raises(ComposeNetError) as excinfo:
            compose_ports(_doc(text), env)
        assert excinfo.value.message == "cannot extend service '${BASE}': it is not defined"
        return
    ports = compose_ports(_doc(text), env)
    assert {name: [p.obj["target"] for p in v] for name, v in ports.items()} == expected


@pytest.mark.parametrize(
    ("text", "env", "message", "where"),
    (
        (
            "services:\n  a:\n    extends: [b]\n",
            {},
            "services.a.extends must be a string or a mapping",
            (3, 14),
        ),
        (
            "services:\n  a:\n    extends: {file: x.yml}\n",
            {},
            "services.a.extends is missing 'service'",
            (3, 14),
        ),
        (
            "services:\n  a:\n    extends: {service: 1}\n",
            {},
            "extends.service must be a string",
            (3, 24),
        ),
        (
            "services:\n  a:\n    extends: '${B:?base}'\n",
            {},
            "required variable B is missing a value: base",
            (3, 14),
        ),
    ),
)
def test_compose_ports_extends_errors(
    text: str,
    env: dict[str, str],
    message: str,
    where: tuple[int, int],
) -> None:
    with pytest.raises(ComposeNetError) as excinfo:
        compose_ports(_doc(text), env)
    err = excinfo.value
    assert (err.message, err.path, (err.line, err.column)) == (message, "c.yaml", where)


def test_compose_ports_reads_other_files_through_the_loader() -> None:
    other = _doc("services:\n  web:\n    image: x\n    ports: ['90:90']\n", path="sub/o.yml")
    seen: list[str] = []

    def loader(path: str, name: str) -> list[Document]:
        seen.append(path)
        return [other]  # the file's YAML documents

    # the named file must exist for the "not found" check: name this very test file
    text = f"services:\n  a:\n    extends: {{service: web, file: {os.path.basename(__file__)}}}\n"
    doc = _doc(text, path=os.path.join(os.path.dirname(__file__), "c.yaml"))
    ports = compose_ports(doc, {}, loader=loader)
    assert ([(p.path, p.obj["target"]) for p in ports["a"]], seen) == (
        [("sub/o.yml", 90)],
        [os.path.join(os.path.dirname(__file__), os.path.basename(__file__))],
    )
