"""The few Docker engine API calls ``audit --watch`` makes, over asyncio and the standard library.

Plain HTTP/1.1 on the engine's unix socket or TCP address (TLS with the inventory's files),
one connection per request, and one long-lived connection for the event stream. No SDK and no
thread per engine: 200 engines are 200 open sockets in one event loop. ``ssh://`` engines are
not followed (they need the docker CLI as a transport).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from compose_net.errors import ComposeNetError

#: the largest answer read (a container list of many thousands of containers fits)
MAX_BODY = 64 * 1024 * 1024
_HEAD_LIMIT = 64 * 1024


class EngineError(Exception):
    """A request the engine did not answer as it should; one line."""


@dataclass(frozen=True)
class Endpoint:
    """Where to connect: a unix socket path, or a host and port (TLS when ``tls`` is set)."""

    display: str
    path: str | None = None
    host: str = ""
    port: int = 0
    tls: ssl.SSLContext | None = field(default=None, compare=False)
    #: what the TLS context was made from (two endpoints with the same files are equal)
    tls_files: tuple[bool, str | None, str | None, str | None] | None = None


def endpoint(host: str, *, tls: bool = False, verify: bool = False, ca: str | None = None,
             cert: str | None = None, key: str | None = None) -> Endpoint:
    """The endpoint of an engine address (``unix://``, ``tcp://``, ``http(s)://``)."""
    parts = urlsplit(host)
    scheme = parts.scheme.lower()
    if scheme == "unix":
        path = parts.path or parts.netloc
        if not path:
            raise ComposeNetError(f"{host}: no socket path")
        return Endpoint(host, path=path)
    if scheme not in ("tcp", "http", "https"):
        raise ComposeNetError(
            f"{host}: only unix://, tcp:// and http(s):// engines can be watched"
        )
    tls = tls or scheme == "https"
    try:
        port = parts.port or (2376 if tls else 2375)
    except ValueError:
        raise ComposeNetError(f"{host}: the port is not a number") from None
    if not parts.hostname:
        raise ComposeNetError(f"{host}: no host")
    context: ssl.SSLContext | None = None
    if tls:
        try:
            if verify:
                context = ssl.create_default_context(cafile=ca)
            else:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if cert and key:
                context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as e:
            raise ComposeNetError(f"{host}: cannot use the TLS files: {e}") from None
    files = (verify, ca, cert, key) if tls else None
    return Endpoint(host, host=parts.hostname, port=port, tls=context, tls_files=files)


async def _open(ep: Endpoint) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if ep.path is not None:
        return await asyncio.open_unix_connection(ep.path, limit=_HEAD_LIMIT)
    return await asyncio.open_connection(
        ep.host, ep.port, ssl=ep.tls, server_hostname=ep.host if ep.tls else None,
        limit=_HEAD_LIMIT,
    )


def query(path: str, params: Mapping[str, Any]) -> str:
    """``path?k=v`` with JSON-valued filters encoded."""
    items = []
    for name, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        items.append(f"{name}={quote(text, safe='')}")
    return path + ("?" + "&".join(items) if items else "")


def _request(ep: Endpoint, path: str) -> bytes:
    host = "docker" if ep.path is not None else f"[{ep.host}]" if ":" in ep.host else ep.host
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: compose-net\r\n"
            "Accept: application/json\r\nConnection: close\r\n\r\n").encode("ascii")


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        raise EngineError("the engine closed the connection without an answer") from None
    except asyncio.LimitOverrunError:
        raise EngineError("the engine's answer has an oversized header") from None
    lines = raw.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[0].startswith("HTTP/") or not status[1].isdigit():
        raise EngineError("the engine's answer is not HTTP")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(status[1]), headers


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        size_line = await reader.readline()
        if not size_line:
            raise EngineError("the engine closed the connection in the middle of an answer")
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            raise EngineError("the engine's answer has a bad chunk") from None
        if size == 0:
            return
        if size > MAX_BODY:
            raise EngineError("the engine's answer is too large")
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        yield data


async def _body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out = bytearray()
        async for chunk in _chunks(reader):
            out += chunk
            if len(out) > MAX_BODY:
                raise EngineError("the engine's answer is too large")
        return bytes(out)
    length = headers.get("content-length")
    if length is not None and length.isdigit():
        if int(length) > MAX_BODY:
            raise EngineError("the engine's answer is too large")
        return await reader.readexactly(int(length))
    data = await reader.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise EngineError("the engine's answer is too large")
    return data


def _error(status: int, body: bytes) -> EngineError:
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = None
    text = " ".join(str(message or body[:200].decode("utf-8", "replace")).split())
    return EngineError(f"the engine answered {status}: {text}")


async def get(ep: Endpoint, path: str) -> Any:
    """``GET path``, the JSON answer; EngineError (or OSError) when there is none."""
    reader, writer = await _open(ep)
    try:
        writer.write(_request(ep, path))
        await writer.drain()
        status, headers = await _head(reader)
        body = await _body(reader, headers)
    except asyncio.IncompleteReadError:
        raise EngineError("the engine closed the connection in the middle of an answer") from None
    finally:
        writer.close()
    if status != 200:
        raise _error(status, body)
    if path.startswith("/_ping"):
        return body.decode("utf-8", "replace")
    try:
        return json.loads(body)
    except ValueError:
        raise EngineError(f"the engine's answer to {path.split('?')[0]} is not JSON") from None


class EventStream:
    """``GET /events``: one decoded event at a time; ``close`` ends it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 chunked: bool) -> None:
        self.reader = reader
        self.writer = writer
        self.chunked = chunked
        self.pending: list[bytes] = []
        self.buffer = b""

    async def _more(self) -> bytes:
        if self.chunked:
            size_line = await self.reader.readline()
            if not size_line:
                return b""
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise EngineError("the event stream has a bad chunk") from None
            if size == 0:
                return b""
            if size > MAX_BODY:
                raise EngineError("the event stream sent an oversized chunk")
            data = await self.reader.readexactly(size)
            await self.reader.readexactly(2)
            return data
        return await self.reader.read(65536)

    async def next(self) -> dict[str, Any] | None:
        """The next event; None when the engine ended the stream."""
        while True:
            while self.pending:
                line = self.pending.pop(0).strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    raise EngineError("the event stream sent something that is not JSON") from None
                if isinstance(event, dict):
                    return event
            try:
                data = await self._more()
            except asyncio.IncompleteReadError:
                return None
            if not data:
                return None
            self.buffer += data
            if len(self.buffer) > MAX_BODY:
                raise EngineError("the event stream sent an oversized event")
            *lines, self.buffer = self.buffer.split(b"\n")
            self.pending += lines

    def close(self) -> None:
        self.writer.close()


async def events(ep: Endpoint, filters: Mapping[str, Any]) -> EventStream:
    """Open the engine's event stream (from now on), filtered."""
    reader, writer = await _open(ep)
    try:
        writer.write(_request(ep, query("/events", {"filters": filters})))
        await writer.drain()
        status, headers = await _head(reader)
        if status != 200:
            raise _error(status, await _body(reader, headers))
    except BaseException:
        writer.close()
        raise
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    return EventStream(reader, writer, chunked)
