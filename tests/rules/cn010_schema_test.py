from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import lint, ports, run

RULE = "CN010"


@pytest.mark.parametrize(
    ("text", "target"),
    (
        pytest.param(
            ports('"127.0.0.1:80:80"') + "    restart: always\n", "compose", id="valid-compose"
        ),
        pytest.param(
            ports('"80:80"') + "    deploy:\n      replicas: 2\n", "stack", id="valid-stack"
        ),
        pytest.param(ports('"${IP:?set IP}:80:80"'), "compose", id="required-variable-unset"),
    ),
)
def test_noop(tmp_path: Path, text: str, target: str) -> None:
    assert lint(tmp_path, text, rule=RULE, target=target) == []


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    (
        pytest.param(
            ports('"80:80"') + "    restrat: always\n",
            "compose",
            [(6, 5, "services.web.restrat: unknown key 'restrat' (did you mean 'restart'?)")],
            id="unknown-key",
        ),
        pytest.param(
            ports("{target: 80, host_ip: 10.0.0.5}"),
            "stack",
            [(5, 22, None)],
            id="stack-rejects-host-ip",
        ),
    ),
)
def test_finding(
    tmp_path: Path, text: str, target: str, expected: list[tuple[int, int, str | None]]
) -> None:
    result = run(tmp_path, {"compose.yaml": text}, rule=RULE, target=target)
    got = [
        (f.line, f.column, f.message if expected[0][2] is not None else None)
        for f in result.findings
    ]
    assert got == expected


def test_port_error_reported_once_by_invalid_port(tmp_path: Path) -> None:
    """The schema also rejects "99999:80"; only CN009 keeps it."""
    result = run(tmp_path, {"compose.yaml": ports('"99999:80"')}, rule="CN009,CN010")
    assert [(f.line, f.column, f.rule) for f in result.findings] == [(5, 9, "CN009")]
    alone = run(tmp_path, {"compose.yaml": ports('"99999:80"')}, rule=RULE)
    assert [(f.line, f.column, f.rule) for f in alone.findings] == [(5, 9, "CN010")]
