"""Plan and prove the rewrite of exposed ports to internal addresses.

``plan`` decides, per port entry, what to do and which text edits do it;
``harden_text`` applies them and proves the result (it parses, only the
intended host IPs changed, a second run changes nothing, the schema accepts
it) before anyone may write it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from compose_net import addresses, bounds, document, interpolate, model, pragmas, rewrite, yamltree
from compose_net.config import Allow
from compose_net.document import Document, PortEntry, Service
from compose_net.errors import ComposeNetError, SafetyError
from compose_net.ports import ShortSpec, split_short
from compose_net.rewrite import Edit, UnsupportedSyntax
from compose_net.source import Source
from compose_net.yamltree import MappingNode, Node, SequenceNode


@dataclass(frozen=True)
class Binds:
    """The internal address(es) a service's ports are bound to."""

    ipv4: str | None = None
    ipv6: str | None = None
    var: str | None = None

    def __post_init__(self) -> None:
        if not (self.ipv4 or self.ipv6 or self.var):
            raise ComposeNetError("nothing to bind to: give --bind IP or --bind-var NAME")

    @classmethod
    def parse(cls, binds: Sequence[str], var: str | None = None) -> Binds:
        ipv4 = ipv6 = None
        for text in binds:
            addr = addresses.parse_ip(text)
            if addr is None:
                raise ComposeNetError(f"--bind {text!r} is not an IP address")
            kind = addresses.classify(addr)
            if kind == "all-interfaces":
                raise ComposeNetError(
                    f"--bind {text}: that is every interface, the very thing to avoid"
                )
            if addr.version == 4:
                if ipv4:
                    raise ComposeNetError("give at most one IPv4 and one IPv6 --bind address")
                ipv4 = str(addr)
            else:
                if ipv6:
                    raise ComposeNetError("give at most one IPv4 and one IPv6 --bind address")
                ipv6 = str(addr)
        if var is not None and (ipv4 or ipv6):
            raise ComposeNetError("--bind and --bind-var cannot be combined")
        if var is not None and not interpolate.parse("$" + var) == (
            interpolate.Var(var, "", (), "$" + var),
        ):
            raise ComposeNetError(f"--bind-var {var!r} is not a valid variable name")
        return cls(ipv4, ipv6, var)

    def var_text(self) -> str:
        assert self.var is not None
        name = self.var
        return f"${{{name}:?set {name} to the internal address of this node}}"

    def for_family(self, family: int | None) -> list[str]:
        """Addresses to write for an entry of ``family`` (None: both families)."""
        if self.var:
            return [self.var_text()]
        if family == 4:
            return [self.ipv4 or str(self.ipv6)]
        if family == 6:
            return [self.ipv6 or str(self.ipv4)]
        return [ip for ip in (self.ipv4, self.ipv6) if ip]


Action = Literal["rewrite", "keep-public", "allowed", "keep"]


@dataclass(frozen=True)
class Decision:
    entry: PortEntry
    action: Action
    old_ip: str | None
    new_ips: tuple[str, ...] = ()
    note: str = ""


@dataclass
class Plan:
    path: str
    decisions: list[Decision] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    #: node id -> what the edited node must read as afterwards (for the proof)
    substitutions: dict[int, Any] = field(default_factory=dict)

    @property
    def rewrites(self) -> list[Decision]:
        return [d for d in self.decisions if d.action == "rewrite"]


BindsFor = Callable[[Service], Binds]


def _is_one_variable(text: str) -> bool:
    """``"${PORTS}"`` or ``"$PORTS"``: an entry that is one variable without a default."""
    template = interpolate.parse(text)
    return (
        len(template) == 1
        and isinstance(template[0], interpolate.Var)
        and not interpolate.default_of(text)
    )


def _variable_carries_structure(entry: PortEntry) -> ShortSpec | None:
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


def decide(
    entry: PortEntry,
    binds: Binds,
    *,
    allows: Sequence[Allow],
    lines: list[str],
    rewrite_public: bool,
    path: str,
) -> Decision:
    """What to do with one entry, and which host IP(s) it gets."""
    old_ip = entry.written_host_ip
    if entry.syntax == "short" and entry.text is not None and _is_one_variable(entry.text):
        raise UnsupportedSyntax(
            f"the whole port entry is the variable {entry.text!r}, with no default to show its "
            "form; compose-net cannot tell whether it holds a host IP: write the parts out, "
            'e.g. "${HOST_PORT}:80"',
            path=path,
            line=entry.position.line,
            column=entry.position.column,
        )
    carried = _variable_carries_structure(entry)
    if carried is not None:
        kind = addresses.classify_text(carried.host_ip)
        if kind in ("loopback", "private"):
            return Decision(
                entry, "keep", carried.host_ip, note="the host IP comes from a variable's default"
            )
        raise UnsupportedSyntax(
            f"a variable in {entry.text!r} holds part of the address/port structure "
            f"(by default {carried.text!r}); compose-net cannot rewrite it safely: "
            "split it into separate variables for the IP and the port",
            path=path,
            line=entry.position.line,
            column=entry.position.column,
        )
    family: int | None = None
    exposure: str | None
    keep_var: interpolate.Var | None = None
    if old_ip is not None and interpolate.has_variables(old_ip):
        template = interpolate.parse(old_ip)
        default = interpolate.default_of(old_ip)
        if default is None:
            return Decision(entry, "keep", old_ip, note="host IP comes from a required variable")
        exposure = addresses.classify_text(default)
        if exposure is None:
            raise ComposeNetError(
                f"the default host IP {default!r} is not an address",
                path=path,
                line=entry.position.line,
                column=entry.position.column,
            )
        if len(template) == 1 and isinstance(template[0], interpolate.Var):
            keep_var = template[0]
        family = addresses.family(default) if default else None
    else:
        exposure = addresses.classify_text(old_ip)
        if exposure is None:
            raise ComposeNetError(
                f"invalid host IP {old_ip!r}",
                path=path,
                line=entry.position.line,
                column=entry.position.column,
            )
        family = addresses.family(old_ip) if old_ip else None
    if exposure in ("loopback", "private"):
        return Decision(entry, "keep", old_ip)
    published, target = entry.port_numbers
    for allow in allows:
        if allow.matches(entry.service, published, target):
            return Decision(entry, "allowed", old_ip, note=allow.reason or f"allowed by {allow}")
    for pragma in pragmas.find(lines, entry.node):
        if pragma.kind == "allow":
            return Decision(
                entry, "allowed", old_ip, note=pragma.reason or "allowed by an inline comment"
            )
    if exposure == "public" and not rewrite_public:
        return Decision(entry, "keep-public", old_ip)
    if old_ip is not None and interpolate.has_variables(old_ip) and keep_var is None:
        raise UnsupportedSyntax(
            f"the host IP {old_ip!r} mixes variables and text; "
            "compose-net cannot rewrite it safely",
            path=path,
            line=entry.position.line,
            column=entry.position.column,
        )
    new_ips = binds.for_family(family)
    if keep_var is not None:
        new_ips = [f"${{{keep_var.name}:-{new_ips[0]}}}"]
    return Decision(entry, "rewrite", old_ip, tuple(new_ips))


def _dash_offset(text: str, node: Node, path: str) -> int:
    i = node.start_mark.index - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] != "-":
        raise UnsupportedSyntax(
            "cannot find this port entry's '-' to add a second entry beside it",
            path=path,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
        )
    return int(i)


def _in_list(seq: Node, node: Node) -> bool:
    return bool(seq.start_mark.index <= node.start_mark.index < seq.end_mark.index)


def _long_ip_edit(text: str, node: MappingNode, ip: str, path: str) -> tuple[Edit, Node, Any]:
    """The edit that sets host_ip in a long-syntax mapping, and the node it changes."""
    for name, key, value in yamltree.mapping_items(node):
        if name != "host_ip":
            continue
        if yamltree.is_scalar(value) and value.start_mark.index == value.end_mark.index:
            return rewrite.set_empty_value(text, key, ip), value, ip
        if not yamltree.is_scalar(value):
            raise UnsupportedSyntax(
                "host_ip is not a scalar",
                path=path,
                line=value.start_mark.line + 1,
                column=value.start_mark.column + 1,
            )
        if value.style is None:
            start, end = rewrite.scalar_span(text, value, path)
            return Edit(start, end, rewrite.mapping_value_plain(ip)), value, ip
        return rewrite.replace_scalar(text, value, ip, path), value, ip
    return rewrite.insert_mapping_key(text, node, "host_ip", ip, path), node, None


def plan(
    doc: Document,
    binds_for: BindsFor,
    *,
    allows: Sequence[Allow] = (),
    rewrite_public: bool = False,
    only: Collection[str] | None = None,
) -> Plan:
    """Decide every entry of ``doc`` and compute the edits; nothing is applied here.

    ``only``: the services whose ports are decided (None: all); the others are left alone.
    """
    text = doc.source.text
    path = doc.path
    lines = rewrite.split_lines(text)
    result = Plan(path)
    by_node: dict[int, Decision] = {}
    for service in doc.services:
        if not service.ports or (only is not None and service.name not in only):
            continue
        binds = binds_for(service)
        for entry in service.ports:
            decision = decide(
                entry, binds, allows=allows, lines=lines, rewrite_public=rewrite_public, path=path
            )
            result.decisions.append(decision)
            if decision.action != "rewrite":
                continue
            previous = by_node.get(id(entry.node))
            if previous is not None:
                if previous.new_ips != decision.new_ips:
                    raise UnsupportedSyntax(
                        f"the port entry shared by services {previous.entry.service!r} and "
                        f"{entry.service!r} would need different addresses "
                        f"({', '.join(previous.new_ips)} and {', '.join(decision.new_ips)})",
                        path=path,
                        line=entry.position.line,
                        column=entry.position.column,
                    )
                continue
            by_node[id(entry.node)] = decision
            _edit_entry(text, service, entry, decision, result, path)
    _check_kept_shared(result, by_node, path)
    return result


def _check_kept_shared(result: Plan, by_node: dict[int, Decision], path: str) -> None:
    for decision in result.decisions:
        if decision.action == "rewrite":
            continue
        other = by_node.get(id(decision.entry.node))
        if other is not None:
            raise UnsupportedSyntax(
                f"the port entry shared by services {other.entry.service!r} and "
                f"{decision.entry.service!r} would be rewritten for one and kept for the other; "
                "give them their own entries",
                path=path,
                line=decision.entry.position.line,
                column=decision.entry.position.column,
            )


def _edit_entry(
    text: str, service: Service, entry: PortEntry, decision: Decision, result: Plan, path: str
) -> None:
    node = entry.node
    seq = service.ports_node
    assert yamltree.is_sequence(seq)  # the list the entry is in
    first, *more = decision.new_ips
    if more and (getattr(node, "anchor", None) is not None or not _in_list(seq, node)):
        raise UnsupportedSyntax(
            "this port entry is shared through an anchor; binding it to both an IPv4 and an IPv6 "
            "address would need a second entry: bind one family, or write the entry out",
            path=path,
            line=entry.position.line,
            column=entry.position.column,
        )
    if yamltree.is_scalar(node):  # the short syntax
        spec = entry.short
        values = [spec.with_host_ip(ip) for ip in decision.new_ips]
        result.edits.append(rewrite.replace_scalar(text, node, values[0], path))
        result.substitutions[id(node)] = ("items", values)
        for value in values[1:]:
            result.edits.append(_add_item(text, seq, node, rewrite.quote(value, node.style), path))
        return
    edit, changed, _ = _long_ip_edit(text, node, first, path)
    result.edits.append(edit)
    old_plain = yamltree.to_plain(node)
    if changed is node:
        result.substitutions[id(node)] = (
            "items",
            [{**old_plain, "host_ip": ip} for ip in decision.new_ips],
        )
    else:
        result.substitutions[id(changed)] = ("scalar", first)
        if more:
            result.substitutions[id(node)] = (
                "items",
                [{**old_plain, "host_ip": ip} for ip in decision.new_ips],
            )
    for ip in more:
        copy = _copy_long(text, seq, node, ip, path)
        result.edits.append(copy)


def _add_item(text: str, seq: SequenceNode, node: Node, rendered: str, path: str) -> Edit:
    if seq.flow_style:
        return Edit(node.end_mark.index, node.end_mark.index, ", " + rendered)
    dash = _dash_offset(text, node, path)
    column = dash - rewrite.line_start(text, dash)
    end = rewrite.line_end(text, node.end_mark.index)
    indent = text[rewrite.line_start(text, dash) : dash]
    if indent.strip():
        indent = " " * column
    return Edit(end, end, rewrite.newline_at(text, dash) + indent + "- " + rendered)


def _copy_long(text: str, seq: SequenceNode, node: MappingNode, ip: str, path: str) -> Edit:
    """A second long-syntax entry: the original's text with ``ip`` as host_ip."""
    if seq.flow_style:
        start, end = node.start_mark.index, node.end_mark.index
        edit, _, _ = _long_ip_edit(text, node, ip, path)
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
    edit, _, _ = _long_ip_edit(text, node, ip, path)
    if not start <= edit.start <= end:
        raise UnsupportedSyntax(
            "host_ip of this entry comes from a merge; write the entry out to bind "
            "it to two addresses",
            path=path,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
        )
    local = rewrite.apply(text[start:end], [Edit(edit.start - start, edit.end - start, edit.text)])
    return Edit(end, end, rewrite.newline_at(text, end) + local)


# --------------------------------------------------------------------------- proof


def expected_plain(node: Node, substitutions: Mapping[int, Any], budget: list[int]) -> Any:
    """Plain data of the original with the planned substitutions applied."""
    budget[0] -= 1
    if budget[0] < 0:
        raise bounds.NODES.error("aliases and merge keys expand the document to too many nodes")
    sub = substitutions.get(id(node))
    if sub is not None and sub[0] == "scalar":
        return sub[1]
    if sub is not None and len(sub[1]) == 1:
        return sub[1][0]
    if yamltree.is_scalar(node):
        return yamltree.scalar_value(node)
    if yamltree.is_sequence(node):
        out: list[Any] = []
        for item in node.value:
            item_sub = substitutions.get(id(item))
            if item_sub is not None and item_sub[0] == "items":
                out.extend(item_sub[1])
            else:
                out.append(expected_plain(item, substitutions, budget))
        return out
    return {
        name: expected_plain(value, substitutions, budget)
        for name, _, value in yamltree.mapping_items(node)
    }


def _first_difference(a: Any, b: Any, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{where}.{key}".lstrip(".")
            diff = _first_difference(a[key], b[key], f"{where}.{key}")
            if diff:
                return diff
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where} (length {len(a)} != {len(b)})"
        for i, (x, y) in enumerate(zip(a, b)):
            diff = _first_difference(x, y, f"{where}[{i}]")
            if diff:
                return diff
        return ""
    return "" if a == b and type(a) is type(b) else (where.lstrip(".") or "<root>")


PlainPath = tuple[object, ...]


def _changed_paths(a: Any, b: Any, where: PlainPath = ()) -> list[PlainPath]:
    """Every path where ``a`` and ``b`` differ (a list of another length differs as a whole)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[PlainPath] = []
        for key in set(a) | set(b):
            if key not in a or key not in b:
                out.append((*where, key))
            else:
                out.extend(_changed_paths(a[key], b[key], (*where, key)))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in _changed_paths(x, y, (*where, i))]
    return [] if a == b and type(a) is type(b) else [where]


def _is_port_path(path: PlainPath) -> bool:
    """A service's ports list (or inside it), or anything under a top-level ``x-`` field.

    Extension fields mean nothing to Compose until aliased; where they are aliased
    into anything but ``ports``, the change shows up at that path too and is refused.
    """
    if path and isinstance(path[0], str) and path[0].startswith("x-"):
        return True
    return len(path) >= 3 and path[0] == "services" and path[2] == "ports"


def _dotted(path: PlainPath | str) -> str:
    if isinstance(path, str):
        return path
    return (
        "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "<root>"
    )


@dataclass(frozen=True)
class Result:
    plan: Plan
    text: str
    document: Document | None


def harden_text(
    source: Source,
    binds_for: BindsFor,
    *,
    allows: Sequence[Allow] = (),
    rewrite_public: bool = False,
    validate: Callable[[Document], None] | None = None,
    adjust: Callable[[Document, Plan], None] | None = None,
    only: Collection[str] | None = None,
) -> Result:
    """Plan, apply and prove; raises ComposeNetError/SafetyError, never returns a bad text.

    ``adjust`` may change the plan before it is applied (resolvers.conflicts moves
    colliding host ports); its edits must record their substitutions, so they are proven too.
    ``only`` limits the edits to these services' ports (a project's file: the services whose
    ``ports`` the merged project publishes), in the plan and in its second run alike.
    """
    doc = document.load(source)
    model.document_ports(doc, None)  # every entry must be one Compose accepts
    the_plan = plan(doc, binds_for, allows=allows, rewrite_public=rewrite_public, only=only)
    if adjust is not None:
        adjust(doc, the_plan)
    if not the_plan.edits:
        return Result(the_plan, source.text, doc)
    new_text = rewrite.apply(source.text, the_plan.edits)
    new_source = source._replace(text=new_text)
    try:
        new_doc = document.load(new_source)
    except ComposeNetError as e:
        raise SafetyError(
            f"the rewritten file does not parse ({e.message}); nothing was written",
            path=source.path,
        ) from None
    expected = expected_plain(doc.root, the_plan.substitutions, [yamltree.MAX_EXPANDED_NODES])
    actual = yamltree.to_plain(new_doc.root, path=source.path)
    diff: PlainPath | str = _first_difference(expected, actual)
    if not diff:
        original = yamltree.to_plain(doc.root, path=source.path)
        diff = next((p for p in _changed_paths(original, actual) if not _is_port_path(p)), "")
    if diff:
        raise SafetyError(
            f"the rewrite would change more than the intended host IPs (at {_dotted(diff)}); "
            "nothing was written",
            path=source.path,
        )
    again = plan(new_doc, binds_for, allows=allows, rewrite_public=rewrite_public, only=only)
    if again.edits:
        entry = again.rewrites[0].entry
        raise SafetyError(
            "a second run would change the file again; nothing was written",
            path=source.path,
            line=entry.position.line,
            column=entry.position.column,
        )
    if validate is not None:
        validate(new_doc)
    return Result(the_plan, new_text, new_doc)
