"""A small kernel WebSocket client for the tests, speaking either protocol.

``v1`` is the ``v1.kernel.websocket.jupyter.org`` binary subprotocol; ``legacy`` is the
JSON protocol (binary frames when a message carries buffers). Messages come back as
plain dicts with parsed content, whatever the protocol.
"""

from __future__ import annotations

import json
import struct
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.conftest import RunningServer

V1 = "v1.kernel.websocket.jupyter.org"


def header(msg_type: str, session: str) -> dict[str, Any]:
    """A request header as a front end writes it."""
    return {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "test",
        "session": session,
        "date": datetime.now(timezone.utc).isoformat(),
        "version": "5.3",
    }


def pack_v1(channel: str, msg: dict[str, Any], buffers: list[bytes]) -> bytes:
    parts = [
        channel.encode(),
        json.dumps(msg["header"]).encode(),
        json.dumps(msg["parent_header"]).encode(),
        json.dumps(msg["metadata"]).encode(),
        json.dumps(msg["content"]).encode(),
        *buffers,
    ]
    offsets = [8 * (len(parts) + 2)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    count = len(offsets)
    return b"".join(
        [count.to_bytes(8, "little")] + [o.to_bytes(8, "little") for o in offsets] + parts
    )


def unpack_v1(frame: bytes) -> dict[str, Any]:
    count = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    parts = [frame[offsets[i] : offsets[i + 1]] for i in range(count - 1)]
    return {
        "channel": parts[0].decode(),
        "header": json.loads(parts[1]),
        "parent_header": json.loads(parts[2]),
        "metadata": json.loads(parts[3]),
        "content": json.loads(parts[4]),
        "buffers": parts[5:],
    }


def pack_legacy_binary(msg: dict[str, Any], buffers: list[bytes]) -> bytes:
    parts = [json.dumps(msg).encode(), *buffers]
    offsets = [4 * (len(parts) + 1)]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + len(part))
    return struct.pack(f"!{len(parts) + 1}I", len(parts), *offsets) + b"".join(parts)


def unpack_legacy(frame: str | bytes) -> dict[str, Any]:
    if isinstance(frame, str):
        return json.loads(frame)
    (count,) = struct.unpack_from("!I", frame)
    offsets = [*struct.unpack_from(f"!{count}I", frame, 4), len(frame)]
    blobs = [frame[offsets[i] : offsets[i + 1]] for i in range(count)]
    msg = json.loads(blobs[0])
    msg["buffers"] = blobs[1:]
    return msg


class KernelSocket:
    """One WebSocket on ``/api/kernels/{id}/channels``."""

    def __init__(self, ws: ClientConnection, protocol: str, session: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.session = session

    @classmethod
    def open(
        cls,
        server: RunningServer,
        kernel_id: str,
        protocol: str = "v1",
        session: str | None = None,
        token: str | None = None,
        **options: Any,
    ) -> KernelSocket:
        session = session or uuid.uuid4().hex
        url = server.ws_url(f"api/kernels/{kernel_id}/channels?session_id={session}")
        use = server.token if token is None else token
        headers = {"Authorization": f"token {use}"} if use else {}
        ws = connect(
            url,
            additional_headers=headers,
            subprotocols=[V1] if protocol == "v1" else None,  # type: ignore[list-item]
            open_timeout=30,
            max_size=None,
            legacy=True,
            **options,
        )
        return cls(ws, protocol, session)

    def close(self) -> None:
        self.ws.close()

    def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        channel: str = "shell",
        buffers: list[bytes] | None = None,
    ) -> str:
        """Send a request; returns its msg_id."""
        msg = {
            "header": header(msg_type, self.session),
            "parent_header": {},
            "metadata": {},
            "content": content,
        }
        if self.protocol == "v1":
            self.ws.send(pack_v1(channel, msg, buffers or []))
        else:
            msg["channel"] = channel
            if buffers:
                self.ws.send(pack_legacy_binary(msg, buffers))
            else:
                msg["buffers"] = []
                self.ws.send(json.dumps(msg))
        return str(msg["header"]["msg_id"])

    def recv(self, timeout: float = 60) -> dict[str, Any]:
        frame = self.ws.recv(timeout=timeout)
        if self.protocol == "v1":
            assert isinstance(frame, bytes)
            return unpack_v1(frame)
        return unpack_legacy(frame)

    def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Receive messages until one matches ``predicate``; returns all of them."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching message; got {[m['header']['msg_type'] for m in seen]}"
                )
            msg = self.recv(remaining)
            seen.append(msg)
            if predicate(msg):
                return seen

    def execute(self, code: str, timeout: float = 60, allow_stdin: bool = False) -> str:
        return self.send(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": allow_stdin,
                "stop_on_error": True,
            },
        )

    def run(self, code: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Execute ``code``; return every message until its reply and idle status."""
        msg_id = self.execute(code)
        return self.collect(msg_id, timeout)

    def collect(self, msg_id: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Messages parented by ``msg_id`` until both its reply and idle status came."""
        got_reply = got_idle = False
        mine: list[dict[str, Any]] = []

        def done(msg: dict[str, Any]) -> bool:
            nonlocal got_reply, got_idle
            if msg["parent_header"].get("msg_id") != msg_id:
                return False
            mine.append(msg)
            if msg["channel"] == "shell" and msg["header"]["msg_type"].endswith("_reply"):
                got_reply = True
            if (
                msg["header"]["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            ):
                got_idle = True
            return got_reply and got_idle

        self.until(done, timeout)
        return mine


def stdout(messages: list[dict[str, Any]]) -> str:
    """Everything the kernel printed to stdout in ``messages``.

    A kernel may send one ``print`` in several stream messages ("42", then "\\n"), so tests
    compare the joined text, as a notebook shows it.
    """
    return "".join(
        m["content"]["text"]
        for m in messages
        if m["header"]["msg_type"] == "stream" and m["content"].get("name") == "stdout"
    )


def types(messages: list[dict[str, Any]]) -> list[str]:
    return [m["header"]["msg_type"] for m in messages]
