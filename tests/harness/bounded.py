"""compose-net in a child process with a time and memory bound, as root or as ``nobody``.

The bounds are set in the child with ``resource.setrlimit`` (address space, CPU seconds,
and optionally the size of a file it may write), so a run that would hang or eat memory
fails its test instead of the machine. Running as ``nobody`` needs an interpreter that user
can execute: the project's interpreter often lives under a home folder only root may
enter, so :func:`unprivileged_python` copies compose-net and its dependencies into a
world-readable folder for a system Python of the same version.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .ci import require

#: what ``python -m compose_net`` imports, by import name
DEPENDENCIES = (
    "click",
    "ruamel",
    "_ruamel_yaml",
    "yaml",
    "_yaml",
    "jsonschema",
    "jsonschema_specifications",
    "referencing",
    "rpds",
    "attrs",
    "attr",
    "typing_extensions",
    "psutil",
)
REPO = Path(__file__).resolve().parent.parent.parent
SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")

MEMORY_BYTES = 1024 * 1024 * 1024
CPU_SECONDS = 20
WALL_SECONDS = 40.0


@dataclass(frozen=True)
class Limits:
    memory: int = MEMORY_BYTES
    cpu: int = CPU_SECONDS
    #: the largest file the child may write (``ulimit -f``), None for no bound
    file_size: int | None = None


def _set(limits: Limits) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu, limits.cpu))
        if limits.file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))

    return apply


def nobody() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


@contextlib.contextmanager
def open_folder(mode: int = 0o755) -> Iterator[Path]:
    """A fresh folder every user may enter (pytest's own temporary folders are root's alone),
    with ``mode`` (0o777: ``nobody`` may write in it too); removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="compose-net-test-"))
    try:
        folder.chmod(mode)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (made here), unmounted afterwards; needs root
    (skips, or fails in CI, when it cannot be mounted)."""
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    require(done.returncode == 0, f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> None:
    """Write ``folder/filler`` until its file system has no space left."""
    with contextlib.suppress(OSError), (folder / "filler").open("wb") as f:
        while True:
            f.write(b"x" * 1024)
            f.flush()


def _system_python() -> str | None:
    """A Python everyone may run, of this interpreter's version (its compiled modules fit)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in SYSTEM_PYTHONS:
        if not os.access(candidate, os.X_OK):
            continue
        out = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.stdout.strip() == version:
            return candidate
    return None


def unprivileged_python(folder: Path) -> tuple[str, str] | None:
    """(interpreter, PYTHONPATH) that ``nobody`` can run compose-net with, or None."""
    python = _system_python()
    if python is None:
        return None
    lib = folder / "lib"
    lib.mkdir(parents=True)
    for name in DEPENDENCIES:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                shutil.copytree(location, lib / name, dirs_exist_ok=True)
        elif spec.origin:
            shutil.copy2(spec.origin, lib / Path(spec.origin).name)
    shutil.copytree(REPO / "compose_net", lib / "compose_net")
    shutil.copytree(REPO / "schemas", lib / "schemas")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    for parent in folder.parents:
        if not os.stat(parent).st_mode & 0o001:
            return None  # a folder on the way nobody may enter
    return python, str(lib)


def _command(
    argv: Sequence[str], user: tuple[str, str] | None, env: Mapping[str, str] | None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of ``compose-net ARGV`` (as ``nobody`` with
    ``user``)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COMPOSE_"))}
    environ.update(env or {})
    if user is None:
        command = [sys.executable, "-m", "compose_net", *argv]
        environ["PYTHONPATH"] = str(REPO)
    else:
        python, path = user
        account = nobody()
        assert account is not None
        command = [
            "setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups",
            python, "-m", "compose_net", *argv,
        ]  # fmt: skip
        environ["PYTHONPATH"] = path
        environ["HOME"] = "/"
    environ["PYTHONDONTWRITEBYTECODE"] = "1"
    return command, environ


def start(
    argv: Sequence[str],
    *,
    cwd: Path,
    limits: Limits = Limits(),
    user: tuple[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    ignore: Sequence[signal.Signals] = (),
) -> subprocess.Popen[bytes]:
    """``compose-net ARGV`` started, not waited for (a test signals it while it runs), its
    output piped; SIGINT, SIGTERM and SIGHUP at their defaults, but for ``ignore`` (as
    ``nohup`` ignores SIGHUP), whatever the test runner's own dispositions."""
    command, environ = _command(argv, user, env)
    bound = _set(limits)

    def prepare() -> None:
        bound()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN if sig in ignore else signal.SIG_DFL)

    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=environ,
        preexec_fn=prepare,
    )


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    stdin: bytes | Path | None = None,
    limits: Limits = Limits(),
    user: tuple[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``compose-net ARGV`` bounded by ``limits``; as ``nobody`` with ``user`` (interpreter,
    PYTHONPATH from :func:`unprivileged_python`)."""
    command, environ = _command(argv, user, env)
    if isinstance(stdin, Path):
        with stdin.open("rb") as f:
            return subprocess.run(
                command,
                stdin=f,
                capture_output=True,
                cwd=cwd,
                env=environ,
                timeout=WALL_SECONDS,
                preexec_fn=_set(limits),
                check=False,
            )
    return subprocess.run(
        command,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        env=environ,
        timeout=WALL_SECONDS,
        preexec_fn=_set(limits),
        check=False,
    )
