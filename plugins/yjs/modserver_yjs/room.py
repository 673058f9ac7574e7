"""A room: one shared Y document, its awareness, and the WebSockets editing it.

Our own thin room on pycrdt (not pycrdt-websocket's YRoom): it needs per-client rights
(a viewer's document changes are dropped), the user's identity stamped into awareness,
jupyter's RAW save request, and a bounded send queue per client so a slow browser never
holds the others back. A ``Room`` alone serves awareness-only rooms (the lab's global
awareness); ``DocumentRoom`` (document.py) adds loading and saving a file.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from modserver.api.auth import User
from pycrdt import (
    Awareness,
    Doc,
    TransactionEvent,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    merge_updates,
)

from modserver_yjs import protocol, trust
from modserver_yjs.protocol import AwarenessEntry, MessageType

log = logging.getLogger("modserver.yjs")


class Client:
    """One WebSocket in a room: who it is, what it may do, and its send queue."""

    def __init__(
        self, user: User, *, writable: bool, queue_messages: int, may_trust: bool = False
    ) -> None:
        self.user = user
        self.writable = writable
        # Whether it may mark cells trusted (their outputs' scripts run): runs code.
        self.may_trust = may_trust
        self.client_ids: set[int] = set()  # awareness client ids this socket speaks for
        self.overflowed = False
        self.dropped = anyio.Event()  # set when the client fell too far behind
        self._send: MemoryObjectSendStream[bytes]
        self.outbox: MemoryObjectReceiveStream[bytes]
        self._send, self.outbox = anyio.create_memory_object_stream[bytes](queue_messages)

    def send(self, message: bytes) -> None:
        """Queue ``message``; a client too far behind is cut off (its outbox closes)."""
        try:
            self._send.send_nowait(message)
        except anyio.WouldBlock:
            self.overflowed = True
            self._send.close()
            self.dropped.set()
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    def close(self) -> None:
        """No more messages: the sender ends once the queue is drained."""
        self._send.close()

    def dispose(self) -> None:
        """Close both ends of the queue, for a client nobody sends to (or never served)."""
        self._send.close()
        self.outbox.close()

    def identity(self) -> dict[str, Any]:
        """The ``user`` fields of this client's awareness that the server vouches for."""
        return {k: v for k, v in self.user.identity_model().items() if v is not None}


class ServerClient(Client):
    """The server itself in a room (a cell it runs): keeps the room open, hears nothing."""

    def __init__(self, user: User) -> None:
        super().__init__(user, writable=True, queue_messages=1, may_trust=True)

    def send(self, message: bytes) -> None:
        """Nothing to send to: the server reads the document directly."""

    def close(self) -> None:
        """Nothing reads the queue: close both ends."""
        self.dispose()


class Room:
    """A Y document and awareness shared by clients; on its own, an awareness-only room."""

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self.doc: Doc[Any] = Doc()
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state(None)  # the server itself is nobody's cursor
        self.clients: set[Client] = set()
        # Set while the room has no client, so the registry knows when to free it.
        self.idle = anyio.Event()
        self.idle.set()
        self.busy = anyio.Event()
        self.doc.observe(self._on_update)
        # Watches the cells while a client that may not run code changes them (trust.py).
        self._cell_watch: trust.CellWatch | None = None
        # Updates held back to go out as one (see _apply_sync), else None.
        self._held: list[bytes] | None = None

    def _on_update(self, event: TransactionEvent) -> None:
        # Every change, from a client or the server (a load, a disk change), goes to all.
        if self._held is not None:
            self._held.append(event.update)
            return
        self.broadcast(create_update_message(event.update))

    def broadcast(self, message: bytes) -> None:
        """Queue ``message`` for every client."""
        for client in list(self.clients):
            client.send(message)

    def join(self, client: Client) -> None:
        """Add ``client`` and greet it: our state vector (sync step 1) and who is here."""
        self.clients.add(client)
        if self.idle.is_set():
            self.idle = anyio.Event()
        self.busy.set()
        client.send(create_sync_message(self.doc))
        states = self._awareness_entries(list(self.awareness.states))
        if states:
            client.send(protocol.awareness_message(protocol.encode_awareness(states)))

    def leave(self, client: Client) -> None:
        """Remove ``client`` and tell the others its cursors are gone."""
        self.clients.discard(client)
        client.close()
        gone = [cid for cid in client.client_ids if cid in self.awareness.states]
        if gone:
            entries = [
                AwarenessEntry(cid, self.awareness.meta[cid]["clock"] + 1, None) for cid in gone
            ]
            update = protocol.encode_awareness(entries)
            self.awareness.apply_awareness_update(update, client)
            self.broadcast(protocol.awareness_message(update))
        if not self.clients:
            if self.busy.is_set():
                self.busy = anyio.Event()
            self.idle.set()

    def disconnect_all(self) -> None:
        """Close every client's queue: their WebSockets close (the server is stopping)."""
        for client in list(self.clients):
            client.close()

    def _awareness_entries(self, client_ids: list[int]) -> list[AwarenessEntry]:
        return [
            AwarenessEntry(cid, self.awareness.meta[cid]["clock"], self.awareness.states[cid])
            for cid in client_ids
            if cid in self.awareness.states
        ]

    def receive(self, client: Client, message: bytes) -> protocol.RawRequest | None:
        """Handle one frame from ``client``; a RAW request is returned for the caller to serve.

        Raises ``protocol.ProtocolError`` for a malformed frame.
        """
        kind = protocol.message_type(message)
        if kind == MessageType.SYNC:
            if protocol.is_document_change(message) and not client.writable:
                return None  # a viewer's edits never reach the document
            try:
                reply = self._apply_sync(client, message)
            except Exception as exc:  # pycrdt raises plain exceptions for bad updates
                raise protocol.ProtocolError(f"bad sync message: {exc}") from exc
            if reply is not None:
                client.send(reply)
        elif kind == MessageType.AWARENESS:
            self._receive_awareness(client, protocol.awareness_update(message))
        elif kind == MessageType.QUERY_AWARENESS:
            states = self._awareness_entries(list(self.awareness.states))
            client.send(protocol.awareness_message(protocol.encode_awareness(states)))
        elif kind == MessageType.RAW:
            return protocol.read_raw(message)
        return None

    def _apply_sync(self, client: Client, message: bytes) -> bytes | None:
        """Apply a sync message. From a client that may not run code, every cell it changes
        loses its ``trusted`` mark, in a change sent out together with the client's, so no
        other client ever sees a trusted cell with content from it (trust.py)."""
        if client.may_trust or not protocol.is_document_change(message):
            return handle_sync_message(message[1:], self.doc)
        watch = self._cell_watch
        if watch is None and trust.CellWatch.applies_to(self.doc):
            watch = self._cell_watch = trust.CellWatch(self.doc)
        self._held = []
        try:
            if watch is not None:
                watch.start()
            try:
                reply = handle_sync_message(message[1:], self.doc)
            finally:
                touched = watch.stop() if watch is not None else set()
            if watch is None and trust.CellWatch.applies_to(self.doc):
                # This update made the document's cells: every one of them is its.
                self._cell_watch = trust.CellWatch(self.doc)
                touched = trust.every_cell(self.doc)
            revoked = trust.revoke_trust(self.doc, touched) if touched else []
        finally:
            held, self._held = self._held, None
            if held:
                self.broadcast(create_update_message(merge_updates(*held)))
        if revoked:
            log.warning(
                "room %s: %s may not run code; removed the trusted mark of cells %s",
                self.room_id,
                client.user.username,
                ", ".join(revoked[:5]),
            )
        return reply

    def _receive_awareness(self, client: Client, update: bytes) -> None:
        owned_elsewhere: set[int] = set()
        for other in self.clients:
            if other is not client:
                owned_elsewhere |= other.client_ids
        entries = []
        for entry in protocol.decode_awareness(update):
            if entry.client_id in owned_elsewhere:
                continue  # nobody speaks for another socket's cursor
            if entry.state is not None:
                # The names and color others see are those the server knows for the caller.
                user = entry.state.get("user")
                shown = dict(user) if isinstance(user, dict) else {}
                shown.update(client.identity())
                entry.state["user"] = shown
                client.client_ids.add(entry.client_id)
            entries.append(entry)
        if not entries:
            return
        rewritten = protocol.encode_awareness(entries)
        self.awareness.apply_awareness_update(rewritten, client)
        # To the sender too: a lone browser hears something and keeps its socket open.
        self.broadcast(protocol.awareness_message(rewritten))

    @property
    def keep_when_empty(self) -> bool:
        """True when the room waits ``cleanup_delay`` with no client before it is freed."""
        return False

    async def save_request(self) -> str:
        """Serve a client's save request: ``success``, ``skipped`` or ``failed``."""
        return "skipped"  # nothing to save in an awareness-only room

    async def run(self, cleanup_delay: float) -> None:
        """Live until the room has been empty for ``cleanup_delay`` seconds."""
        while True:
            await self.idle.wait()
            with anyio.move_on_after(cleanup_delay):
                await self.busy.wait()
            if not self.clients:
                return

    async def close(self) -> None:
        """Free the room (a document room saves first)."""
