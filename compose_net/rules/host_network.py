"""A service on the host's network stack.

With `network_mode: host` a container shares the node's interfaces: every
port it opens listens wherever the program inside binds, usually all
interfaces, and no `ports:` entry is involved, so nothing can be rewritten to
narrow it. Swarm stacks get the same through the predefined `host` network
(`networks: {hostnet: {external: true, name: host}}`); that is reported too.

Finding:

```yaml
services:
  monitor:
    image: netdata/netdata
    network_mode: host          # CN004
```

No finding:

```yaml
services:
  monitor:
    image: netdata/netdata
    ports:
      - "10.176.226.219:19999:19999"
```

Fix: there is no rewrite for this one. Run the service on a bridge network
with its ports bound to the internal address, or, when host networking is
required, allow the service (`--allow monitor`, or `# compose-net: allow
reason` on the `network_mode` line) and make sure the program itself binds
to the internal address.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_net import yamltree
from compose_net.errors import ComposeNetError
from compose_net.findings import Finding, Severity
from compose_net.interpolate import interpolate
from compose_net.rules.context import Context

ID = "CN004"
NAME = "host-network"
SEVERITY: Severity = "warning"

HINT = ("this cannot be fixed by rewriting: use a bridge network with ports bound to the internal "
        "address, or allow the service and bind the program itself to the internal address")


def _text(ctx: Context, value: object) -> str | None:
    if not isinstance(value, str):
        return None
    if ctx.env is None:
        return value
    try:
        return interpolate(value, ctx.env)
    except ComposeNetError:
        return value


def _host_networks(ctx: Context) -> set[str]:
    """Names of top-level networks that are the engine's ``host`` network."""
    out: set[str] = set()
    networks = yamltree.get(ctx.doc.root, "networks")
    for key, _, node in yamltree.mapping_items(networks):
        value = yamltree.to_plain(node)
        if not isinstance(value, dict):
            continue
        external = value.get("external")
        name = value.get("name")
        if isinstance(external, dict):  # the old `external: {name: host}` form
            name = external.get("name", name)
            external = True
        if external is True and _text(ctx, name) == "host":
            out.add(key)
    return out


def check(ctx: Context) -> Iterator[Finding]:
    host_networks = _host_networks(ctx)
    for service in ctx.doc.services:
        if not yamltree.is_mapping(service.node):
            continue
        mode = service.get("network_mode")
        if yamltree.is_scalar(mode) and _text(ctx, yamltree.to_plain(mode)) == "host":
            yield ctx.finding(
                mode,
                f"services.{service.name} uses network_mode: host: every port the container "
                "opens is reachable on every interface of the node",
                HINT, service=service.name,
            )
            continue
        networks = service.get("networks")
        if not host_networks or networks is None:
            continue
        if yamltree.is_sequence(networks):
            names = [(item, yamltree.to_plain(item)) for item in networks.value]
        else:
            names = [(key, name) for name, key, _ in yamltree.mapping_items(networks)]
        for node, name in names:
            if name in host_networks:
                yield ctx.finding(
                    node,
                    f"services.{service.name} joins the host network ({name}): every port the "
                    "container opens is reachable on every interface of the node",
                    HINT, service=service.name,
                )
