"""A raw WebSocket client that sends one request and then never reads.

It speaks just enough of RFC 6455 by hand (a plain socket with a tiny receive buffer),
so nothing on the client side drains the server's output behind the test's back.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from typing import Any

from tests.conftest import RunningServer
from tests.raw_websocket import connect_unread


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
        self.sock = connect_unread(
            server, f"api/kernels/{kernel_id}/channels?session_id={self.session}"
        )

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
