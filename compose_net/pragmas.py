"""Inline comments that speak to compose-net: ``# compose-net: allow`` and ``ignore[RULE]``."""

from __future__ import annotations

import functools
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
        pragma = _on_line(lines[i])
        if pragma is not None:
            out.append(pragma)
    return out


@functools.lru_cache(maxsize=1024)
def _on_line(line: str) -> Pragma | None:
    """The pragma of one line; kept, so a long line (a file in flow style is one line)
    is searched once, not once per node on it."""
    hash_at = line.find("#")
    if hash_at < 0:
        return None
    m = _PRAGMA.search(line, hash_at)
    if m is None:
        return None
    rules = tuple(r.strip() for r in (m.group(2) or "").split(",") if r.strip())
    return Pragma(m.group(1), rules, m.group(3).strip())
