"""The published ports a Compose file declares, interpolated the way Compose does it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from compose_net import document, envfile, model, source
from compose_net.errors import ComposeNetError
from compose_net.live.bindings import Declared, parse_published
from compose_net.ports import PortObject


def file_env(path: str, env_files: Sequence[str] = ()) -> dict[str, str]:
    """The variables Compose would interpolate ``path`` with (its folder's ``.env``)."""
    folder = os.path.dirname(os.path.abspath(path)) if path != "-" else os.getcwd()
    return envfile.load(folder, env_files)


def declared_ports(path: str, env: Mapping[str, str]) -> list[Declared]:
    """Every published port of every service in ``path``, one per Compose object."""
    doc = document.load(source.read(path))
    out: list[Declared] = []
    for service, ports in model.document_ports(doc, env).items():
        for port in ports:
            obj = port.obj
            where = port.entry.position
            location = f"{path}:{where.line}:{where.column}"
            target = obj.get("target")
            try:
                if not isinstance(target, int):
                    raise ComposeNetError(f"target port {target!r} is not a number")
                published = parse_published(obj.get("published"))
            except ComposeNetError as e:
                raise ComposeNetError(
                    f"services.{service}.ports[{port.entry.index}]: {e.message}",
                    path=path, line=where.line, column=where.column,
                ) from None
            host_ip = obj.get("host_ip")
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
