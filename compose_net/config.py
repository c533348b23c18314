"""Settings from ``.compose-net.yaml`` or ``[tool.compose-net]``, found by walking up to the
project root and never above it.

The project root is the nearest folder at or above the files that holds ``.git`` or ``.hg``;
outside a repository, it is the folder of the files themselves (:mod:`compose_net.paths`).
A configuration, or a root marker, that another user could have planted (in a folder every
user may write, like the temporary folder, or owned by someone else) is never read: a
``.git`` and a ``.compose-net.yaml`` in a shared parent folder configure nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from compose_net.errors import ComposeNetError
from compose_net.paths import planted_configuration, project_root
from compose_net.policy import addresses
from compose_net.policy.addresses import Network
from compose_net.policy.allowances import Allow

CONFIG_NAMES = (".compose-net.yaml", ".compose-net.yml")


class Config(NamedTuple):
    """One configuration, read once into typed values (the schema has checked their types).

    ``internal`` holds the private ranges and the file's ``internal-networks``; the other
    fields are None (or empty) when the file does not set them.
    """

    path: str | None = None
    target: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    allow: tuple[Allow, ...] = ()
    internal: tuple[Network, ...] = addresses.INTERNAL_NETWORKS
    #: the file's ``internal-networks`` as written (CIDR texts)
    internal_extra: tuple[str, ...] = ()
    bind: tuple[str, ...] = ()
    bind_var: str | None = None
    resolve: str | None = None
    inventory: str | None = None
    stack_strategy: str | None = None
    #: the address sources the file sets, by key (two at once is an error where they are used)
    sources: tuple[str, ...] = ()

    @classmethod
    def parse(cls, path: str | None, data: Mapping[str, Any]) -> Config:
        """The typed configuration of ``data`` (read from ``path``); an error names the file."""
        extra = tuple(str(text) for text in data.get("internal-networks") or [])
        try:
            internal = addresses.internal_networks(list(extra))
        except ComposeNetError as e:
            raise e.with_path(path) if path else e from None
        inventory = data.get("inventory")
        if inventory is not None and path is not None:
            inventory = os.path.join(os.path.dirname(path), str(inventory))
        return cls(
            path=path,
            target=_text(data.get("target")),
            select=None if data.get("select") is None else _strings(data, "select", path),
            ignore=_strings(data, "ignore", path),
            allow=tuple(_allows(data.get("allow") or [])),
            internal=internal,
            internal_extra=extra,
            bind=tuple(str(ip) for ip in data.get("bind") or ()),
            bind_var=_text(data.get("bind-var")),
            resolve=_text(data.get("resolve")),
            inventory=None if inventory is None else str(inventory),
            stack_strategy=_text(data.get("stack-strategy")),
            sources=tuple(k for k in ADDRESS_KEYS if data.get(k) is not None),
        )

    def allows(self) -> list[Allow]:
        return list(self.allow)

    def internal_networks(self) -> tuple[Network, ...]:
        """The networks that count as internal here: the private ranges and this
        configuration's ``internal-networks``."""
        return self.internal


#: the keys that name where node addresses come from
ADDRESS_KEYS = ("bind", "bind-var", "resolve", "inventory")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _strings(data: Mapping[str, Any], key: str, path: str | None) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ComposeNetError(
            f"configuration: {key!r} must be a list of rule ids or names", path=path
        )
    return tuple(value)


def _allows(items: list[Any]) -> list[Allow]:
    out: list[Allow] = []
    for item in items:
        if isinstance(item, dict):
            spec = str(item.get("service", ""))
            if item.get("port") is not None:
                spec += f":{item['port']}"
            out.append(Allow.parse(spec, str(item.get("reason", ""))))
        else:
            out.append(Allow.parse(str(item)))
    return out


def _load_yaml(path: str) -> dict[str, Any]:
    from compose_net import source, yamltree

    src = source.read(path)
    try:
        root = yamltree.compose(src.text, path)
    except yamltree.EmptyFile:
        return {}  # comments only, or nothing yet: no setting
    data = yamltree.to_plain(root)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ComposeNetError("configuration must be a mapping", path=path)
    return data


def _load_pyproject(path: str) -> dict[str, Any] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover (the interpreter CI runs is 3.11 or later)
        import tomli as tomllib

    from compose_net import source

    text = source.read(path).text
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ComposeNetError(f"cannot read configuration: {e}", path=path) from None
    section = data.get("tool", {}).get("compose-net")
    return section if isinstance(section, dict) else None


def _validate(data: dict[str, Any], path: str) -> None:
    try:
        from compose_net import schema
    except ImportError:  # pragma: no cover (the schema module ships with the package)
        return
    violations = schema.validate(data, target="config")
    if violations:
        v = violations[0]
        where = schema.format_path(v.path)
        raise ComposeNetError(
            f"invalid configuration: {where + ': ' if where else ''}{v.message}", path=path
        )


@dataclass(eq=False)
class Lookup:
    """The configuration searches of one run, held by what carries the run (a command's
    options, :class:`compose_net.engine.Settings`): each folder's configuration is read once;
    under ``-v`` (``verbose``) which one each folder has is said once, however many files
    share it; a configuration file not read is warned about once."""

    verbose: bool = False
    #: the configuration of each folder searched from, by its absolute path
    found: dict[str, Config] = field(default_factory=dict)
    #: configuration files not read, each warned about once
    refused: set[str] = field(default_factory=set)

    def find(self, start: str) -> Config:
        """The nearest configuration at or above ``start`` (a file or folder), up to the
        project root (:func:`project_root`) and never above it."""
        folder = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
        known = self.found.get(folder)
        if known is None:
            root = project_root(folder)
            known = self.found[folder] = self._search(folder, root)
            if self.verbose:
                from compose_net import report

                if known.path is not None:
                    report.info(f"compose-net: configuration: {known.path}")
                else:
                    where = folder if folder == root else f"{folder} up to {root}"
                    report.info(f"compose-net: configuration: none (looked in {where})")
        return known

    def _search(self, folder: str, root: str) -> Config:
        current = folder
        while True:
            for name in CONFIG_NAMES:
                candidate = os.path.join(current, name)
                if os.path.lexists(candidate) and self._trusted(candidate, folder):
                    data = _load_yaml(candidate)
                    _validate(data, candidate)
                    return Config.parse(candidate, data)
            candidate = os.path.join(current, "pyproject.toml")
            if os.path.lexists(candidate) and self._trusted(candidate, folder):
                section = _load_pyproject(candidate)
                if section is not None:
                    _validate(section, candidate)
                    return Config.parse(candidate, section)
            parent = os.path.dirname(current)
            if current == root or parent == current:
                return Config()
            current = parent

    def _trusted(self, candidate: str, start: str) -> bool:
        """Whether ``candidate`` may configure the run: a file another user could have
        planted is not read, and a warning says why
        (:func:`compose_net.paths.planted_configuration`)."""
        why = planted_configuration(candidate, start)
        if why is None:
            return True
        if candidate not in self.refused:  # several searches may meet it: one warning
            self.refused.add(candidate)
            from compose_net import report

            report.warn(candidate, f"configuration not read: {why}")
        return False


def find(start: str, lookup: Lookup | None = None) -> Config:
    """The nearest configuration at or above ``start`` (a file or folder), up to the project
    root and never above it; ``lookup``: the run's searches (:class:`Lookup`), else one of
    its own that says nothing under ``-v``."""
    return (Lookup() if lookup is None else lookup).find(start)
