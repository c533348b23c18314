"""The same host port published twice on the same address.

Two entries that publish the same host port and protocol on overlapping
addresses cannot both start: the second container fails with "port is
already allocated", usually at deploy time on the node, long after review.
Addresses overlap when they are equal, when either side is every interface
(no host IP), or when one is `0.0.0.0` / `::` and the other an address of
that family. `10.0.0.5:80` and `10.0.0.6:80` do not clash.

Ports are compared after interpolation, across services and across the files
checked together. Files in one folder form one project, as Compose makes one
project of its `-f` files; files in different folders are separate projects
(a pre-commit run over a whole repository passes them all at once). The same
service publishing the very same port twice (in one file, or in two files
of a project, as an override file repeats its base file) is one port:
Compose merges identical ports. A service that `extends` another service of
its file publishes the base's ports too, so the two clash.

With `--inventory` or `--resolve`, services placed on different nodes do
not clash: each node has its own ports.

Under `--target stack` host IPs and nodes do not count (swarm ignores them), so any
two services publishing the same port clash.

A port range on the host side with a single container port (`8000-8010:80`)
lets Docker choose, so it is not compared; ranges on both sides are compared
port by port. Ports without a host port (`"80"`) get a random one.

Finding:

```yaml
services:
  web:
    image: nginx
    ports: ["8080:80"]
  api:
    image: api
    ports: ["127.0.0.1:8080:3000"]   # CN006: 8080/tcp is taken on every address
```

No finding:

```yaml
services:
  web:
    image: nginx
    ports: ["10.0.0.5:8080:80"]
  api:
    image: api
    ports: ["10.0.0.6:8080:3000", "8080:3000/udp"]
```

Fix: give one of them another host port, or bind them to different
addresses.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_net import addresses
from compose_net.findings import Finding, Severity
from compose_net.rules.context import Context, PortRef, address_of
from compose_net.rules.wrong_node_address import expected

ID = "CN006"
NAME = "duplicate-host-port"
SEVERITY: Severity = "error"


def overlaps(a: str | None, b: str | None) -> bool:
    """Do two host addresses (None: every interface) share a listening address?"""
    if a is None or b is None or a == b:
        return True
    for wildcard, other in ((a, b), (b, a)):
        if wildcard in ("0.0.0.0", "::") and addresses.family(other) == addresses.family(wildcard):
            return True
    return False


def same_node(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    """Unknown placement counts as one host; known nodes differ when their addresses do."""
    return a is None or b is None or bool(a & b)


def _where(address: str | None) -> str:
    return "on every interface" if address is None else f"on {address}"


def check(ctx: Context) -> Iterator[Finding]:
    for item in ctx.entries:
        if item.error is not None:
            continue
        entry = item.entry
        node = None
        if ctx.node_addresses is not None and ctx.target != "stack":
            found = expected(ctx.node_addresses, entry.service)
            node = frozenset(found) if found is not None else None
        reported = False
        for obj in item.objects:
            published = str(obj.get("published", ""))
            if not published.isdigit() or len(published) > 19:  # past any port; int() is slow
                continue
            port, proto = int(published), str(obj.get("protocol", "tcp"))
            address = None if ctx.target == "stack" else address_of(obj)
            key = tuple(sorted(obj.items()))
            ref = PortRef(
                ctx.path,
                entry.position.line,
                entry.position.column,
                entry.service,
                entry.index,
                address,
                key,
                node,
            )
            known = ctx.project.host_ports.setdefault((port, proto), [])
            if any(r.service == ref.service and r.obj == key for r in known):
                continue  # the same port again for the same service: Compose merges the two
            clash = next(
                (r for r in known if overlaps(r.address, address) and same_node(r.node, node)), None
            )
            known.append(ref)
            if clash is None or reported:
                continue
            reported = True
            yield ctx.finding(
                entry.node,
                f"{item.label} {item.display} publishes host port {port}/{proto} "
                f"{_where(address)}, which {clash.label} already publishes {_where(clash.address)}",
                "give one of them another host port, or bind them to different addresses",
                entry=entry,
                exposure=item.exposure,
            )
