"""The project root: where the search for a configuration ends, and what a rewrite stays in.

It is the nearest folder at or above the files' folder that holds ``.git`` or ``.hg`` (the
folder black and ruff stop at); outside a repository, the files' own folder.
"""

from __future__ import annotations

import os

ROOT_MARKERS = (".git", ".hg")


def project_root(folder: str) -> str:
    """The nearest folder at or above ``folder`` holding ``.git`` or ``.hg``, else ``folder``.

    The walk is by name: a symlinked folder on the way is not followed back up to its target.
    """
    current = os.path.abspath(folder)
    while True:
        if any(os.path.lexists(os.path.join(current, m)) for m in ROOT_MARKERS):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return os.path.abspath(folder)
        current = parent
