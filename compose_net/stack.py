"""Does a file look like a swarm stack? ``docker stack deploy`` ignores host IPs."""

from __future__ import annotations

import os
import re

from compose_net.document import Document

#: deploy keys only swarm reads (Compose reads resources, restart_policy, labels).
SWARM_DEPLOY_KEYS = ("replicas", "placement", "update_config", "rollback_config", "endpoint_mode")
_STACK_NAME = re.compile(r"(^|[-_.])stack([-_.]|$)", re.IGNORECASE)

SWARM_WARNING = (
    "this file looks like a swarm stack ({why}): under `docker stack deploy` the host IPs are "
    "ignored and every published port stays public on every node; use --target stack"
)


def signals(doc: Document) -> list[str]:
    """Human-readable reasons to think ``doc`` is deployed with ``docker stack deploy``."""
    out: list[str] = []
    name = os.path.basename(doc.path)
    if _STACK_NAME.search(os.path.splitext(name)[0]):
        out.append(f"file name {name!r}")
    for service in doc.services:
        deploy = service.plain("deploy")
        if not isinstance(deploy, dict):
            continue
        keys = [k for k in SWARM_DEPLOY_KEYS if k in deploy]
        if deploy.get("mode") == "global":
            keys.append("mode: global")
        if keys:
            out.append(f"services.{service.name}.deploy: {', '.join(keys)}")
    return out
