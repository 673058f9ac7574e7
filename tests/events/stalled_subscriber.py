"""A raw ``/api/events/subscribe`` client that reads nothing until told to.

RFC 6455 by hand over a plain socket with a tiny receive buffer, so nothing on the client
side drains the server's output behind the test's back (as tests/security/stalled_client).
"""

from __future__ import annotations

import base64
import os
import socket

from tests.conftest import RunningServer


class StalledSubscriber:
    """Subscribes, then reads only when ``frames_until_close`` is called."""

    def __init__(self, server: RunningServer) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", server.port))
        path = server.url.split(str(server.port), 1)[1]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path}api/events/subscribe HTTP/1.1\r\n"
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
        self._buffer = b""

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the connection without a close frame")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def frames_until_close(self) -> tuple[int, int | None]:
        """Read every frame the server sent: (text frames before the close, close code)."""
        texts = 0
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(self._read(2), "big")
            elif length == 127:
                length = int.from_bytes(self._read(8), "big")
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                return texts, int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            if opcode == 0x1:
                texts += 1

    def close(self) -> None:
        self.sock.close()
