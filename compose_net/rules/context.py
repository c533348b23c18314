"""What every rule sees: one parsed file, its environment and the project around it.

Rules are modules (see :mod:`compose_net.rules`); each gets a :class:`Context`
and yields findings made with :meth:`Context.finding`, which also remembers the
inline pragmas written on the lines of the node the finding is about.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

from compose_net import interpolate, model, pragmas, rewrite, yamltree
from compose_net.document import Document, PortEntry, Service
from compose_net.errors import ComposeNetError
from compose_net.findings import Finding, Severity
from compose_net.interpolate import has_variables
from compose_net.policy import binds
from compose_net.policy import exposure as policy
from compose_net.policy.binds import Binds, BindsFor, NodeAddresses
from compose_net.policy.collisions import NO_PROFILES, Ledger, Use, canonical, shared
from compose_net.ports import Exposure, PortObject
from compose_net.yamltree import Span

if TYPE_CHECKING:  # a fix is made only for a finding (compose_net.fixes: off the start-up path)
    from compose_net.fixes import Applicability, Fix

Target = Literal["compose", "stack"]


class Rule(Protocol):
    """A rule module: an id, a name, a default severity and ``check``."""

    ID: str
    NAME: str
    SEVERITY: Severity

    def check(self, ctx: Context) -> Iterator[Finding]: ...


@dataclass
class Project:
    """State shared by the files checked together as one Compose project."""

    #: the project's identity: ports of different projects never collide
    key: str = ""
    #: the host ports published so far (policy.collisions decides what clashes)
    ledger: Ledger = field(default_factory=Ledger)


@dataclass(frozen=True)
class EntryPorts:
    """One port entry with what Compose makes of it in the context's environment."""

    entry: PortEntry
    #: Compose's objects; variables stay as written where the environment lacks them
    objects: tuple[PortObject, ...]
    #: exposure of the host IP as written; None when it is not an address
    exposure: Exposure | None
    #: why Compose would reject the entry (None when it accepts it)
    error: str | None
    #: the service whose ``ports:`` holds the entry, when ``entry.service`` inherits it (extends)
    base: str | None = None
    #: whether its host IP can leave it exposed, and how that is fixed (policy.exposure)
    verdict: policy.Verdict = policy.SAFE
    #: Compose's unicity key of each object: a service's equal keys are one port
    keys: tuple[str, ...] = ()
    #: ``display``, kept when one entry node is shared by many services
    shown: str = ""
    #: a later YAML document of the file replaces it: it is still judged and fixed, so no
    #: document keeps a public port, but it publishes nothing and takes no host port
    overridden: bool = False

    @property
    def ip_from_variable(self) -> bool:
        """A short entry whose host IP comes out of a variable that holds ``IP:PORT``.

        ``"${DB:-127.0.0.1:5432}:5432"`` is written without an IP, yet Compose
        binds it to 127.0.0.1: the interpolated entry has an IP the written one lacks.
        """
        entry = self.entry
        if entry.syntax != "short" or not self.objects or entry.written_host_ip is not None:
            return False
        assert entry.text is not None
        return has_variables(entry.text) and self.objects[0].get("host_ip") is not None

    @property
    def label(self) -> str:
        if self.base is not None:
            by = self.entry.service
            return f"services.{self.base}.ports[{self.entry.index}] (extended by {by})"
        return f"services.{self.entry.service}.ports[{self.entry.index}]"

    @property
    def display(self) -> str:
        """The entry as written, short enough for a message."""
        if self.shown:
            return self.shown
        entry = self.entry
        if entry.syntax == "short":
            return f'"{entry.text}"'
        parts = []
        for key in ("host_ip", "published", "target", "protocol"):
            value = entry.field_value(key)
            if value is not None:
                parts.append(f"{key}: {value}")
        return "{" + ", ".join(parts) + "}"


def _strings(entry: PortEntry) -> list[str]:
    if entry.syntax == "short":
        assert entry.text is not None
        return [entry.text]
    out: list[str] = []
    for node in entry.fields.values():
        value = yamltree.to_plain(node)
        if isinstance(value, str):
            out.append(value)
    return out


def interpolation_state(entry: PortEntry, env: Mapping[str, str] | None) -> tuple[str, str]:
    """``("ok" | "unset" | "invalid", message)`` for the entry's variables in ``env``.

    "unset": a required variable (``${X:?...}``) has no value here; the entry is
    then read with its variables as written, the way it will be filled in at
    deploy time, and that is not an error for a lint.
    """
    state, message = "ok", ""
    for text in _strings(entry):
        try:
            interpolate.parse(text)
        except ComposeNetError as e:
            return "invalid", e.message
        if env is None:
            continue
        try:
            interpolate.interpolate(text, env)
        except ComposeNetError as e:
            state, message = "unset", e.message
    return state, message


def entry_ports(entry: PortEntry, env: Mapping[str, str] | None,
                environment: policy.Environment | None = None) -> EntryPorts:
    """An entry's Compose objects and verdict in ``env`` (``environment``: the policy's view)."""
    environment = environment or policy.Environment(env)
    exposure = policy.written(entry.written_host_ip, environment)
    state, message = interpolation_state(entry, env)
    if state == "invalid":
        return EntryPorts(entry, (), exposure, message)
    try:
        keyed = model.normalize_keyed(entry, env if state == "ok" else None)
    except ComposeNetError as e:
        detail = e.message.split(": ", 1)[1] if e.message.startswith("services.") else e.message
        return EntryPorts(entry, (), exposure, detail)
    objects = tuple(obj for obj, _ in keyed)
    if exposure is None:
        problem = f"invalid IP address: {entry.written_host_ip}"
        return EntryPorts(entry, objects, None, problem)
    item = EntryPorts(entry, objects, exposure, None, keys=tuple(key for _, key in keyed))
    if item.ip_from_variable:
        assert entry.text is not None
        verdict = policy.host_ip(entry.text, environment, whole_entry=True)
    else:
        verdict = policy.host_ip(entry.written_host_ip, environment, long=entry.syntax == "long")
    return dataclasses.replace(item, verdict=verdict)


class Registered(NamedTuple):
    """What :meth:`Context.finding` remembers of a finding."""

    pragmas: tuple[pragmas.Pragma, ...]
    entry: PortEntry | None
    fix: Fix | None


_UNREGISTERED = Registered((), None, None)


class _Published(NamedTuple):
    address: str | None
    port: int
    protocol: str
    key: str
    same: tuple[tuple[str, object], ...]
    #: the variables that filled the port and the address ("" when the file writes them)
    port_from: str = ""
    address_from: str = ""


def _with_entry(item: EntryPorts, entry: PortEntry) -> EntryPorts:
    """``dataclasses.replace(item, entry=entry)`` at a fraction of its cost (called once per
    service for each entry of a shared list)."""
    fields = dict(item.__dict__)
    fields["entry"] = entry
    return EntryPorts(**fields)


@dataclass
class Context:
    """One file under check, and what the rules share about it."""

    doc: Document
    env: Mapping[str, str] | None
    target: Target = "compose"
    project: Project = field(default_factory=Project)
    node_addresses: NodeAddresses | None = None
    #: the policy's view of the environment (variables, internal networks)
    environment: policy.Environment | None = None
    #: the addresses a fix binds each service's ports to (None: findings carry no fix)
    binds_for: BindsFor | None = None
    _registered: dict[Finding, Registered] = field(default_factory=dict, repr=False)
    #: entry node id -> what entry_ports made of a shared node, and the pragmas on a node
    _shared: dict[int, EntryPorts] = field(default_factory=dict, repr=False)
    #: node id -> the node, its position and the pragmas on its lines
    _pragmas: dict[int, tuple[Span, yamltree.Position, tuple[pragmas.Pragma, ...]]] = field(
        default_factory=dict, repr=False
    )
    _rule: Rule | None = field(default=None, repr=False)
    _profiles: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _host_ports: dict[int, tuple[tuple[PortObject, ...], list[_Published]]] = field(
        default_factory=dict, repr=False
    )

    @property
    def path(self) -> str:
        return self.doc.path

    @functools.cached_property
    def lines(self) -> list[str]:
        return _lines(self.doc.source.text)

    @functools.cached_property
    def comments(self) -> pragmas.Comments:
        """The document's pragma comments, searched once for all its findings."""
        return pragmas.Comments(self.lines, self.doc.root)

    @functools.cached_property
    def entries(self) -> list[EntryPorts]:
        """Every port entry of every service, in file order.

        A service that ``extends`` another service of the same file publishes
        the base's ports too (Compose merges them in, base first); those entries
        appear again under the extending service, with ``base`` set.
        """
        services = {service.name: service for service in self.doc.services}
        out: list[EntryPorts] = []
        for service in self.doc.services:
            seen = {service.name}
            base = _extended(service)
            while base is not None and base in services and base not in seen:
                seen.add(base)
                for entry in services[base].ports:
                    inherited = dataclasses.replace(entry, service=service.name, shared=True)
                    found = entry_ports(inherited, self.env, self.policy)
                    out.append(dataclasses.replace(found, base=base))
                base = _extended(services[base])
            out.extend(self._entry_ports(entry) for entry in service.ports)
        return out

    def _entry_ports(self, entry: PortEntry) -> EntryPorts:
        """entry_ports, computed once for an entry node that many services share (an anchored
        list): what Compose makes of it does not depend on the service."""
        if not entry.shared:
            return entry_ports(entry, self.env, self.policy)
        cached = self._shared.get(id(entry.node))
        if cached is None:
            found = entry_ports(entry, self.env, self.policy)
            cached = self._shared[id(entry.node)] = dataclasses.replace(found, shown=found.display)
            return cached
        return _with_entry(cached, entry)

    @functools.cached_property
    def policy(self) -> policy.Environment:
        return self.environment or policy.Environment(self.env)

    @functools.cached_property
    def services(self) -> dict[str, Service]:
        return {service.name: service for service in self.doc.services}

    def profiles(self, service: str) -> frozenset[str]:
        """The profiles a service runs under (empty: always)."""
        known = self._profiles.get(service)
        if known is not None:
            return known
        found = self.services.get(service)
        value = found.plain("profiles") if found is not None else None
        known = frozenset(str(p) for p in value) if isinstance(value, list) else NO_PROFILES
        self._profiles[service] = known
        return known

    def binds(self, service: str) -> Binds | None:
        """The addresses ``service``'s ports are bound to by a fix (None: not known here)."""
        found = self.services.get(service)
        if self.binds_for is None or found is None:
            return None
        return self.binds_for(found)

    def node_of(self, service: str) -> frozenset[str] | None:
        """The node a service runs on, when an inventory or resolver tells (compose target)."""
        if self.target == "stack" or self.node_addresses is None:
            return None
        found = binds.expected(self.node_addresses, service)
        return frozenset(found) if found is not None else None

    def host_ports(self, item: EntryPorts) -> list[Use]:
        """The host ports ``item`` publishes, as policy.collisions compares them."""
        published = self._published(item)
        if not published:
            return []
        entry = item.entry
        label = f"{item.label} ({self.path}:{entry.position.line}:{entry.position.column})"
        profiles = self.profiles(entry.service)
        node = self.node_of(entry.service)
        key = self.project.key
        return [
            Use(key, node, address, port, protocol, entry.service, profiles, unicity, label,
                same=same, port_from=port_from, address_from=address_from)
            for address, port, protocol, unicity, same, port_from, address_from in published
        ]

    def _published(self, item: EntryPorts) -> list[_Published]:
        """The service-independent part of :meth:`host_ports`, once per objects of an entry
        (a shared entry's objects are one tuple for all its services)."""
        known = self._host_ports.get(id(item.objects))
        if known is not None and known[0] is item.objects:
            return known[1]
        out: list[_Published] = []
        for obj, key in zip(item.objects, item.keys):
            published = str(obj.get("published", ""))
            if not published.isdigit() or len(published) > 19:  # past any port; int() is slow
                continue
            host_ip = str(obj.get("host_ip") or "")
            address = None if self.target == "stack" else canonical(host_ip)
            protocol = str(obj.get("protocol", "tcp"))
            same = shared(tuple(sorted(obj.items())))
            shown = model.value_free(item.entry, obj, self.env) if "$" in _written(item) else obj
            port_from = "" if shown is obj else _changed(shown, obj, "published")
            address_from = "" if shown is obj else _changed(shown, obj, "host_ip")
            out.append(
                _Published(address, int(published), protocol, key, same, port_from, address_from)
            )
        # kept with its objects, so that its id names no other tuple while cached
        self._host_ports[id(item.objects)] = (item.objects, out)
        return out

    def rebind_fix(self, item: EntryPorts) -> Fix | None:
        """The fix that binds an entry bound to another node's address to its own node's."""
        from compose_net.fixes import Fix

        entry = item.entry
        owner = self.services.get(item.base or entry.service)
        ports_node = owner.ports_node if owner is not None else None
        binds = self.binds(entry.service)
        written = entry.written_host_ip
        if binds is None or written is None:
            return None
        if has_variables(written):
            return Fix(entry, ports_node, "display-only", "the address comes from a variable: "
                       "set it to the node's own address where the file is deployed")
        ips = tuple(binds.for_family(_family(written)))
        return Fix(entry, ports_node, "safe", f"bind it to {', '.join(ips)}", host_ips=ips)

    def bind_fix(
        self, item: EntryPorts, applicability: Applicability, requires: str = ""
    ) -> Fix | None:
        """The fix that binds ``item``'s exposed host IP to its node's address, as its verdict
        allows (a literal IP is replaced; a variable keeps its name and gets a safe default)."""
        from compose_net.fixes import Fix

        entry = item.entry
        owner = item.base or entry.service
        ports_node = self.services[owner].ports_node if owner in self.services else None
        verdict = item.verdict
        if verdict.fixable == "no":
            return Fix(entry, ports_node, "display-only", verdict.reason)
        problem = _unfixable(item) or self._stack_rejects(entry)
        if problem:
            return Fix(entry, ports_node, "display-only", problem)
        binds = self.binds(entry.service)
        if binds is None:
            return None
        if verdict.fixable == "default":
            assert verdict.variable is not None
            default = verdict.safe_default or binds.for_family(_family(verdict.value))[0]
            new = f"${{{verdict.variable}:-{default}}}"
            return Fix(entry, ports_node, applicability, f"give {verdict.variable} the default "
                       f"{default}", host_ips=(new,), requires=requires)
        ips = tuple(binds.for_family(_family(entry.written_host_ip)))
        return Fix(entry, ports_node, applicability, f"bind it to {', '.join(ips)}",
                   host_ips=ips, requires=requires)

    def _stack_rejects(self, entry: PortEntry) -> str:
        """Why a host IP cannot be written into ``entry`` of a file that looks like a swarm
        stack ("" when it can): ``docker stack config`` refuses ``host_ip`` in a long-syntax
        entry, while it takes (and ignores) a short-syntax entry's address."""
        if entry.syntax != "long" or entry.written_host_ip is not None or not self.stack_signals:
            return ""
        return (
            "the file looks like a swarm stack and docker stack deploy rejects host_ip in a "
            "long-syntax port: harden it with --target stack (or --target auto)"
        )

    @functools.cached_property
    def stack_signals(self) -> list[str]:
        from compose_net import stack

        return stack.signals(self.doc)

    def run(self, rule: Rule) -> list[Finding]:
        """Run one rule over this file; its findings are made by :meth:`finding`."""
        self._rule = rule
        try:
            return list(rule.check(self))
        finally:
            self._rule = None

    def finding(
        self,
        node: Span,
        message: str,
        hint: str,
        *,
        service: str | None = None,
        entry: PortEntry | None = None,
        exposure: Exposure | None = None,
        severity: Severity | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        """A finding of the running rule at ``node`` (at ``entry`` when one is given)."""
        rule = self._rule
        if rule is None:
            raise AssertionError("Context.finding outside Context.run")
        at = entry.node if entry is not None else node
        known = self._pragmas.get(id(at))
        if known is None or known[0] is not at:
            # kept with its node, so that its id names no other node while cached
            known = (at, yamltree.position(at), tuple(self.comments.find(at)))
            self._pragmas[id(at)] = known
        where = known[1]
        finding = Finding(
            self.path,
            where.line,
            where.column,
            rule.ID,
            rule.NAME,
            severity or rule.SEVERITY,
            message,
            hint,
            service if service is not None else (entry.service if entry is not None else None),
            exposure,
        )
        self._registered[finding] = Registered(known[2], entry, fix)
        return finding

    def registered(self, finding: Finding) -> Registered:
        """The pragmas on ``finding``'s node, its port entry and its fix."""
        return self._registered.get(finding, _UNREGISTERED)

    def pragmas_for(self, finding: Finding) -> tuple[pragmas.Pragma, ...]:
        return self.registered(finding).pragmas

    def entry_for(self, finding: Finding) -> PortEntry | None:
        return self.registered(finding).entry

    def fix_for(self, finding: Finding) -> Fix | None:
        return self.registered(finding).fix


def _written(item: EntryPorts) -> str:
    """The entry's text, or its long syntax's values, as written (to look for a ``$``)."""
    entry = item.entry
    if entry.text is not None:
        return entry.text
    return " ".join(str(yamltree.to_plain(node)) for node in entry.fields.values())


def _changed(shown: PortObject, obj: PortObject, key: str) -> str:
    """``shown[key]`` when it differs from ``obj[key]`` (variables filled it), else ""."""
    value = shown.get(key)
    return str(value) if value is not None and value != obj.get(key) else ""


@functools.lru_cache(maxsize=4)
def _lines(text: str) -> list[str]:
    """A text's lines, split once for all the YAML documents of its file (read only)."""
    return rewrite.split_lines(text)


def _family(text: str | None) -> int | None:
    """The address family a wildcard or address keeps (None: no IP, both families)."""
    return policy.family(text) if text else None


def _unfixable(item: EntryPorts) -> str:
    """Why an exposed entry's text cannot be rewritten with certainty ("" when it can)."""
    entry = item.entry
    if entry.syntax != "short" or entry.text is None or "$" not in entry.text:
        return ""
    template = interpolate.parse(entry.text)
    if (
        len(template) == 1
        and isinstance(template[0], interpolate.Var)
        and not interpolate.default_of(entry.text)
    ):
        return (
            f"the whole port entry is the variable {entry.text!r}, with no default to show its "
            'form; write the parts out, e.g. "${HOST_PORT}:80"'
        )
    return ""


def _extended(service: Service) -> str | None:
    """The service of the same file that ``service`` extends, if any."""
    extends = service.plain("extends")
    if isinstance(extends, str):
        return extends
    if isinstance(extends, dict) and extends.get("file") is None:
        base = extends.get("service")
        return base if isinstance(base, str) else None
    return None


def address_of(obj: PortObject) -> str | None:
    """The host IP of a Compose object, canonical when it is an address; None: every interface."""
    ip = obj.get("host_ip")
    if ip is None or ip == "":
        return None
    text = str(ip)
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return text
