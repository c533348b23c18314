"""What a command line names: FILE arguments (each file on its own) or one project (``-f``,
``--project-directory``), and the configuration that governs those files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from compose_net.config import Config, Lookup
from compose_net.errors import ComposeNetError

if TYPE_CHECKING:
    from compose_net.commands.options import Inputs
    from compose_net.project import Spec


def default_files(files: Sequence[str]) -> list[str]:
    """The FILE arguments, or the files docker compose would read without any."""
    if files:
        return list(files)
    from compose_net import discovery

    return discovery.default_files()


def say_unread_overrides(given: Inputs) -> None:
    """A named base file (FILE arguments, or -f) with an override beside it that is not
    named: one line saying the override was not read, and how to include it."""
    named = list(given.files) or list(given.project_files)
    if named:
        from compose_net import discovery

        discovery.say_unread_overrides(named)


def project_spec(given: Inputs, *, edit_outside: bool = False) -> Spec | None:
    """None for FILE arguments (each file on its own), else the project to load (the files
    outside it read with ``--read-outside``, or ``edit_outside``)."""
    from compose_net.project import Spec

    project_directory = given.project_directory
    outside = given.read_outside or edit_outside
    if given.files and (given.project_files or project_directory):
        raise ComposeNetError(
            "name files as arguments (each on its own) or with -f (one project), not both"
        )
    if given.files:
        return None
    if project_directory is not None:  # a folder named, but not a symlink out of its project
        from compose_net import paths

        paths.check_read(project_directory, outside_ok=outside, hint="pass --read-outside")
    return Spec(given.project_files, project_directory, given.env_files, outside)


def first_input(paths: Sequence[str], project: Spec | None) -> str:
    """The file (or project folder) whose configuration judges the options before any file
    is read: a project's directory or first -f file, else the first FILE argument, else
    the working folder."""
    if project is not None:
        return project.directory or next(iter(project.files), ".")
    return next(iter(paths), ".")


def configuration(
    no_config: bool, path: str, stdin_filename: str | None = None, lookup: Lookup | None = None
) -> Config:
    """The configuration of the file (or project folder) ``path``: found from its own
    folder upward to its project root, never from the working folder (none with
    --no-config); standard input's is that of ``stdin_filename``'s folder. ``lookup``: the
    run's searches."""
    from compose_net import unit

    if path != "-" and os.path.isdir(path):
        return Config() if no_config else unit.configuration_at(path, lookup)
    return unit.configuration(
        path, use_config=not no_config, stdin_filename=stdin_filename, lookup=lookup
    )
