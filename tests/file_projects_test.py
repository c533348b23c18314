"""A FILE argument is a project of its own, and a file may hold several YAML documents.

Each row is a small tree of files and the FILE arguments given to compose-net, checked
against the real Compose binary:

* before: ``check FILE`` fails (exit 1) and ``ports FILE`` lists exactly what
  ``docker-compose -f FILE config`` publishes;
* ``harden --bind 10.0.0.5 FILE`` exits 0, and ``docker-compose config`` of the result
  shows every port that was on all interfaces bound to 10.0.0.5 and nothing else changed;
* each entry named in the row was edited in the file that declares it (an entry a later
  document replaces included), and files the row does not name are left alone;
* a second ``harden`` changes nothing, and ``check FILE`` passes on the result.

Ports that reach a FILE through ``extends: {file: ...}`` and ``include:`` (sibling folders,
an included project with its own ``project_directory`` and ``env_file``), and files of
several documents (``!override``, ``!reset``, CRLF, a BOM) are the rows.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compose_net.cli import main

BIND = "10.0.0.5"


@dataclass(frozen=True)
class Case:
    #: relative path -> content
    files: dict[str, bytes]
    #: the FILE arguments
    args: tuple[str, ...]
    #: relative path -> what it holds after harden (each entry bound where it is written)
    bound: dict[str, tuple[bytes, ...]]
    harden_args: tuple[str, ...] = ()
    read_args: tuple[str, ...] = ()


def _text(*lines: str, newline: str = "\n", bom: bool = False) -> bytes:
    return ("\ufeff" if bom else "").encode() + (newline.join(lines) + newline).encode()


CASES = (
    pytest.param(
        Case(
            {
                "compose.yaml": _text(
                    "services:",
                    "  web:",
                    "    image: nginx",
                    "    extends: {file: lib/base.yaml, service: base}",
                ),
                "lib/base.yaml": _text(
                    "services:", "  base:", "    image: busybox", '    ports: ["8080:8080"]'
                ),
            },
            ("compose.yaml",),
            {"lib/base.yaml": (b'"10.0.0.5:8080:8080"',)},
        ),
        id="extends-file-in-a-subfolder",
    ),
    pytest.param(
        Case(
            {
                "app/compose.yaml": _text(
                    "include:",
                    "  - ../db/compose.yaml",
                    "services:",
                    "  web:",
                    "    image: nginx",
                    "    extends: {file: ../lib/base.yaml, service: base}",
                ),
                "lib/base.yaml": _text(
                    "services:", "  base:", "    image: busybox", "    ports:", "      - 9000"
                ),
                "db/compose.yaml": _text(
                    "services:", "  db:", "    image: postgres", "    ports: ['5432:5432']"
                ),
            },
            ("app/compose.yaml",),
            {
                "lib/base.yaml": (b'- "10.0.0.5::9000"',),
                "db/compose.yaml": (b"'10.0.0.5:5432:5432'",),
            },
            harden_args=("--edit-outside",),
            read_args=("--read-outside",),
        ),
        id="include-and-extends-in-sibling-folders",
    ),
    pytest.param(
        Case(
            {
                "compose.yaml": _text(
                    "include:",
                    "  - path: db/compose.yaml",
                    "    project_directory: db",
                    "    env_file: db/db.env",
                    "services:",
                    "  web:",
                    "    image: nginx",
                    "    ports:",
                    "      - target: 80",
                    "        published: 8000",
                ),
                "db/compose.yaml": _text(
                    "services:",
                    "  db:",
                    "    image: postgres",
                    '    ports: ["${DB_PORT}:5432", "127.0.0.1:6432:6432"]',
                ),
                "db/db.env": _text("DB_PORT=15432"),
            },
            ("compose.yaml",),
            {
                "compose.yaml": (b"        host_ip: 10.0.0.5\n",),
                "db/compose.yaml": (b'"10.0.0.5:${DB_PORT}:5432", "127.0.0.1:6432:6432"',),
            },
        ),
        id="include-with-its-own-project-directory-and-env-file",
    ),
    pytest.param(
        Case(
            {
                "a/compose.yaml": _text(
                    "include: [../shared/cache.yaml]",
                    "services:",
                    "  a:",
                    "    image: nginx",
                    "    ports: ['8001:80']",
                ),
                "b/compose.yaml": _text(
                    "include: [../shared/cache.yaml]",
                    "services:",
                    "  b:",
                    "    image: nginx",
                    "    ports: ['8002:80']",
                ),
                "shared/cache.yaml": _text(
                    "services:", "  cache:", "    image: redis", "    ports: ['6379:6379']"
                ),
            },
            ("a/compose.yaml", "b/compose.yaml"),
            {
                "a/compose.yaml": (b"'10.0.0.5:8001:80'",),
                "b/compose.yaml": (b"'10.0.0.5:8002:80'",),
                "shared/cache.yaml": (b"'10.0.0.5:6379:6379'",),
            },
            harden_args=("--edit-outside",),
            read_args=("--read-outside",),
        ),
        id="two-files-include-one-file",
    ),
    pytest.param(
        Case(
            {
                "compose.yaml": _text(
                    "services:",
                    "  web:",
                    "    image: nginx",
                    '    ports: ["8080:80", "127.0.0.1:8081:81"]',
                    "---",
                    "services:",
                    "  web:",
                    '    ports: !override ["9090:80"]',
                    "  db:",
                    "    image: postgres",
                    "    ports:",
                    "      - 5432:5432",
                    "---",
                    "services:",
                    "  db:",
                    '    ports: ["5432:5432", "6000"]',
                ),
            },
            ("compose.yaml",),
            {
                "compose.yaml": (
                    b'ports: ["10.0.0.5:8080:80", "127.0.0.1:8081:81"]',
                    b'ports: !override ["10.0.0.5:9090:80"]',
                    b'      - "10.0.0.5:5432:5432"',
                    b'ports: ["10.0.0.5:5432:5432", "10.0.0.5::6000"]',
                ),
            },
        ),
        id="documents-override-and-append",
    ),
    pytest.param(
        Case(
            {
                "compose.yaml": _text(
                    "services:",
                    "  web:",
                    "    image: nginx",
                    "    ports: ['8080:80']",
                    "  api:",
                    "    image: api",
                    "    ports: ['3000:3000']",
                    "---",
                    "services:",
                    "  web: !reset",
                    "  api:",
                    "    ports: !reset []",
                    "  worker:",
                    "    image: worker",
                    "    ports: ['7000:7000']",
                    newline="\r\n",
                    bom=True,
                ),
            },
            ("compose.yaml",),
            {
                "compose.yaml": (
                    b"ports: ['10.0.0.5:8080:80']\r\n",
                    b"ports: ['10.0.0.5:3000:3000']\r\n",
                    b"ports: ['10.0.0.5:7000:7000']\r\n",
                ),
            },
        ),
        id="documents-reset-crlf-bom",
    ),
    pytest.param(
        Case(
            {
                "compose.yaml": _text(
                    "---",
                    "include: [extra.yaml]",
                    "services:",
                    "  web:",
                    "    image: nginx",
                    "    ports: &p ['8080:80']",
                    "...",
                    "---",
                    "services:",
                    "  web:",
                    "    extends: {file: base.yaml, service: base}",
                ),
                "base.yaml": _text("services:", "  base:", "    ports: ['9100:9100']"),
                "extra.yaml": _text(
                    "services:", "  extra:", "    image: busybox", "    ports: ['7070:7070']"
                ),
            },
            ("compose.yaml",),
            {
                "compose.yaml": (b"ports: &p ['10.0.0.5:8080:80']",),
                "base.yaml": (b"['10.0.0.5:9100:9100']",),
                "extra.yaml": (b"['10.0.0.5:7070:7070']",),
            },
        ),
        id="documents-with-include-and-extends",
    ),
    pytest.param(
        Case(
            {
                "compose.yaml": _text(
                    "services:",
                    "  web:",
                    "    extends: {file: base.yaml, service: base}",
                    "  api:",
                    "    extends: {file: base.yaml, service: api}",
                ),
                "base.yaml": _text(
                    "services:",
                    "  base:",
                    "    image: busybox",
                    '    ports: ["1000:1000"]',
                    "  api:",
                    "    image: api",
                    '    ports: ["3000:3000"]',
                    "---",
                    "services:",
                    "  base:",
                    '    ports: !override ["2000:2000"]',
                    "  api:",
                    '    ports: ["3001:3001"]',
                ),
            },
            ("compose.yaml",),
            {
                "base.yaml": (
                    b'ports: ["10.0.0.5:1000:1000"]',
                    b'ports: ["10.0.0.5:3000:3000"]',
                    b'ports: !override ["10.0.0.5:2000:2000"]',
                    b'ports: ["10.0.0.5:3001:3001"]',
                ),
            },
        ),
        id="extends-a-file-of-documents",
    ),
)


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _texts(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _config(compose_bin: str, root: Path, path: str) -> dict[str, Any]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    proc = subprocess.run(
        [compose_bin, "-f", path, "config", "--format", "json"],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout, proc.stderr
    config: dict[str, Any] = json.loads(proc.stdout)
    return config


def _bound(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration with every port on all interfaces bound to BIND."""
    out = json.loads(json.dumps(config))
    for service in out["services"].values():
        for port in service.get("ports", ()):
            if port.get("host_ip") in (None, "", "0.0.0.0", "::"):
                port["host_ip"] = BIND
    return out


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _ports(capsys: pytest.CaptureFixture[str], case: Case, path: str) -> dict[str, Any]:
    argv = ("ports", "--show-values", "--format", "json", *case.read_args, path)
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    services: dict[str, Any] = json.loads(out)["files"][0]["services"]
    keys = ("mode", "host_ip", "target", "published", "protocol")
    return {
        name: [{k: v for k, v in port.items() if k in keys} for port in data["ports"]]
        for name, data in services.items()
    }


@pytest.mark.parametrize("case", CASES)
def test_harden_a_file_and_what_it_reads(
    compose_bin: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: Case,
) -> None:
    for name in list(os.environ):
        if name.startswith("COMPOSE_"):
            monkeypatch.delenv(name)
    _write(tmp_path, case.files)
    monkeypatch.chdir(tmp_path)
    before = {path: _config(compose_bin, tmp_path, path) for path in case.args}
    for path in case.args:
        published = {
            name: s["ports"] for name, s in before[path]["services"].items() if s.get("ports")
        }
        assert _ports(capsys, case, path) == published
    code, _, err = _run(capsys, "check", *case.read_args, *case.args)
    assert code == 1, err

    code, _, err = _run(capsys, "harden", "-q", "--bind", BIND, *case.harden_args, *case.args)
    assert code == 0, err
    after = _texts(tmp_path)
    for path in case.args:
        assert _config(compose_bin, tmp_path, path) == _bound(before[path])
    for name, content in case.files.items():
        expected = case.bound.get(name)
        if expected is None:
            assert after[name] == content, name
        else:
            for piece in expected:
                assert piece in after[name], (name, piece, after[name])

    code, _, err = _run(capsys, "harden", "--bind", BIND, *case.harden_args, *case.args)
    assert (code, _texts(tmp_path)) == (0, after), err
    code, out, err = _run(capsys, "check", *case.read_args, *case.args)
    assert code == 0, out + err


REFUSED = (
    pytest.param(
        {
            "app/compose.yaml": _text(
                "services:",
                "  web:",
                "    image: nginx",
                "    extends: {file: ../lib/base.yaml, service: base}",
            ),
            "lib/base.yaml": _text("services:", "  base:", "    ports: ['8080:8080']"),
        },
        "../lib/base.yaml is outside the project directory",
        id="extends-outside",
    ),
    pytest.param(
        {
            "app/compose.yaml": _text("include: [../lib/base.yaml]", "services: {}"),
            "lib/base.yaml": _text("services:", "  base:", "    ports: ['8080:8080']"),
        },
        "../lib/base.yaml is outside the project directory",
        id="include-outside",
    ),
)


@pytest.mark.parametrize(("files", "message"), REFUSED)
@pytest.mark.parametrize("command", ("check", "harden", "ports"))
def test_files_outside_the_folder_are_refused_alike(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, bytes],
    message: str,
    command: str,
) -> None:
    _write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    options = ("--bind", BIND) if command == "harden" else ()
    code, _, err = _run(capsys, command, *options, "app/compose.yaml")
    assert (code, _texts(tmp_path)) == (2, files)
    assert message in err
    # one line, at the include: or extends: that names the file
    assert re.match(r"compose-net: error: app/compose.yaml:[0-9]+:[0-9]+: ", err), err
    assert len(err.strip().splitlines()) == (2 if command == "check" else 1), err


@pytest.mark.parametrize(
    ("files", "code", "written", "message"),
    (
        pytest.param(
            {
                "compose.yaml": _text(
                    "services:", "  a:", "    image: x", "    ports: ['80:80']", "---",
                    "services:", "  a:", "    ports: !override ['81:81']",
                ),
            },
            0,
            _text(
                "services:", "  a:", "    image: x", "    ports: ['10.0.0.5:80:80']", "---",
                "services:", "  a:", "    ports: !override ['10.0.0.5:81:81']",
            ),
            "",
            id="documents-of-one-file",
        ),
        pytest.param(
            {
                "compose.yaml": _text("include: [lib/a.yaml]", "services: {}"),
                "lib/a.yaml": _text("services:", "  a:", "    image: x", "    ports: ['80:80']"),
            },
            2,
            None,
            "compose-net: error: compose.yaml: lib/a.yaml would change too: -o/--output, "
            "--stdout and standard input take the changes of one file; harden in place or "
            "with --diff\n",
            id="an-included-file-would-change",
        ),
    ),
)
def test_output_takes_one_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, bytes],
    code: int,
    written: bytes | None,
    message: str,
) -> None:
    _write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    result, _, err = _run(capsys, "harden", "-q", "--bind", BIND, "-o", "out.yaml", "compose.yaml")
    assert (result, err) == (code, message)
    out = tmp_path / "out.yaml"
    assert (out.read_bytes() if out.exists() else None) == written
    assert {name: (tmp_path / name).read_bytes() for name in files} == files
