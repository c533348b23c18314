"""Oracle results (the real compose binary's ``config``, ``docker stack config``) computed
once per test run: a cache keyed by the input bytes (the command, the variables it is given
and every file of the folder it runs in, or of the folder that also holds the files its
arguments name), kept in the run's temporary folder
(tests/conftest.py) and shared by the xdist workers: a lock file per input makes a worker that
asks while another computes wait for that result instead of computing it again.

The folder's own path is not part of the key: use it for what does not name the folder (the
ports Compose renders, what the stack loader publishes), not for rendered paths.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

#: the run's temporary folder (set by tests/conftest.py before the workers start)
RUN_DIR = "COMPOSE_NET_TEST_RUN"
#: variables that say where a process runs or keeps its state, not what it reads (neither
#: ``config`` command talks to an engine)
_PLACE = ("PATH", "HOME", "TMPDIR", "PWD", "OLDPWD", "SHLVL", "_", "DOCKER_CONFIG",
          "DOCKER_HOST", RUN_DIR)


#: the run's folder: read once, at import (in-process runs swap os.environ while other
#: threads ask the oracle); set by tests/conftest.py in the process that makes it
run_dir: str | None = os.environ.get(RUN_DIR)


def _root(argv: Sequence[str], cwd: Path) -> Path:
    """The folder whose files the command can read: ``cwd``, or the folder that holds both
    it and every file an argument names (``-f ../compose.yaml`` reads the parent's files)."""
    folders = [os.path.abspath(cwd)]
    for arg in argv[1:]:
        named = os.path.join(cwd, arg)
        if os.path.isfile(named):
            folders.append(os.path.dirname(os.path.abspath(named)))
    return Path(os.path.commonpath(folders))


def _key(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([os.path.basename(argv[0]), *argv[1:]]).encode())
    variables = sorted((k, v) for k, v in env.items() if k not in _PLACE)
    digest.update(json.dumps(variables).encode())
    root = _root(argv, cwd)
    digest.update(os.path.relpath(os.path.abspath(cwd), root).encode() + b"\0")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(argv)`` in ``cwd`` with ``env`` (text, captured, no stdin), or the
    result an earlier test of this run got for the same input. A worker that asks while
    another computes the same result waits for it (a lock file per input) and reads it."""
    if run_dir is None:
        return _run(argv, cwd, env, timeout)
    cache = Path(run_dir) / "oracle"
    cache.mkdir(parents=True, exist_ok=True)
    key = _key(argv, cwd, env)
    path = cache / f"{key}.json"
    with open(cache / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            code, out, err = json.loads(path.read_text(encoding="utf-8"))
            return subprocess.CompletedProcess(list(argv), code, out, err)
        proc = _run(argv, cwd, env, timeout)
        fd, temporary = tempfile.mkstemp(dir=cache, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump([proc.returncode, proc.stdout, proc.stderr], f)
        os.replace(temporary, path)
        return proc


def _run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=subprocess.DEVNULL)
