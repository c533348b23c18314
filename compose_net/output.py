"""Formatters for ``check``: text, JSON, SARIF 2.1.0, GitHub workflow annotations and a GitLab
Code Quality report.

Each formatter is a pure function from a :class:`CheckResult` to text (or to
the SARIF log as a dict); :func:`emit` writes it. Files that could not be
checked are always also written to standard error as one line each.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from compose_net import __version__, printable, redaction, report, rules
from compose_net.findings import (
    SEVERITIES,
    CheckResult,
    Finding,
    FindingFix,
    Severity,
    Suppressed,
)
from compose_net.rules.context import Rule

FORMATS = ("auto", "text", "json", "sarif", "github", "gitlab")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "composeNetFinding/v1"

_COLORS: dict[str, str] = {"error": "31", "warning": "33", "note": "36", "allowed": "32"}


def resolve_format(fmt: str, environ: Mapping[str, str] | None = None) -> str:
    """``auto`` is ``github`` under GitHub Actions and ``text`` elsewhere."""
    env = os.environ if environ is None else environ
    if fmt == "auto":
        return "github" if env.get("GITHUB_ACTIONS") == "true" else "text"
    return fmt


def use_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# --------------------------------------------------------------------------- text


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(result: CheckResult) -> str:
    counts = {s: sum(f.severity == s for f in result.findings) for s in SEVERITIES}
    parts = [_plural(n, s) for s, n in counts.items() if n]
    head = _plural(len(result.findings), "finding") + (f" ({', '.join(parts)})" if parts else "")
    tail = []
    if result.allowed:
        tail.append(f"{len(result.allowed)} allowed")
    if result.ignored:
        tail.append(f"{len(result.ignored)} ignored")
    if result.errors:
        tail.append(_plural(len(result.errors), "file") + " not checked")
    checked = len(result.paths) - len(result.errors)
    line = f"compose-net: {head} in {_plural(checked, 'file')}"
    line += f"; {', '.join(tail)}" if tail else ""
    fixable = fixable_line(result)
    return line + (f"\n{fixable}" if fixable else "")


def fixable_line(result: CheckResult) -> str:
    """How many findings ``check --fix`` would fix (and the unsafe option, more), as ruff
    says it; empty when none."""
    kinds = [result.fix_of(f) for f in result.findings]
    safe, unsafe = kinds.count("safe"), kinds.count("unsafe")
    if not safe and not unsafe:
        return ""
    more = f" ({unsafe} more with --unsafe-fixes)" if unsafe else ""
    if not safe:
        return f"compose-net: {unsafe} fixable with `compose-net check --fix --unsafe-fixes`"
    return f"compose-net: {safe} fixable with `compose-net check --fix`{more}"


def rule_statistics(result: CheckResult) -> list[dict[str, Any]]:
    """``--statistics``: one row per rule that found something, most findings first."""
    rows: dict[str, dict[str, Any]] = {}
    for f in result.findings:
        row = rows.setdefault(
            f.rule, {"code": f.rule, "name": f.name, "severity": f.severity, "count": 0,
                     "fixable": 0}
        )
        row["count"] += 1
        row["fixable"] += result.fix_of(f) == "safe"
    return sorted(rows.values(), key=lambda r: (-r["count"], r["code"]))


def statistics_text(result: CheckResult, *, color: bool = False) -> str:
    """``--statistics`` as text: count, rule, name, severity and ``[*]`` when fixable."""
    out = []
    for row in rule_statistics(result):
        mark = "[*]" if row["fixable"] else "   "
        severity = _paint(row["severity"], _COLORS[row["severity"]], color)
        out.append(f"{row['count']:>5}  {row['code']}  {mark} {row['name']:<20} {severity}\n")
    return "".join(out)


def text(result: CheckResult, *, color: bool = False, verbose: bool = False) -> str:
    """``file:line:col: SEVERITY ID message`` per finding (the severity word coloured or
    not, always there), then a ``note:`` line per allowed port.

    What comes from the files is escaped (compose_net.printable); the colours are not.
    """
    out: list[str] = []
    esc = printable.shown
    paths: dict[str, str] = {}  # a file's findings share its escaped name
    for f in result.findings:
        severity = _paint(f.severity, _COLORS[f.severity], color)
        path = paths.get(f.path)
        if path is None:
            path = paths[f.path] = printable.name(redaction.redact(f.path))
        where = _paint(f"{path}:{f.line}:{f.column}", "1", color)
        mark = " [*]" if fixable(result, f) else ""
        out.append(f"{where}: {severity} {_paint(f.rule, '1', color)}{mark} {esc(f.message)}")
        if verbose:
            out.append(f"    [{f.name}] hint: {esc(f.hint)}")
    for s in result.allowed:
        f = s.finding
        note = _paint("note:", _COLORS["allowed"], color)
        where = _paint(printable.name(redaction.redact(f.location)), "1", color)
        out.append(f"{where}: {note} allowed ({f.rule}): {esc(f.message)}: {esc(s.reason)}")
    if verbose:
        for s in result.ignored:
            f = s.finding
            line = f"{f.location}: note: ignored ({f.rule}): {f.message}: {s.reason}"
            out.append(printable.name(redaction.redact(line)))
    return "".join(line + "\n" for line in out)


# --------------------------------------------------------------------------- json


def fixable(result: CheckResult, f: Finding) -> bool:
    """Whether ``compose-net harden`` fixes ``f`` as it stands (a safe fix with its edits);
    text output marks it ``[*]``, as ruff does."""
    return result.fix_of(f) == "safe"


def fix_json(fix: FindingFix | None) -> dict[str, Any] | None:
    """A fix in ruff's JSON shape: rows and columns 1-based, columns in characters (of the
    text without its BOM), the end exclusive."""
    if fix is None:
        return None
    return {
        "applicability": fix.applicability,
        "message": fix.message,
        "edits": [
            {
                "content": e.content,
                "location": {"row": e.start.row, "column": e.start.column},
                "end_location": {"row": e.end.row, "column": e.end.column},
            }
            for e in fix.edits
        ],
    }


def finding_json(f: Finding, fix: FindingFix | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": f.path, "line": f.line, "column": f.column, "rule": f.rule, "name": f.name,
        "severity": f.severity, "message": f.message, "hint": f.hint, "service": f.service,
    }
    if f.exposure is not None:
        data["exposure"] = f.exposure
    data["fix"] = fix_json(fix)
    return data


def _suppressed_json(s: Suppressed) -> dict[str, Any]:
    return {**finding_json(s.finding), "reason": s.reason, "source": s.source}


def json_report(result: CheckResult) -> dict[str, Any]:
    return {
        "findings": [finding_json(f, result.fixes.get(f)) for f in result.findings],
        "allowed": [_suppressed_json(s) for s in result.allowed],
        "suppressed": [_suppressed_json(s) for s in result.ignored],
        "errors": [
            {"path": e.path, "line": e.line, "column": e.column, "message": e.message}
            for e in result.errors
        ],
        "files": len(result.paths),
    }


# --------------------------------------------------------------------------- sarif

_LEVELS: dict[Severity, str] = {"error": "error", "warning": "warning", "note": "note"}
_SECURITY_SEVERITY: dict[Severity, str] = {"error": "7.5", "warning": "5.0", "note": "2.0"}


def artifact_uri(path: str, cwd: str | None = None) -> tuple[str, str | None]:
    """A SARIF artifact URI for ``path``: relative to the working directory when inside it."""
    if path == "-":
        return "stdin", None
    base = Path(cwd or os.getcwd()).resolve()
    absolute = Path(os.path.abspath(path))
    try:
        rel = absolute.relative_to(base)
    except ValueError:
        return absolute.as_uri(), None
    return quote(rel.as_posix()), "%SRCROOT%"


def _rule_meta(rule: Rule) -> dict[str, Any]:
    doc = rules.documentation(rule)
    exposure = rule.ID in rules.EXPOSURE_RULES
    tags = ["security" if exposure else "correctness", "docker-compose"]
    properties: dict[str, Any] = {"tags": tags}
    if exposure:
        properties["security-severity"] = _SECURITY_SEVERITY[rule.SEVERITY]
    return {
        "id": rule.ID,
        "name": rule.NAME,
        "shortDescription": {"text": rules.summary(rule)},
        "fullDescription": {"text": doc.split("\n\n")[0].replace("\n", " ")},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": _LEVELS[rule.SEVERITY]},
        "properties": properties,
    }


def fingerprint(f: Finding, line_text: str, occurrence: int) -> str:
    """Stable when lines move: rule, file, service, line text and occurrence; no line number."""
    import hashlib  # only SARIF needs it: off the start-up path

    key = "\0".join((f.rule, f.path, f.service or "", line_text, str(occurrence)))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _result(f: Finding, result: CheckResult, seen: dict[tuple[str, ...], int], cwd: str | None,
            suppressed: Suppressed | None = None) -> dict[str, Any]:
    index = [r.ID for r in rules.RULES].index(f.rule)
    uri, base = artifact_uri(f.path, cwd)
    location: dict[str, Any] = {"uri": uri}
    if base is not None:
        location["uriBaseId"] = base
    line_text = result.lines.get((f.path, f.line), "")
    key = (f.rule, f.path, f.service or "", line_text)
    seen[key] = seen.get(key, 0) + 1
    properties: dict[str, Any] = {"name": f.name, "hint": f.hint}
    if f.service is not None:
        properties["service"] = f.service
    if f.exposure is not None:
        properties["exposure"] = f.exposure
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": _LEVELS[f.severity],
        "message": {"text": f"{f.message}. Fix: {f.hint}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": location,
            "region": {"startLine": f.line, "startColumn": f.column},
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f, line_text, seen[key])},
        "properties": properties,
    }
    fix = result.fixes.get(f) if suppressed is None else None
    if fix is not None and fix.edits:
        out["fixes"] = [_sarif_fix(fix, location)]
    if suppressed is not None:
        out["suppressions"] = [{"kind": suppressed.source, "justification": suppressed.reason,
                                "properties": {"compose-net": suppressed.kind}}]
    return out


def _sarif_fix(fix: FindingFix, location: dict[str, Any]) -> dict[str, Any]:
    """A SARIF 2.1.0 ``fix``: one artifact change whose replacements are the edits (columns
    in Unicode code points, as the run's columnKind says; the end column exclusive)."""
    return {
        "description": {"text": fix.message},
        "artifactChanges": [{
            "artifactLocation": location,
            "replacements": [
                {
                    "deletedRegion": {
                        "startLine": e.start.row,
                        "startColumn": e.start.column,
                        "endLine": e.end.row,
                        "endColumn": e.end.column,
                    },
                    "insertedContent": {"text": e.content},
                }
                for e in fix.edits
            ],
        }],
    }


def sarif(result: CheckResult, *, cwd: str | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log: all rules' metadata, the findings, and suppressed results for the rest."""
    seen: dict[tuple[str, ...], int] = {}
    results = [_result(f, result, seen, cwd) for f in result.findings]
    results += [_result(s.finding, result, seen, cwd, s) for s in result.suppressed]
    notifications = []
    for e in result.errors:
        note: dict[str, Any] = {"level": "error", "message": {"text": e.message}}
        if e.path is not None:
            uri, base = artifact_uri(e.path, cwd)
            artifact = {"uri": uri, **({"uriBaseId": base} if base else {})}
            physical: dict[str, Any] = {"artifactLocation": artifact}
            if e.line is not None:
                physical["region"] = {"startLine": e.line}
                if e.column is not None:
                    physical["region"]["startColumn"] = e.column
            note["locations"] = [{"physicalLocation": physical}]
        notifications.append(note)
    base_uri = Path(cwd or os.getcwd()).resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "compose-net",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule_meta(rule) for rule in rules.RULES],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": base_uri}},
            "invocations": [{
                "executionSuccessful": not result.errors,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


# --------------------------------------------------------------------------- github

_COMMANDS: dict[Severity, str] = {"error": "error", "warning": "warning", "note": "notice"}


def _escape_data(text: str) -> str:
    """A workflow command's message: variable values named first (escaped, a value with a
    control character or a ``%`` would no longer be found), then control characters escaped
    (compose_net.printable) but line feeds, which GitHub's own escapes turn into ``%0A`` of a
    multi-line message."""
    text = printable.escape(redaction.redact(text), keep="\n")
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(command: str, path: str | None, line: int | None, column: int | None, title: str,
                message: str) -> str:
    props = []
    if path is not None:
        props.append(f"file={_escape_property(path)}")
        if line is not None:
            props.append(f"line={line}")
            if column is not None:
                props.append(f"col={column}")
    props.append(f"title={_escape_property(title)}")
    return f"::{command} {','.join(props)}::{_escape_data(message)}\n"


def github(result: CheckResult) -> str:
    """GitHub Actions workflow commands: one annotation per finding, allowed port and error."""
    out = [_annotation(_COMMANDS[f.severity], f.path, f.line, f.column, f"{f.rule} {f.name}",
                       f"{f.message}. Fix: {f.hint}") for f in result.findings]
    for s in result.allowed:
        f = s.finding
        out.append(_annotation("notice", f.path, f.line, f.column, f"{f.rule} {f.name} (allowed)",
                               f"{f.message}: {s.reason}"))
    out += [_annotation("error", e.path, e.line, e.column, "compose-net: cannot check", e.message)
            for e in result.errors]
    return "".join(out)


# --------------------------------------------------------------------------- gitlab

#: Code Quality severities: info, minor, major, critical, blocker
_GITLAB_SEVERITY: dict[Severity, str] = {"error": "major", "warning": "minor", "note": "info"}


def _relative(path: str, cwd: str | None) -> str:
    """A path relative to the working directory (the repository root in a CI job)."""
    if path == "-":
        return "stdin"
    base = Path(cwd or os.getcwd()).resolve()
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_posix()


def gitlab(result: CheckResult, *, cwd: str | None = None) -> list[dict[str, Any]]:
    """A GitLab Code Quality report: the Code Climate issues GitLab reads, one per finding.

    An exposed port (CN001-CN005 at error severity) is ``critical``; allowed and ignored
    ports are left out (the report has no suppressions); a file that could not be checked
    is a ``blocker`` at that file. Fingerprints are SARIF's: stable when lines move.
    """
    seen: dict[tuple[str, ...], int] = {}
    out: list[dict[str, Any]] = []
    for f in result.findings:
        line_text = result.lines.get((f.path, f.line), "")
        key = (f.rule, f.path, f.service or "", line_text)
        seen[key] = seen.get(key, 0) + 1
        severity = _GITLAB_SEVERITY[f.severity]
        if f.severity == "error" and f.rule in rules.EXPOSURE_RULES:
            severity = "critical"
        out.append({
            "description": f"{f.rule} {f.message}. Fix: {f.hint}",
            "check_name": f"{f.rule} {f.name}",
            "fingerprint": fingerprint(f, line_text, seen[key]),
            "severity": severity,
            "location": {"path": _relative(f.path, cwd), "lines": {"begin": f.line}},
        })
    if result.errors:
        import hashlib  # as for SARIF: off the start-up path
    for e in result.errors:
        path = _relative(e.path, cwd) if e.path is not None else "."
        error_key = f"error\0{path}\0{e.message}"
        out.append({
            "description": f"compose-net could not check this file: {e.message}",
            "check_name": "compose-net cannot check",
            "fingerprint": hashlib.sha256(error_key.encode("utf-8")).hexdigest(),
            "severity": "blocker",
            "location": {"path": path, "lines": {"begin": e.line or 1}},
        })
    return out


# --------------------------------------------------------------------------- emit


def emit(
    result: CheckResult, fmt: str, stream: TextIO, *, color: bool = False, verbose: bool = False,
    quiet: bool = False, statistics: bool = False,
) -> None:
    """Write the report; ``quiet``: no summary line; ``statistics``: a count per rule instead
    of the findings (text or json)."""
    for e in result.errors:
        report.error(e)
    stream = printable.wrap(stream)  # a report file too: variable values named, escaped
    if statistics and fmt == "json":
        printable.write_json(stream, rule_statistics(result))
    elif statistics:
        printable.raw(stream).write(statistics_text(result, color=color))
    elif fmt == "json":
        printable.write_json(stream, json_report(result))
    elif fmt == "sarif":
        printable.write_json(stream, sarif(result))
    elif fmt == "gitlab":
        printable.write_json(stream, gitlab(result))
    elif fmt == "github":  # the one writer of lines that start with "::", escaped field by field
        printable.raw(stream).write(github(result))
    else:  # escaped field by field, so that the colours stay colours
        printable.raw(stream).write(text(result, color=color, verbose=verbose))
    if fmt not in ("json", "sarif") and not quiet:
        print(summary(result), file=sys.stderr)
    stream.flush()
