"""What one command line asks for: one frozen value per command.

The command line (:mod:`compose_net.cli`) builds one of these from click's parsed values, in
one place per command, and each ``commands.<name>.main`` takes it whole. Options that go
together are one value: the files a command reads (:class:`Inputs`), where node addresses
come from (:class:`compose_net.unit.NodeSource`), the fixes' addresses (:class:`Fixes`),
``--nodes`` and its limits (:class:`Fleet`). Plain data, cheap to import: no click, no
command code.

Each frozen dataclass costs about half a millisecond to create, so only the values of
``check`` and ``harden`` are made here; the other commands' values
are in :mod:`compose_net.commands.other_options`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compose_net.unit import NodeSource

if TYPE_CHECKING:
    from compose_net.findings import Severity

__all__ = [
    "Check",
    "Fixes",
    "Harden",
    "Inputs",
    "NodeSource",
    "Report",
    "Verdict",
]


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class Inputs:
    """The files a command reads: FILE arguments (each on its own), or one project (``-f``,
    ``--project-directory``), with the variables and the paths it may read."""

    #: FILE arguments (``-``: standard input)
    files: tuple[str, ...] = ()
    #: ``-f``: the files of one project, merged in order
    project_files: tuple[str, ...] = ()
    project_directory: str | None = None
    #: ``--read-outside``: files outside the project may be read
    read_outside: bool = False
    #: ``--env-file``: instead of the project's ``.env``
    env_files: tuple[str, ...] = ()
    #: ``--stdin-filename``: where the file read from standard input lives
    stdin_filename: str | None = None

    @property
    def stdin(self) -> bool:
        """Standard input is one of the files."""
        return "-" in self.files or "-" in self.project_files


@dataclass(frozen=True)
class Fixes:
    """The addresses the fixes bind to (``--bind``, ``--bind-var``) and the unsafe fixes
    allowed, as harden names them (``check`` takes the same options)."""

    binds: tuple[str, ...] = ()
    bind_var: str | None = None
    rewrite_public: bool = False
    remap_conflicts: bool = False

    def with_unsafe(self, unsafe: bool) -> Fixes:
        """``--unsafe-fixes``: both unsafe fixes, whatever was named on its own."""
        if not unsafe:
            return self
        return dataclasses.replace(self, rewrite_public=True, remap_conflicts=True)


@dataclass(frozen=True)
class Report:
    """How ``check`` prints its report."""

    #: auto, text, json, sarif, github or gitlab
    fmt: str = "auto"
    #: ``-o``: the report goes to this file
    output: str | None = None
    #: None: colour on a terminal
    color: bool | None = None
    verbose: bool = False


@dataclass(frozen=True)
class Verdict:
    """What makes a run fail, and how much of the report is printed (the options of ruff's
    and hadolint's habits: ``--fail-on``, ``--exit-zero``, ``--quiet``, ``--statistics``)."""

    fail_on: Severity = "warning"
    exit_zero: bool = False
    quiet: bool = False
    statistics: bool = False



# --------------------------------------------------------------------------- commands




@dataclass(frozen=True)
class Harden:
    """``compose-net harden`` (and ``check --fix``)."""

    inputs: Inputs = field(default_factory=Inputs)
    node_source: NodeSource = field(default_factory=NodeSource)
    fixes: Fixes = field(default_factory=Fixes)
    #: ``--allow SERVICE[:PORT]``, as written
    allows: tuple[str, ...] = ()
    #: auto, compose, stack; None: the configuration's, else auto
    target: str | None = None
    no_config: bool = False
    #: also edit (and read) files outside the project
    edit_outside: bool = False
    #: ``-o``: write the result here (one input file)
    output: str | None = None
    to_stdout: bool = False
    diff: bool = False
    check: bool = False
    quiet: bool = False
    verbose: bool = False
    #: unpublish, internal-network or host-mode (None: not given)
    stack_strategy: str | None = None
    stack_network: str | None = None
    #: print what remains after the fixes (``check --fix`` reports it in its own format)
    report_remaining: bool = True


@dataclass(frozen=True)
class Check:
    """``compose-net check``."""

    inputs: Inputs = field(default_factory=Inputs)
    report: Report = field(default_factory=Report)
    verdict: Verdict = field(default_factory=Verdict)
    #: ``--target``: auto, compose, stack; None: the configuration's, else auto
    target: str | None = None
    #: ``--select`` and ``--ignore``: rule ids or names, as written
    selects: tuple[str, ...] = ()
    ignores: tuple[str, ...] = ()
    #: ``--allow SERVICE[:PORT]``, as written
    allows: tuple[str, ...] = ()
    no_config: bool = False
    node_source: NodeSource = field(default_factory=NodeSource)
    #: the fixes' addresses: with them each finding's fix carries its edits
    fixes: Fixes = field(default_factory=Fixes)
    #: ``--fix``: apply the safe fixes (harden's code path), then report
    fix: bool = False
    #: ``--unsafe-fixes``: with --fix, --rewrite-public and --remap-conflicts too
    unsafe_fixes: bool = False
    list_rules: bool = False
    explain: str | None = None

    def fixing(self, *, report_remaining: bool) -> Harden:
        """``check --fix``: what harden is asked for, from these options."""
        return Harden(
            inputs=self.inputs,
            node_source=self.node_source,
            fixes=self.fixes.with_unsafe(self.unsafe_fixes),
            allows=self.allows,
            target=self.target,
            no_config=self.no_config,
            quiet=self.verdict.quiet,
            verbose=self.report.verbose,
            report_remaining=report_remaining,
        )

