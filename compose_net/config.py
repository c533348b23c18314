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
from dataclasses import dataclass, field
from typing import Any

from compose_net.errors import ComposeNetError
from compose_net.paths import planted_configuration, project_root
from compose_net.policy import addresses
from compose_net.policy.addresses import Network
from compose_net.policy.allowances import Allow

CONFIG_NAMES = (".compose-net.yaml", ".compose-net.yml")
#: the search results of this run, announced once each under -v (:func:`announce`)
_ANNOUNCE: dict[str, bool] = {}


@dataclass(frozen=True)
class Config:
    path: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def allows(self) -> list[Allow]:
        out: list[Allow] = []
        for item in self.data.get("allow", []):
            if isinstance(item, dict):
                spec = str(item.get("service", ""))
                if item.get("port") is not None:
                    spec += f":{item['port']}"
                out.append(Allow.parse(spec, str(item.get("reason", ""))))
            else:
                out.append(Allow.parse(str(item)))
        return out

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def internal_networks(self) -> tuple[Network, ...]:
        """The networks that count as internal here: the private ranges and this
        configuration's ``internal-networks`` (an error names the configuration file)."""
        extra = self.get("internal-networks") or []
        try:
            return addresses.internal_networks([str(text) for text in extra])
        except ComposeNetError as e:
            raise e.with_path(self.path) if self.path else e from None


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


def announce(on: bool = True) -> None:
    """Under ``-v``: say on standard error which configuration each search found."""
    _ANNOUNCE.clear()
    if on:
        _ANNOUNCE["on"] = True


def _announced(folder: str, root: str, found: Config) -> Config:
    if _ANNOUNCE and _ANNOUNCE.setdefault(folder, False) is False:
        from compose_net import report

        _ANNOUNCE[folder] = True
        if found.path is not None:
            report.info(f"compose-net: configuration: {found.path}")
        else:
            where = folder if folder == root else f"{folder} up to {root}"
            report.info(f"compose-net: configuration: none (looked in {where})")
    return found


def _trusted(candidate: str, start: str) -> bool:
    """Whether ``candidate`` may configure the run: a file another user could have planted
    is not read, and a warning says why (:func:`compose_net.paths.planted_configuration`)."""
    why = planted_configuration(candidate, start)
    if why is None:
        return True
    from compose_net import report

    report.warn(candidate, f"configuration not read: {why}")
    return False


def find(start: str) -> Config:
    """The nearest configuration at or above ``start`` (a file or folder), up to the project
    root (:func:`project_root`) and never above it."""
    folder = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    root = project_root(folder)
    current = folder
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(current, name)
            if os.path.lexists(candidate) and _trusted(candidate, folder):
                data = _load_yaml(candidate)
                _validate(data, candidate)
                return _announced(folder, root, Config(candidate, data))
        candidate = os.path.join(current, "pyproject.toml")
        if os.path.lexists(candidate) and _trusted(candidate, folder):
            section = _load_pyproject(candidate)
            if section is not None:
                _validate(section, candidate)
                return _announced(folder, root, Config(candidate, section))
        parent = os.path.dirname(current)
        if current == root or parent == current:
            return _announced(folder, root, Config())
        current = parent
