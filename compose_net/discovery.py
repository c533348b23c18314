"""Which files make the project when none are named: Compose's own rules."""

from __future__ import annotations

import os

from compose_net.errors import ComposeNetError

DEFAULT_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def default_files(folder: str = ".") -> list[str]:
    """``COMPOSE_FILE`` if set, else the first default name and its override file."""
    env = os.environ.get("COMPOSE_FILE")
    if env:
        sep = os.environ.get("COMPOSE_PATH_SEPARATOR", os.pathsep)
        return [p for p in env.split(sep) if p]
    for name in DEFAULT_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            stem, ext = os.path.splitext(name)
            override = os.path.join(folder, f"{stem}.override{ext}")
            rel = [os.path.relpath(path)]
            if os.path.isfile(override):
                rel.append(os.path.relpath(override))
            return rel
    raise ComposeNetError(
        "no configuration file provided: not found (looked for " + ", ".join(DEFAULT_NAMES) + ")",
    )
