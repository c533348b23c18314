from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import ports, positions, run

RULE = "CN005"

SWARMY = (
    "services:\n  web:\n    image: x\n    ports: ['10.0.0.5:80:80', '443:443']\n"
    "    deploy:\n      replicas: 2\n"
)


@pytest.mark.parametrize(
    ("name", "text", "target"),
    (
        pytest.param("compose.yaml", ports('"8080:80"'), "compose", id="plain-compose-file"),
        pytest.param(
            "compose.yaml",
            ports('"8080:80"') + "    deploy:\n      resources: {limits: {cpus: '1'}}\n",
            "compose",
            id="deploy-keys-compose-also-reads",
        ),
        pytest.param(
            "docker-stack.yml",
            "services:\n  web:\n    image: x\n",
            "compose",
            id="stack-without-ports",
        ),
        pytest.param(
            "full-stack.yml", ports('"10.0.0.5:80:80"'), "compose", id="stack-like-name-alone"
        ),
        pytest.param("compose.yaml", ports('"99999:80"'), "stack", id="invalid-entry-is-CN009s"),
    ),
)
def test_noop(tmp_path: Path, name: str, text: str, target: str) -> None:
    assert positions(run(tmp_path, {name: text}, rule=RULE, target=target)) == []


@pytest.mark.parametrize(
    ("name", "text", "target", "expected"),
    (
        pytest.param(
            "compose.yaml",
            ports('"10.0.0.5:80:80"', '"127.0.0.1:81:80"', "{target: 82}"),
            "stack",
            [(5, 9, "web", "error"), (6, 9, "web", "error"), (7, 9, "web", "error")],
            id="stack-target-every-port",
        ),
        pytest.param(
            "compose.yaml",
            ports("{target: 80, published: 80, mode: host}", "{target: 81, published: 81}")
            + "    deploy:\n      placement:\n        constraints:\n"
            + '          - "node.labels.compose-net.host-binding == internal"\n',
            "stack",
            [(5, 9, "web", "note"), (6, 9, "web", "error")],
            id="host-mode-on-prepared-nodes-is-a-note",
        ),
        pytest.param(
            "compose.yaml",
            ports("{target: 80, published: 80, mode: host}"),
            "stack",
            [(5, 9, "web", "error")],
            id="host-mode-anywhere-is-exposed",
        ),
        pytest.param(
            "compose.yaml",
            SWARMY,
            "compose",
            [(4, 13, "web", "warning"), (4, 31, "web", "warning")],
            id="swarm-deploy-keys",
        ),
        pytest.param(
            "docker-stack.yml",
            ports('"10.0.0.5:80:80"') + "    deploy:\n      mode: replicated\n",
            "compose",
            [(5, 9, "web", "warning")],
            id="stack-file-name-and-deploy-mode",
        ),
        pytest.param(
            "compose.yaml",
            ports('"80"') + "    deploy:\n      mode: global\n",
            "compose",
            [(5, 9, "web", "warning")],
            id="global-mode",
        ),
    ),
)
def test_finding(
    tmp_path: Path, name: str, text: str, target: str, expected: list[tuple[int, int, str, str]]
) -> None:
    result = run(tmp_path, {name: text}, rule=RULE, target=target)
    assert [(f.line, f.column, f.service, f.severity) for f in result.findings] == expected


def test_message_names_swarm_and_why(tmp_path: Path) -> None:
    result = run(tmp_path, {"compose.yaml": SWARMY}, rule=RULE, target="compose")
    assert result.findings[0].message == (
        'services.web.ports[0] "10.0.0.5:80:80" is published on every node of the swarm '
        "if deployed as a swarm stack, as it looks (services.web.deploy: replicas): "
        "swarm ignores the host IP"
    )


TWO = (
    "services:\n  api:\n    image: x\n    ports: ['80:80']\n"
    "  traefik:\n    image: x\n    ports: ['443:443']\n    deploy:\n      mode: global\n"
)


@pytest.mark.parametrize(
    ("name", "service", "evidence"),
    (
        pytest.param(
            "compose.yaml", "traefik", "(services.traefik.deploy: mode: global)", id="own-keys"
        ),
        pytest.param(
            "compose.yaml",
            "api",
            "(swarm-only deploy keys of other services in the file)",
            id="another-service-is-file-evidence",
        ),
        pytest.param(
            "docker-stack.yml",
            "api",
            "(the file name 'docker-stack.yml'; swarm-only deploy keys of other services "
            "in the file)",
            id="file-name-is-file-evidence",
        ),
    ),
)
def test_evidence_names_only_the_services_own_keys(
    tmp_path: Path, name: str, service: str, evidence: str
) -> None:
    result = run(tmp_path, {name: TWO}, rule=RULE, target="compose")
    messages = [f.message for f in result.findings if f.service == service]
    assert len(messages) == 1 and evidence in messages[0], messages
    assert "traefik" not in messages[0] or service == "traefik"


@pytest.mark.parametrize(
    ("name", "text", "severity"),
    (
        pytest.param("compose.yaml", SWARMY, "error", id="swarm-keys-make-a-stack"),
        pytest.param("docker-stack.yml", TWO, "error", id="stack-file"),
        pytest.param("compose.yaml", ports('"8080:80"'), None, id="plain-compose-file"),
    ),
)
def test_target_auto_takes_a_stack_looking_file_for_a_stack(
    tmp_path: Path, name: str, text: str, severity: str | None
) -> None:
    result = run(tmp_path, {name: text}, rule=RULE)
    assert {f.severity for f in result.findings} == ({severity} if severity else set())
