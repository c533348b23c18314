"""The pre-commit hooks, run by the real pre-commit against this checkout.

pre-commit installs a hook repository from a git commit, so the checkout's
working tree (its package files) is copied into a temporary repository and
committed; ``pre-commit try-repo`` then builds its own virtualenv from that
commit (pip installs it, as any user's pre-commit would) and runs the hooks
in a temporary project repository.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from harness import require, run

ROOT = Path(__file__).resolve().parents[1]
#: what pip needs to install the package: everything else of the checkout stays out
PACKAGE_FILES = re.compile(
    r"^(pyproject\.toml|README\.md|LICENSE[^/]*|\.pre-commit-hooks\.yaml|"
    r"compose_net/.*\.py|schemas/.*)$"
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
EXPOSED = 'services:\n  cache:\n    image: redis\n    ports:\n      - "6379:6379"  # the cache\n'
HARDENED = (
    "services:\n  cache:\n    image: redis\n    ports:\n"
    '      - "${COMPOSE_NET_BIND:?set COMPOSE_NET_BIND to the internal address of this node}'
    ':6379:6379"  # the cache\n'
)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(GIT_ENV, HOME=str(home), PRE_COMMIT_HOME=str(home / "pre-commit"))
    env.pop("GITHUB_ACTIONS", None)  # text output, whatever runs the suite
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    return run(["git", *args], cwd=cwd, env=env, timeout=60).stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """A git repository holding the checkout's package files, committed; (path, sha, env)."""
    require(importlib.util.find_spec("pre_commit") is not None, "pre-commit is not installed")
    require(shutil.which("git") is not None, "git is not installed")
    base = tmp_path_factory.mktemp("precommit")
    env = _env(base / "home")
    (base / "home").mkdir()
    repo = base / "hook-repo"
    listed = _git(ROOT, env, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    names = [n for n in listed.split("\0") if PACKAGE_FILES.match(n) and (ROOT / n).is_file()]
    assert ".pre-commit-hooks.yaml" in names and "compose_net/cli.py" in names
    for name in names:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    _git(repo, env, "init", "-q")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "hooks under test")
    yield repo, _git(repo, env, "rev-parse", "HEAD"), env


def _try_repo(
    project: Path, hook_repo: tuple[Path, str, dict[str, str]], hook: str
) -> tuple[int, str]:
    repo, sha, env = hook_repo
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(repo),
            hook,
            "--ref",
            sha,
            "--all-files",
            "--color",
            "never",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.slow
def test_check_fails_harden_fixes_check_passes(
    tmp_path: Path,
    hook_repo: tuple[Path, str, dict[str, str]],
) -> None:
    env = hook_repo[2]
    project = tmp_path / "project"
    project.mkdir()
    _git(project, env, "init", "-q")
    compose = project / "deploy" / "docker-compose.yml"
    compose.parent.mkdir()
    compose.write_text(EXPOSED, encoding="utf-8")
    (project / "notes.yml").write_text(
        'ports: ["1:1"]\n', encoding="utf-8"
    )  # not a compose file name
    _git(project, env, "add", "-A")

    code, out = _try_repo(project, hook_repo, "compose-net-check")
    assert code == 1, out
    assert re.search(r"compose-net check\.+Failed", out), out
    assert (
        'deploy/docker-compose.yml:5:9: error CN001 services.cache.ports[0] "6379:6379" is '
        "published on all interfaces" in out
    ), out
    assert "notes.yml" not in out, out

    code, out = _try_repo(project, hook_repo, "compose-net-harden")
    assert code == 1, out
    assert re.search(r"compose-net harden\.+Failed", out), out
    assert "files were modified by this hook" in out, out
    assert compose.read_text(encoding="utf-8") == HARDENED

    _git(project, env, "add", "-A")
    code, out = _try_repo(project, hook_repo, "compose-net-check")
    assert code == 0, out
    assert re.search(r"compose-net check\.+Passed", out), out

    code, out = _try_repo(project, hook_repo, "compose-net-harden")
    assert code == 0, out
    assert compose.read_text(encoding="utf-8") == HARDENED


@pytest.mark.slow
@pytest.mark.parametrize(
    ("hook", "code", "after"),
    [
        pytest.param("compose-net-check", 1, EXPOSED, id="check"),
        pytest.param("compose-net-harden", 1, HARDENED, id="harden"),
    ],
)
def test_a_file_named_like_an_option_is_a_file(
    tmp_path: Path, hook_repo: tuple[Path, str, dict[str, str]], hook: str, code: int, after: str
) -> None:
    """The hooks end their args with ``--``: a tracked ``--output=x-stack.yml`` is checked
    and hardened as a file, never taken as ``-o``/``--output``."""
    env = hook_repo[2]
    project = tmp_path / "project"
    project.mkdir()
    _git(project, env, "init", "-q")
    odd = project / "--output=x-stack.yml"
    odd.write_text(EXPOSED, encoding="utf-8")
    _git(project, env, "add", "-A")
    got, out = _try_repo(project, hook_repo, hook)
    assert got == code, out
    assert odd.read_text(encoding="utf-8") == after
    assert not (project / "x-stack.yml").exists(), out
    if hook == "compose-net-check":
        assert "--output=x-stack.yml:5:9: error CN001" in out, out


HOOK_FILES = [
    hook["files"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
]


@pytest.mark.parametrize(
    ("path", "matched"),
    (
        pytest.param("docker-compose.yml", True, id="docker-compose"),
        pytest.param("compose.yaml", True, id="compose"),
        pytest.param("deploy/prod/compose.override.yaml", True, id="override-in-subfolder"),
        pytest.param("docker-compose.prod.yml", True, id="variant-dot"),
        pytest.param("docker-compose-dev.yaml", True, id="variant-dash"),
        pytest.param("docker-stack.yml", True, id="docker-stack"),
        pytest.param("stack.yml", True, id="stack"),
        pytest.param("swarm/app.stack.yaml", True, id="dotted-stack"),
        pytest.param("prod-stack.yml", True, id="suffix-stack"),
        pytest.param("stack-prod.yaml", True, id="prefix-stack"),
        pytest.param("composer.yml", False, id="composer"),
        pytest.param("haystack.yml", False, id="haystack"),
        pytest.param("openstack.yaml", False, id="openstack"),
        pytest.param("compose.json", False, id="not-yaml"),
        pytest.param("compose.yaml.bak", False, id="backup"),
        pytest.param("docs/compose/readme.md", False, id="folder-named-compose"),
    ),
)
def test_hook_file_pattern(path: str, matched: bool) -> None:
    """pre-commit matches ``files`` with re.search against the repository-relative path."""
    assert [bool(re.search(pattern, path)) for pattern in HOOK_FILES] == [matched, matched]
