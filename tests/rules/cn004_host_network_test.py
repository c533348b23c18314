from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import lint, run

RULE = "CN004"


def service(body: str, extra: str = "") -> str:
    return f"services:\n  app:\n    image: x\n{body}{extra}"


@pytest.mark.parametrize(
    "text",
    (
        pytest.param(service("    network_mode: bridge\n"), id="bridge"),
        pytest.param(service("    network_mode: service:db\n"), id="another-service"),
        pytest.param(service("    network_mode: none\n"), id="none"),
        pytest.param(
            service("    networks: [backend]\n", "networks:\n  backend: {}\n"), id="user-network"
        ),
        pytest.param(
            service("    networks: [hostnet]\n", "networks:\n  hostnet:\n    name: host\n"),
            id="network-named-host-but-not-external",
        ),
        pytest.param(service("    ports: ['10.0.0.5:80:80']\n"), id="ports-only"),
    ),
)
def test_noop(tmp_path: Path, text: str) -> None:
    assert lint(tmp_path, text, rule=RULE) == []


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    (
        pytest.param(
            service("    network_mode: host\n"), {}, [(4, 19, "app")], id="network-mode-host"
        ),
        pytest.param(service('    network_mode: "host"\n'), {}, [(4, 19, "app")], id="quoted"),
        pytest.param(
            service("    network_mode: ${NET:-host}\n"), {}, [(4, 19, "app")], id="variable-default"
        ),
        pytest.param(
            service("    network_mode: $NET\n"),
            {"NET": "host"},
            [(4, 19, "app")],
            id="variable-from-environment",
        ),
        pytest.param(
            service(
                "    networks: [hostnet]\n",
                "networks:\n  hostnet:\n    external: true\n    name: host\n",
            ),
            {},
            [(4, 16, "app")],
            id="stack-host-network-list",
        ),
        pytest.param(
            service(
                "    networks:\n      outside: {}\n",
                "networks:\n  outside:\n    external:\n      name: host\n",
            ),
            {},
            [(5, 7, "app")],
            id="stack-host-network-legacy-external",
        ),
    ),
)
def test_finding(
    tmp_path: Path, text: str, env: dict[str, str], expected: list[tuple[int, int, str]]
) -> None:
    assert lint(tmp_path, text, rule=RULE, env=env) == expected


def test_severity_and_no_exposure_field(tmp_path: Path) -> None:
    result = run(tmp_path, {"compose.yaml": service("    network_mode: host\n")}, rule=RULE)
    assert [(f.severity, f.exposure, f.rule, f.name) for f in result.findings] == [
        ("warning", None, "CN004", "host-network"),
    ]
