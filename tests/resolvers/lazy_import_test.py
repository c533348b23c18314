"""The docker SDK is imported only on the paths that talk to Docker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

COMPOSE = (
    "services:\n  web:\n    image: nginx\n    x-compose-net: {node: n1}\n    ports: ['80:80']\n"
)
INVENTORY = "nodes:\n  n1: {service: {ipv4: 10.176.0.11}}\n"

#: Runs the CLI in-process, then prints whether any docker SDK module was loaded.
PROGRAM = """
import json, sys
from compose_net.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m == "docker" or m.startswith("docker."))
print(json.dumps([code, loaded]))
"""


@pytest.mark.parametrize(
    ("args", "code", "imported"),
    (
        pytest.param(["ports", "{file}"], 0, False, id="ports"),
        pytest.param(["check", "--no-config", "{file}"], 1, False, id="check"),
        pytest.param(
            ["check", "--no-config", "--inventory", "{inventory}", "{file}"],
            1,
            False,
            id="check-inventory",
        ),
        pytest.param(
            ["harden", "--no-config", "--bind", "10.0.0.5", "--diff", "{file}"],
            1,
            False,
            id="harden-bind",
        ),
        pytest.param(
            ["harden", "--no-config", "--inventory", "{inventory}", "--diff", "{file}"],
            1,
            False,
            id="harden-inventory",
        ),
        pytest.param(["nodes", "--inventory", "{inventory}"], 0, False, id="nodes-inventory"),
        pytest.param(["addr"], 0, False, id="addr"),
        pytest.param(["nodes", "--resolve", "docker"], 2, True, id="nodes-docker"),
        pytest.param(
            ["harden", "--no-config", "--resolve", "docker", "{file}"], 2, True, id="harden-docker"
        ),
    ),
)
def test_docker_sdk_import(tmp_path: Path, args: list[str], code: int, imported: bool) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    inventory = tmp_path / "nodes.yaml"
    inventory.write_text(INVENTORY)
    argv = [a.format(file=compose, inventory=inventory) for a in args]
    # An engine nobody answers at: the docker paths fail after importing the SDK.
    env = {
        "PATH": "/usr/bin:/bin",
        "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock",
        "HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    result, modules = json.loads(proc.stdout.splitlines()[-1])
    assert result == code, proc.stderr
    assert bool(modules) is imported
