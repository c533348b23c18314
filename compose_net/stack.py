"""Does a file look like a swarm stack? ``docker stack deploy`` ignores host IPs."""

from __future__ import annotations

import os
import re
from typing import Final

from compose_net import yamltree
from compose_net.document import Document, PortEntry, Service

#: deploy keys only swarm reads (Compose reads resources, restart_policy, labels).
SWARM_DEPLOY_KEYS = ("replicas", "placement", "update_config", "rollback_config", "endpoint_mode")
_STACK_NAME = re.compile(r"(^|[-_.])stack([-_.]|$)", re.IGNORECASE)

SWARM_WARNING = (
    "this file looks like a swarm stack ({why}): under `docker stack deploy` the host IPs are "
    "ignored and every published port stays public on every node; use --target stack"
)


#: Nodes whose docker_gwbridge binds host-mode ports to their internal IPv4 address carry this
#: label (``compose-net node-setup`` prints the commands); host-mode stacks are pinned to them.
HOST_BINDING_LABEL = "compose-net.host-binding"
HOST_BINDING_VALUE = "internal"
HOST_BINDING_CONSTRAINT = f"node.labels.{HOST_BINDING_LABEL} == {HOST_BINDING_VALUE}"

#: Where a published port of a stack listens, by publish mode.
STACK_EXPOSURE: Final = {
    "ingress": "published through the ingress routing mesh on every interface of every node",
    "host": "published on every interface of each node that runs a task (mode: host)",
}

#: The fixes for a published port of a stack; ``check`` and ``harden`` both name them.
STACK_FIX_OPTIONS = (
    "swarm ignores host IPs, so fix it with `compose-net harden --target stack --stack-strategy "
    "unpublish` (drop the publication: services on its overlay networks still reach it), "
    "`--stack-strategy internal-network` (an attachable overlay network for internal clients "
    "instead of a published port) or `--stack-strategy host-mode` (mode: host on nodes labelled "
    f"{HOST_BINDING_LABEL}={HOST_BINDING_VALUE}, whose docker_gwbridge binds the internal IPv4 "
    "address: see `compose-net node-setup --node NAME`); or allow the port if it is meant to be "
    "public"
)


def publish_mode(entry: PortEntry) -> str:
    """How swarm publishes an entry: ``host`` (long syntax, ``mode: host``) or ``ingress``."""
    return "host" if entry.syntax == "long" and entry.field_value("mode") == "host" else "ingress"


def pinned_to_internal_binding(service: Service) -> bool:
    """True when the service's placement constraints keep it on nodes set up by node-setup."""
    deploy = service.plain("deploy")
    placement = deploy.get("placement") if isinstance(deploy, dict) else None
    constraints = placement.get("constraints") if isinstance(placement, dict) else None
    if not isinstance(constraints, list):
        return False
    wanted = HOST_BINDING_CONSTRAINT.replace(" ", "")
    return any(isinstance(c, str) and c.replace(" ", "") == wanted for c in constraints)


def signals(doc: Document) -> list[str]:
    """Human-readable reasons to think ``doc`` is deployed with ``docker stack deploy``.

    Swarm-only deploy keys are a reason on their own. A stack-like file name
    (``full-stack.yml``) is one only when the content also has something swarm
    alone reads: a name by itself says nothing about how the file is deployed.
    """
    out: list[str] = []
    for service in doc.services:
        deploy = service.plain("deploy")
        if not isinstance(deploy, dict):
            continue
        keys = [k for k in SWARM_DEPLOY_KEYS if k in deploy]
        if deploy.get("mode") == "global":
            keys.append("mode: global")
        if keys:
            out.append(f"services.{service.name}.deploy: {', '.join(keys)}")
    name = os.path.basename(doc.path)
    if _STACK_NAME.search(os.path.splitext(name)[0]) and (out or _swarm_only_content(doc)):
        out.insert(0, f"file name {os.path.basename(doc.name)!r}")  # as shown
    return out


def evidence(doc: Document, service: str, signals_found: list[str]) -> list[str]:
    """The reasons of ``signals_found`` (:func:`signals` of ``doc``) that speak for
    ``service``: its own swarm-only keys, then what holds for the whole file, named as such
    (another service's keys are the file's evidence, not this service's)."""
    own = f"services.{service}.deploy:"
    mine = [s for s in signals_found if s.startswith(own)]
    others = [s for s in signals_found if s.startswith("services.") and not s.startswith(own)]
    whole = [f"the {s}" for s in signals_found if not s.startswith("services.")]
    if others:
        whole.append("swarm-only deploy keys of other services in the file")
    return mine + whole


def looks_like_stack(doc: Document) -> bool:
    """Whether ``doc`` looks deployed with ``docker stack deploy`` (``--target auto``)."""
    return bool(signals(doc))


def _swarm_only_content(doc: Document) -> bool:
    """Keys that only swarm acts on, short of the deploy keys :func:`signals` names itself:
    a publish mode or labels under ``deploy``, or an overlay network."""
    for service in doc.services:
        deploy = service.plain("deploy")
        if isinstance(deploy, dict) and ("mode" in deploy or "labels" in deploy):
            return True
    networks = yamltree.get(doc.root, "networks")
    for _, _, network in yamltree.mapping_items(networks):
        driver = yamltree.get(network, "driver")
        if yamltree.is_scalar(driver) and yamltree.scalar_value(driver) == "overlay":
            return True
    return False
