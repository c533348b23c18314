"""A port entry that Docker Compose or the engine rejects.

Each entry is read the way Compose reads it, after interpolation with the
project's environment: `[IP:][HOST:]CONTAINER[/PROTOCOL]` with port numbers
up to 65535, ranges `a-b` of matching length, a valid IP (IPv6 in brackets
or written out), and `tcp`, `udp` or `sctp`. Long syntax must have a
`target`, and only the keys `target`, `published`, `host_ip`, `protocol`,
`mode`, `name` and `app_protocol` (plus `x-` extensions).

Compose accepts some long-syntax values that the engine then refuses when
the container starts; this rule reports them before that: `published` that
is not a port or a port range, a `protocol` other than tcp/udp/sctp, a
`mode` other than `ingress` or `host`, and a `target` outside 1-65535.

A variable that is required (`${X:?...}`) and not set where `check` runs is
not an error here: the entry is checked with the variable as written, since
it is filled in at deploy time.

Finding:

```yaml
services:
  web:
    image: nginx
    ports:
      - "99999:80"          # CN009: invalid hostPort: 99999
      - "8080:80/icmp"      # CN009: invalid proto: icmp
      - "127.0.0.1:3001"    # CN009: an IP with no host port
      - target: 80
        published: http     # CN009: not a port
```

No finding:

```yaml
services:
  web:
    image: nginx
    ports:
      - "127.0.0.1:8080:80"
      - "[::1]:8443:443/tcp"
      - "127.0.0.1:9090-9091:8080-8081"
      - target: 53
        published: "5353"
        host_ip: 127.0.0.1
        protocol: udp
```

Fix: correct the entry as the message says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from compose_net.findings import Finding, Severity
from compose_net.interpolate import has_variables
from compose_net.ports import PROTOCOLS, PortObject
from compose_net.rules.context import Context

ID = "CN009"
NAME = "invalid-port"
SEVERITY: Severity = "error"

_RANGE = re.compile(r"0*([0-9]{1,19})(?:-0*([0-9]{1,19}))?")


def _published_ok(value: str) -> bool:
    m = _RANGE.fullmatch(value)
    if m is None:
        return False
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) is not None else start
    return start <= end <= 65535


def long_problem(obj: PortObject) -> str | None:
    """What the engine would refuse in a long-syntax object that Compose let through."""
    target = obj.get("target")
    symbolic = isinstance(target, str) and has_variables(target)
    if not symbolic and (not isinstance(target, int) or not 1 <= target <= 65535):
        return f"invalid target port: {target if target is not None else 0} (expected 1-65535)"
    published = obj.get("published")
    if isinstance(published, int):
        published = str(published)
    if isinstance(published, str) and not has_variables(published) and not _published_ok(published):
        return f"invalid published port: {published!r} (expected a port, or a range like 8000-8010)"
    protocol = str(obj.get("protocol", "tcp"))
    if not has_variables(protocol) and protocol.lower() not in PROTOCOLS:
        return f"invalid protocol: {protocol!r} (expected tcp, udp or sctp)"
    mode = str(obj.get("mode", "ingress"))
    if not has_variables(mode) and mode not in ("ingress", "host"):
        return f"invalid mode: {mode!r} (expected ingress or host)"
    return None


def check(ctx: Context) -> Iterator[Finding]:
    seen: set[int] = set()
    #: a shared entry's objects (one tuple for all its services) are judged once
    judged: dict[int, str | None] = {}
    for item in ctx.entries:
        entry = item.entry
        problem = item.error
        if problem is None and entry.syntax == "long":
            key = id(item.objects)
            if key in judged:
                problem = judged[key]
            else:
                problem = judged[key] = next(
                    (p for p in map(long_problem, item.objects) if p), None
                )
        if problem is None or id(entry.node) in seen:
            continue
        seen.add(id(entry.node))
        yield ctx.finding(entry.node, f"{item.label} {item.display}: {problem}",
                          "correct the entry: [IP:][HOST:]CONTAINER[/PROTOCOL], ports 1-65535",
                          entry=entry)
