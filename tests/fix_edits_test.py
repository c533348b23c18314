"""The fix travels with the finding: applying the edits ``check --format json`` gives for a
file, with a small applier written here from ruff's JSON shape alone, makes exactly the
bytes ``harden`` writes for it, on every corpus file Compose accepts and on the shapes
below (tests/sarif_test.py validates SARIF with fixes against the SARIF 2.1.0 schema).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from harness import require

from compose_net import cli

CORPUS = Path(
    os.environ.get("COMPOSE_NET_CORPUS")
    or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)
BIND = ("--no-config", "--bind", "10.0.0.5", "--bind", "fd00::5")


def apply_edits(data: bytes, edits: list[dict[str, Any]]) -> bytes:
    """Apply ruff-shaped edits (1-based rows and columns in characters, end exclusive) to
    a UTF-8 file; identical edits (one fix shared by several findings) count once."""
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")[1 if bom else 0 :]
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def offset(place: dict[str, int]) -> int:
        return starts[place["row"] - 1] + place["column"] - 1

    spans = {
        (offset(e["location"]), offset(e["end_location"]), e["content"]) for e in edits
    }
    for start, end, content in sorted(spans, reverse=True):
        text = text[:start] + content + text[end:]
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def _edits_of(report: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [
        edit
        for f in report["findings"]
        if f["path"] == path and f["fix"] is not None
        for edit in f["fix"]["edits"]
    ]


def _both(
    path: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], int]:
    code = cli.main(["check", "--format", "json", *BIND, *extra, str(path)])
    report = json.loads(capsys.readouterr().out)
    assert code in (0, 1, 2)
    hardened = cli.main(["harden", *BIND, *extra, "-o", str(out), str(path)])
    capsys.readouterr()
    return code, report, hardened


SHAPES = {
    "short-and-long": (
        "compose.yaml",
        "services:\n  web:\n    image: x\n    ports:\n      - \"80:80\"\n      - 81:81\n"
        "      - target: 82\n        published: 82\n",
    ),
    "dual-stack-flow": (
        "compose.yaml",
        "services:\n  web:\n    image: x\n    ports: [\"80:80\", '[::]:81:81']\n",
    ),
    "bom-crlf": (
        "compose.yaml",
        "\ufeffservices:\r\n  web:\r\n    image: x\r\n    ports: ['80:80']\r\n",
    ),
    "unicode-before": (
        "compose.yaml",
        "# café ☕\nservices:\n  web:\n    image: 'ünï'\n    ports: ['80:80']  # ünïcode\n",
    ),
    "stack-looking": (
        "docker-stack.yml",
        "services:\n  web:\n    image: x\n    ports: ['80:80']\n    deploy:\n      mode: global\n",
    ),
    "collision": (
        "compose.yaml",
        "services:\n  a:\n    image: x\n    ports: ['80:80']\n  b:\n    image: x\n"
        "    ports: ['10.0.0.5:80:80']\n",
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_edits_make_what_harden_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    name, text = SHAPES[shape]
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    _, report, hardened = _both(path, tmp_path / "out.yaml", capsys)
    assert hardened in (0, 1)
    edits = _edits_of(report, str(path))
    assert apply_edits(path.read_bytes(), edits) == (tmp_path / "out.yaml").read_bytes()
    if shape != "collision":
        assert edits  # something to fix in each shape


def test_without_an_address_a_bind_fix_is_display_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: x\n    ports: ['80:80']\n")
    assert cli.main(["check", "--no-config", "--format", "json", str(path)]) == 1
    fix = json.loads(capsys.readouterr().out)["findings"][0]["fix"]
    assert fix["applicability"] == "display-only" and fix["edits"] == []
    assert cli.main(["check", "--no-config", str(path)]) == 1
    assert "[*]" not in capsys.readouterr().out
    assert cli.main(["check", *BIND, str(path)]) == 1
    assert "CN001 [*] " in capsys.readouterr().out


@pytest.mark.slow
def test_every_corpus_file_compose_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require((CORPUS / "oracle" / "SUMMARY.tsv").is_file(), f"the corpus is not at {CORPUS}")
    rows = (CORPUS / "oracle" / "SUMMARY.tsv").read_text(encoding="utf-8").splitlines()[1:]
    empty = tmp_path / "empty.env"
    empty.write_text("")
    checked = changed = 0
    wrong: list[str] = []
    for row in rows:
        relative, ok = row.split("\t")[:2]
        if ok != "true":
            continue
        path = CORPUS / relative
        out = tmp_path / "out" / path.name
        out.parent.mkdir(exist_ok=True)
        out.unlink(missing_ok=True)
        _, report, hardened = _both(path, out, capsys, "--env-file", str(empty))
        if hardened == 2 or not out.exists():
            continue  # harden refuses the file (and says why): nothing to compare
        checked += 1
        want = out.read_bytes()
        got = apply_edits(path.read_bytes(), _edits_of(report, str(path)))
        changed += want != path.read_bytes()
        if got != want:
            wrong.append(relative)
    with capsys.disabled():
        print(f"\nfix edits: {checked} corpus files, {changed} changed by harden, all equal")
    assert wrong == []
    assert checked > 500 and changed > 300
