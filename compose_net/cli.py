"""The command line: option parsing only; each command's work lives in compose_net.commands."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from compose_net import __version__, printable, redaction
from compose_net.bounds import Exceeded
from compose_net.errors import ComposeNetError, missing_module
from compose_net.report import EXIT_ERROR

if TYPE_CHECKING:
    from compose_net.commands import options, other_options
    from compose_net.unit import NodeSource

FORMATS = click.Choice(["text", "json"])
TARGETS = click.Choice(["auto", "compose", "stack"])
TARGET_HELP = (
    "How the files are deployed: auto (the default, unless the configuration says "
    "otherwise) takes a file that looks like a swarm stack for one and any other for a "
    "Compose file; compose (docker compose) or stack (docker stack deploy)."
)
STACK_STRATEGIES = click.Choice(["unpublish", "internal-network", "host-mode"])
#: a file compose-net reads: a folder, a FIFO or a file the user may not read is refused
#: when it is read (compose_net.source), in the one-line form of every other file error
INPUT = click.Path(readable=False)
INPUTS = click.Path(readable=False, allow_dash=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="compose-net")
def cli() -> None:
    """Keep Docker Compose and swarm stack ports off public interfaces."""


# --- click's values, typed: one invocation object per command (compose_net.commands.options) ---

_Value = TypeVar("_Value")
_Choice = TypeVar("_Choice", bound=str)


class Parsed:
    """One command's values as click parsed them, each read once with the type its option
    gives it: a value of another type, one read twice or one never read is a mistake in the
    option table (an internal error, never a wrong run)."""

    def __init__(self, params: Mapping[str, object]) -> None:
        self.params = dict(params)

    def _take(self, name: str) -> object:
        if name not in self.params:
            raise TypeError(f"{name}: no such option, or read twice")
        return self.params.pop(name)

    @staticmethod
    def _wrong(name: str, value: object, kind: str) -> TypeError:
        return TypeError(f"{name}: {type(value).__name__}, not {kind}")

    def flag(self, name: str) -> bool:
        value = self._take(name)
        if not isinstance(value, bool):
            raise self._wrong(name, value, "bool")
        return value

    def maybe_flag(self, name: str) -> bool | None:
        value = self._take(name)
        if value is not None and not isinstance(value, bool):
            raise self._wrong(name, value, "bool or None")
        return value

    def text(self, name: str) -> str:
        value = self._take(name)
        if not isinstance(value, str):
            raise self._wrong(name, value, "str")
        return value

    def maybe_text(self, name: str) -> str | None:
        value = self._take(name)
        if value is not None and not isinstance(value, str):
            raise self._wrong(name, value, "str or None")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._take(name)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise self._wrong(name, value, "a tuple of str")
        return tuple(str(v) for v in value)

    def choice(self, name: str, allowed: tuple[_Choice, ...]) -> _Choice:
        value = self._take(name)
        for choice in allowed:
            if value == choice:
                return choice
        raise self._wrong(name, value, " or ".join(allowed))

    def integer(self, name: str) -> int:
        value = self._take(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(name, value, "int")
        return value

    def maybe_integer(self, name: str) -> int | None:
        value = self._take(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise self._wrong(name, value, "int or None")
        return value

    def number(self, name: str) -> float:
        value = self._take(name)
        if not isinstance(value, float):
            raise self._wrong(name, value, "float")
        return value

    def maybe_number(self, name: str) -> float | None:
        value = self._take(name)
        if value is not None and not isinstance(value, float):
            raise self._wrong(name, value, "float or None")
        return value

    def done(self) -> None:
        """Every value was read: none of the command's options is left out of its object."""
        if self.params:
            raise TypeError(f"options not read: {', '.join(sorted(self.params))}")


def invocation(params: Mapping[str, object], build: Callable[[Parsed], _Value]) -> _Value:
    """The one object a command takes, built from all of click's values for it."""
    parsed = Parsed(params)
    made = build(parsed)
    parsed.done()
    return made


def inputs_of(p: Parsed, *, stdin_filename: bool = True) -> options.Inputs:
    """FILE arguments, ``-f``, ``--project-directory``, ``--read-outside``, ``--env-file``
    and (where the command takes it) ``--stdin-filename``."""
    from compose_net.commands import options

    return options.Inputs(
        files=p.texts("files"),
        project_files=p.texts("project_files"),
        project_directory=p.maybe_text("project_directory"),
        read_outside=p.flag("read_outside"),
        env_files=p.texts("env_files"),
        stdin_filename=p.maybe_text("stdin_filename") if stdin_filename else None,
    )


def node_source_of(p: Parsed, *, node: bool = False) -> NodeSource:
    """The node-address options (:func:`node_source_options`; ``--node`` where the command
    takes it) as one value."""
    from compose_net.unit import NodeSource

    source = NodeSource(
        resolve=p.maybe_text("resolve"),
        inventory=p.maybe_text("inventory"),
        interface=p.maybe_text("interface"),
        cidr=p.maybe_text("cidr"),
        docker_image=p.maybe_text("docker_image"),
        node=p.maybe_text("node") if node else None,
    )
    if source.docker_image is not None and source.resolve != "docker":
        raise ComposeNetError("--docker-image is for --resolve docker")
    return source


def fleet_of(p: Parsed) -> other_options.Fleet:
    """``--nodes``, ``--jobs`` and ``--node-timeout`` (:func:`fleet_options`)."""
    from compose_net.commands import other_options

    return other_options.Fleet(
        nodes=p.flag("nodes"),
        jobs=p.maybe_integer("jobs"),
        node_timeout=p.maybe_number("node_timeout"),
    )


# --- projects: -f FILE and --project-directory, as docker compose takes them ----------------------

_Command = TypeVar("_Command", bound=Callable[..., Any])


def project_options(command: _Command) -> _Command:
    """``-f/--file`` (repeatable), ``--project-directory`` and ``--read-outside``: one
    Compose project."""
    command = click.option(
        "--read-outside",
        is_flag=True,
        help="Read files outside the project: those include: and extends: name outside the "
        "project directory (an include's env_file and project_directory too), and symlinks "
        "to files outside the project root (refused by default: a repository must not make "
        "compose-net read the user's other files; docs/paths.md).",
    )(command)
    command = click.option(
        "--project-directory",
        type=click.Path(file_okay=False),
        metavar="DIR",
        help="The project's directory: its .env, includes and extends start there "
        "(default: the first file's folder).",
    )(command)
    return click.option(
        "-f",
        "--file",
        "project_files",
        multiple=True,
        type=INPUTS,
        metavar="FILE",
        help="A file of the project (repeatable: merged in order, as docker compose -f does). "
        "Without FILE arguments or -f: COMPOSE_FILE, else compose.yaml and its override.",
    )(command)


ENV_FILE_HELP = (
    "Read variables from this file instead of the project's .env (repeatable); the "
    "environment still wins, as in docker compose."
)
FORMAT_HELP = "text for a person, json for a program."


def env_file_option(command: _Command) -> _Command:
    """``--env-file`` (repeatable), as docker compose takes it."""
    return click.option(
        "--env-file",
        "env_files",
        multiple=True,
        type=INPUT,
        metavar="FILE",
        help=ENV_FILE_HELP,
    )(command)


def stdin_filename_option(command: _Command) -> _Command:
    """``--stdin-filename``: where the file read from standard input (``-``) lives."""
    return click.option(
        "--stdin-filename",
        metavar="PATH",
        help="The path of the file read from standard input (-): its configuration, .env "
        "and project are that file's.",
    )(command)


def examples(*lines: str) -> str:
    """A --help epilog: usage examples, one per line, kept as written."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def node_source_options(command: _Command) -> _Command:
    """Where node addresses come from: an inventory, this host, or the Docker API."""
    options = (
        click.option(
            "--inventory",
            type=INPUT,
            metavar="FILE",
            help="Node addresses from this inventory file.",
        ),
        click.option(
            "--resolve",
            type=click.Choice(["local", "docker"]),
            help="Node addresses from this host (local) or the Docker API (docker).",
        ),
        click.option(
            "--interface",
            metavar="NAME",
            help="With --resolve: take the address of this interface.",
        ),
        click.option(
            "--cidr", metavar="CIDR", help="With --resolve: take the address inside this network."
        ),
        click.option(
            "--docker-image",
            metavar="IMAGE",
            help="With --resolve docker: image of the host-network probe on a plain engine "
            "(default: busybox).",
        ),
    )

    for option in reversed(options):
        command = option(command)
    return command


# --- end of projects -----------------------------------------------------------------------------


@cli.command(
    epilog=examples(
        "compose-net ports",
        "compose-net ports -f compose.yaml -f compose.prod.yaml",
        "compose-net ports --format json docker-compose.yml",
    )
)
@click.argument("files", nargs=-1, type=INPUTS)
@project_options
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help=FORMAT_HELP
)
@click.option("--no-interpolate", is_flag=True, help="Keep ${VARIABLES} as written.")
@click.option(
    "--show-values",
    is_flag=True,
    help="Print the host IPs and ports variables take from the environment and env files "
    "(by default ${VARIABLE} is printed in their place: CI logs are often public).",
)
@click.option(
    "--env-file",
    "env_files",
    multiple=True,
    type=INPUT,
    metavar="FILE",
    help="Read variables from this file instead of the project's .env (repeatable).",
)
@stdin_filename_option
def ports(**params: object) -> int:
    """Print each service's published ports as Docker Compose reads them."""
    from compose_net.commands import ports as command

    return command.main(invocation(params, ports_of))


def ports_of(p: Parsed) -> other_options.Ports:
    from compose_net.commands import other_options

    return other_options.Ports(
        inputs=inputs_of(p),
        fmt=p.text("fmt"),
        interpolate=not p.flag("no_interpolate"),
        show_values=p.flag("show_values"),
    )


@cli.command(
    epilog=examples(
        "compose-net check",
        "compose-net check deploy/*.yml --target stack",
        "compose-net check --format sarif -o compose-net.sarif",
        "compose-net check --format gitlab -o gl-code-quality-report.json",
        "compose-net check --explain CN001",
        "compose-net check --fix --bind 10.0.0.5",
        "compose-net check --statistics --fail-on error",
    )
)
@click.argument("files", nargs=-1, type=INPUTS)
@project_options
@click.option(
    "--format",
    "--output-format",
    "fmt",
    type=click.Choice(["auto", "text", "json", "sarif", "github", "gitlab"]),
    default="auto",
    show_default=True,
    help="auto: github annotations under GitHub Actions, text elsewhere; gitlab: a GitLab "
    "Code Quality report.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the report to this file."
)
@click.option("--target", type=TARGETS, help=TARGET_HELP)
@click.option(
    "--select",
    "selects",
    multiple=True,
    metavar="RULE[,RULE]",
    help="Run only these rules (ids or names; repeatable).",
)
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="RULE[,RULE]",
    help="Do not run these rules (ids or names; repeatable).",
)
@click.option(
    "--allow",
    "allows",
    multiple=True,
    metavar="SERVICE[:PORT]",
    help="A port meant to be public: listed as allowed, not reported (repeatable).",
)
@env_file_option
@click.option("--no-config", is_flag=True, help="Ignore .compose-net.yaml and [tool.compose-net].")
@click.option("--node", metavar="NAME", help="The node every service of these files runs on.")
@click.option(
    "--color/--no-color", default=None, help="Colour the text report (default: on a terminal)."
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show the fix hint of each finding, and the configuration file used.",
)
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.option("--explain", metavar="RULE", help="Print a rule's documentation and exit.")
# --- fixes and verdict (ruff's and hadolint's habits) ---
@click.option("--fix", is_flag=True, help="Apply the safe fixes, as harden does, then report.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="With --fix: the unsafe fixes too (--rewrite-public and --remap-conflicts).",
)
@click.option("--rewrite-public", is_flag=True, help="With --fix: as harden --rewrite-public.")
@click.option("--remap-conflicts", is_flag=True, help="With --fix: as harden --remap-conflicts.")
@click.option(
    "--bind",
    "binds",
    multiple=True,
    metavar="IP",
    help="The node's internal address, as for harden: each fix then carries its edits and "
    "--fix applies them (without an address, from here or the configuration, a bind fix is "
    "display-only).",
)
@click.option(
    "--bind-var", metavar="NAME", help="As for harden: the fixes write ${NAME:?...}."
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (2 stays).")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings only: no summary.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "note"]),
    default="warning",
    show_default=True,
    help="Exit 1 for findings of this severity or worse (note: any finding).",
)
@click.option("--statistics", is_flag=True, help="A count per rule instead of the findings.")
@node_source_options
@stdin_filename_option
def check(**params: object) -> int:
    """Report ports published on public interfaces, and other port problems (exit 1 on findings)."""
    from compose_net.commands import check as command

    return command.main(invocation(params, check_of))


def fixes_of(p: Parsed) -> options.Fixes:
    """``--bind``, ``--bind-var``, ``--rewrite-public`` and ``--remap-conflicts``."""
    from compose_net.commands import options

    return options.Fixes(
        binds=p.texts("binds"),
        bind_var=p.maybe_text("bind_var"),
        rewrite_public=p.flag("rewrite_public"),
        remap_conflicts=p.flag("remap_conflicts"),
    )


def check_of(p: Parsed) -> options.Check:
    from compose_net.commands import options
    from compose_net.findings import SEVERITIES

    return options.Check(
        inputs=inputs_of(p),
        report=options.Report(
            fmt=p.text("fmt"),
            output=p.maybe_text("output"),
            color=p.maybe_flag("color"),
            verbose=p.flag("verbose"),
        ),
        verdict=options.Verdict(
            fail_on=p.choice("fail_on", SEVERITIES),
            exit_zero=p.flag("exit_zero"),
            quiet=p.flag("quiet"),
            statistics=p.flag("statistics"),
        ),
        target=p.maybe_text("target"),
        selects=p.texts("selects"),
        ignores=p.texts("ignores"),
        allows=p.texts("allows"),
        no_config=p.flag("no_config"),
        node_source=node_source_of(p, node=True),
        fixes=fixes_of(p),
        fix=p.flag("fix"),
        unsafe_fixes=p.flag("unsafe_fixes"),
        list_rules=p.flag("list_rules"),
        explain=p.maybe_text("explain"),
    )


@cli.command(
    epilog=examples(
        "compose-net harden docker-compose.yml --bind 10.0.0.5",
        "compose-net harden docker-compose.yml --bind 10.0.0.5 --diff",
        "compose-net harden docker-compose.yml --resolve local",
        "compose-net harden stack.yml --inventory nodes.yaml",
        "compose-net harden docker-stack.yml --target stack",
    )
)
@click.argument("files", nargs=-1, type=INPUTS)
@project_options
@click.option(
    "--edit-outside",
    is_flag=True,
    help="Also edit a project's files outside the project directory, and the target of a "
    "symlink outside the project root (reading them too).",
)
@click.option(
    "--bind",
    "binds",
    multiple=True,
    metavar="IP",
    help="Internal address to bind to: one IPv4 and/or one IPv6 (repeatable).",
)
@click.option(
    "--bind-var",
    metavar="NAME",
    help="Write ${NAME:?...} as the host IP, filled in at deploy time.",
)
@click.option(
    "--allow",
    "allows",
    multiple=True,
    metavar="SERVICE[:PORT]",
    help="A port meant to be public: left as is and reported (repeatable).",
)
@click.option(
    "--rewrite-public",
    is_flag=True,
    help="Also rewrite ports bound explicitly to a public address.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the result here.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the result instead of writing.")
@click.option("--diff", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file would change.")
@click.option("--target", type=TARGETS, help=TARGET_HELP)
@env_file_option
@click.option("--no-config", is_flag=True, help="Ignore .compose-net.yaml and [tool.compose-net].")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Say nothing about the files hardened and the ports moved; warnings and errors stay.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Say what happens to each port, and the configuration file used.",
)
@click.option("--node", metavar="NAME", help="The node every service of these files runs on.")
@click.option(
    "--remap-conflicts",
    is_flag=True,
    help="Move a port that collides on its node to the nearest free one (6379 -> 6378).",
)
@click.option(
    "--stack-strategy",
    type=STACK_STRATEGIES,
    help="With --target stack: unpublish (default) removes the publication, internal-network "
    "puts the service on an attachable overlay network instead, host-mode publishes in host "
    "mode on nodes prepared with `compose-net node-setup`.",
)
@click.option(
    "--stack-network",
    metavar="NAME",
    help="With --stack-strategy internal-network: the overlay network (default: internal).",
)
@node_source_options
@stdin_filename_option
def harden(**params: object) -> int:
    """Bind exposed ports to internal addresses, editing only those entries."""
    from compose_net.commands import harden as command

    return command.main(invocation(params, harden_of))


def harden_of(p: Parsed) -> options.Harden:
    from compose_net.commands import options

    return options.Harden(
        inputs=inputs_of(p),
        node_source=node_source_of(p, node=True),
        fixes=fixes_of(p),
        allows=p.texts("allows"),
        target=p.maybe_text("target"),
        no_config=p.flag("no_config"),
        edit_outside=p.flag("edit_outside"),
        output=p.maybe_text("output"),
        to_stdout=p.flag("to_stdout"),
        diff=p.flag("diff"),
        check=p.flag("check"),
        quiet=p.flag("quiet"),
        verbose=p.flag("verbose"),
        stack_strategy=p.maybe_text("stack_strategy"),
        stack_network=p.maybe_text("stack_network"),
    )


@cli.command(
    epilog=examples(
        "compose-net validate compose.yaml",
        "compose-net validate docker-stack.yml --target stack",
    )
)
@click.argument("files", nargs=-1, type=INPUTS)
@project_options
@click.option(
    "--target",
    type=click.Choice(["compose", "stack"]),
    default="compose",
    show_default=True,
    help="The schema: what docker compose accepts, or docker stack deploy.",
)
@env_file_option
def validate(**params: object) -> int:
    """Validate files against compose-net's Compose or stack schema."""
    from compose_net.commands import validate as command

    return command.main(invocation(params, validate_of))


def validate_of(p: Parsed) -> other_options.Validate:
    from compose_net.commands import other_options

    return other_options.Validate(
        inputs=inputs_of(p, stdin_filename=False), target=p.text("target")
    )


@cli.command(
    epilog=examples(
        "compose-net addr",
        "compose-net addr service ipv4",
        "compose-net addr --cidr 10.0.0.0/8",
    )
)
@click.argument("words", nargs=-1, metavar="[public|service] [ipv4|ipv6]")
@click.option("--interface", metavar="NAME", help="Only this interface's addresses.")
@click.option("--cidr", metavar="CIDR", help="Only addresses inside this network.")
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help=FORMAT_HELP
)
def addr(**params: object) -> int:
    """This host's addresses and their class; with a class and a family, the one address to use.

    `service` addresses are internal (RFC 1918, 100.64.0.0/10, fc00::/7), `public` ones global;
    loopback, link-local and container bridges are neither. `compose-net addr service ipv4`
    prints exactly one address, or exits 2 saying why there is none or several.
    """
    from compose_net.commands import addr as command

    return command.main(invocation(params, addr_of))


def addr_of(p: Parsed) -> other_options.Addr:
    from compose_net.commands import other_options

    return other_options.Addr(
        words=p.texts("words"),
        interface=p.maybe_text("interface"),
        cidr=p.maybe_text("cidr"),
        fmt=p.text("fmt"),
    )


@cli.command(
    epilog=examples(
        "compose-net server",
        "compose-net server --stdio",
    )
)
@click.option("--stdio", is_flag=True, help="Speak on standard input and output (the default).")
def server(**params: object) -> int:
    """Run the language server: check's findings and harden's fixes in an editor (LSP).

    Settings: the project's .compose-net.yaml first, then the editor's (bind, bind-var,
    inventory, resolve, target). The server never writes a file; see docs/editors.md.
    """
    invocation(params, server_of)  # standard input and output: the one transport
    from compose_net.server import lsp

    return lsp.serve()


def server_of(p: Parsed) -> other_options.Server:
    from compose_net.commands import other_options

    return other_options.Server(stdio=p.flag("stdio"))


@cli.command(
    epilog=examples(
        "compose-net nodes --resolve local",
        "compose-net nodes --resolve docker --format yaml > nodes.yaml",
        "compose-net nodes --inventory nodes.yaml",
    )
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "yaml"]),
    default="text",
    show_default=True,
    help="yaml writes a node inventory file.",
)
@node_source_options
def nodes(**params: object) -> int:
    """Print the node table the resolvers see (--format yaml: as an inventory file).

    Without --inventory or --resolve: the configuration's inventory or resolve.
    """
    from compose_net.commands import nodes as command

    return command.main(invocation(params, nodes_of))


def nodes_of(p: Parsed) -> other_options.Nodes:
    from compose_net.commands import other_options

    return other_options.Nodes(node_source=node_source_of(p), fmt=p.text("fmt"))


@cli.command(
    "node-setup",
    epilog=examples(
        "compose-net node-setup --node node-2 --inventory nodes.yaml",
        "compose-net node-setup --node node-2 --resolve docker",
    ),
)
@click.option("--node", metavar="NAME", help="The node (name, hostname or ID) to set up.")
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help=FORMAT_HELP
)
@node_source_options
def node_setup(**params: object) -> int:
    """Print the engine setup that binds a node's host-mode stack ports to its internal IPv4.

    The node's docker_gwbridge must be created with host_binding_ipv4 before it joins the
    swarm (or after `docker swarm leave`); the binding is IPv4-only. Use it with
    `compose-net harden --target stack --stack-strategy host-mode`.
    """
    from compose_net.commands import node_setup as command

    return command.main(invocation(params, node_setup_of))


def node_setup_of(p: Parsed) -> other_options.NodeSetup:
    from compose_net.commands import other_options

    return other_options.NodeSetup(node_source=node_source_of(p, node=True), fmt=p.text("fmt"))


# --- live checks: audit and probe ---------------------------------------------------------------


def fleet_options(command: _Command) -> _Command:
    """``--nodes`` and how many nodes are read at once, for how long."""
    options = (
        click.option(
            "--nodes",
            is_flag=True,
            help="Every node of the inventory (--inventory, or the configuration's), each "
            "through its own engine (engine, context or env-file in the inventory).",
        ),
        click.option(
            "--jobs",
            type=click.IntRange(1, 1024),
            metavar="N",
            help="With --nodes: nodes read at once (default: 4 per CPU).",
        ),
        click.option(
            "--node-timeout",
            type=click.FloatRange(min=0.05, max=600),
            metavar="S",
            help="With --nodes (or audit --watch): seconds before a node that has not "
            "answered is unreachable (default: 10).",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


@cli.command(
    epilog=examples(
        "compose-net audit",
        "compose-net audit --project shop --file compose.yaml",
        "compose-net audit --nodes --inventory nodes.yaml",
        "compose-net audit --nodes --format openmetrics -o /var/lib/node_exporter/cn.prom",
        "compose-net audit --nodes --watch --metrics-listen 127.0.0.1:9779",
    )
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "openmetrics"]),
    default="text",
    show_default=True,
    help="text for a person, json for a program (JSON Lines with --watch), openmetrics for "
    "Prometheus (the text format node_exporter's textfile collector reads).",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False),
    help="Write the report to this file (replaced atomically).",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Audit once, then follow each engine's events and print a line, with a timestamp, "
    "for each change of verdict; until SIGINT or SIGTERM (SIGHUP re-reads the inventory and "
    "the configuration).",
)
@click.option(
    "--metrics-listen",
    metavar="HOST:PORT",
    help="With --watch: serve the metrics on http://HOST:PORT/metrics.",
)
@click.option(
    "--project",
    metavar="NAME",
    help="Only this Compose project's containers (or this stack's services).",
)
@click.option(
    "--file",
    "file",
    type=INPUT,
    metavar="FILE",
    help="Compare the running bindings with what FILE declares; report drift.",
)
@env_file_option
@fleet_options
@node_source_options
def audit(**params: object) -> int:
    """List running containers' port bindings and who can reach them (exit 1 when exposed).

    The engine is the one the docker CLI would use (DOCKER_HOST, the TLS variables,
    DOCKER_CONTEXT or the current context). On a swarm manager, services are listed too.
    With --nodes: every node of the inventory, each through its own engine, in parallel
    (exit 1 when anything is exposed or a node is unreachable, 2 when no node answered).
    A port the configuration allows (allow:) is a note, not exposed. --watch keeps going
    whatever a node does and exits 0 when stopped.
    """
    from compose_net.commands import audit as command

    return command.main(invocation(params, audit_of))


def audit_of(p: Parsed) -> other_options.Audit:
    from compose_net.commands import other_options

    return other_options.Audit(
        fmt=p.text("fmt"),
        output=p.maybe_text("output"),
        watch=p.flag("watch"),
        metrics_listen=p.maybe_text("metrics_listen"),
        project=p.maybe_text("project"),
        file=p.maybe_text("file"),
        env_files=p.texts("env_files"),
        fleet=fleet_of(p),
        node_source=node_source_of(p),
    )


@cli.command(
    epilog=examples(
        "compose-net probe 203.0.113.10 compose.yaml",
        "compose-net probe 203.0.113.10 --from-docker",
    )
)
@click.argument("address", required=False)
@click.argument("files", nargs=-1, type=INPUTS)
@click.option(
    "--from-docker",
    is_flag=True,
    help="Probe the ports the running containers publish instead of the files'.",
)
@click.option("--project", metavar="NAME", help="With --from-docker or --nodes: only this project.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.05, max=60),
    default=2.0,
    show_default=True,
    metavar="S",
    help="Seconds to wait for each port.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    default=64,
    show_default=True,
    metavar="N",
    help="Connections in flight at once.",
)
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help=FORMAT_HELP
)
@env_file_option
@fleet_options
@click.option(
    "--inventory",
    type=INPUT,
    metavar="FILE",
    help="With --nodes: the nodes (default: the configuration's inventory).",
)
@click.option(
    "--internal",
    is_flag=True,
    help="With --nodes: probe the internal addresses too (shown; no finding).",
)
def probe(**params: object) -> int:
    """Connect to every published TCP port at ADDRESS: open, refused or filtered (exit 1 if open).

    ADDRESS is the node's public address; nothing else is ever connected to. UDP ports are
    listed as not provable. With --nodes (and no ADDRESS): every node's public addresses in
    the inventory, for the ports its engine and the swarm publish (or the FILES' ports).
    """
    from compose_net.commands import probe as command

    return command.main(invocation(params, probe_of))


def probe_of(p: Parsed) -> other_options.Probe:
    from compose_net.commands import other_options
    from compose_net.unit import NodeSource

    return other_options.Probe(
        address=p.maybe_text("address"),
        files=p.texts("files"),
        from_docker=p.flag("from_docker"),
        project=p.maybe_text("project"),
        timeout=p.number("timeout"),
        concurrency=p.integer("concurrency"),
        fmt=p.text("fmt"),
        env_files=p.texts("env_files"),
        fleet=fleet_of(p),
        node_source=NodeSource(inventory=p.maybe_text("inventory")),
        internal=p.flag("internal"),
    )


# --- end of live checks --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; every outcome becomes an exit code here and nowhere else."""
    # A run keeps the files it parsed to the end and makes next to no cyclic garbage, so
    # the cyclic collector would only rescan their nodes, again and again: off while the
    # command runs (docs/performance.md).
    collecting = gc.isenabled()
    gc.disable()
    # everything printed for a person goes through one escape (compose_net.printable)
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = printable.wrap(stdout), printable.wrap(stderr)
    run = redaction.start()  # this run's values, printed as their names
    try:
        rv = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="compose-net",
            standalone_mode=False,
        )
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.UsageError as e:  # one line, as every other error
        where = f" (see {e.ctx.command_path} --help)" if e.ctx is not None else ""
        message = " ".join(e.format_message().split())
        print(f"compose-net: error: {message}{where}", file=sys.stderr)
        return EXIT_ERROR
    except click.ClickException as e:
        e.show()
        return EXIT_ERROR
    except click.Abort:
        print("compose-net: aborted", file=sys.stderr)
        return 130
    except ComposeNetError as e:
        print(f"compose-net: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except Exceeded as e:  # a bound passed where other errors are findings: the run stops
        print(f"compose-net: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except ModuleNotFoundError as e:  # a dependency removed after install: say what to install
        print(f"compose-net: error: {missing_module(e)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except OSError as e:  # a file the command could not read or write: which, and why
        from compose_net import source

        where = e.filename if isinstance(e.filename, str) else "compose-net"
        print(f"compose-net: error: {source.os_error(e, where)}", file=sys.stderr)
        return EXIT_ERROR
    except MemoryError:  # a limit set from outside (ulimit -v, a container) was reached
        print(
            "compose-net: error: out of memory: the input needs more than this process may "
            "use (the bounds in README's \"Bounds\" table keep inputs within reach; a lower "
            "bound stops sooner)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except RecursionError:  # only past a raised bound: the defaults keep well inside
        from compose_net import bounds

        print(
            "compose-net: error: the input nests deeper than this run can follow "
            f"(bound: {bounds.DEPTH.what}, {bounds.DEPTH.variable}={bounds.DEPTH.value()}; "
            "a lower bound stops sooner and names the place)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except Exception as e:  # never a traceback for a user
        print(f"compose-net: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        redaction.end(run)
        sys.stdout, sys.stderr = stdout, stderr
        if collecting:
            gc.enable()
    return rv if isinstance(rv, int) else 0
