"""``compose-net harden``: bind exposed ports to internal addresses, proven before writing."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from compose_net import config as configuration
from compose_net import document, envfile, harden, report, source, stack
from compose_net.config import Allow
from compose_net.document import Document
from compose_net.errors import ComposeNetError, SafetyError
from compose_net.harden import BindsFor, Decision
from compose_net.report import Report


@dataclass(frozen=True)
class Options:
    binds_for: BindsFor
    allows: Sequence[Allow] = ()
    rewrite_public: bool = False
    output: str | None = None
    stdout: bool = False
    diff: bool = False
    check: bool = False
    target: str = "compose"
    quiet: bool = False
    verbose: bool = False
    env_files: Sequence[str] = field(default_factory=tuple)
    use_config: bool = True
    #: changes each file's plan before it is applied (port collisions: resolvers.conflicts)
    adjust: Callable[[Document, harden.Plan], None] | None = None
    #: --target stack: how published ports are taken off public interfaces (compose_net.swarm)
    stack_strategy: str = "unpublish"
    stack_network: str = "internal"


def _where(path: str, d: Decision) -> str:
    return f"{path}:{d.entry.position.line}:{d.entry.position.column}"


def _label(d: Decision) -> str:
    return f"services.{d.entry.service}.ports[{d.entry.index}]"


def _validator(target: str, env: Mapping[str, str]) -> Callable[[Document], None]:
    def validate(doc: Document) -> None:
        from compose_net import schema

        errors = schema.check_document(doc, target=target, env=env)
        if errors:
            first = errors[0]
            raise SafetyError(
                f"the rewritten file fails schema validation ({first.message}); "
                "nothing was written",
                path=doc.path,
                line=first.line,
                column=first.column,
            )

    return validate


def _announce(path: str, result: harden.Result, opts: Options) -> None:
    for d in result.plan.decisions:
        if d.action == "keep-public":
            report.warn(
                _where(path, d),
                f"{_label(d)} stays bound to the public address {d.old_ip} "
                "(pass --rewrite-public to rewrite it, or allow it)",
            )
        elif d.action == "allowed":
            report.note(_where(path, d), f"{_label(d)} stays public: {d.note}")
        elif d.action == "rewrite" and opts.verbose:
            old = d.old_ip if d.old_ip else "all interfaces"
            report.note(_where(path, d), f"{_label(d)}: {old} -> {', '.join(d.new_ips)}")


def stack_usage(
    target: str, strategy: str | None, network: str | None, address_options: Sequence[str]
) -> None:
    """Refuse options that mean nothing for the target instead of ignoring them."""
    if target != "stack":
        if strategy is not None or network is not None:
            raise ComposeNetError("--stack-strategy and --stack-network need --target stack")
        return
    if address_options:
        raise ComposeNetError(
            f"{', '.join(address_options)}: swarm ignores host IPs, so no address protects a "
            "stack's ports; choose --stack-strategy unpublish, internal-network or host-mode"
        )
    if network is not None and strategy != "internal-network":
        raise ComposeNetError("--stack-network is for --stack-strategy internal-network")


def _allows_and_env(path: str, opts: Options) -> tuple[list[Allow], Mapping[str, str]]:
    """The allow list (options, then configuration) and the interpolation environment."""
    allows = list(opts.allows)
    if opts.use_config and path != "-":
        allows.extend(configuration.find(path).allows())
    folder = "." if path == "-" else (os.path.dirname(path) or ".")
    return allows, envfile.load(folder, opts.env_files)


def _emit(path: str, src: source.Source, text: str, opts: Options, rep: Report, what: str) -> None:
    """Write, print or diff one file's result as the options say, and count it."""
    changed = text != src.text
    if opts.diff:
        if changed:
            sys.stdout.write(report.unified_diff(path, src.text, text))
    elif opts.stdout or path == "-":
        sys.stdout.buffer.write(src.encode(text))
        sys.stdout.flush()
    elif opts.output is not None:
        if not opts.check:
            source.write_atomic(opts.output, src.encode(text))
    elif changed and not opts.check:
        source.write_atomic(path, src.encode(text))
    if not changed:
        rep.unchanged += 1
        return
    rep.changed += 1
    if not opts.quiet:
        verb = "would harden" if (opts.check or opts.diff) else "hardened"
        report.info(f"{verb} {path} {what}")


def _harden_stack(path: str, src: source.Source, opts: Options, rep: Report) -> None:
    """``--target stack``: apply a swarm strategy (compose_net.swarm.strategies), proven."""
    from compose_net.swarm import strategies

    strategy = next((s for s in strategies.STRATEGIES if s == opts.stack_strategy), None)
    if strategy is None:
        raise ComposeNetError(f"unknown --stack-strategy {opts.stack_strategy!r}")
    allows, env = _allows_and_env(path, opts)
    result = strategies.harden_stack_text(src, strategy, allows=allows, network=opts.stack_network)
    changed = result.text != src.text
    if changed:
        _check_stack_schema(src, result.document, env)
    for m in result.plan.messages:
        if m.kept or not opts.quiet:
            report.note(f"{path}:{m.line}:{m.column}", m.text)
    n = len(result.plan.changed)
    _emit(
        path,
        src,
        result.text,
        opts,
        rep,
        f"for docker stack deploy with {strategy} ({n} port{'s' if n != 1 else ''})",
    )


def _check_stack_schema(src: source.Source, new_doc: Document, env: Mapping[str, str]) -> None:
    """The edited file must pass the stack schema, unless the original already fails it."""
    try:
        from compose_net import schema
    except ImportError:  # a build without the schema module
        return
    errors = schema.check_document(new_doc, target="stack", env=env)
    if not errors:
        return
    before = schema.check_document(document.load(src), target="stack", env=env)
    if before:
        first = before[0]
        raise ComposeNetError(
            f"not a valid stack file ({first.message}); nothing was written",
            path=src.path,
            line=first.line,
            column=first.column,
        )
    first = errors[0]
    raise SafetyError(
        f"the edited file fails the stack schema ({first.message}); nothing was written",
        path=src.path,
        line=first.line,
        column=first.column,
    )


def harden_file(path: str, opts: Options, rep: Report) -> None:
    src = source.read(path)
    if opts.target == "stack":
        _harden_stack(path, src, opts, rep)
        return
    allows, env = _allows_and_env(path, opts)
    result = harden.harden_text(
        src,
        opts.binds_for,
        allows=allows,
        rewrite_public=opts.rewrite_public,
        validate=_validator(opts.target, env),
        adjust=opts.adjust,
    )
    doc = result.document
    assert doc is not None
    _announce(path, result, opts)
    signals = stack.signals(doc)
    if signals:
        report.warn(path, stack.SWARM_WARNING.format(why="; ".join(signals[:3])))
    n = len(result.plan.rewrites)
    _emit(path, src, result.text, opts, rep, f"({n} port{'s' if n != 1 else ''})")


def run(paths: Sequence[str], opts: Options) -> int:
    rep = Report(check=opts.check)
    if opts.output is not None and len(paths) != 1:
        report.error("-o/--output takes exactly one input file")
        return report.EXIT_ERROR
    for path in paths:
        try:
            harden_file(path, opts, rep)
        except ComposeNetError as e:
            rep.failure(e.with_path(path))
    if not opts.quiet and len(paths) > 1:
        report.info(f"{rep.changed} changed, {rep.unchanged} unchanged, {rep.failed} failed")
    return rep.return_code
