"""A document room: a file's shared model, loaded from and saved to the Contents service.

The room finds its file by id (the ``FileIds`` service), so a rename while it is open
changes nothing for its clients. Saves are debounced (``save_delay`` without a change),
never write a notebook with no cell (a document that failed to load, or a truncated one,
never replaces a good file), and check the file first: if it changed on disk since the
room last read or wrote it, the disk wins and its content is merged into the document.
The same merge runs every ``file_poll_interval`` seconds.
"""

from __future__ import annotations

import base64
import copy
import logging
from typing import TYPE_CHECKING, Any

import anyio
from modserver.api.contents import Contents, ContentsError
from modserver.api.fileid import FileIds
from pycrdt import Doc, TransactionEvent

from modserver_yjs.history import DocumentHistory
from modserver_yjs.models import document_model
from modserver_yjs.room import Room
from modserver_yjs.room_ids import RoomOpenError
from modserver_yjs.settings import YjsSettings
from modserver_yjs.timeline import Timeline

if TYPE_CHECKING:
    from jupyter_ydoc.ybasedoc import YBaseDoc

log = logging.getLogger("modserver.yjs")


class DocumentRoom(Room):
    """The room of one file: its Y document model (jupyter_ydoc) kept in step with disk."""

    def __init__(
        self,
        room_id: str,
        *,
        file_format: str,
        file_type: str,
        file_id: str,
        contents: Contents,
        file_ids: FileIds,
        settings: YjsSettings,
        history: DocumentHistory | None = None,
    ) -> None:
        #: Every change since the file was loaded, for the document timeline (set before
        #: the document exists: its observer records into it).
        self.timeline = Timeline()
        super().__init__(room_id)
        self.file_format = file_format
        self.file_type = file_type
        self.file_id = file_id
        self.contents = contents
        self.file_ids = file_ids
        self.settings = settings
        self.history = history
        self.document: YBaseDoc = document_model(file_type)(self.doc, self.awareness)
        self.path: str | None = None
        self._loaded = False
        self._saved: Any = None  # the content last read from or written to the file
        self._last_modified: Any = None
        self._lock = anyio.Lock()  # one load, save or merge at a time
        self._changed = anyio.Event()
        self.document.observe(self._on_change)

    @property
    def keep_when_empty(self) -> bool:
        """Kept ``cleanup_delay`` seconds after its last client: a reload finds it open."""
        return True

    def _on_update(self, event: TransactionEvent) -> None:
        super()._on_update(event)
        self.timeline.record(event.update)

    def _on_change(self, target: str, event: Any) -> None:
        if target != "state":  # the dirty flag and the path are no content
            self._changed.set()

    # -- loading -----------------------------------------------------------------------

    async def load(self) -> None:
        """Read the file into the document (RoomOpenError if it cannot be read)."""
        path = await self.file_ids.get_path(self.file_id)
        if path is None:
            raise RoomOpenError(4404, f"No file has the id {self.file_id}")
        try:
            model = await self._read(path)
        except ContentsError as exc:
            raise RoomOpenError(4404 if exc.status == 404 else 4400, exc.message) from None
        history = await self.history.load(self.room_id) if self.history else None
        async with self._lock:
            content = self._model_content(model)
            if history is not None:
                # The document's own past: clients that kept a copy of it resync from their
                # state vectors. The file, maybe changed since, is merged in place.
                self.doc.apply_update(history)
                if content != self.document.get():
                    self.document.set(content)
            else:
                # First opened: loaded by a fixed client id, so the same file gives the same
                # Yjs history even if the stored one was lost.
                seed: Doc[Any] = Doc(client_id=0)
                document_model(self.file_type)(seed).set(content)
                self.doc.apply_update(seed.get_update())
            self.path = path
            self.document.path = path
            self._remember(model)
            self._loaded = True
            self._changed = anyio.Event()  # loading is no edit to save
            self.timeline.start(self.doc.get_update())

    async def _read(self, path: str) -> dict[str, Any]:
        fmt = None if self.file_type == "notebook" else self._contents_format()
        kind = "notebook" if self.file_type == "notebook" else "file"
        return await self.contents.get(path, type=kind, format=fmt)  # type: ignore[arg-type]

    def _contents_format(self) -> str:
        return "base64" if self.file_format == "base64" else "text"

    def _model_content(self, model: dict[str, Any]) -> Any:
        content = model["content"]
        if self.file_type == "notebook":
            return content
        if model.get("format") == "base64":
            decoded = base64.b64decode(content)
            return decoded if self.file_format == "base64" else decoded.decode("utf-8", "replace")
        return content

    def _remember(self, model: dict[str, Any]) -> None:
        self._last_modified = model.get("last_modified")
        self._saved = copy.deepcopy(self.document.get())

    # -- saving ------------------------------------------------------------------------

    async def save_request(self) -> str:
        """A client asked to save now (Ctrl+S): save and answer when the file is written."""
        try:
            await self.save()
        except Exception:
            log.exception("saving %s failed", self.path)
            return "failed"
        return "success"

    async def save(self) -> bool:
        """Write the document to its file if it changed; False if nothing was written."""
        async with self._lock:
            if not self._loaded:
                return False
            path = await self.file_ids.get_path(self.file_id)
            if path is None:
                return False  # the file was deleted: nothing to save to
            self._follow(path)
            current = await self.contents.get(path, content=False)
            if current.get("last_modified") != self._last_modified:
                # Changed on disk since we read or wrote it: the disk wins, merged in.
                await self._merge_from_disk(path)
                return False
            content = self.document.get()
            if content == self._saved:
                return False
            if self.file_type == "notebook" and not content.get("cells"):
                log.warning("not saving %s: the shared notebook has no cell", path)
                return False
            saved = await self.contents.save(self._save_model(content), path)
            self._last_modified = saved.get("last_modified")
            self._saved = copy.deepcopy(content)
            self.document.dirty = False
            return True

    def _save_model(self, content: Any) -> dict[str, Any]:
        if self.file_type == "notebook":
            return {"type": "notebook", "format": "json", "content": content}
        if isinstance(content, bytes):
            encoded = base64.b64encode(content).decode("ascii")
            return {"type": "file", "format": "base64", "content": encoded}
        return {"type": "file", "format": "text", "content": content}

    def _follow(self, path: str) -> None:
        """The file was renamed or moved: say so in the document's state."""
        if path != self.path:
            self.path = path
            self.document.path = path

    # -- disk changes ------------------------------------------------------------------

    async def check_disk(self) -> None:
        """Merge the file into the document if it changed on disk since the last read/write."""
        async with self._lock:
            if not self._loaded:
                return
            path = await self.file_ids.get_path(self.file_id)
            if path is None:
                return
            self._follow(path)
            try:
                current = await self.contents.get(path, content=False)
            except ContentsError:
                return  # gone or unreadable for now: try again next time
            if current.get("last_modified") != self._last_modified:
                await self._merge_from_disk(path)

    async def _merge_from_disk(self, path: str) -> None:
        try:
            model = await self._read(path)
        except ContentsError as exc:
            log.warning("not merging %s from disk: %s", path, exc.message)
            return
        content = self._model_content(model)
        if self.file_type == "notebook" and not content.get("cells"):
            self._last_modified = model.get("last_modified")
            return  # a notebook being written (no cell yet): keep the document
        if content != self.document.get():
            # jupyter_ydoc updates cells in place (by id): no cell is doubled.
            self.document.set(content)
        self._remember(model)
        self.document.dirty = False

    # -- the room's life ---------------------------------------------------------------

    async def run(self, cleanup_delay: float) -> None:
        """Autosave and watch the file until the room has been empty for ``cleanup_delay``."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._autosave)
            if self.settings.file_poll_interval > 0:
                tg.start_soon(self._poll)
            await super().run(cleanup_delay)
            tg.cancel_scope.cancel()

    def _autosave_wanted(self) -> bool:
        # As in jupyter-collaboration: unless every client turned autosave off.
        wishes = [s.get("autosave", True) for s in self.awareness.states.values() if s]
        return not wishes or any(wishes)

    async def _autosave(self) -> None:
        while True:
            await self._changed.wait()
            # Debounce: wait for save_delay seconds without a change.
            while True:
                self._changed = anyio.Event()
                with anyio.move_on_after(self.settings.save_delay) as quiet:
                    await self._changed.wait()
                if quiet.cancelled_caught:
                    break
            if self._autosave_wanted():
                try:
                    await self.save()
                except Exception:
                    log.exception("autosave of %s failed", self.path)

    async def _poll(self) -> None:
        while True:
            await anyio.sleep(self.settings.file_poll_interval)
            try:
                await self.check_disk()
            except Exception:
                log.exception("checking %s on disk failed", self.path)

    async def close(self) -> None:
        """Save what is unsaved and keep the document's history before the room is freed."""
        try:
            await self.save()
        except Exception:
            log.exception("final save of %s failed", self.path)
        if self.history is not None and self._loaded:
            try:
                await self.history.store(self.room_id, self.doc.get_update())
            except Exception:
                log.exception("keeping the history of %s failed", self.path)
