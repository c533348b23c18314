"""Inline comments that speak to compose-net: ``# compose-net: allow`` and ``ignore[RULE]``.

A pragma is a YAML comment, never text inside a scalar: ``labels: {note: "see # compose-net:
allow"}`` on the line of a port allows nothing. A ``#`` starts a comment when it is at the
start of a line or follows a space or tab, and lies outside every scalar of the document (a
quoted, plain or block scalar's text runs from its start mark to its end mark; ``a#b`` is one
plain scalar, and `` #`` ends one). Tags, anchors and aliases hold no white space, so no other
token can hide ``" #"``. The scalars are looked at only when a line holds a candidate, once
per document.

A comment in a block scalar's header (``key: | # ...``) is not read: it lies inside the
scalar's marks; a pragma there is ignored, which reports more, never less.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from compose_net import yamltree
from compose_net.yamltree import Node, Span

_PRAGMA = re.compile(r"#\s*compose-net:\s*(allow|ignore)(?:\[([A-Za-z0-9_,\s-]*)\])?\s*(.*)$")
#: a "#" that may start a comment: at the start of a line or after a space or tab
_HASH = re.compile(r"(?:^|(?<=[ \t]))#")


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


class Comments:
    """The pragma comments of one document (its file's ``lines``, its ``root``), searched
    once: the lines that mention compose-net when first asked (a flow mapping holds a whole
    file on one line, and is searched once, not once per entry on it), the comments among
    them when a node lies on one of those lines."""

    __slots__ = ("_candidates", "_pragmas", "lines", "root")

    def __init__(self, lines: list[str], root: Node) -> None:
        self.lines = lines
        self.root = root
        self._candidates: frozenset[int] | None = None
        self._pragmas: dict[int, Pragma] | None = None

    def find(self, node: Span) -> list[Pragma]:
        """Pragmas in comments on the lines of ``node``, which belongs to this document."""
        out: list[Pragma] = []
        candidates = self._candidates
        if candidates is None:
            candidates = self._candidates = frozenset(
                i for i, line in enumerate(self.lines) if "compose-net" in line
            )
        if not candidates:
            return out
        lines = self.lines
        for i in node_lines(node):
            if i >= len(lines):
                break
            if i not in candidates:
                continue
            if self._pragmas is None:
                self._pragmas = _comment_pragmas(lines, self.root)
            pragma = self._pragmas.get(i)
            if pragma is not None:
                out.append(pragma)
        return out


def find(lines: list[str], node: Span, root: Node) -> list[Pragma]:
    """Pragmas in comments on the lines of ``node``, which belongs to the document ``root``
    (whose scalars say where comments cannot be). A caller that asks about many nodes of
    a document keeps one :class:`Comments` instead."""
    return Comments(lines, root).find(node)


def _comment_pragmas(lines: list[str], root: Node) -> dict[int, Pragma]:
    """Line -> the pragma of the comment on it, for every line whose comment is one."""
    candidates: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        if "compose-net" in line and "#" in line:
            columns = [m.start() for m in _HASH.finditer(line)]
            if columns:
                candidates[i] = columns
    if not candidates:
        return {}
    _drop_inside_scalars(root, candidates)
    out: dict[int, Pragma] = {}
    for i, columns in candidates.items():
        if not columns:
            continue
        m = _PRAGMA.search(lines[i], min(columns))  # a comment runs to the end of its line
        if m is None:
            continue
        rules = tuple(r.strip() for r in (m.group(2) or "").split(",") if r.strip())
        out[i] = Pragma(m.group(1), rules, m.group(3).strip())
    return out


def _drop_inside_scalars(root: Node, candidates: dict[int, list[int]]) -> None:
    """Remove from ``candidates`` (line -> columns of a "#") every position inside a scalar."""
    seen: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if yamltree.is_scalar(node):
            _drop_span(node, candidates)
        elif yamltree.is_mapping(node):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif yamltree.is_sequence(node):
            stack.extend(node.value)


def _drop_span(node: Span, candidates: dict[int, list[int]]) -> None:
    start, end = node.start_mark, node.end_mark
    if end.line - start.line > len(candidates):  # a long block scalar: look at candidates only
        lines: list[int] | range = [i for i in candidates if start.line <= i <= end.line]
    else:
        lines = range(start.line, end.line + 1)
    for i in lines:
        columns = candidates.get(i)
        if not columns:
            continue
        begin = start.column if i == start.line else 0
        stop = end.column if i == end.line else None
        columns[:] = [c for c in columns if c < begin or (stop is not None and c >= stop)]
