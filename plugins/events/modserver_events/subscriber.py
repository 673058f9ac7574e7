"""One ``/api/events/subscribe`` WebSocket: events in a bounded queue, written as JSON text.

The bus calls ``put`` from ``emit`` and never waits; a writer task sends the queue out.
An event counts against the bound until its send returns (hypercorn's send returns once
the socket has drained), so a client that stops reading overflows the bound and is
dropped, closing with 1008; the other subscribers and the emitter never wait for it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable

import anyio
from modserver.api.events import EventMessage
from starlette.websockets import WebSocket

from modserver_events.bus import EventBus

log = logging.getLogger("modserver.events")

CLOSE_TOO_SLOW = 1008
CLOSE_GOING_AWAY = 1001
TOO_SLOW = "Too slow: fell too far behind the events; reconnect"


class SubscriberQueue:
    """Events not yet sent to one WebSocket, at most ``limit`` of them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: deque[str] = deque()
        self.unsent = 0  # queued, or taken by the writer and not yet sent
        self.overflowed = False
        self.closed = False
        self.client_left = False
        self._wake = anyio.Event()
        # Called once when the subscriber must go (overflow, server stopping): the writer
        # may be stuck in a send to a stalled socket and cannot notice by itself.
        self.on_end: Callable[[], None] = lambda: None

    def put(self, message: EventMessage) -> None:
        """Queue an event without waiting; past the bound, mark the subscriber dropped."""
        if self.overflowed or self.closed:
            return
        self.unsent += 1
        if self.unsent > self.limit:
            self.overflowed = True
            self.items.clear()
            self.on_end()
        else:
            self.items.append(json.dumps(message))
        self._wake.set()

    def close(self) -> None:
        """End the subscriber (the server is stopping)."""
        if not self.closed:
            self.closed = True
            self._wake.set()
            self.on_end()

    async def take(self) -> str | None:
        """The next frame to send, or None once closed or overflowed."""
        while not self.items and not self.overflowed and not self.closed:
            await self._wake.wait()
            self._wake = anyio.Event()
        if self.overflowed or self.closed:
            return None
        return self.items.popleft()


class OpenSubscribers:
    """The open subscriber queues of one app, closed together when the server stops."""

    def __init__(self) -> None:
        self.queues: set[SubscriberQueue] = set()

    def close_all(self) -> None:
        """Close every subscriber (``on_stopping``: open sockets would hold the stop)."""
        for queue in list(self.queues):
            queue.close()


async def serve_subscriber(
    websocket: WebSocket, bus: EventBus, limit: int, subscribers: OpenSubscribers
) -> None:
    """Stream every event emitted on ``bus`` to ``websocket`` until either side closes."""
    queue = SubscriberQueue(limit)
    subscribers.queues.add(queue)
    # Subscribed before the handshake completes: an event emitted as soon as the client
    # sees its socket open is not missed.
    unsubscribe = bus.subscribe(queue.put)
    try:
        await websocket.accept()
        async with anyio.create_task_group() as group:
            queue.on_end = group.cancel_scope.cancel
            group.start_soon(_write, websocket, queue, group.cancel_scope)
            await _read_until_closed(websocket, queue)
            group.cancel_scope.cancel()
    finally:
        unsubscribe()
        subscribers.queues.discard(queue)
    if queue.overflowed:
        log.warning("dropping an events subscriber: it fell %d events behind", limit)
    code = CLOSE_TOO_SLOW if queue.overflowed else CLOSE_GOING_AWAY
    reason = TOO_SLOW if queue.overflowed else "The server is stopping"
    if not queue.client_left:
        # Tell the client why, if its socket still takes a close frame.
        with anyio.move_on_after(2), contextlib.suppress(OSError, RuntimeError):
            await websocket.close(code=code, reason=reason)


async def _read_until_closed(websocket: WebSocket, queue: SubscriberQueue) -> None:
    # Subscribers send nothing; frames they send anyway are ignored (as jupyter_server).
    while True:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            queue.client_left = True
            return


async def _write(websocket: WebSocket, queue: SubscriberQueue, scope: anyio.CancelScope) -> None:
    try:
        while (frame := await queue.take()) is not None:
            await websocket.send_text(frame)
            queue.unsent -= 1
    except (OSError, RuntimeError):
        pass  # the client went away mid-send
    finally:
        scope.cancel()
