"""One terminal WebSocket, ``/terminals/websocket/{name}``, speaking terminado's protocol.

Frames are JSON arrays whose first item names the message: the client sends
``["stdin", text]`` and ``["set_size", rows, cols, ...]``; the server sends
``["setup", {}]`` first, then ``["stdout", text]`` (the scrollback, then live output), and
``["disconnect", 1]`` when the shell has ended. The endpoint runs a reader (client frames
to the PTY) and a writer (a bounded queue to the client): the terminal only appends to
the queue (pausing while every client is far behind, see terminal.py), and a client that
falls ``client_queue_chars`` behind is dropped, never the PTY.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import anyio
import orjson
from modserver.jsonbody import loads
from modserver.routing import refuse_websocket
from starlette.websockets import WebSocket

from modserver_terminals.manager import TerminalRegistry
from modserver_terminals.terminal import MAX_SIZE, Terminal

log = logging.getLogger("modserver.terminals")

CLOSE_NORMAL = 1000
CLOSE_TOO_SLOW = 1008
TOO_SLOW = "Too slow: fell too far behind the terminal's output; reconnect"
SETUP = orjson.dumps(["setup", {}]).decode()
DISCONNECT = orjson.dumps(["disconnect", 1]).decode()


class ClientQueue:
    """Output waiting for one WebSocket, bounded in characters; the terminal's ``Client``.

    Output counts until its send returns, and the ASGI server's send returns only once the
    socket has taken it, so a client that stops reading soon overflows the bound and is
    dropped (as the kernel WebSocket does).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size: tuple[int, int] | None = None
        self.items: deque[str] = deque()
        self.unsent = 0
        self.overflowed = False
        self.ended = False  # the terminal ended: send "disconnect" and close
        self.closed = False
        self.close_code = CLOSE_NORMAL
        self._wake = anyio.Event()
        self.on_overflow: Callable[[], None] = lambda: None
        self.on_drained: Callable[[], None] = lambda: None

    def put(self, text: str) -> None:
        """Queue output; past the bound, mark the client too slow (it will be dropped)."""
        if self.overflowed or self.closed:
            return
        self.items.append(text)
        self.unsent += len(text)
        if self.unsent > self.limit:
            self.overflowed = True
            self.items.clear()
            self.on_overflow()
            self.on_drained()  # the terminal must not wait for this one any more
        self._wake.set()

    def drop(self) -> None:
        """Drop this client as too slow (the terminal's reader found it stalled)."""
        if not self.overflowed and not self.closed:
            self.overflowed = True
            self.items.clear()
            self.on_overflow()
            self._wake.set()

    def sent(self, count: int) -> None:
        """``count`` characters have left the server."""
        self.unsent -= count
        if self.unsent <= self.limit // 2:
            self.on_drained()

    def disconnect(self) -> None:
        """The terminal ended: the writer sends what is queued, ``disconnect``, and closes."""
        self.ended = True
        self._wake.set()

    def close(self, code: int = CLOSE_NORMAL) -> None:
        """Close without the ``disconnect`` message (the client went, or the server stops)."""
        if not self.closed:
            self.close_code = code
        self.closed = True
        self._wake.set()

    async def take(self) -> str:
        """Everything queued as one text (waits for output, an end or a close)."""
        while not self.items and not (self.overflowed or self.ended or self.closed):
            await self._wake.wait()
            self._wake = anyio.Event()
        text = "".join(self.items)
        self.items.clear()
        return text


async def serve_terminal(websocket: WebSocket, registry: TerminalRegistry) -> None:
    """Run one terminal WebSocket until the client leaves or the terminal ends."""
    name = websocket.path_params["terminal_id"]
    terminal = registry.find(name)
    if terminal is None:
        await refuse_websocket(websocket, 404, f"Terminal not found: {name}")
        return
    await websocket.accept()
    queue = ClientQueue(registry.settings.client_queue_chars)
    async with anyio.create_task_group() as group:
        queue.on_overflow = group.cancel_scope.cancel
        terminal.attach(queue)
        try:
            group.start_soon(_write, websocket, queue, group.cancel_scope)
            await _read(websocket, terminal, queue)
        finally:
            terminal.detach(queue)
            queue.close()
            group.cancel_scope.cancel()
    if queue.overflowed:
        log.warning("terminal %s: dropping a client: it fell too far behind", name)
        with anyio.move_on_after(2), contextlib.suppress(OSError, RuntimeError):
            await websocket.close(code=CLOSE_TOO_SLOW, reason=TOO_SLOW)


def _size(value: Any) -> int | None:
    """A window dimension from a client: a positive integer (clamped), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
        return None
    return min(int(value), MAX_SIZE)


async def _read(websocket: WebSocket, terminal: Terminal, queue: ClientQueue) -> None:
    while not queue.closed and not queue.overflowed and not queue.ended:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            queue.closed = True
            return
        data = event.get("text")
        if data is None:
            data = event.get("bytes")
        if data is None:
            continue
        try:
            message = loads(data)
        except ValueError as exc:
            log.warning("terminal %s: ignoring a frame that is not JSON: %s", terminal.name, exc)
            continue
        if not isinstance(message, list) or not message or not isinstance(message[0], str):
            log.warning("terminal %s: ignoring a frame that is not a message", terminal.name)
            continue
        kind = message[0]
        if kind == "stdin" and len(message) > 1 and isinstance(message[1], str):
            if terminal.ending:
                return
            await terminal.write(message[1])
        elif kind == "set_size" and len(message) > 2:
            rows, cols = _size(message[1]), _size(message[2])
            if rows is not None and cols is not None:
                queue.size = (rows, cols)
                terminal.resize_to_smallest()
        else:
            log.debug("terminal %s: ignoring a %r message", terminal.name, kind)


async def _write(websocket: WebSocket, queue: ClientQueue, scope: anyio.CancelScope) -> None:
    try:
        await websocket.send_text(SETUP)
        while True:
            text = await queue.take()
            if queue.overflowed:
                break
            if text:
                await websocket.send_text(orjson.dumps(["stdout", text]).decode())
                queue.sent(len(text))
            if queue.ended:
                with anyio.move_on_after(5):
                    await websocket.send_text(DISCONNECT)
                    await websocket.close(code=CLOSE_NORMAL)
                break
            if queue.closed:
                with anyio.move_on_after(5):
                    await websocket.close(code=queue.close_code)
                break
    except OSError:
        pass  # the client went away mid-send
    except RuntimeError:
        pass  # starlette: the socket is already closed
    finally:
        scope.cancel()
