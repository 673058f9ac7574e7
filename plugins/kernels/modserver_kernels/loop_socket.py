"""A ZMQ socket that the event loop reads through a readiness callback, without futures.

pyzmq's asyncio socket turns every receive into a ``Future`` and a task wake-up, and its
event flags into ``enum`` objects: per message that cost more than the read itself (a
round trip's busy, execute_input, reply and idle each paid it). Here the loop calls
``_ready`` when the socket's descriptor signals; ``_ready`` takes every queued message
and hands it to ``on_message`` at once (the kernel client's dispatch, which only queues
for the WebSockets). The server's CPU per execute fell by about a fifth with this
(``benchmarks/README.md``, "Reading ZMQ in a loop callback").

The descriptor libzmq exposes is not the socket's: it signals that the socket's state
*may* have changed, and libzmq clears it whenever it processes the socket's pending
commands, which a send does too. So every send checks for messages that arrived
meanwhile, and a drain stopped by its batch limit reschedules itself: no signal is ever
relied on twice. Sends do not wait unless the kernel's queue is full (ZMQ's high-water
mark); then they wait for the descriptor like reads do.

asyncio-only (``loop.add_reader``), as pyzmq's asyncio socket is: modserver serves on
asyncio. The callback is removed by ``close`` before the socket is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import zmq

log = logging.getLogger("modserver.kernels")

DRAIN_BATCH = 64  # messages taken per loop callback, so writers still get their turn


class LoopSocket:
    """Reads ``socket`` into ``on_message`` from the running loop; sends without futures."""

    def __init__(
        self, socket: zmq.Socket[Any], on_message: Callable[[list[zmq.Frame]], None]
    ) -> None:
        self.socket = socket
        self._on_message = on_message
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd = -1
        self._stopped = False
        self._drain_scheduled = False
        self._writable: anyio.Event | None = None

    def start(self) -> None:
        """Start reading (call from the event loop's thread, in the server's loop)."""
        self._loop = asyncio.get_running_loop()
        self._fd = self.socket.FD
        self._loop.add_reader(self._fd, self._ready)
        # Messages queued before the callback was in place signalled no one.
        self._schedule_drain()

    def stop(self) -> None:
        """Stop reading; a sender waiting for room gives up (``zmq.Again``)."""
        self._stopped = True
        if self._loop is not None and self._fd >= 0:
            self._loop.remove_reader(self._fd)
        self._fd = -1
        if self._writable is not None:
            self._writable.set()

    def close(self) -> None:
        """Stop reading and close the socket (its descriptor goes with it)."""
        self.stop()
        self.socket.close(linger=0)

    async def send(self, parts: Sequence[Any]) -> None:
        """Send one multipart message; waits only while the peer's queue is full."""
        while True:
            try:
                self.socket.send_multipart(parts, zmq.NOBLOCK, copy=False)
                break
            except zmq.Again:
                if self.socket.closed or self._stopped:
                    raise
                if self._writable is None:  # shared by every sender waiting
                    self._writable = anyio.Event()
                await self._writable.wait()
        # The send processed the socket's commands: a message that arrived meanwhile
        # has no signal left on the descriptor.
        self._check_readable()

    def _ready(self) -> None:
        # Reading EVENTS makes libzmq process the socket's commands (clearing the signal).
        if self.socket.closed or self._stopped:
            return
        events = self._events()
        if events & zmq.POLLOUT and self._writable is not None:
            self._writable.set()
            self._writable = None
        if events & zmq.POLLIN:
            self._drain()

    def _events(self) -> int:
        events = self.socket.getsockopt(zmq.EVENTS)
        assert isinstance(events, int)  # an integer option
        return events

    def _check_readable(self) -> None:
        if not self.socket.closed and self._events() & zmq.POLLIN:
            self._schedule_drain()

    def _schedule_drain(self) -> None:
        if not self._drain_scheduled and self._loop is not None:
            self._drain_scheduled = True
            self._loop.call_soon(self._scheduled_drain)

    def _scheduled_drain(self) -> None:
        self._drain_scheduled = False
        if not self.socket.closed and not self._stopped:
            self._drain()

    def _drain(self) -> None:
        for _ in range(DRAIN_BATCH):
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            except zmq.ZMQError as exc:  # closed under us: nothing more to read
                log.debug("ZMQ socket read stopped: %s", exc)
                return
            try:
                self._on_message(frames)
            except Exception:  # one bad message must not strand the ones queued after it
                log.exception("a ZMQ message could not be handled")
        # More may be queued: continue after the other callbacks and tasks had a turn.
        self._schedule_drain()
