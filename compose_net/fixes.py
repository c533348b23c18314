"""A finding's fix: the change a rule wants for one port entry, and its text edits.

A rule that finds a problem builds the :class:`Fix` (it alone knows the repair);
:func:`render` turns the fixes of one entry into text edits spliced into the original
characters, plus the *intended model change*: what each edited node must read as
afterwards, which the proof (:mod:`compose_net.proof`) checks. Nothing is re-serialised.

Applicability follows ruff: a ``safe`` fix keeps the meaning the user wants (a port on all
interfaces bound to the node's internal address) and ``harden`` applies it; an ``unsafe``
one changes a deliberate choice (a public address, a host port) and needs its option
(``requires``); a ``display-only`` one cannot be made in the file and says why (``title``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Union

from compose_net import interpolate, rewrite, yamltree
from compose_net.document import PortEntry
from compose_net.ports import ShortSpec, split_short
from compose_net.rewrite import Edit, refuse
from compose_net.yamltree import MappingNode, Node

Applicability = Literal["safe", "unsafe", "display-only"]


@dataclass(frozen=True, eq=False)
class Fix:
    """The change one finding asks of one port entry."""

    entry: PortEntry
    #: the service's ``ports`` sequence (a second entry goes beside this one)
    ports_node: Node | None
    applicability: Applicability
    #: what it does ("bind to 10.0.0.5"), or for a display-only fix why it cannot be made
    title: str
    #: the host IP(s) the entry gets; several: one entry per address; empty: unchanged
    host_ips: tuple[str, ...] = ()
    #: the host port it moves to (a collision); None: unchanged
    published: int | None = None
    #: the option an unsafe fix needs (``--rewrite-public``, ``--remap-conflicts``)
    requires: str = ""
    #: applied by a swarm stack strategy (``harden --target stack``), not by a text edit here
    by_strategy: bool = False

    def with_port(self, port: int) -> Fix:
        return replace(self, published=port)


#: what an edited node must read as afterwards: one value, or the items it becomes
Substitution = Union[tuple[Literal["scalar"], object], tuple[Literal["items"], list[object]]]


@dataclass
class Rendered:
    """The edits of fixes rendered so far, and what each one substitutes."""

    edits: list[Edit] = field(default_factory=list)
    #: node id -> its substitution (for the proof)
    substitutions: dict[int, Substitution] = field(default_factory=dict)


def combine(fixes: Sequence[Fix]) -> Fix:
    """One entry's fixes as one: the first address change and the first port move."""
    first = fixes[0]
    host_ips = next((f.host_ips for f in fixes if f.host_ips), ())
    published = next((f.published for f in fixes if f.published is not None), None)
    return replace(first, host_ips=host_ips, published=published)


def render(text: str, path: str, fix: Fix, out: Rendered) -> None:
    """Add the edits and substitutions of one entry's (combined) fix to ``out``.

    Raises UnsupportedSyntax (nothing added) when the entry's text cannot be changed with
    certainty; the caller leaves that entry alone and reports why.
    """
    local = Rendered()
    if fix.entry.syntax == "short":
        _render_short(text, path, fix, local)
    else:
        _render_long(text, path, fix, local)
    out.edits.extend(local.edits)
    out.substitutions.update(local.substitutions)


def _render_short(text: str, path: str, fix: Fix, out: Rendered) -> None:
    entry, node = fix.entry, fix.entry.node
    if not yamltree.is_scalar(node):
        raise refuse("a short-syntax port must be a scalar", path, node)
    spec = entry.short
    if fix.published is not None:
        if not (spec.host_port or "").isdigit():
            raise refuse("its host port is a range or a variable: move it by hand", path, node)
        spec = spec._replace(host_port=str(fix.published))
    values = [spec.with_host_ip(ip) for ip in fix.host_ips] or [_short_text(spec)]
    if len(values) > 1:
        _refuse_shared_pair(fix, path)
    out.edits.append(rewrite.replace_scalar(text, node, values[0], path))
    out.substitutions[id(node)] = ("items", list[object](values))
    for value in values[1:]:
        out.edits.append(
            _add_item(text, fix.ports_node, node, rewrite.quote(value, node.style), path)
        )


def _short_text(spec: ShortSpec) -> str:
    """The entry's text from its parts, as written (brackets kept)."""
    if spec.host_port is None:
        return spec.container
    if spec.host_ip is None:
        return f"{spec.host_port}:{spec.container}"
    ip = f"[{spec.host_ip}]" if spec.bracketed else spec.host_ip
    return f"{ip}:{spec.host_port}:{spec.container}"


def _refuse_shared_pair(fix: Fix, path: str) -> None:
    node = fix.entry.node
    if getattr(node, "anchor", None) is not None or not _in_list(fix.ports_node, node):
        raise refuse(
            "this port entry is shared through an anchor; binding it to both an IPv4 and an "
            "IPv6 address would need a second entry: bind one family, or write the entry out",
            path,
            node,
        )


def _render_long(text: str, path: str, fix: Fix, out: Rendered) -> None:
    entry, node = fix.entry, fix.entry.node
    if not yamltree.is_mapping(node):
        raise refuse("a long-syntax port must be a mapping", path, node)
    old_plain = yamltree.to_plain(node)
    if not isinstance(old_plain, dict):
        raise refuse("a long-syntax port must be a mapping", path, node)
    first_ip: str | None = fix.host_ips[0] if fix.host_ips else None
    more = fix.host_ips[1:]
    if more:
        _refuse_shared_pair(fix, path)
    new_plain = dict(old_plain)
    if fix.published is not None:
        published = entry.fields.get("published")
        if published is None or not yamltree.is_scalar(published):
            raise refuse("its published port is not a plain value: move it by hand", path, node)
        if not entry.node.start_mark.index <= published.start_mark.index < node.end_mark.index:
            raise refuse("its published port comes from a merge: move it by hand", path, node)
        if not str(yamltree.to_plain(published)).isdigit() or published.anchor is not None:
            raise refuse("its published port is a range or a variable: move it by hand", path, node)
        typed: object = (
            fix.published if isinstance(yamltree.to_plain(published), int) else str(fix.published)
        )
        if published.style is None:
            start, end = rewrite.scalar_span(text, published, path)
            out.edits.append(Edit(start, end, str(fix.published)))
        else:
            out.edits.append(rewrite.replace_scalar(text, published, str(fix.published), path))
        out.substitutions[id(published)] = ("scalar", typed)
        new_plain["published"] = typed
    if first_ip is None:
        return
    edit, changed = long_ip_edit(text, node, first_ip, path)
    out.edits.append(edit)
    items: list[object] = [{**new_plain, "host_ip": ip} for ip in fix.host_ips]
    if changed is node or more or fix.published is not None:
        out.substitutions.pop(id(changed), None)
        out.substitutions[id(node)] = ("items", items)
    else:
        out.substitutions[id(changed)] = ("scalar", first_ip)
    for ip in more:
        out.edits.append(_copy_long(text, fix.ports_node, node, ip, path))


def long_ip_edit(text: str, node: MappingNode, ip: str, path: str) -> tuple[Edit, Node]:
    """The edit that sets host_ip in a long-syntax mapping, and the node it changes."""
    for name, key, value in yamltree.mapping_items(node):
        if name != "host_ip":
            continue
        if yamltree.is_scalar(value) and value.start_mark.index == value.end_mark.index:
            return rewrite.set_empty_value(text, key, ip), value
        if not yamltree.is_scalar(value):
            raise refuse("host_ip is not a scalar", path, value)
        if value.style is None:
            start, end = rewrite.scalar_span(text, value, path)
            return Edit(start, end, rewrite.mapping_value_plain(ip)), value
        return rewrite.replace_scalar(text, value, ip, path), value
    return rewrite.insert_mapping_key(text, node, "host_ip", ip, path), node


def _dash_offset(text: str, node: Node, path: str) -> int:
    i = node.start_mark.index - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] != "-":
        raise refuse(
            "cannot find this port entry's '-' to add a second entry beside it", path, node
        )
    return int(i)


def _in_list(seq: Node | None, node: Node) -> bool:
    return seq is not None and rewrite.in_span(seq, node)


def _add_item(text: str, seq: Node | None, node: Node, rendered: str, path: str) -> Edit:
    if not yamltree.is_sequence(seq):
        raise refuse("cannot find the list this port entry is in", path, node)
    if seq.flow_style:
        return Edit(node.end_mark.index, node.end_mark.index, ", " + rendered)
    dash = _dash_offset(text, node, path)
    column = dash - rewrite.line_start(text, dash)
    end = rewrite.line_end(text, node.end_mark.index)
    indent = text[rewrite.line_start(text, dash) : dash]
    if indent.strip():
        indent = " " * column
    return Edit(end, end, rewrite.newline_at(text, dash) + indent + "- " + rendered)


def _copy_long(text: str, seq: Node | None, node: MappingNode, ip: str, path: str) -> Edit:
    """A second long-syntax entry: the original's text with ``ip`` as host_ip."""
    if not yamltree.is_sequence(seq):
        raise refuse("cannot find the list this port entry is in", path, node)
    if seq.flow_style:
        start, end = node.start_mark.index, node.end_mark.index
        edit, _ = long_ip_edit(text, node, ip, path)
        local = rewrite.apply(
            text[start:end], [Edit(edit.start - start, edit.end - start, edit.text)]
        )
        return Edit(end, end, ", " + local)
    dash = _dash_offset(text, node, path)
    start = rewrite.line_start(text, dash)
    end_pos: int = yamltree.own_end_mark(node).index
    if end_pos > 0 and text[end_pos - 1] in "\r\n":
        end_pos -= 1
    end = rewrite.line_end(text, end_pos)
    edit, _ = long_ip_edit(text, node, ip, path)
    if not start <= edit.start <= end:
        raise refuse(
            "host_ip of this entry comes from a merge; write the entry out to bind "
            "it to two addresses",
            path,
            node,
        )
    local = rewrite.apply(text[start:end], [Edit(edit.start - start, edit.end - start, edit.text)])
    return Edit(end, end, rewrite.newline_at(text, end) + local)


def variable_carries_structure(entry: PortEntry) -> ShortSpec | None:
    """The defaulted spec when a variable holds a ``:`` of the entry itself, else None.

    ``"${SQL_PORT:-127.0.0.1:13306}:3306"`` reads as HOST:CONTAINER as written but
    as IP:HOST:CONTAINER once interpolated: the written structure cannot be trusted.
    """
    if entry.syntax != "short" or entry.text is None or not interpolate.has_variables(entry.text):
        return None
    default = interpolate.default_of(entry.text)
    if default is None:
        return None
    written, resolved = split_short(entry.text), split_short(default)
    if (written.host_ip is None) == (resolved.host_ip is None) and (
        (written.host_port is None) == (resolved.host_port is None)
    ):
        return None
    return resolved

