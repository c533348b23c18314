"""What ``check`` reports: findings, and the ports it leaves public on purpose."""

from __future__ import annotations

from typing import Literal, NamedTuple

from compose_net.errors import ComposeNetError
from compose_net.ports import Exposure

Severity = Literal["error", "warning", "note"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
#: Severities that make ``check`` and ``harden`` exit 1 by default (``--fail-on warning``):
#: every rule's own severity; a note (a finding a rule lowers on purpose: a loopback port
#: left unquoted, a host-mode port on prepared nodes) is shown but passes.
FAILING: tuple[Severity, ...] = ("error", "warning")


def failing_from(threshold: Severity) -> tuple[Severity, ...]:
    """``--fail-on``: the severities from ``threshold`` upwards."""
    return SEVERITIES[: SEVERITIES.index(threshold) + 1]


class Finding(NamedTuple):
    """One problem at a 1-based line and column of a file."""

    path: str
    line: int
    column: int
    rule: str  # the rule's id, e.g. "CN001"
    name: str  # the rule's name, e.g. "all-interfaces"
    severity: Severity
    message: str
    hint: str
    service: str | None = None
    #: for port findings: the entry's exposure as ``compose-net ports`` names it
    exposure: Exposure | None = None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def position_key(finding: Finding) -> tuple[str, int, int, str, str]:
    """Sort key: by file, then position, then rule (findings sort by where they are)."""
    return (finding.path, finding.line, finding.column, finding.rule, finding.service or "")


SuppressionKind = Literal["allow", "ignore"]


class Suppressed(NamedTuple):
    """A finding that does not count: an allowed public port, or an inline ``ignore``.

    ``source`` is where the decision was written: ``"inSource"`` for a comment in
    the file, ``"external"`` for ``--allow`` or the configuration (SARIF's words).
    """

    finding: Finding
    kind: SuppressionKind
    source: Literal["inSource", "external"]
    reason: str


class CheckResult(NamedTuple):
    """Everything one ``check`` run found, ready for a formatter."""

    findings: list[Finding]
    #: findings that do not count: allowed public ports and inline ``ignore``s
    suppressed: list[Suppressed]
    #: files that could not be checked (each error has the file, and line and column when known)
    errors: list[ComposeNetError]
    #: the files checked, as given
    paths: list[str]
    #: (path, line) -> that line's text, stripped: the context of each finding's fingerprint
    lines: dict[tuple[str, int], str]
    #: (path, line, column, rule) of a counted finding -> its fix's applicability (safe or
    #: unsafe; a finding without a fix that can be made is not here)
    fixable: dict[tuple[str, int, int, str], str]

    @property
    def allowed(self) -> list[Suppressed]:
        return [s for s in self.suppressed if s.kind == "allow"]

    @property
    def ignored(self) -> list[Suppressed]:
        return [s for s in self.suppressed if s.kind == "ignore"]

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in FAILING]

    def fix_of(self, f: Finding) -> str | None:
        """How ``check --fix`` can fix ``f``: safe, unsafe (with its option) or None."""
        return self.fixable.get((f.path, f.line, f.column, f.rule))
