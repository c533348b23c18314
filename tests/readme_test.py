"""The README's two commands, taken from README.md and run exactly as printed, in a fresh
copy of the checkout with a fresh virtual environment (so the README cannot drift).

The second command ends in ``python3 -m pytest``: run here with ``PYTEST_ADDOPTS=
--collect-only``, it proves the test environment installs and every test module imports,
without running the suite again inside itself (this test included).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from harness.venv import ROOT, tracked_files

pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    """The two ``console`` blocks of the README's "Two commands" section, one line each."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Two commands\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```console\n(.*?)^```", section, re.S | re.M)
    assert [len(b.strip().splitlines()) for b in blocks] == [1, 1], blocks
    return [b.strip() for b in blocks]


def test_readme_commands_are_extracted() -> None:
    install, test = readme_commands()
    assert install.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install . ")
    assert test.endswith("python3 -m pytest")


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's files (committed or new, not ignored) in a fresh folder: no .venv."""
    dest = tmp_path_factory.mktemp("readme") / "compose-net"
    for name in tracked_files():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _run(command: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "GITHUB_ACTIONS")
        and not k.startswith(("COV_CORE_", "COVERAGE_", "PYTEST_"))
    }
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=1500, stdin=subprocess.DEVNULL, check=False)


@pytest.mark.parametrize(
    ("index", "extra", "expect"),
    (
        pytest.param(0, {}, [r'(?m)^      - "10\.176\.226\.219:6379:6379"$',
                             r"(?m)^would harden examples/docker-compose\.yml \(5 ports\)$"],
                     id="install-and-harden"),
        pytest.param(1, {"PYTEST_ADDOPTS": "--collect-only -q -p no:cacheprovider"},
                     [r"(?m)^\d{3,} tests collected", r"tests/readme_test\.py::"],
                     id="install-tests-and-collect"),
    ),
)
def test_readme_command_runs_verbatim(
    checkout: Path, index: int, extra: dict[str, str], expect: list[str]
) -> None:
    command = readme_commands()[index]
    proc = _run(command, checkout, **extra)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    for pattern in expect:
        assert re.search(pattern, out), (pattern, out[-4000:])
    assert (checkout / ".venv" / "bin" / "compose-net").is_file()
