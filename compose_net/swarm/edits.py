"""Text splices the stack strategies need: delete list items and keys, add keys and items.

Like ``compose_net.rewrite`` this works on offsets into the decoded text and never
re-serialises the document. New content (a key, a list item, a small mapping) is
rendered here, in the style of the collection it joins: block collections get
lines at the indentation of their siblings, flow collections get ``, item``.
Anything whose text cannot be located with certainty raises ``UnsupportedSyntax``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from compose_net import rewrite, yamltree
from compose_net.rewrite import Edit, UnsupportedSyntax
from compose_net.yamltree import MappingNode, Node, ScalarNode, SequenceNode, Span

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def refuse(message: str, path: str, node: Span) -> UnsupportedSyntax:
    where = yamltree.position(node)
    return UnsupportedSyntax(message, path=path, line=where.line, column=where.column)


# --------------------------------------------------------------------------- rendering


def scalar_text(value: object) -> str:
    """A scalar as YAML: plain when that reads back as the same string, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return rewrite.quote(text, '"')


def flow_text(value: object) -> str:
    """``value`` (dicts, lists, scalars) as a one-line flow collection."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar_text(k)}: {flow_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow_text(v) for v in value) + "]"
    return scalar_text(value)


def block_lines(value: Mapping[str, Any], step: int) -> list[str]:
    """A mapping as block lines, relative to column 0; nested collections indent by ``step``."""
    lines: list[str] = []
    pad = " " * step
    for key, item in value.items():
        if isinstance(item, Mapping) and item:
            lines.append(f"{scalar_text(key)}:")
            lines += [pad + line for line in block_lines(item, step)]
        elif isinstance(item, (list, tuple)) and item:
            lines.append(f"{scalar_text(key)}:")
            lines += [f"{pad}- {flow_text(v)}" for v in item]
        else:
            lines.append(f"{scalar_text(key)}: {flow_text(item)}")
    return lines


# --------------------------------------------------------------------------- positions


def value_end(text: str, node: Node, after: int | None = None) -> int:
    """Offset just past a node's own last character (trailing comments and breaks excluded).

    A block collection's end mark lies past the comments that follow it, so the end is
    taken from its last scalar instead. ``after`` is where this occurrence of the node
    starts at the earliest: a node that starts before it is an alias (``*name``), whose
    own text is that token.
    """
    if after is not None and node.start_mark.index < after:
        return _alias_end(text, after)
    if yamltree.is_scalar(node):
        start, end = node.start_mark.index, node.end_mark.index
        while end > start and text[end - 1] in " \t\r\n":
            end -= 1
        return end
    if node.flow_style or not node.value:
        return node.end_mark.index
    if yamltree.is_sequence(node):
        pos = node.start_mark.index
        for item in node.value:
            pos = value_end(text, item, pos)
        return pos
    key, value = node.value[-1]
    return max(key_end(text, key), pair_end(text, key, value))


def _alias_end(text: str, pos: int) -> int:
    """Offset past the ``*name`` token after ``pos`` (spaces, comments and a ``-`` skipped)."""
    i, n = pos, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n-":
            i += 1
        elif c == "#":
            i = line_break_end(text, i)
        elif c == "*":
            while i < n and text[i] not in " \t\r\n,]}":
                i += 1
            return i
        else:
            break
    return pos


def _has_text(node: Node) -> bool:
    return not (yamltree.is_scalar(node) and node.start_mark.index == node.end_mark.index)


def key_end(text: str, key: Node) -> int:
    """Offset past ``key:`` (an empty value's mark sits on the next line, so it is not used)."""
    colon = text.find(":", key.end_mark.index)
    return key.end_mark.index if colon < 0 else colon + 1


def pair_end(text: str, key: Node, value: Node) -> int:
    """Offset past a pair's value, or past its colon when the value is empty."""
    after = key_end(text, key)
    return value_end(text, value, after) if _has_text(value) else after


def line_break_end(text: str, pos: int) -> int:
    """Offset just past the line break that ends the line of ``pos`` (or len)."""
    end = text.find("\n", pos)
    return len(text) if end < 0 else end + 1


def whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the lines from ``start`` to ``end``, with the line break that ends them."""
    return rewrite.line_start(text, start), line_break_end(text, end)


def merge_deletions(text: str, edits: Sequence[Edit]) -> list[Edit]:
    """Join deletions that touch or overlap (whole-line deletions of neighbouring lines).

    Deleted last lines of a file without a final line break take the break before
    them instead, so the file still ends without one.
    """
    out: list[Edit] = []
    for edit in sorted(dict.fromkeys(edits), key=lambda e: (e.start, e.end)):
        last = out[-1] if out else None
        if last is not None and not last.text and not edit.text and edit.start <= last.end:
            out[-1] = Edit(last.start, max(last.end, edit.end), "")
        else:
            out.append(edit)
    for i, edit in enumerate(out):
        first = edit.start
        if (
            not edit.text
            and edit.end == len(text)
            and not text.endswith("\n")
            and first > 0
            and text[first - 1] == "\n"
        ):
            first -= 2 if text[first - 2 : first] == "\r\n" else 1
            out[i] = Edit(first, edit.end, "")
    return out


def rest_is_blank(text: str, pos: int) -> bool:
    """Nothing but spaces and an optional comment from ``pos`` to the end of its line."""
    rest = text[pos : rewrite.line_end(text, pos)].strip()
    return not rest or rest.startswith("#")


def starts_line(text: str, pos: int) -> bool:
    return not text[rewrite.line_start(text, pos) : pos].strip()


def dash_of(text: str, item: Node, path: str) -> int:
    """Offset of the ``-`` that introduces a block-sequence item; it must start its line."""
    i = item.start_mark.index - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] != "-" or not starts_line(text, i):
        raise refuse("cannot find this list item's own line", path, item)
    return i


def in_line(text: str, node: Node) -> bool:
    """The node's text lies on one line."""
    return "\n" not in text[node.start_mark.index : node.end_mark.index]


def in_span(outer: Node, inner: Node) -> bool:
    return outer.start_mark.index <= inner.start_mark.index < outer.end_mark.index


# --------------------------------------------------------------------------- deleting


def delete_block_item(text: str, seq: SequenceNode, item: Node, path: str) -> Edit:
    """Delete a block-sequence item's lines; comment lines before it stay."""
    if not in_span(seq, item):
        raise refuse(
            "this list item is an alias; write it out to let compose-net remove it", path, item
        )
    dash = dash_of(text, item, path)
    end = value_end(text, item)
    if not rest_is_blank(text, end):
        raise refuse("something follows this list item on its line", path, item)
    return Edit(*whole_lines(text, dash, end), "")


def delete_flow_items(
    text: str, seq: SequenceNode, indexes: Sequence[int], path: str
) -> list[Edit]:
    """Delete items of a flow sequence with their commas; at least one item must stay."""
    items = seq.value
    gone = sorted(set(indexes))
    if len(gone) >= len(items):
        raise AssertionError("delete_flow_items must keep an item")
    for i in gone:
        if not in_span(seq, items[i]):
            raise refuse(
                "this list item is an alias; write it out to let compose-net remove it",
                path,
                items[i],
            )
    edits: list[Edit] = []
    runs: list[list[int]] = []
    for i in gone:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        first, last = run[0], run[-1]
        if last + 1 < len(items):
            edits.append(Edit(items[first].start_mark.index, items[last + 1].start_mark.index, ""))
        else:
            edits.append(Edit(value_end(text, items[first - 1]), value_end(text, items[last]), ""))
    return edits


def delete_key(text: str, mapping: MappingNode, index: int, path: str) -> Edit:
    """Delete the ``index``-th pair of a mapping, with its whole value.

    Block mappings lose the pair's lines (a first key on a ``- `` line gives its place
    to the next key); flow mappings lose the pair and one comma.
    """
    pairs = mapping.value
    key, value = pairs[index]
    end = pair_end(text, key, value)
    if mapping.flow_style:
        if index + 1 < len(pairs):
            return Edit(key.start_mark.index, pairs[index + 1][0].start_mark.index, "")
        if index == 0:
            raise refuse("cannot remove the only key of a mapping", path, key)
        return Edit(pair_end(text, *pairs[index - 1]), end, "")
    if not rest_is_blank(text, end):
        raise refuse("something follows this key's value on its line", path, key)
    if starts_line(text, key.start_mark.index):
        return Edit(*whole_lines(text, key.start_mark.index, end), "")
    if index + 1 < len(pairs):
        return Edit(key.start_mark.index, pairs[index + 1][0].start_mark.index, "")
    raise refuse("cannot find this key's own line", path, key)


def delete_key_line(text: str, key: Node, path: str) -> Edit:
    """Delete the line of a block key whose value starts on a later line (deleted apart)."""
    rest = key_end(text, key)
    while rest < len(text) and text[rest] in " \t":
        rest += 1
    if text.startswith("!", rest):  # a tag of the value, such as Compose's !override
        while rest < len(text) and text[rest] not in " \t\r\n":
            rest += 1
    if not starts_line(text, key.start_mark.index) or not rest_is_blank(text, rest):
        raise refuse("cannot find this key's own line", path, key)
    return Edit(*whole_lines(text, key.start_mark.index, key.start_mark.index), "")


# --------------------------------------------------------------------------- adding


def _lines_at(text: str, pos: int, column: int, lines: Sequence[str]) -> str:
    """``lines`` at ``column``, each after a line break (to follow the text at ``pos``)."""
    newline = rewrite.newline_at(text, pos)
    return "".join(newline + " " * column + line for line in lines)


def _lines_after(text: str, end: int, column: int, lines: Sequence[str]) -> Edit:
    """Insert ``lines`` at ``column`` as whole lines after the line holding ``end``.

    The insertion goes at the start of the next line, so it never falls inside an edit
    that deletes or replaces the line holding ``end``.
    """
    pos = line_break_end(text, end)
    newline = rewrite.newline_at(text, end)
    if pos == len(text) and not text.endswith("\n"):
        return Edit(pos, pos, _lines_at(text, end, column, lines))
    return Edit(pos, pos, "".join(" " * column + line + newline for line in lines))


def insert_key(text: str, mapping: MappingNode, block: Sequence[str], flow: str, path: str) -> Edit:
    """Add a pair after a mapping's last one: ``block`` lines (relative) or ``flow`` text."""
    if mapping.flow_style:
        if not mapping.value:
            return Edit(mapping.start_mark.index + 1, mapping.start_mark.index + 1, flow)
        end = pair_end(text, *mapping.value[-1])
        return Edit(end, end, ", " + flow)
    first_key = mapping.value[0][0]
    if not starts_line(text, first_key.start_mark.index) and not _after_dash(text, first_key):
        raise refuse("cannot tell this mapping's indentation", path, first_key)
    end = value_end(text, mapping)
    if not rest_is_blank(text, end):
        raise refuse("something follows this mapping on its last line", path, mapping)
    return _lines_after(text, end, first_key.start_mark.column, block)


def _after_dash(text: str, node: Node) -> bool:
    i = node.start_mark.index - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i >= 0 and text[i] == "-" and starts_line(text, i)


def append_item(text: str, seq: SequenceNode, block: str, flow: str, path: str) -> Edit:
    """Add an item after a sequence's last one: ``- block`` or ``, flow``."""
    if seq.flow_style:
        if not seq.value:
            return Edit(seq.start_mark.index + 1, seq.start_mark.index + 1, flow)
        end = value_end(text, seq.value[-1])
        return Edit(end, end, ", " + flow)
    last = seq.value[-1]
    if not in_span(seq, last):
        raise refuse("the last item of this list is an alias; write it out first", path, seq)
    dash = dash_of(text, last, path)
    end = value_end(text, seq)
    if not rest_is_blank(text, end):
        raise refuse("something follows this list on its last line", path, seq)
    return _lines_after(text, end, dash - rewrite.line_start(text, dash), ["- " + block])


def replace_scalar_item(
    text: str, item: ScalarNode, block: Sequence[str], flow: str, in_flow: bool, path: str
) -> Edit:
    """Replace a scalar list item by a mapping: block lines at its column, or flow text."""
    start, end = rewrite.scalar_span(text, item, path)
    if start != item.start_mark.index:
        raise refuse(
            "this port entry has an anchor or a tag; write it out without them to let "
            "compose-net convert it",
            path,
            item,
        )
    if in_flow:
        return Edit(start, end, flow)
    column = start - rewrite.line_start(text, start)
    first, *rest = block
    return Edit(start, end, first + _lines_at(text, start, column, rest))


def replace_plain(text: str, node: ScalarNode, value: str, path: str) -> Edit:
    """Replace a scalar's text by ``value``: plain stays plain, quotes are kept."""
    if node.style in ('"', "'"):
        return rewrite.replace_scalar(text, node, value, path)
    start, end = rewrite.scalar_span(text, node, path)
    return Edit(start, end, value)
