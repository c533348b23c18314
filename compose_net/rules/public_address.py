"""A port bound to a public address.

An entry whose host IP is a routable address (anything that is not loopback,
not the wildcard and not in a private, shared or link-local range) listens
where the internet can reach it. Sometimes that is the point, a reverse
proxy's 443 for instance; then say so with `allow`, and `check` lists the
port as allowed instead of reporting it.

Private ranges: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`,
`100.64.0.0/10`, `169.254.0.0/16`, `fc00::/7`, `fe80::/10`. IPv4-mapped IPv6
addresses are judged by their IPv4 address.

Finding:

```yaml
services:
  web:
    image: nginx
    ports:
      - "203.0.113.10:8080:80"        # CN002
      - target: 80
        published: 8081
        host_ip: "2001:db8:1::10"      # CN002
```

No finding:

```yaml
services:
  web:
    image: nginx
    ports:
      - "10.176.226.219:8080:80"
      - "[fd00::10]:8081:80"
```

Fix: bind the port to the node's internal address instead
(`compose-net harden --rewrite-public`), or allow it: `--allow web:8080`,
an `allow:` entry in the configuration, or `# compose-net: allow reason` on
the entry's line.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_net.findings import Finding, Severity
from compose_net.rules.context import Context

ID = "CN002"
NAME = "public-address"
SEVERITY: Severity = "error"


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.target == "stack":
        return
    for item in ctx.entries:
        if item.error is not None or item.exposure != "public" or item.verdict.worst != "public":
            continue
        entry = item.entry
        yield ctx.finding(
            entry.node,
            f"{item.label} {item.display} is bound to the public address {entry.written_host_ip}",
            "bind it to the node's internal address (`compose-net harden --rewrite-public`), "
            "or allow it if it is meant to be public",
            entry=entry, exposure=item.exposure,
            fix=ctx.bind_fix(item, "unsafe", "--rewrite-public"),
        )
