"""Many small stand-in Docker engines on unix sockets, for fleet tests and benchmarks.

Each engine answers the few API calls ``audit --nodes`` makes (``/version``, ``/info``,
``/containers/json``, ``/services``) with the data it was given, in the shapes a real
engine returns. A *silent* engine accepts connections and never answers, as a hung
daemon or a black-holed address would. Real engines are used wherever they run here
(tests/e2e); these exist to make 200 of them cheaply.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

API_VERSION = "1.41"


@dataclass
class FakeEngine:
    """What one engine reports."""

    name: str
    containers: Sequence[Mapping[str, Any]] = ()
    services: Sequence[Mapping[str, Any]] = ()
    #: "inactive", "manager" or "worker"
    swarm: str = "inactive"
    node_id: str = ""
    requests: list[str] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "ServerVersion": "20.10.24",
            "Swarm": {
                "NodeID": self.node_id,
                "LocalNodeState": "inactive" if self.swarm == "inactive" else "active",
                "ControlAvailable": self.swarm == "manager",
            },
        }

    def answer(self, path: str) -> Any:
        route = urlsplit(path).path
        if route.startswith(f"/v{API_VERSION}/"):
            route = route[len(f"/v{API_VERSION}"):]
        if route == "/version":
            return {"ApiVersion": API_VERSION, "MinAPIVersion": "1.12", "Version": "20.10.24"}
        if route == "/_ping":
            return "OK"
        if route == "/info":
            return self.info()
        if route == "/containers/json":
            return list(self.containers)
        if route == "/services":
            if self.swarm != "manager":
                return None
            return list(self.services)
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    engine: FakeEngine

    def do_GET(self) -> None:
        self.engine.requests.append(self.path)
        body = self.engine.answer(self.path)
        status = 404 if body is None else 200
        payload = json.dumps({"message": "page not found"} if body is None else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FakeFleet:
    """Engines on unix sockets in ``folder``; use as a context manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.servers: list[_Server] = []
        self.silent: list[socket.socket] = []
        self.threads: list[threading.Thread] = []

    def add(self, engine: FakeEngine) -> str:
        """Serve ``engine``; its ``unix://`` address."""
        path = self.folder / f"{engine.name}.sock"
        handler = type("Handler", (_Handler,), {"engine": engine})
        server = _Server(str(path), handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        self.servers.append(server)
        self.threads.append(thread)
        return f"unix://{path}"

    def add_silent(self, name: str) -> str:
        """A socket that accepts connections and never answers; its ``unix://`` address."""
        path = self.folder / f"{name}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        sock.listen(64)
        self.silent.append(sock)
        return f"unix://{path}"

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
            os.unlink(server.server_address)  # type: ignore[arg-type]
        for sock in self.silent:
            name = sock.getsockname()
            sock.close()
            os.unlink(name)
        self.servers.clear()
        self.silent.clear()

    def __enter__(self) -> FakeFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def container(name: str, *ports: tuple[str, int, int], project: str | None = None,
              network_mode: str = "bridge") -> dict[str, Any]:
    """A ``GET /containers/json`` item publishing ``(host_ip, host_port, container_port)``."""
    labels = {"com.docker.compose.project": project} if project else {}
    return {
        "Id": (name.encode().hex() * 8)[:64],
        "Names": [f"/{name}"],
        "Labels": labels,
        "HostConfig": {"NetworkMode": network_mode},
        "Ports": [
            {"IP": ip, "PrivatePort": inner, "PublicPort": outer, "Type": "tcp"}
            for ip, outer, inner in ports
        ],
    }


def service(name: str, *ports: tuple[int, int, str], stack: str | None = None) -> dict[str, Any]:
    """A ``GET /services`` item publishing ``(published, target, mode)``."""
    labels = {"com.docker.stack.namespace": stack} if stack else {}
    return {
        "ID": (name.encode().hex() * 8)[:25],
        "Spec": {"Name": name, "Labels": labels},
        "Endpoint": {
            "Ports": [
                {"Protocol": "tcp", "TargetPort": target, "PublishedPort": published,
                 "PublishMode": mode}
                for published, target, mode in ports
            ]
        },
    }
