"""Whether a socket of the kernel client is connected to the kernel right now.

ZMQ connects in the background and retries every 100 ms until the kernel listens, so
the stdin socket may come up a little after shell has answered. A ROUTER drops a
message for a peer it does not know yet: an ``input_request`` sent in that window is
lost and the cell waits for input forever. The client therefore waits for every
link before it declares the kernel ready (and again after a restart).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import anyio
import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

_EVENTS = zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED


class Link:
    """Follows one socket's connection events (create it before ``connect``)."""

    def __init__(self, socket: zmq.Socket[Any], context: zmq.asyncio.Context) -> None:
        self._socket = socket
        # The events arrive on a PAIR socket of the asyncio context, awaited by ``watch``.
        address = f"inproc://modserver-link-{uuid.uuid4().hex}"
        socket.monitor(address, _EVENTS)
        self._monitor = context.socket(zmq.PAIR)
        self._monitor.connect(address)
        self.up = anyio.Event()

    async def watch(self) -> None:
        """Track handshakes and disconnections until cancelled."""
        while True:
            event = parse_monitor_message(await self._monitor.recv_multipart())["event"]
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.up.set()
            elif event == zmq.EVENT_DISCONNECTED and self.up.is_set():
                self.up = anyio.Event()

    async def wait_up(self) -> None:
        """Return once the socket is connected to the kernel."""
        await self.up.wait()

    def close(self) -> None:
        """Stop monitoring (before the socket itself is closed)."""
        with contextlib.suppress(zmq.ZMQError):
            self._socket.disable_monitor()
        self._monitor.close(linger=0)
