"""The libyaml composer (compose_net.fastyaml) gives ruamel.yaml's nodes, and harden's edits.

For every corpus file, every harden fixture and a table of awkward texts, both
parsers go through ``yamltree.compose``: they must fail with the same error, or
give node trees that are equal in every attribute compose-net reads (kind, tag,
value, quote style, flow style, anchor, explicit tag, start and end marks), with
aliases at the same places, and the same plain data. ``harden --diff`` must show
exactly what ``harden -o`` writes.

One family is the exception: a tab inside a plain scalar or before a comment
(``a<TAB>b: c``), which libyaml and Compose accept and ruamel refuses. There
compose-net follows libyaml and Compose, and every command gives the same verdict.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness import compose_binary, require

from compose_net import fastyaml, report, schema, source, yamltree
from compose_net.cli import main
from compose_net.errors import ComposeNetError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FIXTURES = Path(__file__).parent / "fixtures" / "harden"
BIND = "10.176.226.219"


def _corpus_files() -> list[str]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    rows = manifest.read_text(encoding="utf-8").splitlines()[1:]
    return [row.split("\t")[0] for row in rows]


CORPUS_FILES = _corpus_files()
FIXTURE_FILES = sorted(p.name for p in FIXTURES.glob("*.yaml"))


def _shape(root: Any) -> list[tuple[Any, ...]]:
    """Every node in document order with what compose-net reads of it; an alias as a back
    reference to the node it repeats."""
    out: list[tuple[Any, ...]] = []
    seen: dict[int, int] = {}

    def walk(node: Any) -> None:
        if id(node) in seen:
            out.append(("alias", seen[id(node)]))
            return
        seen[id(node)] = len(seen)
        start, end = node.start_mark, node.end_mark
        marks = (start.index, start.line, start.column, end.index, end.line, end.column)
        explicit = getattr(getattr(node, "ctag", None), "handle", None) is not None
        if node.id == "scalar":
            # ruamel marks the folds of a folded scalar with \a; scalar_value drops them
            value = node.value.replace("\a", "") if node.style == ">" else node.value
            out.append(("scalar", str(node.tag), value, node.style, node.anchor, explicit, marks))
            return
        out.append((node.id, str(node.tag), len(node.value), node.flow_style, node.anchor,
                    explicit, marks))
        for item in node.value:
            if node.id == "mapping":
                walk(item[0])
                walk(item[1])
            else:
                walk(item)

    walk(root)
    return out


def _plain(data: Any) -> str:
    """Plain data as comparable text (NaN is not equal to itself)."""
    if isinstance(data, float) and math.isnan(data):
        return "nan"
    if isinstance(data, dict):
        return "{" + ", ".join(f"{k!r}: {_plain(v)}" for k, v in data.items()) + "}"
    if isinstance(data, list):
        return "[" + ", ".join(_plain(v) for v in data) + "]"
    return f"{type(data).__name__}:{data!r}"


def _parse(
    text: str, parser: yamltree.Parser
) -> tuple[list[Any], tuple[str, int | None, int | None]]:
    """The root node of every YAML document of ``text``, or the error."""
    try:
        return yamltree.compose_all(text, "file.yml", parser=parser), ("", None, None)
    except ComposeNetError as e:
        return [], (e.message, e.line, e.column)


def _same(text: str) -> bool:
    """Assert both parsers agree on ``text``; True when the libyaml composer handled it."""
    fast_roots, fast_error = _parse(text, "fast")
    ruamel_roots, ruamel_error = _parse(text, "ruamel")
    assert fast_error == ruamel_error
    assert len(fast_roots) == len(ruamel_roots)
    for fast_root, ruamel_root in zip(fast_roots, ruamel_roots):
        assert _shape(fast_root) == _shape(ruamel_root)
        assert _plain(yamltree.to_plain(fast_root)) == _plain(yamltree.to_plain(ruamel_root))
        fast_data = schema.document_data(fast_root)
        assert _plain(fast_data) == _plain(schema.document_data(ruamel_root))
    try:
        return fastyaml.compose_all(text, max_depth=yamltree.MAX_DEPTH) is not None
    except fastyaml.TooDeep:  # refused by both, where it starts
        return False


# --------------------------------------------------------------------------- awkward texts

DEEP = "a: " + "[" * 150 + "1" + "]" * 150 + "\n"
TOO_DEEP = "a: " + "[" * 300 + "1" + "]" * 300 + "\n"
# each part is shallow, but the alias puts 120 levels under 120 levels
DEEP_BY_ALIAS = ("x: &x " + "[" * 120 + "1" + "]" * 120 + "\n"
                 "y: " + "[" * 120 + "*x" + "]" * 120 + "\n")

TEXTS = [
    # (id, text, composed by libyaml)
    ("plain-scalars-typed-as-yaml-1.2", "a: 22:22\nb: yes\nc: 0120\nd: 080\ne: 1_000\nf: .inf\n"
     "g: ~\nh: 2001-12-14\ni: =\nj: 0x1F\nk: 0o17\nl: 1e3\nm: .5\nn: +1\no: -.5e+3\np: .NaN\n"
     "q: TRUE\nr: Null\ns: <<\n", True),
    ("explicit-tags", 'a: !!int "80"\nb: !!str 80\nc: !reset null\nd: !override [1]\n'
     "e: ! 80\nf: !!float 1\ng: !!null\nh: !custom x\n", True),
    ("anchors-and-merge-keys", "x: &x {a: 1, p: [1]}\ny:\n  <<: *x\n  b: 2\nz: &s 5\n"
     "w: *s\nv:\n  <<: [*x, {c: 3}]\n", True),
    ("quoted-merge-key-is-a-key", 'x: &x {a: 1}\ny:\n  "<<": *x\n', True),
    ("empty-value-comment-then-key", "a:   # c\nb: 1\n", True),
    ("empty-value-comment-line", "a:\n# c\nb: 1\n", True),
    ("empty-value-comment-and-lines", "a:   # c\n# d\n\nb: 1\n", True),
    ("empty-value-comment-block-end", "x:\n  a:  # c\nb: 1\n", True),
    ("empty-value-comment-same-mapping", "x:\n  a:  # c\n\n  b: 1\n", True),
    ("empty-value-blank-and-comment", "x:\n  a:\n\n  # c\nb: 1\n", True),
    ("empty-value-at-end", "a:\n", True),
    ("empty-value-at-end-no-newline", "a:", True),
    ("empty-value-comment-at-end", "a:  # c", True),
    ("empty-value-before-document-end", "a:  # c\n...\n", True),
    ("empty-values-in-sequences", "- a:\n  b:\n- c\n", True),
    ("empty-value-indentless", "a:\n  - x:\n  - y\n", True),
    ("empty-sequence-entries", "- \n- # c\n-\n", True),
    ("explicit-key-empty-value", "? a\n: \n", True),
    ("empty-value-before-explicit-key", "a:\n? b\n: 1\n", False),
    ("empty-values-in-flow", "{a: , b: }\n", False),
    ("empty-document", "---\n", False),
    ("no-documents", "", True),
    ("comments-only", "# nothing\n", True),
    ("crlf", 'a: 1\r\nb:\r\n  - "80:80"\r\nc:\r\n', True),
    ("lone-cr", "a: 1\rb: 2\n", False),
    ("non-ascii-before-ports", 'é: "ü"\nx: 😀\nports:\n  - "80:80"\nb:\n', True),
    ("no-final-newline", "a:\n  b: [1, 2]\n  c: {d: e}", True),
    ("folded-and-literal", "a: >\n  one\n  two\n\n  three\nb: |\n  x\n  y\nc: >-\n  z\n", True),
    ("multi-line-plain-and-quotes", "a: one\n  two\nb: 'x''y'\nc: \"\\t\\u00e9\"\n", True),
    ("byte-order-mark", "\ufeffa: 1\n", False),
    ("tag-directive", "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", False),
    ("verbatim-tag", "a: !<tag:yaml.org,2002:str> 1\n", False),
    ("yaml-1.2-directive", "%YAML 1.2\n---\na: 1\n", True),
    ("yaml-1.1-directive", "%YAML 1.1\n---\na: 1\n", True),
    ("line-separator", 'a: "x\u2028y"\n', False),
    ("lone-surrogate", 'a: "\ud800"\n', False),
    ("several-documents", "a: 1\n---\nb: 2\n", True),
    ("documents-markers-and-ends", "---\na: 1\n...\n---\nb: [1]\n", True),
    ("documents-override-reset", 'services:\n  web:\n    ports: ["8080:80"]\n---\n'
     "services:\n  web:\n    ports: !override ['9090:80']\n  db: !reset\n", True),
    ("documents-anchor-reused", "a: &x 1\n---\nb: &x 2\nc: *x\n", True),
    ("documents-alias-across", "a: &x 1\n---\nb: *x\n", False),
    ("documents-empty-values", "a:\n---\nb:\n", True),
    ("documents-comments", "a:   # c\n---\n# d\nb: 1  # e\n", True),
    ("documents-crlf", "a:\r\n  - '8080:80'\r\n---\r\nb: !reset\r\n", True),
    ("documents-block-scalars", "a: >\n  x\n---\nb: |\n  y\n", True),
    ("documents-flow", "--- {a: 1}\n--- [1]\n", True),
    ("documents-no-final-newline", "a: 1\n---\nb: 2", True),
    ("documents-empty-between", "a: 1\n---\n---\nb: 2\n", False),
    ("documents-empty-last", "a: 1\n---\n", False),
    ("syntax-error", "a: [1\n", False),
    ("undefined-alias", "a: *x\n", False),
    ("reused-anchor", "a: &x 1\nb: &x 2\nc: *x\n", True),
    ("recursive-alias", "a: &x [*x]\n", True),
    ("duplicate-key", "a: 1\nb: 2\na: 3\n", True),
    ("duplicate-key-typed-differently", "80: a\n'80': b\n", True),
    ("mapping-as-key", "? [a]\n: 1\n", True),
    ("deep-but-allowed", DEEP, True),
    ("too-deep", TOO_DEEP, False),
    ("too-deep-through-an-alias", DEEP_BY_ALIAS, True),
]


@pytest.mark.parametrize(("text", "fast"), [pytest.param(t, f, id=i) for i, t, f in TEXTS])
def test_awkward_texts(text: str, fast: bool) -> None:
    assert _same(text) is fast


@pytest.mark.parametrize(
    ("parser", "module"),
    [
        pytest.param("fast", "compose_net.fastyaml", id="fast-by-default"),
        pytest.param("ruamel", "ruamel.yaml", id="ruamel-when-named"),
        pytest.param("libyaml", None, id="unknown-refused"),
    ],
)
def test_the_parser_is_chosen_per_call(parser: str, module: str | None) -> None:
    """No module state picks the parser: each call names it (libyaml's by default)."""
    if module is None:
        with pytest.raises(ValueError, match="unknown YAML parser"):
            yamltree.compose_all("a: 1\n", "f.yml", parser=parser)  # type: ignore[arg-type]
        return
    chosen: yamltree.Parser = "ruamel" if parser == "ruamel" else "fast"
    root = (yamltree.compose("a: 1\n", "f.yml") if parser == "fast"
            else yamltree.compose("a: 1\n", "f.yml", parser=chosen))
    assert type(root).__module__.startswith(module)
    assert yamltree.to_plain(root) == {"a": 1}


# --------------------------------------------------------------------------- real files


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in FIXTURE_FILES])
def test_harden_fixtures(name: str) -> None:
    assert _same(source.read(str(FIXTURES / name)).text)


@pytest.mark.slow
def test_corpus() -> None:
    require(bool(CORPUS_FILES), f"the corpus is not at {CORPUS}")
    fast = 0
    for rel in CORPUS_FILES:
        try:
            fast += _same(source.read(str(CORPUS / rel)).text)
        except AssertionError as e:
            raise AssertionError(f"{rel}: {e}") from None
    # only the two files that are not YAML at all go to ruamel (for its error message)
    assert fast == len(CORPUS_FILES) - 2


# --------------------------------------------------------------------------- harden's edits


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _diff_equals_write(path: Path, args: list[str], tmp: Path) -> None:
    """``harden --diff`` shows exactly the change ``harden -o`` writes."""
    written = tmp / "out.yaml"
    written.unlink(missing_ok=True)
    code, _, err = _cli(["harden", "--no-config", "-q", *args, "-o", str(written), str(path)])
    diff_code, diff, diff_err = _cli(["harden", "--no-config", "-q", *args, "--diff", str(path)])
    assert diff_err == err.replace(str(written), str(path))
    # --diff exits 1 when the file would change, as --check does; otherwise as the write did
    assert diff_code == (1 if code != 2 and diff else code)
    if code != 2:
        original = source.read(str(path))
        expected = report.unified_diff(str(path), original.text, source.read(str(written)).text)
        assert diff == expected


@pytest.mark.parametrize(
    "case", [pytest.param(n[: -len(".in.yaml")], id=n) for n in FIXTURE_FILES if ".in." in n]
)
def test_harden_diff_is_what_harden_writes_fixtures(case: str, tmp_path: Path) -> None:
    args = shlex.split((FIXTURES / f"{case}.args").read_text())
    _diff_equals_write(FIXTURES / f"{case}.in.yaml", args, tmp_path)


@pytest.mark.slow
def test_harden_diff_is_what_harden_writes_corpus(tmp_path: Path) -> None:
    require(bool(CORPUS_FILES), f"the corpus is not at {CORPUS}")
    for rel in CORPUS_FILES:
        try:
            _diff_equals_write(CORPUS / rel, ["--bind", BIND], tmp_path)
        except AssertionError as e:
            raise AssertionError(f"{rel}: {e}") from None


# --------------------------------------------------------------------------- tabs

_TAB_BASE = "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n"
_TAB_PORT = "services:\n  web:\n    image: nginx\n    ports:\n      - "

# (id, text, Compose accepts it)
TAB_TEXTS = [
    ("inside-a-key", _TAB_BASE + "    labels:\n      a\tb: c\n", True),
    ("inside-a-value", _TAB_BASE + "    labels:\n      a: b\tc\n", True),
    ("after-a-colon", _TAB_BASE + "    labels:\n      a:\tb\n", True),
    ("before-a-colon", _TAB_BASE + "    labels:\n      a\t: c\n", True),
    ("after-a-value", _TAB_BASE + "    labels:\n      a: b\t\n", True),
    ("before-a-comment", _TAB_BASE + "    labels:\n      a: b\t# c\n", True),
    ("in-a-multi-line-value", _TAB_BASE + "    command: a\tb\n      c\td\n", True),
    ("in-a-flow-sequence", _TAB_BASE + "    labels: [a,\tb]\n", True),
    ("after-a-port", _TAB_PORT + "80:80\t\n", True),
    ("after-a-quoted-port", _TAB_PORT + "'80:80'\t# public\n", True),
    ("in-a-long-port", _TAB_PORT + "target:\t80\n        published:\t8080\n", True),
    ("as-indentation", _TAB_BASE + "    labels:\n\ta: b\n", False),
    ("after-a-dash", _TAB_PORT[: -len("- ")] + "-\t'80:80'\n", False),
    ("before-a-key", _TAB_BASE + "    labels:\n      \ta: c\n", False),
    ("in-a-continuation-indent", _TAB_BASE + "    command: a\n\tb\n", False),
]


def _compose_accepts(path: Path) -> bool:
    proc = subprocess.run(
        [compose_binary(), "-f", str(path), "config", "-q"],
        capture_output=True, timeout=60, check=False, cwd=path.parent,
    )
    return proc.returncode == 0


def _compose_ports(path: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [compose_binary(), "-f", str(path), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=True, cwd=path.parent,
    )
    ports: list[dict[str, Any]] = json.loads(proc.stdout)["services"]["web"].get("ports", [])
    return ports


@pytest.mark.parametrize(
    ("text", "accepted"), [pytest.param(t, a, id=i) for i, t, a in TAB_TEXTS]
)
def test_tabs_one_verdict_in_every_command(text: str, accepted: bool, tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    assert _compose_accepts(path) is accepted
    verdicts = {
        "validate": _cli(["validate", str(path)])[0],
        "check": _cli(["check", "--no-config", str(path)])[0],
        "harden --check": _cli(["harden", "--no-config", "--bind", BIND, "--check", str(path)])[0],
        "harden --diff": _cli(["harden", "--no-config", "--bind", BIND, "--diff", str(path)])[0],
    }
    assert path.read_text() == text
    code, _, err = _cli(["harden", "--no-config", "--bind", BIND, str(path)])
    verdicts["harden"] = code
    if accepted:
        assert verdicts == {
            "validate": 0, "check": 1, "harden --check": 1, "harden --diff": 1, "harden": 0
        }, err
        assert [p.get("host_ip") for p in _compose_ports(path)] == [BIND]
        assert _cli(["harden", "--no-config", "--bind", BIND, "--check", str(path)])[0] == 0
    else:
        assert set(verdicts.values()) == {2}, verdicts
        assert path.read_text() == text
