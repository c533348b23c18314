"""Forms of a port that Compose accepts and harden rewrites in place: block scalars with
every chomping indicator, and every line ending (LF, CR LF, a lone CR), each checked
against the real Compose binary: ``docker-compose config`` of the result is the
original's with the host IP bound, nothing else, and a second run changes nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness import compose_binary

from compose_net.cli import main

BIND = "10.0.0.5"


def compose_config(path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [compose_binary(), "-f", str(path), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False, cwd=path.parent,
    )
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def bound(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with every port on all interfaces bound to BIND, as harden should."""
    for service in config.get("services", {}).values():
        for port in service.get("ports", []):
            if port.get("host_ip", "0.0.0.0") in ("0.0.0.0", "::", ""):
                port["host_ip"] = BIND
    return config


def harden(path: Path, *args: str) -> int:
    return main(["harden", "--no-config", "--bind", BIND, *args, str(path)])


def check_rewrite(tmp_path: Path, text: str, newline: str = "\n") -> str:
    """Harden ``text`` (with ``newline`` line breaks) and hold it to the oracle; the result."""
    path = tmp_path / "compose.yaml"
    data = text.replace("\n", newline).encode()
    path.write_bytes(data)
    expected = bound(compose_config(path))
    assert harden(path) == 0
    assert compose_config(path) == expected
    written = path.read_bytes()
    assert harden(path, "--check") == 0
    assert path.read_bytes() == written
    return written.decode()


BLOCKS = [
    (">-", "8080:80"),
    ("|-", "8080:80"),
    ("|2-", "8080:80"),
    (">-  # the web port", "8080:80"),
    ("&web >-", "8080:80"),
    ("!!str |-", "8080:80"),
    (">-", "9000-9002:9000-9002/udp"),
]


@pytest.mark.parametrize(
    ("header", "port"), [pytest.param(h, p, id=f"{h} {p}") for h, p in BLOCKS]
)
def test_block_scalar_short_syntax(tmp_path: Path, header: str, port: str) -> None:
    text = (
        "services:\n  web:\n    image: nginx\n    ports:\n"
        f"      - {header}\n        {port}\n\n      - '81:81'\n    labels: {{a: b}}\n"
    )
    result = check_rewrite(tmp_path, text)
    lines, written = text.splitlines(), result.splitlines()
    # the block's two lines became one, and no other line changed but the next port's
    assert len(written) == len(lines) - 1
    comment = header.partition("#")[2]
    prefix = header.split()[0] + " " if header[0] in "&!" else ""
    assert written[4] == f'      - {prefix}"{BIND}:{port}"' + ("  #" + comment if comment else "")
    assert written[:4] == lines[:4] and written[5] == lines[6]
    assert written[7:] == lines[8:]


@pytest.mark.parametrize("header", [">-", "|-", "|+", ">+"])
def test_block_scalar_long_syntax(tmp_path: Path, header: str) -> None:
    text = (
        "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n"
        f"        published: {header}\n          8080\n        host_ip: {header}\n"
        "          0.0.0.0\n    labels: {a: b}\n"
    )
    if header.endswith("+"):  # keep chomping: Compose reads "8080\n", not a port
        path = tmp_path / "compose.yaml"
        path.write_text(text)
        assert harden(path) == 2
        assert path.read_text() == text
        return
    result = check_rewrite(tmp_path, text)
    assert f'        host_ip: "{BIND}"\n' in result
    assert result.count("\n") == text.count("\n") - 1


@pytest.mark.parametrize("header", ["|", ">", "|+", ">+"])
def test_block_scalar_with_its_line_break_is_invalid_as_compose_says(
    tmp_path: Path, header: str
) -> None:
    text = f"services:\n  web:\n    image: nginx\n    ports:\n      - {header}\n        8080:80\n"
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    proc = subprocess.run(
        [compose_binary(), "-f", str(path), "config", "-q"], capture_output=True, check=False
    )
    assert proc.returncode != 0
    assert harden(path) == 2
    assert path.read_text() == text


SHAPES = {
    "long-last": "services:\n  web:\n    image: x\n    ports:\n      - target: 80\n"
    "        published: 80\n",
    "long-then-more": "services:\n  web:\n    image: x\n    ports:\n      - target: 80\n"
    "        published: 80\n      - '81:81'\n    labels:\n      a: b\n",
    "long-then-service": "services:\n  web:\n    image: x\n    ports:\n      - target: 80\n"
    "        published: 80\n  db:\n    image: y\n",
    "short-no-final-break": "services:\n  web:\n    image: x\n    ports:\n      - 80:80",
    "allowed-by-comment": "services:\n  web:\n    image: x\n    ports:\n"
    "      - '443:443'  # compose-net: allow tls\n      - '80:80'\n",
    "block-scalar": "services:\n  web:\n    image: x\n    ports:\n      - >-\n        80:80\n"
    "  db:\n    image: y\n",
}


@pytest.mark.parametrize("newline", [pytest.param(n, id=repr(n)) for n in ("\n", "\r\n", "\r")])
@pytest.mark.parametrize("shape", SHAPES)
def test_line_endings(tmp_path: Path, shape: str, newline: str) -> None:
    text = SHAPES[shape]
    if shape == "allowed-by-comment":
        path = tmp_path / "compose.yaml"
        path.write_bytes(text.replace("\n", newline).encode())
        assert harden(path) == 0
        written = path.read_bytes().decode()
        assert f"'{BIND}:80:80'" in written and "'443:443'" in written
    else:
        written = check_rewrite(tmp_path, text, newline)
    others = {"\n", "\r\n", "\r"} - {newline}
    breaks = written.replace("\r\n", "\0") if newline != "\r\n" else written
    for other in others:
        assert other.replace("\r\n", "\0") not in breaks.replace(newline, ""), repr(written)
    assert written.endswith(newline) is text.endswith("\n")


TAGGED = [
    ("!!int 80", f'!!int "{BIND}::80"', f'"{BIND}::80"'),
    ("&p !!int 80", "", f'&p "{BIND}::80"'),
    ("!!int &p 80", "", f'&p "{BIND}::80"'),
    ("!<tag:yaml.org,2002:int> 80", "", f'"{BIND}::80"'),
    ("!!str 80:80", "", f'!!str "{BIND}:80:80"'),
    ("!local 80", "", f'!local "{BIND}::80"'),
    ("!!int 8080", "", f'"{BIND}::8080"'),
]


@pytest.mark.parametrize(
    ("entry", "broken", "expected"), [pytest.param(*t, id=t[0]) for t in TAGGED]
)
def test_tagged_scalar(tmp_path: Path, entry: str, broken: str, expected: str) -> None:
    """A tag that types the entry as a number is dropped with the rewrite (``!!int`` on
    the new address is a value Compose cannot read); ``!!str``, local tags and anchors
    stay. ``broken``: what keeping the tag would write, which Compose refuses."""
    text = f"services:\n  web:\n    image: nginx\n    ports:\n      - {entry}\n"
    if broken:
        path = tmp_path / "broken.yaml"
        path.write_text(text.replace(entry, broken))
        proc = subprocess.run(
            [compose_binary(), "-f", str(path), "config", "-q"], capture_output=True, check=False
        )
        assert proc.returncode != 0
    result = check_rewrite(tmp_path, text)
    assert result == text.replace(entry, expected)
