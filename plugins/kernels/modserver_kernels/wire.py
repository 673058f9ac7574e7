"""Kernel messages on the wire: ZMQ multipart frames and the two WebSocket protocols.

The ``v1.kernel.websocket.jupyter.org`` subprotocol carries the ZMQ blobs unchanged
(a little-endian offsets table, the channel name, then header, parent header, metadata,
content and buffers), so only the header and parent header are ever parsed. The legacy
protocol is one JSON object per text frame, or, when a message has buffers, a binary
frame: a big-endian count and offsets table, the JSON, then the buffers. Outgoing legacy
JSON is assembled from the raw bytes, so bodies are not re-parsed either way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from typing import Any

import orjson
from modserver.api.kernels import Blob, KernelMessage
from modserver.jsonbody import loads

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
CHANNELS = ("shell", "control", "stdin", "iopub")
DELIMITER = b"<IDS|MSG>"


class WireError(ValueError):
    """A frame that is not a valid kernel message."""


# -- ZMQ ----------------------------------------------------------------------------------


class Signer:
    """HMAC signatures of Jupyter messages, as jupyter_client's Session computes them."""

    def __init__(self, key: bytes, scheme: str = "hmac-sha256") -> None:
        self._auth: hmac.HMAC | None = None
        if key:
            algorithm = scheme.split("-", 1)[1] if "-" in scheme else "sha256"
            self._auth = hmac.new(key, digestmod=getattr(hashlib, algorithm))

    def sign(self, header: bytes, parent: bytes, metadata: Blob, content: Blob) -> bytes:
        """Hex digest over the four JSON parts (buffers are not signed)."""
        if self._auth is None:
            return b""
        mac = self._auth.copy()
        mac.update(header)
        mac.update(parent)
        mac.update(metadata)
        mac.update(content)
        return mac.hexdigest().encode()


def to_zmq(message: KernelMessage, signer: Signer) -> list[Blob]:
    """The multipart frames that send ``message`` to a kernel socket."""
    header = message.header_bytes()
    parent = message.parent_header_bytes()
    signature = signer.sign(header, parent, message.metadata, message.content)
    return [
        DELIMITER,
        signature,
        header,
        parent,
        message.metadata,
        message.content,
        *message.buffers,
    ]


def from_zmq(channel: str, frames: list[Blob]) -> KernelMessage:
    """Parse frames received from a kernel socket (routing identities are skipped).

    Big frames may be memoryviews (``KernelClient`` does not copy them): they become
    the message's parts as they are.
    """
    try:
        start = frames.index(DELIMITER) + 2  # skip the delimiter and the signature
    except ValueError:
        raise WireError("no message delimiter in ZMQ frames") from None
    if len(frames) < start + 4:
        raise WireError("too few ZMQ frames for a message")
    header, parent = bytes(frames[start]), bytes(frames[start + 1])  # no-ops for bytes
    # Every message from the kernel passes here (fan-out: once for all its WebSockets);
    # orjson parses a header ~6x faster than json. Its errors are ValueErrors too.
    return KernelMessage(
        channel=channel,
        header=orjson.loads(header),
        parent_header=orjson.loads(parent),
        metadata=frames[start + 2],
        content=frames[start + 3],
        buffers=frames[start + 4 :],
        raw_header=header,
        raw_parent_header=parent,
    )


# -- v1 binary subprotocol ----------------------------------------------------------------


def encode_v1(message: KernelMessage) -> bytes:
    """One v1 frame: offsets count, offsets, channel, header, parent, metadata, content, buffers."""
    return b"".join(encode_v1_parts(message))


def encode_v1_parts(message: KernelMessage) -> list[Blob]:
    """The v1 frame of ``message`` as parts to send one after the other, not joined.

    The offsets table and the channel lead; then the message's parts as they are, so a
    big content or buffer is never copied into a joined frame.
    """
    parts: list[Blob] = [
        message.channel.encode(),
        message.header_bytes(),
        message.parent_header_bytes(),
        message.metadata,
        message.content,
        *message.buffers,
    ]
    count = len(parts) + 1
    offsets = [8 * (count + 1)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return [struct.pack(f"<{count + 1}Q", count, *offsets), *parts]


def decode_v1(frame: bytes) -> KernelMessage:
    """Parse a v1 frame; only the header and parent header are decoded."""
    try:
        (count,) = struct.unpack_from("<Q", frame, 0)
        if count < 6 or 8 * (count + 1) > len(frame):
            raise WireError("a v1 frame needs channel, header, parent, metadata and content")
        offsets = struct.unpack_from(f"<{count}Q", frame, 8)
        view = memoryview(frame)
        parts = [bytes(view[offsets[i] : offsets[i + 1]]) for i in range(count - 1)]
        channel = parts[0].decode()
        header = loads(parts[1])
        parent = loads(parts[2]) if parts[2] else {}
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise WireError(f"bad v1 frame: {exc}") from None
    if not isinstance(header, dict) or not isinstance(parent, dict):
        raise WireError("header and parent_header must be JSON objects")
    return KernelMessage(
        channel=channel,
        header=header,
        parent_header=parent,
        metadata=parts[3] or b"{}",
        content=parts[4] or b"{}",
        buffers=[*parts[5:]],
        raw_header=parts[1],
        raw_parent_header=parts[2] or b"{}",
    )


# -- legacy JSON protocol -----------------------------------------------------------------


def _legacy_json(message: KernelMessage, with_buffers_key: bool) -> bytes:
    # Built from the raw parts: the body bytes are valid JSON already.
    header = message.header
    pieces = [
        b'{"header":',
        message.header_bytes(),
        b',"msg_id":',
        json.dumps(header.get("msg_id", "")).encode(),
        b',"msg_type":',
        json.dumps(header.get("msg_type", "")).encode(),
        b',"parent_header":',
        message.parent_header_bytes(),
        b',"metadata":',
        message.metadata,
        b',"content":',
        message.content,
        b',"channel":',
        json.dumps(message.channel).encode(),
    ]
    if with_buffers_key:
        pieces.append(b',"buffers":[]')
    pieces.append(b"}")
    return b"".join(pieces)


def encode_legacy(message: KernelMessage) -> str | bytes:
    """A text frame (JSON), or a binary frame when the message carries buffers."""
    if not message.buffers:
        return _legacy_json(message, with_buffers_key=True).decode()
    parts = [_legacy_json(message, with_buffers_key=False), *message.buffers]
    offsets = [4 * (len(parts) + 1)]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + len(part))
    table = struct.pack(f"!{len(parts) + 1}I", len(parts), *offsets)
    return b"".join((table, *parts))


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def decode_legacy(frame: str | bytes) -> KernelMessage:
    """Parse a legacy text frame (JSON) or binary frame (JSON plus buffers)."""
    buffers: list[Blob] = []
    try:
        if isinstance(frame, bytes):
            (count,) = struct.unpack_from("!I", frame, 0)
            if count < 1 or 4 * (count + 1) > len(frame):
                raise WireError("bad legacy binary frame")
            offsets = [*struct.unpack_from(f"!{count}I", frame, 4), len(frame)]
            blobs = [frame[offsets[i] : offsets[i + 1]] for i in range(count)]
            data = loads(blobs[0])
            buffers = [*blobs[1:]]
        else:
            data = loads(frame)
    except (struct.error, ValueError) as exc:
        raise WireError(f"bad message: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("header"), dict):
        raise WireError("a message is a JSON object with a header")
    parent = data.get("parent_header") or {}
    return KernelMessage(
        channel=str(data.get("channel") or "shell"),
        header=data["header"],
        parent_header=parent if isinstance(parent, dict) else {},
        metadata=_dump(data.get("metadata") or {}),
        content=_dump(data.get("content") or {}),
        buffers=buffers,
    )
