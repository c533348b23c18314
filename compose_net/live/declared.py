"""The published ports a Compose file declares, interpolated the way Compose does it."""

from __future__ import annotations

from collections.abc import Sequence

from compose_net import model
from compose_net.errors import ComposeNetError
from compose_net.live.bindings import Declared, parse_published
from compose_net.ports import PortObject


def declared_ports(
    path: str, env_files: Sequence[str] = (), stdin_filename: str | None = None
) -> list[Declared]:
    """Every port the project of ``path`` publishes (its ``include:`` and ``extends:``
    files too), one per Compose object, as ``docker compose -f path`` reads it."""
    from compose_net.project import Spec

    project = Spec.of_file(path, env_files, False, stdin_filename).load()
    envs = {id(part.document): part.env for part in project.documents}
    out: list[Declared] = []
    for service, merged in project.services.items():
        for one in merged:
            port = one.port
            obj = port.obj
            where = port.entry.position
            location = f"{one.declared.name}:{where.line}:{where.column}"
            target = obj.get("target")
            try:
                if not isinstance(target, int):
                    raise ComposeNetError(f"target port {target!r} is not a number")
                published = parse_published(obj.get("published"))
            except ComposeNetError as e:
                raise ComposeNetError(
                    f"services.{service}.ports[{port.entry.index}]: {e.message}",
                    path=one.declared.name, line=where.line, column=where.column,
                ) from None
            host_ip = obj.get("host_ip")
            # a value from the environment or an env file is shown as its variables
            env = envs.get(id(one.declared.document), project.env)
            shown = model.value_free(port.entry, obj, env)
            out.append(Declared(
                service=service,
                host_ip=str(host_ip) if host_ip else None,
                published=published,
                target=target,
                protocol=str(obj.get("protocol") or "tcp"),
                location=location,
                shown="" if shown == obj else _shown(shown),
            ))
    return out


def _shown(obj: PortObject) -> str:
    """``[IP:][PUBLISHED:]TARGET/PROTOCOL`` of an object whose values may be references."""
    ip, published = obj.get("host_ip"), obj.get("published")
    text = f"{published}:{obj.get('target')}" if published else str(obj.get("target"))
    text = f"{ip}:{text}" if ip else text
    return f"{text}/{obj.get('protocol') or 'tcp'}"
