"""compose_net.hardening: harden as a function of its inputs, below the command.

Each row is a folder of files and one FILE argument. ``hardening.Run.file`` must return
exactly the text ``compose-net harden --stdout FILE`` prints, say what remains as the
command does (its exit code follows from it), and write and print nothing itself.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from compose_net import hardening, unit

BIND = "10.0.0.5"


@dataclass(frozen=True)
class Row:
    #: file name -> text
    files: dict[str, str]
    #: the FILE argument
    path: str
    #: the stack strategy the run applies (None: hardened as Compose)
    strategy: str | None
    #: how many findings remain
    exposed: int


ROWS = [
    pytest.param(
        Row({"compose.yaml": "services:\n  cache:\n    image: redis\n    ports:\n"
             "      - \"6379:6379\"\n"}, "compose.yaml", None, 0),
        id="compose-bound",
    ),
    pytest.param(
        Row({"compose.yaml": "services:\n  web:\n    image: nginx\n    ports:\n"
             "      - \"203.0.113.5:80:80\"\n      - '8080:80'\n"}, "compose.yaml", None, 1),
        id="public-address-remains",
    ),
    pytest.param(
        Row({"docker-stack.yml": "services:\n  traefik:\n    image: traefik\n    deploy:\n"
             "      mode: global\n    ports:\n      - target: 80\n        published: 80\n"
             "        mode: host\n"}, "docker-stack.yml", "unpublish", 0),
        id="stack-by-its-look",
    ),
    pytest.param(
        Row({"compose.yaml": "include:\n  - base.yaml\nservices:\n  web:\n    image: nginx\n",
             "base.yaml": "services:\n  db:\n    image: postgres\n    ports:\n"
             "      - 5432:5432\n"}, "base.yaml", None, 0),
        id="included-file-named",
    ),
    pytest.param(
        Row({"compose.yaml": "services:\n  web:\n    image: nginx\n"
             "    ports:\n      - \"127.0.0.1:80:80\"\n"}, "compose.yaml", None, 0),
        id="nothing-to-do",
    ),
]


@pytest.mark.parametrize("row", ROWS)
def test_run_file_is_harden_stdout(
    row: Row, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    for name, text in row.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = str(tmp_path / row.path)
    command = subprocess.run(
        [sys.executable, "-m", "compose_net", "harden", "--no-config", "--bind", BIND,
         "--stdout", path],
        capture_output=True, check=False,
    )
    assert command.returncode == (1 if row.exposed else 0), command.stderr
    capfd.readouterr()

    settings = hardening.Settings(
        binds_for=hardening.binder_for([BIND], None, unit.NodeSource()), use_config=False
    )
    result = hardening.Run(settings, [path]).file(path)

    printed = capfd.readouterr()
    assert (printed.out, printed.err) == ("", "")
    assert [(tmp_path / name).read_text(encoding="utf-8") for name in row.files] == list(
        row.files.values()
    )
    first = result.files[0]
    assert first.path == path
    assert first.source.encode(first.text) == command.stdout
    assert result.strategy == row.strategy
    assert result.exposed == row.exposed
    said = command.stderr.decode()
    for told in result.told:
        for where, message in told.notes:
            assert f"{where}" in said and message in said
        for where, _, message in told.remaining:
            assert where in said and message in said


@pytest.mark.parametrize("carried", [pytest.param(True, id="carried"),
                                     pytest.param(False, id="not-carried")])
def test_a_later_file_reads_what_an_earlier_one_changed(carried: bool, tmp_path: Path) -> None:
    """The texts the command takes as changed (:meth:`hardening.Run.changed`) are what the
    FILE arguments after read; the others read the disk."""
    written = "services:\n  db:\n    image: postgres\n    ports:\n      - 5432:5432\n"
    (tmp_path / "compose.yaml").write_text(written, encoding="utf-8")
    path = str(tmp_path / "compose.yaml")
    settings = hardening.Settings(
        binds_for=hardening.binder_for([BIND], None, unit.NodeSource()), use_config=False
    )
    run = hardening.Run(settings, [path, path])
    (first,) = run.file(path).files
    assert first.text == written.replace("5432:5432", f"\"{BIND}:5432:5432\"")
    if carried:
        run.changed(first.path, first.source, first.text)
    (second,) = run.file(path).files
    assert second.source.text == (first.text if carried else written)
    assert (tmp_path / "compose.yaml").read_text(encoding="utf-8") == written
