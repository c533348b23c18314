from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import lint, ports, run

RULE = "CN003"


@pytest.mark.parametrize(
    ("entry", "env"),
    (
        pytest.param('"${BIND_IP:-127.0.0.1}:80:80"', {}, id="safe-default"),
        pytest.param('"${BIND_IP:-10.0.0.5}:80:80"', {}, id="private-default"),
        pytest.param('"${BIND_IP:?set BIND_IP}:80:80"', {}, id="required"),
        pytest.param(
            '"${BIND_IP:?set BIND_IP}:80:80"', {"BIND_IP": "10.0.0.5"}, id="required-and-set"
        ),
        pytest.param('"${BIND_IP:-127.0.0.1}:80:80"', {"BIND_IP": "10.0.0.5"}, id="set-to-private"),
        pytest.param('"$$HOME:80:80"', {}, id="escaped-dollar-is-no-variable"),
        pytest.param('"127.0.0.1:${PORT}:80"', {}, id="variable-port-not-ip"),
        pytest.param("{target: 80, host_ip: '${IP:-127.0.0.1}'}", {}, id="long-safe-default"),
        pytest.param(
            "{target: 80, host_ip: '${IP}'}", {}, id="long-empty-is-an-error-not-a-wildcard"
        ),
        pytest.param('"${DB:-127.0.0.1:5432}:5432"', {}, id="variable-holds-ip-and-port"),
    ),
)
def test_noop(tmp_path: Path, entry: str, env: dict[str, str]) -> None:
    assert lint(tmp_path, ports(entry), rule=RULE, env=env) == []


@pytest.mark.parametrize(
    ("entry", "env", "why"),
    (
        pytest.param(
            '"${BIND_IP}:80:80"', {}, "is all interfaces when BIND_IP is unset", id="no-default"
        ),
        pytest.param(
            '"$BIND_IP:80:80"', {}, "is all interfaces when BIND_IP is unset", id="bare-dollar"
        ),
        pytest.param(
            '"${BIND_IP}:80:80"',
            {"BIND_IP": "10.0.0.5"},
            "is all interfaces when BIND_IP is unset",
            id="set-here-but-not-everywhere",
        ),
        pytest.param(
            '"${BIND_IP:-}:80:80"',
            {},
            "is all interfaces when BIND_IP is unset",
            id="empty-default",
        ),
        pytest.param(
            '"${BIND_IP:-0.0.0.0}:80:80"',
            {},
            "is 0.0.0.0, all interfaces when BIND_IP is unset",
            id="wildcard-default",
        ),
        pytest.param(
            '"${BIND_IP:-203.0.113.9}:80:80"',
            {},
            "is the public address 203.0.113.9 when BIND_IP is unset",
            id="public-default",
        ),
        pytest.param(
            '"${BIND_IP-127.0.0.1}:80:80"',
            {},
            "is all interfaces when BIND_IP is set but empty",
            id="dash-default-empty",
        ),
        pytest.param(
            '"${BIND_IP?required}:80:80"',
            {},
            "is all interfaces when BIND_IP is set but empty",
            id="question-only-unset",
        ),
        pytest.param(
            '"${BIND_IP:-127.0.0.1}:80:80"',
            {"BIND_IP": "0.0.0.0"},
            "is all interfaces in this environment (BIND_IP is set in the environment)",
            id="environment-says-wildcard",
        ),
        pytest.param(
            '"${A:-${B}}:80:80"', {}, "is all interfaces when A, B are unset", id="nested"
        ),
        pytest.param(
            "{target: 80, host_ip: '${IP:-0.0.0.0}'}",
            {},
            "is 0.0.0.0, all interfaces when IP is unset",
            id="long-syntax",
        ),
        pytest.param(
            '"${DB:-0.0.0.0:5432}:5432"',
            {},
            "is 0.0.0.0, all interfaces when DB is unset",
            id="variable-holds-wildcard-and-port",
        ),
    ),
)
def test_finding(tmp_path: Path, entry: str, env: dict[str, str], why: str) -> None:
    result = run(tmp_path, {"compose.yaml": ports(entry)}, rule=RULE, env=env)
    assert [(f.line, f.column, f.rule) for f in result.findings] == [(5, 9, "CN003")]
    assert result.findings[0].message.endswith(f", which {why}")


def test_hint_names_the_variable(tmp_path: Path) -> None:
    result = run(tmp_path, {"compose.yaml": ports('"${BIND_IP}:80:80"')}, rule=RULE)
    assert [f.hint for f in result.findings] == [
        "give the variable a safe default (${BIND_IP:-127.0.0.1}) or make it required "
        "(${BIND_IP:?message}), e.g. with `compose-net harden --bind-var BIND_IP`",
    ]


def test_env_file_counts_as_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BIND_IP=0.0.0.0\n", encoding="utf-8")
    assert lint(tmp_path, ports('"${BIND_IP:-127.0.0.1}:80:80"'), rule=RULE) == [(5, 9, "web")]


@pytest.mark.parametrize(
    ("entry", "exposure"),
    (
        pytest.param('"${BIND_IP}:80:80"', "variable", id="written-variable-ip"),
        pytest.param('"${DB:-0.0.0.0:5432}:5432"', "all-interfaces", id="written-without-ip"),
    ),
)
def test_exposure_is_the_ports_commands(tmp_path: Path, entry: str, exposure: str) -> None:
    """As `compose-net ports` names it: from the entry as written."""
    result = run(tmp_path, {"compose.yaml": ports(entry)}, rule=RULE)
    assert [f.exposure for f in result.findings] == [exposure]
