"""The shared kernel client: one set of ZMQ sockets per kernel, many listeners.

Every WebSocket of a kernel and every server-side consumer registers a listener here.
iopub fans out to all listeners; shell, control and stdin replies go only to the
listeners of the session that sent the request. Requests sent before the kernel
answers its first ``kernel_info_request`` wait in a queue. Execution state and last
activity are tracked here, in one place. Listeners are plain callbacks that enqueue and
return, so a slow consumer can never hold up the socket readers.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any, cast

import anyio
import zmq
import zmq.asyncio
from modserver.api.kernels import UNTRACKED_MESSAGE_TYPES, KernelListener, KernelMessage

from modserver_kernels.links import Link
from modserver_kernels.loop_socket import LoopSocket
from modserver_kernels.wire import CHANNELS, Signer, WireError, from_zmq, to_zmq

log = logging.getLogger("modserver.kernels")

# Looked up once per message: a frozenset of the shared list.
UNTRACKED_TYPES = frozenset(UNTRACKED_MESSAGE_TYPES)
SERVER_SESSION = "modserver-kernels"
_ORIGINS_LIMIT = 10_000
_LINK_GRACE = 2.0  # seconds a socket may take to connect after shell has answered
_VIEW_MIN = 64 * 1024  # parts this big are kept as views of the ZMQ message, not copied
_SOCKET_TYPES = {"shell": zmq.DEALER, "control": zmq.DEALER, "stdin": zmq.DEALER, "iopub": zmq.SUB}


def _channel_url(channel: str, info: Mapping[str, Any]) -> str:
    """The ZMQ address of one of the kernel's channels, from its connection info."""
    port = info[f"{channel}_port"]
    if info.get("transport", "tcp") == "ipc":
        return f"ipc://{info['ip']}-{port}"
    ip = str(info.get("ip", "127.0.0.1"))
    return f"tcp://[{ip}]:{port}" if ":" in ip else f"tcp://{ip}:{port}"


def _signer_for(info: Mapping[str, Any]) -> Signer:
    """The message signer for the key and scheme in the connection info."""
    key = info.get("key", b"")
    return Signer(
        key.encode() if isinstance(key, str) else key,
        str(info.get("signature_scheme", "hmac-sha256")),
    )


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


@dataclass(eq=False)
class Listener:
    """A registered consumer: ``session`` None means it sees every message."""

    callback: KernelListener
    session: str | None
    counts_as_connection: bool
    on_close: Callable[[], None] | None = None


@dataclass(eq=False)
class HeldSession:
    """Messages for a session whose WebSocket dropped, replayed when it reconnects."""

    messages: deque[KernelMessage] = field(default_factory=deque)
    size: int = 0


class KernelClient:
    """One kernel's sockets, listeners, state and pending requests."""

    def __init__(
        self,
        kernel_id: str,
        context: zmq.asyncio.Context,
        *,
        hold_messages: int = 1000,
        hold_bytes: int = 16 * 1024 * 1024,
        hold_sessions: int = 8,
    ) -> None:
        self.kernel_id = kernel_id
        self._context = context
        self.execution_state = "starting"
        self.last_activity = utcnow()
        self.ready = False
        self._listeners: list[Listener] = []
        self._sockets: dict[str, LoopSocket] = {}
        self._urls: dict[str, str] = {}
        self._links: dict[str, Link] = {}
        self._signer = Signer(b"")
        self._pending: list[tuple[KernelMessage, str | None]] = []
        self._origins: OrderedDict[str, str] = OrderedDict()
        self._waiters: dict[str, tuple[anyio.Event, list[KernelMessage]]] = {}
        self._held: OrderedDict[str, HeldSession] = OrderedDict()
        self._hold_messages = hold_messages
        self._hold_bytes = hold_bytes
        self._hold_sessions = hold_sessions
        self._scope: anyio.CancelScope | None = None
        self._iopub_seen = anyio.Event()
        self._identity = uuid.uuid4().hex.encode()
        self.closed = False
        #: Set once the kernel has answered the first ``kernel_info_request`` of ``run``.
        self.answered = anyio.Event()
        #: Whether the kernel process now behind the sockets has answered (a restart
        #: clears it): one that dies before it answers may have lost its ports.
        self.answering = False

    # -- listeners ------------------------------------------------------------------------

    @property
    def connections(self) -> int:
        """How many WebSockets are attached."""
        return sum(1 for item in self._listeners if item.counts_as_connection)

    def subscribe(
        self,
        callback: KernelListener,
        *,
        session: str | None = None,
        connection: bool = False,
        on_close: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """Register ``callback``; returns the function that unregisters it.

        See ``Kernels.subscribe``: a ``connection`` of a session first receives what was
        kept for that session, and its going away (the last one of the session) starts
        keeping again. ``on_close`` is called when the kernel goes away.
        """
        listener = Listener(callback, session, connection, on_close)
        # The session whose messages are kept while it has no connection.
        replayed = session if connection else None
        if replayed is not None:
            for message in self._take_held(replayed):
                callback(message)
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener not in self._listeners:
                return
            self._listeners.remove(listener)
            if replayed is not None and not self.closed and not self._connected(replayed):
                # Keep what this session misses until it reconnects.
                self._hold(replayed)

        return unsubscribe

    def _connected(self, session: str) -> bool:
        return any(
            item.counts_as_connection and item.session == session for item in self._listeners
        )

    def _hold(self, session: str) -> None:
        """Start keeping (bounded) messages for ``session`` until it reconnects."""
        self._held.pop(session, None)
        self._held[session] = HeldSession()
        while len(self._held) > self._hold_sessions:
            self._held.popitem(last=False)

    def _take_held(self, session: str) -> list[KernelMessage]:
        """The messages kept for ``session`` (and stop keeping them)."""
        held = self._held.pop(session, None)
        return list(held.messages) if held else []

    # -- sending --------------------------------------------------------------------------

    async def send(self, message: KernelMessage, session: str | None = None) -> None:
        """Send a request; it waits in a queue until the kernel has answered once."""
        origin = session or str(message.header.get("session", ""))
        if self.closed:
            return
        if not self.ready:
            self._pending.append((message, origin))
            return
        await self._send_now(message, origin)

    async def _send_now(self, message: KernelMessage, origin: str | None) -> None:
        socket = self._sockets.get(message.channel)
        if socket is None or message.channel == "iopub":
            log.warning(
                "kernel %s: dropping a message for channel %r", self.kernel_id, message.channel
            )
            return
        msg_id = message.header.get("msg_id")
        if origin and isinstance(msg_id, str):
            self._origins[msg_id] = origin
            if len(self._origins) > _ORIGINS_LIMIT:
                self._origins.popitem(last=False)
        self._note_activity(message.msg_type, None)
        await socket.send(to_zmq(message, self._signer))

    def new_message(
        self, msg_type: str, content: bytes = b"{}", channel: str = "shell"
    ) -> KernelMessage:
        """A message from the server itself (kernel_info, status notices)."""
        header = {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "username": "modserver",
            "session": SERVER_SESSION,
            "date": utcnow().isoformat(),
            "version": "5.3",
        }
        return KernelMessage(channel=channel, header=header, parent_header={}, content=content)

    async def request(self, message: KernelMessage, seconds: float) -> KernelMessage | None:
        """Send a server request directly and wait for its reply (None on timeout)."""
        event = anyio.Event()
        box: list[KernelMessage] = []
        msg_id = str(message.header["msg_id"])
        self._waiters[msg_id] = (event, box)
        try:
            await self._send_now(message, SERVER_SESSION)
            with anyio.move_on_after(seconds):
                await event.wait()
        finally:
            self._waiters.pop(msg_id, None)
        return box[0] if box else None

    # -- receiving ------------------------------------------------------------------------

    def notify(self, message: KernelMessage) -> None:
        """Deliver a server-made message (e.g. a ``restarting`` status) like a kernel's."""
        self._dispatch(message)

    def _note_activity(self, msg_type: str, parent_type: str | None) -> None:
        if (
            msg_type not in UNTRACKED_TYPES
            or (parent_type is not None and parent_type not in UNTRACKED_TYPES)
            or self.execution_state == "busy"
        ):
            self.last_activity = utcnow()

    def _dispatch(self, message: KernelMessage) -> None:
        parent = message.parent_header
        parent_type = parent.get("msg_type")
        self._note_activity(message.msg_type, parent_type if isinstance(parent_type, str) else "")
        if message.channel == "iopub":
            if message.msg_type == "status":
                self._track_status(message, parent_type)
            target: str | None = None
        else:
            parent_id = parent.get("msg_id")
            waiter = self._waiters.get(parent_id) if isinstance(parent_id, str) else None
            if waiter is not None and message.channel in ("shell", "control"):
                waiter[1].append(message)
                waiter[0].set()
                return
            target = self._origins.get(parent_id) if isinstance(parent_id, str) else None
            if target is not None and message.channel in ("shell", "control"):
                # The reply ends the request (stdin requests come before it).
                self._origins.pop(parent_id, None)  # type: ignore[arg-type]
            if target is None:
                target = str(parent.get("session", ""))
            if target == SERVER_SESSION:
                return
        for listener in list(self._listeners):
            if target is None or listener.session is None or listener.session == target:
                try:
                    listener.callback(message)
                except Exception:  # a broken consumer must not stop the reader
                    log.exception("kernel %s: a listener failed", self.kernel_id)
        for session, held in self._held.items():
            if target is None or session == target:
                self._keep(held, message)

    def _keep(self, held: HeldSession, message: KernelMessage) -> None:
        held.messages.append(message)
        held.size += message.size
        while held.messages and (
            len(held.messages) > self._hold_messages or held.size > self._hold_bytes
        ):
            held.size -= held.messages.popleft().size

    def _track_status(self, message: KernelMessage, parent_type: Any) -> None:
        try:
            state = message.content_json().get("execution_state")
        except ValueError:
            return
        if not isinstance(state, str):
            return
        if parent_type not in UNTRACKED_TYPES:
            self.execution_state = state
        elif self.execution_state == "starting" and state != "starting":
            self.execution_state = "idle"

    # -- running --------------------------------------------------------------------------

    async def run(
        self,
        connection_info: dict[str, Any],
        ready_timeout: float,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Connect the sockets and read them until ``close()``; call in a task group."""
        self._signer = _signer_for(connection_info)
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self.closed:
                scope.cancel()
            try:
                for channel in CHANNELS:
                    self._sockets[channel] = self._connect(channel, connection_info)
                # Read from here on by the event loop's callbacks (loop_socket.py).
                for socket in self._sockets.values():
                    socket.start()
                task_status.started()
                async with anyio.create_task_group() as group:
                    for link in self._links.values():
                        group.start_soon(link.watch)
                    if await self.wait_until_answering(ready_timeout):
                        self.answered.set()
                    await self.resume()
                    await anyio.sleep_forever()
            finally:
                for link in self._links.values():
                    link.close()
                self._links.clear()
                for socket in self._sockets.values():
                    socket.close()
                self._sockets.clear()

    def _connect(self, channel: str, info: dict[str, Any]) -> LoopSocket:
        # A plain socket: the event loop reads it (LoopSocket), not pyzmq's futures. Made by
        # the context, which closes it when it is destroyed (server shutdown).
        # (pyzmq's stubs tie ``socket_class`` to the context's own socket class.)
        made = self._context.socket(_SOCKET_TYPES[channel], socket_class=zmq.Socket)  # type: ignore[arg-type]
        socket = cast("zmq.Socket[bytes]", made)
        try:
            connected = self._connect_socket(socket, channel, info)
        except BaseException:
            # Not in self._sockets yet: closed here, or its descriptors leak (a start
            # that ran out of open files left them, and the next start found none).
            link = self._links.pop(channel, None)
            if link is not None:
                link.close()
            socket.close(linger=0)
            raise
        return LoopSocket(connected, partial(self._receive, channel))

    def _connect_socket(
        self, socket: zmq.Socket[bytes], channel: str, info: dict[str, Any]
    ) -> zmq.Socket[bytes]:
        socket.linger = 0
        if channel == "iopub":
            socket.setsockopt(zmq.SUBSCRIBE, b"")
            # A full SUB queue makes the kernel's PUB socket drop messages, silently (an
            # output line, or the "idle" that ends a cell). Our I/O thread drains the
            # socket even while the event loop is busy; per-connection queues bound what
            # each WebSocket may hold.
            socket.setsockopt(zmq.RCVHWM, 0)
        else:
            # One identity for all DEALERs: the kernel answers stdin requests to the
            # identity that sent the shell request.
            socket.setsockopt(zmq.IDENTITY, self._identity)
            self._links[channel] = Link(socket, self._context)
        url = _channel_url(channel, info)
        socket.connect(url)
        self._urls[channel] = url
        return socket

    def retarget(self, connection_info: Mapping[str, Any]) -> None:
        """Point the sockets at a restarted kernel's new ports (and key).

        The sockets, listeners and queued requests stay: WebSockets attached to the
        kernel never notice that its process listens elsewhere now.
        """
        self._signer = _signer_for(connection_info)
        for channel, loop_socket in self._sockets.items():
            socket = loop_socket.socket
            url = _channel_url(channel, connection_info)
            old = self._urls.get(channel)
            if url == old:
                continue
            if old is not None:
                with contextlib.suppress(zmq.ZMQError):
                    socket.disconnect(old)
            socket.connect(url)
            self._urls[channel] = url

    def _receive(self, channel: str, frames: list[zmq.Frame]) -> None:
        # Not copied into bytes: a big part stays a view of the ZMQ message, and goes to
        # the WebSockets as it is (pyzmq's copy of a 1 MB buffer into fresh memory was
        # most of the server's time for big outputs).
        parts = [frame.buffer if len(frame) >= _VIEW_MIN else frame.bytes for frame in frames]
        try:
            message = from_zmq(channel, parts)
        except (WireError, ValueError) as exc:
            log.warning("kernel %s: bad message on %s: %s", self.kernel_id, channel, exc)
            return
        if channel == "iopub":
            self._iopub_seen.set()
        self._dispatch(message)

    async def wait_until_answering(self, seconds: float) -> bool:
        """Ask ``kernel_info`` until both shell and iopub answer; then mark the client ready.

        A SUB socket misses what the kernel publishes before the subscription arrives,
        hence the repeated requests (as jupyter_server's "nudge" does).
        """
        self._iopub_seen = anyio.Event()
        with anyio.move_on_after(seconds):
            while True:
                reply = await self.request(self.new_message("kernel_info_request"), 0.5)
                if reply is not None:
                    with anyio.move_on_after(0.2):
                        await self._iopub_seen.wait()
                    if self._iopub_seen.is_set():
                        await self._wait_for_links()
                        if self.execution_state in ("starting", "restarting"):
                            self.execution_state = "idle"
                        self.answering = True
                        return True
        log.warning("kernel %s did not answer within %ss", self.kernel_id, seconds)
        return False

    async def _wait_for_links(self) -> None:
        """Shell answered; stdin and control may connect a moment later (see links.py).

        Bounded: a kernel that never accepts a socket still becomes usable.
        """
        with anyio.move_on_after(_LINK_GRACE):
            for link in self._links.values():
                await link.wait_up()
            return
        down = [channel for channel, link in self._links.items() if not link.up.is_set()]
        log.warning("kernel %s: no connection on %s yet", self.kernel_id, ", ".join(down))

    async def resume(self) -> None:
        """Mark the client ready and send the requests that waited meanwhile."""
        # New requests keep queueing behind these until the queue is empty: order holds.
        while self._pending:
            message, origin = self._pending.pop(0)
            await self._send_now(message, origin)
        self.ready = True

    def close(self) -> None:
        """Close the sockets and stop reading (listeners get nothing more)."""
        self.closed = True
        self.ready = False
        # Now, not when the reading task ends: the context may close the sockets first.
        for socket in self._sockets.values():
            socket.stop()
        if self._scope is not None:
            self._scope.cancel()
        for listener in list(self._listeners):
            if listener.on_close is not None:
                listener.on_close()
        self._held.clear()
