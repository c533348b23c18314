"""What a document publishes: each entry's Compose objects, its exposure and its position."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from compose_net import yamltree
from compose_net.document import Document, PortEntry
from compose_net.errors import ComposeNetError
from compose_net.interpolate import InterpolationError, has_variables, interpolate
from compose_net.ports import (
    Exposure,
    PortError,
    PortObject,
    exposure_of,
    normalize_long,
    normalize_short,
    split_short,
)


@dataclass(frozen=True)
class Port:
    """One object Compose would print for ``entry`` (a range gives several)."""

    entry: PortEntry
    obj: PortObject
    exposure: Exposure

    @property
    def service(self) -> str:
        return self.entry.service


def entry_exposure(entry: PortEntry) -> Exposure:
    """Exposure of an entry's host IP as written ('variable' when it is interpolated)."""
    exposure = exposure_of(entry.written_host_ip)
    if exposure is None:
        raise PortError(f"invalid IP address: {entry.written_host_ip}")
    return exposure


def _interp(value: object, env: Mapping[str, str] | None) -> object:
    if env is None or not isinstance(value, str):
        return value
    return interpolate(value, env)


def _symbolic_short(text: str) -> list[PortObject]:
    spec = split_short(text)
    container, _, proto = spec.container.partition("/")
    obj: PortObject = {"mode": "ingress"}
    if spec.host_ip:
        obj["host_ip"] = spec.host_ip
    obj["target"] = int(container) if container.isdigit() else container
    if spec.host_port:
        obj["published"] = spec.host_port
    obj["protocol"] = proto.lower() if proto and not has_variables(proto) else (proto or "tcp")
    return [obj]


def normalize_entry(entry: PortEntry, env: Mapping[str, str] | None) -> list[PortObject]:
    """Compose's objects for ``entry``; ``env`` None keeps variables as written."""
    try:
        if entry.syntax == "short":
            assert entry.text is not None
            text = str(_interp(entry.text, env))
            if env is None and has_variables(text):
                return _symbolic_short(text)
            return normalize_short(text)
        fields = {key: _interp(yamltree.to_plain(node), env) for key, node in entry.fields.items()}
        if env is None and any(isinstance(v, str) and has_variables(v) for v in fields.values()):
            obj: PortObject = {}
            for key, value in fields.items():
                if isinstance(value, (str, int)) and not key.startswith("x-"):
                    obj[key] = value
            obj.setdefault("mode", "ingress")
            obj.setdefault("protocol", "tcp")
            return [obj]
        return [normalize_long(fields)]
    except (PortError, InterpolationError) as e:
        raise ComposeNetError(
            f"services.{entry.service}.ports[{entry.index}]: {e.message}",
            line=entry.position.line,
            column=entry.position.column,
        ) from None


def document_ports(doc: Document, env: Mapping[str, str] | None) -> dict[str, list[Port]]:
    """Every service with ports, in file order, and its Compose objects."""
    out: dict[str, list[Port]] = {}
    for service in doc.services:
        if not service.ports:
            continue
        ports: list[Port] = []
        for entry in service.ports:
            try:
                exposure = entry_exposure(entry)
            except PortError as e:
                raise ComposeNetError(
                    f"services.{entry.service}.ports[{entry.index}]: {e.message}",
                    path=doc.path, line=entry.position.line, column=entry.position.column,
                ) from None
            try:
                objects = normalize_entry(entry, env)
            except ComposeNetError as e:
                raise e.with_path(doc.path) from None
            ports.extend(Port(entry, obj, exposure) for obj in objects)
        out[service.name] = ports
    return out
