"""A port published by a swarm stack.

`docker stack deploy` drops the host IP of every port: a short-syntax IP is
ignored with a warning, long-syntax `host_ip` is rejected, and the port is
published on every node of the swarm (through the routing mesh, or with
`mode: host` on every node that runs a task), on all interfaces.

With `--target stack` every published port is reported (error). With the
default `--target compose`, a file that looks like a stack (a `*stack*`
file name, or swarm-only `deploy:` keys such as `replicas`, `placement` or
`mode: global`) gets the same finding as a warning, because binding its ports
to an address protects nothing once it is deployed as a stack.

Finding (`--target stack`):

```yaml
services:
  web:
    image: nginx
    ports:
      - "10.176.226.219:8080:80"   # CN005: the IP is ignored by swarm
```

No finding: a stack service with no `ports:`, reached over an overlay
network by the services that need it.

Fix: no rewrite of the file can help. Either keep the service off published
ports (attach its clients to an overlay network), or publish with
`mode: host` on nodes whose `docker_gwbridge` was created with
`com.docker.network.bridge.host_binding_ipv4=<internal address>` before
they joined the swarm; or allow the port if it is meant to be public.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_net.findings import Finding, Severity
from compose_net.rules.context import Context

ID = "CN005"
NAME = "swarm-published"
SEVERITY: Severity = "error"

HINT = ("swarm ignores host IPs: reach the service over an overlay network instead, or publish "
        "with mode: host on nodes whose docker_gwbridge binds the internal address; "
        "allow the port if it is meant to be public")


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.target == "stack":
        severity: Severity = SEVERITY
        why = "under docker stack deploy"
    elif ctx.stack_signals:
        severity = "warning"
        why = f"if deployed as a swarm stack, as it looks ({'; '.join(ctx.stack_signals[:2])})"
    else:
        return
    for item in ctx.entries:
        if item.error is not None:
            continue  # invalid-port (CN009) reports it
        entry = item.entry
        yield ctx.finding(
            entry.node,
            f"{item.label} {item.display} is published on every node of the swarm {why}: "
            "swarm ignores the host IP",
            HINT, entry=entry, exposure=item.exposure, severity=severity,
        )
