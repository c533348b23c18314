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
from typing import Any

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
modules = sorted(name for name in sys.modules if name.split(".")[0] in ("compose_net", "yaml"))
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "loaded": loaded, "modules": modules}, f)
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


#: Every module of compose-net and PyYAML that ``check`` imports for a clean file: no
#: more (each import costs start-up: a frozen dataclass about half a millisecond, a module
#: a tenth or more). Not the other commands' invocation objects, harden, the node address
#: resolvers or the stack strategies; of PyYAML, the C parser and the twelve submodules
#: whose classes it reads, not the package's ``__init__`` imports (resolver, loaders,
#: dumpers, cyaml).
CHECK_MODULES = frozenset({
    "compose_net", "compose_net.bounds", "compose_net.cli", "compose_net.commands",
    "compose_net.commands.check", "compose_net.commands.inputs", "compose_net.commands.options",
    "compose_net.config", "compose_net.discovery", "compose_net.document", "compose_net.engine",
    "compose_net.envfile", "compose_net.errors", "compose_net.fastschema",
    "compose_net.fastyaml", "compose_net.findings", "compose_net.interpolate",
    "compose_net.model", "compose_net.output", "compose_net.paths", "compose_net.policy",
    "compose_net.policy.addresses", "compose_net.policy.allowances", "compose_net.policy.binds",
    "compose_net.policy.collisions", "compose_net.policy.exposure", "compose_net.ports",
    "compose_net.pragmas", "compose_net.printable", "compose_net.project",
    "compose_net.redaction", "compose_net.report", "compose_net.rewrite", "compose_net.rules",
    "compose_net.rules.all_interfaces", "compose_net.rules.context",
    "compose_net.rules.duplicate_host_port", "compose_net.rules.host_network",
    "compose_net.rules.invalid_port", "compose_net.rules.public_address",
    "compose_net.rules.schema", "compose_net.rules.swarm_published",
    "compose_net.rules.unquoted_port", "compose_net.rules.variable_host_ip",
    "compose_net.rules.wrong_node_address", "compose_net.schema", "compose_net.source",
    "compose_net.stack", "compose_net.unit", "compose_net.yamltree",
    "yaml", "yaml._yaml", "yaml.composer", "yaml.constructor", "yaml.cyaml", "yaml.dumper",
    "yaml.emitter", "yaml.error", "yaml.events", "yaml.loader", "yaml.nodes", "yaml.parser",
    "yaml.reader", "yaml.representer", "yaml.resolver", "yaml.scanner", "yaml.serializer",
    "yaml.tokens",
})
#: a finding adds its fix (compose_net.fixes) and nothing else
CHECK_FINDING_MODULES = CHECK_MODULES | {"compose_net.fixes"}


def run_cli(args: list[str], text: str, tmp_path: Path) -> dict[str, Any]:
    """What the CLI returned and imported, run on ``text`` in a fresh interpreter."""
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
    result: dict[str, Any] = json.loads(report.read_text())
    result["stderr"] = proc.stderr
    return result


@pytest.mark.parametrize(
    ("args", "text", "code", "loads", "avoids"),
    [pytest.param(a, t, c, lo, av, id=i) for i, a, t, c, lo, av in CASES],
)
def test_imports(
    args: list[str], text: str, code: int, loads: set[str], avoids: set[str], tmp_path: Path
) -> None:
    result = run_cli(args, text, tmp_path)
    assert result["code"] == code, result["stderr"]
    loaded = set(result["loaded"])
    assert loads <= loaded
    assert not loaded & avoids


@pytest.mark.parametrize(
    ("args", "text", "code", "expected"),
    [
        pytest.param(["check", "--no-config"], CLEAN, 0, CHECK_MODULES, id="check-clean"),
        pytest.param(["check", "--no-config"], EXPOSED, 1, CHECK_FINDING_MODULES,
                     id="check-finding"),
    ],
)
def test_check_imports_exactly(
    args: list[str], text: str, code: int, expected: frozenset[str], tmp_path: Path
) -> None:
    result = run_cli(args, text, tmp_path)
    assert result["code"] == code, result["stderr"]
    loaded = set(result["modules"])
    assert sorted(loaded - expected) == [], "new imports on check's path"
    assert sorted(expected - loaded) == [], "no longer imported: take them off the list"


#: PyYAML imported after compose-net's parser is the whole package, with the same classes
YAML_AFTER = """\
import sys
{first}
from compose_net import fastyaml
import yaml
import yaml.error
assert fastyaml.AVAILABLE
assert yaml.safe_load("a: [1, yes]") == {{"a": [1, True]}}
assert yaml.safe_dump({{"a": 1}}) == "a: 1\\n"
assert yaml.__with_libyaml__ and yaml.CSafeLoader is yaml.cyaml.CSafeLoader
assert yaml.YAMLError is yaml.error.YAMLError is fastyaml.YAMLError
assert yaml.cyaml.CParser is fastyaml.CParser
assert type(yaml).__name__ == "module"
print(sorted(name for name in sys.modules if name.startswith("yaml.")))
"""


@pytest.mark.parametrize(
    "first",
    [
        pytest.param("", id="compose-net-first"),
        pytest.param("import yaml", id="yaml-first"),
    ],
)
def test_yaml_imported_later_is_the_whole_package(first: str) -> None:
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get(
        "PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-c", YAML_AFTER.format(first=first)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "'yaml.resolver'" in proc.stdout and "'yaml.cyaml'" in proc.stdout
