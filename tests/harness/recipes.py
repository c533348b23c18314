"""The recipes of README.md and docs/ci.md, as printed: each fenced block that follows a
``<!-- recipe: NAME -->`` line, and a shell and a git repository to run them in."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from .process import run
from .venv import ROOT, copy_package

PAGES = ("README.md", "docs/ci.md")
_MARKED = re.compile(r"^<!-- recipe: (\S+) -->\n```(\w+)\n(.*?)^```$", re.S | re.M)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def recipes(page: str) -> dict[str, tuple[str, str]]:
    """``{name: (fence language, text)}`` of the marked blocks of ``page``, unchanged."""
    text = (ROOT / page).read_text(encoding="utf-8")
    out: dict[str, tuple[str, str]] = {}
    for name, language, body in _MARKED.findall(text):
        assert name not in out, f"{page}: two recipes named {name}"
        out[name] = (language, body)
    return out


def where(name: str) -> list[tuple[str, str]]:
    """(page, text) of every page that prints the recipe ``name``."""
    return [(page, found[name][1]) for page in PAGES if name in (found := recipes(page))]


def environment(base: Path, clone: Path | None = None) -> dict[str, str]:
    """A user's shell: its own HOME and pre-commit cache, ``compose-net`` and
    ``pre-commit`` on PATH (this checkout's and this interpreter's), ``COMPOSE_NET`` set to
    the clone the recipes name."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "PRE_COMMIT", "GITHUB_")) and k != "PYTHONPATH"}
    bin_dir = base / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, module in (("compose-net", "compose_net"), ("pre-commit", "pre_commit")):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m {module} '
                        '"$@"\n')
        shim.chmod(0o755)
    (base / "home").mkdir(exist_ok=True)
    env.update(GIT_ENV, HOME=str(base / "home"), PRE_COMMIT_HOME=str(base / "pre-commit"),
               PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    if clone is not None:
        env["COMPOSE_NET"] = str(clone)
    return env


def clone(dest: Path, env: dict[str, str]) -> str:
    """A git clone of this checkout's package files at ``dest``, one commit; its id."""
    copy_package(dest)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "compose-net"]):
        run(["git", *args], cwd=dest, env=env, timeout=120)
    return run(["git", "rev-parse", "HEAD"], cwd=dest, env=env).stdout.strip()


def shell(script: str, cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    """Run a recipe as a user pastes it into bash (stopping at the first failing command);
    its output. CommandError when it fails."""
    proc = run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd,
               env=env, timeout=timeout)
    return proc.stdout + proc.stderr
