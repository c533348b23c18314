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


class Place(NamedTuple):
    """A place in a file's text (without its BOM): 1-based row and column (in characters)
    and the 0-based offset (in characters)."""

    row: int
    column: int
    offset: int


class TextEdit(NamedTuple):
    """Replace the characters from ``start`` up to (not including) ``end`` with ``content``."""

    path: str
    start: Place
    end: Place
    content: str


class FindingFix(NamedTuple):
    """A finding's fix, as ruff reports one: how safe it is, what it does (for a
    display-only fix: why it cannot be made) and its edits (none where the file cannot be
    changed, or without a node address to bind to)."""

    applicability: Literal["safe", "unsafe", "display-only"]
    message: str
    edits: tuple[TextEdit, ...] = ()
    #: the option an unsafe fix needs
    requires: str = ""


def places(text: str, offsets: list[int]) -> dict[int, Place]:
    """Each offset of ``text`` as a place (rows split at LF; a CR is a character)."""
    out: dict[int, Place] = {}
    row, start, at = 1, 0, 0
    for offset in sorted(set(offsets)):
        while True:
            nl = text.find("\n", at, offset)
            if nl < 0:
                break
            row, start, at = row + 1, nl + 1, nl + 1
        at = max(at, start)
        out[offset] = Place(row, offset - start + 1, offset)
    return out


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
    #: a finding -> its fix (findings no rule offers a fix for have none)
    fixes: dict[Finding, FindingFix]

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
        """How ``check --fix`` can fix ``f``: safe, unsafe (with its option) or None (no fix,
        or a display-only one: without a node address, say)."""
        fix = self.fixes.get(f)
        if fix is None or fix.applicability == "display-only":
            return None
        if fix.applicability == "safe" and not fix.edits:
            return None  # harden would not make it (its file is refused, say)
        return fix.applicability
