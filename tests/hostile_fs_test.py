"""Hostile files and folders: what compose-net reads, what it refuses, and what a rewrite
keeps (owner, group, mode, links), each run in a child bounded by setrlimit.

Each row: how the folder is set up, the command, who runs it (root, or ``nobody`` where the
permission is the point), the exit code, the exact standard error (``{d}`` is the folder),
and what the files hold afterwards.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness import bounded, require

EXPOSED = b'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n'
HARDENED = b'services:\n  web:\n    image: nginx\n    ports:\n      - "10.0.0.5:80:80"\n'
OTHER = b'services:\n  db:\n    image: redis\n    ports:\n      - "6379:6379"\n'
OTHER_HARDENED = b'services:\n  db:\n    image: redis\n    ports:\n      - "10.0.0.5:6379:6379"\n'
HARDEN = ("harden", "--no-config", "--bind", "10.0.0.5")
NOBODY = bounded.nobody()
DEFAULT_LIMITS = bounded.Limits()
SUMMARY = "compose-net: 0 findings in 0 files; 1 file not checked"


@pytest.fixture
def open_folder() -> Iterator[Path]:
    with bounded.open_folder() as folder:
        yield folder


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


def _give(path: Path, mode: int | None = None) -> None:
    """Make ``path`` the user nobody's (and its group's)."""
    assert NOBODY is not None
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    if mode is not None:
        path.chmod(mode)


# --------------------------------------------------------------------------- setups


def fifo(d: Path) -> None:
    os.mkfifo(d / "compose.yaml")


def plain(d: Path) -> None:
    (d / "compose.yaml").write_bytes(EXPOSED)


def read_only(d: Path) -> None:
    plain(d)
    (d / "compose.yaml").chmod(0o444)


def nobody_read_only(d: Path) -> None:
    plain(d)
    _give(d / "compose.yaml", 0o444)
    _give(d)


def roots_file(d: Path) -> None:
    """A root-owned file the user nobody may write (mode 0666), in nobody's folder."""
    plain(d)
    (d / "compose.yaml").chmod(0o666)
    _give(d)


def roots_folder(d: Path) -> None:
    """nobody's file in a folder only root may write."""
    plain(d)
    _give(d / "compose.yaml", 0o644)


def setuid_nobody(d: Path) -> None:
    plain(d)
    _give(d / "compose.yaml", 0o6755)


def hard_link(d: Path) -> None:
    plain(d)
    os.link(d / "compose.yaml", d / "other.yaml")


def link_outside(d: Path) -> None:
    (d / "outside").mkdir()
    (d / "outside" / "target.yaml").write_bytes(EXPOSED)
    (d / "project").mkdir()
    (d / "project" / "compose.yaml").symlink_to("../outside/target.yaml")


def folder_link_outside(d: Path) -> None:
    """A repository whose ``deploy`` folder is a symlink to a folder outside it."""
    (d / "elsewhere").mkdir()
    (d / "elsewhere" / "compose.yaml").write_bytes(EXPOSED)
    (d / "repo" / ".git").mkdir(parents=True)
    (d / "repo" / "deploy").symlink_to("../elsewhere")


def link_inside_repo(d: Path) -> None:
    """A symlink to another folder of the same repository."""
    (d / "repo" / ".git").mkdir(parents=True)
    (d / "repo" / "shared").mkdir()
    (d / "repo" / "shared" / "compose.yaml").write_bytes(EXPOSED)
    (d / "repo" / "app").mkdir()
    (d / "repo" / "app" / "compose.yaml").symlink_to("../shared/compose.yaml")


def env_link_outside(d: Path) -> None:
    (d / "secrets.env").write_bytes(b"SECRET = token\n")
    (d / "p").mkdir()
    (d / "p" / "compose.yaml").write_bytes(EXPOSED)
    (d / "p" / ".env").symlink_to("../secrets.env")


def config_link_outside(d: Path) -> None:
    (d / "allow.yaml").write_bytes(b'allow: ["*"]\n')
    (d / "p").mkdir()
    (d / "p" / "compose.yaml").write_bytes(EXPOSED)
    (d / "p" / ".compose-net.yaml").symlink_to("../allow.yaml")


def immutable(d: Path) -> None:
    plain(d)
    require(_chattr("+i", d / "compose.yaml"), "chattr +i is not available here")


def project_with_ro_folder(d: Path) -> None:
    """Two files of one project, the second in a folder nobody may not write to."""
    (d / "a.yaml").write_bytes(EXPOSED)
    _give(d / "a.yaml")
    _give(d)
    (d / "ro").mkdir()
    (d / "ro" / "b.yaml").write_bytes(OTHER)
    _give(d / "ro" / "b.yaml")


def unreadable(d: Path) -> None:
    """A file only root may read, and a folder only root may write."""
    plain(d)
    (d / "compose.yaml").chmod(0o600)


def unreadable_env(d: Path) -> None:
    plain(d)
    (d / ".env").write_bytes(b"A=1\n")
    (d / ".env").chmod(0o600)


def unreadable_config(d: Path) -> None:
    plain(d)
    (d / ".compose-net.yaml").write_bytes(b"allow: [web]\n")
    (d / ".compose-net.yaml").chmod(0o600)


def project_of_two(d: Path) -> None:
    (d / "a.yaml").write_bytes(EXPOSED)
    (d / "b.yaml").write_bytes(OTHER)


@dataclass(frozen=True)
class Case:
    setup: Callable[[Path], None]
    argv: tuple[str, ...]
    code: int
    stderr: str
    #: file -> bytes expected afterwards
    files: dict[str, bytes] = field(default_factory=dict)
    nobody: bool = False
    stdin: bytes | str | None = None
    limits: bounded.Limits = DEFAULT_LIMITS
    #: file -> (owner is nobody, mode) expected afterwards
    owners: dict[str, tuple[bool, int]] = field(default_factory=dict)


CASES = (
    pytest.param(
        Case(fifo, ("check", "compose.yaml"), 2,
             "compose-net: error: compose.yaml: a FIFO, not a regular file; compose-net reads "
             f"files\n{SUMMARY}\n"),
        id="fifo-check",
    ),
    pytest.param(
        Case(fifo, ("validate", "compose.yaml"), 2,
             "compose-net: error: compose.yaml: a FIFO, not a regular file; compose-net reads "
             "files\n"),
        id="fifo-validate",
    ),
    pytest.param(
        Case(fifo, (*HARDEN, "compose.yaml"), 2,
             "compose-net: error: compose.yaml: a FIFO, not a regular file; compose-net reads "
             "files\n"),
        id="fifo-harden",
    ),
    pytest.param(
        Case(plain, ("validate", "/dev/stdin"), 2,
             "compose-net: error: /dev/stdin: not a regular file: name the file itself, or - for "
             "standard input\n",
             stdin=EXPOSED),
        id="dev-stdin-pipe",
    ),
    pytest.param(
        Case(plain, (*HARDEN, "/dev/stdin"), 2,
             "compose-net: error: /dev/stdin: not a regular file: name the file itself, or - for "
             "standard input\n",
             files={"compose.yaml": EXPOSED}, stdin="compose.yaml"),
        id="dev-stdin-redirected-file-untouched",
    ),
    pytest.param(
        Case(plain, ("check", "/tmp"), 2,
             "compose-net: error: /tmp: a directory, not a regular file; compose-net reads files\n"
             f"{SUMMARY}\n"),
        id="directory",
    ),
    pytest.param(
        Case(plain, ("ports", "/dev/zero"), 2,
             "compose-net: error: /dev/zero: not a regular file: name the file itself, or - for "
             "standard input\n"),
        id="dev-zero",
    ),
    pytest.param(
        Case(plain, (*HARDEN, "compose.yaml"), 0, "hardened compose.yaml (1 port)\n",
             files={"compose.yaml": HARDENED}),
        id="plain-file-is-written",
    ),
    pytest.param(
        Case(read_only, (*HARDEN, "compose.yaml"), 2,
             "compose-net: error: compose.yaml: read-only file (mode 0444); nothing was written\n",
             files={"compose.yaml": EXPOSED}),
        id="read-only-0444-as-root",
    ),
    pytest.param(
        Case(nobody_read_only, (*HARDEN, "compose.yaml"), 2,
             "compose-net: error: compose.yaml: read-only file (mode 0444); nothing was written\n",
             files={"compose.yaml": EXPOSED}, nobody=True),
        id="read-only-0444-as-nobody",
    ),
    pytest.param(
        Case(read_only, (*HARDEN, "--check", "compose.yaml"), 2,
             "compose-net: error: compose.yaml: read-only file (mode 0444); nothing was written\n",
             files={"compose.yaml": EXPOSED}),
        id="check-predicts-read-only-0444-as-root",
    ),
    pytest.param(
        Case(read_only, (*HARDEN, "--diff", "compose.yaml"), 1,
             "would harden compose.yaml (1 port)\n", files={"compose.yaml": EXPOSED}),
        id="diff-shows-a-read-only-file",
    ),
    pytest.param(
        Case(nobody_read_only, (*HARDEN, "--check", "compose.yaml"), 2,
             "compose-net: error: compose.yaml: read-only file (mode 0444); nothing was written\n",
             files={"compose.yaml": EXPOSED}, nobody=True),
        id="check-predicts-read-only-0444-as-nobody",
    ),
    pytest.param(
        Case(roots_file, (*HARDEN, "compose.yaml"), 2,
             "compose-net: error: compose.yaml: owned by another user (uid 0), who would lose it "
             "to a rewrite; "
             "nothing was written\n",
             files={"compose.yaml": EXPOSED}, nobody=True, owners={"compose.yaml": (False, 0o666)}),
        id="another-users-file-as-nobody",
    ),
    pytest.param(
        Case(roots_folder, (*HARDEN, "compose.yaml"), 2,
             "compose-net: error: compose.yaml: cannot create a file in {d}: Permission denied\n",
             files={"compose.yaml": EXPOSED}, nobody=True),
        id="folder-not-writable-as-nobody",
    ),
    pytest.param(
        Case(roots_folder, (*HARDEN, "--check", "compose.yaml"), 2,
             "compose-net: error: compose.yaml: cannot create a file in {d}: Permission denied\n",
             files={"compose.yaml": EXPOSED}, nobody=True),
        id="check-predicts-folder-not-writable-as-nobody",
    ),
    pytest.param(
        Case(plain, (*HARDEN, "--check", "compose.yaml"), 2,
             "compose-net: error: compose.yaml: owned by another user (uid 0), who would lose "
             "it to a rewrite; nothing was written\n",
             files={"compose.yaml": EXPOSED}, nobody=True),
        id="check-predicts-another-users-file-as-nobody",
    ),
    pytest.param(
        Case(setuid_nobody, (*HARDEN, "compose.yaml"), 0, "hardened compose.yaml (1 port)\n",
             files={"compose.yaml": HARDENED}, owners={"compose.yaml": (True, 0o755)}),
        id="owner-group-kept-setid-dropped",
    ),
    pytest.param(
        Case(hard_link, (*HARDEN, "compose.yaml"), 2,
             "compose-net: error: compose.yaml: the file has 2 hard links, and replacing it would "
             "leave the others "
             "with the old ports: make it a file of its own (cp, then mv) or use --diff; "
             "nothing was written\n",
             files={"compose.yaml": EXPOSED, "other.yaml": EXPOSED}),
        id="hard-link-refused",
    ),
    pytest.param(
        Case(hard_link, (*HARDEN, "--check", "compose.yaml"), 2,
             "compose-net: error: compose.yaml: the file has 2 hard links, and replacing it "
             "would leave the others with the old ports: make it a file of its own (cp, then "
             "mv) or use --diff; nothing was written\n",
             files={"compose.yaml": EXPOSED, "other.yaml": EXPOSED}),
        id="check-predicts-hard-link-refused",
    ),
    pytest.param(
        Case(link_outside, (*HARDEN, "project/compose.yaml"), 2,
             "compose-net: error: project/compose.yaml: a symlink to {d}/outside/target.yaml, "
             "outside the project "
             "{d}/project: name the file itself\n",
             files={"outside/target.yaml": EXPOSED}),
        id="symlink-outside-refused",
    ),
    pytest.param(
        Case(link_outside, (*HARDEN, "--edit-outside", "project/compose.yaml"), 0,
             "hardened project/compose.yaml (1 port)\n",
             files={"outside/target.yaml": HARDENED}),
        id="symlink-outside-with-edit-outside",
    ),
    pytest.param(
        Case(folder_link_outside, (*HARDEN, "repo/deploy/compose.yaml"), 2,
             "compose-net: error: repo/deploy/compose.yaml: a symlink to "
             "{d}/elsewhere/compose.yaml, outside the "
             "project {d}/repo: name the file itself\n",
             files={"elsewhere/compose.yaml": EXPOSED}),
        id="symlinked-folder-outside-the-repository",
    ),
    pytest.param(
        Case(folder_link_outside, ("check", "repo/deploy/compose.yaml"), 2,
             "compose-net: error: repo/deploy/compose.yaml: a symlink to "
             "{d}/elsewhere/compose.yaml, outside the "
             "project {d}/repo: name the file itself\n" f"{SUMMARY}\n"),
        id="symlink-outside-the-repository-not-read",
    ),
    pytest.param(
        Case(env_link_outside, ("ports", "p/compose.yaml"), 2,
             "compose-net: error: p/.env: a symlink to {d}/secrets.env, outside the project "
             "{d}/p: not read; name "
             "it with --env-file\n"),
        id="dot-env-symlink-outside-not-read",
    ),
    pytest.param(
        Case(config_link_outside, ("check", "p/compose.yaml"), 2,
             "compose-net: error: {d}/p/.compose-net.yaml: a symlink to {d}/allow.yaml, outside "
             "the project {d}/p: "
             "name the file itself\n" f"{SUMMARY}\n"),
        id="configuration-symlink-outside-not-read",
    ),
    pytest.param(
        Case(link_inside_repo, (*HARDEN, "repo/app/compose.yaml"), 0,
             "hardened repo/app/compose.yaml (1 port)\n",
             files={"repo/shared/compose.yaml": HARDENED}),
        id="symlink-inside-the-repository",
    ),
    pytest.param(
        Case(immutable, (*HARDEN, "compose.yaml"), 2,
             "compose-net: error: compose.yaml: cannot write: operation not permitted (an "
             "immutable or append-only "
             "file?)\n",
             files={"compose.yaml": EXPOSED}),
        id="immutable-file",
    ),
    pytest.param(
        Case(plain, (*HARDEN, "compose.yaml"), 2,
             "compose-net: error: compose.yaml: cannot write: file too large for this system or "
             "its limits\n",
             files={"compose.yaml": EXPOSED}, limits=bounded.Limits(file_size=32)),
        id="file-size-limit",
    ),
    pytest.param(
        Case(project_with_ro_folder, (*HARDEN, "-f", "a.yaml", "-f", "ro/b.yaml"), 2,
             "compose-net: error: ro/b.yaml: cannot create a file in {d}/ro: Permission denied\n",
             files={"a.yaml": EXPOSED, "ro/b.yaml": OTHER}, nobody=True),
        id="project-second-folder-read-only-writes-none",
    ),
    pytest.param(
        Case(project_with_ro_folder, (*HARDEN, "--check", "-f", "a.yaml", "-f", "ro/b.yaml"), 2,
             "compose-net: error: ro/b.yaml: cannot create a file in {d}/ro: Permission denied\n",
             files={"a.yaml": EXPOSED, "ro/b.yaml": OTHER}, nobody=True),
        id="check-predicts-project-second-folder-read-only",
    ),
    pytest.param(
        Case(unreadable, ("validate", "compose.yaml"), 2,
             "compose-net: error: compose.yaml: Permission denied\n", nobody=True),
        id="unreadable-file-as-nobody",
    ),
    pytest.param(
        Case(unreadable_env, ("ports", "compose.yaml"), 2,
             "compose-net: error: .env: cannot read env file: Permission denied\n", nobody=True),
        id="unreadable-env-as-nobody",
    ),
    pytest.param(
        Case(unreadable_config, ("check", "compose.yaml"), 2,
             "compose-net: error: {d}/.compose-net.yaml: Permission denied\n"
             f"{SUMMARY}\n", nobody=True),
        id="unreadable-configuration-as-nobody",
    ),
    pytest.param(
        Case(plain, ("check", "-o", "missing/report.txt", "compose.yaml"), 2,
             "compose-net: error: missing/report.txt: no folder missing; nothing was written\n"),
        id="report-into-a-missing-folder",
    ),
    pytest.param(
        Case(plain, ("check", "-o", "report.txt", "compose.yaml"), 2,
             "compose-net: error: report.txt: cannot create a file in {d}: Permission denied\n",
             nobody=True),
        id="report-into-a-read-only-folder-as-nobody",
    ),
    pytest.param(
        Case(project_of_two, (*HARDEN, "-q", "-f", "a.yaml", "-f", "b.yaml"), 0, "",
             files={"a.yaml": HARDENED, "b.yaml": OTHER_HARDENED}),
        id="project-writes-all",
    ),
)


def _check(case: Case, d: Path, proc: subprocess.CompletedProcess[bytes]) -> None:
    assert proc.stderr.decode() == case.stderr.format(d=d)
    assert proc.returncode == case.code
    for name, data in case.files.items():
        assert (d / name).read_bytes() == data, name
    for name, (nobodys, mode) in case.owners.items():
        st = (d / name).stat()
        assert NOBODY is not None
        assert (st.st_uid == NOBODY.pw_uid, st.st_gid == NOBODY.pw_gid) == (nobodys, nobodys)
        assert stat.S_IMODE(st.st_mode) == mode
    leftovers = [p.name for p in d.rglob(".compose-net-*")]
    assert leftovers == []


@pytest.mark.parametrize("case", CASES)
def test_hostile_files(case: Case, open_folder: Path, request: pytest.FixtureRequest) -> None:
    d = open_folder / "work"
    d.mkdir()
    d.chmod(0o755)
    user = request.getfixturevalue("as_nobody") if case.nobody else None
    if case.owners or case.nobody:
        require(os.geteuid() == 0 and NOBODY is not None, "needs root and a user nobody")
    case.setup(d)
    stdin: bytes | Path | None = d / case.stdin if isinstance(case.stdin, str) else case.stdin
    try:
        proc = bounded.run(case.argv, cwd=d, stdin=stdin, limits=case.limits, user=user)
        _check(case, d, proc)
    finally:
        if case.setup is immutable:
            _chattr("-i", d / "compose.yaml")


# --------------------------------------------------------------------------- mounts


@pytest.mark.parametrize(
    ("remount", "fill", "stderr"),
    (
        pytest.param(
            True, False,
            "compose-net: error: compose.yaml: cannot write: read-only file system\n",
            id="read-only-mount",
        ),
        pytest.param(
            False, True,
            "compose-net: error: compose.yaml: cannot write: no space left on device\n",
            id="disk-full",
        ),
    ),
)  # fmt: skip
def test_full_or_read_only_mount(tmp_path: Path, remount: bool, fill: bool, stderr: str) -> None:
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    with bounded.tmpfs(tmp_path / "fs", "16k") as d:
        (d / "compose.yaml").write_bytes(EXPOSED)
        if fill:
            bounded.fill(d)
        if remount:
            subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True)
        proc = bounded.run((*HARDEN, "compose.yaml"), cwd=d)
        assert proc.stderr.decode() == stderr
        assert proc.returncode == 2
        assert (d / "compose.yaml").read_bytes() == EXPOSED
        assert [p.name for p in d.iterdir() if p.name.startswith(".compose-net-")] == []


# --------------------------------------------------------------------------- file errors


def directory(d: Path) -> None:
    (d / "compose.yaml").mkdir()


def symlink_loop(d: Path) -> None:
    (d / "compose.yaml").symlink_to("compose.yaml")


def empty(d: Path) -> None:
    (d / "compose.yaml").write_bytes(b"")


def not_utf8(d: Path) -> None:
    (d / "compose.yaml").write_bytes(b"services:\n  web:\n    image: \"\xff\"\n")


def binary(d: Path) -> None:
    (d / "compose.yaml").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")


def escape_in_yaml(d: Path) -> None:
    (d / "compose.yaml").write_bytes(b"services:\n  web:\n    image: \"a\x1b[2Jb\"\n")


def unreadable_by_nobody(d: Path) -> None:
    plain(d)
    (d / "compose.yaml").chmod(0o600)


FILE_ERRORS = (
    pytest.param(lambda d: None, "compose.yaml: No such file or directory", False, id="missing"),
    pytest.param(directory, "compose.yaml: a directory, not a regular file; compose-net reads "
                 "files", False, id="directory"),
    pytest.param(fifo, "compose.yaml: a FIFO, not a regular file; compose-net reads files", False,
                 id="fifo"),
    pytest.param(symlink_loop, "compose.yaml: Too many levels of symbolic links", False,
                 id="symlink-loop"),
    pytest.param(empty, "compose.yaml: empty compose file", False, id="empty"),
    pytest.param(not_utf8, "compose.yaml:3: not valid UTF-8 (byte 0xff at offset 29)", False,
                 id="invalid-utf-8"),
    pytest.param(binary, "compose.yaml:1: file contains NUL characters; is it binary?", False,
                 id="binary"),
    pytest.param(escape_in_yaml, "compose.yaml:3:14: invalid YAML: unacceptable character "
                 "'\\x1b': special characters are not allowed", False, id="control-character"),
    pytest.param(unreadable_by_nobody, "compose.yaml: Permission denied", True,
                 id="unreadable-as-nobody"),
)  # fmt: skip
COMMANDS = (
    pytest.param(("check", "--no-config"), f"{SUMMARY}\n", id="check"),
    pytest.param(HARDEN, "", id="harden"),
    pytest.param((*HARDEN, "--check"), "", id="harden-check"),
    pytest.param(("ports",), "", id="ports"),
    pytest.param(("validate",), "", id="validate"),
    pytest.param(("audit", "--file"), "", id="audit-file"),
)


@pytest.mark.parametrize(("argv", "after"), COMMANDS)
@pytest.mark.parametrize(("setup", "message", "nobody"), FILE_ERRORS)
def test_a_file_that_cannot_be_read_is_one_error_line(
    open_folder: Path,
    request: pytest.FixtureRequest,
    setup: Callable[[Path], None],
    message: str,
    nobody: bool,
    argv: tuple[str, ...],
    after: str,
) -> None:
    """Whatever stands where a Compose file should be, every command says so in the same
    line, ``compose-net: error: FILE[:LINE[:COLUMN]]: message``, exit 2, no traceback."""
    d = open_folder / "work"
    d.mkdir()
    user = request.getfixturevalue("as_nobody") if nobody else None
    setup(d)
    proc = bounded.run((*argv, "compose.yaml"), cwd=d, user=user)
    assert (proc.returncode, proc.stderr.decode()) == (2, f"compose-net: error: {message}\n{after}")
    assert proc.stdout == b""
