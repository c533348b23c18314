"""Does a file look like a swarm stack, and what the stack helpers read from a service."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose_net import document, stack
from compose_net.cli import main
from compose_net.source import Source


def load(text: str, name: str = "compose.yaml") -> document.Document:
    return document.load(Source(name, text, False))


@pytest.mark.parametrize(
    ("name", "text", "signals"),
    [
        pytest.param("compose.yaml", "services:\n  a:\n    image: a\n", [], id="plain-compose"),
        pytest.param(
            "compose.yaml",
            "services:\n  a:\n    image: a\n    deploy:\n      resources: {limits: {cpus: '1'}}\n"
            "      restart_policy: {condition: on-failure}\n",
            [],
            id="deploy-keys-compose-reads",
        ),
        pytest.param(
            "docker-stack.yml", "services:\n  a:\n    image: a\n", [], id="stack-name-alone"
        ),
        pytest.param("full-stack.yml", "services:\n  a:\n    image: a\n", [], id="full-stack"),
        pytest.param(
            "docker-stack.yml",
            "services:\n  a:\n    image: a\n    deploy:\n      replicas: 2\n",
            ["file name 'docker-stack.yml'", "services.a.deploy: replicas"],
            id="stack-name-and-swarm-keys",
        ),
        pytest.param(
            "stack.prod.yaml",
            "services:\n  a:\n    image: a\n    deploy:\n      mode: replicated\n",
            ["file name 'stack.prod.yaml'"],
            id="stack-dot-name-and-deploy-mode",
        ),
        pytest.param(
            "full-stack.yml",
            "services:\n  a:\n    image: a\n    deploy:\n      labels: {tier: web}\n",
            ["file name 'full-stack.yml'"],
            id="stack-name-and-deploy-labels",
        ),
        pytest.param(
            "app-stack.yml",
            "services:\n  a:\n    image: a\nnetworks:\n  back:\n    driver: overlay\n",
            ["file name 'app-stack.yml'"],
            id="stack-name-and-overlay-network",
        ),
        pytest.param(
            "compose.yaml",
            "services:\n  a:\n    image: a\n    deploy:\n      mode: replicated\n"
            "networks:\n  back:\n    driver: overlay\n",
            [],
            id="swarm-only-content-without-the-name",
        ),
        pytest.param(
            "full-stack.yml",
            "services:\n  a:\n    image: a\nnetworks:\n  back:\n    driver: bridge\n",
            [],
            id="stack-name-and-bridge-network",
        ),
        pytest.param(
            "stackoverflow.yml", "services:\n  a:\n    image: a\n", [], id="stack-inside-a-word"
        ),
        pytest.param(
            "compose.yaml",
            "services:\n  a:\n    image: a\n    deploy:\n      mode: global\n"
            "  b:\n    image: b\n    deploy:\n      replicas: 2\n      placement:\n"
            "        constraints: [node.role == worker]\n      update_config: {parallelism: 1}\n",
            [
                "services.a.deploy: mode: global",
                "services.b.deploy: replicas, placement, update_config",
            ],
            id="swarm-deploy-keys",
        ),
    ],
)
def test_signals(name: str, text: str, signals: list[str]) -> None:
    assert stack.signals(load(text, name)) == signals


@pytest.mark.parametrize(
    ("entry", "mode"),
    [
        pytest.param("'80:80'", "ingress", id="short"),
        pytest.param("{target: 80, published: 80}", "ingress", id="long-default"),
        pytest.param("{target: 80, mode: ingress}", "ingress", id="long-ingress"),
        pytest.param("{target: 80, mode: host}", "host", id="long-host"),
    ],
)
def test_publish_mode(entry: str, mode: str) -> None:
    doc = load(f"services:\n  a:\n    image: a\n    ports: [{entry}]\n")
    assert stack.publish_mode(doc.services[0].ports[0]) == mode


@pytest.mark.parametrize(
    ("deploy", "pinned"),
    [
        pytest.param("", False, id="no-deploy"),
        pytest.param("    deploy: {mode: global}\n", False, id="no-placement"),
        pytest.param(
            "    deploy: {placement: {constraints: [node.role == worker]}}\n", False, id="other"
        ),
        pytest.param(
            "    deploy: {placement: {constraints: ['node.labels.compose-net.host-binding == "
            "internal']}}\n",
            True,
            id="pinned",
        ),
        pytest.param(
            "    deploy: {placement: {constraints: [node.labels.compose-net.host-binding==internal,"
            " node.role == worker]}}\n",
            True,
            id="pinned-without-spaces",
        ),
        pytest.param(
            "    deploy: {placement: {constraints: ['node.labels.compose-net.host-binding != "
            "internal']}}\n",
            False,
            id="negated",
        ),
    ],
)
def test_pinned_to_internal_binding(deploy: str, pinned: bool) -> None:
    doc = load(f"services:\n  a:\n    image: a\n{deploy}")
    assert stack.pinned_to_internal_binding(doc.services[0]) is pinned


STACKY = "services:\n  a:\n    image: a\n    ports: ['80:80']\n    deploy:\n      replicas: 2\n"


@pytest.mark.parametrize(
    ("args", "code", "warning"),
    [
        pytest.param(
            ["--target", "compose", "--bind", "10.176.0.5"],
            1,
            'compose.yaml:4:13: warning: CN005 services.a.ports[0] "10.176.0.5:80:80" is published '
            "on every node of the swarm if deployed as a swarm stack, as it looks "
            "(services.a.deploy: replicas): swarm ignores the host IP; not fixed: no host IP "
            "protects a port under docker stack deploy: harden it with --target stack",
            id="compose-target-names-swarm",
        ),
        pytest.param(["--target", "stack"], 0, None, id="stack-target-no-warning"),
        pytest.param(["--bind", "10.176.0.5"], 0, None, id="auto-target-hardens-a-stack"),
    ],
)
def test_harden_warns_about_a_stack_under_the_compose_target(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    warning: str | None,
) -> None:
    (tmp_path / "compose.yaml").write_text(STACKY)
    monkeypatch.chdir(tmp_path)
    assert main(["harden", "--no-config", *args, "compose.yaml"]) == code
    warnings = [line for line in capsys.readouterr().err.splitlines() if ": warning: " in line]
    assert warnings == ([warning] if warning else [])
