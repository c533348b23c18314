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
