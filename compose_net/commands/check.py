"""``compose-net check``: lint Compose and stack files for exposed ports.

:func:`check_paths` runs the rules and returns a :class:`CheckResult` without
printing anything; :func:`run` prints it in the chosen format and returns the
exit code: 0 clean, 1 when an error or warning finding remains after
suppression, 2 when a file could not be checked.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from compose_net import config as configuration
from compose_net import document, envfile, rules, source
from compose_net.config import Allow, Config
from compose_net.document import Document, PortEntry
from compose_net.errors import ComposeNetError
from compose_net.findings import CheckResult, Finding, Suppressed, position_key
from compose_net.project import Spec, file_key
from compose_net.report import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from compose_net.rules.context import Context, EntryPorts, Project, Rule, Target
from compose_net.rules.wrong_node_address import NodeAddresses

if TYPE_CHECKING:
    from compose_net.harden import BindsFor

#: For ``wrong-node-address``: which addresses each service of a document should use.
AddressesFor = Callable[[Document], NodeAddresses]


@dataclass(frozen=True)
class Options:
    #: None: the configuration's ``target``, else "compose"
    target: Target | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    allows: Sequence[Allow] = ()
    env_files: Sequence[str] = ()
    #: the process environment to interpolate with (None: os.environ)
    environ: Mapping[str, str] | None = None
    use_config: bool = True
    addresses_for: AddressesFor | None = None


@dataclass
class _Run:
    opts: Options
    configs: dict[str, Config] = field(default_factory=dict)
    envs: dict[str, Mapping[str, str]] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)

    def folder(self, path: str) -> str:
        return os.getcwd() if path == "-" else os.path.dirname(os.path.abspath(path))

    def config(self, path: str) -> Config:
        if not self.opts.use_config:
            return Config()
        folder = self.folder(path)
        if folder not in self.configs:
            self.configs[folder] = configuration.find(folder)
        return self.configs[folder]

    def env(self, path: str) -> Mapping[str, str]:
        folder = self.folder(path)
        if folder not in self.envs:
            self.envs[folder] = envfile.load(folder, self.opts.env_files, self.opts.environ)
        return self.envs[folder]

    def project(self, path: str) -> Project:
        return self.projects.setdefault(self.folder(path), Project())


def _strings(config: Config, key: str) -> list[str]:
    value = config.get(key, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ComposeNetError(
            f"configuration: {key!r} must be a list of rule ids or names", path=config.path
        )
    return list(value)


def _rules(opts: Options, config: Config) -> tuple[Rule, ...]:
    """``--select`` replaces the configuration's ``select``; ``--ignore`` adds to its ``ignore``."""
    try:
        select = list(opts.select) or _strings(config, "select")
        return rules.select(select, [*opts.ignore, *_strings(config, "ignore")])
    except ComposeNetError as e:
        raise e.with_path(config.path) if config.path else e from None


def _allowed(finding: Finding, entry: PortEntry | None, allows: Sequence[Allow]) -> Allow | None:
    if finding.service is None:
        return None
    if entry is None:  # a service-wide finding: only a whole-service allow covers it
        whole = (a for a in allows if a.port is None and a.matches(finding.service, None, None))
        return next(whole, None)
    published, target = entry.port_numbers
    return next((a for a in allows if a.matches(finding.service, published, target)), None)


def _suppression(ctx: Context, finding: Finding, allows: Sequence[Allow]) -> Suppressed | None:
    pragmas = ctx.pragmas_for(finding)
    if finding.rule in rules.EXPOSURE_RULES:
        allow = _allowed(finding, ctx.entry_for(finding), allows)
        if allow is not None:
            return Suppressed(finding, "allow", "external", allow.reason or f"allowed by {allow}")
        for pragma in pragmas:
            if pragma.kind == "allow":
                return Suppressed(
                    finding, "allow", "inSource", pragma.reason or "allowed by an inline comment"
                )
    for pragma in pragmas:
        if pragma.kind != "ignore":
            continue
        if not pragma.rules or any(_names(ref, finding) for ref in pragma.rules):
            reason = pragma.reason or "ignored by an inline comment"
            return Suppressed(finding, "ignore", "inSource", reason)
    return None


def _names(ref: str, finding: Finding) -> bool:
    return ref.upper() == finding.rule or ref.lower() == finding.name


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Identical findings once; no schema error where invalid-port already reports the entry."""
    ports_at = {(f.line, f.column) for f in findings if f.rule == "CN009"}
    out = [f for f in findings if not (f.rule == "CN010" and (f.line, f.column) in ports_at)]
    return list(dict.fromkeys(out))


def check_file(path: str, state: _Run, result: CheckResult, part: _Part | None = None) -> None:
    opts = state.opts
    config = state.config(path)
    selected = _rules(opts, config)
    allows = [*opts.allows, *config.allows()]
    doc = document.load(source.read(path)) if part is None else part.document
    node_addresses = opts.addresses_for(doc) if opts.addresses_for is not None else None
    target: Target = opts.target or config.get("target") or "compose"
    if part is None:
        ctx = Context(doc, state.env(path), target, state.project(path), node_addresses)
    else:
        ctx = _ProjectContext(doc, part.env, target, part.shared, node_addresses, feeds=part.feeds)
    findings: list[Finding] = []
    for rule in selected:
        findings.extend(ctx.run(rule))
    for finding in sorted(_dedupe(findings), key=position_key):
        suppressed = _suppression(ctx, finding, allows)
        if suppressed is not None:
            result.suppressed.append(suppressed)
        else:
            result.findings.append(finding)
        if 0 < finding.line <= len(ctx.lines):
            result.lines[(path, finding.line)] = ctx.lines[finding.line - 1].strip()


def check_paths(paths: Sequence[str], opts: Options) -> CheckResult:
    """Run the rules over ``paths``; files in one folder are one project.

    Findings come file by file in the order given, by position within a file.
    """
    result = CheckResult([], [], [], list(paths), {})
    state = _Run(opts)
    for path in paths:
        try:
            check_file(path, state, result)
        except ComposeNetError as e:
            result.errors.append(e.with_path(path))
    return result


# --- a project's files (-f, COMPOSE_FILE, compose.yaml and its override) -----------------------


@dataclass
class _ProjectContext(Context):
    """A file of a merged project: only the ``ports`` lists the project publishes count.

    A base file's entries that an override replaces (``!override``) or drops (``!reset``)
    are not published, so no rule reports them or counts them as taken; an entry a service
    inherits through ``extends`` counts when the project's service really inherits it.
    """

    #: declaring service -> the project's services its ports feed (project.Project.scope)
    feeds: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @functools.cached_property
    def entries(self) -> list[EntryPorts]:
        return [
            item
            for item in super().entries
            if (item.base is None and item.entry.service in self.feeds)
            or (item.base is not None and item.entry.service in self.feeds.get(item.base, ()))
        ]


class _Part(NamedTuple):
    document: Document
    env: Mapping[str, str] | None
    shared: Project
    #: this file's services whose ports the merged project publishes -> the services they feed
    feeds: Mapping[str, frozenset[str]]


def check_project(spec: Spec, opts: Options) -> CheckResult:
    """Run the rules over a project's files (those ``include`` and ``extends`` read too),
    each with its own variables; only the ports the merged project publishes count, and
    the files share one set of taken host ports."""
    result = CheckResult([], [], [], [], {})
    try:
        project = spec.load(environ=opts.environ)
    except ComposeNetError as e:
        if e.path is None:
            raise  # no project to check: a usage error
        result.paths.append(e.path)
        result.errors.append(e)
        return result
    scope = project.scope()
    state = _Run(opts)
    shared = Project()
    for part in project.documents:
        path = part.document.path
        feeds = {name: frozenset(s) for name, s in scope.get(file_key(path), {}).items()}
        if part.how == "extends" and not feeds:
            continue  # read for one service that publishes nothing
        result.paths.append(path)
        try:
            check_file(path, state, result, _Part(part.document, part.env, shared, feeds))
        except ComposeNetError as e:
            result.errors.append(e.with_path(path))
    return result


# --- end of projects ------------------------------------------------------------------------------


def return_code(result: CheckResult) -> int:
    if result.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.failing else EXIT_OK


def run(
    paths: Sequence[str],
    opts: Options,
    *,
    fmt: str = "auto",
    color: bool | None = None,
    verbose: bool = False,
    stream: TextIO | None = None,
    project: Spec | None = None,
) -> int:
    from compose_net import output

    out = sys.stdout if stream is None else stream
    result = check_paths(paths, opts) if project is None else check_project(project, opts)
    output.emit(
        result,
        output.resolve_format(fmt),
        out,
        color=output.use_color(out) if color is None else color,
        verbose=verbose,
    )
    return return_code(result)


def addresses_from_resolver(resolver: BindsFor) -> AddressesFor:
    """Adapt a node resolver (``resolvers.from_options``) to what wrong-node-address reads."""
    from compose_net import resolvers

    def addresses_for(doc: Document) -> NodeAddresses:
        out: dict[str, frozenset[str]] = {}
        for name, expected in resolvers.expected_addresses(doc, resolver).items():
            if expected.binds is not None:
                out[name] = frozenset(ip for ip in (expected.binds.ipv4, expected.binds.ipv6) if ip)
        return out

    return addresses_for


def main(paths: Sequence[str], options: Mapping[str, Any], project: Spec | None = None) -> int:
    """The command line's entry, with the options as click parses them (``project``: -f)."""
    selects, ignores = options.get("selects", ()), options.get("ignores", ())
    rules.select(selects, ignores)  # an unknown rule is a usage error before any file is read
    addresses_for = None
    if options.get("inventory") is not None or options.get("resolve") is not None:
        from compose_net import resolvers

        addresses_for = addresses_from_resolver(
            resolvers.from_options(
                resolve=options.get("resolve"),
                inventory=options.get("inventory"),
                node=options.get("node"),
                interface=options.get("interface"),
                cidr=options.get("cidr"),
                docker_image=options.get("docker_image"),
            )
        )
    elif options.get("node") is not None:
        raise ComposeNetError(
            "--node names a node of an inventory: use it with --inventory or --resolve"
        )
    opts = Options(
        target=options.get("target"),
        select=selects,
        ignore=ignores,
        allows=[Allow.parse(a) for a in options.get("allows", ())],
        env_files=options.get("env_files", ()),
        use_config=not options.get("no_config", False),
        addresses_for=addresses_for,
    )
    fmt: str = options.get("fmt", "auto")
    color: bool | None = options.get("color")
    verbose: bool = options.get("verbose", False)
    output: str | None = options.get("output")
    if output is None:
        return run(paths, opts, fmt=fmt, color=color, verbose=verbose, project=project)
    with open(output, "w", encoding="utf-8") as f:
        return run(
            paths, opts, fmt=fmt, color=bool(color), verbose=verbose, stream=f, project=project
        )


def describe(ref: str | None) -> int:
    """``--list-rules`` (``ref`` None) or ``--explain RULE``."""
    if ref is not None:
        rule = rules.get(ref)
        sys.stdout.write(
            f"{rule.ID} {rule.NAME} ({rule.SEVERITY}): {rules.summary(rule)}\n\n"
            f"{rules.documentation(rule)}\n"
        )
        return EXIT_OK
    for rule in rules.RULES:
        sys.stdout.write(f"{rule.ID}  {rule.NAME:<20} {rule.SEVERITY:<8} {rules.summary(rule)}\n")
    return EXIT_OK
