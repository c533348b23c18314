"""Fresh virtual environments and copies of the package sources, for install tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .process import run

ROOT = Path(__file__).resolve().parents[2]
#: what building the package reads; tests, benchmarks and fixtures stay out
PACKAGE_FILES = re.compile(
    r"^(pyproject\.toml|README\.md|CHANGELOG\.md|LICENSE[^/]*|MANIFEST\.in|\.pre-commit-hooks\.yaml|"
    r"action\.yml|compose_net/.*\.py|schemas/.*)$"
)


def tracked_files(root: Path = ROOT) -> list[str]:
    """The checkout's files as git sees them: committed, staged or new (not ignored)."""
    listed = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root
    ).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def copy_package(dest: Path, root: Path = ROOT) -> list[str]:
    """Copy the package's files of the checkout into ``dest``; the names copied."""
    names = [name for name in tracked_files(root) if PACKAGE_FILES.match(name)]
    for name in names:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, dest / name)
    return names


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without what would leak this checkout into a fresh venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
        and not k.startswith(("COV_CORE_", "COVERAGE_"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("GITHUB_ACTIONS", None)
    env.update(extra or {})
    return env


class Venv:
    """A virtual environment made with this interpreter's ``venv`` module."""

    def __init__(self, path: Path) -> None:
        self.path = path
        run([sys.executable, "-m", "venv", str(path)], timeout=300, env=clean_env())

    def bin(self, name: str) -> str:
        return str(self.path / "bin" / name)

    def pip(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return run([self.bin("python"), "-m", "pip", *args], timeout=timeout, env=clean_env())

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run a console script of this venv (``argv[0]``), whatever its exit code."""
        return run(
            [self.bin(argv[0]), *argv[1:]],
            cwd=cwd,
            env=clean_env(env),
            timeout=timeout,
            check=False,
        )
