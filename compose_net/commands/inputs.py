"""What a command line names: FILE arguments (each file on its own) or one project (``-f``,
``--project-directory``), and the configuration that governs those files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from compose_net.errors import ComposeNetError

if TYPE_CHECKING:
    from compose_net.config import Config
    from compose_net.project import Spec


def default_files(files: Sequence[str]) -> list[str]:
    """The FILE arguments, or the files docker compose would read without any."""
    if files:
        return list(files)
    from compose_net import discovery

    return discovery.default_files()


def say_unread_overrides(files: Sequence[str], project_files: Sequence[str]) -> None:
    """A named base file (FILE arguments, or -f) with an override beside it that is not
    named: one line saying the override was not read, and how to include it."""
    named = list(files) or list(project_files)
    if named:
        from compose_net import discovery

        discovery.say_unread_overrides(named)


def project_spec(
    files: Sequence[str],
    project_files: Sequence[str],
    project_directory: str | None,
    env_files: Sequence[str],
    outside: bool = False,
) -> Spec | None:
    """None for FILE arguments (each file on its own), else the project to load."""
    from compose_net.project import Spec

    if files and (project_files or project_directory):
        raise ComposeNetError(
            "name files as arguments (each on its own) or with -f (one project), not both"
        )
    if files:
        return None
    return Spec(tuple(project_files), project_directory, tuple(env_files), outside)


def configuration(no_config: bool, paths: Sequence[str], project: Spec | None) -> Config:
    """The configuration for the files' addresses: the first file's, the project's or the
    working folder's (none with --no-config)."""
    from compose_net import config

    if no_config:
        return config.Config()
    start = "."
    if paths and paths[0] != "-":
        start = paths[0]
    elif project is not None and (project.directory or project.files):
        first = project.directory or project.files[0]
        start = first if first != "-" else "."
    return config.find(start)
