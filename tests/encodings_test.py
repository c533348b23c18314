"""Encodings and byte order marks, with the real Compose binary as the oracle.

Each row is a Compose file (and maybe a ``.env``) in some encoding. ``docker compose
--profile '*' config --format json`` reads it or refuses it; compose-net must do the same:
list the same ports where Compose reads the file, and where Compose refuses it, refuse it
too with one line that says why. ``harden`` writes a UTF-16 file back in UTF-16, which
Compose reads with the ports bound.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness import bounded

COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["${IP:-}:80:80"]\n'
ENV = "IP=127.0.0.1\n"
BOM = "\ufeff"
U8 = b"\xef\xbb\xbf"
LIMITS = bounded.Limits(memory=400 * 1024 * 1024, cpu=10)

#: id -> (compose file bytes, .env bytes or None, the reason compose-net gives where
#: Compose refuses the file too; "" where both read it)
ROWS: dict[str, tuple[bytes, bytes | None, str]] = {
    "utf-8": (COMPOSE.encode(), None, ""),
    "utf-8-bom": (U8 + COMPOSE.encode(), None, ""),
    "utf-8-two-boms": (U8 + U8 + COMPOSE.encode(), None, ""),
    "utf-16-le-bom": (b"\xff\xfe" + COMPOSE.encode("utf-16-le"), None, ""),
    "utf-16-be-bom": (b"\xfe\xff" + COMPOSE.encode("utf-16-be"), None, ""),
    "utf-16-le-bom-crlf": (
        b"\xff\xfe" + COMPOSE.replace("\n", "\r\n").encode("utf-16-le"), None, ""
    ),
    "utf-16-le-bom-with-env": (b"\xff\xfe" + COMPOSE.encode("utf-16-le"), ENV.encode(), ""),
    "utf-16-le-without-bom": (
        COMPOSE.encode("utf-16-le"), None, "UTF-16 without a byte order mark is not supported"
    ),
    "utf-16-be-without-bom": (
        COMPOSE.encode("utf-16-be"), None, "UTF-16 without a byte order mark is not supported"
    ),
    "utf-32-le-bom": (
        b"\xff\xfe\x00\x00" + COMPOSE.encode("utf-32-le"), None, "UTF-32 is not supported"
    ),
    "bom-at-the-end": (COMPOSE.encode() + U8, None, ":5:1: a byte order mark (U+FEFF)"),
    "bom-at-the-end-and-newline": (
        COMPOSE.encode() + U8 + b"\n", None, ":5:1: a byte order mark (U+FEFF)"
    ),
    "bom-starts-a-middle-line": (
        COMPOSE.replace("  web:", BOM + "  web:").encode(), None, ":2:1: a byte order mark"
    ),
    "bom-starts-the-second-document": (
        (COMPOSE + "---\n" + BOM + "services:\n  api:\n    image: nginx\n").encode(), None,
        ":6:1: a byte order mark",
    ),
    "bom-in-a-comment": (COMPOSE.encode() + b"# " + U8 + b"\n", None, ""),
    "bom-inside-a-value": (COMPOSE.replace("nginx", "ngi" + BOM + "nx").encode(), None, ""),
    "bom-inside-a-port": (
        COMPOSE.replace('["${IP:-}:80:80"]', "[" + BOM + '"80:80"]').encode(), None,
        'invalid containerPort: 80"',
    ),
    "env-utf-8-bom": (COMPOSE.encode(), U8 + ENV.encode(), ""),
    "env-two-boms": (COMPOSE.encode(), U8 + U8 + ENV.encode(), ".env:1: unexpected character"),
    "env-bom-at-the-end": (
        COMPOSE.encode(), ENV.encode() + U8, ".env:2: unexpected character"
    ),
    "env-utf-16-le-bom": (
        COMPOSE.encode(), b"\xff\xfe" + ENV.encode("utf-16-le"),
        ".env:1: env file is UTF-16, which Compose does not read: convert it to UTF-8",
    ),
    "env-utf-16-be-bom": (
        COMPOSE.encode(), b"\xfe\xff" + ENV.encode("utf-16-be"),
        ".env:1: env file is UTF-16, which Compose does not read",
    ),
}


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "IP"))}


def compose(folder: Path, compose_bin: str) -> dict[str, list[tuple[str, int, str]]] | None:
    """Each service's ports as Compose reads the folder's project, or None if it refuses."""
    proc = subprocess.run(
        [compose_bin, "--profile", "*", "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False, cwd=folder, env=_environ(),
    )  # fmt: skip
    if proc.returncode != 0:
        return None
    data: dict[str, Any] = json.loads(proc.stdout)
    return {
        name: [(p.get("host_ip", ""), p["target"], p.get("published", "")) for p in s["ports"]]
        for name, s in data["services"].items()
        if s.get("ports")
    }


def compose_net(folder: Path) -> tuple[dict[str, list[tuple[str, int, str]]] | None, str]:
    """(the ports compose-net lists, or None; its standard error). ``--show-values``: the
    values a .env gives are compared with Compose's, not the ``${VAR}`` printed in their place."""
    proc = bounded.run(
        ("ports", "--format", "json", "--show-values", "compose.yaml"), cwd=folder, limits=LIMITS
    )
    err = proc.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    if proc.returncode != 0:
        assert proc.returncode == 2, err
        return None, err
    files = json.loads(proc.stdout)["files"]
    return {
        name: [(p.get("host_ip", ""), p["target"], p.get("published", "")) for p in s["ports"]]
        for f in files
        for name, s in f["services"].items()
    }, err


@pytest.mark.parametrize(
    ("text", "env", "reason"), [pytest.param(*row, id=name) for name, row in ROWS.items()]
)
def test_compose_net_reads_what_compose_reads(
    tmp_path: Path, compose_bin: str, text: bytes, env: bytes | None, reason: str
) -> None:
    (tmp_path / "compose.yaml").write_bytes(text)
    if env is not None:
        (tmp_path / ".env").write_bytes(env)
    expected = compose(tmp_path, compose_bin)
    found, err = compose_net(tmp_path)
    assert found == expected, err
    if expected is None:
        assert reason, "Compose refuses a row that says both read it"
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("compose-net: error: "), err
        assert reason in lines[0], err
    else:
        assert not reason, "Compose reads a row that says it refuses it"


@pytest.mark.parametrize(
    ("mark", "encoding"),
    (
        pytest.param(b"\xff\xfe", "utf-16-le", id="utf-16-le"),
        pytest.param(b"\xfe\xff", "utf-16-be", id="utf-16-be"),
        pytest.param(U8, "utf-8", id="utf-8-bom"),
    ),
)
def test_harden_writes_the_encoding_back(
    tmp_path: Path, compose_bin: str, mark: bytes, encoding: str
) -> None:
    original = mark + COMPOSE.replace("${IP:-}:", "").encode(encoding)
    (tmp_path / "compose.yaml").write_bytes(original)
    proc = bounded.run(
        ("harden", "--no-config", "--bind", "10.0.0.5", "compose.yaml"), cwd=tmp_path,
        limits=LIMITS,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    written = (tmp_path / "compose.yaml").read_bytes()
    assert written.startswith(mark)
    assert written[len(mark) :].decode(encoding) == COMPOSE.replace("${IP:-}:", "10.0.0.5:")
    assert compose(tmp_path, compose_bin) == {"web": [("10.0.0.5", 80, "80")]}
