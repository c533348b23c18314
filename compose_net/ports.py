"""The port model: what one ``ports:`` entry means, exactly as Docker Compose reads it.

Pure code, no YAML. Two views of an entry:

* the *written* view (:func:`split_short`), symbolic: ``${VAR}`` stays a token, so a
  rewrite can change the host IP and keep every variable as it was;
* the *normalised* view (:func:`normalize_short`, :func:`normalize_long`), after
  interpolation: the objects ``docker compose config --format json`` prints, with
  Compose's accept/reject verdict and its expansion of ranges.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Literal, NamedTuple, Union

from compose_net.errors import ComposeNetError
from compose_net.interpolate import Traced, has_variables, names_in, references
from compose_net.policy import addresses

Exposure = Literal["all-interfaces", "public", "private", "loopback", "variable"]
PortObject = dict[str, Union[str, int]]

PROTOCOLS = ("tcp", "udp", "sctp")
LONG_KEYS = ("target", "published", "host_ip", "protocol", "mode", "name", "app_protocol")
_DIGITS = re.compile(r"[0-9]+")
#: entry texts whose split and objects are kept: a file's distinct short entries, up to this
#: many, are each split and normalised once per run, not once per step that reads them
_KEPT = 1 << 16


class PortError(ComposeNetError):
    """A port entry that Docker Compose would reject.

    ``message`` is Compose's, quoting the text it is about. ``part`` (``host IP``, ``host
    port``...), ``span`` (where that text is in the entry) and ``problem`` (``is not an IP
    address``) say the same without quoting anything: :func:`without_values` builds the
    message from them when the text came from a variable.
    """

    def __init__(
        self,
        message: str,
        *,
        part: str = "entry",
        span: tuple[int, int] | None = None,
        problem: str = "is not valid",
    ) -> None:
        super().__init__(message)
        self.part = part
        self.span = span
        self.problem = problem


def without_values(error: PortError, traces: tuple[Traced, ...]) -> PortError:
    """``error`` about text that variables filled (``traces``, compose_net.interpolate):
    a message that names those variables and says what is wrong, quoting nothing
    ("the host IP from ${DATABASE_URL} is not an IP address"). An error about text written
    in the file keeps Compose's message."""
    names = names_in(traces, *error.span) if error.span is not None else names_in(traces)
    if not names:
        return error
    message = f"the {error.part} from {references(names)} {error.problem}"
    return PortError(message, part=error.part, problem=error.problem)


# --------------------------------------------------------------------------- written view


def _split_outside_vars(text: str, sep: str) -> list[str]:
    """Split on ``sep`` except inside ``${...}`` (nested braces counted)."""
    if "$" not in text:  # no variable: nothing to keep whole
        return text.split(sep)
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "$" and i + 1 < n and text[i + 1] == "$":
            i += 2
            continue
        if c == "$" and i + 1 < n and text[i + 1] == "{":
            depth += 1
            i += 2
            continue
        if c == "}" and depth:
            depth -= 1
        elif c == sep and not depth:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


class ShortSpec(NamedTuple):
    """A short-syntax entry split the way Compose splits it, variables kept whole.

    ``host_ip`` is the IP text without brackets (None when the entry has none);
    ``host_port`` is None for a container-only entry and ``""`` for ``IP::PORT``;
    ``container`` keeps its ``/protocol`` suffix.
    """

    text: str
    host_ip: str | None
    bracketed: bool
    host_port: str | None
    container: str

    @property
    def protocol(self) -> str:
        """The protocol as written (lower-cased unless it is a variable), ``tcp`` when absent."""
        parts = _split_outside_vars(self.container, "/")
        if len(parts) < 2 or not parts[1]:
            return "tcp"
        proto = "/".join(parts[1:])
        return proto if has_variables(proto) else proto.lower()

    def with_host_ip(self, ip: str) -> str:
        """The entry's text with ``ip`` as its host IP, everything else as written."""
        ip_text = f"[{ip}]" if ":" in ip and not ip.startswith("$") else ip
        host = self.host_port if self.host_port is not None else ""
        return f"{ip_text}:{host}:{self.container}"


@functools.lru_cache(maxsize=_KEPT)
def split_short(text: str) -> ShortSpec:
    """Split a short-syntax entry as written (no validation); the result is immutable and
    kept (a port list shared through an anchor is split once, not once per service)."""
    parts = _split_outside_vars(text, ":")
    n = len(parts)
    if n == 1:
        return ShortSpec(text, None, False, None, parts[0])
    if n == 2:
        return ShortSpec(text, None, False, parts[0], parts[1])
    ip = ":".join(parts[:-2])
    bracketed = ip.startswith("[") and ip.endswith("]")
    if bracketed:
        ip = ip[1:-1]
    return ShortSpec(text, ip, bracketed, parts[-2], parts[-1])


def exposure_of(host_ip: str | None) -> Exposure | None:
    """Exposure of a host IP as written; None when it is not a valid address."""
    if host_ip is not None and has_variables(host_ip):
        return "variable"
    return addresses.classify_text(host_ip)


# --------------------------------------------------------------------------- normalised view


def _parse_port(text: str) -> int | None:
    """strconv.ParseUint(text, 10, 16): digits only, at most 65535."""
    if not _DIGITS.fullmatch(text) or len(text.lstrip("0")) > 5:
        return None
    value = int(text)
    return value if value <= 65535 else None


def _parse_range(text: str) -> tuple[int, int] | None:
    if not text:
        return None
    if "-" not in text:
        port = _parse_port(text)
        return None if port is None else (port, port)
    parts = text.split("-")
    start = _parse_port(parts[0])
    end = _parse_port(parts[1])
    if start is None or end is None or end < start:
        return None
    return start, end


def _compose_split(raw: str) -> tuple[str, str, str]:
    """The IP, host port and container part of ``raw``, as Compose splits it."""
    (ip_from, ip_to), (host_from, host_to), (container_from, container_to) = port_spans(raw)
    return raw[ip_from:ip_to], raw[host_from:host_to], raw[container_from:container_to]


def _split_proto(raw: str) -> tuple[str, str]:
    port, _, proto = raw.partition("/")
    if not port:
        return "", ""
    return proto or "tcp", port


_NOT_AN_IP = "is not an IP address"
_NOT_A_PORT = "is not a port (1-65535) or a range of ports"


def _strip_brackets(ip: str, span: tuple[int, int]) -> str:
    if not ip.startswith("["):
        return ip
    end = ip.find("]")
    if end < 0:
        raise PortError(
            f"invalid IP address {ip}: missing ']' in address", part="host IP", span=span,
            problem="is missing a ']'",
        )  # fmt: skip
    if end != len(ip) - 1 or "[" in ip[1:] or "]" in ip[1:end]:
        raise PortError(f"invalid IP address {ip}", part="host IP", span=span, problem=_NOT_AN_IP)
    return ip[1:end]


def port_spans(raw: str) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Where the IP, host port and container part are in ``raw``: the container part after
    the last ``:``, the host port before it, the IP (colons and all) before that."""
    last = raw.rfind(":")
    if last < 0:
        return (0, 0), (0, 0), (0, len(raw))
    second = raw.rfind(":", 0, last)
    if second < 0:
        return (0, 0), (0, last), (last + 1, len(raw))
    return (0, second), (second + 1, last), (last + 1, len(raw))


def port_count(raw: str) -> int:
    """How many objects :func:`normalize_short` makes of ``raw``, without making them:
    the container range's length (1 when ``raw`` is not a valid entry, or not yet
    interpolated)."""
    if "-" not in raw:
        return 1
    container = _compose_split(raw)[2].partition("/")[0]
    parsed = _parse_range(container)
    return 1 if parsed is None else parsed[1] - parsed[0] + 1


def normalize_short(raw: str) -> list[PortObject]:
    """Compose's objects for one interpolated short-syntax entry (ranges expanded).

    Short entries are kept (an anchored port list is normalised once, not once per
    service); callers get copies of the objects.
    """
    if port_count(raw) > 16:
        return _normalize_short(raw)
    return [dict(obj) for obj in _kept_short(raw)]


@functools.lru_cache(maxsize=_KEPT)
def _kept_short(raw: str) -> tuple[PortObject, ...]:
    return tuple(_normalize_short(raw))


def forget() -> None:
    """Let go of the kept splits and objects (harden, once it no longer needs the original's,
    before it parses the text it wrote)."""
    split_short.cache_clear()
    _kept_short.cache_clear()


def _normalize_short(raw: str) -> list[PortObject]:
    ip_at, host_at, container_at = port_spans(raw)
    ip, host_port, container_raw = (raw[start:end] for start, end in (ip_at, host_at, container_at))
    proto, container = _split_proto(container_raw)
    port_at = (container_at[0], container_at[0] + len(container))
    proto = proto.lower()
    if proto not in PROTOCOLS:
        raise PortError(
            f"invalid proto: {proto}", part="protocol",
            span=(port_at[1], container_at[1]) if container else container_at,
            problem="is not tcp, udp or sctp",
        )  # fmt: skip
    if ip:
        ip = _strip_brackets(ip, ip_at)
        if addresses.parse_ip(ip) is None:
            raise PortError(
                f"invalid IP address: {ip}", part="host IP", span=ip_at, problem=_NOT_AN_IP
            )
    if not container:
        raise PortError(
            f"no port specified: {raw}<empty>", part="container port", span=(0, len(raw)),
            problem="is empty",
        )  # fmt: skip
    c_range = _parse_range(container)
    if c_range is None:
        raise PortError(
            f"invalid containerPort: {container}", part="container port", span=port_at,
            problem=_NOT_A_PORT,
        )  # fmt: skip
    h_range = (0, 0)
    if host_port:
        parsed = _parse_range(host_port)
        if parsed is None:
            raise PortError(
                f"invalid hostPort: {host_port}", part="host port", span=host_at,
                problem=_NOT_A_PORT,
            )  # fmt: skip
        h_range = parsed
    c_start, c_end = c_range
    h_start, h_end = h_range
    if host_port and c_end - c_start != h_end - h_start and c_end != c_start:
        raise PortError(
            f"invalid ranges specified for container and host Ports: {container} and {host_port}",
            part="host and container port ranges", span=(host_at[0], port_at[1]),
            problem="differ in length",
        )
    if c_start == 0:
        raise PortError(
            "the port is missing a target (container) port", part="container port",
            span=port_at, problem="is 0",
        )  # fmt: skip
    count = c_end - c_start + 1
    keyed: list[tuple[str, PortObject]] = []
    for i in range(count):
        obj: PortObject = {"mode": "ingress"}
        if ip:
            obj["host_ip"] = ip
        obj["target"] = c_start + i
        if host_port:
            published = str(h_start + i)
            if count == 1 and h_start != h_end:
                published += f"-{h_end}"
            obj["published"] = published
        obj["protocol"] = proto
        keyed.append((f"{c_start + i}/{proto}", obj))
    keyed.sort(key=lambda kv: kv[0])
    return [obj for _, obj in keyed]


def short_text(value: object) -> str:
    """The string Compose reads from a short-syntax YAML value (an int becomes its digits)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PortError(f"invalid port entry {value!r}: expected a string, a number or a mapping")
    return str(value)


def normalize_long(entry: Mapping[str, object]) -> PortObject:
    """Compose's object for one interpolated long-syntax entry.

    Compose is lenient here and so is this function: ``published`` may be any
    string (an integer becomes its digits), ``protocol`` and ``mode`` any string,
    kept as written; an empty string drops the key. ``target`` is read as an
    unsigned 32-bit number, wrapping around past 4294967295, and a target of 0 is
    left out. A key that is present must not be null. The schema and ``check``
    are stricter.
    """
    for key in entry:
        if key not in LONG_KEYS and not key.startswith("x-"):
            raise PortError(f"additional property {key!r} is not allowed in a port mapping")
    if "target" not in entry:
        raise PortError("the port mapping is missing a target port")
    obj: PortObject = {}
    for key in ("name", "app_protocol"):
        if key in entry:
            value = _as_str(key, entry[key])
            if value:
                obj[key] = value
    mode = _as_str("mode", entry.get("mode", "ingress"))
    if mode:
        obj["mode"] = mode
    if "host_ip" in entry:
        ip = _as_str("host_ip", entry["host_ip"])
        if ip.startswith("[") or addresses.parse_ip(ip) is None:
            raise PortError(f"invalid IP address: {ip}", part="host_ip", problem=_NOT_AN_IP)
        obj["host_ip"] = ip
    target = _as_target(entry["target"])
    if target:
        obj["target"] = target
    if "published" in entry:
        published = entry["published"]
        if isinstance(published, bool) or not isinstance(published, (int, str)):
            raise PortError(f"published must be an integer or a string, not {_shown(published)}")
        if published != "":
            obj["published"] = str(published)
    protocol = _as_str("protocol", entry.get("protocol", "tcp"))
    if protocol:
        obj["protocol"] = protocol
    return obj


def _shown(value: object) -> str:
    return "null" if value is None else repr(value)


def _as_str(key: str, value: object) -> str:
    if isinstance(value, str):
        return value
    raise PortError(f"{key} must be a string, not {_shown(value)}")


_UINT32 = 2**32


def _as_target(value: object) -> int:
    """Compose reads ``target`` as a uint32: an integer (or integral float) that is not
    negative, wrapped modulo 2**32; a string goes through ``strconv.Atoi`` first."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?0*[0-9]{1,19}", value):
        number = int(value)
        if not -(2**63) <= number < 2**63:
            number = None
    if number is None:
        raise PortError(
            f"invalid target port: {_shown(value)}", part="target", problem="is not a number"
        )
    if number < 0:
        raise PortError(
            f"invalid target port: {number} is negative", part="target", problem="is negative"
        )
    return number % _UINT32
