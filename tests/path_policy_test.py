"""The path policy (compose_net.paths, docs/paths.md): every file compose-net reads or writes,
for a project root, is inside, outside (refused without --read-outside / --edit-outside),
special (refused) or a symlink (judged by its target), each row run as root and as nobody.

Each row sets up a folder ``{d}`` holding ``project/`` (where compose-net runs) and
``outside/`` (files a project must not reach, holding a canary), runs one command, and
checks the exit code, the exact standard error, that no canary reached any output, and
what the files hold afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from harness import bounded, require

from compose_net import cli

CANARY = "Kx9canaryQz"
SHADOW = f"root:{CANARY}:19000:0:99999:7:::\n".encode()
EXPOSED = b'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n'
HARDENED = b'services:\n  web:\n    image: nginx\n    ports:\n      - "10.0.0.5:80:80"\n'
VICTIM = f"export PATH=/usr/bin # {CANARY}\n".encode()
NODES = (
    b"nodes:\n  n1:\n    public: {ipv4: 203.0.113.11}\n    service: {ipv4: 10.0.0.11}\n"
    b"    engine: tcp://10.0.0.11:2376\n"
)
NOBODY = bounded.nobody()
DEFAULT_LIMITS = bounded.Limits()
#: the docker CLI's configuration folder of the user running the tests (root)
DOCKER_DIR = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
SUMMARY = "compose-net: 0 findings in 0 files; 1 file not checked"
FOUND = "compose-net: 1 finding (1 error) in 1 file"
HARDEN = ("harden", "--no-config", "--bind", "10.0.0.5")
ALL = ("root", "nobody")


def _give_tree(d: Path) -> None:
    """Everything root made under ``d`` becomes nobody's (files another uid owns stay)."""
    assert NOBODY is not None
    for path in [d, *d.rglob("*")]:
        if path.lstat().st_uid == 0:
            os.lchown(path, NOBODY.pw_uid, NOBODY.pw_gid)


def _write(d: Path, files: dict[str, bytes | str]) -> None:
    """``name -> bytes`` writes a file, ``name -> "->target"`` makes a symlink, ``name/``
    with ``""`` a folder."""
    for name, data in files.items():
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str) and data.startswith("->"):
            path.symlink_to(data[2:])
        elif name.endswith("/"):
            path.mkdir(exist_ok=True)
        else:
            path.write_bytes(data if isinstance(data, bytes) else data.encode())


# --------------------------------------------------------------------------- setups

INCLUDE_X = b'services:\n  x:\n    image: nginx\n    ports:\n      - "${root}:82"\n'


def include_env(env_file: str, extra: dict[str, bytes | str] | None = None) -> dict[
    str, bytes | str
]:
    return {
        "outside/shadow": SHADOW,
        "project/compose.yml": f"include:\n  - path: x.yml\n    env_file: {env_file}\n",
        "project/x.yml": INCLUDE_X,
        **(extra or {}),
    }


def include_dir(directory: str, extra: dict[str, bytes | str] | None = None) -> dict[
    str, bytes | str
]:
    return {
        "outside/.env": SHADOW,
        "project/compose.yml": f"include:\n  - path: x.yml\n    project_directory: {directory}\n",
        "project/x.yml": INCLUDE_X,
        **(extra or {}),
    }


EXTENDS = "services:\n  web:\n    extends: {{file: {0}, service: web}}\n"
OUTSIDE_BASE = f'services:\n  web:\n    image: "{CANARY}"\n    ports: ["81:81"]\n'.encode()


@dataclass(frozen=True)
class Case:
    #: files to make, relative to {d} ({d} in a name or a value is the folder itself)
    files: dict[str, bytes | str]
    argv: tuple[str, ...]
    code: int
    stderr: str
    #: file -> bytes expected afterwards
    after: dict[str, bytes] = field(default_factory=dict)
    #: file -> whether it exists afterwards
    exists: dict[str, bool] = field(default_factory=dict)
    #: extra preparation (a FIFO, modes, owners)
    prepare: Callable[[Path], None] | None = None
    limits: bounded.Limits = DEFAULT_LIMITS
    #: runs from {d}/<cwd>
    cwd: str = "project"
    users: tuple[str, ...] = ALL


INC = "--read-outside (harden: --edit-outside)"


def fifo(name: str) -> Callable[[Path], None]:
    return lambda d: os.mkfifo(d / name)


def mode(name: str, bits: int) -> Callable[[Path], None]:
    return lambda d: (d / name).chmod(bits)


def owned_by_another(*names: str) -> Callable[[Path], None]:
    def prepare(d: Path) -> None:
        for name in names:
            os.lchown(d / name, 12345, 12345)

    return prepare


READS = [
    pytest.param(
        Case(include_env("{d}/outside/shadow"), ("ports", "compose.yml"), 2,
             "compose-net: error: compose.yml:3:15: include: env file {d}/outside/shadow is "
             f"outside the project directory and is not read: pass {INC}\n"),
        id="include-env-file-absolute",
    ),
    pytest.param(
        Case(include_env("../outside/shadow"), ("check", "--no-config", "compose.yml"), 2,
             "compose-net: error: compose.yml:3:15: include: env file ../outside/shadow is "
             f"outside the project directory and is not read: pass {INC}\n{SUMMARY}\n"),
        id="include-env-file-relative-escape",
    ),
    pytest.param(
        Case(include_env("[a.env, ../outside/shadow]", {"project/a.env": b"A=1\n"}),
             (*HARDEN, "compose.yml"), 2,
             "compose-net: error: compose.yml:3:15: include: env file ../outside/shadow is "
             f"outside the project directory and is not read: pass {INC}\n"),
        id="include-env-file-second-of-a-list",
    ),
    pytest.param(
        Case(include_env("shadow.env", {"project/shadow.env": "->../outside/shadow"}),
             ("ports", "compose.yml"), 2,
             "compose-net: error: compose.yml:3:15: include: env file shadow.env is "
             f"outside the project directory and is not read: pass {INC}\n"),
        id="include-env-file-symlink-outside",
    ),
    pytest.param(
        Case(include_env("${ENVDIR}/shadow", {"project/.env": b"ENVDIR=../outside\n"}),
             ("ports", "compose.yml"), 2,
             "compose-net: error: compose.yml:3:15: include: env file ${{ENVDIR}}/shadow is "
             f"outside the project directory and is not read: pass {INC}\n"),
        id="include-env-file-through-a-variable",
    ),
    pytest.param(
        Case(include_env("../outside/ok.env", {"outside/ok.env": b"root=8082\n"}),
             ("ports", "--read-outside", "compose.yml"), 0, ""),
        id="include-env-file-outside-with-read-outside",
    ),
    pytest.param(
        Case(include_env("ok.env", {"project/ok.env": b"root=8082\n"}),
             ("ports", "compose.yml"), 0, ""),
        id="include-env-file-inside",
    ),
    pytest.param(
        Case(include_dir("{d}/outside"), ("ports", "compose.yml"), 2,
             "compose-net: error: compose.yml:3:24: include: project_directory {d}/outside is "
             f"outside the project directory and is not read: pass {INC}\n"),
        id="include-project-directory-absolute",
    ),
    pytest.param(
        Case(include_dir("../outside"), ("check", "--no-config", "compose.yml"), 2,
             "compose-net: error: compose.yml:3:24: include: project_directory ../outside is "
             f"outside the project directory and is not read: pass {INC}\n{SUMMARY}\n"),
        id="include-project-directory-relative",
    ),
    pytest.param(
        Case(include_dir("sub", {"project/sub": "->../outside"}), ("ports", "compose.yml"), 2,
             "compose-net: error: compose.yml:3:24: include: project_directory sub is "
             f"outside the project directory and is not read: pass {INC}\n"),
        id="include-project-directory-symlink",
    ),
    pytest.param(
        Case({"outside/x.yml": OUTSIDE_BASE,
              "project/compose.yml": "include:\n  - ../outside/x.yml\n"},
             ("ports", "compose.yml"), 2,
             "compose-net: error: compose.yml:2:5: include: ../outside/x.yml is outside the "
             f"project directory and is not read: name it with -f, or pass {INC}\n"),
        id="include-path-outside",
    ),
    pytest.param(
        Case({"outside/base.yml": OUTSIDE_BASE,
              "project/compose.yml": EXTENDS.format("../outside/base.yml")},
             ("ports", "compose.yml"), 2,
             "compose-net: error: compose.yml:3:21: ../outside/base.yml is outside the project "
             f"directory and is not read: name it with -f, or pass {INC}\n"),
        id="extends-file-outside",
    ),
    pytest.param(
        Case({"outside/base.yml": OUTSIDE_BASE, "project/base.yml": "->../outside/base.yml",
              "project/compose.yml": EXTENDS.format("base.yml")},
             (*HARDEN, "compose.yml"), 2,
             "compose-net: error: compose.yml:3:21: base.yml is outside the project directory and "
             f"is not read: name it with -f, or pass {INC}\n"),
        id="extends-file-symlink-outside",
    ),
    pytest.param(
        Case({"outside/c.yml": OUTSIDE_BASE, "project/.env": b"COMPOSE_FILE=../outside/c.yml\n"},
             ("ports",), 2,
             "compose-net: error: COMPOSE_FILE (set in .env) names ../outside/c.yml is outside "
             f"the project directory and is not read: pass {INC}\n"),
        id="compose-file-from-dot-env-outside",
    ),
    pytest.param(
        Case({"outside/c.yml": EXPOSED, "project/.env": b"COMPOSE_FILE=../outside/c.yml\n"},
             ("ports", "--read-outside"), 0, ""),
        id="compose-file-from-dot-env-outside-with-read-outside",
    ),
    pytest.param(
        Case({"outside/shadow": SHADOW, "project/compose.yml": EXPOSED,
              "project/.env": "->../outside/shadow"},
             ("ports", "compose.yml"), 2,
             "compose-net: error: .env: a symlink to {d}/outside/shadow, outside the project "
             "{d}/project: not read; name it with --env-file\n"),
        id="dot-env-symlink-outside",
    ),
    pytest.param(
        Case({"outside/ok.env": b"A=1\n", "project/compose.yml": EXPOSED,
              "project/.env": "->../outside/ok.env"},
             ("ports", "--read-outside", "compose.yml"), 0, ""),
        id="dot-env-symlink-outside-with-read-outside",
    ),
    pytest.param(
        Case({"outside/shadow": SHADOW, "project/compose.yml": EXPOSED,
              "project/prod.env": "->../outside/shadow"},
             ("ports", "--env-file", "prod.env", "compose.yml"), 2,
             "compose-net: error: prod.env: cannot read env file: a symlink to {d}/outside/shadow, "
             "outside the project {d}/project: not read; pass --read-outside\n"),
        id="env-file-option-symlink-outside",
    ),
    pytest.param(
        Case({"outside/ok.env": b"A=1\n", "project/compose.yml": EXPOSED},
             ("ports", "--env-file", "{d}/outside/ok.env", "compose.yml"), 0, ""),
        id="env-file-option-named-anywhere",
    ),
    pytest.param(
        Case({"outside/compose.yml": EXPOSED, "project/compose.yml": EXPOSED,
              "project/deploy": "->../outside"},
             ("ports", "--project-directory", "deploy", "-f", "compose.yml"), 2,
             "compose-net: error: deploy: a symlink to {d}/outside, outside the project "
             "{d}/project: pass --read-outside\n"),
        id="project-directory-option-symlink-outside",
    ),
    pytest.param(
        Case({"outside/compose.yml": EXPOSED, "project/compose.yml": "->../outside/compose.yml"},
             ("validate", "compose.yml"), 2,
             "compose-net: error: compose.yml: a symlink to {d}/outside/compose.yml, outside "
             "the project {d}/project: name the file itself\n"),
        id="file-argument-symlink-outside",
    ),
    pytest.param(
        Case({"outside/nodes.yaml": NODES, "project/.git/": "",
              "project/.compose-net.yaml": b"inventory: ../outside/nodes.yaml\n"},
             ("nodes",), 2,
             "compose-net: error: {d}/project/.compose-net.yaml: inventory: "
             "{d}/outside/nodes.yaml is outside the project {d}/project and is not "
             "read: name it with --inventory\n"),
        id="configured-inventory-outside",
    ),
    pytest.param(
        Case({"outside/nodes.yaml": NODES, "project/.git/": "",
              "project/nodes.yaml": "->../outside/nodes.yaml",
              "project/.compose-net.yaml": b"inventory: nodes.yaml\n",
              "project/compose.yml": EXPOSED},
             ("harden", "compose.yml"), 2,
             "compose-net: error: {d}/project/.compose-net.yaml: inventory: "
             "{d}/project/nodes.yaml is outside the project {d}/project and is not "
             "read: name it with --inventory\n",
             after={"project/compose.yml": EXPOSED}),
        id="configured-inventory-symlink-outside",
    ),
    pytest.param(
        Case({"outside/nodes.yaml": NODES, "project/nodes.yaml": "->../outside/nodes.yaml"},
             ("nodes", "--inventory", "nodes.yaml"), 2,
             "compose-net: error: nodes.yaml: a symlink to {d}/outside/nodes.yaml, outside the "
             "project {d}/project: name the file itself\n"),
        id="inventory-option-symlink-outside",
    ),
    pytest.param(
        Case({"project/nodes.yaml": NODES, "project/.git/": "",
              "project/.compose-net.yaml": b"inventory: nodes.yaml\n"},
             ("nodes", "--format", "json"), 0, ""),
        id="configured-inventory-inside",
    ),
    pytest.param(
        Case({"outside/shadow": SHADOW,
              "project/nodes.yaml": NODES.replace(b"engine: tcp://10.0.0.11:2376",
                                                  b"env-file: ../outside/shadow")},
             ("audit", "--nodes", "--inventory", "nodes.yaml"), 2,
             "compose-net: error: nodes.yaml:5:15: nodes.n1.env-file: {d}/outside/shadow is "
             "outside the inventory's project {d}/project and the docker configuration folder "
             f"{DOCKER_DIR}: not read; move it into one of them\n",
             users=("root",)),
        id="inventory-engine-env-file-outside",
    ),
    pytest.param(
        Case({"outside/shadow": SHADOW, "project/ca.pem": "->../outside/shadow",
              "project/nodes.yaml": NODES + b"    tls: {ca: ca.pem}\n"},
             ("probe", "--nodes", "--inventory", "nodes.yaml"), 2,
             "compose-net: error: nodes.yaml:6:15: nodes.n1.tls.ca: {d}/project/ca.pem: a "
             "symlink to {d}/outside/shadow, outside the project {d}/project: name the file "
             "itself\n"),
        id="inventory-certificate-symlink-outside",
    ),
]

ALLOW_ALL = b'allow: ["*"]\n'
CONFIG = [
    pytest.param(
        Case({"shared/.git/": "", "shared/.compose-net.yaml": ALLOW_ALL,
              "shared/proj/compose.yml": EXPOSED},
             ("check", "compose.yml"), 1, f"{FOUND}\n", cwd="shared/proj",
             prepare=mode("shared", 0o1777)),
        id="planted-marker-and-configuration-in-a-shared-parent",
    ),
    pytest.param(
        Case({"shared/.compose-net.yaml": ALLOW_ALL, "shared/compose.yml": EXPOSED},
             ("check", "compose.yml"), 1,
             "{d}/shared/.compose-net.yaml: warning: configuration not read: in a folder every "
             f"user may write (mode 1777)\n{FOUND}\n", cwd="shared",
             prepare=mode("shared", 0o1777)),
        id="configuration-in-a-folder-everyone-may-write",
    ),
    pytest.param(
        Case({"parent/.git/": "", "parent/.compose-net.yaml": ALLOW_ALL,
              "parent/proj/compose.yml": EXPOSED},
             ("check", "compose.yml"), 1, f"{FOUND}\n", cwd="parent/proj",
             prepare=owned_by_another("parent", "parent/.git", "parent/.compose-net.yaml")),
        id="marker-and-configuration-of-another-user-in-a-parent",
    ),
    pytest.param(
        Case({"repo/.git/": "", "repo/.compose-net.yaml": ALLOW_ALL,
              "repo/proj/compose.yml": EXPOSED, "repo/proj/.git/": ""},
             ("check", "compose.yml"), 1, f"{FOUND}\n", cwd="repo/proj",
             prepare=owned_by_another("repo/.compose-net.yaml")),
        id="configuration-never-above-the-files-own-repository",
    ),
    pytest.param(
        Case({"repo/.git/": "", "repo/.compose-net.yaml": ALLOW_ALL,
              "repo/deploy/compose.yml": EXPOSED},
             ("check", "compose.yml"), 0, "compose-net: 0 findings in 1 file; 1 allowed\n",
             cwd="repo/deploy"),
        id="own-repository-configuration-is-read",
    ),
    pytest.param(
        Case({"repo/.git/": "", "repo/.compose-net.yaml": ALLOW_ALL,
              "repo/deploy/compose.yml": EXPOSED},
             ("check", "compose.yml"), 1,
             "{d}/repo/.compose-net.yaml: warning: configuration not read: owned by another "
             f"user (uid 12345)\n{FOUND}\n", cwd="repo/deploy",
             prepare=owned_by_another("repo/.compose-net.yaml")),
        id="configuration-of-another-user-in-the-repository",
    ),
]

REPORT = ("check", "--no-config", "--format", "json", "-o")
WRITES = [
    pytest.param(
        Case({"victim/profile": VICTIM, "project/compose.yml": EXPOSED,
              "project/report.txt": "->../victim/profile"},
             (*REPORT, "report.txt", "compose.yml"), 2,
             "compose-net: error: report.txt: a symlink: a report is never written through one; "
             "remove it or name another file; nothing was written\n",
             after={"victim/profile": VICTIM}),
        id="report-through-a-symlink",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED, "project/report.txt": "->../victim/new"},
             (*REPORT, "report.txt", "compose.yml"), 2,
             "compose-net: error: report.txt: a symlink: a report is never written through one; "
             "remove it or name another file; nothing was written\n",
             exists={"victim/new": False}),
        id="report-through-a-dangling-symlink",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED, "project/mine.txt": b"old\n",
              "project/report.txt": "->mine.txt"},
             (*REPORT, "report.txt", "compose.yml"), 2,
             "compose-net: error: report.txt: a symlink: a report is never written through one; "
             "remove it or name another file; nothing was written\n",
             after={"project/mine.txt": b"old\n"}),
        id="report-through-a-symlink-inside",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED}, (*REPORT, "report.txt", "compose.yml"), 2,
             "compose-net: error: report.txt: a FIFO, not a regular file; nothing was written\n",
             prepare=fifo("project/report.txt")),
        id="report-into-a-fifo",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED, "project/report.txt/": ""},
             (*REPORT, "report.txt", "compose.yml"), 2,
             "compose-net: error: Invalid value for '-o' / '--output': File 'report.txt' is a "
             "directory. (see compose-net check --help)\n"),
        id="report-into-a-folder",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED}, (*REPORT, "/dev/null", "compose.yml"), 2,
             "compose-net: error: /dev/null: not a regular file: name the file itself, or - for "
             "standard input\n"),
        id="report-into-dev",
    ),
    pytest.param(
        Case({"victim/": "", "project/compose.yml": EXPOSED, "project/out": "->../victim"},
             (*REPORT, "out/report.txt", "compose.yml"), 2,
             "compose-net: error: out/report.txt: goes through a symlinked folder to "
             "{d}/victim/report.txt, outside the project {d}/project: name a file inside it; "
             "nothing was written\n",
             exists={"victim/report.txt": False}),
        id="report-through-a-symlinked-folder-outside",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED, "project/report.txt": b"old report\n"},
             (*REPORT, "report.txt", "compose.yml"), 1, ""),
        id="report-replaced-whole",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED, "project/report.txt": b"old report\n"},
             (*REPORT, "report.txt", "compose.yml"), 2,
             "compose-net: error: report.txt: cannot write: file too large for this "
             "system or its limits\n",
             after={"project/report.txt": b"old report\n"},
             limits=bounded.Limits(file_size=64)),
        id="report-past-the-file-size-limit-leaves-the-old-one",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED}, (*REPORT, "report.txt", "compose.yml"), 2,
             "compose-net: error: report.txt: cannot write: file too large for this "
             "system or its limits\n",
             exists={"project/report.txt": False}, limits=bounded.Limits(file_size=64)),
        id="report-past-the-file-size-limit-leaves-none",
    ),
    pytest.param(
        Case({"victim/profile": VICTIM, "project/compose.yml": EXPOSED,
              "project/out.yml": "->../victim/profile"},
             (*HARDEN, "-o", "out.yml", "compose.yml"), 2,
             "compose-net: error: out.yml: a symlink to {d}/victim/profile, outside the project "
             "{d}/project: pass --edit-outside to rewrite it; nothing was written\n",
             after={"victim/profile": VICTIM, "project/compose.yml": EXPOSED}),
        id="harden-output-through-a-symlink-outside",
    ),
    pytest.param(
        Case({"victim/compose.yml": EXPOSED, "project/compose.yml": "->../victim/compose.yml"},
             (*HARDEN, "compose.yml"), 2,
             "compose-net: error: compose.yml: a symlink to {d}/victim/compose.yml, outside the "
             "project {d}/project: name the file itself\n",
             after={"victim/compose.yml": EXPOSED}),
        id="harden-file-symlink-outside",
    ),
    pytest.param(
        Case({"project/compose.yml": EXPOSED}, (*HARDEN, "-o", "out.yml", "compose.yml"), 2,
             "compose-net: error: out.yml: a FIFO, not a regular file\n",
             prepare=fifo("project/out.yml"), after={"project/compose.yml": EXPOSED}),
        id="harden-output-into-a-fifo",
    ),
]

ODD = "--output=x-stack.yml"
DASHES = [
    pytest.param(
        Case({f"project/{ODD}": EXPOSED}, ("check", "--no-config", "--", ODD), 1, f"{FOUND}\n",
             exists={"project/x-stack.yml": False}),
        id="check",
    ),
    pytest.param(
        Case({f"project/{ODD}": EXPOSED}, (*HARDEN, "-q", "--", ODD), 0, "",
             after={f"project/{ODD}": HARDENED}, exists={"project/x-stack.yml": False}),
        id="harden",
    ),
    pytest.param(
        Case({"project/-f": EXPOSED}, ("ports", "--", "-f"), 0, ""), id="ports",
    ),
    pytest.param(
        Case({"project/--help": EXPOSED}, ("validate", "--", "--help"), 0, ""), id="validate",
    ),
]


def _run(case: Case, d: Path, user: tuple[str, str] | None) -> subprocess.CompletedProcess[bytes]:
    files = {k.replace("{d}", str(d)): (v.replace("{d}", str(d)) if isinstance(v, str) else v)
             for k, v in case.files.items()}
    _write(d, files)
    (d / case.cwd).mkdir(parents=True, exist_ok=True)
    if user is not None:
        _give_tree(d)
    if case.prepare is not None:
        case.prepare(d)
    argv = tuple(a.replace("{d}", str(d)) for a in case.argv)
    return bounded.run(argv, cwd=d / case.cwd, limits=case.limits, user=user)


def _check(case: Case, d: Path, proc: subprocess.CompletedProcess[bytes]) -> None:
    out = (proc.stdout + proc.stderr).decode()
    assert proc.stderr.decode() == case.stderr.format(d=d)
    assert proc.returncode == case.code
    assert CANARY.lower() not in out.lower()
    for name, data in case.after.items():
        assert (d / name).read_bytes() == data, name
    for name, there in case.exists.items():
        assert os.path.lexists(d / name) == there, name
    assert [p.name for p in d.rglob(".compose-net-*")] == []


def _table(rows: list[Any]) -> list[Any]:
    """Each row as root and as nobody."""
    out = []
    for row in rows:
        case: Case = row.values[0]
        out += [pytest.param(case, user, id=f"{row.id}-as-{user}") for user in case.users]
    return out


def _run_row(case: Case, user: str, request: pytest.FixtureRequest) -> None:
    """One row of a table, as ``user``, in a fresh folder."""
    runner = request.getfixturevalue("as_nobody") if user == "nobody" else None
    with bounded.open_folder() as d:
        _check(case, d, _run(case, d, runner))


@pytest.mark.parametrize(("case", "user"), _table(READS + CONFIG + WRITES))
def test_path_policy(case: Case, user: str, request: pytest.FixtureRequest) -> None:
    _run_row(case, user, request)


@pytest.mark.parametrize(("case", "user"), _table(DASHES))
def test_file_names_after_double_dash_are_files(
    case: Case, user: str, request: pytest.FixtureRequest
) -> None:
    """A file named like an option is a file after ``--``, for every command taking files."""
    _run_row(case, user, request)


def test_the_report_is_whole_after_a_run() -> None:
    """-o replaces the old report whole (the row above checks the exit and the lines)."""
    with bounded.open_folder() as d:
        case = Case({"project/compose.yml": EXPOSED, "project/report.txt": b"x" * 100_000},
                    (*REPORT, "report.txt", "compose.yml"), 1, "")
        _check(case, d, _run(case, d, None))
        text = (d / "project/report.txt").read_text()
        assert text.startswith("{") and text.endswith("}\n") and "x" * 10 not in text


@pytest.mark.parametrize("old", [b"old report\n", None], ids=["old-report-kept", "no-report"])
def test_a_full_disk_leaves_the_old_report_or_none(tmp_path: Path, old: bytes | None) -> None:
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    with bounded.tmpfs(tmp_path / "fs", "16k") as d:
        (d / "compose.yml").write_bytes(EXPOSED)
        if old is not None:
            (d / "report.txt").write_bytes(old)
        bounded.fill(d)
        proc = bounded.run((*REPORT, "report.txt", "compose.yml"), cwd=d)
        assert proc.stderr.decode() == (
            "compose-net: error: report.txt: cannot write: no space left on device\n"
        )
        assert proc.returncode == 2
        if old is None:
            assert not (d / "report.txt").exists()
        else:
            assert (d / "report.txt").read_bytes() == old
        assert [p.name for p in d.iterdir() if p.name.startswith(".compose-net-")] == []


# --------------------------------------------------------------------------- every path option

#: (command, parameter) -> the arguments that name, through that parameter, a symlink to a
#: file outside the project (``link.yml``, ``link.env``, ``link-nodes.yaml``, ``linkdir``,
#: ``link-out``); every path a command takes must appear here.
WALK: dict[tuple[str, str], tuple[str, ...]] = {
    ("ports", "files"): ("ports", "link.yml"),
    ("ports", "project_files"): ("ports", "-f", "link.yml"),
    ("ports", "project_directory"): ("ports", "--project-directory", "linkdir", "-f", "c.yml"),
    ("ports", "env_files"): ("ports", "--env-file", "link.env", "c.yml"),
    ("check", "files"): ("check", "link.yml"),
    ("check", "project_files"): ("check", "-f", "link.yml"),
    ("check", "project_directory"): ("check", "--project-directory", "linkdir", "-f", "c.yml"),
    ("check", "env_files"): ("check", "--env-file", "link.env", "c.yml"),
    ("check", "output"): ("check", "-o", "link-out", "c.yml"),
    ("check", "inventory"): ("check", "--inventory", "link-nodes.yaml", "c.yml"),
    ("harden", "files"): (*HARDEN, "link.yml"),
    ("harden", "project_files"): (*HARDEN, "-f", "link.yml"),
    ("harden", "project_directory"): (*HARDEN, "--project-directory", "linkdir", "-f", "c.yml"),
    ("harden", "env_files"): (*HARDEN, "--env-file", "link.env", "c.yml"),
    ("harden", "output"): (*HARDEN, "-o", "link-out", "c.yml"),
    ("harden", "inventory"): ("harden", "--no-config", "--inventory", "link-nodes.yaml", "c.yml"),
    ("validate", "files"): ("validate", "link.yml"),
    ("validate", "project_files"): ("validate", "-f", "link.yml"),
    ("validate", "project_directory"): ("validate", "--project-directory", "linkdir", "-f",
                                        "c.yml"),
    ("validate", "env_files"): ("validate", "--env-file", "link.env", "c.yml"),
    ("nodes", "inventory"): ("nodes", "--inventory", "link-nodes.yaml"),
    ("node-setup", "inventory"): ("node-setup", "--node", "n1", "--inventory", "link-nodes.yaml"),
    ("audit", "file"): ("audit", "--file", "link.yml"),
    ("audit", "env_files"): ("audit", "--env-file", "link.env", "--file", "c.yml"),
    ("audit", "inventory"): ("audit", "--nodes", "--inventory", "link-nodes.yaml"),
    ("audit", "output"): ("audit", "-o", "link-out", "--file", "c.yml"),
    ("probe", "files"): ("probe", "127.0.0.1", "link.yml"),
    ("probe", "env_files"): ("probe", "127.0.0.1", "--env-file", "link.env", "c.yml"),
    ("probe", "inventory"): ("probe", "--nodes", "--inventory", "link-nodes.yaml"),
}
WALK_FILES: dict[str, bytes | str] = {
    "outside/c.yml": OUTSIDE_BASE,
    "outside/a.env": f"A={CANARY}\n".encode(),
    "outside/nodes.yaml": NODES,
    "outside/victim": VICTIM,
    "outside/d/c.yml": OUTSIDE_BASE,
    "outside/d/.env": f"A={CANARY}\n".encode(),
    "project/c.yml": EXPOSED,
    "project/link.yml": "->../outside/c.yml",
    "project/link.env": "->../outside/a.env",
    "project/link-nodes.yaml": "->../outside/nodes.yaml",
    "project/linkdir": "->../outside/d",
    "project/link-out": "->../outside/victim",
}


def path_parameters() -> set[tuple[str, str]]:
    """Every (command, parameter) of the command line whose value is a path."""
    found: set[tuple[str, str]] = set()
    group = cli.cli
    assert isinstance(group, click.Group)
    for name, command in group.commands.items():
        for param in command.params:
            if isinstance(param.type, (click.Path, click.File)):
                assert param.name is not None
                found.add((name, param.name))
    return found


def test_every_path_parameter_is_walked() -> None:
    assert path_parameters() == set(WALK)


@pytest.mark.parametrize("key", sorted(WALK), ids=lambda k: f"{k[0]}-{k[1]}")
def test_every_path_parameter_refuses_a_symlink_to_outside(key: tuple[str, str]) -> None:
    """Each command's every path, named as a symlink to a file outside the project, is
    refused with one line naming it, exit 2, nothing of the file printed or written."""
    with bounded.open_folder() as d:
        _write(d, WALK_FILES)
        proc = bounded.run(WALK[key], cwd=d / "project")
        err = proc.stderr.decode()
        assert proc.returncode == 2, err
        lines = [line for line in err.splitlines() if "error:" in line]
        assert len(lines) == 1, err
        assert re.search(r"(link[-.a-z]*|linkdir)\S*: .*(outside the project|a symlink)", lines[0])
        assert CANARY.lower() not in (proc.stdout.decode() + err).lower()
        assert (d / "outside/victim").read_bytes() == VICTIM
        assert [p.name for p in d.rglob(".compose-net-*")] == []


# --------------------------------------------------------------------------- the root rule


@pytest.mark.parametrize(
    ("folder_uid", "marker_uid", "folder_mode", "start_uid", "is_root"),
    [
        pytest.param(0, 0, 0o755, 0, True, id="roots-repository"),
        pytest.param(12345, 12345, 0o755, 12345, True, id="the-files-owners-repository"),
        pytest.param(0, 0, 0o1777, 0, False, id="folder-every-user-may-write"),
        pytest.param(0, 0, 0o777, 0, False, id="folder-every-user-may-write-no-sticky-bit"),
        pytest.param(0, 0, 0o775, 0, True, id="group-writable-folder"),
        pytest.param(0, 12345, 0o755, 0, False, id="marker-of-another-user"),
        pytest.param(12345, 0, 0o755, 0, False, id="folder-of-another-user"),
        pytest.param(12345, 12345, 0o755, 0, False, id="repository-of-another-user"),
    ],
)  # fmt: skip
def test_a_root_marker_counts_only_where_no_other_user_could_plant_it(
    folder_uid: int, marker_uid: int, folder_mode: int, start_uid: int, is_root: bool
) -> None:
    """``paths.project_root``: the parent's ``.git`` makes it the root only when the folder
    and the marker belong to root, the user or the files' owner, and not every user may
    write the folder; else the files' own folder is the root."""
    require(os.geteuid() == 0, "changing owners needs root")
    from compose_net import paths

    with bounded.open_folder() as d:
        parent, start = d / "parent", d / "parent" / "proj"
        (parent / ".git").mkdir(parents=True)
        start.mkdir()
        os.chown(parent, folder_uid, 0)
        parent.chmod(folder_mode)
        os.chown(parent / ".git", marker_uid, 0)
        os.chown(start, start_uid, 0)
        assert paths.project_root(str(start)) == str(parent if is_root else start)
