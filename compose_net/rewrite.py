"""Text edits: splice new characters into the original text, never re-serialise.

Everything here works on offsets into the decoded text, which ruamel's node marks
give. Edits are applied in reverse order so earlier offsets stay valid; two
edits that overlap are a bug and refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from compose_net import yamltree
from compose_net.errors import ComposeNetError
from compose_net.yamltree import MappingNode, Node, ScalarNode


class Edit(NamedTuple):
    start: int
    end: int
    text: str


class UnsupportedSyntax(ComposeNetError):
    """compose-net cannot rewrite this node with certainty; the file is left alone."""


def apply(text: str, edits: Iterable[Edit]) -> str:
    """Splice ``edits`` into ``text``; overlaps are refused.

    Identical duplicates collapse; several insertions at one offset go in the
    order given.
    """
    ordered = sorted(dict.fromkeys(edits), key=lambda e: (e.start, e.end))
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.end or (a.start == b.start and a.end == b.end and a.end > a.start):
            raise ComposeNetError(f"internal error: overlapping edits at offset {b.start}")
    parts: list[str] = []
    last = len(text)
    for edit in reversed(ordered):
        parts.append(text[edit.end : last])
        parts.append(edit.text)
        last = edit.start
    parts.append(text[:last])
    return "".join(reversed(parts))


#: a line break as YAML reads one in a file compose-net edits: CR LF, LF, or a lone CR
_BREAK = re.compile(r"\r\n?|\n")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as YAML counts them (CR LF, LF and a lone CR end a line)."""
    return _BREAK.split(text)


def _break_start(text: str, pos: int) -> int:
    """``pos``, or the CR before it when ``pos`` is the LF of a CR LF."""
    return pos - 1 if 0 < pos < len(text) and text[pos] == "\n" and text[pos - 1] == "\r" else pos


def newline_at(text: str, pos: int) -> str:
    """The line break that ends the line holding ``pos`` (the file's first one past the end)."""
    found = _BREAK.search(text, _break_start(text, pos)) or _BREAK.search(text)
    return found.group() if found is not None else "\n"


def line_end(text: str, pos: int) -> int:
    """Offset of the line break (CR LF, LF or CR) ending the line of ``pos``, or len."""
    found = _BREAK.search(text, _break_start(text, pos))
    return found.start() if found is not None else len(text)


def line_start(text: str, pos: int) -> int:
    """Offset of the first character of the line holding ``pos``."""
    return max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1


def quote(value: str, style: str | None) -> str:
    """``value`` as a YAML flow scalar in ``style`` ('"', "'"); plain becomes double-quoted.

    A port string always holds ``:`` or digits only, so it is never left plain: a
    YAML 1.1 reader would turn ``22:22`` into the number 1342.
    """
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped + '"'


def scalar_span(text: str, node: ScalarNode, path: str) -> tuple[int, int]:
    """Offsets of a scalar's own characters, after any anchor or tag.

    A block scalar (``>-`` or ``|`` and the lines under it) spans from its indicator
    to the end of its last line of content: the line breaks after it stay.
    """
    start, end = node.start_mark.index, node.end_mark.index
    style = node.style
    i = start
    while i < end and text[i] in "&!":
        while i < end and not text[i].isspace():
            i += 1
        while i < end and text[i] in " \t":
            i += 1
    if style in ("|", ">"):
        return _block_span(text, node, i, end, path)
    if style in ('"', "'"):
        if text[i : i + 1] != style or text[end - 1 : end] != style:
            raise UnsupportedSyntax(
                "cannot find the quoted port value",
                path=path,
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
            )
        if "\n" in text[i:end]:
            raise UnsupportedSyntax(
                "a port value spread over several lines cannot be rewritten",
                path=path,
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
            )
        return i, end
    if text[i:end] != node.value:
        raise UnsupportedSyntax(
            "a plain port value spread over several lines or with properties cannot be rewritten",
            path=path,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
        )
    return i, end


_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*([ \t]+#[^\r\n]*)?[ \t]*(?=\r|\n|$)")


def _block_span(text: str, node: ScalarNode, i: int, end: int, path: str) -> tuple[int, int]:
    header = _BLOCK_HEADER.match(text, i)
    last = end
    while last > i and text[last - 1] in " \t\r\n":
        last -= 1
    if header is None or last <= header.end():
        raise UnsupportedSyntax(
            "cannot find the lines of this block scalar",
            path=path,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
        )
    return i, last


def replace_scalar(text: str, node: ScalarNode, value: str, path: str) -> Edit:
    """Replace a scalar's value, keeping its quote style (plain becomes double-quoted).

    A block scalar becomes one double-quoted line in place of its indicator and lines;
    a comment after the indicator is kept after it.
    """
    start, end = scalar_span(text, node, path)
    if node.style not in ("|", ">"):
        return Edit(start, end, quote(value, node.style))
    if not value.isprintable():
        raise UnsupportedSyntax(
            f"a block scalar holding {value!r} cannot be written on one line",
            path=path,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
        )
    header = _BLOCK_HEADER.match(text, start)
    comment = header.group(1) if header is not None and header.group(1) else ""
    return Edit(start, end, quote(value, '"') + comment)


def mapping_value_plain(value: str) -> str:
    """A ``host_ip`` value: plain when it is a bare IPv4 address, else double-quoted."""
    if value and all(c.isdigit() or c == "." for c in value):
        return value
    return quote(value, '"')


def set_empty_value(text: str, key_node: Node, value: str) -> Edit:
    """``key:`` with no value gets `` value`` right after its colon."""
    colon = text.find(":", key_node.end_mark.index)
    return Edit(colon + 1, colon + 1, " " + mapping_value_plain(value))


def insert_mapping_key(text: str, mapping: MappingNode, key: str, value: str, path: str) -> Edit:
    """Add ``key: value`` to a block or flow mapping, in the mapping's own style."""
    if not mapping.value:
        raise UnsupportedSyntax(
            "cannot add a key to an empty mapping",
            path=path,
            line=mapping.start_mark.line + 1,
            column=mapping.start_mark.column + 1,
        )
    rendered = f"{key}: {mapping_value_plain(value)}"
    last_end = yamltree.own_end_mark(mapping.value[-1][1]).index
    last_end = max(last_end, mapping.value[-1][0].end_mark.index)
    if mapping.flow_style:
        return Edit(last_end, last_end, ", " + rendered)
    first_key: Node = mapping.value[0][0]
    indent = first_key.start_mark.column
    # A value that ends at the start of a line (a nested block) already consumed its line break.
    if last_end > 0 and text[last_end - 1] in "\r\n":
        return Edit(last_end, last_end, " " * indent + rendered + newline_at(text, last_end - 1))
    end = line_end(text, last_end)
    return Edit(end, end, newline_at(text, last_end) + " " * indent + rendered)
