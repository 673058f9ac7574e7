"""Forks of a shared document: a copy to edit apart, merged back or dropped.

jupyter-server-ydoc's fork routes (``/api/collaboration/fork/...``), which
``@jupyter/docprovider``'s ``ForkManager`` calls for third-party UIs (suggestions, a
draft to review): a fork starts as a copy of an open document's room and lives in a room
of its own (``/api/collaboration/room/{fork_roomid}``); with ``synchronize`` the
document's later changes flow into it. Deleting it with ``merge`` writes its changes into
the document. Creating and deleting are announced on the event bus, schema
``FORK_EVENTS``, as jupyter-server-ydoc does.
"""

from __future__ import annotations

from typing import Any

import anyio
from pycrdt import Subscription, TransactionEvent

from modserver_yjs.room import Room


class DocumentFork(Room):
    """A room holding a copy of document room ``root``'s Y document."""

    def __init__(
        self, room_id: str, root: Room, *, synchronize: bool, title: str, description: str
    ) -> None:
        super().__init__(room_id)
        self.root_id = root.room_id
        self.info: dict[str, Any] = {
            "root_roomid": root.room_id,
            "synchronize": synchronize,
            "title": title,
            "description": description,
        }
        self.doc.apply_update(root.doc.get_update())
        self.deleted = anyio.Event()
        self._root = root
        self._following: Subscription | None = None
        if synchronize:
            self._following = root.doc.observe(self._follow)

    def _follow(self, event: TransactionEvent) -> None:
        self.doc.apply_update(event.update)

    async def run(self, cleanup_delay: float) -> None:
        """Live until deleted (clients or not), then until its last client has gone."""
        await self.deleted.wait()
        await super().run(0)

    def stop_following(self) -> None:
        """No more changes from the document (the fork is being deleted)."""
        if self._following is not None:
            self._root.doc.unobserve(self._following)
            self._following = None

    def changes_for(self, state_vector: bytes) -> bytes:
        """The update that brings a document at ``state_vector`` up to this fork."""
        return self.doc.get_update(state_vector)
