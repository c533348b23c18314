"""Many small stand-in Docker engines on unix sockets, for fleet tests and benchmarks.

Each engine answers the few API calls ``audit --nodes`` and ``audit --watch`` make
(``/version``, ``/_ping``, ``/info``, ``/containers/json`` with its ``id`` and ``status``
filters, ``/services``, and the ``/events`` stream) with the data it was given, in the shapes
a real engine returns. ``run``, ``remove``, ``rename`` and ``emit`` change what it runs and
send the events a real engine would; ``FakeFleet.stop`` and ``start`` take an engine away and
bring it back. A *silent* engine accepts connections and never answers, as a hung daemon or a
black-holed address would. Real engines are used wherever they run here (tests/e2e); these
exist to make 200 of them cheaply.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import socketserver
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
    #: one queue per open event stream (None ends it)
    streams: list[queue.SimpleQueue[dict[str, Any] | None]] = field(default_factory=list,
                                                                   compare=False)
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def emit(self, kind: str, action: str, actor_id: str, **attributes: str) -> None:
        """Send an event to every open stream, as the engine does."""
        now = time.time()
        event = {"Type": kind, "Action": action, "status": action, "id": actor_id,
                 "Actor": {"ID": actor_id, "Attributes": dict(attributes)},
                 "scope": "local", "time": int(now), "timeNano": int(now * 1e9)}
        with self.lock:
            for stream in self.streams:
                stream.put(event)

    def run(self, item: Mapping[str, Any]) -> None:
        """Start a container (a ``container()`` item): it is listed, then ``start`` is sent."""
        self.containers = [*self.containers, item]
        self.emit("container", "start", str(item["Id"]), name=str(item["Names"][0][1:]))

    def remove(self, name: str, actions: Sequence[str] = ("die", "destroy")) -> None:
        """Stop and remove the container called ``name``, sending ``actions``."""
        gone = [c for c in self.containers if c["Names"][0] == f"/{name}"]
        self.containers = [c for c in self.containers if c not in gone]
        for action in actions:
            self.emit("container", action, str(gone[0]["Id"]), name=name)

    def rename(self, old: str, new: str) -> None:
        found = [c for c in self.containers if c["Names"][0] == f"/{old}"]
        renamed = {**found[0], "Names": [f"/{new}"]}
        self.containers = [renamed if c is found[0] else c for c in self.containers]
        self.emit("container", "rename", str(renamed["Id"]), name=new, oldName=f"/{old}")

    def drop_streams(self) -> None:
        """End every open event stream (the engine went away)."""
        with self.lock:
            for stream in self.streams:
                stream.put(None)
            self.streams.clear()

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
            return self._filtered(list(self.containers), urlsplit(path).query)
        if route == "/services":
            if self.swarm != "manager":
                return None
            return self._filtered(list(self.services), urlsplit(path).query)
        return None

    @staticmethod
    def _filtered(items: list[Any], query: str) -> list[Any]:
        raw = parse_qs(query).get("filters")
        if not raw:
            return items
        filters = json.loads(raw[0])
        ids = filters.get("id")
        if ids:
            items = [c for c in items if isinstance(c, dict)
                     and any(str(c.get("Id") or c.get("ID", "")).startswith(i) for i in ids)]
        return items


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    engine: FakeEngine

    def do_GET(self) -> None:
        self.engine.requests.append(self.path)
        if urlsplit(self.path).path.endswith("/events"):
            self._events()
            return
        body = self.engine.answer(self.path)
        status = 404 if body is None else 200
        payload = json.dumps({"message": "page not found"} if body is None else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _events(self) -> None:
        stream: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        with self.engine.lock:
            self.engine.streams.append(stream)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            while True:
                event = stream.get()
                if event is None:
                    return
                data = json.dumps(event).encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
        except OSError:
            return
        finally:
            with self.engine.lock:
                if stream in self.engine.streams:
                    self.engine.streams.remove(stream)

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
        self.by_name: dict[str, _Server] = {}
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
        self.by_name[engine.name] = server
        return f"unix://{path}"

    def stop(self, engine: FakeEngine) -> None:
        """Take ``engine`` away: its streams end and its socket is gone."""
        server = self.by_name.pop(engine.name)
        self.servers.remove(server)
        engine.drop_streams()
        server.shutdown()
        server.server_close()
        os.unlink(server.server_address)  # type: ignore[arg-type]

    def start(self, engine: FakeEngine) -> str:
        """Bring a stopped ``engine`` back on its socket."""
        return self.add(engine)

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
            server.RequestHandlerClass.engine.drop_streams()
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
