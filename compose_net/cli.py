"""The command line: option parsing only; each command's work lives in compose_net.commands."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from compose_net import __version__
from compose_net.errors import ComposeNetError
from compose_net.report import EXIT_ERROR

FORMATS = click.Choice(["text", "json"])
TARGETS = click.Choice(["compose", "stack"])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="compose-net")
def cli() -> None:
    """Keep Docker Compose and swarm stack ports off public interfaces."""


def _files(files: Sequence[str]) -> list[str]:
    if files:
        return list(files)
    from compose_net import discovery

    return discovery.default_files()


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--no-interpolate", is_flag=True, help="Keep ${VARIABLES} as written.")
@click.option("--env-file", "env_files", multiple=True, type=click.Path(dir_okay=False),
              help="Read variables from this file instead of the project's .env (repeatable).")
def ports(files: tuple[str, ...], fmt: str, no_interpolate: bool, env_files: tuple[str, ...]) -> int:
    """Print each service's published ports as Docker Compose reads them."""
    from compose_net.commands import ports as command

    return command.run(_files(files), fmt=fmt, interpolate=not no_interpolate, env_files=env_files)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--bind", "binds", multiple=True, metavar="IP",
              help="Internal address to bind to: one IPv4 and/or one IPv6 (repeatable).")
@click.option("--bind-var", metavar="NAME",
              help="Write ${NAME:?...} as the host IP, filled in at deploy time.")
@click.option("--allow", "allows", multiple=True, metavar="SERVICE[:PORT]",
              help="A port meant to be public: left as is and reported (repeatable).")
@click.option("--rewrite-public", is_flag=True,
              help="Also rewrite ports bound explicitly to a public address.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the result here.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the result instead of writing.")
@click.option("--diff", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file would change.")
@click.option("--target", type=TARGETS, default="compose", show_default=True,
              help="How the file is deployed: docker compose, or docker stack deploy.")
@click.option("--env-file", "env_files", multiple=True, type=click.Path(dir_okay=False))
@click.option("--no-config", is_flag=True, help="Ignore .compose-net.yaml and [tool.compose-net].")
@click.option("-q", "--quiet", is_flag=True)
@click.option("-v", "--verbose", is_flag=True, help="Say what happens to each port.")
def harden(
    files: tuple[str, ...],
    binds: tuple[str, ...],
    bind_var: str | None,
    allows: tuple[str, ...],
    rewrite_public: bool,
    output: str | None,
    to_stdout: bool,
    diff: bool,
    check: bool,
    target: str,
    env_files: tuple[str, ...],
    no_config: bool,
    quiet: bool,
    verbose: bool,
) -> int:
    """Bind exposed ports to internal addresses, editing only those entries."""
    from compose_net import resolvers
    from compose_net.commands import harden as command
    from compose_net.config import Allow
    from compose_net.harden import Binds

    paths = _files(files)
    if target == "stack":
        binds_for = resolvers.static(Binds(var="UNUSED"))
    else:
        binds_for = resolvers.static(Binds.parse(binds, bind_var))
    opts = command.Options(
        binds_for=binds_for,
        allows=[Allow.parse(a) for a in allows],
        rewrite_public=rewrite_public,
        output=output,
        stdout=to_stdout,
        diff=diff,
        check=check,
        target=target,
        quiet=quiet,
        verbose=verbose,
        env_files=env_files,
        use_config=not no_config,
    )
    return command.run(paths, opts)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--target", type=TARGETS, default="compose", show_default=True)
@click.option("--env-file", "env_files", multiple=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...], target: str, env_files: tuple[str, ...]) -> int:
    """Validate files against compose-net's Compose or stack schema."""
    import os

    from compose_net import envfile
    from compose_net.commands import validate as command

    paths = _files(files)
    folder = os.path.dirname(paths[0]) if paths and paths[0] != "-" else "."
    return command.run(paths, target=target, env=envfile.load(folder or ".", env_files))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; every outcome becomes an exit code here and nowhere else."""
    try:
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="compose-net",
                      standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        e.show()
        return EXIT_ERROR
    except click.Abort:
        print("compose-net: aborted", file=sys.stderr)
        return 130
    except ComposeNetError as e:
        print(f"compose-net: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # never a traceback for a user
        print(f"compose-net: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_ERROR
    return rv if isinstance(rv, int) else 0
