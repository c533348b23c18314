"""The rules of ``compose-net check``, by id and by name.

Each rule is a module with ``ID``, ``NAME``, ``SEVERITY``, a docstring that is
its user documentation, and ``check(ctx) -> Iterator[Finding]``. The registry
below is explicit: a new rule is added here, in id order, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from compose_net.errors import ComposeNetError
from compose_net.rules import (
    all_interfaces,
    duplicate_host_port,
    host_network,
    invalid_port,
    public_address,
    schema,
    swarm_published,
    unquoted_port,
    variable_host_ip,
    wrong_node_address,
)
from compose_net.rules.context import Rule

RULES: tuple[Rule, ...] = (
    all_interfaces,
    public_address,
    variable_host_ip,
    host_network,
    swarm_published,
    duplicate_host_port,
    wrong_node_address,
    unquoted_port,
    invalid_port,
    schema,
)
BY_ID: Final[dict[str, Rule]] = {rule.ID: rule for rule in RULES}
BY_NAME: Final[dict[str, Rule]] = {rule.NAME: rule for rule in RULES}

#: Rules about a port (or service) being reachable from outside: ``allow`` applies to them.
EXPOSURE_RULES = frozenset({"CN001", "CN002", "CN003", "CN004", "CN005"})


def get(ref: str) -> Rule:
    """The rule with this id (``CN001``, any case) or name (``all-interfaces``)."""
    rule = BY_ID.get(ref.strip().upper()) or BY_NAME.get(ref.strip().lower())
    if rule is None:
        known = ", ".join(f"{r.ID} ({r.NAME})" for r in RULES)
        raise ComposeNetError(f"no such rule: {ref!r}; the rules are {known}")
    return rule


def _refs(values: Iterable[str]) -> list[str]:
    return [part for value in values for part in value.split(",") if part.strip()]


def select(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> tuple[Rule, ...]:
    """The rules to run: those selected (all when none is), minus those ignored, in id order."""
    chosen = {get(ref).ID for ref in _refs(select)} or set(BY_ID)
    chosen -= {get(ref).ID for ref in _refs(ignore)}
    return tuple(rule for rule in RULES if rule.ID in chosen)


def summary(rule: Rule) -> str:
    """The first line of the rule's documentation."""
    doc = (rule.__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else rule.NAME


def documentation(rule: Rule) -> str:
    """The rule's documentation: its module docstring, without the summary line."""
    doc = (rule.__doc__ or "").strip()
    return "\n".join(doc.splitlines()[1:]).strip()


def markdown() -> str:
    """All rules as one Markdown document (``docs/rules.md`` is this text)."""
    out = [
        "# compose-net check: rules",
        "",
        "<!-- generated from the rule docstrings: python -m compose_net.rules > docs/rules.md -->",
        "",
        "| id | name | severity | what |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULES:
        anchor = f"{rule.ID}-{rule.NAME}".lower()
        row = (f"[{rule.ID}](#{anchor})", f"`{rule.NAME}`", rule.SEVERITY, summary(rule))
        out.append("| " + " | ".join(row) + " |")
    for rule in RULES:
        out += ["", f"## {rule.ID} {rule.NAME}", "",
                f"*{summary(rule)}.* Default severity: {rule.SEVERITY}.", "", documentation(rule)]
    return "\n".join(out) + "\n"
