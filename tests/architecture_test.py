"""The import graph: layers from bytes to findings to fixes to commands, imports only downward.

Every module of the package has a layer (README, "Architecture"); a module may import
modules of its own layer or below, never above, and no import cycle exists (imports inside
``if TYPE_CHECKING:`` count for the layers, not for cycles, since they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "compose_net"

#: Layer of each module, by longest matching name prefix, lowest first.
LAYERS: tuple[tuple[str, ...], ...] = (
    # 0: bytes, text and the primitives every layer may use
    ("compose_net", "compose_net.errors", "compose_net.source", "compose_net.report",
     "compose_net.interpolate", "compose_net.fastschema", "compose_net.printable",
     "compose_net.redaction", "compose_net.bounds", "compose_net.paths"),
    # 1: YAML nodes (two composers, one typed interface); what an address is; variables
    ("compose_net.yamltree", "compose_net.fastyaml", "compose_net.policy.addresses",
     "compose_net.envfile", "compose_net.policy"),
    # 2: the port grammar and the rest of the policy core (pure decisions on text and numbers)
    ("compose_net.ports", "compose_net.pragmas", "compose_net.policy.exposure",
     "compose_net.policy.allowances", "compose_net.policy.collisions"),
    # 3: a parsed file: services and port entries; the one edit toolkit (splices, structural edits)
    ("compose_net.document", "compose_net.rewrite"),
    # 4: what a document means: Compose's model, schema, swarm signals, node addresses
    ("compose_net.model", "compose_net.schema", "compose_net.stack", "compose_net.policy.binds",
     "compose_net.findings", "compose_net.config", "compose_net.discovery"),
    # 5: projects of several files; fixes and their proof
    ("compose_net.project", "compose_net.fixes", "compose_net.proof"),
    # 6: the rules
    ("compose_net.rules.",),
    # 7: running the rules; where nodes and their addresses come from; swarm and live views
    ("compose_net.rules", "compose_net.rules.__main__", "compose_net.engine", "compose_net.unit",
     "compose_net.resolvers", "compose_net.swarm", "compose_net.live"),
    # 8: applying fixes; formatting findings
    ("compose_net.harden", "compose_net.hardening", "compose_net.output"),
    # 9: the commands, then the command line
    ("compose_net.commands",),
    # 10: the language server, on the commands
    ("compose_net.server",),
    ("compose_net.cli", "compose_net.__main__", "compose_net.entry"),
)


def layer(module: str) -> int:
    best, rank = -1, -1
    for i, names in enumerate(LAYERS):
        for name in names:
            hit = module == name or (name.endswith(".") and module.startswith(name)) or (
                name != "compose_net" and module.startswith(name + ".")
            )
            if hit and len(name) > best:
                best, rank = len(name), i
    if rank < 0:
        raise AssertionError(f"{module} has no layer: add it to LAYERS")
    return rank


def modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path, known: dict[str, Path]) -> list[tuple[str, bool]]:
    """(module imported, at run time?) for every compose_net import in ``path``."""
    out: list[tuple[str, bool]] = []

    def visit(node: ast.AST, runtime: bool) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.body:
                visit(child, False)
            for child in node.orelse:
                visit(child, runtime)
            return
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "compose_net":
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    out.append((full if full in known else node.module, runtime))
        elif isinstance(node, ast.Import):
            out.extend((a.name, runtime) for a in node.names if a.name.startswith("compose_net"))
        for child in ast.iter_child_nodes(node):
            visit(child, runtime)

    visit(ast.parse(path.read_text(encoding="utf-8")), True)
    return out


GRAPH = {name: imports(path, modules()) for name, path in modules().items()}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module: str) -> None:
    upward = [
        target for target, _ in GRAPH[module]
        if target != module and layer(target) > layer(module)
    ]
    assert upward == [], f"{module} (layer {layer(module)}) imports upward: {upward}"


def test_no_cycles() -> None:
    runtime = {m: {t for t, live in deps if live and t in GRAPH and t != m}
               for m, deps in GRAPH.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(runtime[m]):
            if state.get(t) == 1:
                return [*stack[stack.index(t):], t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(runtime):
        if m not in state:
            cycle = visit(m)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        pytest.param("compose_net.policy.exposure", 2, id="policy-core-low"),
        pytest.param("compose_net.rules.all_interfaces", 6, id="a-rule"),
        pytest.param("compose_net.harden", 8, id="harden-above-engine"),
        pytest.param("compose_net.hardening", 8, id="hardening-beside-harden"),
        pytest.param("compose_net.commands.check", 9, id="a-command"),
    ],
)
def test_layer_table(module: str, expected: int) -> None:
    assert layer(module) == expected


def test_node_type_is_not_any() -> None:
    text = (PACKAGE / "yamltree.py").read_text(encoding="utf-8")
    assert "Node = Any" not in text


# --------------------------------------------------------------------------- file access

#: the modules that may open, create, rename or remove a path: the path policy and the
#: reader and writer it guards (compose_net.paths, docs/paths.md)
FILE_ACCESS = ("compose_net.paths", "compose_net.source")
#: calls that touch a file, by the module they are called on ("" for any object: Path)
_FILE_CALLS = {
    "": {"open", "read_text", "read_bytes", "write_text", "write_bytes", "touch"},
    "os": {"open", "fdopen", "replace", "rename", "renames", "link", "symlink", "unlink",
           "remove", "truncate", "mkfifo", "mknod", "makedirs", "mkdir", "rmdir"},
    "io": {"open", "FileIO"},
    "shutil": {"copy", "copy2", "copyfile", "copyfileobj", "move", "rmtree", "copytree"},
    "tempfile": {"mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile",
                 "SpooledTemporaryFile", "TemporaryDirectory"},
    "codecs": {"open"},
}


def file_access(source: str) -> list[str]:
    """Every call in ``source`` that opens, writes, renames or removes a path, as
    ``line: call``; an import of such a function by name counts too."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module in _FILE_CALLS:
            found += [f"{node.lineno}: from {node.module} import {a.name}"
                      for a in node.names if a.name in _FILE_CALLS[node.module]]
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            found.append(f"{node.lineno}: open()")
        elif isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else ""
            if func.attr in _FILE_CALLS[""] and owner not in ("os", "io", "codecs"):
                found.append(f"{node.lineno}: .{func.attr}()")
            elif func.attr in _FILE_CALLS.get(owner, set()):
                found.append(f"{node.lineno}: {owner}.{func.attr}()")
    return found


@pytest.mark.parametrize("module", sorted(set(GRAPH) - set(FILE_ACCESS)))
def test_only_the_path_policy_touches_files(module: str) -> None:
    """No module but the path policy and source opens a path: every file read or written
    goes through the one place that decides whether it may be."""
    text = modules()[module].read_text(encoding="utf-8")
    assert file_access(text) == [], f"{module} touches files itself: use compose_net.source"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("open('x')", ["1: open()"], id="open"),
        pytest.param("with open(p, 'w') as f: pass", ["1: open()"], id="open-for-writing"),
        pytest.param("Path(p).read_text()", ["1: .read_text()"], id="path-read-text"),
        pytest.param("p.write_bytes(b'')", ["1: .write_bytes()"], id="path-write-bytes"),
        pytest.param("p.open('rb')", ["1: .open()"], id="path-open"),
        pytest.param("os.replace(a, b)", ["1: os.replace()"], id="os-replace"),
        pytest.param("os.open(p, 0)", ["1: os.open()"], id="os-open"),
        pytest.param("os.unlink(p)", ["1: os.unlink()"], id="os-unlink"),
        pytest.param("shutil.copy2(a, b)", ["1: shutil.copy2()"], id="shutil-copy"),
        pytest.param("tempfile.mkstemp()", ["1: tempfile.mkstemp()"], id="mkstemp"),
        pytest.param("from os import replace", ["1: from os import replace"], id="import-by-name"),
        pytest.param("text.replace('a', 'b')", [], id="str-replace-is-no-file"),
        pytest.param("os.path.join(a, b)", [], id="a-path-is-no-access"),
    ],
)
def test_file_access_is_found(code: str, expected: list[str]) -> None:
    assert file_access(code) == expected


def _calls(path: Path) -> set[str]:
    """``module.function`` for every call of an attribute of a name in ``path``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name):
                out.add(f"{owner.id}.{node.func.attr}")
    return out


@pytest.mark.parametrize(
    "module", sorted(m for m in GRAPH if m.startswith("compose_net.commands"))
)
def test_commands_do_not_look_for_the_configuration(module: str) -> None:
    """A file's configuration is its own (compose_net.unit finds it from the file's folder),
    never one a command looks up from wherever it is run."""
    path = modules()[module]
    found = {call for call in _calls(path) if call.endswith(".find") and "config" in call}
    assert found == set(), f"{module} calls {sorted(found)}"


# --------------------------------------------------------------- harden below the command

#: the modules that may import the harden command: the command line, and check (whose --fix
#: is harden's command, options and all)
HARDEN_COMMAND_USERS = ("compose_net.cli", "compose_net.commands.check")


def _names_used(path: Path, module: str) -> set[str]:
    """The names ``path`` takes of ``module``: imported by name, or as attributes of it."""
    package, _, leaf = module.rpartition(".")
    aliases: set[str] = set()
    out: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module:
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            aliases.update(a.asname or a.name for a in node.names if a.name == leaf)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases):
            out.add(node.attr)
    return out


def test_only_the_command_line_imports_the_harden_command() -> None:
    """Harden is a function of its inputs (compose_net.hardening): what else needs it calls
    that, not the command."""
    users = sorted(
        m for m, deps in GRAPH.items()
        if m != "compose_net.commands.harden"
        and any(t == "compose_net.commands.harden" for t, _ in deps)
    )
    assert set(users) <= set(HARDEN_COMMAND_USERS), users


@pytest.mark.parametrize("module", HARDEN_COMMAND_USERS)
def test_the_harden_command_is_used_by_its_public_names(module: str) -> None:
    """No private function of the command is called from outside it, and its pipeline (the
    planned fixes check reports) is not asked of it."""
    used = _names_used(modules()[module], "compose_net.commands.harden")
    assert used, f"{module} no longer uses the harden command: drop it from the table"
    inner = sorted(n for n in used if n.startswith("_") or n == "planned_fixes")
    assert inner == [], f"{module} uses {inner} of compose_net.commands.harden"


@pytest.mark.parametrize(
    "module", sorted(m for m in GRAPH if m.startswith("compose_net.server"))
)
def test_the_server_hardens_through_the_hardening_module(module: str) -> None:
    found = [t for t, _ in GRAPH[module] if t == "compose_net.commands.harden"]
    assert found == [], f"{module} imports the harden command"


@pytest.mark.parametrize(
    ("module", "call"),
    [
        pytest.param("compose_net.commands.harden", "hardening.Run", id="harden-command"),
        pytest.param("compose_net.commands.check", "hardening.planned_fixes", id="check-fixes"),
        pytest.param("compose_net.server.analysis", "hardening.Run", id="server"),
    ],
)
def test_hardening_is_called_through_its_api(module: str, call: str) -> None:
    assert call in _calls(modules()[module])


#: the modules whose functions are harden's pipeline (lint, choose, settle, render, prove,
#: schema check, the stack strategies, the rules)
PIPELINE = ("harden", "engine", "model", "schema", "stack", "document", "strategies", "proof",
            "fixes", "rules")


def test_the_harden_command_runs_no_step_of_the_pipeline() -> None:
    """commands/harden.py reads the inputs, writes back and reports; the steps are below."""
    steps = sorted(
        c for c in _calls(modules()["compose_net.commands.harden"])
        if c.split(".")[0] in PIPELINE
    )
    assert steps == []
