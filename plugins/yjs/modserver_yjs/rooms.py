"""The rooms of one app: opened at a client's first join, freed when idle.

A room lives in a task of the server's task group from its first client until it has been
empty for ``cleanup_delay`` seconds; then it saves (a document room) and is dropped.
Joining and freeing hold one lock, so a client never joins a room being freed, and a file's
next room loads only after the last one saved. ``session_id`` names this server run: a
client that synced with an earlier run is told to reload (close 1003).

The rooms themselves are built on pycrdt, imported with the first room (or by the
plugin's warm-up once the server listens, see ``import_rooms``), not at startup.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup
from modserver.api.auth import User
from modserver.api.contents import Contents
from modserver.api.fileid import FileIds
from modserver.api.kernels import Kernels
from modserver.imports import late_import

from modserver_yjs.history import DocumentHistory
from modserver_yjs.room_ids import RoomOpenError, parse_room_id
from modserver_yjs.settings import YjsSettings

if TYPE_CHECKING:
    from modserver_yjs.forks import DocumentFork
    from modserver_yjs.room import Client, Room, ServerClient
    from modserver_yjs.timeline import ForkRoom

log = logging.getLogger("modserver.yjs")


def import_rooms() -> None:
    """Import the room modules (pycrdt), once, under pycrdt's late-import lock.

    Called before a room is made (the first time on the event loop, unless the plugin's
    warm-up did it first in a thread).
    """
    with late_import("pycrdt"):
        import modserver_yjs.connection
        import modserver_yjs.document
        import modserver_yjs.execution
        import modserver_yjs.forks
        import modserver_yjs.timeline  # noqa: F401


class RoomRegistry:
    """Every open room of one app, by room id."""

    def __init__(
        self,
        settings: YjsSettings,
        contents: Contents,
        file_ids: FileIds,
        task_group: TaskGroup,
        history: DocumentHistory | None = None,
    ) -> None:
        self.settings = settings
        self.history = history
        self.contents = contents
        self.file_ids = file_ids
        self.task_group = task_group
        self.session_id = str(uuid.uuid4())
        self.rooms: dict[str, Room] = {}
        self._lock = anyio.Lock()

    async def join(self, room_id: str, client: Client) -> Room:
        """Add ``client`` to room ``room_id``, opening (loading) it first if needed.

        Raises ``RoomOpenError`` when a document room cannot load its file.
        """
        async with self._lock:
            room = self.rooms.get(room_id)
            if room is None:
                room = await self._open(room_id)
                self.rooms[room_id] = room
                self.task_group.start_soon(self._live, room)
            room.join(client)
            return room

    async def _open(self, room_id: str) -> Room:
        import_rooms()
        from modserver_yjs.document import DocumentRoom
        from modserver_yjs.room import Room

        parsed = parse_room_id(room_id)
        if parsed is None:
            return Room(room_id)
        file_format, file_type, file_id = parsed
        room = DocumentRoom(
            room_id,
            file_format=file_format,
            file_type=file_type,
            file_id=file_id,
            contents=self.contents,
            file_ids=self.file_ids,
            settings=self.settings,
            history=self.history,
        )
        try:
            await room.load()
        except RoomOpenError:
            raise
        except Exception as exc:
            log.exception("opening room %s failed", room_id)
            raise RoomOpenError(4500, f"Could not load the document: {exc}") from exc
        return room

    async def _live(self, room: Room) -> None:
        # An awareness-only room holds nothing worth keeping once empty.
        delay = self.settings.cleanup_delay if room.keep_when_empty else 0
        try:
            while True:
                await room.run(delay)
                async with self._lock:
                    if room.clients:
                        continue  # someone joined as the room was about to go
                    del self.rooms[room.room_id]
                    with anyio.CancelScope(shield=True):
                        await room.close()
                    return
        except Exception:
            log.exception("room %s failed", room.room_id)
            self.rooms.pop(room.room_id, None)
            room.disconnect_all()

    async def _join_as_server(self, room_id: str, holder: ServerClient) -> Room:
        """Join room ``room_id`` (opened from its file if needed) as the server's ``holder``.

        The caller leaves the room when done; if joining fails, ``holder`` is disposed here.
        """
        try:
            return await self.join(room_id, holder)
        except BaseException:
            holder.dispose()
            raise

    async def run_cell(
        self, kernels: Kernels, kernel_id: str, room_id: str, cell_id: str, user: User
    ) -> str:
        """Run cell ``cell_id`` of notebook room ``room_id`` on a kernel; the reply status.

        The room is opened from its file if no client has it open. The run goes on in the
        plugin's task group if the caller goes away; the room stays open until it ends.
        Raises ``RoomOpenError``, ``CellNotFound``, or ``ValueError`` for a room that is no
        notebook.
        """
        import_rooms()
        from modserver_yjs.document import DocumentRoom
        from modserver_yjs.execution import CellRun, find_cell
        from modserver_yjs.room import ServerClient

        holder = ServerClient(user)
        room = await self._join_as_server(room_id, holder)
        try:
            if not isinstance(room, DocumentRoom) or room.file_type != "notebook":
                raise ValueError(f"{room_id} is not a notebook's room")
            find_cell(room, cell_id)
        except BaseException:
            room.leave(holder)
            raise
        run = CellRun(kernels, kernel_id, room, cell_id)

        async def run_and_leave() -> None:
            try:
                await run.run()
            finally:
                room.leave(holder)

        self.task_group.start_soon(run_and_leave)
        await run.done.wait()
        return run.status

    async def fork(self, room_id: str) -> ForkRoom:
        """A new fork room of open document room ``room_id``, its timeline ready to walk.

        Raises ``LookupError`` when that room is not open (nobody has the document open).
        """
        import_rooms()
        from modserver_yjs.document import DocumentRoom
        from modserver_yjs.timeline import ForkRoom

        async with self._lock:
            room = self.rooms.get(room_id)
            if not isinstance(room, DocumentRoom):
                raise LookupError(room_id)
            fork = ForkRoom(uuid.uuid4().hex, room_id, room.file_type, room.timeline)
            self.rooms[fork.room_id] = fork
            self.task_group.start_soon(self._live, fork)
        log.info("room %s forked as %s (%d steps)", room_id, fork.room_id, len(fork.timestamps))
        return fork

    def find_fork(self, fork_id: str, root_id: str) -> ForkRoom:
        """The fork ``fork_id`` of room ``root_id`` that was not restored; ``LookupError``."""
        import_rooms()
        from modserver_yjs.timeline import ForkRoom

        fork = self.rooms.get(fork_id)
        if not isinstance(fork, ForkRoom) or fork.root_id != root_id or fork.restored:
            raise LookupError(fork_id)
        return fork

    async def restore(self, fork: ForkRoom, user: User) -> None:
        """Write the fork's state into its document (opened from its file if it was freed).

        The fork is done then: no more steps.
        """
        await self._merge(fork.root_id, fork.changes_for, user)
        fork.restored = True

    async def _merge(self, room_id: str, changes_for: Callable[[bytes], bytes], user: User) -> None:
        """Apply ``changes_for(state_vector)`` to document room ``room_id`` as ``user``."""
        import_rooms()
        from modserver_yjs.room import ServerClient

        holder = ServerClient(user)
        room = await self._join_as_server(room_id, holder)
        try:
            # A fork's changes (undo steps included) are ordinary changes: they merge with
            # what others wrote meanwhile, and every client of the document sees them.
            room.doc.apply_update(changes_for(room.doc.get_state()))
        finally:
            room.leave(holder)

    async def create_fork(
        self, root_id: str, *, synchronize: bool, title: str, description: str
    ) -> DocumentFork:
        """A fork of open document room ``root_id`` (``LookupError`` if it is not open)."""
        import_rooms()
        from modserver_yjs.document import DocumentRoom
        from modserver_yjs.forks import DocumentFork

        async with self._lock:
            root = self.rooms.get(root_id)
            if not isinstance(root, DocumentRoom):
                raise LookupError(root_id)
            fork = DocumentFork(
                uuid.uuid4().hex,
                root,
                synchronize=synchronize,
                title=title,
                description=description,
            )
            self.rooms[fork.room_id] = fork
            self.task_group.start_soon(self._live, fork)
        return fork

    def forks_of(self, root_id: str) -> dict[str, dict[str, Any]]:
        """The live forks of document room ``root_id``: their info by fork room id."""
        import_rooms()
        from modserver_yjs.forks import DocumentFork

        return {
            room.room_id: room.info
            for room in self.rooms.values()
            if isinstance(room, DocumentFork)
            and room.root_id == root_id
            and not room.deleted.is_set()
        }

    def find_document_fork(self, fork_id: str) -> DocumentFork:
        """The live fork ``fork_id``; ``LookupError``."""
        import_rooms()
        from modserver_yjs.forks import DocumentFork

        fork = self.rooms.get(fork_id)
        if not isinstance(fork, DocumentFork) or fork.deleted.is_set():
            raise LookupError(fork_id)
        return fork

    async def delete_fork(self, fork: DocumentFork, *, merge: bool, user: User) -> None:
        """Delete ``fork``, first writing its changes into its document if ``merge``.

        Its clients are disconnected; its room goes once they have left.
        """
        fork.stop_following()
        if merge:
            await self._merge(fork.root_id, fork.changes_for, user)
        fork.deleted.set()
        fork.disconnect_all()

    def disconnect_all(self) -> None:
        """Close every client's WebSocket (the server is stopping)."""
        for room in list(self.rooms.values()):
            room.disconnect_all()

    async def save_all(self) -> None:
        """Save every open document (the server is stopping)."""
        for room in list(self.rooms.values()):
            await room.close()

    def status(self) -> dict[str, Any]:
        """Counts for ``/api/status``."""
        return {
            "collaboration_rooms": len(self.rooms),
            "collaboration_clients": sum(len(r.clients) for r in self.rooms.values()),
        }
