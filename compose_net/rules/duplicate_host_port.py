"""The same host port published twice on the same address.

Two entries that publish the same host port and protocol on overlapping
addresses cannot both start: the second container fails with "port is
already allocated", usually at deploy time on the node, long after review.
Addresses overlap when they are equal, when either side is every interface
(no host IP), or when one is `0.0.0.0` / `::` and the other an address of
that family. `10.0.0.5:80` and `10.0.0.6:80` do not clash.

Ports are compared after interpolation, across services and across the files
checked together. Services that can never run together do not clash: two
services whose `profiles` are both set and share no profile (a `cpu` and a
`gpu` variant of one server) are alternatives. Files in one folder form one
project, as Compose makes one project of its `-f` files; files in different
folders are separate projects (a pre-commit run over a whole repository
passes them all at once). The same service publishing the very same port
twice (in one file, or in two files of a project, as an override file
repeats its base file) is one port: Compose merges identical ports. A
service that `extends` another service of its file publishes the base's
ports too, so the two clash.

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

from compose_net.findings import Finding, Severity
from compose_net.policy.collisions import Use
from compose_net.rules.context import Context

ID = "CN006"
NAME = "duplicate-host-port"
SEVERITY: Severity = "error"


def check(ctx: Context) -> Iterator[Finding]:
    ledger = ctx.project.ledger
    for item in ctx.entries:
        if item.error is not None or item.overridden:
            continue
        entry = item.entry
        clash = None
        first: Use | None = None
        for use in ctx.host_ports(item):
            holder = ledger.take(use)
            if holder is not None and clash is None:
                clash, first = holder, use
        if clash is None or first is None:
            continue
        owner = ctx.services.get(item.base or entry.service)
        fix = None
        if owner is not None:
            from compose_net.fixes import Fix  # a finding's fix: off the start-up path

            fix = Fix(entry, owner.ports_node, "unsafe", "move it to a free host port",
                      requires="--remap-conflicts")
        yield ctx.finding(
            entry.node,
            f"{item.label} {item.display} publishes host port "
            f"{first.shown_port()}/{first.protocol} {first.where()}, which {clash.label} already "
            f"publishes {clash.where()}",
            "give one of them another host port, or bind them to different addresses",
            entry=entry,
            exposure=item.exposure,
            fix=fix,
        )
