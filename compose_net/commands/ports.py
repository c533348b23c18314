"""``compose-net ports``: what each service really publishes, as Compose reads it."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from compose_net import model, printable, redaction, unit
from compose_net.commands import inputs
from compose_net.config import Lookup
from compose_net.errors import ComposeNetError
from compose_net.policy import addresses
from compose_net.policy.addresses import Network
from compose_net.project import Project, Spec, file_key, load_files
from compose_net.report import Report

if TYPE_CHECKING:
    from compose_net.commands import other_options


def file_ports(
    path: str,
    env_files: Sequence[str] = (),
    *,
    interpolate: bool = True,
    outside: bool = False,
    show_values: bool = False,
    stdin_filename: str | None = None,
    lookup: Lookup | None = None,
) -> dict[str, Any]:
    """``{"path", "services": {name: {"ports": [...]}}}`` for one file, a project of its own.

    Each port is Compose's object (the keys and value types ``docker compose config
    --format json`` prints) plus ``line``, ``column`` and ``exposure``, and ``file`` when
    the entry is written in another file (``extends: {file: ...}``, ``include:``), which
    must be in the file's folder unless ``outside``. Standard input (``-``) is placed
    with ``stdin_filename``. ``lookup``: the run's configuration searches.
    """
    spec = Spec.of_file(path, env_files, outside, stdin_filename)
    if interpolate:
        project = spec.load()
    else:  # variables as written: no env file is read
        folder = spec.directory or ("." if path == "-" else (os.path.dirname(path) or "."))
        project = load_files([path], folder, None, outside=outside)
    internal = unit.configuration(
        path, stdin_filename=stdin_filename, lookup=lookup
    ).internal_networks()
    services = project_ports(project, internal, show_values=show_values)["services"]
    named = file_key(path)
    for data in services.values():
        for port in data["ports"]:
            if file_key(port["file"]) == named:
                del port["file"]
    return {"path": path, "services": services}


def project_ports(
    project: Project,
    internal: tuple[Network, ...] = addresses.INTERNAL_NETWORKS,
    *,
    show_values: bool = False,
) -> dict[str, Any]:
    """The merged ports of a project, in the shape of :func:`file_ports`.

    A value variables filled is shown as their references (``"${HOST_IP}"``): no value of
    the environment or an env file is printed, unless ``show_values`` (``--show-values``)
    asks for them.

    ``path`` is the project's first file and ``project`` names its directory and files;
    every port has ``file``, ``line`` and ``column`` (where its entry is written), and
    ``merges`` lists the earlier entries with the same key that it replaced, if any.
    An address in ``internal`` is ``private``, as check judges it.
    """
    services: dict[str, Any] = {}
    env = {id(part.document): part.env for part in project.documents}
    for name, ports in project.services.items():
        objects = []
        for published in ports:
            port = published.port
            # a value from the environment or an env file is shown as its variables
            read_with = env.get(id(published.declared.document), project.env)
            obj: dict[str, Any] = dict(
                port.obj if show_values else model.value_free(port.entry, port.obj, read_with)
            )
            obj["file"] = published.declared.name
            obj["line"] = port.entry.position.line
            obj["column"] = port.entry.position.column
            obj["exposure"] = port.exposure
            written = port.entry.written_host_ip
            if port.exposure == "public" and written and internal != addresses.INTERNAL_NETWORKS:
                address = addresses.parse_ip(written)
                if address is not None:
                    obj["exposure"] = addresses.classify(address, internal)
            if published.replaced:
                obj["merges"] = [
                    {
                        "file": d.name,
                        "line": d.port.entry.position.line,
                        "column": d.port.entry.position.column,
                    }
                    for d in published.replaced
                ]
            objects.append(obj)
        services[name] = {"ports": objects}
    first = project.files[0] if project.files else project.directory
    info = {"directory": project.directory, "files": list(project.files)}
    return {"path": first, "project": info, "services": services}


def _text(files: list[dict[str, Any]]) -> str:
    rows = [("LOCATION", "SERVICE", "HOST IP", "PUBLISHED", "TARGET", "MODE", "EXPOSURE")]
    for f in files:
        for service, data in f["services"].items():
            for p in data["ports"]:
                rows.append(
                    (
                        f"{p.get('file', f['path'])}:{p['line']}:{p['column']}",
                        service,
                        str(p.get("host_ip", "*")),
                        str(p.get("published", "-")),
                        f"{p.get('target', '-')}/{p.get('protocol', '')}",
                        str(p.get("mode", "")),
                        str(p["exposure"]),
                    )
                )
    # as printed: only the first cell starts a line, so only it has a leading ':' escaped
    # (an IPv6 host IP such as :: stays as written)
    cells = [
        [(printable.name if i == 0 else printable.one_line)(redaction.redact(c))
         for i, c in enumerate(r)]
        for r in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)
    return "\n".join(lines) + "\n"


def run(
    paths: Sequence[str],
    *,
    fmt: str,
    interpolate: bool,
    env_files: Sequence[str] = (),
    project: Spec | None = None,
    outside: bool = False,
    show_values: bool = False,
    stdin_filename: str | None = None,
) -> int:
    """Print the ports of each file of ``paths``, or of ``project`` merged (``show_values``:
    see :func:`project_ports`)."""
    if show_values:  # asked for: printed as they are (compose_net.redaction notes none)
        redaction.keep_values()
    report = Report()
    lookup = Lookup()  # the run's: a configuration not read is warned about once
    files: list[dict[str, Any]] = []
    if project is not None:
        try:
            loaded = project.load(interpolate=interpolate)
            internal = unit.configuration_at(loaded.directory, lookup).internal_networks()
            files.append(project_ports(loaded, internal, show_values=show_values))
        except ComposeNetError as e:
            if e.path is None:
                raise  # no project to read: a usage error
            report.failure(e)
    for path in paths:
        try:
            files.append(
                file_ports(
                    path,
                    env_files,
                    interpolate=interpolate,
                    outside=outside,
                    show_values=show_values,
                    stdin_filename=stdin_filename,
                    lookup=lookup,
                )
            )
        except ComposeNetError as e:
            report.failure(e.with_path(path))
    if fmt == "json":
        printable.write_json(sys.stdout, {"files": files})
    elif files:
        sys.stdout.write(_text(files))
    return report.return_code


def main(opts: other_options.Ports) -> int:
    """The command line's ``ports``: FILE arguments, or the project -f names."""
    given = opts.inputs
    project = inputs.project_spec(given)
    return run(
        list(given.files),
        fmt=opts.fmt,
        interpolate=opts.interpolate,
        env_files=given.env_files,
        project=project,
        outside=given.read_outside,
        show_values=opts.show_values,
        stdin_filename=given.stdin_filename,
    )
