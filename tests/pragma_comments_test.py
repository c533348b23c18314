"""A pragma is a YAML comment, never text inside a scalar.

Each row is a file whose ``"6379:6379"`` entry is public, with ``# compose-net: allow`` either
in a real comment on the entry's line (allowed: check exits 0, harden leaves the entry) or
somewhere that is no comment: in a quoted, plain or block scalar, in a flow collection, on the
line of another entry (not allowed: check reports CN001 and exits 1, harden binds the entry and
exits 0, and the swarm strategy unpublishes it). Run in process, and a few rows as root and as
``nobody`` in a bounded child.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import bounded

from compose_net import pragmas, yamltree
from compose_net.cli import main

PRAGMA = "# compose-net: allow"
BIND = "10.0.0.5"

# (text, allowed): the entry under test is always "6379:6379"
CASES = {
    # -- not a comment: the port must be reported and fixed
    "double-quoted-in-flow-mapping": (
        "services:\n"
        f'  cache: {{image: redis, labels: {{note: "see {PRAGMA}"}}, ports: ["6379:6379"]}}\n',
        False,
    ),
    "double-quoted-before-entry": (
        "services:\n"
        "  cache:\n"
        "    image: redis\n"
        f'    ports: [{{target: 1, published: 2, host_ip: "127.0.0.1", name: "{PRAGMA}"}}, '
        '"6379:6379"]\n',
        False,
    ),
    "single-quoted-in-flow-mapping": (
        "services:\n"
        f"  cache: {{image: redis, labels: {{note: 'see {PRAGMA}'}}, ports: ['6379:6379']}}\n",
        False,
    ),
    "single-quoted-escaped-quote": (
        "services:\n"
        f"  cache: {{image: redis, labels: {{note: 'it''s {PRAGMA}'}}, ports: ['6379:6379']}}\n",
        False,
    ),
    "double-quoted-escaped-quote": (
        "services:\n"
        f'  cache: {{image: redis, labels: {{note: "a \\" {PRAGMA}"}}, ports: ["6379:6379"]}}\n',
        False,
    ),
    "plain-scalar-hash-without-space": (
        "services:\n"
        f"  cache: {{image: redis, labels: {{note: a{PRAGMA.replace(' ', '')}}}, "
        'ports: ["6379:6379"]}\n',
        False,
    ),
    "plain-scalar-hash-inside-word": (
        "services:\n"
        "  cache: {image: redis, labels: {note: see#compose-net:allow}, "
        'ports: ["6379:6379"]}\n',
        False,
    ),
    "multi-line-double-quoted": (
        "services:\n"
        "  cache: {image: redis, ports: [\"6379:6379\"], labels: {note: \"one\n"
        f'    {PRAGMA}"}}}}\n',
        False,
    ),
    "multi-line-flow-entry-on-another-line": (
        'services:\n  cache:\n    image: redis\n    ports: [\n      "6379:6379",\n'
        f'      "80:80"  {PRAGMA}\n    ]\n',
        False,
    ),
    "block-scalar-line": (
        "services:\n"
        "  cache:\n"
        "    image: redis\n"
        "    ports:\n"
        '      - "6379:6379"\n'
        "    labels:\n"
        "      note: |\n"
        f"        {PRAGMA}\n",
        False,
    ),
    "block-scalar-on-entry-line": (
        "services:\n"
        "  cache:\n"
        "    image: redis\n"
        "    labels:\n"
        "      note: >-\n"
        f"        text {PRAGMA}\n"
        '    ports: ["6379:6379"]\n',
        False,
    ),
    "other-entry-line": (
        "services:\n"
        "  cache:\n"
        "    image: redis\n"
        "    ports:\n"
        '      - "6379:6379"\n'
        f'      - "80:80"  {PRAGMA}\n',
        False,
    ),
    "other-service-line": (
        "services:\n"
        f"  web: {{image: nginx}}  {PRAGMA}\n"
        "  cache:\n"
        "    image: redis\n"
        '    ports: ["6379:6379"]\n',
        False,
    ),
    "key-holding-pragma": (
        "services:\n"
        f'  cache: {{image: redis, labels: {{"k {PRAGMA}": v}}, ports: ["6379:6379"]}}\n',
        False,
    ),
    "in-the-image": (
        f'services:\n  cache: {{image: "redis {PRAGMA}", ports: ["6379:6379"]}}\n',
        False,
    ),
    "tagged-string": (
        "services:\n"
        f'  cache: {{image: redis, labels: {{n: !!str "{PRAGMA}"}}, ports: ["6379:6379"]}}\n',
        False,
    ),
    # -- a real comment: the entry is allowed
    "comment-after-entry": (
        f'services:\n  cache:\n    image: redis\n    ports:\n      - "6379:6379"  {PRAGMA}\n',
        True,
    ),
    "comment-after-flow-line": (
        "services:\n"
        f'  cache: {{image: redis, ports: ["6379:6379"]}}  {PRAGMA} on purpose\n',
        True,
    ),
    "comment-after-string-with-hash": (
        "services:\n"
        '  cache: {image: redis, labels: {note: "a # b"}, ports: ["6379:6379"]}'
        f"  {PRAGMA}\n",
        True,
    ),
    "comment-after-plain-with-hash": (
        "services:\n"
        f"  cache: {{image: redis, labels: {{note: a#b}}, ports: ['6379:6379']}} {PRAGMA}\n",
        True,
    ),
    "comment-inside-multi-line-flow": (
        'services:\n  cache:\n    image: redis\n    ports: [\n'
        f'      "6379:6379",  {PRAGMA}\n    ]\n',
        True,
    ),
    "comment-after-plain-entry": (
        f"services:\n  cache:\n    image: redis\n    ports:\n      - '6379:6379' {PRAGMA}\n",
        True,
    ),
}


def _write(folder: Path, text: str) -> Path:
    path = folder / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "allowed"), CASES.values(), ids=CASES.keys())
def test_check(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    allowed: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, text)
    code = main(["check", "--no-config", "--select", "CN001", "compose.yaml"])
    out = capsys.readouterr().out
    assert code == (0 if allowed else 1), out
    lines = [line for line in out.splitlines() if '"6379:6379" is published' in line]
    assert len(lines) == 1, out
    assert ("note: allowed (CN001)" in lines[0]) is allowed, out


@pytest.mark.parametrize(("text", "allowed"), CASES.values(), ids=CASES.keys())
def test_harden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    text: str, allowed: bool,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, text)
    code = main(["harden", "--no-config", "--bind", BIND, "compose.yaml"])
    assert code == 0, capsys.readouterr()
    after = path.read_text(encoding="utf-8")
    if allowed:
        assert after == text
    else:
        assert f"{BIND}:6379:6379" in after
        assert main(["check", "--no-config", "--select", "CN001", "compose.yaml"]) == 0


@pytest.mark.parametrize(("text", "allowed"), CASES.values(), ids=CASES.keys())
def test_stack_strategy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    text: str, allowed: bool,
) -> None:  # fmt: skip
    """The swarm strategies read pragmas in their own place (compose_net.swarm.decide)."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, text)
    code = main(["harden", "--no-config", "--target", "stack", "--stdout", "compose.yaml"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert ("6379:6379" in out) is allowed, out
    assert path.read_text(encoding="utf-8") == text


def _lines_and_root(
    text: str, parser: yamltree.Parser = "fast"
) -> tuple[list[str], yamltree.Node]:
    return text.splitlines(keepends=True), yamltree.compose(text, "x.yml", parser=parser)


@pytest.mark.parametrize("parser", ["ruamel", "fast"])
@pytest.mark.parametrize(("text", "allowed"), CASES.values(), ids=CASES.keys())
def test_both_parsers_agree(parser: yamltree.Parser, text: str, allowed: bool) -> None:
    """The comment positions come from the nodes' marks: the same with either parser."""
    lines, root = _lines_and_root(text, parser)
    entry = _entry(root)
    assert bool(pragmas.find(lines, entry, root)) is allowed


def _entry(root: yamltree.Node) -> yamltree.Node:
    ports = yamltree.get(yamltree.get(yamltree.get(root, "services"), "cache"), "ports")
    assert yamltree.is_sequence(ports)
    for item in ports.value:
        if yamltree.is_scalar(item) and item.value == "6379:6379":
            return item
    raise AssertionError("no entry 6379:6379")


# -- as root and as nobody, in a bounded child ------------------------------------------------

NOBODY = bounded.nobody()
CHILD_ROWS = (
    "double-quoted-in-flow-mapping",
    "plain-scalar-hash-inside-word",
    "comment-after-string-with-hash",
)


@pytest.mark.parametrize("who", ["root", "nobody"])
@pytest.mark.parametrize("row", CHILD_ROWS)
def test_child(request: pytest.FixtureRequest, who: str, row: str) -> None:
    text, allowed = CASES[row]
    user = request.getfixturevalue("as_nobody") if who == "nobody" else None
    with bounded.open_folder(0o777) as folder:
        path = _write(folder, text)
        if NOBODY is not None and who == "nobody":
            os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
        check = ["check", "--no-config", "--select", "CN001", "compose.yaml"]
        done = bounded.run(check, cwd=folder, user=user)
        assert done.returncode == (0 if allowed else 1), done
        harden = ["harden", "--no-config", "--bind", BIND, "compose.yaml"]
        done = bounded.run(harden, cwd=folder, user=user)
        assert done.returncode == 0, done
        assert (f"{BIND}:6379:6379" in path.read_text(encoding="utf-8")) is not allowed
