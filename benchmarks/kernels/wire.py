"""Jupyter messages on the wire, for the benchmark clients.

Builds request headers and encodes/decodes the two kernel WebSocket protocols: the
``v1.kernel.websocket.jupyter.org`` binary subprotocol (a little-endian offsets table,
then the channel name, then the ZMQ message parts) and the legacy JSON protocol (a
JSON text frame, or a binary frame with a big-endian offsets table when a message
carries buffers). The ZMQ client in ``clients.py`` uses jupyter_client's own framing.
"""

from __future__ import annotations

import json
import struct
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

V1_SUBPROTOCOL = "v1.kernel.websocket.jupyter.org"
PROTOCOL_VERSION = "5.3"


def new_header(msg_type: str, session: str, msg_id: str | None = None) -> dict[str, Any]:
    """A request header as a front end writes it (``msg_id`` given for fan-out tests)."""
    return {
        "msg_id": msg_id or uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "bench",
        "session": session,
        "date": datetime.now(timezone.utc).isoformat(),
        "version": PROTOCOL_VERSION,
    }


@dataclass(slots=True)
class Incoming:
    """A message received from the kernel, parsed only as far as the benchmark needs.

    ``content`` is parsed on first use (``content_json``) so every client pays the
    same parsing cost: header and parent header always, bodies only when looked at.
    """

    channel: str
    header: dict[str, Any]
    parent_header: dict[str, Any]
    raw_content: bytes | None = None
    parsed_content: dict[str, Any] | None = None
    buffers: list[bytes] = field(default_factory=list)

    @property
    def msg_type(self) -> str:
        return str(self.header.get("msg_type", ""))

    @property
    def parent_id(self) -> str | None:
        value = self.parent_header.get("msg_id")
        return str(value) if value is not None else None

    def content_json(self) -> dict[str, Any]:
        """The message content, parsed once."""
        if self.parsed_content is None:
            self.parsed_content = json.loads(self.raw_content or b"{}")
        return self.parsed_content


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# --- v1 binary subprotocol -------------------------------------------------------------


def encode_v1(
    channel: str,
    header: dict[str, Any],
    content: dict[str, Any],
    buffers: list[bytes] | tuple[bytes, ...] = (),
) -> bytes:
    """One v1 frame: count, offsets (8-byte little-endian), channel, msg parts, buffers."""
    parts = [_dumps(header), b"{}", b"{}", _dumps(content), *buffers]
    channel_bytes = channel.encode()
    # Offsets: start of the channel, start of each part, then the end of the last part.
    count = len(parts) + 2
    position = 8 * (count + 1)
    offsets = [position]
    position += len(channel_bytes)
    offsets.append(position)
    for part in parts:
        position += len(part)
        offsets.append(position)
    table = struct.pack(f"<{count + 1}Q", count, *offsets)
    return b"".join([table, channel_bytes, *parts])


def decode_v1(frame: bytes) -> Incoming:
    """Split a v1 frame; parse header and parent header, keep the content raw."""
    view = memoryview(frame)
    (count,) = struct.unpack_from("<Q", view, 0)
    offsets = struct.unpack_from(f"<{count}Q", view, 8)
    channel = bytes(view[offsets[0] : offsets[1]]).decode()
    parts = [view[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]
    return Incoming(
        channel=channel,
        header=json.loads(bytes(parts[0])),
        parent_header=json.loads(bytes(parts[1])),
        raw_content=bytes(parts[3]),
        buffers=[bytes(part) for part in parts[4:]],
    )


# --- legacy JSON protocol --------------------------------------------------------------


def encode_json(
    channel: str,
    header: dict[str, Any],
    content: dict[str, Any],
    buffers: list[bytes] | tuple[bytes, ...] = (),
) -> str | bytes:
    """A legacy frame: JSON text, or the binary layout when the message has buffers."""
    message = {
        "channel": channel,
        "header": header,
        "parent_header": {},
        "metadata": {},
        "content": content,
    }
    if not buffers:
        return json.dumps(message)
    message["buffers"] = []
    blobs = [json.dumps(message).encode(), *buffers]
    count = len(blobs)
    position = 4 * (count + 1)
    offsets = []
    for blob in blobs:
        offsets.append(position)
        position += len(blob)
    return b"".join([struct.pack(f"!{count + 1}I", count, *offsets), *blobs])


def decode_json(frame: str | bytes) -> Incoming:
    """Parse a legacy frame (text, or binary with buffers)."""
    buffers: list[bytes] = []
    if isinstance(frame, bytes):
        view = memoryview(frame)
        (count,) = struct.unpack_from("!I", view, 0)
        offsets = [*struct.unpack_from(f"!{count}I", view, 4), len(frame)]
        message = json.loads(bytes(view[offsets[0] : offsets[1]]))
        buffers = [bytes(view[offsets[i] : offsets[i + 1]]) for i in range(1, count)]
    else:
        message = json.loads(frame)
    return Incoming(
        channel=str(message.get("channel", "")),
        header=message.get("header") or {},
        parent_header=message.get("parent_header") or {},
        parsed_content=message.get("content") or {},
        buffers=buffers,
    )
