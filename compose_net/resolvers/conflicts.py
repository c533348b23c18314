"""Host-port collisions on one node, and moving the later port to a free one.

Two entries collide when they run on the same node, publish the same host port and
protocol, and their addresses overlap: equal, or either is every interface (no host
IP), or one is ``0.0.0.0``/``::`` and the other an address of that family. The classic
case: two redis services on one node both want 6379; the second cannot start, so it
moves to 6378: the nearest free port below the one it asked for, else the nearest above.

``Registry.adjust`` is the hook ``harden`` calls with each file's plan: it counts the
ports each entry will publish once hardened (earlier files included), reports every
collision, and with ``remap`` moves the later entry to the nearest free host port on its
address, by changing the plan's edits and the proof's expectations, so the port move is
proven like the address change.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from compose_net import addresses, model, report, rewrite, yamltree
from compose_net.document import Document, PortEntry, Service
from compose_net.errors import ComposeNetError
from compose_net.harden import Decision, Plan
from compose_net.interpolate import has_variables
from compose_net.ports import ShortSpec
from compose_net.rewrite import Edit

NodeOf = Callable[[Service], "str | None"]
MAX_PORT = 65535


@dataclass(frozen=True)
class Use:
    """One host port an entry publishes on one address of one node."""

    path: str
    service: str
    index: int
    line: int
    column: int
    node: str | None
    #: "" for every interface, else the IP (or the ${VAR} text) as it will be written
    address: str
    port: int
    protocol: str

    @property
    def label(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        return f"services.{self.service}.ports[{self.index}] ({where})"

    def where(self) -> str:
        on = "every interface" if not self.address else self.address
        return f"{on}{f' of node {self.node}' if self.node else ''}"


@dataclass(frozen=True)
class Conflict:
    use: Use
    holder: Use
    #: the new host port when the entry was moved
    moved_to: int | None = None
    #: why it could not be moved, when remapping was asked for
    why_not: str = ""

    def message(self) -> str:
        u, h = self.use, self.holder
        head = (
            f"services.{u.service}.ports[{u.index}] publishes {u.port}/{u.protocol} on "
            f"{u.where()}, which {h.label} already publishes"
        )
        if self.moved_to is not None:
            return f"{head}; moved to host port {self.moved_to}"
        if self.why_not:
            return f"{head}; not moved: {self.why_not}"
        return f"{head}; pass --remap-conflicts to move it to a free host port"


def overlaps(a: str, b: str) -> bool:
    """Do two host addresses ("" = every interface) share a listening address?"""
    if not a or not b or a == b:
        return True
    pa, pb = addresses.parse_ip(a), addresses.parse_ip(b)
    if pa is None or pb is None:
        return False  # a variable: filled in on the node, unknown here
    pa, pb = addresses.unmapped(pa), addresses.unmapped(pb)
    return pa.version == pb.version and (pa.is_unspecified or pb.is_unspecified or pa == pb)


def clashes(a: Use, b: Use) -> bool:
    return (
        a.node == b.node
        and a.port == b.port
        and a.protocol == b.protocol
        and overlaps(a.address, b.address)
    )


def _merged_twin(a: Use, b: Use) -> bool:
    """The same service's port repeated by another file of the same folder: Compose merges them."""
    return a.service == b.service and a.path != b.path and _folder(a.path) == _folder(b.path)


def _folder(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))


def final_addresses(decision: Decision) -> list[str]:
    """The host IP(s) an entry has once the plan is applied ("" = every interface)."""
    if decision.action == "rewrite":
        return list(decision.new_ips)
    return [decision.old_ip or ""]


def host_ports(entry: PortEntry) -> list[tuple[int, str]]:
    """(host port, protocol) pairs an entry publishes.

    Ephemeral (no host port), dynamic (a host range for one container port) and ${VAR}
    host ports are left out: nothing certain can be said of them.
    """
    out: list[tuple[int, str]] = []
    try:
        objects = model.normalize_entry(entry, None)
    except ComposeNetError:
        return out
    for obj in objects:
        published = str(obj.get("published", ""))
        protocol = str(obj.get("protocol", "tcp"))
        if published.isdigit() and len(published) <= 19 and not has_variables(protocol):
            out.append((int(published), protocol.lower()))
    return out


def uses_of(path: str, decision: Decision, node: str | None) -> list[Use]:
    entry = decision.entry
    pos = entry.position
    return [
        Use(path, entry.service, entry.index, pos.line, pos.column, node, address, port, proto)
        for port, proto in host_ports(entry)
        for address in final_addresses(decision)
    ]


def candidate_ports(port: int) -> Iterator[int]:
    """Where a colliding port may go, nearest first: below it (6379 -> 6378), then above."""
    yield from range(port - 1, 0, -1)
    yield from range(port + 1, MAX_PORT + 1)


def find(uses: Sequence[Use]) -> list[Conflict]:
    """Every use that clashes with an earlier one (first come keeps its port)."""
    out: list[Conflict] = []
    for i, use in enumerate(uses):
        for earlier in uses[:i]:
            if clashes(use, earlier) and not _merged_twin(use, earlier):
                out.append(Conflict(use, earlier))
                break
    return out


# --------------------------------------------------------------------------- moving a port


def _short_with_port(spec: ShortSpec, port: int) -> ShortSpec:
    return dataclasses.replace(spec, host_port=str(port))


def _short_text(spec: ShortSpec) -> str:
    """The entry's text from its parts, as written (brackets kept)."""
    if spec.host_port is None:
        return spec.container
    if spec.host_ip is None:
        return f"{spec.host_port}:{spec.container}"
    ip = f"[{spec.host_ip}]" if spec.bracketed else spec.host_ip
    return f"{ip}:{spec.host_port}:{spec.container}"


def why_not_movable(decision: Decision) -> str:
    """Why this entry's host port cannot be changed in place ("" when it can)."""
    entry = decision.entry
    if entry.shared:
        return "the entry is shared with other services through an anchor or merge"
    if entry.syntax == "short":
        port = entry.short.host_port or ""
        if not port.isdigit():
            return "its host port is a range or a variable"
        return ""
    node = entry.fields.get("published")
    if node is None or not yamltree.is_scalar(node) or node.anchor is not None:
        return "its published port is not a plain value"
    if not entry.node.start_mark.index <= node.start_mark.index < entry.node.end_mark.index:
        return "its published port comes from a merge"
    if not str(yamltree.to_plain(node)).isdigit():
        return "its published port is a range or a variable"
    if len(decision.new_ips) > 1:
        return "it is being bound to two addresses; move it by hand"
    return ""


def move_edits(text: str, decision: Decision, port: int, plan: Plan) -> None:
    """Change ``plan`` so the entry publishes ``port`` (its edits and the proof's expectations)."""
    entry = decision.entry
    node = entry.node
    path = plan.path
    if yamltree.is_scalar(node):  # the short syntax
        spec = entry.short
        moved = _short_with_port(spec, port)
        if decision.action != "rewrite":
            new_text = _short_text(moved)
            plan.edits.append(rewrite.replace_scalar(text, node, new_text, path))
            plan.substitutions[id(node)] = ("items", [new_text])
            return
        old = [rewrite.quote(spec.with_host_ip(ip), node.style) for ip in decision.new_ips]
        new = [moved.with_host_ip(ip) for ip in decision.new_ips]
        starts = {
            rewrite.scalar_span(text, node, path)[0],
            node.end_mark.index,
            rewrite.line_end(text, node.end_mark.index),
        }
        replaced = 0
        for i, edit in enumerate(plan.edits):
            for old_text, value in zip(old, new):
                if edit.start in starts and edit.text.endswith(old_text):
                    rendered = rewrite.quote(value, node.style)
                    kept = edit.text[: -len(old_text)]
                    plan.edits[i] = Edit(edit.start, edit.end, kept + rendered)
                    replaced += 1
                    break
        if replaced != len(new):
            raise ComposeNetError(
                "internal error: cannot find the planned edits of a moved port",
                path=path,
                line=entry.position.line,
                column=entry.position.column,
            )
        plan.substitutions[id(node)] = ("items", new)
        return
    published = entry.fields["published"]
    assert yamltree.is_scalar(published)  # why_not_movable checked it
    typed: int | str = port if isinstance(yamltree.to_plain(published), int) else str(port)
    if published.style is None:
        start, end = rewrite.scalar_span(text, published, path)
        plan.edits.append(Edit(start, end, str(port)))
    else:
        plan.edits.append(rewrite.replace_scalar(text, published, str(port), path))
    sub = plan.substitutions.get(id(node))
    if sub is not None and sub[0] == "items":
        plan.substitutions[id(node)] = ("items", [{**item, "published": typed} for item in sub[1]])
    else:
        plan.substitutions[id(published)] = ("scalar", typed)


# --------------------------------------------------------------------------- the harden hook


@dataclass
class Registry:
    """Ports taken so far (across the files of one run); ``adjust`` is harden's hook."""

    node_of: NodeOf | None = None
    remap: bool = False
    taken: list[Use] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    quiet: bool = False
    #: ``taken`` by (node, port, protocol), the only uses that can clash; ``taken`` only grows
    _by_port: dict[tuple[str | None, int, str], list[Use]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _indexed: int = field(default=0, repr=False, compare=False)

    @property
    def unresolved(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.moved_to is None]

    def _node(self, decision: Decision, services: dict[str, Service]) -> str | None:
        if self.node_of is None:
            return None
        return self.node_of(services[decision.entry.service])

    def adjust(self, doc: Document, plan: Plan) -> None:
        services = {s.name: s for s in doc.services}
        per_decision = [(d, uses_of(doc.path, d, self._node(d, services))) for d in plan.decisions]
        # Every port this file asks for, so a moved port never lands on a later entry's port.
        wanted = [u for _, uses in per_decision for u in uses]
        for decision, uses in per_decision:
            hit = self._first_clash(uses)
            if hit is None:
                self.taken.extend(uses)
                continue
            use, holder = hit
            conflict = Conflict(use, holder)
            if self.remap:
                conflict = self._move(doc, plan, decision, uses, wanted, conflict)
            if conflict.moved_to is None:
                self.taken.extend(uses)
            self.conflicts.append(conflict)
            where = f"{use.path}:{use.line}:{use.column}"
            if conflict.moved_to is not None:
                if not self.quiet:
                    report.note(where, conflict.message())
            else:
                report.warn(where, conflict.message())

    def _first_clash(self, uses: Sequence[Use]) -> tuple[Use, Use] | None:
        for earlier in self.taken[self._indexed :]:
            key = (earlier.node, earlier.port, earlier.protocol)
            self._by_port.setdefault(key, []).append(earlier)
        self._indexed = len(self.taken)
        for use in uses:
            for earlier in self._by_port.get((use.node, use.port, use.protocol), ()):
                if clashes(use, earlier) and not _merged_twin(use, earlier):
                    return use, earlier
        return None

    def _move(
        self,
        doc: Document,
        plan: Plan,
        decision: Decision,
        uses: list[Use],
        wanted: list[Use],
        conflict: Conflict,
    ) -> Conflict:
        reason = why_not_movable(decision)
        if not reason and len({u.port for u in uses}) != 1:
            reason = "it publishes several host ports"
        if reason:
            return dataclasses.replace(conflict, why_not=reason)
        others = [
            u
            for u in wanted
            if not (
                u.path == doc.path
                and u.service == conflict.use.service
                and u.index == conflict.use.index
            )
        ]
        for port in candidate_ports(conflict.use.port):
            moved = [dataclasses.replace(u, port=port) for u in uses]
            if not any(clashes(m, other) for m in moved for other in (*self.taken, *others)):
                move_edits(doc.source.text, decision, port, plan)
                self.taken.extend(moved)
                return dataclasses.replace(conflict, moved_to=port)
        return dataclasses.replace(conflict, why_not="no host port is free")
