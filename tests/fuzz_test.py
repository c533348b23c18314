"""A seeded mutator over the corpus and the harden fixtures: whatever a file holds, every
command ends with exit 0, 1 or 2, never a traceback or an ``internal error``; an error
leaves the file as it was; the JSON formats print valid JSON; and ``harden --check`` and
``harden --diff`` say what ``harden`` then does.

A short run is part of the suite. ``COMPOSE_NET_FUZZ=N`` runs N mutants instead (and
``COMPOSE_NET_FUZZ_SEED`` picks the seed), e.g. ``COMPOSE_NET_FUZZ=5000``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from compose_net.cli import main

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"
FIXTURES = Path(__file__).parent / "fixtures" / "harden"
COUNT = int(os.environ.get("COMPOSE_NET_FUZZ", "0") or 0)
SEED = int(os.environ.get("COMPOSE_NET_FUZZ_SEED", "20261202"))
SHORT_RUN = 24
BIND = "10.0.0.5"


def seeds() -> list[Path]:
    files = sorted(FIXTURES.glob("*.in.yaml"))
    if CORPUS.is_dir():
        files += sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml"))
    return files


# --------------------------------------------------------------------------- mutations

Mutation = Callable[[random.Random, str], str]

FRAGMENTS = (
    "\t", "\r", "\r\n", "\n", " ", "#", ":", "-", "- ", "'", '"', "[", "]", "{", "}", ",", "&a ",
    "*a", "<<: *a\n", "!!int ", "!reset ", "!override ", "? ", "|-\n  ", ">-\n  ", "---\n",
    "...\n", "%YAML 1.2\n", "${X}", "${X:-0.0.0.0}", "$$", "\\", "\x1b[2J", "\u202e", "\ufeff",
    "\x85", "\u2028", "é", "0x", "0o", "1_000", ".inf", "~", "null", "9" * 5000,
    "1-65535:1-65535", "0.0.0.0:", "[::]:", "127.0.0.1:", "host_ip: ", "published: ",
    "target: ", "ports:\n  - ", "\"80:80\"", "22:22", "mode: host", "deploy: {replicas: 2}",
)


def insert(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(FRAGMENTS) + text[at:]


def delete(rng: random.Random, text: str) -> str:
    if not text:
        return text
    at = rng.randrange(len(text))
    return text[:at] + text[at + rng.randint(1, 12) :]


def duplicate_line(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    lines.insert(rng.randrange(len(lines) + 1), lines[i])
    return "\n".join(lines)


def swap_lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def indent_line(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    lines[i] = rng.choice(("  ", "\t", " ")) + lines[i] if rng.random() < 0.5 else lines[i][2:]
    return "\n".join(lines)


def line_endings(rng: random.Random, text: str) -> str:
    return text.replace("\n", rng.choice(("\r\n", "\r")))


def digits(rng: random.Random, text: str) -> str:
    spots = [i for i, c in enumerate(text) if c.isdigit()]
    if not spots:
        return text
    at = rng.choice(spots)
    return text[:at] + rng.choice(("0", "65536", "99999", "9" * 40, "-1", "1-3")) + text[at + 1 :]


MUTATIONS: tuple[Mutation, ...] = (
    insert, insert, insert, delete, duplicate_line, swap_lines, indent_line, line_endings, digits
)


def mutate(rng: random.Random, text: str) -> bytes:
    for _ in range(rng.randint(1, 4)):
        text = rng.choice(MUTATIONS)(rng, text)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.03 and data:  # a byte that is not UTF-8
        at = rng.randrange(len(data))
        data = data[:at] + b"\xff" + data[at:]
    return data


def mutants(count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    files = seeds()
    out = []
    for i in range(count):
        path = rng.choice(files)
        text = path.read_bytes().decode("utf-8", "surrogatepass")
        out.append((f"{i}-{path.name}", mutate(rng, text)))
    return out


# --------------------------------------------------------------------------- properties


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


READERS = (
    ("check", "--no-config"),
    ("check", "--no-config", "--format", "json"),
    ("check", "--no-config", "--format", "sarif"),
    ("check", "--no-config", "--format", "github"),
    ("validate",),
    ("ports",),
    ("ports", "--format", "json"),
)


def properties(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "compose.yaml"
    path.write_bytes(data)
    for args in READERS:
        code, out, err = run(*args, str(path))
        context = (args, code, err[-500:])
        assert code in (0, 1, 2), context
        assert "internal error" not in err and "Traceback" not in err, context
        if "json" in args or "sarif" in args:
            json.loads(out)  # on an error too: the errors are part of the report
        assert path.read_bytes() == data, context
    harden = ("harden", "--no-config", "--bind", BIND)
    check_code, _, check_err = run(*harden, "--check", str(path))
    diff_code, diff, _ = run(*harden, "--diff", str(path))
    assert path.read_bytes() == data
    code, _, err = run(*harden, str(path))
    context = (check_code, diff_code, code, check_err[-300:], err[-300:])
    for c, e in ((check_code, check_err), (code, err)):
        assert c in (0, 1, 2), context
        assert "internal error" not in e and "Traceback" not in e, context
    written = path.read_bytes()
    changed = written != data
    if code == 2 or check_code == 2:
        assert code == check_code == diff_code == 2, context
        assert not changed, context
        return
    assert bool(diff) is changed, context
    if changed:
        assert check_code == 1, context
    elif check_code == 1:  # nothing to write: what is left to report is what makes it 1
        assert code == 1, context
    again, _, again_err = run(*harden, "--check", str(path))
    assert again in (0, 1), (again, again_err[-300:])
    assert path.read_bytes() == written


@pytest.mark.parametrize(
    ("name", "data"),
    [pytest.param(n, d, id=n) for n, d in mutants(COUNT or SHORT_RUN, SEED)],
)
def test_mutant(tmp_path: Path, name: str, data: bytes) -> None:
    properties(tmp_path, data)


# --------------------------------------------------------------------------- hostile seeds
# Three classes of hand-made input, mutated the same way, with oracles of their own: files
# with hostile names (nothing printed forges a line), pragma text inside scalars (a port is
# allowed only by a real YAML comment: no false "safe"), and variables holding canary values
# (no piece of a value is printed; the redaction of whole values is off, so the messages
# themselves are what is tested).

HOSTILE_RUN = 8


def _pragma_seeds() -> list[str]:
    from pragma_comments_test import CASES

    return [text for text, _ in CASES.values()]


def _canary_seeds() -> list[str]:
    from secrets_test import FILES

    return list(FILES.values())


def _hostile(seeds: list[str], count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        text = rng.choice(seeds)
        out.append((str(i), mutate(rng, text) if i % 2 else text.encode()))  # seeds too
    return out


def _real_pragma_lines(text: str) -> set[int] | None:
    """0-based lines with a ``compose-net:`` pragma in a real comment, found independently of
    compose_net.pragmas: PyYAML's pure-Python scanner says where every token is, and a "#"
    after a blank outside every token starts a comment (None: the scanner refuses the text)."""
    import re

    import yaml

    try:
        tokens = list(yaml.scan(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    spans = [(t.start_mark.index, t.end_mark.index) for t in tokens]
    out = set()
    for m in re.finditer(r"(?:^|(?<=[ \t]))#[^\n]*", text, re.M):
        inside = any(a <= m.start() < b for a, b in spans)
        if not inside and re.match(r"#\s*compose-net:\s*(allow|ignore)", m.group()) is None:
            continue
        if not inside:
            out.add(text.count("\n", 0, m.start()))
    return out


@pytest.mark.parametrize(
    ("name", "data"),
    [pytest.param(n, d, id=n) for n, d in _hostile(_pragma_seeds(), HOSTILE_RUN, SEED)],
)
def test_pragma_in_strings(tmp_path: Path, name: str, data: bytes) -> None:
    """What check allows rests on a real comment on the entry's lines."""
    properties(tmp_path, data)
    path = tmp_path / "compose.yaml"
    path.write_bytes(data)
    code, out, _ = run("check", "--no-config", "--select", "CN001", "--format", "json", str(path))
    if code == 2:
        return
    real = _real_pragma_lines(data.decode("utf-8", "replace"))
    if real is None:
        return
    for allowed in json.loads(out)["allowed"]:
        if allowed["source"] != "inSource":  # an inline comment, not the configuration
            continue
        line = allowed["line"] - 1
        assert any(i in real for i in range(line, line + 8)), (allowed, data)


@pytest.mark.parametrize(
    ("name", "data"),
    [pytest.param(n, d, id=n) for n, d in _hostile(_canary_seeds(), HOSTILE_RUN, SEED)],
)
def test_canary_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes
) -> None:
    """No piece of a value the environment or .env gives is printed, whatever the file."""
    from secrets_test import CANARIES, assert_no_canary

    from compose_net import redaction

    for variable, value in CANARIES.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr(redaction, "note", lambda name, value: None)
    path = tmp_path / "compose.yaml"
    path.write_bytes(data)
    for args in (*READERS, ("harden", "--no-config", "--bind", BIND, "--diff"),
                 ("harden", "--no-config", "--bind", BIND)):  # fmt: skip
        code, out, err = run(*args, str(path))
        assert code in (0, 1, 2) and "internal error" not in err, (args, err[-300:])
        assert_no_canary(out, err)


@pytest.mark.parametrize("name", ["newline-workflow-command", "not-utf-8", "escape-sequence"])
@pytest.mark.parametrize("index", range(3))
def test_hostile_names(tmp_path: Path, name: str, index: int) -> None:
    """Mutants under a hostile file name: no raw control character, no forged line."""
    from hostile_names_test import NAMES, assert_clean

    data = mutants(index + 1, SEED + index)[-1][1]
    path = os.path.join(os.fsencode(tmp_path), NAMES[name])
    with open(path, "wb") as f:
        f.write(data)
    shown = os.fsdecode(path)
    for args in (*READERS, ("harden", "--no-config", "--bind", BIND, "--diff")):
        code, out, err = run(*args, "--", shown)
        assert code in (0, 1, 2) and "internal error" not in err, (args, err[-300:])
        json_out = ("json" in args or "sarif" in args) and code != 2 and bool(out)
        assert_clean(out, err, annotations="github" in args, json_out=json_out)


# --------------------------------------------------------------------------- hostile projects
#
# Projects made to grow faster than their size (tests/work_bounds_test.py has each class
# under CPU and memory limits): the main file is mutated as the others are, the files beside
# it are kept, and the same properties hold: exit 0, 1 or 2, no traceback, JSON on errors
# too, and an error leaves every file as it was.


def _doubling_includes(files: int) -> dict[str, str]:
    out = {}
    for i in range(1, files):
        include = f"include:\n  - f{i + 1}.yml\n  - f{i + 1}.yml\n" if i + 1 < files else ""
        service = f"services:\n  s{i}:\n    image: nginx\n    ports: ['{i}:80']\n"
        out[f"f{i}.yml"] = include + service
    return out


HOSTILE: dict[str, tuple[str, dict[str, str]]] = {
    "env-multiplying": (
        'services:\n  web:\n    image: nginx\n    ports: ["${IP:-}:80:80"]\n'
        '    labels: {a: "${C}${C}${C}${C}"}\n',
        {".env": "A=xxxxxxxx\nB=" + "${A}" * 1000 + "\nC=" + "${B}" * 1000 + "\nD="
         + "${C}" * 240 + "\n"},
    ),
    "compose-repeats-an-env-value": (
        "services:\n  web:\n    image: nginx\n    labels:\n"
        + "".join(f'      l{i}: "' + "${C}" * 40 + '"\n' for i in range(40))
        + '    ports: ["${IP:-}:80:80"]\n',
        {".env": "A=xxxxxxxx\nB=" + "${A}" * 1000 + "\nC=" + "${B}" * 1000 + "\n"},
    ),
    "port-repeats-an-env-value": (
        'services:\n  web:\n    image: nginx\n    ports: ["' + "${C}" * 9 + ':80"]\n',
        {".env": "A=xxxxxxxx\nB=" + "${A}" * 1000 + "\nC=" + "${B}" * 1000 + "\n"},
    ),
    "includes-doubling": (
        "include:\n  - f1.yml\n  - f1.yml\nservices:\n  s0:\n    image: nginx\n"
        "    ports: ['8080:80']\n",
        _doubling_includes(12),
    ),
    "one-file-many-project-directories": (
        "include:\n"
        + "".join(f"  - path: x.yml\n    project_directory: d{i}\n" for i in range(40))
        + "services:\n  s0:\n    image: nginx\n    ports: ['8080:80']\n",
        {"x.yml": "services:\n  x:\n    image: nginx\n    ports: ['${IP:-}:81:80']\n",
         "d0/.env": "IP=0.0.0.0\n"},
    ),
    "full-port-ranges": (
        "services:\n" + "".join(
            f'  s{i}:\n    image: nginx\n    ports: ["1-65535:1-65535"]\n' for i in range(3)
        ),
        {},
    ),
    "extends-fan-out": (
        "services:\n  b0:\n    image: nginx\n    ports: ['80']\n"
        + "".join(f"  b{i}:\n    extends: b{i - 1}\n" for i in range(1, 100))
        + "".join(f"  f{i}:\n    extends: b99\n" for i in range(50)),
        {},
    ),
    "nested-flow": ("services:\n  web:\n    image: nginx\n    ports: ['80:80']\n    labels: "
                    + "[" * 3000 + "]" * 3000 + "\n", {}),
    "bom-at-the-end": ("services:\n  web:\n    image: nginx\n    ports: ['80:80']\n\ufeff", {}),
}  # fmt: skip


def _hostile_projects(seed: int) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """Each hostile project as written, and mutated once."""
    rng = random.Random(seed)
    out = []
    for name, (main_file, others) in HOSTILE.items():
        out.append((name, name, main_file.encode(), others))
        out.append((f"{name}-mutated", name, mutate(rng, main_file), others))
    return out


@pytest.mark.parametrize(
    ("name", "data", "others"),
    [pytest.param(n, d, o, id=i) for i, n, d, o in _hostile_projects(SEED)],
)
def test_hostile_seed(tmp_path: Path, name: str, data: bytes, others: dict[str, str]) -> None:
    for other, text in others.items():
        (tmp_path / other).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / other).write_text(text)
    for i in range(40):
        (tmp_path / f"d{i}").mkdir(exist_ok=True)
    kept = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    properties(tmp_path, data)
    assert {p: p.read_bytes() for p in kept} == kept, name  # only compose.yaml is harden's
