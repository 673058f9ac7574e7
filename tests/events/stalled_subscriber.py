"""A raw ``/api/events/subscribe`` client that reads nothing until told to.

RFC 6455 by hand over a plain socket with a tiny receive buffer, so nothing on the client
side drains the server's output behind the test's back (as tests/security/stalled_client).
"""

from __future__ import annotations

from tests.conftest import RunningServer
from tests.raw_websocket import connect_unread


class StalledSubscriber:
    """Subscribes, then reads only when ``frames_until_close`` is called."""

    def __init__(self, server: RunningServer) -> None:
        self.sock = connect_unread(server, "api/events/subscribe")
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
