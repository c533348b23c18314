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
        pytest.param("compose_net.commands.options", 9, id="the-invocation-objects"),
        pytest.param("compose_net.commands.other_options", 9, id="the-other-invocation-objects"),
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


#: the modules that may call ``config.find`` are below the commands: a command or the command
#: line asks compose_net.unit (or engine.Session) for a file's configuration
NO_CONFIG_SEARCH = ("compose_net.commands", "compose_net.cli", "compose_net.__main__",
                    "compose_net.entry")


def config_searches(source: str) -> list[str]:
    """Every call in ``source`` of ``compose_net.config.find`` (by any name it is imported
    as) or of a run's ``Lookup.find``, as ``line: call``."""
    tree = ast.parse(source)
    modules = {"compose_net.config"}  # names the config module goes by
    functions: set[str] = set()  # names its find goes by
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "compose_net.config" and a.asname:
                    modules.add(a.asname)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for a in node.names:
                if node.module == "compose_net" and a.name == "config":
                    modules.add(a.asname or "config")
                elif node.module == "compose_net.config" and a.name == "find":
                    functions.add(a.asname or "find")
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in functions:
            found.append(f"{node.lineno}: {func.id}()")
        elif isinstance(func, ast.Attribute) and func.attr == "find":
            owner = ast.unparse(func.value)
            last = owner.rsplit(".", 1)[-1]
            if owner in modules or last == "lookup" or owner.endswith("Lookup()"):
                found.append(f"{node.lineno}: {owner}.find()")
    return found


@pytest.mark.parametrize(
    "module", sorted(m for m in GRAPH if m.startswith(NO_CONFIG_SEARCH))
)
def test_commands_do_not_look_for_the_configuration(module: str) -> None:
    """A file's configuration is its own (compose_net.unit finds it from the file's folder),
    never one a command or the command line looks up from wherever it is run."""
    found = config_searches(modules()[module].read_text(encoding="utf-8"))
    assert found == [], f"{module} searches for the configuration itself: {found}"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("from compose_net import config\nconfig.find('.')",
                     ["2: config.find()"], id="module-imported"),
        pytest.param("from compose_net import config as c\nc.find(p)", ["2: c.find()"],
                     id="module-renamed"),
        pytest.param("import compose_net.config\ncompose_net.config.find(p)",
                     ["2: compose_net.config.find()"], id="dotted"),
        pytest.param("from compose_net.config import find as look\nlook(p)", ["2: look()"],
                     id="function-imported"),
        pytest.param("opts.lookup.find(p)", ["1: opts.lookup.find()"], id="a-runs-lookup"),
        pytest.param("config.Lookup().find(p)", ["1: config.Lookup().find()"],
                     id="a-lookup-of-its-own"),
        pytest.param("unit.configuration(p, lookup=opts.lookup)", [], id="through-unit"),
        pytest.param("text.find('#')", [], id="str-find"),
        pytest.param("from compose_net import config\nconfig.Lookup(True)", [],
                     id="making-the-runs-lookup"),
    ],
)  # fmt: skip
def test_config_searches_are_found(code: str, expected: list[str]) -> None:
    assert config_searches(code) == expected


# --------------------------------------------------------------------------- module state

#: methods that change a container (or set a ContextVar) in place
MUTATORS = frozenset({
    "append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove",
    "discard", "clear", "sort", "reverse", "set", "appendleft", "extendleft", "__setitem__",
    "__delitem__", "difference_update", "intersection_update", "symmetric_difference_update",
})
#: calls whose result is a mutable container (by the name called, any module)
CONTAINERS = frozenset({
    "dict", "list", "set", "defaultdict", "OrderedDict", "bytearray", "ContextVar", "Counter",
    "deque", "ChainMap",
})
#: modules that still keep run data in module containers, and why they may for now
STATE_ALLOWED: dict[str, str] = {
    # the one exception, by design: the run's Redactor (the values to hide in whatever is
    # printed) is reached through a context variable that cli.main and each language-server
    # request set and reset around their run, so the printers at the bottom need no argument
    # threaded through every caller; no value outlives its run (tests/redaction_test.py)
    "compose_net.redaction": "the run's redactor, a context variable set per run",
}


def _mutable(value: ast.expr) -> bool:
    if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp,
                          ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else (
            func.attr if isinstance(func, ast.Attribute) else "")
        return name in CONTAINERS
    return False


def _containers(tree: ast.Module) -> dict[str, int]:
    """Module-level names bound to a mutable container -> the line that binds them."""
    out: dict[str, int] = {}
    for stmt in tree.body:
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple):
                    pairs += list(zip(target.elts, stmt.value.elts))
                else:
                    pairs.append((target, stmt.value))
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            pairs.append((stmt.target, stmt.value))
        for target, value in pairs:
            if isinstance(target, ast.Name) and _mutable(value):
                out.setdefault(target.id, stmt.lineno)
    return out


def _bound_locally(func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """The names a function binds itself (its parameters, its assignments), unless it
    declares them global: they hide module names of the same spelling."""
    args = func.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    declared: set[str] = set()
    body = func.body if isinstance(func.body, list) else [func.body]
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global):
            declared.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                 ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return names - declared


def _mutated(node: ast.AST) -> ast.expr | None:
    """What ``node`` changes in place, when it is a mutation: the subscripted object of a
    store or delete, the target of an augmented assignment, the owner of a mutating call;
    an item of a container counts as the container (``_BY[k].append(x)`` changes ``_BY``)."""
    changed: ast.expr | None = None
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
        changed = node.value
    elif isinstance(node, ast.AugAssign):
        changed = node.target
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS):
        changed = node.func.value
    while isinstance(changed, ast.Subscript):
        changed = changed.value
    return changed


def module_state(sources: dict[str, str]) -> list[tuple[str, str]]:
    """(module it concerns, what) for every ``global`` statement in ``sources`` (module
    name -> text) and every mutation, in any module, of a module-level name bound to a
    mutable container. A memo of a pure function (functools.cache, lru_cache) is no
    container; a constant table that nothing changes is none of this."""
    trees = {name: ast.parse(text) for name, text in sources.items()}
    owned = {name: _containers(tree) for name, tree in trees.items()}
    found: list[tuple[str, str]] = []
    for module, tree in trees.items():
        found += _state_in(module, tree, owned)
    return found


def _state_in(
    module: str, tree: ast.Module, owned: dict[str, dict[str, int]]
) -> list[tuple[str, str]]:
    """:func:`module_state` of one module's text (``owned``: each module's containers)."""
    aliases: dict[str, str] = {}  # a name here -> the module it is
    imported: dict[str, tuple[str, str]] = {}  # a name here -> (module, its container)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in owned:
                    aliases[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in owned:
                    aliases[a.asname or a.name] = full
                elif a.name in owned.get(node.module, {}):
                    imported[a.asname or a.name] = (node.module, a.name)
    found: list[tuple[str, str]] = []

    def owner_of(target: ast.expr | None, hidden: frozenset[str]) -> tuple[str, str] | None:
        if isinstance(target, ast.Name) and target.id not in hidden:
            if target.id in owned[module]:
                return module, target.id
            return imported.get(target.id)
        if isinstance(target, ast.Attribute):
            spelled = ast.unparse(target.value)
            owner = aliases.get(spelled) or (spelled if spelled in owned else None)
            if owner is not None and target.attr in owned[owner]:
                return owner, target.attr
        return None

    def visit(node: ast.AST, hidden: frozenset[str]) -> None:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Global):
            found.append((module, f"{module}:{line}: global {', '.join(node.names)}"))
        changed = owner_of(_mutated(node), hidden)
        if changed is not None:
            owner, name = changed
            found.append((owner, f"{module}:{line}: {name} (bound at {owner}:"
                                 f"{owned[owner][name]}) is changed at run time"))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            hidden = hidden | _bound_locally(node)
        for child in ast.iter_child_nodes(node):
            visit(child, hidden)

    visit(tree, frozenset())
    return found


def _package_sources() -> dict[str, str]:
    return {name: path.read_text(encoding="utf-8") for name, path in modules().items()}


STATE = module_state(_package_sources())


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_state(module: str) -> None:
    """No run's data lives in a module: what a file or a run needs travels in the objects
    that carry it (engine.Session, the documents, config.Lookup, source.Parsed). Memos of
    pure functions of constant data use functools.cache or lru_cache; constant tables are
    read-only (MappingProxyType, frozenset, tuple) or never changed."""
    found = [what for owner, what in STATE if owner == module]
    if module in STATE_ALLOWED:
        assert found, f"{module} keeps no module state now: remove it from STATE_ALLOWED"
        return
    assert found == [], f"module state in {module}: {found}"


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        pytest.param({"compose_net.m": "X = None\ndef f():\n    global X\n    X = 1\n"},
                     ["compose_net.m:3: global X"], id="global-statement"),
        pytest.param({"compose_net.m": "_SEEN = []\ndef f(x):\n    _SEEN.append(x)\n"},
                     ["compose_net.m:3: _SEEN (bound at compose_net.m:1) is changed at run time"],
                     id="list-appended"),
        pytest.param({"compose_net.m": "_C: dict[str, int] = {}\ndef f(k):\n    _C[k] = 1\n"},
                     ["compose_net.m:3: _C (bound at compose_net.m:1) is changed at run time"],
                     id="dict-subscript-store"),
        pytest.param({"compose_net.m": "_C = dict()\ndef f(k):\n    del _C[k]\n"},
                     ["compose_net.m:3: _C (bound at compose_net.m:1) is changed at run time"],
                     id="dict-subscript-delete"),
        pytest.param({"compose_net.m": "_L = [x for x in 'ab']\n_L += ['c']\n"},
                     ["compose_net.m:2: _L (bound at compose_net.m:1) is changed at run time"],
                     id="augmented-assignment"),
        pytest.param({"compose_net.m": "import contextvars\n"
                                       "_P = contextvars.ContextVar('p', default=1)\n"
                                       "def f():\n    _P.set(2)\n"},
                     ["compose_net.m:4: _P (bound at compose_net.m:2) is changed at run time"],
                     id="contextvar-set"),
        pytest.param({"compose_net.m": "import collections\n_D = collections.defaultdict(list)\n"
                                       "def f(k):\n    _D[k].append(1)\n    _D.clear()\n"},
                     ["compose_net.m:4: _D (bound at compose_net.m:2) is changed at run time",
                      "compose_net.m:5: _D (bound at compose_net.m:2) is changed at run time"],
                     id="defaultdict-item-and-all"),
        pytest.param({"compose_net.m": "_S = set()\n",
                      "compose_net.n": "from compose_net import m\ndef f():\n    m._S.add(1)\n"},
                     ["compose_net.n:3: _S (bound at compose_net.m:1) is changed at run time"],
                     id="changed-from-another-module"),
        pytest.param({"compose_net.m": "_S = {1}\n",
                      "compose_net.n": "from compose_net.m import _S as s\ndef f():\n"
                                       "    s.discard(1)\n"},
                     ["compose_net.n:3: _S (bound at compose_net.m:1) is changed at run time"],
                     id="imported-by-name"),
        pytest.param({"compose_net.m": "import compose_net.m\n_Q = []\n"
                                       "def f():\n    compose_net.m._Q.insert(0, 1)\n"},
                     ["compose_net.m:4: _Q (bound at compose_net.m:2) is changed at run time"],
                     id="through-its-dotted-name"),
        pytest.param({"compose_net.m": "X = {}\ndef f():\n    X = {}\n    X['a'] = 1\n"}, [],
                     id="a-local-of-the-same-name"),
        pytest.param({"compose_net.m": "X = {}\ndef f(X):\n    X.update(a=1)\n"}, [],
                     id="a-parameter-of-the-same-name"),
        pytest.param({"compose_net.m": "TABLE = {'a': 1}\ndef f(k):\n    return TABLE.get(k)\n"},
                     [], id="a-table-read-only"),
        pytest.param({"compose_net.m": "import functools\n@functools.cache\n"
                                       "def f(k):\n    return k * 2\n"}, [], id="a-pure-memo"),
        pytest.param({"compose_net.m": "from types import MappingProxyType\n"
                                       "T = MappingProxyType({'a': 1})\n"}, [],
                     id="a-read-only-mapping"),
    ],
)  # fmt: skip
def test_module_state_is_found(sources: dict[str, str], expected: list[str]) -> None:
    assert [what for _, what in module_state(sources)] == expected


# --------------------------------------------------------------------------- parameters

#: the most parameters a function or method takes (self and cls not counted; ``*args`` and
#: ``**kwargs`` one each): past it, the values travel together as one frozen object
#: (compose_net.commands.options: one per command)
MAX_PARAMETERS = 12


def _decorated_static(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


def parameter_counts(source: str) -> list[tuple[str, int]]:
    """(qualified name, parameters) of every function and method in ``source``, nested
    ones too."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", True)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = child.args
                count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
                count += (args.vararg is not None) + (args.kwarg is not None)
                positional = [*args.posonlyargs, *args.args]
                if (
                    in_class
                    and not _decorated_static(child)
                    and positional
                    and positional[0].arg in ("self", "cls")
                ):
                    count -= 1
                found.append((prefix + child.name, count))
                visit(child, f"{prefix}{child.name}.", False)
            else:
                visit(child, prefix, in_class)

    visit(ast.parse(source), "", False)
    return found


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_function_takes_too_many_parameters(module: str) -> None:
    path = modules()[module]
    where = path.relative_to(PACKAGE.parent).as_posix()
    offenders = [
        f"{where}:{name} ({count})"
        for name, count in parameter_counts(path.read_text(encoding="utf-8"))
        if count > MAX_PARAMETERS
    ]
    assert offenders == [], f"more than {MAX_PARAMETERS} parameters: {offenders}"


def _params(n: int) -> str:
    return ", ".join(f"p{i}" for i in range(n))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("def f(): pass", [("f", 0)], id="none"),
        pytest.param(f"def f({_params(12)}): pass", [("f", 12)], id="twelve"),
        pytest.param(f"def f({_params(13)}): pass", [("f", 13)], id="thirteen"),
        pytest.param("def f(a, /, b, *, c): pass", [("f", 3)], id="positional-and-keyword-only"),
        pytest.param("def f(a, *args, b, **kwargs): pass", [("f", 4)], id="star-args-count-one"),
        pytest.param("async def f(a, b): pass", [("f", 2)], id="async"),
        pytest.param("class C:\n def m(self, a): pass", [("C.m", 1)], id="self-not-counted"),
        pytest.param(
            "class C:\n @classmethod\n def m(cls, a): pass", [("C.m", 1)], id="cls-not-counted"
        ),
        pytest.param(
            "class C:\n @staticmethod\n def m(a, b): pass", [("C.m", 2)], id="static-counts-all"
        ),
        pytest.param("def self(self, a): pass", [("self", 2)], id="self-outside-a-class-counts"),
        pytest.param(
            "def f(a):\n def g(self, b, c): pass",
            [("f", 1), ("f.g", 3)],
            id="nested-function",
        ),
        pytest.param(
            "class C:\n class D:\n  def m(self, **kw): pass",
            [("C.D.m", 1)],
            id="nested-class",
        ),
        pytest.param(
            "if True:\n def f(a, b): pass", [("f", 2)], id="function-under-a-statement"
        ),
    ],
)
def test_parameters_are_counted(code: str, expected: list[tuple[str, int]]) -> None:
    assert parameter_counts(code) == expected


# --------------------------------------------------------------- harden below the command

def _calls(path: Path) -> set[str]:
    """``module.function`` for every call of an attribute of a name in ``path``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name):
                out.add(f"{owner.id}.{node.func.attr}")
    return out



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
