"""Where a service's ports should be bound: one address for all, or per node."""

from __future__ import annotations

from compose_net.document import Service
from compose_net.harden import Binds, BindsFor


def static(binds: Binds) -> BindsFor:
    """Every service gets the same addresses."""

    def binds_for(service: Service) -> Binds:
        del service
        return binds

    return binds_for
