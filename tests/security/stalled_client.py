"""A raw WebSocket client that sends one request and then never reads.

It speaks just enough of RFC 6455 by hand (a plain socket with a tiny receive buffer),
so nothing on the client side drains the server's output behind the test's back.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from datetime import datetime, timezone
from typing import Any

from tests.conftest import RunningServer


def _frame(payload: bytes) -> bytes:
    """A masked, final text frame (clients must mask)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = bytes([0x81, 0x80 | length])
    elif length < 1 << 16:
        head = bytes([0x81, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + length.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class StalledClient:
    """A kernel WebSocket (legacy JSON protocol) whose reader is never run."""

    def __init__(self, server: RunningServer, kernel_id: str, session: str | None = None) -> None:
        self.session = session or uuid.uuid4().hex
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small receive window: the server's writes stop draining almost at once.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", server.port))
        path = server.url.split(str(server.port), 1)[1]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path}api/kernels/{kernel_id}/channels?session_id={self.session} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: token {server.token}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = self.sock.recv(1)
            if not chunk:
                raise AssertionError(f"handshake refused: {answer!r}")
            answer += chunk
        if not answer.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"handshake refused: {answer!r}")

    def execute(self, code: str) -> None:
        """Send an execute_request; nothing is read back."""
        message: dict[str, Any] = {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "msg_type": "execute_request",
                "username": "stalled",
                "session": self.session,
                "date": datetime.now(timezone.utc).isoformat(),
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
            "channel": "shell",
            "buffers": [],
        }
        self.sock.sendall(_frame(json.dumps(message).encode()))

    def close(self) -> None:
        """Close the socket without reading."""
        self.sock.close()
