"""Inline comments that speak to compose-net: ``# compose-net: allow`` and ``ignore[RULE]``."""

from __future__ import annotations

import re
from typing import NamedTuple

from compose_net.yamltree import Node

_PRAGMA = re.compile(r"#\s*compose-net:\s*(allow|ignore)(?:\[([A-Za-z0-9_,\s-]*)\])?\s*(.*)$")


class Pragma(NamedTuple):
    kind: str  # "allow" | "ignore"
    rules: tuple[str, ...]  # empty: every rule
    reason: str


def _last_line(node: Node) -> int:
    """0-based line of a node's last character of its own.

    A block collection's end mark sits on the token after it (often the next
    entry's line), so the last line is the last child's.
    """
    kind = getattr(node, "id", "scalar")
    if kind != "scalar" and not node.flow_style and node.value:
        last = node.value[-1]
        return _last_line(last[1] if kind == "mapping" else last)
    line: int = node.end_mark.line
    if node.end_mark.column == 0 and line > node.start_mark.line:
        line -= 1
    return line


def node_lines(node: Node) -> range:
    """0-based lines a node's text covers."""
    return range(node.start_mark.line, _last_line(node) + 1)


def find(lines: list[str], node: Node) -> list[Pragma]:
    """Pragmas in comments on the lines of ``node``."""
    out: list[Pragma] = []
    for i in node_lines(node):
        if i >= len(lines):
            break
        line = lines[i]
        hash_at = line.find("#")
        if hash_at < 0:
            continue
        m = _PRAGMA.search(line, hash_at)
        if m is None:
            continue
        rules = tuple(r.strip() for r in (m.group(2) or "").split(",") if r.strip())
        out.append(Pragma(m.group(1), rules, m.group(3).strip()))
    return out
