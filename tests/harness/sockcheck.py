"""TCP checks that run in-process or as a standalone script inside a network namespace.

This module imports only the standard library so that `python3 -I sockcheck.py ...` works under
`nsenter --net=...` without the test environment on sys.path.

    sockcheck.py probe ADDRESS PORT TIMEOUT          -> prints open | refused | timeout
    sockcheck.py echo ADDRESS PORT TIMEOUT HEXDATA   -> prints the hex of what came back
"""

from __future__ import annotations

import errno
import socket
import sys
import time

# Errors that mean "nobody answered" rather than "something actively refused".
_NO_ANSWER = {errno.EHOSTUNREACH, errno.ETIMEDOUT}


def _connect(address: str, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def probe(address: str, port: int, timeout: float) -> str:
    """Connect once: 'open', 'refused' (RST) or 'timeout' (no answer, or host unreachable)."""
    try:
        sock = _connect(address, port, timeout)
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except OSError as exc:
        if exc.errno in _NO_ANSWER:
            return "timeout"
        raise
    sock.close()
    return "open"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def echo(address: str, port: int, timeout: float, payload: bytes) -> bytes:
    """Send payload and return what comes back within timeout (b'' when nothing does)."""
    deadline = time.monotonic() + timeout
    try:
        sock = _connect(address, port, timeout)
    except (ConnectionRefusedError, socket.timeout, TimeoutError):
        return b""
    received = b""
    with sock:
        try:
            sock.sendall(payload)
            while len(received) < len(payload):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                sock.settimeout(remaining)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (socket.timeout, TimeoutError, ConnectionResetError, BrokenPipeError):
            pass
    return received


def main(argv: list[str]) -> int:
    if len(argv) >= 4 and argv[0] == "probe":
        print(probe(argv[1], int(argv[2]), float(argv[3])))
        return 0
    if len(argv) >= 5 and argv[0] == "echo":
        print(echo(argv[1], int(argv[2]), float(argv[3]), bytes.fromhex(argv[4])).hex())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
