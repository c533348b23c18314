"""A named base file with an override beside it: the override is not read (as with
``docker compose -f``), and check and harden say so in one line on standard error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASE = 'services:\n  web:\n    image: nginx\n    ports:\n      - "10.0.0.5:8080:80"\n'
OVERRIDE = "services:\n  web:\n    environment: {A: b}\n"


def note(base: str, override: str) -> str:
    return (
        f"{base}: note: {override} was not read (a named file is read alone, as `docker "
        f"compose -f` does): run without FILE arguments, or with -f {base} -f {override}, to "
        "include it"
    )


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        pytest.param(["compose.yaml", "compose.override.yaml"], ["check", "compose.yaml"],
                     [note("compose.yaml", "compose.override.yaml")], id="check-file"),
        pytest.param(["compose.yaml", "compose.override.yaml"],
                     ["check", "--format", "json", "compose.yaml"],
                     [note("compose.yaml", "compose.override.yaml")], id="check-json"),
        pytest.param(["compose.yaml", "compose.override.yaml"],
                     ["check", "--format", "sarif", "compose.yaml"],
                     [note("compose.yaml", "compose.override.yaml")], id="check-sarif"),
        pytest.param(["compose.yaml", "compose.override.yaml"], ["check", "-f", "compose.yaml"],
                     [note("compose.yaml", "compose.override.yaml")], id="check-f"),
        pytest.param(["docker-compose.yml", "docker-compose.override.yml"],
                     ["check", "docker-compose.yml"],
                     [note("docker-compose.yml", "docker-compose.override.yml")],
                     id="docker-compose"),
        pytest.param(["deploy/compose.yaml", "deploy/compose.override.yaml"],
                     ["check", "deploy/compose.yaml"],
                     [note("deploy/compose.yaml", "deploy/compose.override.yaml")],
                     id="in-a-folder"),
        pytest.param(["compose.yaml", "compose.override.yaml"],
                     ["harden", "--bind", "10.0.0.5", "compose.yaml"],
                     [note("compose.yaml", "compose.override.yaml")], id="harden"),
        pytest.param(["compose.yaml", "compose.override.yaml"],
                     ["check", "compose.yaml", "compose.override.yaml"], [], id="both-named"),
        pytest.param(["compose.yaml", "compose.override.yaml"],
                     ["check", "-f", "compose.yaml", "-f", "compose.override.yaml"], [],
                     id="both-with-f"),
        pytest.param(["compose.yaml", "compose.override.yaml"], ["check"], [], id="project"),
        pytest.param(["compose.yaml"], ["check", "compose.yaml"], [], id="no-override"),
        pytest.param(["app.yaml", "compose.override.yaml"], ["check", "app.yaml"], [],
                     id="not-a-base-name"),
        pytest.param(["compose.yaml", "compose.override.yaml"], ["check", "-q", "compose.yaml"],
                     [], id="quiet"),
    ],
)
def test_override_note(tmp_path: Path, files: list[str], args: list[str],
                       expected: list[str]) -> None:
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(OVERRIDE if "override" in name else BASE, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("COMPOSE_FILE", None)
    r = subprocess.run([sys.executable, "-m", "compose_net", *args], cwd=tmp_path,
                       capture_output=True, text=True, env=env, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "was not read" in line] == expected
    assert "was not read" not in r.stdout
    if "--format" in args:
        json.loads(r.stdout)  # the report stays a report
