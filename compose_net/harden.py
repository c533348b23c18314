"""Apply the fixes of ``check``'s findings, prove the result, and check it again.

``harden`` is ``check`` with its fixes applied, as ``ruff check --fix`` is: the rules
(:mod:`compose_net.engine`) find each problem and offer its fix; this module

1. chooses the fixes it may apply: safe ones, unsafe ones whose option is given
   (``--rewrite-public``, ``--remap-conflicts``), never a silenced finding's;
2. settles host-port collisions on the model the fixes intend, before any text is made
   (:mod:`compose_net.policy.collisions`): a fix that would make two ports clash is moved
   to a free port with ``--remap-conflicts``, else left undone and reported;
3. renders the fixes as edits of the original text (:mod:`compose_net.fixes`), splices
   them, proves the result (:mod:`compose_net.proof`) and checks it against the schema;
4. runs the rules again on the result, in the same environment: what they still report is
   what remains, and a second run must find nothing more to fix.

:mod:`compose_net.hardening` runs these steps for a FILE argument or a project; the
command writes nothing unless every file of the run is proven, and exits 0 only when
nothing remains, which is exactly when ``check`` passes on what it leaves behind.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Optional

from compose_net import document, engine, fixes, interpolate, ports, proof, rewrite
from compose_net.document import Document, PortEntry
from compose_net.engine import Diagnostic, Linted, Part, Session
from compose_net.errors import ComposeNetError, SafetyError, raise_all
from compose_net.findings import FAILING, Finding, FindingFix, TextEdit, places
from compose_net.fixes import Fix, Rendered
from compose_net.policy.collisions import Ledger, Pending, Use, canonical, shared
from compose_net.rewrite import UnsupportedSyntax
from compose_net.rules.context import EntryPorts
from compose_net.source import Source
from compose_net.yamltree import Position


@dataclass(frozen=True)
class Permissions:
    """Which unsafe fixes may be applied (ruff's ``--unsafe-fixes``, one option each)."""

    rewrite_public: bool = False
    remap_conflicts: bool = False

    def allows(self, fix: Fix) -> bool:
        if fix.applicability == "safe":
            return True
        if fix.applicability == "display-only":
            return False
        return (fix.requires == "--rewrite-public" and self.rewrite_public) or (
            fix.requires == "--remap-conflicts" and self.remap_conflicts
        )


@dataclass
class Outcome:
    """One file: the fixes chosen for it, and those it could not apply (and why)."""

    linted: Linted
    #: entry node id -> the one fix (combined) applied to it
    chosen: dict[int, Fix] = field(default_factory=dict)
    #: finding -> why its fix was not applied
    unfixed: dict[int, str] = field(default_factory=dict)
    #: the entries moved to another host port, each with what it collided with
    moves: list[tuple[PortEntry, str]] = field(default_factory=list)
    #: entry node ids whose counted findings all have their reason in ``unfixed``
    explained: set[int] = field(default_factory=set, repr=False)
    #: entry node id -> (the entry's node, the edits its fix was rendered as)
    edits: dict[int, tuple[object, list[rewrite.Edit]]] = field(default_factory=dict, repr=False)
    #: entry node id -> the indexes of the findings on it that count (built when first asked)
    _counted: dict[int, list[int]] | None = field(default=None, repr=False)

    @property
    def doc(self) -> Document:
        return self.linted.doc

    def counted_on(self, node: object) -> list[int]:
        """The indexes of the findings that count on the entry ``node``, in order."""
        if self._counted is None:
            self._counted = {}
            for i, d in enumerate(self.linted.diagnostics):
                if d.entry is not None and counts(d):
                    self._counted.setdefault(id(d.entry.node), []).append(i)
        return self._counted.get(id(node), [])


def counts(d: Diagnostic) -> bool:
    """A finding ``check`` fails on: not silenced, an error or a warning."""
    return d.allowance is None and d.finding.severity in FAILING


def why_unfixed(d: Diagnostic, permissions: Permissions) -> str:
    """Why a counted finding's fix is not applied ("" when it is)."""
    fix = d.fix
    if fix is None:
        return d.finding.hint or "compose-net has no fix for it"
    if fix.applicability == "display-only":
        return fix.title or "compose-net cannot rewrite it"
    if not permissions.allows(fix):
        return f"pass {fix.requires} to {fix.title}"
    return ""


def choose(linted: Linted, permissions: Permissions) -> Outcome:
    """The fixes one file's findings offer that harden may apply, one per entry."""
    out = Outcome(linted)
    offered: dict[int, list[tuple[int, Fix]]] = {}
    kept: dict[int, set[str]] = {}  # entry node id -> services whose port there is allowed
    for i, d in enumerate(linted.diagnostics):
        if d.entry is not None and d.allowance is not None and d.allowance.kind == "allow":
            kept.setdefault(id(d.entry.node), set()).add(d.entry.service)
        if not counts(d):
            continue
        why = why_unfixed(d, permissions)
        if why or d.fix is None:
            out.unfixed[i] = why
            continue
        if d.fix.requires == "--remap-conflicts" or d.fix.by_strategy:
            continue  # decided with the collisions (settle), or by the stack strategy
        offered.setdefault(id(d.fix.entry.node), []).append((i, d.fix))
    for node_id, pairs in offered.items():
        binds = {f.host_ips for _, f in pairs if f.host_ips}
        services = sorted({f.entry.service for _, f in pairs})
        why = ""
        if len(binds) > 1:
            why = (
                f"the entry is shared by services {', '.join(services)}, which need different "
                "addresses; give each its own entry"
            )
        elif kept.get(node_id, set()) - set(services) and any(f.host_ips for _, f in pairs):
            others = ", ".join(sorted(kept[node_id] - set(services)))
            why = (
                f"the entry is shared by services {', '.join(services)} and {others}, "
                f"whose port there is allowed to stay public; give each its own entry"
            )
        if why:
            for i, _ in pairs:
                out.unfixed[i] = why
            continue
        out.chosen[node_id] = fixes.combine([f for _, f in pairs])
    return out


# --------------------------------------------------------------------------- collisions


@dataclass
class Ledgers:
    """A run's host ports by project: as written, and as the chosen fixes leave them."""

    before: dict[str, Ledger] = field(default_factory=dict)
    after: dict[str, Ledger] = field(default_factory=dict)


def _fixed_address(ip: str, linted: Linted) -> str | None:
    env = linted.context.env or {}
    try:
        value = interpolate.interpolate(ip, env)
    except ComposeNetError:
        value = ip
    return canonical(value)


def _uses(
    linted: Linted, item: EntryPorts, fix: Fix | None, written: list[Use] | None = None
) -> list[Use]:
    """The host ports ``item`` publishes, with ``fix`` applied (None: as written);
    ``written``: those it publishes as written, when already known."""
    if written is None:
        written = linted.context.host_ports(item)
    if fix is None or linted.target == "stack":
        return written
    out: list[Use] = []
    for use in written:
        port = fix.published if fix.published is not None else use.port
        addresses = [_fixed_address(ip, linted) for ip in fix.host_ips] or [use.address]
        for address in addresses:
            same = {**dict(use.same), "published": str(port)}
            if address is None:
                same.pop("host_ip", None)
            else:
                same["host_ip"] = address
            same_items = shared(tuple(sorted(same.items())))
            out.append(replace(use, address=address, port=port, same=same_items))
    return out


def _movable(entry: PortEntry) -> str:
    """Why the entry's host port cannot be moved in place ("" when it can)."""
    if entry.shared:
        return "the entry is shared with other services through an anchor or merge"
    if entry.syntax == "short" and not (entry.short.host_port or "").isdigit():
        return "its host port is a range or a variable"
    return ""


def settle(outcomes: Sequence[Outcome], ledgers: Ledgers, permissions: Permissions) -> None:
    """Decide, on the model the fixes intend, what happens to every host-port collision.

    A collision the input already had stays a finding (CN006) unless ``--remap-conflicts``
    moves the later port; one that a fix would create (``[::]`` and ``0.0.0.0`` bound to
    one IPv4 address) makes the later entry move with ``--remap-conflicts``, else that fix
    is not applied and its finding remains, saying why.
    """
    items = [
        (o, item)
        for o in outcomes
        for item in o.linted.context.entries
        if item.error is None and item.base is None and not item.overridden
    ]
    later = _Later(items)
    for i, (o, item) in enumerate(items):
        later.settled(i)
        node_id = id(item.entry.node)
        key = o.linted.context.project.key
        before = ledgers.before.setdefault(key, Ledger())
        after = ledgers.after.setdefault(key, Ledger())
        original = _uses(o.linted, item, None)
        clashed = [before.take(u) for u in original]
        fix = o.chosen.get(node_id)
        wanted = _uses(o.linted, item, fix, original)
        holder = next((h for h in (after.holder(u) for u in wanted) if h is not None), None)
        if holder is not None:
            was = any(h is not None for h in clashed)
            remap = _remap(o, item, fix, wanted, after, partial(later.pending, i), permissions)
            if remap is not None:
                o.chosen[node_id] = remap
                later.changed(node_id, i)
                use = wanted[0]
                entry = item.entry
                moved = (
                    f"services.{entry.service}.ports[{entry.index}] publishes {use.shown_port()}/"
                    f"{use.protocol} {use.where()}, which {holder.label} already publishes; "
                    f"moved to host port {remap.published}"
                )
                o.moves.append((entry, moved))
                wanted = _uses(o.linted, item, remap, original)
            elif fix is not None and not was:
                del o.chosen[node_id]
                later.changed(node_id, i)
                _explain(
                    o,
                    item,
                    f"its fix ({fix.title}) would make it collide with {holder.label} "
                    f"{holder.where()}; pass --remap-conflicts, or bind each family to "
                    "its own address",
                )
                wanted = original
        for use in wanted:
            after.add(use)


class _Later:
    """The host ports the items after the one being settled ask for, as their fixes stand:
    where a moved port must not go. Made at the first move, then kept up to date."""

    def __init__(self, items: Sequence[tuple[Outcome, EntryPorts]]) -> None:
        self.items = items
        self._pending: Pending | None = None
        #: entry node id -> the indexes of the items on it
        self._on: dict[int, list[int]] = {}

    def pending(self, i: int) -> Pending:
        """What the items after ``i`` ask for (``i`` is the item being settled)."""
        if self._pending is None:
            self._pending = Pending()
            for j in range(i + 1, len(self.items)):
                self._on.setdefault(id(self.items[j][1].entry.node), []).append(j)
                self._put(j)
        return self._pending

    def _put(self, j: int) -> None:
        assert self._pending is not None
        o, item = self.items[j]
        self._pending.put(j, _uses(o.linted, item, o.chosen.get(id(item.entry.node))))

    def settled(self, i: int) -> None:
        if self._pending is not None:
            self._pending.drop(i)

    def changed(self, node_id: int, i: int) -> None:
        """The fix of the entry ``node_id`` changed while item ``i`` was settled."""
        if self._pending is None:
            return
        for j in self._on.get(node_id, ()):
            if j > i:
                self._pending.drop(j)
                self._put(j)


def _remap(
    o: Outcome,
    item: EntryPorts,
    fix: Fix | None,
    wanted: list[Use],
    taken: Ledger,
    pending: Callable[[], Pending],
    permissions: Permissions,
) -> Fix | None:
    """The fix that also moves the entry to the nearest free host port, when allowed."""
    if not permissions.remap_conflicts:
        return None
    entry = item.entry
    why = _movable(entry)
    if not why and len({u.port for u in wanted}) != 1:
        why = "it publishes several host ports"
    if why:
        _explain(o, item, f"not moved: {why}")
        return None
    port = taken.free_port(wanted, pending())
    if port is None:
        _explain(o, item, "not moved: no host port is free")
        return None
    ctx = o.linted.context
    owner = ctx.services.get(item.base or entry.service)
    base = fix or Fix(
        entry,
        owner.ports_node if owner else None,
        "unsafe",
        "move it",
        requires="--remap-conflicts",
    )
    return base.with_port(port)


def _explain(o: Outcome, item: EntryPorts, why: str) -> None:
    """Why the findings on ``item``'s entry are not fixed (the first reason given stays:
    an entry many services share is explained once)."""
    node_id = id(item.entry.node)
    if node_id in o.explained:
        return
    o.explained.add(node_id)
    for i in o.counted_on(item.entry.node):
        o.unfixed.setdefault(i, why)


# --------------------------------------------------------------------------- rendering and proof


#: a finding as the second run matches it with the first: rule, service, message
Said = tuple[str, Optional[str], str]


@dataclass
class Hardened:
    """One file's result: its new text (proven), what was fixed and what remains.

    The first run (``outcome``) holds the original's nodes and findings; once the result
    is proven and what is to be said about it is kept (:meth:`release`), it is let go, so
    that a big file's two versions are never both in memory for the second run.
    """

    outcome: Outcome | None
    text: str
    #: the new text's document (None while the new text is being made and proven)
    document: Document | None
    #: the rules' findings on the new text that still count, with why they were not fixed
    remaining: list[tuple[Diagnostic, str]] = field(default_factory=list)
    #: the fixes applied, in file order (emptied by :meth:`release`: see ``fixed``)
    applied: list[Fix] = field(default_factory=list)
    #: what the first run has to say about the file, as (where, message) notes
    notes: list[tuple[str, str]] = field(default_factory=list)
    #: the original text, and the index of the YAML document in it
    source: Source = field(init=False)
    index: int = field(init=False)
    #: how many fixes were applied
    fixed: int = field(init=False)
    #: why the first run left each counted finding unfixed
    reasons: dict[Said, str] = field(init=False)
    #: where the first fix applied is
    first_fix: Position | None = field(init=False)
    #: each counted finding of the first run -> its fix, with edits where it is applied
    #: (kept only when asked for: check's fixes, :func:`finding_fixes`)
    fixes: dict[Finding, FindingFix] = field(init=False)

    def __post_init__(self) -> None:
        assert self.outcome is not None
        self.source = self.outcome.doc.source
        self.index = self.outcome.doc.index
        self.fixed = len(self.applied)
        self.reasons = {}
        self.first_fix = None
        self.fixes = {}

    @property
    def path(self) -> str:
        """Where the file is read and written (printed: ``source.name``)."""
        return self.source.path

    @property
    def changed(self) -> bool:
        return self.text != self.source.text

    def release(self) -> None:
        """Keep what the second run and the report need of the first run; drop the rest."""
        if self.outcome is None:
            return
        self.reasons = unfixed_reasons(self.outcome)
        self.fixed = len(self.applied)
        self.first_fix = self.applied[0].entry.position if self.applied else None
        self.applied = []
        self.outcome = None


def unfixed_reasons(outcome: Outcome) -> dict[Said, str]:
    diagnostics = outcome.linted.diagnostics
    out: dict[Said, str] = {}
    for i, why in outcome.unfixed.items():
        f = diagnostics[i].finding
        out[(f.rule, f.service, f.message)] = why
    return out


def render(outcome: Outcome) -> tuple[list[Fix], Rendered]:
    """The chosen fixes as edits; a fix whose text cannot be made is left out, with why."""
    doc = outcome.doc
    rendered = Rendered()
    applied: list[Fix] = []
    for node_id, fix in list(outcome.chosen.items()):
        local = Rendered()
        try:
            fixes.render(doc.source.text, doc.name, fix, local)
        except UnsupportedSyntax as e:
            del outcome.chosen[node_id]
            for i in outcome.counted_on(fix.entry.node):
                outcome.unfixed.setdefault(i, e.message)
            continue
        rendered.edits.extend(local.edits)
        rendered.substitutions.update(local.substitutions)
        outcome.edits[node_id] = (fix.entry.node, local.edits)
        applied.append(fix)
    return applied, rendered


def finding_fixes(outcome: Outcome) -> dict[Finding, FindingFix]:
    """Each counted finding's fix as harden applies it: those applied with the edits of
    their entry (the findings of one entry share them: one fix mends them all), the others
    with none, as their rule offers them."""
    out: dict[Finding, FindingFix] = {}
    diagnostics = outcome.linted.diagnostics
    text, path = outcome.doc.source.text, outcome.doc.name  # edits name the file as shown
    by_finding: dict[int, list[rewrite.Edit]] = {}
    for node, edits in outcome.edits.values():
        for i in outcome.counted_on(node):
            if i not in outcome.unfixed:
                by_finding[i] = edits
    found = places(text, [o for edits in by_finding.values() for e in edits for o in e[:2]])
    for i, d in enumerate(diagnostics):
        if not counts(d):
            continue
        fix = engine.finding_fix(d)
        if fix is None:
            continue
        edits = by_finding.get(i, [])
        out[d.finding] = fix._replace(
            edits=tuple(TextEdit(path, found[e.start], found[e.end], e.text) for e in edits)
        )
    return out


#: a text this long has its original's nodes collected before the edited text is parsed
COLLECT_FROM = 1 << 20


@dataclass(frozen=True)
class Keep:
    """What :func:`apply_file` keeps of a file's first run before letting it go: its notes
    (none of what was kept or moved when ``quiet``; what was fixed too when ``verbose``),
    and with ``fixes`` each counted finding's fix with its edits (check's fixes)."""

    quiet: bool = False
    verbose: bool = False
    fixes: bool = False


def apply_file(
    outcomes: list[Outcome],
    env: Mapping[str, str] | None,
    documents: int = 1,
    keep: Keep = Keep(),
) -> list[Hardened]:
    """Splice the fixes of the YAML documents of one file (``documents`` of them) into its
    text at once and prove each document against its edited self: it parses, means exactly
    what the fixes intend, and passes the Compose schema (with the variables ``env``).
    Raises SafetyError, never returns an unproven text.

    Takes ``outcomes`` (the list is emptied): once the fixes are rendered and what the
    edited documents must read as is known, what ``keep`` says is kept of the first run,
    which is let go (:meth:`Hardened.release`) with the original's nodes before the edited
    text is parsed.
    """
    source = outcomes[0].doc.source
    single = len(outcomes) == 1 and documents == 1
    results, rendered = _render_all(outcomes)
    edits = [edit for r in rendered for edit in r.edits]
    if not edits:
        for result in results:
            _keep(result, keep)
            result.release()
        return results
    expected: list[proof.Expected] = []
    kept: list[set[str]] = []  # the ports: null each document's project merge drops
    for result, r in zip(results, rendered):
        assert result.document is not None
        expected.append(proof.expected_data(result.document, r.substitutions))
        kept.append(result.document.kept_ports)
        _keep(result, keep)
        result.release()
        result.document = None
    rendered.clear()
    if source.parsed is not None:
        source.parsed.forget()  # the original's nodes go before the edited text is parsed
    ports.forget()
    if len(source.text) >= COLLECT_FROM:
        # commands run with the cyclic collector off (cli.main); what let the original's
        # nodes go may have left them in a cycle (a recursive closure over a root node)
        gc.collect()
    new_text = rewrite.apply(source.text, edits)
    edits.clear()
    try:
        new_docs = (
            [document.load(source._replace(text=new_text))]
            if single
            else document.load_all(source._replace(text=new_text))
        )
    except ComposeNetError as e:
        raise SafetyError(
            f"the edited file does not parse ({e.message}); nothing was written",
            path=source.name,
        ) from None
    if len(new_docs) != documents:
        raise SafetyError(
            "the edited file has another number of YAML documents; nothing was written",
            path=source.name,
        )
    by_index = {doc.index: doc for doc in new_docs}
    for result, want, dropped in zip(results, expected, kept):
        new_doc = by_index[result.index]
        new_doc.kept_ports |= dropped
        proof.prove_data(source.name, want, new_doc)
        check_schema(partial(_original, source, result.index), new_doc, "compose", env)
        result.text = new_text
        result.document = new_doc
    return results


def _keep(result: Hardened, keep: Keep) -> None:
    """Save what the report (and check's fixes) need of a result's first run."""
    result.notes = notes(result, keep, result.source.name)
    if keep.fixes and result.outcome is not None:
        result.fixes = finding_fixes(result.outcome)


def _render_all(outcomes: list[Outcome]) -> tuple[list[Hardened], list[Rendered]]:
    """Each outcome's fixes rendered, as a result that holds it (``outcomes`` is emptied)."""
    results: list[Hardened] = []
    rendered: list[Rendered] = []
    for o in outcomes:
        applied, r = render(o)
        results.append(Hardened(o, o.doc.source.text, o.doc, applied=applied))
        rendered.append(r)
    outcomes.clear()
    return results, rendered


def _original(source: Source, index: int) -> Document:
    """The original document, read again (its nodes were let go)."""
    return document.load_all(source)[index]


def recheck(
    results: Sequence[Hardened],
    linted: Sequence[Linted],
    permissions: Permissions,
    ledgers: Ledgers,
) -> None:
    """Record what the rules still find on the results (``linted``: the results, linted in the
    same environment), and prove that a second run would change nothing."""
    second = [choose(item, permissions) for item in linted]
    settle(second, ledgers, permissions)
    for result, again in zip(results, second):
        render(again)  # drops what cannot be rendered, as the first run did
        if again.chosen:
            fix = next(iter(again.chosen.values()))
            where = fix.entry.position
            raise SafetyError(
                "a second run would change the file again; nothing was written",
                path=result.source.name,
                line=where.line,
                column=where.column,
            )
        outcome = result.outcome
        before = unfixed_reasons(outcome) if outcome is not None else result.reasons
        for i, d in enumerate(again.linted.diagnostics):
            if not counts(d):
                continue
            why = again.unfixed.get(i) or before.get(
                (d.finding.rule, d.finding.service, d.finding.message), ""
            )
            result.remaining.append((d, why or why_unfixed(d, permissions) or "not fixed"))


# --------------------------------------------------------------------------- schema


def check_schema(
    original: Document | Callable[[], Document],
    new_doc: Document,
    target: str,
    env: Mapping[str, str] | None,
) -> None:
    """The edited file must pass the target's schema; an input that already fails is bad
    input (exit 2, "not a valid ... file"), not a bad edit (a failed safety check).
    ``original``: the original document, or how to read it again."""
    from compose_net import schema

    if not callable(original):  # an override's ports: null stays dropped
        new_doc.kept_ports |= original.kept_ports
    errors = [
        e for e in schema.check_document(new_doc, target=target, env=env or {})
        if not new_doc.null_ports_kept(e.line, e.column)
    ]
    if not errors:
        return
    if callable(original):
        original = original()
        original.kept_ports |= new_doc.kept_ports
    before = [
        e for e in schema.check_document(original, target=target, env=env or {})
        if not original.null_ports_kept(e.line, e.column)
    ]
    if before:  # each problem of the input, as validate lists them
        raise_all(
            [
                ComposeNetError(
                    f"not a valid {target} file ({e.message}); nothing was written",
                    path=original.name,
                    line=e.line,
                    column=e.column,
                )
                for e in sorted(before, key=lambda e: (e.line or 0, e.column or 0))
            ]
        )
    first = errors[0]
    raise SafetyError(
        f"the edited file fails the {target} schema ({first.message}); nothing was written",
        path=original.name,
        line=first.line,
        column=first.column,
    )


# --------------------------------------------------------------------------- notes


#: why an entry no rule reports is left as it is, by its exposure as written
KEPT = {
    "private": "bound to the internal address {ip}",
    "loopback": "bound to the loopback address {ip}",
    "variable": "its host IP ({ip}) is safe with the variables unset, empty and as set here",
}


def _where(path: str, line: int, column: int) -> str:
    return f"{path}:{line}:{column}"


def _subject(message: str) -> str:
    """The entry a finding's message is about (its first word: services.x.ports[i])."""
    return message.split(" ", 1)[0]


def notes(result: Hardened, keep: Keep, shown: str) -> list[tuple[str, str]]:
    """What the first run has to say about a file, as (where, message) notes: what was kept
    on purpose, what was moved and, with -v, what was fixed and what is fine as it is."""
    outcome = result.outcome
    if outcome is None:
        return result.notes
    out: list[tuple[str, str]] = []
    linted = outcome.linted
    for d in linted.diagnostics:
        f = d.finding
        if (
            d.allowance is not None
            and d.allowance.kind == "allow"
            and (keep.verbose or not keep.quiet)
        ):
            out.append(
                (
                    _where(shown, f.line, f.column),
                    f"{_subject(f.message)} stays public: {d.allowance.reason}",
                )
            )
    for entry, message in outcome.moves:
        if not keep.quiet:
            out.append((_where(shown, entry.position.line, entry.position.column), message))
    if keep.verbose:
        for fix in result.applied:
            pos = fix.entry.position
            out.append(
                (
                    _where(shown, pos.line, pos.column),
                    f"services.{fix.entry.service}.ports[{fix.entry.index}] fixed: {fix.title}",
                )
            )
        out.extend(_kept(linted, shown))
    return out


def _kept(linted: engine.Linted, shown: str) -> list[tuple[str, str]]:
    """-v: every entry left alone because nothing is wrong with it, and why."""
    reported = {id(d.entry.node) for d in linted.diagnostics if d.entry is not None}
    out: list[tuple[str, str]] = []
    for item in linted.context.entries:
        entry = item.entry
        why = KEPT.get(item.exposure or "")
        if item.base is not None or id(entry.node) in reported or why is None:
            continue
        pos = entry.position
        out.append(
            (
                _where(shown, pos.line, pos.column),
                f"{item.label} {item.display} is kept: " + why.format(ip=entry.written_host_ip),
            )
        )
    return out


def lint_all(docs: Sequence[tuple[Document, Part | None]], session: Session) -> list[Linted]:
    return [engine.lint(doc, session, part) for doc, part in docs]
