"""How often a file's text is parsed: once by check, ports and validate, twice by harden (the
original and the edited text), with the nodes kept by the file read (``source.Parsed``)
and no module cache in between (docs/performance.md)."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path

import pytest

from compose_net import document, source, yamltree
from compose_net.cli import main

EXPOSED = 'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n'
CLEAN = 'services:\n  web:\n    image: nginx\n    ports:\n      - "127.0.0.1:80:80"\n'
INCLUDES = 'include:\n  - other.yaml\nservices:\n  web:\n    image: nginx\n    ports: ["80:80"]\n'
OTHER = 'services:\n  db:\n    image: postgres\n    ports: ["5432:5432"]\n'
STACK = (
    'services:\n  proxy:\n    image: traefik\n    deploy:\n      mode: global\n'
    '    ports:\n      - "80:80"\n'
)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """The texts parsed (every call of the composer), counted by the text."""
    counted: collections.Counter[str] = collections.Counter()
    real = yamltree._compose_all

    def counting(text: str, path: str, chosen: yamltree.Parser) -> list[yamltree.Node]:
        counted[text] += 1
        return real(text, path, chosen)

    monkeypatch.setattr(yamltree, "_compose_all", counting)
    yield counted


@pytest.mark.parametrize(
    ("files", "argv", "code", "expected"),
    [
        pytest.param({"compose.yaml": EXPOSED}, ["check", "compose.yaml"], 1, [1],
                     id="check"),
        pytest.param({"compose.yaml": EXPOSED}, ["ports", "compose.yaml"], 0, [1],
                     id="ports"),
        pytest.param({"compose.yaml": EXPOSED}, ["validate", "compose.yaml"], 0, [1],
                     id="validate"),
        pytest.param({"compose.yaml": INCLUDES, "other.yaml": OTHER},
                     ["check", "compose.yaml"], 1, [1, 1], id="check-a-project"),
        pytest.param({"compose.yaml": EXPOSED},
                     ["harden", "--bind", "10.0.0.5", "compose.yaml"], 0, [1, 1],
                     id="harden-the-original-and-the-edited-text"),
        pytest.param({"compose.yaml": EXPOSED},
                     ["harden", "--bind", "10.0.0.5", "--stdout", "compose.yaml"], 0, [1, 1],
                     id="harden-to-standard-output"),
        pytest.param({"compose.yaml": CLEAN},
                     ["harden", "--bind", "10.0.0.5", "--check", "compose.yaml"], 0, [1],
                     id="harden-nothing-to-change"),
        pytest.param({"compose.yaml": INCLUDES, "other.yaml": OTHER},
                     ["harden", "--bind", "10.0.0.5", "--check", "compose.yaml"], 1,
                     [1, 1, 1, 1], id="harden-a-project"),
        pytest.param({"docker-stack.yml": STACK},
                     ["harden", "--bind", "10.0.0.5", "--check", "docker-stack.yml"], 1,
                     [1, 1], id="harden-a-stack"),
    ],
)  # fmt: skip
def test_each_text_is_parsed_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    parses: collections.Counter[str],
    files: dict[str, str],
    argv: list[str],
    code: int,
    expected: list[int],
) -> None:
    """Every text a command reads (the original, an edited one) is parsed once, however
    many steps look at it."""
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(argv) == code, capsys.readouterr()
    assert sorted(parses.values()) == expected, parses


def _load_steps(steps: list[str]) -> None:
    """``document.load_all`` on one file read, after each step that makes its next Source."""
    src = source.decode("f.yml", EXPOSED.encode())
    for step in steps:
        if step == "renamed":
            src = src._replace(path="./f.yml")
        elif step == "edited":
            src = src._replace(text=CLEAN)
        elif step == "original":
            src = src._replace(text=EXPOSED)
        elif step == "forget":
            assert src.parsed is not None
            src.parsed.forget()
        elif step == "unkept":
            src = source.Source(src.path, src.text, src.bom, src.encoding)
        document.load_all(src)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(["read"], 1, id="first-load-parses"),
        pytest.param(["read", "again"], 1, id="the-same-text-again"),
        pytest.param(["read", "renamed"], 1, id="a-copy-under-another-spelling"),
        pytest.param(["read", "edited"], 2, id="another-text"),
        pytest.param(["read", "edited", "edited"], 2, id="the-edited-text-again"),
        pytest.param(["read", "edited", "original"], 3, id="one-text-kept-at-a-time"),
        pytest.param(["read", "forget"], 2, id="forgotten"),
        pytest.param(["read", "unkept", "unkept"], 3, id="a-source-made-without-it"),
    ],
)
def test_the_file_read_keeps_its_parse(
    parses: collections.Counter[str], steps: list[str], expected: int
) -> None:
    _load_steps(steps)
    assert sum(parses.values()) == expected


def test_sources_compare_by_their_data() -> None:
    """What a Source keeps of its parse is no part of its value."""
    a = source.decode("f.yml", EXPOSED.encode())
    b = source.decode("f.yml", EXPOSED.encode())
    document.load_all(a)
    assert a == b
    assert a != b._replace(text=CLEAN)
