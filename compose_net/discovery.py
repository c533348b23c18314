"""Which files make the project when none are named: Compose's own rules.

``COMPOSE_FILE`` (split on ``COMPOSE_PATH_SEPARATOR``, the OS path separator by default)
when it is set; else the first default name found in the folder or, failing that, its
nearest parent, with the first override name found beside it. The orders are Compose's:
``docker-compose.yml`` comes before ``docker-compose.yaml``, and the override files
(``.yml`` before ``.yaml``) are looked for whatever the main file is called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from compose_net import report
from compose_net.errors import ComposeNetError

#: The files compose-net looks at when it picks them itself: Compose and swarm stack files by
#: name, anywhere (compose.yaml, docker-compose.prod.yml, broken-compose.yml,
#: compose.override.yaml, stack.yml, prod-stack.yml, app.stack.yaml). One pattern for the
#: pre-commit hooks, the CI recipes, the GitHub Action and the language server's document
#: selector (tests/file_pattern_test.py holds them to it); a Python regular expression that
#: is also POSIX extended (``grep -E``), matched against a path with ``/`` separators.
FILE_PATTERN = r"(^|/)([^/]*[-_.])?(compose|stack)([-_.][^/]*)?\.ya?ml$"

DEFAULT_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)


def from_environment(env: Mapping[str, str]) -> list[str] | None:
    """The files ``COMPOSE_FILE`` names (None when it is unset or empty)."""
    value = env.get("COMPOSE_FILE")
    if not value:
        return None
    sep = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
    return [p for p in value.split(sep) if p]


def _first(folder: str, names: tuple[str, ...], what: str) -> str | None:
    found = [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]
    if len(found) > 1:
        shown = ", ".join(os.path.relpath(f) for f in found)
        report.warn(os.path.relpath(found[0]), f"several {what} files ({shown}); using this one")
    return os.path.relpath(found[0]) if found else None


def find(folder: str = ".") -> list[str]:
    """The default file (and its override) in ``folder`` or its nearest parent that has one."""
    current = os.path.abspath(folder)
    while True:
        main = _first(current, DEFAULT_NAMES, "Compose")
        if main is not None:
            override = _first(current, OVERRIDE_NAMES, "override")
            return [main] if override is None else [main, override]
        parent = os.path.dirname(current)
        if parent == current:
            raise ComposeNetError(
                "no configuration file provided: not found (looked for "
                + ", ".join(DEFAULT_NAMES)
                + " in the current folder and its parents)",
            )
        current = parent


def default_files(folder: str = ".", environ: Mapping[str, str] | None = None) -> list[str]:
    """``COMPOSE_FILE`` if set, else the first default name and its override file."""
    named = from_environment(os.environ if environ is None else environ)
    return named if named is not None else find(folder)


def unread_overrides(named: Sequence[str]) -> list[tuple[str, str]]:
    """(base file, override beside it) for each named Compose file (compose.yaml,
    docker-compose.yml, ...) whose folder holds an override file that is not named too:
    naming a file reads that file alone, as ``docker compose -f FILE`` does."""
    keys = {os.path.realpath(p) for p in named if p != "-"}
    out: list[tuple[str, str]] = []
    for path in named:
        if path == "-" or os.path.basename(path) not in DEFAULT_NAMES:
            continue
        folder = os.path.dirname(path)
        for name in OVERRIDE_NAMES:
            override = os.path.join(folder, name)
            if os.path.isfile(override) and os.path.realpath(override) not in keys:
                out.append((path, override))
                break
    return out


def say_unread_overrides(named: Sequence[str]) -> None:
    """One line on standard error for each override :func:`unread_overrides` finds."""
    for base, override in unread_overrides(named):
        report.note(
            base,
            f"{override} was not read (a named file is read alone, as `docker compose -f` "
            f"does): run without FILE arguments, or with -f {base} -f {override}, to include it",
        )
