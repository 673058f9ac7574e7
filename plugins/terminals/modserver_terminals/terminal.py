"""One terminal: a PTY, the clients attached to it and the scrollback they get on (re)connect.

The registry (manager.py) starts ``Terminal.pump`` as the terminal's one reader task: it
copies the PTY's output into the scrollback and into every client's queue. Like a real
terminal, the shell is paced by its screen: the reader pauses while *every* client is more
than half its queue behind, so ``cat big.log`` never drops a browser that reads. A client
that stalls while another reads falls further behind and is dropped (connection.py);
clients that made no progress for ``stall_timeout`` seconds while the shell waited are
dropped too: a stalled client never stops the shell for long.
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Protocol

import anyio

from modserver_terminals.pty_process import PtyProcess

#: Window sizes are clamped to this, as no screen is larger (and ioctl takes 16 bits).
MAX_SIZE = 10_000


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)


def isoformat(moment: datetime) -> str:
    """jupyter_server's timestamps: ISO 8601 with ``Z`` for UTC."""
    return moment.isoformat().replace("+00:00", "Z")


class Client(Protocol):
    """What a terminal needs of an attached WebSocket (connection.py's ``ClientQueue``)."""

    size: tuple[int, int] | None
    #: Characters queued or in flight, not yet sent.
    unsent: int
    #: Called when the client has caught up below half its bound (the terminal wakes).
    on_drained: Callable[[], None]

    def put(self, text: str) -> None:
        """Queue output for the client; never waits."""

    def disconnect(self) -> None:
        """The terminal ended: tell the client and close."""

    def drop(self) -> None:
        """The client is too slow: close it (the terminal goes on)."""


class Scrollback:
    """The most recent output, at most ``limit`` characters (older output falls off)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._chunks: deque[str] = deque()
        self._size = 0

    def append(self, text: str) -> None:
        """Remember ``text``, forgetting the oldest output beyond the limit."""
        if self.limit == 0:
            return
        self._chunks.append(text)
        self._size += len(text)
        while self._size > self.limit:
            oldest = self._chunks.popleft()
            self._size -= len(oldest)
            if self._size < self.limit:
                # Keep the tail of the chunk that crossed the limit, from a line start
                # when there is one, so a replay does not begin mid-line.
                tail = oldest[len(oldest) - (self.limit - self._size) :]
                newline = tail.find("\n")
                if 0 <= newline < len(tail) - 1:
                    tail = tail[newline + 1 :]
                if tail:
                    self._chunks.appendleft(tail)
                    self._size += len(tail)

    def text(self) -> str:
        """Everything remembered, oldest first."""
        return "".join(self._chunks)


class Terminal:
    """A named shell on a PTY, shared by every client attached to it."""

    def __init__(
        self,
        name: str,
        process: PtyProcess,
        scrollback_chars: int,
        client_chars: int,
        stall_timeout: float = 10.0,
    ) -> None:
        self.name = name
        #: The reader pauses while every client has more than this unsent.
        self.flow_limit = client_chars // 2
        #: Bytes per read: a read's text then always fits in a client's remaining room.
        self.read_size = max(1024, min(65536, client_chars // 4))
        self._room = anyio.Event()
        self.stall_timeout = stall_timeout
        self.process = process
        self.scrollback = Scrollback(scrollback_chars)
        self.clients: list[Client] = []
        self.last_activity = utcnow()
        self.reader_scope = anyio.CancelScope()
        self.reading = True  # until the reader task has left ``reader_scope``
        self.ending = False
        self.ended = anyio.Event()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._write_lock = anyio.Lock()

    def model(self) -> dict[str, Any]:
        """The terminal as ``/api/terminals`` shows it (jupyter_server's shape)."""
        return {"name": self.name, "last_activity": isoformat(self.last_activity)}

    def touch(self) -> None:
        """Record activity (input or output): culling looks at it."""
        self.last_activity = utcnow()

    async def pump(self) -> None:
        """Copy output to the scrollback and every client until the PTY closes."""
        while True:
            while self.clients and min(c.unsent for c in self.clients) > self.flow_limit:
                self._room = anyio.Event()
                with anyio.move_on_after(self.stall_timeout) as waited:
                    await self._room.wait()
                if waited.cancelled_caught:
                    # Nobody read for a long time: drop the ones behind, keep the shell going.
                    for client in list(self.clients):
                        if client.unsent > self.flow_limit:
                            client.drop()
                            self.detach(client)
            data = await self.process.read(self.read_size)
            if not data:
                return
            text = self._decoder.decode(data)
            if not text:
                continue  # the start of a multi-byte character: the rest comes next
            self.touch()
            self.scrollback.append(text)
            for client in list(self.clients):
                client.put(text)

    def attach(self, client: Client) -> None:
        """Add ``client``: it first gets the scrollback, then every new output."""
        if self.ending:  # it ended while the client connected
            client.disconnect()
            return
        # At most half the client's room: a long scrollback must not make it overflow.
        backlog = self.scrollback.text()[-self.flow_limit :] if self.flow_limit else ""
        if backlog:
            client.put(backlog)
        client.on_drained = self.wake_reader
        self.clients.append(client)

    def wake_reader(self) -> None:
        """A client caught up (or left): the reader may go on if it was waiting."""
        self._room.set()

    def detach(self, client: Client) -> None:
        """Remove ``client``; the PTY takes the size of the smallest remaining one."""
        if client in self.clients:
            self.clients.remove(client)
            self.wake_reader()
            self.resize_to_smallest()

    def resize_to_smallest(self) -> None:
        """Size the PTY to the smallest client that told its size (as terminado does).

        A terminal narrower than a window wastes some space; one wider garbles the lines.
        """
        sizes = [client.size for client in self.clients if client.size is not None]
        if not sizes:
            return
        rows = min(size[0] for size in sizes)
        cols = min(size[1] for size in sizes)
        if not self.process.closed and (rows, cols) != self.process.window_size():
            self.process.resize(rows, cols)

    async def write(self, text: str) -> None:
        """Type ``text`` into the terminal (whole: writes from two clients never interleave)."""
        self.touch()
        async with self._write_lock:
            await self.process.write(text.encode("utf-8", errors="replace"))

    async def end(self, grace: float, on_ended: Callable[[Terminal], None]) -> None:
        """End the shell's session and tell every client; idempotent.

        ``on_ended`` runs once, as soon as the terminal stops counting as running.
        """
        if self.ending:
            await self.ended.wait()
            return
        self.ending = True
        on_ended(self)
        if self.reading:  # cancelling a scope already left would cancel its task anew
            self.reader_scope.cancel()
        for client in list(self.clients):
            client.disconnect()
        self.clients.clear()
        try:
            await self.process.end(grace)
        finally:
            self.ended.set()
