"""What each command imports: nothing heavy that it does not use.

Start-up is most of what a pre-commit hook costs, and the heavy libraries are
the Docker SDK (about 10 times ``python -c pass`` to import), jsonschema (7x),
ruamel.yaml (3x), psutil and prometheus-client (audit's metrics only). Each
row runs the real CLI in a fresh interpreter and lists the top-level packages
it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = {"docker", "requests", "urllib3", "jsonschema", "referencing", "rpds", "attrs",
         "ruamel", "psutil", "prometheus_client",
         "pygls", "lsprotocol", "cattrs"}  # the last three: server only

CLEAN = """\
services:
  web:
    image: nginx:1.27
    ports:
      - "127.0.0.1:8080:80"
"""
EXPOSED = CLEAN.replace("127.0.0.1:8080:80", "8080:80")
SCHEMA_ERROR = CLEAN.replace("    image:", "    restrat: always\n    image:")
NOT_YAML = "services: [web\n"

# What the interpreter had loaded before compose-net (site hooks differ between machines)
# does not count.
CODE = """\
import sys
before = {name.split(".")[0] for name in sys.modules}
import json
from compose_net.cli import main
code = main(sys.argv[2:])
loaded = sorted({name.split(".")[0] for name in sys.modules} - before)
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "loaded": loaded}, f)
"""

CASES = [
    # (id, arguments before the file, file text, exit code, must load, must not load)
    ("check-clean", ["check", "--no-config"], CLEAN, 0, {"yaml"}, HEAVY | {"hashlib"}),
    ("check-finding", ["check", "--no-config"], EXPOSED, 1, {"yaml"}, HEAVY | {"hashlib"}),
    ("check-schema-error", ["check", "--no-config"], SCHEMA_ERROR, 1, {"jsonschema"},
     HEAVY - {"jsonschema", "referencing", "rpds", "attrs"}),
    ("check-not-yaml", ["check", "--no-config"], NOT_YAML, 2, {"ruamel"},
     HEAVY - {"ruamel"}),
    ("check-sarif", ["check", "--no-config", "--format", "sarif"], EXPOSED, 1, {"hashlib"},
     HEAVY),
    ("ports", ["ports"], EXPOSED, 0, {"yaml"}, HEAVY | {"hashlib"}),
    ("validate-valid", ["validate"], CLEAN, 0, {"yaml"}, HEAVY),
    ("validate-invalid", ["validate"], SCHEMA_ERROR, 2, {"jsonschema"},
     HEAVY - {"jsonschema", "referencing", "rpds", "attrs"}),
    ("harden-check", ["harden", "--no-config", "--bind", "10.0.0.5", "--check"], EXPOSED, 1,
     {"yaml"}, HEAVY),
    ("harden-diff", ["harden", "--no-config", "--bind", "10.0.0.5", "--diff"], EXPOSED, 1,
     {"yaml"}, HEAVY),
    # ruamel is the parser of record for what harden writes
    # the proof reads what is written with the same composer as every other command
    ("harden-write", ["harden", "--no-config", "--bind", "10.0.0.5"], EXPOSED, 0, {"yaml"},
     HEAVY),
]


@pytest.mark.parametrize(
    ("args", "text", "code", "loads", "avoids"),
    [pytest.param(a, t, c, lo, av, id=i) for i, a, t, c, lo, av in CASES],
)
def test_imports(
    args: list[str], text: str, code: int, loads: set[str], avoids: set[str], tmp_path: Path
) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(text, encoding="utf-8")
    report = tmp_path / "report.json"
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get(
        "PYTHONPATH")]))}
    env.pop("DOCKER_HOST", None)
    proc = subprocess.run(
        [sys.executable, "-c", CODE, str(report), *args, str(compose)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(report.read_text())
    assert result["code"] == code, proc.stderr
    loaded = set(result["loaded"])
    assert loads <= loaded
    assert not loaded & avoids
