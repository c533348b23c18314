"""Whole Compose projects: several files, overrides, include, extends and env files.

The fixture projects in ``fixtures/projects/`` are each read three ways:

* ``compose-net ports --format json`` (in process) gives, per service, the ports and
  where each is declared (a table below);
* the real ``docker-compose config --format json`` prints the same objects for every
  service (the acceptance: what compose-net reports is what Compose publishes);
* ``compose-net harden`` edits exactly the declaring files' port entries of the ports
  the merged project publishes, after which every exposed port is bound to the
  internal address, as ``compose-net ports`` and ``docker-compose config`` both show.

Then tables of how a project is found (``-f``, ``COMPOSE_FILE`` and its separator, the
default names and override files, parent folders, ``--project-directory``, the ``.env``
files), each checked against docker-compose too, and of projects Compose refuses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from compose_net import project, yamltree
from compose_net.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "projects"
BIND = "10.0.0.5"
#: variables the fixtures and tables use; unset around every test
VARIABLES = ("P", "Q", "HTTPS_PORT", "API_PORT", "METRICS_PORT", "WEB_PORT", "DB_PORT")
COMPOSE_KEYS = ("name", "app_protocol", "mode", "host_ip", "target", "published", "protocol")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("COMPOSE_") or name in VARIABLES:
            monkeypatch.delenv(name)


def _compose_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and k not in VARIABLES
    }
    return {**env, **(extra or {})}


def _compose(
    binary: str, cwd: Path, args: tuple[str, ...], environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *args, "config", "--format", "json"],
        cwd=cwd,
        env=_compose_env(environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _compose_ports(
    binary: str, cwd: Path, args: tuple[str, ...], environ: dict[str, str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    proc = _compose(binary, cwd, args, environ)
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    return {name: s["ports"] for name, s in services.items() if s.get("ports")}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _ports(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], warnings: str = ""
) -> dict[str, Any]:
    code, out, err = _run(capsys, "ports", "--show-values", "--format", "json", *args)
    assert (code, err) == (0, warnings)
    services: dict[str, Any] = json.loads(out)["files"][0]["services"]
    return services


def _objects(services: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [{k: v for k, v in port.items() if k in COMPOSE_KEYS} for port in s["ports"]]
        for name, s in services.items()
    }


def _compact(services: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, s in services.items():
        rows = []
        for p in s["ports"]:
            row = (
                f"{p.get('host_ip', '*')}:{p.get('published', '')}:{p['target']}/{p['protocol']} "
                f"{p['file']}:{p['line']}:{p['column']}"
            )
            if "merges" in p:
                row += " merges " + ", ".join(
                    f"{m['file']}:{m['line']}:{m['column']}" for m in p["merges"]
                )
            rows.append(row)
        out[name] = rows
    return out


# --------------------------------------------------------------------------- fixture projects


@dataclass(frozen=True)
class Fixture:
    name: str
    #: the project options, given to compose-net and docker-compose alike
    args: tuple[str, ...]
    #: service -> "HOST:PUBLISHED:TARGET/PROTOCOL FILE:LINE:COLUMN [merges FILE:LINE:COLUMN]"
    ports: dict[str, list[str]]
    #: file -> the services whose ports harden edits there (every other file is left alone)
    hardened: dict[str, set[str]]
    #: the folder inside the fixture the commands run in
    cwd: str = "."
    harden_args: tuple[str, ...] = ()
    #: options of compose-net's own that docker compose does not take (ports)
    read_args: tuple[str, ...] = ()
    #: "FILE:LINE:COLUMN RULE" of each finding check still reports after harden
    remaining: tuple[str, ...] = ()


FIXTURE_TABLE = (
    pytest.param(
        Fixture(
            "override",
            (),
            {
                "admin": ["*:8082:80/tcp compose.override.yaml:16:13"],
                "cache": ["10.1.2.3:11211:11211/tcp compose.override.yaml:13:9"],
                "local": [
                    "127.0.0.1:5432:5432/tcp compose.yaml:29:13",
                    "*:6432:5432/tcp compose.override.yaml:19:13",
                ],
                "web": [
                    "*:80:80/tcp compose.override.yaml:4:9 merges compose.yaml:6:9",
                    "*:8443:443/tcp compose.yaml:7:9",
                    "*:9000:9000/tcp compose.override.yaml:5:9 merges compose.yaml:8:9",
                    "*:9001:9001/tcp compose.yaml:10:9",
                    "*:5000:5000/tcp compose.override.yaml:7:9 merges compose.yaml:12:9",
                    "*:9001:9001/tcp compose.override.yaml:6:9",
                    "*:8080:8080/tcp compose.override.yaml:8:9",
                ],
            },
            {"compose.yaml": {"web"}, "compose.override.yaml": {"web", "admin", "local"}},
        ),
        id="override",
    ),
    pytest.param(
        Fixture(
            "include",
            (),
            {
                "cache": [
                    "*:26379:26379/tcp cache/conf/base.yaml:4:13",
                    "*:16379:6379/tcp cache/compose.yaml:7:13",
                    "*:6380:6380/tcp cache/compose.prod.yaml:3:13",
                ],
                "db": [
                    "*:5433:5432/tcp db/compose.yaml:6:13",
                    "*:8088:8080/tcp db/compose.yaml:6:38",
                ],
                "db-metrics": ["*:9187:9187/tcp db/metrics.yaml:4:13"],
                "web": ["*:8000:80/tcp compose.yaml:9:13"],
            },
            {
                "compose.yaml": {"web"},
                "db/compose.yaml": {"db"},
                "db/metrics.yaml": {"db-metrics"},
                "cache/compose.yaml": {"cache"},
                "cache/compose.prod.yaml": {"cache"},
                "cache/conf/base.yaml": {"redis-base"},
            },
        ),
        id="include",
    ),
    pytest.param(
        Fixture(
            "extends",
            (),
            {
                "base": [
                    "*:1000:1000/tcp compose.yaml:6:13",
                    "*:1001:1001/tcp compose.override.yaml:3:13",
                ],
                "helper": ["*:4000:4000/tcp compose.override.yaml:8:13"],
                "remote": ["*:5000:5000/tcp lib/services.yaml:4:13"],
                "solo": ["*:3000:3000/tcp compose.yaml:12:23"],
                "tool": ["*:4000:4000/tcp compose.override.yaml:8:13"],
                "web": [
                    "*:1000:1000/tcp compose.yaml:6:13",
                    "*:2000:2000/tcp compose.yaml:9:13",
                ],
            },
            {
                "compose.yaml": {"base", "web", "solo"},
                "compose.override.yaml": {"base", "tool"},
                "lib/services.yaml": {"api"},
            },
            # base and web (which extends it) both publish 1000; tool and helper both 4000
            remaining=("compose.yaml:6:13 CN006", "compose.override.yaml:8:13 CN006"),
        ),
        id="extends",
    ),
    pytest.param(
        Fixture(
            "compose-file",
            (),
            {
                "one": [
                    "*:1100:1000/tcp stack/one.yaml:4:13",
                    "127.0.0.1:2200:2000/tcp stack/two.yaml:3:13",
                ],
                "two": ["*:2200:2001/tcp stack/two.yaml:6:13"],
            },
            {"stack/one.yaml": {"one"}, "stack/two.yaml": {"two"}},
        ),
        id="COMPOSE_FILE-in-dotenv",
    ),
    pytest.param(
        Fixture(
            "files",
            ("-f", "base.yml", "-f", "prod/prod.yml"),
            {
                "api": [
                    "*:3100:3000/tcp base.yml:4:13",
                    "*:9100:9100/tcp prod/prod.yml:3:13",
                ],
                "metrics": [
                    "*:9300:9300/tcp shared/more.yml:4:13",
                    "*:9200:9200/tcp shared/common.yml:6:13",
                ],
            },
            {
                "base.yml": {"api"},
                "prod/prod.yml": {"api"},
                "shared/common.yml": {"exporter"},
                "shared/more.yml": {"base"},
            },
        ),
        id="files",
    ),
    pytest.param(
        Fixture(
            "env",
            ("--env-file", "env/common.env", "--env-file", "env/prod.env", "-f", "compose.yaml"),
            {
                "app": [
                    "*:8100:8000/tcp compose.yaml:5:9",
                    "0.0.0.0:9200:9000/tcp compose.yaml:6:9",
                    "127.0.0.1:7000:7000/tcp compose.yaml:7:9",
                    "*:7100:7100/tcp compose.yaml:8:9",
                ],
            },
            {"compose.yaml": {"app"}},
        ),
        id="env-files",
    ),
    pytest.param(
        Fixture(
            "outside",
            ("-f", "app/compose.yaml"),
            {
                "app": ["*:8000:8000/tcp app/compose.yaml:4:13"],
                "shared": ["*:8443:443/tcp app/../shared/base.yaml:4:13"],
            },
            {"app/compose.yaml": {"app"}, "shared/base.yaml": {"proxy"}},
            harden_args=("--edit-outside",),
            read_args=("--read-outside",),
        ),
        id="extends-outside",
    ),
    pytest.param(
        Fixture(
            "override",
            ("-f", "../compose.yaml", "-f", "../compose.override.yaml"),
            {
                "admin": ["*:8082:80/tcp ../compose.override.yaml:16:13"],
                "cache": ["10.1.2.3:11211:11211/tcp ../compose.override.yaml:13:9"],
                "local": [
                    "127.0.0.1:5432:5432/tcp ../compose.yaml:29:13",
                    "*:6432:5432/tcp ../compose.override.yaml:19:13",
                ],
                "web": [
                    "*:80:80/tcp ../compose.override.yaml:4:9 merges ../compose.yaml:6:9",
                    "*:8443:443/tcp ../compose.yaml:7:9",
                    "*:9000:9000/tcp ../compose.override.yaml:5:9 merges ../compose.yaml:8:9",
                    "*:9001:9001/tcp ../compose.yaml:10:9",
                    "*:5000:5000/tcp ../compose.override.yaml:7:9 merges ../compose.yaml:12:9",
                    "*:9001:9001/tcp ../compose.override.yaml:6:9",
                    "*:8080:8080/tcp ../compose.override.yaml:8:9",
                ],
            },
            {"compose.yaml": {"web"}, "compose.override.yaml": {"web", "admin", "local"}},
            cwd="elsewhere",
        ),
        id="override-from-another-folder",
    ),
)


def _copy(tmp_path: Path, fixture: Fixture) -> Path:
    root = tmp_path / fixture.name
    shutil.copytree(FIXTURES / fixture.name, root)
    (root / fixture.cwd).mkdir(parents=True, exist_ok=True)
    return root


def _texts(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".yaml", ".yml")
    }


def _changed_paths(a: Any, b: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[tuple[Any, ...]] = []
        for key in list(a) + [k for k in b if k not in a]:
            out.extend(_changed_paths(a.get(key), b.get(key), (*where, key)))
        return out
    return [] if a == b else [where]


def _edited_services(before: bytes, after: bytes, path: str) -> set[str]:
    """The services whose ports differ; fails when anything but a ports list differs."""
    old = yamltree.to_plain(yamltree.compose(before.decode(), path))
    new = yamltree.to_plain(yamltree.compose(after.decode(), path))
    changed = _changed_paths(old, new)
    assert all(len(p) >= 3 and p[0] == "services" and p[2] == "ports" for p in changed), changed
    return {str(p[1]) for p in changed}


def _bound(ports: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """What harden should leave: every port on all interfaces bound to BIND."""
    return {
        name: [
            {**p, "host_ip": BIND} if p.get("host_ip") in (None, "0.0.0.0", "::") else p
            for p in service_ports
        ]
        for name, service_ports in ports.items()
    }


@pytest.mark.parametrize("fixture", FIXTURE_TABLE)
def test_ports(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fixture: Fixture,
) -> None:
    monkeypatch.chdir(_copy(tmp_path, fixture) / fixture.cwd)
    assert _compact(_ports(capsys, (*fixture.read_args, *fixture.args))) == fixture.ports


@pytest.mark.parametrize("fixture", FIXTURE_TABLE)
def test_ports_equal_compose(
    compose_bin: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fixture: Fixture,
) -> None:
    cwd = _copy(tmp_path, fixture) / fixture.cwd
    monkeypatch.chdir(cwd)
    ours = _ports(capsys, (*fixture.read_args, *fixture.args))
    assert _objects(ours) == _compose_ports(compose_bin, cwd, fixture.args)


def _harden(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fixture: Fixture,
) -> tuple[Path, dict[str, Any], dict[str, bytes], dict[str, bytes]]:
    root = _copy(tmp_path, fixture)
    monkeypatch.chdir(root / fixture.cwd)
    before_ports = _ports(capsys, (*fixture.read_args, *fixture.args))
    before = _texts(root)
    code, _, err = _run(capsys, "harden", "-q", "--bind", BIND, *fixture.harden_args, *fixture.args)
    # harden exits 0 exactly when check passes on what it leaves; what remains is named
    checked, out, _ = _run(
        capsys, "check", "--format", "json", *fixture.read_args, *fixture.args
    )
    assert code == checked == (1 if fixture.remaining else 0), err
    remaining = sorted(f"{f['path']}:{f['line']}:{f['column']} {f['rule']}"
                       for f in json.loads(out)["findings"])
    assert remaining == sorted(fixture.remaining)
    for where in fixture.remaining:
        assert where.split(" ")[0] in err
    return root, before_ports, before, _texts(root)


@pytest.mark.parametrize("fixture", FIXTURE_TABLE)
def test_harden_edits_the_declaring_entries(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fixture: Fixture,
) -> None:
    _, before_ports, before, after = _harden(tmp_path, monkeypatch, capsys, fixture)
    edited = {
        path: _edited_services(before[path], after[path], path)
        for path in before
        if before[path] != after[path]
    }
    assert edited == fixture.hardened
    after_ports = _ports(capsys, (*fixture.read_args, *fixture.args))
    assert _objects(after_ports) == _bound(_objects(before_ports))
    code, _, _ = _run(
        capsys, "harden", "--check", "--bind", BIND, *fixture.harden_args, *fixture.args
    )
    assert code == (1 if fixture.remaining else 0)


@pytest.mark.parametrize("fixture", FIXTURE_TABLE)
def test_harden_then_compose(
    compose_bin: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fixture: Fixture,
) -> None:
    root = _copy(tmp_path, fixture)
    before = _compose_ports(compose_bin, root / fixture.cwd, fixture.args)
    root, _, _, _ = _harden(tmp_path / "hardened", monkeypatch, capsys, fixture)
    assert _compose_ports(compose_bin, root / fixture.cwd, fixture.args) == _bound(before)


# --------------------------------------------------------------------------- harden's refusals


@pytest.mark.parametrize(
    ("args", "message"),
    (
        pytest.param(
            ("harden", "--bind", BIND),
            "app/compose.yaml:7:13: app/../shared/base.yaml is outside the project directory "
            "and is not read: name it with -f, or pass --read-outside (harden: --edit-outside)\n",
            id="harden-does-not-read-it",
        ),
        pytest.param(
            ("harden", "--read-outside", "--bind", BIND),
            "app/../shared/base.yaml:4:13: this file is outside the project directory app: "
            "pass --edit-outside to harden it too; nothing was written\n",
            id="harden-reads-it-but-does-not-edit-it",
        ),
        pytest.param(
            ("ports",),
            "app/compose.yaml:7:13: app/../shared/base.yaml is outside the project directory "
            "and is not read: name it with -f, or pass --read-outside (harden: --edit-outside)\n",
            id="ports-does-not-read-it",
        ),
        pytest.param(
            ("check", "--format", "json"),
            "app/compose.yaml:7:13: app/../shared/base.yaml is outside the project directory "
            "and is not read: name it with -f, or pass --read-outside (harden: --edit-outside)\n",
            id="check-does-not-read-it",
        ),
    ),
)
def test_outside_the_project_directory_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    fixture = Fixture("outside", ("-f", "app/compose.yaml"), {}, {})
    root = _copy(tmp_path, fixture)
    monkeypatch.chdir(root)
    before = _texts(root)
    code, _, err = _run(capsys, *args, "-f", "app/compose.yaml")
    assert (code, err, _texts(root)) == (2, "compose-net: error: " + message, before)


@pytest.mark.parametrize(
    ("args", "message"),
    (
        pytest.param(
            ("harden", "--bind", BIND, "compose.yaml", "-f", "compose.yaml"),
            "compose-net: error: name files as arguments (each on its own) or with -f "
            "(one project), not both\n",
            id="arguments-and-f",
        ),
        pytest.param(
            ("ports", "compose.yaml", "--project-directory", "."),
            "compose-net: error: name files as arguments (each on its own) or with -f "
            "(one project), not both\n",
            id="arguments-and-project-directory",
        ),
        pytest.param(
            ("harden", "--bind", BIND, "--stdout"),
            "compose-net: error: -o/--output and --stdout take one file, not a project "
            "(--diff shows changes)\n",
            id="stdout-with-project",
        ),
        pytest.param(
            ("harden", "--target", "stack", "-f", "compose.yaml"),
            "compose-net: error: --target stack hardens files one by one: name them as arguments\n",
            id="stack-with-f",
        ),
    ),
)
def test_usage_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    root = _copy(tmp_path, Fixture("override", (), {}, {}))
    monkeypatch.chdir(root)
    before = _texts(root)
    assert (*_run(capsys, *args)[::2], _texts(root)) == (2, message, before)


# --------------------------------------------------------------------------- check and validate


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    (
        pytest.param(
            "override",
            (),
            [
                "compose.yaml:6:9",
                "compose.yaml:7:9",
                "compose.yaml:8:9",
                "compose.yaml:10:9",
                "compose.yaml:12:9",
                "compose.override.yaml:4:9",
                "compose.override.yaml:5:9",
                "compose.override.yaml:6:9",
                "compose.override.yaml:7:9",
                "compose.override.yaml:8:9",
                "compose.override.yaml:16:13",
                "compose.override.yaml:19:13",
            ],
            id="override",
        ),
        pytest.param(
            "extends",
            (),
            [
                "compose.yaml:6:13",
                "compose.yaml:6:13",
                "compose.yaml:9:13",
                "compose.yaml:12:23",
                "lib/services.yaml:4:13",
                "compose.override.yaml:3:13",
                "compose.override.yaml:8:13",
                "compose.override.yaml:8:13",
            ],
            id="extends",
        ),
        pytest.param(
            "files",
            ("-f", "base.yml", "-f", "prod/prod.yml"),
            [
                "base.yml:4:13",
                "prod/prod.yml:3:13",
                "shared/common.yml:6:13",
                "shared/more.yml:4:13",
            ],
            id="files",
        ),
    ),
)
def test_check_reports_what_the_project_publishes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    args: tuple[str, ...],
    expected: list[str],
) -> None:
    monkeypatch.chdir(_copy(tmp_path, Fixture(name, args, {}, {})))
    code, out, _ = _run(capsys, "check", "--format", "json", "--select", "CN001", *args)
    findings = json.loads(out)["findings"]
    assert (code, [f"{f['path']}:{f['line']}:{f['column']}" for f in findings]) == (1, expected)


#: the files ``validate`` reads in each project, each said valid on a line of its own
VALID: dict[str, list[str]] = {
    "override": ["compose.yaml", "compose.override.yaml"],
    "include": [
        "compose.yaml",
        "db/compose.yaml",
        "db/metrics.yaml",
        "cache/compose.yaml",
        "cache/compose.prod.yaml",
    ],
    "files": ["base.yml", "prod/prod.yml"],
}


@pytest.mark.parametrize(
    ("name", "args"),
    (
        pytest.param("override", (), id="override"),
        pytest.param("include", (), id="include"),
        pytest.param("files", ("-f", "base.yml", "-f", "prod/prod.yml"), id="files"),
    ),
)
def test_validate_project(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    args: tuple[str, ...],
) -> None:
    root = _copy(tmp_path, Fixture(name, args, {}, {}))
    monkeypatch.chdir(root)
    code, out, err = _run(capsys, "validate", *args)
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"{path}: valid compose file" for path in VALID[name]]
    (root / "broken.yml").write_text("services:\n  x:\n    image: x\n    ports: [{target: no}]\n")
    assert _run(capsys, "validate", *args, "-f", "broken.yml") == (
        2,
        "".join(f"{path}: valid compose file\n" for path in VALID[name] if args),
        "broken.yml:4:22: services.x.ports[0].target: "
        "the target port must be between 1 and 65535\n",
    )


# --------------------------------------------------------------------------- finding the project


def _service_file(name: str) -> str:
    """A file's own service: its name made a service name, publishing ${P} and ${Q}."""
    service = name.replace("/", "-").replace(".", "-").strip("-")
    return f'services:\n  {service}:\n    image: x\n    ports: ["${{P:-0}}:80", "${{Q:-0}}:81"]\n'


@dataclass(frozen=True)
class Layout:
    #: compose files, each defining its own service
    files: tuple[str, ...]
    #: other files (.env files): path -> text
    extra: dict[str, str]
    #: (files, project directory, P, Q) as compose-net settles them
    expected: tuple[tuple[str, ...], str, str, str]
    args: tuple[str, ...] = ()
    environ: dict[str, str] = field(default_factory=dict)
    cwd: str = "."
    #: what compose-net says on standard error
    warnings: str = ""


LAYOUTS = (
    pytest.param(
        Layout(("compose.yaml",), {".env": "P=1\n"}, (("compose.yaml",), ".", "1", "0")),
        id="compose.yaml",
    ),
    pytest.param(
        Layout(
            ("compose.yaml", "compose.override.yaml"),
            {},
            (("compose.yaml", "compose.override.yaml"), ".", "0", "0"),
        ),
        id="override",
    ),
    pytest.param(
        Layout(
            ("compose.yml", "docker-compose.yml"),
            {},
            (("compose.yml",), ".", "0", "0"),
            warnings="compose.yml: warning: several Compose files (compose.yml, "
            "docker-compose.yml); using this one\n",
        ),
        id="compose-before-docker-compose",
    ),
    pytest.param(
        Layout(
            ("docker-compose.yaml", "docker-compose.yml"),
            {},
            (("docker-compose.yml",), ".", "0", "0"),
            warnings="docker-compose.yml: warning: several Compose files (docker-compose.yml, "
            "docker-compose.yaml); using this one\n",
        ),
        id="docker-compose-yml-before-yaml",
    ),
    pytest.param(
        Layout(
            ("compose.yaml", "compose.override.yaml", "compose.override.yml"),
            {},
            (("compose.yaml", "compose.override.yml"), ".", "0", "0"),
            warnings="compose.override.yml: warning: several override files "
            "(compose.override.yml, compose.override.yaml); using this one\n",
        ),
        id="override-yml-before-yaml",
    ),
    pytest.param(
        Layout(
            ("docker-compose.yaml", "compose.override.yaml"),
            {},
            (("docker-compose.yaml", "compose.override.yaml"), ".", "0", "0"),
        ),
        id="override-of-any-name",
    ),
    pytest.param(
        Layout(
            ("compose.yaml", "compose.override.yaml"),
            {".env": "P=1\nQ=1\n", "sub/.env": "P=2\n"},
            (("../compose.yaml", "../compose.override.yaml"), "..", "2", "1"),
            cwd="sub",
        ),
        id="parent-folder-both-dotenvs",
    ),
    pytest.param(
        Layout(
            ("a.yml", "b.yml", "compose.yaml"),
            {},
            (("a.yml", "b.yml"), ".", "0", "0"),
            environ={"COMPOSE_FILE": f"a.yml{os.pathsep}b.yml"},
        ),
        id="COMPOSE_FILE",
    ),
    pytest.param(
        Layout(
            ("a.yml", "b.yml"),
            {},
            (("a.yml", "b.yml"), ".", "0", "0"),
            environ={"COMPOSE_FILE": "a.yml,b.yml", "COMPOSE_PATH_SEPARATOR": ","},
        ),
        id="COMPOSE_PATH_SEPARATOR",
    ),
    pytest.param(
        Layout(
            ("app/compose.yaml",),
            {".env": "COMPOSE_FILE=app/compose.yaml\nP=1\n", "app/.env": "P=2\nQ=2\n"},
            (("app/compose.yaml",), "app", "1", "2"),
        ),
        id="COMPOSE_FILE-in-dotenv",
    ),
    pytest.param(
        Layout(
            ("a.yml", "b.yml"),
            {},
            (("b.yml",), ".", "0", "0"),
            args=("-f", "b.yml"),
            environ={"COMPOSE_FILE": "a.yml"},
        ),
        id="f-over-COMPOSE_FILE",
    ),
    pytest.param(
        Layout(
            ("app/compose.yaml",),
            {".env": "P=1\n", "app/.env": "Q=2\n"},
            (("app/compose.yaml",), "app", "0", "2"),
            args=("-f", "app/compose.yaml"),
        ),
        id="f-reads-its-folder-dotenv-only",
    ),
    pytest.param(
        Layout(
            ("app/compose.yaml", "app/compose.override.yaml", "compose.yaml"),
            {".env": "P=1\n", "app/.env": "Q=2\n"},
            (("app/compose.yaml", "app/compose.override.yaml"), "app", "0", "2"),
            args=("--project-directory", "app"),
        ),
        id="project-directory",
    ),
    pytest.param(
        Layout(
            ("compose.yaml",),
            {".env": "P=1\n", "a.env": "P=3\nQ=3\n", "b.env": "Q=4\n"},
            (("compose.yaml",), ".", "3", "4"),
            args=("--env-file", "a.env", "--env-file", "b.env"),
        ),
        id="env-files-in-order",
    ),
    pytest.param(
        Layout(
            ("compose.yaml",),
            {".env": "P=1\n"},
            (("compose.yaml",), ".", "0", "0"),
            environ={"COMPOSE_DISABLE_ENV_FILE": "1"},
        ),
        id="COMPOSE_DISABLE_ENV_FILE",
    ),
    pytest.param(
        Layout(
            ("compose.yaml",),
            {".env": "P=1\nQ=1\n"},
            (("compose.yaml",), ".", "9", "1"),
            environ={"P": "9"},
        ),
        id="environment-over-dotenv",
    ),
)


def _layout(tmp_path: Path, layout: Layout) -> Path:
    for name in layout.files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(_service_file(name))
    for name, text in layout.extra.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / layout.cwd).mkdir(parents=True, exist_ok=True)
    return tmp_path / layout.cwd


def _p_and_q(ports: dict[str, list[dict[str, Any]]]) -> tuple[set[str], str, str]:
    first = next(iter(ports.values()))
    published = {p["target"]: p["published"] for p in first}
    return set(ports), published[80], published[81]


def _services(files: tuple[str, ...]) -> set[str]:
    return {n.replace("/", "-").replace(".", "-").strip("-") for n in files}


def _args_split(args: tuple[str, ...]) -> tuple[list[str], str | None, list[str]]:
    files, directory, env_files = [], None, []
    for option, value in zip(args[::2], args[1::2]):
        if option == "-f":
            files.append(value)
        elif option == "--env-file":
            env_files.append(value)
        else:
            directory = value
    return files, directory, env_files


@pytest.mark.parametrize("layout", LAYOUTS)
def test_resolve(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    layout: Layout,
) -> None:
    monkeypatch.chdir(_layout(tmp_path, layout))
    for name, value in layout.environ.items():
        monkeypatch.setenv(name, value)
    ports = _objects(_ports(capsys, layout.args, layout.warnings))
    files, directory, env_files = _args_split(layout.args)
    paths, folder, env = project.resolve(
        files, project_directory=directory, env_files=env_files, environ=layout.environ
    )
    expected_files, expected_dir, p, q = layout.expected
    names = {f.removeprefix("../") for f in expected_files}
    assert (tuple(paths), folder, env.get("P", "0"), env.get("Q", "0"), _p_and_q(ports)) == (
        expected_files,
        expected_dir,
        p,
        q,
        (_services(tuple(names)), p, q),
    )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_resolve_as_compose(compose_bin: str, tmp_path: Path, layout: Layout) -> None:
    cwd = _layout(tmp_path, layout)
    _, _, p, q = layout.expected
    names = {f.removeprefix("../") for f in layout.expected[0]}
    ports = _compose_ports(compose_bin, cwd, layout.args, layout.environ)
    assert _p_and_q(ports) == (_services(tuple(names)), p, q)


# --------------------------------------------------------------------------- refused projects


REFUSED = (
    pytest.param(
        {
            "compose.yaml": "include: [b.yaml]\nservices:\n  a:\n    image: x\n",
            "b.yaml": "include: [compose.yaml]\nservices:\n  b:\n    image: x\n",
        },
        "b.yaml:1:11: include cycle: compose.yaml is already being read",
        id="include-cycle",
    ),
    pytest.param(
        {
            "compose.yaml": "include: [b.yaml]\nservices:\n  s:\n    image: x\n",
            "b.yaml": "services:\n  s:\n    image: y\n",
        },
        "compose.yaml:3:3: services.s conflicts with imported resource",
        id="include-conflict",
    ),
    pytest.param(
        {
            "compose.yaml": "include: [a.yaml, b.yaml]\n",
            "a.yaml": "services:\n  s:\n    image: x\n    ports: ['1:1']\n",
            "b.yaml": "services:\n  s:\n    image: x\n    ports: ['2:2']\n",
        },
        "compose.yaml:1:19: services.s conflicts with imported resource",
        id="includes-disagree",
    ),
    pytest.param(
        {"compose.yaml": "include: [missing.yaml]\nservices:\n  a:\n    image: x\n"},
        "compose.yaml:1:11: include: file missing.yaml not found",
        id="include-missing",
    ),
    pytest.param(
        {
            "compose.yaml": "services:\n  base:\n    image: x\n    ports: ['1:1']\n",
            "compose.override.yaml": "services:\n  web:\n    image: x\n    extends: base\n",
        },
        "compose.override.yaml:4:14: cannot extend service 'base': it is not defined",
        id="extends-resolved-per-file",
    ),
    pytest.param(
        {
            "compose.yaml": "include:\n  - path: a.yaml\n    env_file: nope.env\n",
            "a.yaml": "services:\n  s:\n    image: x\n",
        },
        "compose.yaml:3:15: include: env file nope.env not found",
        id="include-env-file-missing",
    ),
)


@pytest.mark.parametrize(("files", "message"), REFUSED)
def test_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    message: str,
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, "ports") == (2, "", "compose-net: error: " + message + "\n")


@pytest.mark.parametrize(("files", "message"), REFUSED)
def test_refused_by_compose(
    compose_bin: str, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    del message
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert _compose(compose_bin, tmp_path, ()).returncode != 0


def test_no_project_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "ports")
    assert (code, err.startswith("compose-net: error: no configuration file provided")) == (
        2,
        True,
    )


#: small projects: the files, and those harden edits; each compared with docker-compose before
#: and after harden
SMALL = (
    pytest.param(
        {
            "compose.yaml": "services:\n  s:\n    image: x\n    ports: ['1:1', '2:2']\n",
            "compose.override.yaml": "services:\n  s:\n    ports: !reset ['3:3']\n",
        },
        set(),
        id="reset-drops-its-own-items-too",
    ),
    pytest.param(
        {
            "compose.yaml": "services:\n  a:\n    image: x\n    ports: ['1:1']\n"
            "  b:\n    image: x\n    ports: ['2:2']\n",
            "compose.override.yaml": "services:\n  a:\n    ports:\n  b:\n    ports: []\n",
        },
        {"compose.yaml"},
        id="null-and-empty-lists-add-nothing",
    ),
    pytest.param(
        {
            "compose.yaml": "services:\n  c:\n    image: x\n    ports: ['3:3']\n"
            "  d:\n    image: x\n    ports: ['4:4']\n",
            "compose.override.yaml": "services:\n  c: !reset {}\n"
            "  d: !override {image: x, ports: ['5:5']}\n",
        },
        {"compose.override.yaml"},
        id="service-reset-and-override",
    ),
    pytest.param(
        {
            "compose.yaml": "include: [a.yaml, b.yaml]\n",
            "a.yaml": "services:\n  s:\n    image: x\n    ports: ['1:1']\n",
            "b.yaml": "services:\n  s:\n    image: x\n    ports: ['1:1']\n",
        },
        {"a.yaml", "b.yaml"},
        id="two-includes-alike",
    ),
    pytest.param(
        {
            "compose.yaml": "include: [a.yaml]\nservices:\n  s:\n    image: x\n",
            "a.yaml": "services:\n  s:\n    image: x\n",
            "compose.override.yaml": "services:\n  s:\n    ports: ['2:2']\n",
        },
        {"compose.override.yaml"},
        id="include-and-file-alike",
    ),
    pytest.param(
        {
            "compose.yaml": "services:\n  s:\n    image: x\n    ports: ['1:1']\n",
            "compose.override.yaml": "include: [a.yaml]\n",
            "a.yaml": "services:\n  s:\n    ports: ['1:1', '3:3']\n",
        },
        {"compose.yaml", "a.yaml"},
        id="override-includes-more-ports",
    ),
)


@pytest.mark.parametrize(("files", "hardened"), SMALL)
def test_small_projects(
    compose_bin: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    hardened: set[str],
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    before = _compose_ports(compose_bin, tmp_path, ())
    assert _objects(_ports(capsys, ())) == before
    code, _, err = _run(capsys, "harden", "-q", "--bind", BIND)
    # harden exits as check does on what it leaves (CN010 on a null list in an override file,
    # which only Compose's merge accepts, is check's own verdict)
    checked, _, _ = _run(capsys, "check")
    assert code == checked, err
    assert err == "" or code == 1
    changed = {name for name, text in files.items() if (tmp_path / name).read_text() != text}
    assert (changed, _compose_ports(compose_bin, tmp_path, ())) == (hardened, _bound(before))


def test_ports_json_names_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_copy(tmp_path, Fixture("files", (), {}, {})))
    code, out, _ = _run(
        capsys, "ports", "--show-values", "--format", "json", "-f", "base.yml", "-f",
        "prod/prod.yml",
    )
    data = json.loads(out)["files"][0]
    assert (code, data["path"], data["project"]) == (
        0,
        "base.yml",
        {"directory": ".", "files": ["base.yml", "prod/prod.yml"]},
    )


def test_harden_diff_shows_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path, Fixture("override", (), {}, {}))
    monkeypatch.chdir(root)
    before = _texts(root)
    code, out, _ = _run(capsys, "harden", "--diff", "--bind", BIND)
    headers = [line for line in out.splitlines() if line.startswith(("--- ", "+++ "))]
    assert (code, headers, _texts(root)) == (
        1,  # --diff exits 1 when files would change, as --check does
        [
            "--- a/compose.yaml",
            "+++ b/compose.yaml",
            "--- a/compose.override.yaml",
            "+++ b/compose.override.yaml",
        ],
        before,
    )


def test_no_interpolation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_copy(tmp_path, Fixture("override", (), {}, {})))
    code, out, _ = _run(capsys, "ports", "--show-values", "--format", "json", "--no-interpolate")
    web = json.loads(out)["files"][0]["services"]["web"]["ports"]
    assert (code, web[1]["published"]) == (0, "${HTTPS_PORT}")


def test_harden_warns_once_about_several_default_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    exposed = 'services:\n  web:\n    image: x\n    ports: ["8000:80"]\n'
    for name in ("compose.yml", "docker-compose.yml"):
        (tmp_path / name).write_text(exposed)
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, "harden", "-q", "--bind", BIND) == (
        0,
        "",
        "compose.yml: warning: several Compose files (compose.yml, docker-compose.yml); "
        "using this one\n",
    )
    assert [(tmp_path / name).read_text() for name in ("compose.yml", "docker-compose.yml")] == [
        exposed.replace('"8000', f'"{BIND}:8000'),
        exposed,
    ]


# --------------------------------------------------------------------------- ports: null

_WEB = "services:\n  web:\n    image: nginx\n"
_NULL_PORTS = (
    pytest.param(
        {"a.yml": _WEB + "    ports: ['80:80']\n", "b.yml": "services:\n  web:\n    ports:\n"},
        ("-f", "a.yml", "-f", "b.yml"), [], id="override-empty-over-ports",
    ),
    pytest.param(
        {"a.yml": _WEB + "    ports: ['80:80']\n", "b.yml": "services:\n  web:\n    ports: null\n"},
        ("-f", "a.yml", "-f", "b.yml"), [], id="override-null-over-ports",
    ),
    pytest.param(
        {"a.yml": _WEB + "    ports: []\n", "b.yml": "services:\n  web:\n    ports: ~\n"},
        ("-f", "a.yml", "-f", "b.yml"), [], id="override-null-over-empty-list",
    ),
    pytest.param(
        {"a.yml": _WEB + "    ports: ['80:80']\n", "b.yml": "services:\n  web:\n    ports:\n",
         "c.yml": _WEB},
        ("-f", "a.yml", "-f", "b.yml", "-f", "c.yml"), [], id="override-then-another-file",
    ),
    pytest.param(
        {"a.yml": _WEB + "    ports: ['80:80']\n---\nservices:\n  web:\n    ports:\n"},
        ("-f", "a.yml"), [], id="later-document-of-the-file",
    ),
    pytest.param(
        {"a.yml": "services:\n  base:\n    image: nginx\n    ports: ['80:80']\n"
                  "  web:\n    extends: base\n    ports:\n"},
        ("-f", "a.yml"), [], id="over-the-extends-base",
    ),
    pytest.param(
        {"a.yml": _WEB + "    ports:\n"}, ("-f", "a.yml"), ["a.yml:4:5"], id="single-file",
    ),
    pytest.param(
        {"a.yml": _WEB, "b.yml": "services:\n  web:\n    ports:\n"},
        ("-f", "a.yml", "-f", "b.yml"), ["b.yml:3:5"], id="override-over-no-ports",
    ),
    pytest.param(
        {"a.yml": "services:\n  web:\n    ports: null\n", "b.yml": _WEB + "    ports: ['80:80']\n"},
        ("-f", "a.yml", "-f", "b.yml"), ["a.yml:3:12"], id="null-before-the-ports",
    ),
    pytest.param(
        {"a.yml": _WEB, "b.yml": "services:\n  web:\n    ports:\n",
         "c.yml": _WEB + "    ports: ['80:80']\n"},
        ("-f", "a.yml", "-f", "b.yml", "-f", "c.yml"), ["b.yml:3:5"],
        id="null-then-ports-later",
    ),
    pytest.param(
        {"a.yml": "services:\n  base:\n    image: nginx\n  web:\n    extends: base\n    ports:\n"},
        ("-f", "a.yml"), ["a.yml:6:5"], id="over-an-extends-base-without-ports",
    ),
    pytest.param(
        {"a.yml": _WEB + "    ports: ['80:80']\n",
         "b.yml": "services:\n  web: !reset null\n  other:\n    image: x\n",
         "c.yml": "services:\n  web:\n    image: nginx\n    ports:\n"},
        ("-f", "a.yml", "-f", "b.yml", "-f", "c.yml"), ["c.yml:4:5"],
        id="over-a-reset-service",
    ),
)  # fmt: skip


@pytest.mark.parametrize(("files", "args", "invalid"), _NULL_PORTS)
def test_null_ports_as_compose_merges_them(
    compose_bin: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    args: tuple[str, ...],
    invalid: list[str],
) -> None:
    """A ``ports:`` null is valid where Compose's merge drops it (ports come from an
    earlier file or document, or the extends base) and a schema error where it stays:
    check, validate and harden say what ``docker-compose config`` says."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    assert (_compose(compose_bin, tmp_path, args).returncode == 0) == (not invalid)
    code, out, _ = _run(capsys, "check", "--no-config", "--format", "json", "--select", "CN010",
                        *args)  # fmt: skip
    found = [f"{f['path']}:{f['line']}:{f['column']}" for f in json.loads(out)["findings"]]
    assert (code, found) == (1 if invalid else 0, invalid)
    code, _, err = _run(capsys, "validate", *args)
    assert (code, [line.rsplit(": ", 1)[0] for line in err.splitlines()]) == (
        2 if invalid else 0,
        [f"{where}: services.web.ports" for where in invalid],
    )
    code, _, err = _run(capsys, "harden", "--no-config", "--bind", "10.0.0.5", "--diff", *args)
    assert ("CN010" in err, "nothing was written" in err) == (bool(invalid), False)
