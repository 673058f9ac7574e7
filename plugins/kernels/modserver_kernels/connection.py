"""One kernel WebSocket: ``/api/kernels/{id}/channels?session_id=...``.

The endpoint owns a task group with two tasks: the reader (client frames to the kernel)
and the writer (a bounded per-connection queue to the client). The shared client's
listener only appends to that queue, so a slow client never slows the kernel or the
other clients; when it falls too far behind it is told (close reason) and dropped.
A new connection with the same session replaces the old one; messages for a session
whose socket dropped are kept (bounded) by the kernels service and replayed when it
returns. Only the public ``Kernels`` interface is used, as by any other plugin.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable

import anyio
from modserver.api.kernels import KernelMessage, KernelNotFound, Kernels
from modserver.routing import refuse_websocket
from modserver.websocket_frames import OutgoingMessage, send_messages
from starlette.websockets import WebSocket, WebSocketDisconnect

from modserver_kernels.settings import KernelsSettings
from modserver_kernels.wire import (
    CHANNELS,
    V1_PROTOCOL,
    WireError,
    decode_legacy,
    decode_v1,
    encode_legacy,
    encode_v1,
    encode_v1_parts,
)

log = logging.getLogger("modserver.kernels")

CLOSE_TOO_SLOW = 1008  # policy violation: the client did not keep up
CLOSE_REPLACED = 1000
CLOSE_GOING_AWAY = 1001  # the server is stopping
_SHARE_ENCODED_MAX = 64 * 1024
# Messages sent in one write, up to about this many bytes (a bigger one goes alone).
_CHUNK_BYTES = 256 * 1024
TOO_SLOW = "Too slow: fell too far behind the kernel's output; reconnect"
# What a send to a client that has gone raises, depending on the ASGI server: hypercorn
# raises OSError (or Starlette a RuntimeError once the socket is closed); uvicorn's
# ClientDisconnected is an OSError that Starlette turns into WebSocketDisconnect.
PEER_GONE = (OSError, RuntimeError, WebSocketDisconnect)


class ConnectionQueue:
    """A bounded queue of messages for one WebSocket (count and bytes).

    The bound covers everything this client has not received yet: messages waiting here,
    those the writer has taken but not sent, and the one being sent. A message counts
    until its send returns, and the ASGI server's send returns only once the socket has
    drained its write buffer (hypercorn awaits the transport's ``drain()``), so a client
    that stops reading stops the writer and soon overflows the bound: it is dropped, and
    what the server holds for it never exceeds ``max_bytes`` plus the chunk in flight.
    """

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.items: deque[KernelMessage] = deque()
        #: Messages and bytes not yet sent: queued, taken by the writer, or in flight.
        self.unsent = 0
        self.size = 0
        self.overflowed = False
        self.closed = False
        self.close_code = CLOSE_REPLACED
        self._wake = anyio.Event()
        # Called once when the client falls too far behind (the writer may be stuck
        # in a send to a stalled socket, so it cannot notice by itself).
        self.on_overflow: Callable[[], None] = lambda: None

    def put(self, message: KernelMessage) -> None:
        """Enqueue without waiting (the kernel reader calls this); overflow marks the end."""
        if self.overflowed or self.closed:
            return
        self.items.append(message)
        self.unsent += 1
        self.size += message.size
        if self.unsent > self.max_messages or self.size > self.max_bytes:
            self.overflowed = True
            self.items.clear()
            self.on_overflow()
        self._wake.set()

    def sent(self, message: KernelMessage) -> None:
        """``message`` has left the server (its send returned): it no longer counts."""
        self.unsent -= 1
        self.size -= message.size

    def close(self, code: int = CLOSE_REPLACED) -> None:
        """Wake the writer so it ends, closing the socket with ``code``."""
        if not self.closed:
            self.close_code = code
        self.closed = True
        self._wake.set()

    async def take(self) -> list[KernelMessage]:
        """Everything queued (waits for at least one message, overflow or close).

        The messages still count against the bound until the writer reports them ``sent``.
        """
        while not self.items and not self.overflowed and not self.closed:
            await self._wake.wait()
            self._wake = anyio.Event()
        batch = list(self.items)
        self.items.clear()
        return batch


class OpenSessions:
    """Which WebSocket serves each (kernel, session): a newcomer replaces a stale one."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], ConnectionQueue] = {}

    def register(self, key: tuple[str, str], queue: ConnectionQueue) -> None:
        """``queue`` now serves ``key``; the connection it replaces is closed."""
        stale = self._open.get(key)
        if stale is not None:
            log.warning("Replacing stale connection: %s:%s", *key)
            stale.close()
        self._open[key] = queue

    def unregister(self, key: tuple[str, str], queue: ConnectionQueue) -> bool:
        """Forget ``queue``; False if another connection had replaced it for ``key``."""
        if self._open.get(key) is queue:
            del self._open[key]
            return True
        return False

    def close_all(self) -> None:
        """Close every open WebSocket (the server is stopping).

        Replaced connections are closing already; every other one is in ``_open``.
        """
        for queue in list(self._open.values()):
            queue.close(CLOSE_GOING_AWAY)


async def serve_channels(
    websocket: WebSocket, kernels: Kernels, settings: KernelsSettings, sessions: OpenSessions
) -> None:
    """Run one kernel WebSocket until either side closes.

    Only the public ``Kernels`` service is used (``subscribe`` as a ``connection``,
    ``send``), as any plugin's server-side consumer does: one message path.
    """
    kernel_id = websocket.path_params["kernel_id"]
    session = websocket.query_params.get("session_id") or uuid.uuid4().hex
    queue = ConnectionQueue(settings.ws_queue_messages, settings.ws_queue_bytes)
    try:
        # Messages kept for this session while it was away are queued first.
        unsubscribe = kernels.subscribe(
            kernel_id, queue.put, session=session, connection=True, on_close=queue.close
        )
    except KernelNotFound as exc:
        await refuse_websocket(websocket, 404, exc.message)
        return
    key = (kernel_id, session)
    sessions.register(key, queue)
    try:
        offered = websocket.scope.get("subprotocols") or []
        v1 = settings.v1_protocol and V1_PROTOCOL in offered
        await websocket.accept(subprotocol=V1_PROTOCOL if v1 else None)
        async with anyio.create_task_group() as group:
            queue.on_overflow = group.cancel_scope.cancel
            group.start_soon(_write, websocket, queue, v1, group.cancel_scope)
            await _read(websocket, kernels, kernel_id, session, v1, queue)
            group.cancel_scope.cancel()
    finally:
        # The last connection of the session going away: the kernel keeps its messages.
        unsubscribe()
        sessions.unregister(key, queue)
        queue.close()
    if queue.overflowed:
        log.warning("kernel %s: dropping session %s: it fell too far behind", kernel_id, session)
        # Tell the client why, if its socket still takes a close frame.
        with anyio.move_on_after(2), contextlib.suppress(*PEER_GONE):
            await websocket.close(code=CLOSE_TOO_SLOW, reason=TOO_SLOW)


async def _read(
    websocket: WebSocket,
    kernels: Kernels,
    kernel_id: str,
    session: str,
    v1: bool,
    queue: ConnectionQueue,
) -> None:
    while not queue.closed and not queue.overflowed:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            queue.closed = True
            return
        data = event.get("bytes")
        if data is None:
            data = event.get("text")
        if data is None:
            continue
        try:
            if v1:
                if not isinstance(data, bytes):
                    raise WireError("the v1 protocol sends binary frames")
                message = decode_v1(data)
            else:
                message = decode_legacy(data)
        except WireError as exc:
            log.warning("kernel %s: ignoring a bad frame: %s", kernel_id, exc)
            continue
        if message.channel not in CHANNELS or message.channel == "iopub":
            log.warning("kernel %s: no such channel %r", kernel_id, message.channel)
            continue
        try:
            await kernels.send(kernel_id, message, session=session)
        except KernelNotFound:
            # Shut down meanwhile: the writer sends what is queued, closes the socket
            # and ends the connection's task group.
            queue.close()
            await anyio.sleep_forever()


async def _write(
    websocket: WebSocket, queue: ConnectionQueue, v1: bool, scope: anyio.CancelScope
) -> None:
    encode = encode_v1 if v1 else encode_legacy
    protocol = "v1" if v1 else "legacy"
    try:
        while True:
            batch = await queue.take()
            batch.reverse()
            while batch:
                # Popped, not iterated, a chunk at a time: a sent message (maybe megabytes)
                # is freed at once instead of living until the whole batch has gone out.
                chunk: list[KernelMessage] = []
                frames: list[OutgoingMessage] = []
                size = 0
                while batch and size < _CHUNK_BYTES:
                    message = batch.pop()
                    chunk.append(message)
                    size += message.size
                    if v1 and message.size > _SHARE_ENCODED_MAX:
                        # Big: the frame goes out in parts, its content and buffers as
                        # received, never copied into one joined frame.
                        frames.append(encode_v1_parts(message))
                        continue
                    frame = message.encoded.get(protocol)
                    if frame is None:
                        frame = encode(message)
                        # Small messages are where fan-out spends its time encoding; a big
                        # frame kept on its message would live as long as the message does
                        # (other connections' queues, replay buffers): twice the memory.
                        if message.size <= _SHARE_ENCODED_MAX:
                            message.encoded[protocol] = frame
                    frames.append(frame)
                # Under hypercorn, one write for the whole chunk (websocket_frames).
                await send_messages(websocket, frames)
                for message in chunk:
                    queue.sent(message)
            if queue.overflowed:
                break
            if queue.closed and not queue.items:
                with anyio.move_on_after(5):
                    await websocket.close(code=queue.close_code)
                break
    except PEER_GONE:
        pass  # the client went away mid-send: the reader sees the disconnect and ends
    finally:
        scope.cancel()
