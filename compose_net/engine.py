"""Run the rules: one place that turns parsed files into findings, their fixes and what
silences them. ``check`` prints what it returns; ``harden`` applies the fixes and runs it
again on the result.

Per file it settles the configuration (``.compose-net.yaml`` / ``[tool.compose-net]``: rule
selection, ``allow``, ``internal-networks``, ``target``), the variables (the process
environment over ``.env`` or ``--env-file``) and the project the file belongs to (files of
one folder, or of one ``-f`` project, share their host ports; separate projects never meet).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from compose_net import envfile, rules, unit
from compose_net.config import Config, Lookup
from compose_net.document import Document, PortEntry
from compose_net.errors import ComposeNetError
from compose_net.findings import CheckResult, Finding, FindingFix, Suppressed, position_key
from compose_net.policy.allowances import Allow, Allowance, allowed, ignored
from compose_net.policy.binds import BindsFor, NodeAddresses
from compose_net.policy.exposure import Environment
from compose_net.rules.context import Context, EntryPorts, Project, Registered, Rule, Target
from compose_net.source import Source

if TYPE_CHECKING:
    from compose_net.fixes import Fix

#: which addresses each service of a document should use (an inventory's or resolver's answer)
AddressesFor = Callable[[Document], NodeAddresses]


@dataclass(frozen=True)
class Settings:
    """What ``check`` and ``harden`` share: the same settings give the same findings."""

    #: "compose", "stack" or "auto"; None: the configuration's ``target``, else auto (a file
    #: that looks like a swarm stack is one: compose_net.unit.target)
    target: str | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    allows: Sequence[Allow] = ()
    env_files: Sequence[str] = ()
    #: the process environment to interpolate with (None: os.environ)
    environ: Mapping[str, str] | None = None
    use_config: bool = True
    #: which addresses each service's node has (wrong-node-address, collisions by node),
    #: when an inventory or resolver tells
    addresses_for: AddressesFor | None = None
    #: the addresses fixes bind to (None: findings carry no bind fix)
    binds_for: BindsFor | None = None
    #: read the files include: and extends: name outside the project directory
    read_outside: bool = False
    #: standard input's file name: its folder's configuration, .env and project
    stdin_filename: str | None = None
    #: standard input's text, read once (check and the fixes harden would make both read it)
    stdin: Source | None = None
    #: the run's configuration searches: each folder's read and announced once
    lookup: Lookup = field(default_factory=Lookup, compare=False, repr=False)


class Diagnostic(NamedTuple):
    """A finding, the fix its rule offers, and what silences it (None: it counts)."""

    finding: Finding
    fix: Fix | None
    allowance: Allowance | None
    entry: PortEntry | None


@dataclass
class Linted:
    """One file's diagnostics, in position order."""

    doc: Document
    diagnostics: list[Diagnostic]
    target: Target
    lines: list[str]
    #: what the rules saw (entries, services, the project), for harden's collision step
    context: Context


@dataclass
class Session:
    """Configuration, variables and projects, each read once per folder."""

    settings: Settings
    envs: dict[str, Mapping[str, str]] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)

    def folder(self, path: str) -> str:
        return unit.folder(path, self.settings.stdin_filename)

    @functools.cached_property
    def environ(self) -> Mapping[str, str]:
        """The process environment of the run (``settings.environ``, else a copy of
        os.environ made once: each file's variables start from it, and reading os.environ
        decodes every name and value again)."""
        return dict(os.environ) if self.settings.environ is None else self.settings.environ

    def config(self, path: str) -> Config:
        """The file's own configuration (from its folder up to its project root; the run's
        lookup reads each folder's once)."""
        s = self.settings
        return unit.configuration(
            path, use_config=s.use_config, stdin_filename=s.stdin_filename, lookup=s.lookup
        )

    def env(self, path: str) -> Mapping[str, str]:
        folder = self.folder(path)
        if folder not in self.envs:
            s = self.settings
            self.envs[folder] = envfile.load(
                folder, s.env_files, self.environ, outside=s.read_outside
            )
        return self.envs[folder]

    def project(self, path: str) -> Project:
        """Files of one folder are one project (Compose's ``-f`` files share a folder)."""
        folder = self.folder(path)
        return self.projects.setdefault(folder, Project(key=folder))

    def environment(self, path: str, env: Mapping[str, str] | None) -> Environment:
        """The policy's view of a file's variables and internal networks."""
        internal = self.config(path).internal_networks()
        environ = self.environ
        origins = {}
        if env is not None:
            files = ", ".join(self.settings.env_files) or ".env"
            origins = {name: "the environment" if name in environ else files for name in env}
        return Environment(env, internal, origins)

    def allows(self, path: str) -> list[Allow]:
        return [*self.settings.allows, *self.config(path).allows()]

    def target(self, doc: Document) -> Target:
        """``--target``, else the configuration's, else what the file looks like."""
        return unit.target(self.settings.target, self.config(doc.path).target, doc)

    def rules(self, path: str) -> tuple[Rule, ...]:
        """``--select`` replaces the configuration's ``select``; ``--ignore`` adds to its
        ``ignore``."""
        config = self.config(path)
        try:
            select = list(self.settings.select) or list(config.select or ())
            return rules.select(select, [*self.settings.ignore, *config.ignore])
        except ComposeNetError as e:
            raise e.with_path(config.path) if config.path else e from None


def _allowance(finding: Finding, known: Registered, allows: Sequence[Allow]) -> Allowance | None:
    pragmas = known.pragmas
    if not allows and not pragmas:
        return None  # most findings: nothing to ask
    if finding.rule in rules.EXPOSURE_RULES:
        entry = known.entry
        ports = entry.port_numbers if entry is not None else None
        found = allowed(allows, pragmas, finding.service, ports)
        if found is not None:
            return found
    return ignored(pragmas, finding.rule, finding.name)


def _diagnostic(ctx: Context, finding: Finding, allows: Sequence[Allow]) -> Diagnostic:
    known = ctx.registered(finding)
    return Diagnostic(finding, known.fix, _allowance(finding, known, allows), known.entry)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Identical findings once; no schema error where invalid-port already reports the entry."""
    ports_at = {(f.line, f.column) for f in findings if f.rule == "CN009"}
    out = [f for f in findings if not (f.rule == "CN010" and (f.line, f.column) in ports_at)]
    return list(dict.fromkeys(out))


@dataclass
class _ProjectContext(Context):
    """A file of a merged project: only the ``ports`` lists the project publishes count.

    A base file's entries that an override replaces (``!override``) or drops (``!reset``)
    are not published, so no rule reports them or counts them as taken; an entry a service
    inherits through ``extends`` counts when the project's service really inherits it.
    Within one file of several YAML documents, the entries a later document replaces are
    still reported and fixed (marked ``overridden``): they only take no host port.
    """

    #: declaring service -> the project's services its ports feed (project.Project.scope)
    feeds: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: a later YAML document of the file follows: the entries it replaces count too
    followed: bool = False

    @functools.cached_property
    def entries(self) -> list[EntryPorts]:
        out: list[EntryPorts] = []
        for item in super().entries:
            if item.base is None:
                published = item.entry.service in self.feeds
            else:
                published = item.entry.service in self.feeds.get(item.base, ())
            if published:
                out.append(item)
            elif self.followed and item.base is None:
                out.append(dataclasses.replace(item, overridden=True))
        return out


class Part(NamedTuple):
    """A file of a ``-f`` project, with its own variables and the project's shared state."""

    document: Document
    env: Mapping[str, str] | None
    shared: Project
    #: this file's services whose ports the merged project publishes -> the services they feed
    feeds: Mapping[str, frozenset[str]]
    #: the addresses this file's fixes bind to (None: the settings')
    binds_for: BindsFor | None = None
    #: a later YAML document of the same file follows this one (project.Project.followed)
    followed: bool = False


def lint(doc: Document, session: Session, part: Part | None = None) -> Linted:
    """Run the selected rules over one parsed file."""
    try:
        return _lint(doc, session, part)
    except ComposeNetError as e:
        e.path = beside(doc, e.path)  # its configuration's error: named as the file is
        raise


def beside(doc: Document, path: str | None) -> str | None:
    """``path``, a file in ``doc``'s folder or below it (its configuration), named from the
    folder ``doc`` is shown in: a file read through a path variables built is shown as the
    path is written (``${DIR}/x.yml``), and so is ``${DIR}/.compose-net.yaml``."""
    if path is None or doc.name == doc.path or path == doc.name:
        return path
    below = os.path.relpath(os.path.abspath(path), os.path.abspath(os.path.dirname(doc.path)))
    if below == os.pardir or below.startswith(os.pardir + os.sep):
        return path
    return os.path.join(os.path.dirname(doc.name), below)


def _lint(doc: Document, session: Session, part: Part | None) -> Linted:
    path = doc.path
    s = session.settings
    target = session.target(doc)
    env = session.env(path) if part is None else part.env
    environment = session.environment(path, env)
    nodes = s.addresses_for(doc) if s.addresses_for is not None else None
    if part is None:
        ctx = Context(doc, env, target, session.project(path), nodes, environment, s.binds_for)
    else:
        binds_for = part.binds_for or s.binds_for
        ctx = _ProjectContext(
            doc,
            part.env,
            target,
            part.shared,
            nodes,
            environment,
            binds_for,
            feeds=part.feeds,
            followed=part.followed,
        )
    found: list[Finding] = []
    for rule in session.rules(path):
        found.extend(ctx.run(rule))
    allows = session.allows(path)
    diagnostics = [_diagnostic(ctx, f, allows) for f in sorted(_dedupe(found), key=position_key)]
    return Linted(doc, diagnostics, target, ctx.lines, ctx)


def record(linted: Linted, result: CheckResult) -> None:
    """Add one file's diagnostics to a check result (counted, or silenced)."""
    path = linted.doc.name  # as the findings name it
    for d in linted.diagnostics:
        if d.allowance is not None:
            a = d.allowance
            result.suppressed.append(Suppressed(d.finding, a.kind, a.source, a.reason))
        else:
            result.findings.append(d.finding)
            fix = finding_fix(d)
            if fix is not None:
                result.fixes[d.finding] = fix
        line = d.finding.line
        if 0 < line <= len(linted.lines):
            result.lines[(path, line)] = linted.lines[line - 1].strip()


#: the rules whose fix binds an address: without one, the fix can only be shown
BIND_RULES = frozenset({"CN001", "CN002", "CN003", "CN007"})
NO_ADDRESS = (
    "no node address to bind to: give --bind, --bind-var, --resolve or --inventory, or set "
    "bind, bind-var, resolve or inventory in .compose-net.yaml"
)


def finding_fix(d: Diagnostic) -> FindingFix | None:
    """The fix a finding carries, as its rule offers it (its edits come from harden)."""
    fix = d.fix
    if fix is None:
        if d.finding.rule in BIND_RULES:
            return FindingFix("display-only", NO_ADDRESS)
        return None
    return FindingFix(fix.applicability, fix.title, (), fix.requires)
