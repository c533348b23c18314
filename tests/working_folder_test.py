"""One verdict per file wherever compose-net is run: check, harden and ports give the same
findings, output and exit codes (paths aside) from the project's folder, its parent, ``/``,
through a symlinked path and with the file on standard input (``--stdin-filename``).

Each project has its own ``.compose-net.yaml`` (internal networks, bind, allow, target) and
the folder compose-net is started from has none or a different one: a verdict that read the
working folder's configuration would differ between the rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: the working folder's own configuration, which none of the runs may read
DECOY = "internal-networks: [198.51.100.0/24]\nallow: ['*']\nbind: [192.168.77.7]\ntarget: stack\n"

PROJECTS: dict[str, dict[str, str]] = {
    "internal-networks": {
        ".compose-net.yaml": "internal-networks: [203.0.113.0/24]\nbind: [203.0.113.9]\n",
        "compose.yaml": (
            "services:\n  web:\n    image: x\n    ports:\n"
            '      - "8080:80"\n      - "203.0.113.5:81:81"\n      - "198.51.100.5:82:82"\n'
        ),
    },
    "allow-and-bind": {
        ".compose-net.yaml": "allow: [web]\nbind: [10.0.0.5]\n",
        "compose.yaml": (
            "services:\n  web:\n    image: x\n    ports: ['80:80']\n"
            "  db:\n    image: x\n    ports:\n      - target: 5432\n        published: 5432\n"
        ),
    },
    "env-and-default": {
        ".compose-net.yaml": "bind: [10.0.0.5]\n",
        ".env": "DEBUG_BIND=\n",
        "compose.yaml": (
            'services:\n  web:\n    image: x\n    ports: ["${DEBUG_BIND:-0.0.0.0}:80:80"]\n'
        ),
    },
    "target-stack": {
        ".compose-net.yaml": "target: stack\n",
        "compose.yaml": "services:\n  web:\n    image: x\n    ports: ['80:80']\n",
    },
    "target-compose": {
        ".compose-net.yaml": "target: compose\nbind: [10.0.0.5]\n",
        "compose.yaml": (
            "services:\n  web:\n    image: x\n    ports: ['80:80']\n"
            "    deploy:\n      replicas: 2\n"
        ),
    },
}

COMMANDS: dict[str, tuple[str, ...]] = {
    "check-json": ("check", "--format", "json"),
    "harden-check": ("harden", "--check"),
    "harden-stdout": ("harden", "--stdout"),
    "ports-json": ("ports", "--format", "json"),
}

PLACES = ("project", "parent", "root", "symlink", "stdin")


def _run(args: list[str], cwd: Path, stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def _normal(text: str, shown: str) -> str:
    """The output with the file's name as this run gave it replaced by FILE."""
    out = text.replace(f'"{shown}"', '"FILE"').replace(f"{shown}:", "FILE:")
    return out.replace(f" {shown} ", " FILE ").replace(f" {shown}\n", " FILE\n")


def _at(tmp_path: Path, project: str, place: str, command: tuple[str, ...]) -> tuple[int, str, str]:
    top = tmp_path / "top"
    folder = top / project
    if not folder.exists():
        folder.mkdir(parents=True)
        (top / ".compose-net.yaml").write_text(DECOY)
        for name, text in PROJECTS[project].items():
            (folder / name).write_text(text)
        (tmp_path / f"link-{project}").symlink_to(folder)
    stdin = None
    if place == "project":
        cwd, shown = folder, "compose.yaml"
    elif place == "parent":
        cwd, shown = top, f"{project}/compose.yaml"
    elif place == "root":
        cwd, shown = Path("/"), str(folder / "compose.yaml")
    elif place == "symlink":
        cwd, shown = tmp_path, f"link-{project}/compose.yaml"
    else:
        cwd, shown = top, "-"
        stdin = (folder / "compose.yaml").read_bytes()
    args = [*command, shown]
    if place == "stdin":
        args += ["--stdin-filename", f"{project}/compose.yaml"]
    proc = _run(args, cwd, stdin)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    if command[0] != "harden" or "--stdout" not in command:
        out = _normal(out, shown)
    return proc.returncode, out, _normal(err, shown)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_same_verdict_wherever_it_runs(tmp_path: Path, project: str, command: str) -> None:
    results = {place: _at(tmp_path, project, place, COMMANDS[command]) for place in PLACES}
    first = results["project"]
    assert first[0] in (0, 1), first
    differ = {place: got for place, got in results.items() if got != first}
    assert differ == {}, f"project folder gave {first!r}"


@pytest.mark.parametrize(
    ("project", "expected"),
    [
        # 203.0.113.5 is internal by the project's configuration; 198.51.100.5 is public
        # there (the working folder's configuration would call it internal)
        pytest.param("internal-networks", {"CN001", "CN002"}, id="internal-networks"),
        pytest.param("allow-and-bind", {"CN001"}, id="allow"),
        pytest.param("target-stack", {"CN005"}, id="target-stack"),
        pytest.param("target-compose", {"CN001", "CN005"}, id="target-compose"),
    ],
)
def test_the_projects_configuration_decides(
    tmp_path: Path, project: str, expected: set[str]
) -> None:
    code, out, err = _at(tmp_path, project, "parent", COMMANDS["check-json"])
    assert code == 1, err
    assert {f["rule"] for f in json.loads(out)["findings"]} == expected


def test_harden_binds_to_the_projects_internal_address(tmp_path: Path) -> None:
    """A --bind address inside the file's internal-networks is internal, from anywhere."""
    _at(tmp_path, "internal-networks", "project", COMMANDS["check-json"])  # make the tree
    path = tmp_path / "top" / "internal-networks" / "compose.yaml"
    for cwd in (tmp_path / "top", Path("/"), path.parent):
        proc = _run(["harden", "--bind", "203.0.113.7", "--stdout", str(path)], cwd, None)
        assert proc.returncode in (0, 1), proc.stderr
        assert b'"203.0.113.7:8080:80"' in proc.stdout
    assert os.path.exists(path)


@pytest.mark.parametrize(
    "command",
    [pytest.param(("check",), id="check"), pytest.param(("harden", "--check"), id="harden-check")],
)
def test_options_are_judged_by_the_named_projects_configuration(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """``-f p/compose.yaml`` from the parent: ``--bind 203.0.113.9`` is internal by the
    project's ``internal-networks``, public by the working folder's; check and harden both
    judge the option by the project's (a finding to fix, exit 1), not refuse it (exit 2)."""
    top = tmp_path / "top"
    folder = top / "p"
    folder.mkdir(parents=True)
    (top / ".compose-net.yaml").write_text(DECOY)
    (folder / ".compose-net.yaml").write_text("internal-networks: [203.0.113.0/24]\n")
    (folder / "compose.yaml").write_text("services:\n  web:\n    image: x\n    ports: ['80:80']\n")
    proc = _run([*command, "-f", "p/compose.yaml", "--bind", "203.0.113.9"], top, None)
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert "public address" not in err
