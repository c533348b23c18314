"""Inline comments that speak to compose-net: ``# compose-net: allow`` and ``ignore[RULE]``."""

from __future__ import annotations

import re
from typing import NamedTuple

from compose_net import yamltree
from compose_net.yamltree import Span

_PRAGMA = re.compile(r"#\s*compose-net:\s*(allow|ignore)(?:\[([A-Za-z0-9_,\s-]*)\])?\s*(.*)$")


class Pragma(NamedTuple):
    kind: str  # "allow" | "ignore"
    rules: tuple[str, ...]  # empty: every rule
    reason: str


def node_lines(node: Span) -> range:
    """0-based lines a node's text covers."""
    end = yamltree.own_end_mark(node)
    last = end.line
    if end.column == 0 and last > node.start_mark.line:
        last -= 1
    return range(node.start_mark.line, last + 1)


def find(lines: list[str], node: Span) -> list[Pragma]:
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
