"""A port bound to an internal address that is not its node's.

A hardened file binds each port to the internal address of the node that
runs the service. Copy the file to another node, or move the service, and
the address is wrong: Docker fails to bind it, or worse, the address now
belongs to a different machine on the private network.

This rule needs to know which node runs which service, so it only runs when
`check` is given a node inventory: `--inventory FILE` (the node table that
`harden --inventory` reads), or `--resolve local` / `--resolve docker`, with
`--node NAME` when the whole file runs on one node. Each service is placed
on its node the way `harden` places it (placement constraints,
`x-compose-net: {node: NAME}`, `--node`); a service that cannot be placed is
not judged.

Only concrete internal (private-range) host IPs are compared: loopback is
always the node's own, the wildcard and public addresses have rules of their
own, and a variable is filled in on the node.

Finding (with `db` placed on a node whose internal address is 10.176.0.12):

```yaml
services:
  db:
    image: postgres
    ports: ["10.176.0.11:5432:5432"]   # CN007: db runs on 10.176.0.12
```

No finding:

```yaml
services:
  db:
    image: postgres
    ports: ["10.176.0.12:5432:5432", "127.0.0.1:5433:5432"]
```

Fix: bind the port to the address of the node that runs the service
(`compose-net harden --bind <address>` on that node), or use a variable
filled in per node (`--bind-var`).
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_net import model
from compose_net.findings import Finding, Severity
from compose_net.policy import addresses
from compose_net.policy.binds import expected
from compose_net.rules.context import Context, address_of

ID = "CN007"
NAME = "wrong-node-address"
SEVERITY: Severity = "error"

def check(ctx: Context) -> Iterator[Finding]:
    if ctx.node_addresses is None or ctx.target == "stack":
        return
    for item in ctx.entries:
        if item.error is not None:
            continue
        entry = item.entry
        wanted = expected(ctx.node_addresses, entry.service)
        if not wanted:
            continue
        for obj in item.objects:
            address = address_of(obj)
            parsed = addresses.parse_ip(address) if address else None
            if parsed is None or addresses.classify(parsed, ctx.policy.internal) != "private":
                continue
            if str(addresses.unmapped(parsed)) in wanted:
                continue
            # a value variables filled is named, never printed
            address = str(model.value_free(entry, obj, ctx.env).get("host_ip", address))
            yield ctx.finding(
                entry.node,
                f"{item.label} {item.display} is bound to {address}, which is not an address "
                f"of the node that runs {entry.service} ({', '.join(sorted(wanted))})",
                f"bind it to {sorted(wanted)[0]}, or fill the address in per node with a variable "
                "(`compose-net harden --bind-var NAME`)",
                entry=entry, exposure=item.exposure,
                fix=ctx.rebind_fix(item),
            )
            break
