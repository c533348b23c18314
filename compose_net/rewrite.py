"""The edit toolkit: splice new characters into the original text, never re-serialise.

Everything here works on offsets into the decoded text, which the node marks give.
Edits are applied in reverse order so earlier offsets stay valid; two edits that
overlap are a bug and refused. The first half holds the primitives (``Edit``,
``apply``, quoting, a scalar's own span, a host IP set in a port mapping); the second
the structural edits (delete list items and keys, add keys and items), which render new
content in the style of the collection it joins: block collections get lines at the
indentation of their siblings, flow collections get ``, item``. Compose fixes
(``compose_net.fixes``) and the stack strategies (``compose_net.swarm``) both edit
through it. Anything whose text cannot be located with certainty raises
``UnsupportedSyntax``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from compose_net import yamltree
from compose_net.errors import ComposeNetError
from compose_net.yamltree import MappingNode, Node, ScalarNode, SequenceNode, Span

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


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


def _typed_span(text: str, node: ScalarNode, start: int) -> tuple[int, str]:
    """Where an edit of a scalar that now holds a string starts, and the properties it
    writes first: the scalar's own characters, unless an explicit tag other than ``!!str``
    types it (``!!int 80``), which is dropped, anchor kept; else the tag would make the new
    string a value Compose cannot read (``!!int "10.0.0.5::80"``)."""
    tag = str(node.tag)
    if not tag.startswith(yamltree.TAG_PREFIX) or tag == yamltree.TAG_PREFIX + "str":
        return start, ""
    properties = text[node.start_mark.index : start].split()
    if not any(p.startswith("!") for p in properties):
        return start, ""  # an implicit type: no tag is written
    kept = [p for p in properties if not p.startswith("!")]
    return node.start_mark.index, "".join(p + " " for p in kept)


def replace_scalar(text: str, node: ScalarNode, value: str, path: str) -> Edit:
    """Replace a scalar's value, keeping its quote style (plain becomes double-quoted).

    A block scalar becomes one double-quoted line in place of its indicator and lines;
    a comment after the indicator is kept after it.
    """
    start, end = scalar_span(text, node, path)
    if node.style not in ("|", ">"):
        at, properties = _typed_span(text, node, start)
        return Edit(at, end, properties + quote(value, node.style))
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
    return quote(text, '"')


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
    return line_start(text, start), line_break_end(text, end)


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
    rest = text[pos : line_end(text, pos)].strip()
    return not rest or rest.startswith("#")


def starts_line(text: str, pos: int) -> bool:
    return not text[line_start(text, pos) : pos].strip()


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
    newline = newline_at(text, pos)
    return "".join(newline + " " * column + line for line in lines)


def _lines_after(text: str, end: int, column: int, lines: Sequence[str]) -> Edit:
    """Insert ``lines`` at ``column`` as whole lines after the line holding ``end``.

    The insertion goes at the start of the next line, so it never falls inside an edit
    that deletes or replaces the line holding ``end``.
    """
    pos = line_break_end(text, end)
    newline = newline_at(text, end)
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
    return _lines_after(text, end, dash - line_start(text, dash), ["- " + block])


def replace_scalar_item(
    text: str, item: ScalarNode, block: Sequence[str], flow: str, in_flow: bool, path: str
) -> Edit:
    """Replace a scalar list item by a mapping: block lines at its column, or flow text."""
    start, end = scalar_span(text, item, path)
    if start != item.start_mark.index:
        raise refuse(
            "this port entry has an anchor or a tag; write it out without them to let "
            "compose-net convert it",
            path,
            item,
        )
    if in_flow:
        return Edit(start, end, flow)
    column = start - line_start(text, start)
    first, *rest = block
    return Edit(start, end, first + _lines_at(text, start, column, rest))


def replace_plain(text: str, node: ScalarNode, value: str, path: str) -> Edit:
    """Replace a scalar's text by ``value``: plain stays plain, quotes are kept."""
    if node.style in ('"', "'"):
        return replace_scalar(text, node, value, path)
    start, end = scalar_span(text, node, path)
    at, properties = _typed_span(text, node, start)
    return Edit(at, end, properties + value)
