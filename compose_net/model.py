"""What a document publishes: each entry's Compose objects, its exposure and its position.

Two views:

* :func:`document_ports`: every entry *as written* in the document, each with the
  objects Compose makes of it (a range gives several), in file order;
* :func:`compose_ports`: what ``docker compose config`` prints for each service:
  ports inherited through ``extends`` come first, then the service's own, and
  entries Compose counts as the same port are merged the way it merges them (the
  later entry replaces the earlier one, in the earlier one's place).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from compose_net import bounds, source, yamltree
from compose_net.document import RANGES_ADD, Document, PortEntry, Service
from compose_net.document import load_all as load_all_documents
from compose_net.errors import ComposeNetError
from compose_net.interpolate import (
    InterpolationError,
    Traced,
    has_variables,
    interpolate,
    names_in,
    parse,
    references,
    render_traced,
)
from compose_net.ports import (
    Exposure,
    PortError,
    PortObject,
    exposure_of,
    normalize_long,
    normalize_short,
    port_spans,
    split_short,
    without_values,
)


class Port(NamedTuple):
    """One object Compose would print for ``entry`` (a range gives several)."""

    entry: PortEntry
    obj: PortObject
    exposure: Exposure
    #: the file the entry is written in, when it is not the document's own (``extends: {file:}``)
    path: str | None = None

    @property
    def service(self) -> str:
        return self.entry.service


def entry_exposure(entry: PortEntry) -> Exposure:
    """Exposure of an entry's host IP as written ('variable' when it is interpolated)."""
    exposure = exposure_of(entry.written_host_ip)
    if exposure is None:
        raise PortError(f"invalid IP address: {entry.written_host_ip}")
    return exposure


def _symbolic_short(text: str) -> list[PortObject]:
    spec = split_short(text)
    container, _, proto = spec.container.partition("/")
    obj: PortObject = {"mode": "ingress"}
    if spec.host_ip:
        obj["host_ip"] = spec.host_ip
    small = container.isdigit() and len(container.lstrip("0")) <= 19
    obj["target"] = int(container) if small else container
    if spec.host_port:
        obj["published"] = spec.host_port
    obj["protocol"] = proto.lower() if proto and not has_variables(proto) else (proto or "tcp")
    return [obj]


# --------------------------------------------------------------------------- Compose's unicity key
# Compose merges port entries that print the same "HOST:PUBLISHED:TARGET/PROTOCOL" key,
# formatted with Go's fmt from the values as they stand after interpolation: a missing
# host_ip counts as 0.0.0.0 and a missing protocol as tcp, but a published port written
# as an integer (long syntax) does not match the same port written as a string.


def _go_s(value: object) -> str:
    """Go's ``%s`` of a decoded YAML value."""
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return f"%!s(bool={'true' if value else 'false'})"
    if isinstance(value, int):
        return f"%!s({'int' if value < 2**63 else 'uint64'}={value})"
    return f"%!s({type(value).__name__}={value})"


def _go_d(value: object) -> str:
    """Go's ``%d`` of a decoded YAML value."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return f"%!d(string={value})"
    if isinstance(value, float):
        return f"%!d(float64={value:g})"
    return f"%!d({value!r})"


def _short_key(obj: PortObject) -> str:
    host = obj.get("host_ip", "0.0.0.0")
    published = obj.get("published")
    target, protocol = obj.get("target", 0), obj.get("protocol", "tcp")
    return f"{_go_s(host)}:{_go_s(published)}:{_go_d(target)}/{_go_s(protocol)}"


def _long_key(fields: Mapping[str, object], interpolated: bool) -> str:
    target = fields.get("target")
    if interpolated and isinstance(target, str) and re.fullmatch(r"[+-]?0*[0-9]{1,19}", target):
        target = int(target)  # Compose casts an interpolated target to an integer before merging
    host = fields.get("host_ip", "0.0.0.0")
    protocol = fields.get("protocol", "tcp")
    return f"{_go_s(host)}:{_go_s(fields.get('published'))}:{_go_d(target)}/{_go_s(protocol)}"


# --------------------------------------------------------------------------- per entry


def _traced(value: object, env: Mapping[str, str]) -> tuple[object, tuple[Traced, ...]]:
    """``value`` interpolated, and which of its characters variables filled."""
    if not isinstance(value, str) or "$" not in value:
        return value, ()
    return render_traced(parse(value), env)


def _normalize(entry: PortEntry, env: Mapping[str, str] | None) -> list[tuple[PortObject, str]]:
    """Objects and unicity keys of ``entry``; errors are PortError/InterpolationError.

    An error about text that variables filled names the variables and quotes nothing
    (compose_net.ports.without_values)."""
    if entry.syntax == "short":
        assert entry.text is not None
        if env is None:
            text = entry.text
            objects = _symbolic_short(text) if has_variables(text) else normalize_short(text)
        else:
            rendered, traces = _traced(entry.text, env)
            try:
                objects = normalize_short(str(rendered))
            except PortError as e:
                raise without_values(e, traces) from None
        return [(obj, _short_key(obj)) for obj in objects]
    if env is None:
        fields = {key: yamltree.to_plain(node) for key, node in entry.fields.items()}
    else:
        traced = {key: _traced(yamltree.to_plain(node), env) for key, node in entry.fields.items()}
        fields = {key: value for key, (value, _) in traced.items()}
    key = _long_key(fields, env is not None)
    if env is None and any(isinstance(v, str) and has_variables(v) for v in fields.values()):
        obj: PortObject = {}
        for name, value in fields.items():
            if isinstance(value, (str, int)) and not name.startswith("x-"):
                obj[name] = value
        obj.setdefault("mode", "ingress")
        obj.setdefault("protocol", "tcp")
        return [(obj, key)]
    try:
        return [(normalize_long(fields), key)]
    except PortError as e:
        if env is None or e.part not in traced:
            raise
        raise without_values(e, traced[e.part][1]) from None


def value_free(entry: PortEntry, obj: PortObject, env: Mapping[str, str] | None) -> PortObject:
    """``obj`` (an object of ``entry`` read with ``env``) as it may be printed: each value
    variables filled is replaced by their references (``"${HOST_IP}"``); what the file
    writes itself stays. A value of the environment or an env file is never printed."""
    if env is None:
        return obj
    try:
        return _value_free(entry, obj, env)
    except InterpolationError:  # not rendered with ``env``: no value of it is in ``obj``
        return obj


def _value_free(entry: PortEntry, obj: PortObject, env: Mapping[str, str]) -> PortObject:
    spans: dict[str, tuple[tuple[Traced, ...], tuple[int, int] | None]] = {}
    if entry.syntax == "short":
        assert entry.text is not None
        rendered, traces = _traced(entry.text, env)
        if not traces:
            return obj
        ip_at, host_at, container_at = port_spans(str(rendered))
        container = str(rendered)[container_at[0] : container_at[1]]
        port_end = container_at[0] + len(container.partition("/")[0])
        spans = {
            "host_ip": (traces, ip_at),
            "published": (traces, host_at),
            "target": (traces, (container_at[0], port_end)),
            "protocol": (traces, (port_end, container_at[1])),
        }
    else:
        for key, node in entry.fields.items():
            _, traces = _traced(yamltree.to_plain(node), env)
            if traces:
                spans[key] = (traces, None)
    out = dict(obj)
    for key, (traces, span) in spans.items():
        names = names_in(traces, *span) if span is not None else names_in(traces)
        if key in out and names:
            out[key] = references(names)
    return out


def _entry_error(entry: PortEntry, message: str, path: str | None = None) -> ComposeNetError:
    return ComposeNetError(
        f"services.{entry.service}.ports[{entry.index}]: {message}",
        path=path,
        line=entry.position.line,
        column=entry.position.column,
    )


def normalize_entry(entry: PortEntry, env: Mapping[str, str] | None) -> list[PortObject]:
    """Compose's objects for ``entry``; ``env`` None keeps variables as written."""
    return [obj for obj, _ in normalize_keyed(entry, env)]


def normalize_keyed(
    entry: PortEntry, env: Mapping[str, str] | None
) -> list[tuple[PortObject, str]]:
    """Compose's objects for ``entry``, each with the unicity key Compose merges duplicates by."""
    try:
        return _normalize(entry, env)
    except (PortError, InterpolationError) as e:
        raise _entry_error(entry, e.message) from None


def _entry_ports(
    entry: PortEntry,
    env: Mapping[str, str] | None,
    path: str,
) -> tuple[list[tuple[PortObject, str]], Exposure]:
    """Objects and keys of one entry, and its exposure; errors carry ``path`` and the position.

    The entry is normalised first, so an invalid one gets Compose's own message.
    """
    try:
        pairs = _normalize(entry, env)
        return pairs, entry_exposure(entry)
    except (PortError, InterpolationError) as e:
        raise _entry_error(entry, e.message, path) from None
    except bounds.Exceeded as e:
        raise e.at(path, entry.position.line, entry.position.column) from None


def document_ports(doc: Document, env: Mapping[str, str] | None) -> dict[str, list[Port]]:
    """Every service with ports written in ``doc``, in file order, and their Compose objects."""
    out: dict[str, list[Port]] = {}
    for service in doc.services:
        if not service.ports:
            continue
        ports: list[Port] = []
        for entry in service.ports:
            pairs, exposure = _entry_ports(entry, env, doc.name)
            ports.extend(Port(entry, obj, exposure) for obj, _ in pairs)
        out[service.name] = ports
    return out


def invalid_entries(doc: Document) -> list[ComposeNetError]:
    """Every port entry of ``doc`` that Compose rejects, as written (what :func:`document_ports`
    raises for the first of them), in file order."""
    errors: list[ComposeNetError] = []
    for service in doc.services:
        for entry in service.ports:
            try:
                _entry_ports(entry, None, doc.name)
            except ComposeNetError as e:
                errors.append(e)
    return errors


# --------------------------------------------------------------------------- as Compose prints them

#: reads a file ``extends: {file:}`` names (its path, and how it is shown): its YAML
#: documents, in order
Loader = Callable[[str, str], Sequence[Document]]


def _load_file(path: str, name: str) -> Sequence[Document]:
    return load_all_documents(source.read(path).named(name))


class Budget:
    """The port objects of one project, counted as they are made: in all, and those port
    ranges add beyond one per entry (:data:`compose_net.bounds.PORTS`, ``RANGE_PORTS``).
    Counted as they are made, ranges written with variables and ports that ``extends``
    copies to many services count as well."""

    def __init__(self) -> None:
        self.ports = bounds.Meter(bounds.PORTS)
        self.ranges = bounds.Meter(bounds.RANGE_PORTS)

    def spend(self, entry: PortEntry, objects: int, path: str) -> None:
        """Count ``objects`` made of ``entry`` (0 for copies of an entry's objects)."""
        if self.ports.add(objects):
            bound, message = bounds.PORTS, f"publishes more than {self.ports.limit:,} ports"
        elif objects > 1 and self.ranges.add(objects - 1):
            bound, message = bounds.RANGE_PORTS, RANGES_ADD.format(self.ranges.limit)
        else:
            return
        where = entry.position
        raise bound.error(
            f"the project {message} once ranges are expanded and extends copied "
            f"(here: services.{entry.service}.ports[{entry.index}])",
            path=path, line=where.line, column=where.column,
        )  # fmt: skip


#: an extends link: a file's absolute path and a service name
_Link = tuple[str, str]


class _Project:
    """Resolves ``extends`` across the document and the files it names."""

    def __init__(
        self,
        doc: Document,
        env: Mapping[str, str] | None,
        loader: Loader,
        folder: tuple[str, str] | None = None,
        lenient: bool = False,
        budget: Budget | None = None,
    ) -> None:
        self.root = doc
        self.lenient = lenient
        self.budget = Budget() if budget is None else budget
        #: a base service's ports once resolved, and how many links its chain has below it:
        #: many services extending one base (or a chain) resolve it once
        self._resolved: dict[_Link, tuple[list[tuple[Port, str]], int]] = {}
        self.env = env
        self.loader = loader
        #: where the root document's ``extends.file`` paths start (Compose: the project
        #: directory), and how that folder is shown
        self.folder, self.shown_folder = (
            (os.path.dirname(doc.path), os.path.dirname(doc.name)) if folder is None else folder
        )
        self.docs: dict[str, Sequence[Document]] = {os.path.abspath(doc.path): [doc]}
        #: an entry node many services share (an anchored list): its objects, read once
        self._shared: dict[int, tuple[object, list[tuple[PortObject, str]], Exposure]] = {}
        #: links in an extends chain below a service's link, as far as resolved
        self._heights: dict[_Link, int] = {}

    def _height(self, link: _Link, height: int) -> None:
        if height > self._heights.get(link, -1):
            self._heights[link] = height

    def _entry_ports(
        self, entry: PortEntry, path: str
    ) -> tuple[list[tuple[PortObject, str]], Exposure]:
        if not entry.shared:
            return _entry_ports(entry, self.env, path)
        known = self._shared.get(id(entry.node))
        if known is not None and known[0] is entry.node:
            return [(dict(obj), key) for obj, key in known[1]], known[2]
        pairs, exposure = _entry_ports(entry, self.env, path)
        self._shared[id(entry.node)] = (entry.node, pairs, exposure)
        return [(dict(obj), key) for obj, key in pairs], exposure

    def load(self, path: str, name: str) -> Sequence[Document]:
        key = os.path.abspath(path)
        if key not in self.docs:
            self.docs[key] = self.loader(path, name)
        return self.docs[key]

    def _error(self, doc: Document, node: yamltree.Node, message: str) -> ComposeNetError:
        where = yamltree.position(node)
        return ComposeNetError(message, path=doc.name, line=where.line, column=where.column)

    def _text(self, doc: Document, node: yamltree.Node, what: str) -> str:
        value = yamltree.to_plain(node, path=doc.name)
        if not isinstance(value, str):
            raise self._error(doc, node, f"{what} must be a string")
        if self.env is not None:
            try:
                value = interpolate(value, self.env)
            except InterpolationError as e:
                raise self._error(doc, node, e.message) from None
            except bounds.Exceeded as e:
                where = yamltree.position(node)
                raise e.at(doc.name, where.line, where.column) from None
        return value

    def _base(
        self, doc: Document, service: Service
    ) -> tuple[Sequence[Document], str, yamltree.Node] | None:
        """The documents that define the service ``service`` extends (a file's, in order;
        else ``doc`` itself), its name and the node that names it."""
        node = service.get("extends")
        if node is None or (yamltree.is_scalar(node) and yamltree.scalar_value(node) is None):
            return None
        if yamltree.is_scalar(node):
            return [doc], self._text(doc, node, "extends"), node
        if not yamltree.is_mapping(node):
            message = f"services.{service.name}.extends must be a string or a mapping"
            raise self._error(doc, node, message)
        name_node = yamltree.get(node, "service")
        if name_node is None:
            raise self._error(doc, node, f"services.{service.name}.extends is missing 'service'")
        name = self._text(doc, name_node, "extends.service")
        file_node = yamltree.get(node, "file")
        if file_node is None:
            return [doc], name, name_node
        file = self._text(doc, file_node, "extends.file")
        folder, shown_folder = (
            (self.folder, self.shown_folder)
            if doc is self.root
            else (os.path.dirname(doc.path), os.path.dirname(doc.name))
        )
        path = os.path.join(folder, file)
        written = yamltree.to_plain(file_node, path=doc.name)
        if self.env is not None and isinstance(written, str) and has_variables(written):
            # named as written wherever it is printed: never by the variables' values
            file = written
        shown = os.path.join(shown_folder, file)
        if not os.path.isfile(path):
            raise self._error(doc, file_node, f"cannot extend {name!r}: file {file} not found")
        try:
            return self.load(path, shown), name, name_node
        except ComposeNetError as e:
            if e.path is not None:
                raise
            raise self._error(doc, file_node, e.message) from None  # where extends names it

    def ports(
        self,
        doc: Document,
        service: Service,
        chain: tuple[tuple[str, str], ...],
    ) -> list[tuple[Port, str]]:
        """Ports of ``service`` with what it extends, before Compose merges duplicates."""
        own: list[tuple[Port, str]] = []
        path = None if doc is self.root else doc.path
        link = chain[-1]
        for entry in service.ports:
            try:
                pairs, exposure = self._entry_ports(entry, doc.name)
            except ComposeNetError:
                if not self.lenient:
                    raise
                # the rules report it (invalid-port); it stays the service's own entry
                where = entry.position
                key = f"invalid entry {doc.path}:{where.line}:{where.column}"
                own.append((Port(entry, {}, "all-interfaces", path), key))
                continue
            self.budget.spend(entry, len(pairs), doc.name)
            own.extend((Port(entry, obj, exposure, path), key) for obj, key in pairs)
        base = self._base(doc, service)
        if base is None:
            self._height(link, 0)
            return own
        base_docs, base_name, node = base
        base_link = (os.path.abspath(base_docs[0].path), base_name)
        if base_link in chain:
            raise self._error(doc, node, f"circular reference: {service.name!r} extends itself")
        known = self._resolved.get(base_link)
        below = 0 if known is None else known[1]
        if len(chain) + below > bounds.DEPTH.value():
            where = yamltree.position(node)
            raise bounds.DEPTH.error(
                f"services.{chain[0][1]} extends a chain of more than "
                f"{bounds.DEPTH.value():,} services (here: {service.name} extends {base_name})",
                path=doc.name, line=where.line, column=where.column,
            )
        if known is not None:  # copies, paid for as the entries they copy would be
            copied = known[0]
            made: dict[int, tuple[PortEntry, int]] = {}
            for port, _ in copied:
                count = made.get(id(port.entry), (port.entry, 0))[1]
                made[id(port.entry)] = (port.entry, count + 1)
            for entry, count in made.values():
                self.budget.spend(entry, count, doc.name)
            inherited: list[tuple[Port, str]] | None = [
                (Port(port.entry, dict(port.obj), port.exposure, port.path), key)
                for port, key in copied
            ]
        else:
            inherited = self._merged(base_docs, base_name, (*chain, base_link))
        if inherited is None:
            raise self._error(doc, node, f"cannot extend service {base_name!r}: it is not defined")
        if known is None:
            self._resolved[base_link] = (inherited, self._heights.get(base_link, 0))
        self._height(link, self._heights.get(base_link, 0) + 1)
        ports_node = service.ports_node
        tag = str(ports_node.tag) if ports_node is not None else ""
        if tag in yamltree.COMPOSE_TAGS:  # !reset / !override: the service's own list only
            return own
        return inherited + own

    def _merged(
        self, docs: Sequence[Document], name: str, chain: tuple[tuple[str, str], ...]
    ) -> list[tuple[Port, str]] | None:
        """The ports of service ``name`` as the YAML documents of one file define it, merged
        in order as Compose merges them (None: no document defines it)."""
        merged: list[tuple[Port, str]] | None = None
        for base_doc in docs:
            found = next((s for s in base_doc.services if s.name == name), None)
            if found is None:
                continue
            tag = str(found.node.tag)
            ports_tag = "" if found.ports_node is None else str(found.ports_node.tag)
            if tag == "!reset":
                merged = None
                continue
            ports = self.ports(base_doc, found, chain)
            if merged is None or tag == "!override" or ports_tag in yamltree.COMPOSE_TAGS:
                merged = ports
            else:
                merged = merged + ports
        return merged


def unique(ports: list[tuple[Port, str]]) -> list[Port]:
    """Compose's merge of duplicate entries: a later entry with the same key replaces
    the earlier one, in the earlier one's place."""
    out: list[Port] = []
    where: dict[str, int] = {}
    for port, key in ports:
        if key in where:
            out[where[key]] = port
        else:
            where[key] = len(out)
            out.append(port)
    return out


def declared_ports(
    doc: Document,
    env: Mapping[str, str] | None,
    *,
    loader: Loader = _load_file,
    folder: tuple[str, str] | None = None,
    lenient: bool = False,
    budget: Budget | None = None,
) -> dict[str, list[tuple[Port, str]]]:
    """Every service of ``doc`` with its ports before Compose merges duplicates, each with
    its unicity key (the input of :func:`unique`): ``extends`` resolved, other files read
    with ``loader``; the document's own ``extends.file`` paths start at ``folder`` (a
    folder, and how it is shown; default: the document's). ``env`` None keeps variables as
    written. ``lenient``: an entry Compose would reject is kept (with no object) instead of
    failing the whole file, for the rules to report. ``budget`` counts the ports of a whole
    project (default: this document's).
    """
    project = _Project(doc, env, loader, folder, lenient, budget)
    out: dict[str, list[tuple[Port, str]]] = {}
    path = os.path.abspath(doc.path)
    for service in doc.services:
        out[service.name] = project.ports(doc, service, ((path, service.name),))
    return out


def compose_ports(
    doc: Document,
    env: Mapping[str, str] | None,
    *,
    loader: Loader = _load_file,
) -> dict[str, list[Port]]:
    """Each service's ports as ``docker compose config`` prints them (services without
    ports left out): ``extends`` resolved (other files read with ``loader``), duplicates
    merged. ``env`` None keeps variables as written."""
    out: dict[str, list[Port]] = {}
    for name, declared in declared_ports(doc, env, loader=loader).items():
        ports = unique(declared)
        if ports:
            out[name] = ports
    return out
