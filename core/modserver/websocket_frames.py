"""WebSocket data frames written by modserver under hypercorn: one copy at most, fewer writes.

hypercorn (0.17-0.18) hands every outgoing message to wsproto, which copies the payload
three times (1.3: ``bytearray(payload)``, ``bytearray(header + payload)``, ``b"" + ...``),
and writes each message with its own ``write`` and ``drain``. For kernel WebSockets that
is where a server's time goes: a 2 MB ``display_data`` frame cost ~2.4 ms in wsproto
(page faults on three fresh 2 MB blocks), and a fan-out burst one ``send()`` system call
per frame per client (``benchmarks/README.md``).

One adaptation of hypercorn's ``WSStream.app_send`` (``adapt_hypercorn_sends``), for
connections that negotiated no extension (no permessage-deflate: see
``websocket_compression``; a compressed connection keeps hypercorn's own path):

- a data message is framed here: the frame header is 2-10 bytes, so a small message goes
  out as one ``bytes`` (header + payload), a big one (``BIG_FRAME`` or more) as two
  writes, the header and then the payload object as the app gave it: no copy in the server
  beyond what the socket's buffer takes;
- the connection advertises ``SEND_MANY`` in its scope's ``extensions``; the app may then
  send several messages in one ASGI event (``{"type": "websocket.send", SEND_MANY:
  [message, ...]}``), written with one ``write`` (big payloads apart); a binary message
  may be given as a list of parts, which are never joined (the kernel v1 frame's big
  content or buffers go out as the ZMQ receive left them). ``send_messages`` uses it when the
  scope advertises it and sends one by one otherwise, so callers work under any server.

Control frames (ping, pong, close) still go through wsproto, and wait (a lock per
connection) until a frame being written in several buffers is complete. Note for
upstream: a way for an ASGI server to take a list of messages at once, and a wsproto call
that returns a data frame's header alone (to write header and payload as two buffers),
would make this adaptation unnecessary.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from typing import Any

import anyio
from starlette.types import Message, Scope, Send
from starlette.websockets import WebSocket

from modserver.hypercorn_version import note_if_untested

log = logging.getLogger("modserver.websocket_frames")

#: The scope extension (and the message key) for several messages in one event.
SEND_MANY = "modserver.websocket.send_many"

#: Payloads this big go out as their own write, not joined to their header.
BIG_FRAME = 64 * 1024

#: hypercorn versions whose ``WSStream`` this adapts, checked by
#: tests/core/test_websocket_frames.py.
TESTED_HYPERCORN = ("0.17", "0.18")

_ADAPTED = "_modserver_frames"
_LOCK = "_modserver_frame_lock"

_OPCODE_TEXT = 0x1
_OPCODE_BINARY = 0x2
_FIN = 0x80


def frame_header(payload_length: int, text: bool) -> bytes:
    """The header of a final, unmasked data frame (RFC 6455 5.2), as a server sends it."""
    first = _FIN | (_OPCODE_TEXT if text else _OPCODE_BINARY)
    if payload_length < 126:
        return bytes((first, payload_length))
    if payload_length < 1 << 16:
        return struct.pack("!BBH", first, 126, payload_length)
    return struct.pack("!BBQ", first, 127, payload_length)


#: One WebSocket message: ``bytes`` (binary), ``str`` (text), or a list of bytes-likes:
#: one binary message given in parts, written one after the other without joining them.
OutgoingMessage = bytes | str | list[bytes | memoryview]


def encode_frames(messages: Sequence[OutgoingMessage]) -> list[bytes | memoryview]:
    """Frame ``messages`` as buffers to write in order.

    Small frames and parts are joined, header and payload, into as few buffers as
    possible; a payload or part of ``BIG_FRAME`` bytes or more stays a buffer of its
    own, uncopied.
    """
    buffers: list[bytes | memoryview] = []
    pending: list[bytes | memoryview] = []
    for message in messages:
        text = isinstance(message, str)
        parts: list[bytes | memoryview]
        if isinstance(message, str):
            parts = [message.encode()]
        elif isinstance(message, list):
            parts = message
        else:
            parts = [message]
        pending.append(frame_header(sum(len(part) for part in parts), text))
        for part in parts:
            if len(part) >= BIG_FRAME:
                buffers.append(b"".join(pending))
                buffers.append(part)
                pending = []
            else:
                pending.append(part)
    if pending:
        buffers.append(b"".join(pending))
    return buffers


async def send_messages(websocket: WebSocket, messages: Sequence[OutgoingMessage]) -> None:
    """Send ``messages`` in order: in one event where the server advertises ``SEND_MANY``.

    Elsewhere one by one, a message given in parts joined first.
    """
    if not messages:
        return
    if SEND_MANY in (websocket.scope.get("extensions") or {}) and (
        len(messages) > 1 or isinstance(messages[0], list)
    ):
        await websocket.send({"type": "websocket.send", SEND_MANY: list(messages)})
        return
    for message in messages:
        await websocket.send(single_event(message))


def single_event(message: OutgoingMessage) -> Message:
    """The plain ASGI event that sends ``message`` (a message given in parts is joined)."""
    if isinstance(message, str):
        return {"type": "websocket.send", "text": message}
    data = b"".join(message) if isinstance(message, list) else message
    return {"type": "websocket.send", "bytes": data}


def advertise(scope: Scope, send: Send) -> None:
    """Add ``SEND_MANY`` to a WebSocket scope whose ``send`` is the adapted hypercorn's."""
    function = getattr(send, "__func__", None)
    extensions = scope.get("extensions")
    if getattr(function, _ADAPTED, False) and isinstance(extensions, dict):
        extensions[SEND_MANY] = {}


def adapt_hypercorn_sends() -> bool:
    """Adapt hypercorn's ``WSStream.app_send`` as the module says (once per process).

    Returns False, with a warning, when this hypercorn lacks what the adaptation uses.
    """
    try:
        from hypercorn.protocol import ws_stream
        from hypercorn.protocol.events import Data
        from wsproto.connection import ConnectionState
    except ImportError:  # pragma: no cover - hypercorn is a dependency
        return False
    stream = getattr(ws_stream, "WSStream", None)
    original = getattr(stream, "app_send", None)
    original_event = getattr(stream, "_send_wsproto_event", None)
    connected = getattr(getattr(ws_stream, "ASGIWebsocketState", None), "CONNECTED", None)
    if stream is None or original is None or original_event is None or connected is None:
        log.warning(
            "cannot write WebSocket frames directly with this hypercorn (no WSStream.app_send "
            "or _send_wsproto_event); "
            "tested on %s: WebSockets work, with hypercorn's own (slower) send path",
            ", ".join(TESTED_HYPERCORN),
        )
        return False
    if getattr(original, _ADAPTED, False):
        return True
    note_if_untested(TESTED_HYPERCORN, log)

    def messages_of(message: Message) -> list[OutgoingMessage]:
        many = message.get(SEND_MANY)
        if many is not None:
            return list(many)
        data = message.get("bytes")
        if data is not None:
            return [data]
        text = message.get("text")
        if not isinstance(text, str):
            raise TypeError(f"{text!r} should be a str")  # as hypercorn says it
        return [text]

    def framed_here(self: Any, message: Message) -> bool:
        return (
            message["type"] == "websocket.send"
            and not self.closed
            and self.state == connected
            and self.handshake.extensions is None  # no offer: nothing is compressed
        )

    async def app_send(self: Any, message: Message | None) -> None:
        if message is None or not framed_here(self, message):
            if message is not None and message.get(SEND_MANY) is not None:
                for item in messages_of(message):  # hypercorn's own path, one at a time
                    await original(self, single_event(item))
            else:
                await original(self, message)
            return
        if self.connection.state != ConnectionState.OPEN:
            return  # closing: hypercorn drops data sent now, and so do we
        async with frame_lock(self):
            for buffer in encode_frames(messages_of(message)):
                # A memoryview is fine where bytes are typed: the transport takes any buffer.
                await self.send(Data(stream_id=self.stream_id, data=buffer))  # type: ignore[arg-type]

    async def send_wsproto_event(self: Any, event: Any) -> None:
        # Pings, pongs and close frames wait until a frame written in parts is complete.
        async with frame_lock(self):
            await original_event(self, event)

    setattr(app_send, _ADAPTED, True)
    stream.app_send = app_send
    stream._send_wsproto_event = send_wsproto_event
    return True


def frame_lock(stream: Any) -> anyio.Lock:
    """The stream's lock around writing one frame (or chunk of frames), made on first use.

    A frame written as several buffers waits for the socket between them; hypercorn's
    reader answering a ping meanwhile would put its pong inside the frame.
    """
    lock: anyio.Lock | None = stream.__dict__.get(_LOCK)
    if lock is None:
        # fast_acquire: an uncontended acquire does not yield to the event loop first.
        # anyio's default does, and so put one more loop turn before every frame a kernel
        # WebSocket writes (a round trip's reply among them).
        lock = stream.__dict__[_LOCK] = anyio.Lock(fast_acquire=True)
    return lock
