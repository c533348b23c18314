"""A port published on all interfaces.

Docker publishes a port on every interface of the host when the entry names
no host IP, or names the wildcard: `0.0.0.0`, `::`, `[::]`, or an empty IP
(`":80:80"`). On a node with a public address that is a port open to the
internet, whatever the firewall in front of Docker says: Docker writes its own
iptables rules ahead of most host firewalls.

A container-only entry such as `"3000"` is also published on all interfaces,
on a random host port.

Finding:

```yaml
services:
  cache:
    image: redis
    ports:
      - "6379:6379"           # CN001: every interface
      - "0.0.0.0:6380:6379"   # CN001: the wildcard, written out
      - target: 6379
        published: 6381       # CN001: long syntax without host_ip
```

No finding:

```yaml
services:
  cache:
    image: redis
    ports:
      - "10.176.226.219:6379:6379"
      - "127.0.0.1:6380:6379"
      - target: 6379
        published: 6381
        host_ip: 10.176.226.219
```

Fix: bind the port to the node's internal address (`compose-net harden`
does it and touches nothing else), or list the port under `allow` when it
is meant to be public.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_net.findings import Finding, Severity
from compose_net.rules.context import Context

ID = "CN001"
NAME = "all-interfaces"
SEVERITY: Severity = "error"
#: how to let compose-net make the change: it needs the node's address
HARDEN = (
    "`compose-net check --fix --bind ADDRESS` (or set `bind: ADDRESS` in .compose-net.yaml "
    "and run `compose-net check --fix`)"
)


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.target == "stack":
        return  # swarm ignores host IPs: swarm-published (CN005) says it for every port
    hints: dict[str, str] = {}
    for item in ctx.entries:
        if (
            item.error is not None
            or item.exposure != "all-interfaces"
            or item.ip_from_variable
            or item.verdict.worst != "all-interfaces"
        ):
            continue
        entry = item.entry
        written = entry.written_host_ip
        if entry.syntax == "short" and entry.short.host_port is None:
            what = "publishes a random host port on all interfaces"
        elif written:
            what = f"is published on all interfaces ({written})"
        else:
            what = "is published on all interfaces"
        if entry.syntax == "short":
            assert entry.text is not None
            hint = hints.get(entry.text, "")
            if not hint:  # one string for the entries of a shared list
                hint = hints[entry.text] = (
                    "bind it to the node's internal address, e.g. "
                    f'"{entry.short.with_host_ip("10.0.0.5")}", or run {HARDEN}'
                )
        else:
            hint = f"add `host_ip:` with the node's internal address, or run {HARDEN}"
        yield ctx.finding(entry.node, f"{item.label} {item.display} {what}", hint,
                          entry=entry, exposure=item.exposure, fix=ctx.bind_fix(item, "safe"))
