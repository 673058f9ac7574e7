"""A WebSocket handshake by hand over a plain socket with a tiny receive buffer.

Tests of slow clients need a peer that reads nothing: nothing on the client side may drain
the server's output behind the test's back, so no WebSocket library is used here.
"""

from __future__ import annotations

import base64
import os
import socket

from tests.conftest import RunningServer


def connect_unread(
    server: RunningServer, target: str, protocol: str | None = None
) -> socket.socket:
    """Open the WebSocket at ``target`` (path and query below the root URL) and return its
    socket, right after the ``101`` answer; raise AssertionError if the handshake is refused.
    ``protocol`` is the subprotocol to ask for, if any.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive window: the server's writes stop draining almost at once.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", server.port))
    path = server.url.split(str(server.port), 1)[1]
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path}{target} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        + (f"Sec-WebSocket-Protocol: {protocol}\r\n" if protocol else "")
        + f"Authorization: token {server.token}\r\n\r\n"
    )
    sock.sendall(request.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(1)
        if not chunk:
            raise AssertionError(f"handshake refused: {answer!r}")
        answer += chunk
    if not answer.startswith(b"HTTP/1.1 101"):
        raise AssertionError(f"handshake refused: {answer!r}")
    return sock
