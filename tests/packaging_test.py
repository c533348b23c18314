"""The sdist and wheel that ``python -m build`` makes: they pass ``twine check``, hold the
schemas, and install and run in clean virtual environments; a dependency removed after
install is one line saying what to install, never a traceback.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from harness import require, run
from harness.venv import ROOT, Venv, copy_package

from compose_net import __version__

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "docker-compose.yml"
SCHEMAS = sorted(p.name for p in (ROOT / "schemas").glob("*.json"))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``python -m build`` over a copy of the package sources: {"sdist": ..., "wheel": ...}."""
    require(importlib.util.find_spec("build") is not None, "build is not installed")
    base = tmp_path_factory.mktemp("dist")
    src = base / "src"
    copy_package(src)
    out = base / "out"
    run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(src)],
        timeout=600)
    return {
        "sdist": out / f"compose_net-{__version__}.tar.gz",
        "wheel": out / f"compose_net-{__version__}-py3-none-any.whl",
    }


def test_twine_check_passes(dist: dict[str, Path]) -> None:
    require(importlib.util.find_spec("twine") is not None, "twine is not installed")
    proc = run([sys.executable, "-m", "twine", "check", "--strict",
                str(dist["sdist"]), str(dist["wheel"])], check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def _members(path: Path) -> set[str]:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as z:
            return set(z.namelist())
    with tarfile.open(path) as t:
        prefix = f"compose_net-{__version__}/"
        return {m.name.removeprefix(prefix) for m in t.getmembers()}


@pytest.mark.parametrize(
    ("kind", "member"),
    [pytest.param("wheel", f"compose_net/schemas/{name}", id=f"wheel-{name}") for name in SCHEMAS]
    + [pytest.param("sdist", f"schemas/{name}", id=f"sdist-{name}") for name in SCHEMAS]
    + [
        pytest.param("wheel", "compose_net/entry.py", id="wheel-entry"),
        pytest.param("sdist", "CHANGELOG.md", id="sdist-changelog"),
        pytest.param("sdist", "README.md", id="sdist-readme"),
        pytest.param("sdist", "pyproject.toml", id="sdist-pyproject"),
    ],
)
def test_distribution_holds(dist: dict[str, Path], kind: str, member: str) -> None:
    assert member in _members(dist[kind])


@pytest.fixture(scope="module")
def wheel_venv(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Venv:
    venv = Venv(tmp_path_factory.mktemp("wheel") / "venv")
    venv.pip("install", str(dist["wheel"]))
    return venv


HARDENED = "hardened.yml"


@pytest.mark.parametrize(
    ("argv", "code", "expect"),
    [
        pytest.param(["--version"], 0, f"compose-net, version {__version__}", id="version"),
        pytest.param(["audit", "--help"], 0, "List running containers' port bindings",
                     id="audit-help"),
        pytest.param(["check", "--no-color", str(EXAMPLE)], 1, "CN001", id="check-example"),
        pytest.param(["check", "--no-color", HARDENED], 0, "", id="check-hardened"),
        pytest.param(["validate", str(EXAMPLE)], 0, "", id="validate-schemas-included"),
        pytest.param(["validate", "--target", "stack", str(EXAMPLE)], 2,
                     "docker stack deploy ignores the host IP", id="validate-stack-schema"),
    ],
)
def test_wheel_runs(
    wheel_venv: Venv, tmp_path: Path, argv: list[str], code: int, expect: str
) -> None:
    hardened = wheel_venv.run(["compose-net", "harden", "--bind", "10.0.0.5", "--stdout",
                               str(EXAMPLE)])
    assert hardened.returncode == 0, hardened.stderr
    (tmp_path / HARDENED).write_text(hardened.stdout, encoding="utf-8")
    proc = wheel_venv.run(["compose-net", *argv], cwd=tmp_path)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert expect in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.docker
def test_wheel_resolves_docker_nodes(wheel_venv: Venv, busybox: str) -> None:
    """``nodes --resolve docker`` against the engine the tests run (CI starts one)."""
    proc = wheel_venv.run(["compose-net", "nodes", "--resolve", "docker", "--docker-image",
                           busybox, "--format", "json"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = json.loads(proc.stdout)
    assert table["origin"].startswith("the Docker engine"), table
    assert [node["source"] for node in table["nodes"]] == [f"host probe ({busybox})"], table


def test_sdist_installs_and_runs(dist: dict[str, Path], tmp_path: Path) -> None:
    venv = Venv(tmp_path / "venv")
    venv.pip("install", str(dist["sdist"]))
    proc = venv.run(["compose-net", "check", "--no-color", str(EXAMPLE)])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"docker-compose\.yml:\d+:\d+: error CN001 ", proc.stdout), proc.stdout


@pytest.fixture(scope="module")
def broken_venv(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A venv where each case below removes one dependency (in the table's order)."""
    venv = Venv(tmp_path_factory.mktemp("broken") / "venv")
    venv.pip("install", str(dist["wheel"]))
    return venv


@pytest.mark.parametrize(
    ("package", "module", "argv"),
    [
        pytest.param("docker", "docker", ["nodes", "--resolve", "docker"], id="docker-sdk"),
        pytest.param("psutil", "psutil", ["addr"], id="psutil"),
        pytest.param("jsonschema", "jsonschema", ["validate", "bad.yml"], id="jsonschema"),
        pytest.param("prometheus-client", "prometheus_client",
                     ["audit", "--watch", "--metrics-listen", "127.0.0.1:9"],
                     id="prometheus-client"),
        pytest.param("click", "click", ["--version"], id="click"),
    ],
)
def test_missing_dependency_is_one_line(
    broken_venv: Venv, tmp_path: Path, package: str, module: str, argv: list[str]
) -> None:
    (tmp_path / "bad.yml").write_text("services:\n  web:\n    restrat: always\n",
                                      encoding="utf-8")
    broken_venv.pip("uninstall", "-y", package)
    proc = broken_venv.run(["compose-net", *argv], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(
        f"compose-net: error: the Python module '{module}' is not installed"
    ), lines[0]
    assert f"-m pip install {package}`" in lines[0], lines[0]
