"""One harden run is one transaction: every file it rewrites is written, or none is.

Each row runs compose-net in a child (bounded by setrlimit, as root or as ``nobody``) and
asserts the bytes of every file afterwards (all old or all new), that no temporary file is
left in any folder, the exit code and standard error, and that owner, group and mode are
kept. The signal rows stop the child at a named step of the write
(``COMPOSE_NET_TEST_PAUSE``: the child makes a marker file and waits), send it a real
signal from here, then let it go on.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness import bounded, require

A = b'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n'
A_NEW = b'services:\n  web:\n    image: nginx\n    ports:\n      - "10.0.0.5:80:80"\n'
B = b'services:\n  db:\n    image: redis\n    ports:\n      - "6379:6379"\n'
B_NEW = b'services:\n  db:\n    image: redis\n    ports:\n      - "10.0.0.5:6379:6379"\n'
#: the same, published only inside the swarm (--target stack, unpublish)
STACKED_A = b"services:\n  web:\n    image: nginx\n"
STACKED_B = b"services:\n  db:\n    image: redis\n"
HARDEN = ("harden", "--no-config", "--bind", "10.0.0.5")
FILES = (*HARDEN, "a.yaml", "sub/b.yaml")
PROJECT = (*HARDEN, "-f", "a.yaml", "-f", "sub/b.yaml")
NOBODY = bounded.nobody()
#: the two files, before and after
OLD = {"a.yaml": A, "sub/b.yaml": B}
NEW = {"a.yaml": A_NEW, "sub/b.yaml": B_NEW}
#: what a folder holds when nothing is left over
CLEAN = ["a.yaml", "sub", "sub/b.yaml"]
MODE = 0o640
CHANGED = (
    "compose-net: error: {f}: the file changed since compose-net read it (another program "
    "wrote it?); nothing was written: run compose-net again\n"
)


@dataclass
class Folder:
    """A work folder ``d`` (with ``sub``) and a control folder for the pause markers."""

    d: Path
    ctl: Path
    user: tuple[str, str] | None

    def give(self, path: Path, mode: int | None = None) -> None:
        """Make ``path`` nobody's when running as nobody, or as root where the owner kept
        is the point."""
        if NOBODY is not None and os.geteuid() == 0:
            os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
        if mode is not None:
            path.chmod(mode)

    def files(self, contents: dict[str, bytes], mode: int = MODE) -> None:
        for name, data in contents.items():
            (self.d / name).write_bytes(data)
            self.give(self.d / name, mode)

    def listing(self) -> list[str]:
        return sorted(str(p.relative_to(self.d)) for p in self.d.rglob("*"))

    def assert_state(self, contents: dict[str, bytes], owners: bool = True) -> None:
        """The files hold ``contents``, keep owner, group and mode, and nothing else is
        left in the folders."""
        assert {n: (self.d / n).read_bytes() for n in contents} == contents
        for name in contents:
            st = (self.d / name).stat()
            assert stat.S_IMODE(st.st_mode) == MODE, name
            if owners and NOBODY is not None and os.geteuid() == 0:
                assert (st.st_uid, st.st_gid) == (NOBODY.pw_uid, NOBODY.pw_gid), name
            assert st.st_nlink == 1, name
        assert self.listing() == CLEAN


USERS = ("root", "nobody")


@pytest.fixture(params=USERS)
def folder(request: pytest.FixtureRequest) -> Iterator[Folder]:
    """The work folder, its files owned by nobody; the run as root or as nobody."""
    require(os.geteuid() == 0 and NOBODY is not None, "needs root and a user nobody")
    user = request.getfixturevalue("as_nobody") if request.param == "nobody" else None
    with bounded.open_folder() as top:
        made = Folder(top / "work", top / "ctl", user)
        made.ctl.mkdir()
        made.ctl.chmod(0o777)
        made.d.mkdir()
        (made.d / "sub").mkdir()
        made.give(made.d, 0o755)
        made.give(made.d / "sub", 0o755)
        made.files(OLD)
        yield made


def _start(
    f: Folder, argv: tuple[str, ...], step: str, ignore: tuple[signal.Signals, ...] = ()
) -> subprocess.Popen[bytes]:
    """compose-net started, and stopped at ``step`` of its write."""
    env = {"COMPOSE_NET_TEST_PAUSE": step, "COMPOSE_NET_TEST_PAUSE_DIR": str(f.ctl)}
    proc = bounded.start(argv, cwd=f.d, user=f.user, env=env, ignore=ignore)
    deadline = time.monotonic() + bounded.WALL_SECONDS
    while not (f.ctl / step).exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"step {step} not reached: {proc.returncode} {err.decode()}")
        time.sleep(0.005)
    return proc


def _go(f: Folder, proc: subprocess.Popen[bytes], step: str) -> tuple[int, str]:
    (f.ctl / f"{step}.go").touch()
    try:
        _, err = proc.communicate(timeout=bounded.WALL_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err.decode()


# --------------------------------------------------------------------------- signals

#: steps before the last look at the files: a signal there writes nothing
BEFORE = ("locked", "staged")
#: steps past it: the renames are done, then the signal is acted on
AFTER = ("checked", "renamed-1", "committed")
#: what the run prints when it is not stopped, by command line
DONE = {
    FILES: "hardened a.yaml (1 port)\nhardened sub/b.yaml (1 port)\n"
    "2 changed, 0 unchanged, 0 failed\n",
    PROJECT: "hardened a.yaml (1 port)\nhardened sub/b.yaml (1 port)\n"
    "2 changed, 0 unchanged, 0 failed\n",
}
#: how a run stopped by each signal ends: its exit status and standard error
STOPPED = {
    signal.SIGINT: (130, "\ncompose-net: aborted\n"),
    signal.SIGTERM: (-signal.SIGTERM, ""),
    signal.SIGHUP: (-signal.SIGHUP, ""),
}


def _name(sig: signal.Signals) -> str:
    return sig.name


@pytest.mark.parametrize("argv", (FILES, PROJECT), ids=("two-file-arguments", "project-of-two"))
@pytest.mark.parametrize("step", BEFORE + AFTER)
@pytest.mark.parametrize("sig", (signal.SIGINT, signal.SIGTERM, signal.SIGHUP), ids=_name)
def test_a_signal_at_any_step_leaves_all_old_or_all_new(
    folder: Folder, argv: tuple[str, ...], step: str, sig: signal.Signals
) -> None:
    proc = _start(folder, argv, step)
    proc.send_signal(sig)
    code, err = _go(folder, proc, step)
    assert (code, err) == STOPPED[sig]
    folder.assert_state(OLD if step in BEFORE else NEW)


@pytest.mark.parametrize("step", BEFORE + AFTER)
def test_an_ignored_sighup_stays_ignored(folder: Folder, step: str) -> None:
    """Under nohup the write goes on: SIGHUP is not the run's to act on."""
    proc = _start(folder, FILES, step, ignore=(signal.SIGHUP,))
    proc.send_signal(signal.SIGHUP)
    assert _go(folder, proc, step) == (0, DONE[FILES])
    folder.assert_state(NEW)


# --------------------------------------------------------------------------- kill -9


@pytest.mark.parametrize("argv", (FILES, PROJECT), ids=("two-file-arguments", "project-of-two"))
@pytest.mark.parametrize(
    ("step", "between", "rerun"),
    (
        pytest.param("staged", OLD, DONE, id="staged"),
        pytest.param(
            "renamed-1", {"a.yaml": A_NEW, "sub/b.yaml": B},
            "hardened sub/b.yaml (1 port)\n1 changed, 1 unchanged, 0 failed\n",
            id="between-the-renames",
        ),
        pytest.param(
            "committed", NEW, "0 changed, 2 unchanged, 0 failed\n", id="before-the-clean-up"
        ),
    ),
)  # fmt: skip
def test_a_killed_run_is_cleaned_up_by_the_next(
    folder: Folder,
    argv: tuple[str, ...],
    step: str,
    between: dict[str, bytes],
    rerun: dict[tuple[str, ...], str] | str,
) -> None:
    """SIGKILL cannot be held back: the run leaves its temporary files (and the files
    half written, between the renames); the next run removes them, and works."""
    proc = _start(folder, argv, step)
    proc.kill()
    assert _go(folder, proc, step)[0] == -signal.SIGKILL
    assert {n: (folder.d / n).read_bytes() for n in between} == between
    assert folder.listing() != CLEAN  # what the killed run left
    check = bounded.run((*argv, "--check"), cwd=folder.d, user=folder.user)
    assert check.returncode == (0 if between == NEW else 1), check.stderr
    again = bounded.run(argv, cwd=folder.d, user=folder.user)
    expected = rerun[argv] if isinstance(rerun, dict) else rerun
    assert (again.returncode, again.stderr.decode()) == (0, expected)
    folder.assert_state(NEW)


# --------------------------------------------------------------------------- a file changed


def rewrite(path: Path) -> None:
    """The same file, other bytes of the same size."""
    path.write_bytes(path.read_bytes().replace(b"nginx", b"NGINX").replace(b"redis", b"REDIS"))


def _save(path: Path, data: bytes) -> None:
    """A new file renamed over ``path``, as an editor saves, with its owner and mode."""
    st = path.stat()
    new = path.with_name("saved.tmp")
    new.write_bytes(data)
    os.chown(new, st.st_uid, st.st_gid)
    new.chmod(MODE)
    os.replace(new, path)


def replace_other(path: Path) -> None:
    _save(path, path.read_bytes() + b"# saved\n")


def replace_same(path: Path) -> None:
    """Another file, the same bytes."""
    _save(path, path.read_bytes())


def chmod(path: Path) -> None:
    path.chmod(0o600)


def remove(path: Path) -> None:
    path.unlink()


def touch(path: Path) -> None:
    os.utime(path, ns=(1, 1))


@dataclass(frozen=True)
class Change:
    step: str
    change: Callable[[Path], None]
    name: str
    #: refused (nothing written) or not (the run's text was made from the same bytes)
    refused: bool = True


CHANGES = (
    pytest.param(Change("locked", rewrite, "sub/b.yaml"), id="rewritten-before-staging"),
    pytest.param(Change("staged", rewrite, "sub/b.yaml"), id="rewritten-after-staging"),
    pytest.param(Change("staged", rewrite, "a.yaml"), id="first-file-rewritten"),
    pytest.param(Change("locked", replace_other, "sub/b.yaml"), id="saved-by-an-editor"),
    pytest.param(Change("staged", replace_other, "a.yaml"), id="saved-after-staging"),
    pytest.param(Change("locked", replace_same, "sub/b.yaml", refused=False),
                 id="same-bytes-before-staging-is-written"),
    pytest.param(Change("staged", replace_same, "sub/b.yaml"),
                 id="same-bytes-after-staging-is-another-file"),
    pytest.param(Change("staged", chmod, "sub/b.yaml"), id="mode-changed-after-staging"),
    pytest.param(Change("staged", touch, "sub/b.yaml"), id="touched-after-staging"),
    pytest.param(Change("locked", remove, "sub/b.yaml"), id="removed-before-staging"),
    pytest.param(Change("staged", remove, "a.yaml"), id="removed-after-staging"),
)  # fmt: skip


@pytest.mark.parametrize("argv", (FILES, PROJECT), ids=("two-file-arguments", "project-of-two"))
@pytest.mark.parametrize("change", CHANGES)
def test_a_file_changed_since_it_was_read_is_refused(
    folder: Folder, argv: tuple[str, ...], change: Change
) -> None:
    path = folder.d / change.name
    proc = _start(folder, argv, change.step)
    change.change(path)
    after = path.read_bytes() if path.exists() else None
    code, err = _go(folder, proc, change.step)
    if not change.refused:
        assert (code, err) == (0, DONE[argv])
        folder.assert_state(NEW)
        return
    assert (code, err) == (2, CHANGED.format(f=change.name))
    expected = {n: d for n, d in OLD.items() if n != change.name}
    assert {n: (folder.d / n).read_bytes() for n in expected} == expected
    assert (path.read_bytes() if path.exists() else None) == after
    names = [n for n in CLEAN if n != change.name or after is not None]
    assert folder.listing() == names


# --------------------------------------------------------------------------- refusals


def read_only_second(f: Folder) -> None:
    f.give(f.d / "sub" / "b.yaml", 0o444)


def second_folder_not_writable(f: Folder) -> None:
    """The second file's folder is root's: only root may create the temporary file."""
    os.chown(f.d / "sub", 0, 0)
    (f.d / "sub").chmod(0o755)


def second_not_yaml(f: Folder) -> None:
    (f.d / "sub" / "b.yaml").write_bytes(b"services: [\n")


def nothing(f: Folder) -> None:
    pass


def output_read_only(f: Folder) -> None:
    (f.d / "out.yaml").write_bytes(b"old\n")
    f.give(f.d / "out.yaml", 0o444)


@dataclass(frozen=True)
class Case:
    setup: Callable[[Folder], None]
    argv: tuple[str, ...]
    code: int
    stderr: str
    #: file -> bytes afterwards
    files: dict[str, bytes] = field(default_factory=lambda: dict(OLD))
    #: who runs it
    users: tuple[str, ...] = USERS
    stdout: bytes = b""


READ_ONLY = "compose-net: error: sub/b.yaml: read-only file (mode 0444); nothing was written\n"
CASES = (
    pytest.param(Case(read_only_second, FILES, 2, READ_ONLY), id="files-second-read-only"),
    pytest.param(Case(read_only_second, PROJECT, 2, READ_ONLY), id="project-second-read-only"),
    pytest.param(
        Case(read_only_second, (*FILES, "--check"), 2,
             "would harden a.yaml (1 port)\n" + READ_ONLY + "1 changed, 0 unchanged, 1 failed\n"),
        id="check-predicts-the-refusal",
    ),
    pytest.param(
        Case(read_only_second, (*FILES, "--diff"), 1,
             "would harden a.yaml (1 port)\nwould harden sub/b.yaml (1 port)\n"
             "2 changed, 0 unchanged, 0 failed\n",
             stdout=b"--- a/a.yaml\n+++ b/a.yaml\n@@ -2,4 +2,4 @@\n   web:\n     image: nginx\n"
             b"     ports:\n-      - \"80:80\"\n+      - \"10.0.0.5:80:80\"\n"
             b"--- a/sub/b.yaml\n+++ b/sub/b.yaml\n@@ -2,4 +2,4 @@\n   db:\n     image: redis\n"
             b"     ports:\n-      - \"6379:6379\"\n+      - \"10.0.0.5:6379:6379\"\n"),
        id="diff-writes-nothing",
    ),
    pytest.param(
        Case(read_only_second, (*FILES, "--stdout"), 0,
             "would harden a.yaml (1 port)\nwould harden sub/b.yaml (1 port)\n"
             "2 changed, 0 unchanged, 0 failed\n", stdout=A_NEW + B_NEW),
        id="stdout-writes-nothing",
    ),
    pytest.param(
        Case(second_folder_not_writable, FILES, 2,
             "compose-net: error: sub/b.yaml: cannot create a file in {d}/sub: Permission "
             "denied\n", users=("nobody",)),
        id="files-second-folder-not-writable",
    ),
    pytest.param(
        Case(second_folder_not_writable, PROJECT, 2,
             "compose-net: error: sub/b.yaml: cannot create a file in {d}/sub: Permission "
             "denied\n", users=("nobody",)),
        id="project-second-folder-not-writable",
    ),
    pytest.param(
        Case(second_not_yaml, FILES, 2,
             "compose-net: error: sub/b.yaml:2:1: invalid YAML: expected the node content, but "
             "found '<stream end>'\n"
             "compose-net: nothing was written: 1 of 2 files failed\n",
             files={"a.yaml": A, "sub/b.yaml": b"services: [\n"}),
        id="second-not-yaml",
    ),
    pytest.param(
        Case(output_read_only, (*HARDEN, "-o", "out.yaml", "a.yaml"), 2,
             "compose-net: error: out.yaml: read-only file (mode 0444); nothing was written\n",
             files={**OLD, "out.yaml": b"old\n"}),
        id="output-read-only",
    ),
    pytest.param(
        Case(read_only_second, ("harden", "--no-config", "--target", "stack", "a.yaml",
                                "sub/b.yaml"), 2, READ_ONLY),
        id="stack-second-read-only",
    ),
    pytest.param(
        Case(nothing, ("harden", "--no-config", "-q", "--target", "stack", "a.yaml",
                       "sub/b.yaml"), 0, "",
             files={"a.yaml": STACKED_A, "sub/b.yaml": STACKED_B}),
        id="stack-written",
    ),
    pytest.param(Case(nothing, FILES, 0, DONE[FILES], files=NEW), id="files-written"),
    pytest.param(
        Case(nothing, (*FILES, "a.yaml"), 0,
             "hardened a.yaml (1 port)\nhardened sub/b.yaml (1 port)\n"
             "2 changed, 1 unchanged, 0 failed\n", files=NEW),
        id="a-file-named-twice-is-written-once",
    ),
)  # fmt: skip


@pytest.mark.parametrize(
    ("case", "folder"),
    [
        pytest.param(p.values[0], who, id=f"{p.id}-{who}")
        for p in CASES
        for who in p.values[0].users  # type: ignore[union-attr]
    ],
    indirect=["folder"],
)
def test_refusals_write_nothing(folder: Folder, case: Case) -> None:
    case.setup(folder)
    proc = bounded.run(case.argv, cwd=folder.d, user=folder.user)
    assert (proc.returncode, proc.stderr.decode()) == (case.code, case.stderr.format(d=folder.d))
    assert proc.stdout == case.stdout
    assert {n: (folder.d / n).read_bytes() for n in case.files} == case.files
    extra = ["out.yaml"] if "out.yaml" in case.files else []
    assert folder.listing() == sorted(CLEAN + extra)


# --------------------------------------------------------------------------- leftovers


@contextlib.contextmanager
def _live_run(d: Path) -> Iterator[Path]:
    """Another run writing in ``d`` now: it holds the folder's lock, and has a temporary file."""
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        live = d / ".compose-net-live0000.tmp"
        live.write_bytes(b"staged\n")
        yield live
    finally:
        os.close(fd)


def test_a_live_runs_temporary_file_is_left_alone(folder: Folder) -> None:
    with _live_run(folder.d) as live:
        proc = bounded.run((*HARDEN, "a.yaml"), cwd=folder.d, user=folder.user)
        assert (proc.returncode, proc.stderr.decode()) == (0, "hardened a.yaml (1 port)\n")
        assert live.read_bytes() == b"staged\n"
    # the run has ended: what it left is swept by the next, though it writes nothing
    proc = bounded.run((*HARDEN, "a.yaml"), cwd=folder.d, user=folder.user)
    assert (proc.returncode, proc.stderr.decode()) == (0, "")
    folder.assert_state({"a.yaml": A_NEW, "sub/b.yaml": B})


@pytest.mark.parametrize(
    ("argv", "code", "stderr"),
    (
        pytest.param((*HARDEN, "--check", "a.yaml"), 1, "would harden a.yaml (1 port)\n",
                     id="check"),
        pytest.param((*HARDEN, "a.yaml"), 0, "hardened a.yaml (1 port)\n", id="harden"),
    ),
)  # fmt: skip
def test_an_earlier_versions_backup_link_does_not_block(
    folder: Folder, argv: tuple[str, ...], code: int, stderr: str
) -> None:
    """Earlier versions kept a second hard link, .compose-net-*.tmp.orig, while they wrote:
    left by an interrupted run, it is removed, not taken for a link of the user's."""
    os.link(folder.d / "a.yaml", folder.d / ".compose-net-abcdefgh.tmp.orig")
    proc = bounded.run(argv, cwd=folder.d, user=folder.user)
    assert (proc.returncode, proc.stderr.decode()) == (code, stderr)
    if code == 0:
        folder.assert_state({"a.yaml": A_NEW, "sub/b.yaml": B})


def test_a_copy_left_by_an_earlier_version_is_kept(folder: Folder) -> None:
    """A .orig that is the only copy of a file is the user's to remove."""
    orig = folder.d / ".compose-net-abcdefgh.tmp.orig"
    orig.write_bytes(A)
    proc = bounded.run((*HARDEN, "a.yaml"), cwd=folder.d, user=folder.user)
    assert (proc.returncode, proc.stderr.decode()) == (0, "hardened a.yaml (1 port)\n")
    assert orig.read_bytes() == A


@contextlib.contextmanager
def _held_exclusively(d: Path) -> Iterator[None]:
    """Another process holds ``d``'s lock exclusively (as a run sweeping it does, briefly)."""
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@pytest.mark.parametrize("sig", (None, signal.SIGTERM), ids=("waits-then-refuses", "SIGTERM"))
def test_a_folder_locked_by_another_process(folder: Folder, sig: signal.Signals | None) -> None:
    """A run waits (10 s at most) for a folder another process holds; a signal ends the wait."""
    with _held_exclusively(folder.d):
        began = time.monotonic()
        proc = bounded.start((*HARDEN, "a.yaml"), cwd=folder.d, user=folder.user)
        if sig is not None:
            time.sleep(1)
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=bounded.WALL_SECONDS)
        took = time.monotonic() - began
    if sig is None:
        assert (proc.returncode, err.decode()) == (
            2,
            f"compose-net: error: {folder.d}: another process holds a lock on this folder; "
            "nothing was written\n",
        )
        assert took >= 10
    else:
        assert (proc.returncode, err.decode()) == (-sig, "")
        assert took < 8
    folder.assert_state(OLD)
