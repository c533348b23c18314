from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import lint, ports, run

from compose_net.rules.unquoted_port import yaml11_number

RULE = "CN008"


@pytest.mark.parametrize(
    "text",
    (
        pytest.param(ports('"22:22"', "'8080:80'"), id="quoted"),
        pytest.param(ports("80", "8080"), id="plain-integers"),
        pytest.param(ports("{target: 22, published: 22}"), id="long-syntax"),
        pytest.param('services:\n  web:\n    image: x\n    ports: ["22:22"]\n', id="flow-quoted"),
        pytest.param(ports("|-\n        22:22"), id="block-scalar-is-not-plain"),
    ),
)
def test_noop(tmp_path: Path, text: str) -> None:
    assert lint(tmp_path, text, rule=RULE) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(
            ports("22:22"),
            [(5, 9, "warning", "22:22 is not quoted: YAML 1.1 reads it as the number 1342")],
            id="base-60-int",
        ),
        pytest.param(
            ports("3000:30"),
            [(5, 9, "warning", "3000:30 is not quoted: YAML 1.1 reads it as the number 180030")],
            id="base-60-int-big",
        ),
        pytest.param(
            ports("8080:80"),
            [(5, 9, "note", "8080:80 is not quoted; the Compose specification wants quotes")],
            id="stays-a-string-note",
        ),
        pytest.param(
            ports("127.0.0.1:22:22"),
            [
                (
                    5,
                    9,
                    "note",
                    "127.0.0.1:22:22 is not quoted; the Compose specification wants quotes",
                )
            ],
            id="with-ip",
        ),
        pytest.param(
            "services:\n  web:\n    image: x\n    ports: [22:22]\n",
            [(4, 13, "warning", "22:22 is not quoted: YAML 1.1 reads it as the number 1342")],
            id="flow-plain",
        ),
        pytest.param(
            "x-p: &p\n  - 22:22\nservices:\n  a:\n    image: x\n    ports: *p\n  b:\n    image: x\n"
            "    ports: *p\n",
            [(2, 5, "warning", "22:22 is not quoted: YAML 1.1 reads it as the number 1342")],
            id="anchor-reported-once",
        ),
    ),
)
def test_finding(tmp_path: Path, text: str, expected: list[tuple[int, int, str, str]]) -> None:
    result = run(tmp_path, {"compose.yaml": text}, rule=RULE)
    assert [
        (f.line, f.column, f.severity, f.message.split(" ", 1)[1]) for f in result.findings
    ] == expected


@pytest.mark.parametrize(
    ("text", "number"),
    (
        pytest.param("22:22", 1342, id="int"),
        pytest.param("1:1:1", 3661, id="three-parts"),
        pytest.param("-1:30", -90, id="negative"),
        pytest.param("1_0:00", 600, id="underscores"),
        pytest.param("1:30.5", 90.5, id="float"),
        pytest.param("8080:80", None, id="part-over-59"),
        pytest.param("0:22", None, id="leading-zero-int-is-not-base-60"),
        pytest.param("22", None, id="no-colon"),
        pytest.param("22:22/udp", None, id="protocol-suffix"),
    ),
)
def test_yaml11_number(text: str, number: float | None) -> None:
    assert yaml11_number(text) == number
