"""What the language server knows before it checks anything: which documents it checks, the
editor's settings, and a diagnostic as the engine gives it (1-based lines and columns in
characters). Light on purpose: the server starts with this, the engine comes with the first
check (:mod:`compose_net.server.analysis`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, cast

from compose_net.discovery import FILE_PATTERN

Target = Literal["compose", "stack"]

#: the files the pre-commit hooks match (``.pre-commit-hooks.yaml``): Compose and stack files,
#: ``web-compose.yml`` and ``app.compose.yaml`` too (compose_net.discovery.FILE_PATTERN)
HOOK_FILES = re.compile(FILE_PATTERN)
#: files whose change changes the findings of the open documents
CONFIG_NAMES = (".compose-net.yaml", ".compose-net.yml", "pyproject.toml")
ENV_NAME = ".env"
#: the pragma that keeps a port public on purpose
ALLOW = "# compose-net: allow"
_SERVICES = re.compile(r"^services[ \t]*:", re.MULTILINE)


def is_compose(path: str, language_id: str, text: str) -> bool:
    """A document the server checks: a hook file name, VS Code's ``dockercompose`` language,
    or a YAML document with a top-level ``services:`` mapping."""
    name = path.replace(os.sep, "/")
    if HOOK_FILES.search(name) or language_id == "dockercompose":
        return True
    yaml = language_id in ("yaml", "yml") or path.endswith((".yaml", ".yml"))
    return yaml and _SERVICES.search(text[: 1 << 20]) is not None


@dataclass(frozen=True)
class Settings:
    """The editor's settings (``initializationOptions`` or ``workspace/configuration``); a
    project's configuration file comes first."""

    bind: tuple[str, ...] = ()
    bind_var: str | None = None
    inventory: str | None = None
    resolve: str | None = None
    target: Target | None = None

    @classmethod
    def parse(cls, data: object) -> tuple[Settings, list[str]]:
        """The settings a client sent, and what in them was left out (and why)."""
        problems: list[str] = []
        if data is None:
            return cls(), problems
        if not isinstance(data, Mapping):
            return cls(), ["settings must be an object"]
        data = cast("Mapping[str, object]", data)
        inner = data.get("compose-net")
        if isinstance(inner, Mapping):
            data = cast("Mapping[str, object]", inner)

        def text(key: str) -> str | None:
            value = data.get(key)
            if value is None:
                return None
            if isinstance(value, str) and value:
                return value
            problems.append(f"setting {key!r} must be a non-empty string")
            return None

        bind = data.get("bind")
        binds: tuple[str, ...] = ()
        if isinstance(bind, str) and bind:
            binds = (bind,)
        elif isinstance(bind, list) and bind and all(isinstance(b, str) and b for b in bind):
            binds = tuple(bind)
        elif bind is not None:
            problems.append("setting 'bind' must be an address or a list of addresses")
        target = text("target")
        if target not in (None, "compose", "stack"):
            problems.append("setting 'target' must be compose or stack")
            target = None
        resolve = text("resolve")
        if resolve not in (None, "local", "docker"):
            problems.append("setting 'resolve' must be local or docker")
            resolve = None
        settings = cls(
            bind=binds,
            bind_var=text("bind-var"),
            inventory=text("inventory"),
            resolve=resolve,
            target="stack" if target == "stack" else "compose" if target else None,
        )
        return settings, problems


class Related(NamedTuple):
    path: str
    line: int
    column: int
    message: str


class Item(NamedTuple):
    """A finding or an error of one file, with its range (1-based, end column exclusive)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str | None
    severity: str
    message: str
    related: tuple[Related, ...] = ()
    #: where ``# compose-net: allow`` goes for this finding (line, column), if it may
    allow_at: tuple[int, int] | None = None
