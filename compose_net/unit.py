"""What one command line asks for, and where each file's project is.

A verdict depends on the file and the options, never on the folder compose-net is started
from: each file's configuration is found from the file's own folder upward to its project
root (:mod:`compose_net.config`), and a file read from standard input is placed with
``--stdin-filename`` (without it, in the working folder, as ``-`` always was).

:class:`NodeSource` is the node-address options as one value; :func:`folder`,
:func:`configuration` and :func:`target` settle, for one file, its folder, its own
configuration and how it is deployed (``--target auto``: a file that looks like a swarm
stack is one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compose_net.config import Config, Lookup

if TYPE_CHECKING:
    from compose_net.document import Document
    from compose_net.rules.context import Target

#: --target: auto (the default) decides from the file itself
TARGET_CHOICES = ("auto", "compose", "stack")


@dataclass(frozen=True)
class NodeSource:
    """Where node addresses come from (``--resolve``, ``--inventory`` and what narrows them)."""

    resolve: str | None = None
    inventory: str | None = None
    interface: str | None = None
    cidr: str | None = None
    docker_image: str | None = None
    node: str | None = None

    @property
    def given(self) -> bool:
        """An inventory or a resolver is named (not only what narrows one)."""
        return self.resolve is not None or self.inventory is not None


def folder(path: str, stdin_filename: str | None = None) -> str:
    """The folder a file belongs to: its own, ``--stdin-filename``'s for standard input
    (the working folder without it)."""
    if path == "-":
        if stdin_filename is None:
            return os.getcwd()
        path = stdin_filename
    return os.path.dirname(os.path.abspath(path))


def configuration(
    path: str,
    *,
    use_config: bool = True,
    stdin_filename: str | None = None,
    lookup: Lookup | None = None,
) -> Config:
    """The configuration of the file at ``path`` (``-``: standard input, placed with
    ``stdin_filename``): the nearest one from the file's folder up to its project root.
    ``lookup``: the run's searches, which say each folder's once (:class:`Lookup`)."""
    if not use_config:
        return Config()
    return configuration_at(folder(path, stdin_filename), lookup)


def configuration_at(where: str, lookup: Lookup | None = None) -> Config:
    """The configuration for a command that reads no file (``nodes``, ``--nodes``): the one
    of the folder ``where`` names."""
    from compose_net import config

    return config.find(where, lookup)


def target(chosen: str | None, configured: str | None, doc: Document) -> Target:
    """How ``doc`` is deployed: ``--target``, else the configuration's ``target``, else
    (``auto``) a stack when the file looks like one (:func:`compose_net.stack.signals`)."""
    wanted = chosen or configured or "auto"
    if wanted == "stack":
        return "stack"
    if wanted == "compose":
        return "compose"
    from compose_net import stack

    return "stack" if stack.looks_like_stack(doc) else "compose"
