"""Run one rule over YAML text the way ``compose-net check`` does, and read back positions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compose_net.commands import check
from compose_net.findings import CheckResult


def run(
    tmp_path: Path,
    files: Mapping[str, str],
    *,
    rule: str,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> CheckResult:
    """Write ``files`` (relative name -> text) under tmp_path and check them, in that order."""
    paths = []
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    opts = check.Options(select=[rule], environ=dict(env or {}), use_config=False, **options)
    result = check.check_paths(paths, opts)
    assert not result.errors, [str(e) for e in result.errors]
    return result


def positions(result: CheckResult, base: Path | None = None) -> list[tuple[Any, ...]]:
    """(line, column, service) per finding; with ``base``, (file, line, column, service)."""
    if base is None:
        return [(f.line, f.column, f.service) for f in result.findings]
    return [
        (str(Path(f.path).relative_to(base)), f.line, f.column, f.service) for f in result.findings
    ]


def lint(tmp_path: Path, text: str, *, rule: str, **options: Any) -> list[tuple[Any, ...]]:
    """Positions of ``rule``'s findings in one compose.yaml holding ``text``."""
    return positions(run(tmp_path, {"compose.yaml": text}, rule=rule, **options))


def ports(*entries: str, service: str = "web") -> str:
    """A file whose one service has these ``ports:`` entries, one per line from line 5."""
    body = "".join(f"      - {e}\n" for e in entries)
    return f"services:\n  {service}:\n    image: nginx\n    ports:\n{body}"
