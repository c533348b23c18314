"""The schemas as shipped: valid JSON Schemas, in the package, read with importlib.resources."""

from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from harness import require

from compose_net import schema

ROOT = Path(__file__).resolve().parents[1]
DRAFT = "https://json-schema.org/draft/2020-12/schema"
FILES = [f"{target}.schema.json" for target in schema.TARGETS]


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


@pytest.mark.parametrize("target", schema.TARGETS)
def test_schema_is_valid_against_its_metaschema(target: str) -> None:
    jsonschema = importlib.import_module("jsonschema")

    document = json.loads((ROOT / "schemas" / f"{target}.schema.json").read_text(encoding="utf-8"))
    assert document["$schema"] == DRAFT
    jsonschema.validators.validator_for(document).check_schema(document)
    defs = document.get("$defs", {})
    for ref in _refs(document):
        assert ref.startswith("#/$defs/") and ref[len("#/$defs/"):] in defs, ref


@pytest.mark.parametrize("target", schema.TARGETS)
def test_schema_loads_from_the_installed_package(target: str) -> None:
    require(importlib.util.find_spec("compose_net.schemas") is not None,
            "compose-net is not installed (pip install -e .): no compose_net.schemas package")
    shipped = importlib.resources.files("compose_net.schemas").joinpath(f"{target}.schema.json")
    text = shipped.read_text(encoding="utf-8")
    assert text == (ROOT / "schemas" / f"{target}.schema.json").read_text(encoding="utf-8")
    assert schema.load_schema(target) == json.loads(text)


CHECK_INSTALLED = """
import importlib.resources, importlib.util, json, sys
import compose_net, compose_net.schema as schema
site = sys.argv[1]
assert compose_net.__file__.startswith(site), compose_net.__file__
assert importlib.util.find_spec("compose_net.schemas").origin.startswith(site)
shipped = importlib.resources.files("compose_net.schemas")
for target in schema.TARGETS:
    text = shipped.joinpath(f"{target}.schema.json").read_text()
    assert schema.load_schema(target) == json.loads(text)
errors = schema.validate({"services": {"web": {"image": "x", "ports": ["0:80"]}}}, target="compose")
print(json.dumps([list(e) for e in errors]))
"""


@pytest.mark.slow
def test_the_wheel_ships_the_schemas_and_they_load_from_it(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, project / name)
    for folder in ("compose_net", "schemas"):
        shutil.copytree(ROOT / folder, project / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wheels = tmp_path / "wheels"
    built = _pip("wheel", "--no-deps", "-w", str(wheels), str(project))
    require(built.returncode == 0, f"could not build a wheel: {built.stderr.strip()[-500:]}")
    (wheel,) = wheels.glob("compose_net-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"compose_net/schemas/{name}" for name in FILES} <= names
    assert "compose_net/schemas/__init__.py" in names
    assert "compose_net/schema.py" in names

    target = tmp_path / "site"
    installed = _pip("install", "--no-deps", "--no-index", "--target", str(target), str(wheel))
    assert installed.returncode == 0, installed.stderr
    # -S: no .pth files, so no editable install of the checkout can answer for compose_net
    path = os.pathsep.join([str(target), *site.getsitepackages()])
    proc = subprocess.run([sys.executable, "-S", "-c", CHECK_INSTALLED, str(target)], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    message = ("invalid port '0:80': host port 0 is not a port (1-65535); "
               "leave the host port out to let Docker choose one")
    assert json.loads(proc.stdout) == [[["services", "web", "ports", 0], message]]


def _pip(*args: str) -> subprocess.CompletedProcess[Any]:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=600, check=False)
