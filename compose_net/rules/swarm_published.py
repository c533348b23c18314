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
network by the services that need it. A note only: a `mode: host` port of a
service pinned to the nodes `compose-net node-setup` prepared (placement
constraint `node.labels.compose-net.host-binding == internal`), whose
`docker_gwbridge` binds published ports to the internal IPv4 address; this
is what `harden --target stack --stack-strategy host-mode` writes.

Fix: no rewrite of the file can help. Either keep the service off published
ports (attach its clients to an overlay network), or publish with
`mode: host` on nodes whose `docker_gwbridge` was created with
`com.docker.network.bridge.host_binding_ipv4=<internal address>` before
they joined the swarm; or allow the port if it is meant to be public.
"""

from __future__ import annotations

from collections.abc import Iterator

from compose_net import stack
from compose_net.findings import Finding, Severity
from compose_net.rules.context import Context

ID = "CN005"
NAME = "swarm-published"
SEVERITY: Severity = "error"

HINT = stack.STACK_FIX_OPTIONS


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.target == "stack":
        severity: Severity = SEVERITY
        why = "under docker stack deploy"
    elif ctx.stack_signals:
        severity = "warning"
        why = ""
    else:
        return
    pinned = {s.name for s in ctx.doc.services if stack.pinned_to_internal_binding(s)}
    for item in ctx.entries:
        if item.error is not None:
            continue  # invalid-port (CN009) reports it
        entry = item.entry
        if (
            ctx.target == "stack"
            and entry.service in pinned
            and stack.publish_mode(entry) == "host"
        ):
            yield ctx.finding(
                entry.node,
                f"{item.label} {item.display} is published in host mode on the nodes prepared by "
                "`compose-net node-setup`, whose docker_gwbridge binds the internal IPv4 address",
                "check each node with `compose-net node-setup --node NAME`; "
                "the binding is IPv4 only",
                entry=entry,
                exposure=item.exposure,
                severity="note",
            )
            continue
        owner = ctx.services.get(item.base or entry.service)
        ports_node = owner.ports_node if owner is not None else None
        from compose_net.fixes import Fix  # a finding's fix: off the start-up path

        if ctx.target == "stack":
            fix = Fix(entry, ports_node, "safe", "apply the --stack-strategy", by_strategy=True)
        else:
            fix = Fix(entry, ports_node, "display-only", "no host IP protects a port under "
                      "docker stack deploy: harden it with --target stack")
        if ctx.target != "stack":
            shown = stack.evidence(ctx.doc, item.base or entry.service, ctx.stack_signals)
            why = f"if deployed as a swarm stack, as it looks ({'; '.join(shown[:2])})"
        yield ctx.finding(
            entry.node,
            f"{item.label} {item.display} is published on every node of the swarm {why}: "
            "swarm ignores the host IP",
            HINT,
            entry=entry,
            exposure=item.exposure,
            severity=severity,
            fix=fix,
        )
