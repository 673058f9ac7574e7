"""``LocalContents``: the ``Contents`` service on the local disk.

Each operation runs as one unit in a worker thread (``FileStore`` does the disk work), so
the event loop never waits on the disk. Hooks run on the event loop, before and after the
disk work, so their implementations need not be thread-safe.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
from modserver.api.contents import Contents, ContentsModel, ContentType
from modserver.api.events import CONTENTS_SCHEMA_ID, Events

from modserver_contents.batch import ThreadBatch
from modserver_contents.store import FileStore

if TYPE_CHECKING:
    from modserver.hooks import AppHooks

#: Files up to this size are read (and notebooks parsed) in a batched call (see ``batch``).
SMALL_READ = 64 * 1024


class LocalContents(Contents):
    """Files, folders and notebooks under the server's root folder."""

    def __init__(self, store: FileStore, hook: AppHooks, events: Events | None = None) -> None:
        self.store = store
        self.hook = hook
        self.events = events  # jupyter_server's contents events, when a provider is enabled
        # Picking a free name and creating it must not interleave between two requests.
        self._naming = anyio.Lock()
        self._batch = ThreadBatch()

    async def get(
        self,
        path: str,
        *,
        content: bool = True,
        type: ContentType | None = None,
        format: Literal["text", "base64"] | None = None,
        hash: bool = False,
    ) -> ContentsModel:
        """The model at ``path``; folders list their children, notebooks come parsed."""
        # Most requests are for small files: batched with others; listings and big files
        # get a worker thread of their own.
        model = await self._batch.run(
            partial(self.store.get_small, path, content, type, format, hash, SMALL_READ)
        )
        if model is None:
            model = await anyio.to_thread.run_sync(
                partial(self.store.get, path, content, type, format, hash)
            )
        return model

    async def open_for_download(
        self, path: str, read_limit: int
    ) -> tuple[str, str, os.stat_result, bytes | None]:
        """``FileStore.open_for_download`` in a worker thread (batched: it is short)."""
        return await self._batch.run(partial(self.store.open_for_download, path, read_limit))

    def accepts_large_content(self) -> bool:
        """True if a save may carry its content as ``LargeContent`` (streamed to disk).

        Only while no plugin implements the save hooks: they are promised the content.
        """
        return not self._save_hooks()

    def _save_hooks(self) -> bool:
        return self.hook.implemented("contents_pre_save") or self.hook.implemented(
            "contents_post_save"
        )

    async def save(self, model: ContentsModel, path: str) -> ContentsModel:
        """Save ``model`` at ``path`` (creating it if needed), with the save hooks."""
        return await self._saving(model, path, self.store.save)

    async def create(self, model: ContentsModel, path: str) -> ContentsModel:
        """Create ``path``, filling in an empty file or notebook when ``model`` has no content."""
        return await self._saving(model, path, self.store.create)

    async def _saving(
        self, model: ContentsModel, path: str, write: Any, event: bool = True
    ) -> ContentsModel:
        chunk = model.get("chunk")
        if chunk in (None, 1):  # once per upload, not once per chunk
            self.hook.contents_pre_save(model=model, path=path)
        saved: ContentsModel = await anyio.to_thread.run_sync(write, model, path)
        if chunk in (None, -1):
            self.hook.contents_post_save(
                model={**saved, "content": model.get("content"), "format": model.get("format")},
                path=saved["path"],
            )
            if event:
                self._emit("save", saved["path"])
        return saved

    async def new_untitled(
        self, path: str = "", *, type: ContentType | Literal[""] = "file", ext: str = ""
    ) -> ContentsModel:
        """Create ``untitled.txt`` / ``Untitled.ipynb`` / ``Untitled Folder`` in ``path``.

        A save, as in jupyter_server: the save hooks see the new (empty) item.
        """
        async with self._naming:
            model, target = await anyio.to_thread.run_sync(
                self.store.untitled_model, path, type, ext
            )
            return await self._saving(model, target, self.store.save)

    async def copy(self, from_path: str, to_dir: str | None = None) -> ContentsModel:
        """Copy ``from_path`` into folder ``to_dir`` as ``name-CopyN`` (or to a new path).

        A file is copied on disk as it is, unless a plugin implements the save hooks: then,
        as in jupyter_server, the copy is a save of the file's content, which the hooks see
        (and may change: a hook that strips outputs strips them from copies too). A folder
        is always copied as it is.
        """
        async with self._naming:
            if self._save_hooks() and await self.file_exists(from_path):
                _, _, target = await anyio.to_thread.run_sync(
                    self.store.copy_target, from_path, to_dir
                )
                source = await self.get(from_path, content=True)
                content = {key: source[key] for key in ("type", "format", "content")}
                model = await self._saving(content, target, self.store.save, event=False)
            else:
                model = await anyio.to_thread.run_sync(self.store.copy, from_path, to_dir)
        self._emit("copy", model["path"], from_path.strip("/"))
        return model

    async def rename(self, old_path: str, new_path: str) -> ContentsModel:
        """Rename or move; 409 if ``new_path`` exists. Returns the model at the new path."""
        await anyio.to_thread.run_sync(self.store.rename, old_path, new_path)
        model = await self.get(new_path, content=False)
        if model["path"] != old_path.strip("/"):
            self.hook.contents_post_rename(old_path=old_path.strip("/"), new_path=model["path"])
            self._emit("rename", model["path"], old_path.strip("/"))
        return model

    async def delete(self, path: str) -> None:
        """Delete a file or folder (to the trash when configured)."""
        await anyio.to_thread.run_sync(self.store.delete, path)
        self.hook.contents_post_delete(path=path.strip("/"))
        self._emit("delete", path.strip("/"))

    def _emit(self, action: str, path: str, source_path: str | None = None) -> None:
        """Emit jupyter_server's contents event for an action that succeeded."""
        if self.events is not None:
            data = {"action": action, "path": path}
            if source_path is not None:
                data["source_path"] = source_path
            self.events.emit(CONTENTS_SCHEMA_ID, data)

    async def resolve_path(self, path: str) -> str | None:
        """The API path of the existing file or folder ``path`` names (see the interface)."""
        return await anyio.to_thread.run_sync(self.store.resolve_existing, path)

    async def exists(self, path: str) -> bool:
        """True if a file or folder exists at ``path``."""
        return await anyio.to_thread.run_sync(self.store.exists, path)

    async def dir_exists(self, path: str) -> bool:
        """True if a folder exists at ``path``."""
        return await anyio.to_thread.run_sync(self.store.dir_exists, path)

    async def file_exists(self, path: str) -> bool:
        """True if a file (not a folder) exists at ``path``."""
        return await anyio.to_thread.run_sync(self.store.file_exists, path)

    def local_path(self, path: str) -> Path | None:
        """The disk path of ``path``; ContentsError (403/400) if it would leave the root."""
        return Path(self.store.resolver.resolve(path)[1])

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """Checkpoints of ``path`` (zero or one)."""
        return await anyio.to_thread.run_sync(self.store.list_checkpoints, path)

    async def create_checkpoint(self, path: str) -> dict[str, Any]:
        """Checkpoint ``path``."""
        return await anyio.to_thread.run_sync(self.store.create_checkpoint, path)

    async def restore_checkpoint(self, path: str, checkpoint_id: str) -> None:
        """Restore ``path`` from a checkpoint."""
        await anyio.to_thread.run_sync(self.store.restore_checkpoint, path, checkpoint_id)

    async def delete_checkpoint(self, path: str, checkpoint_id: str) -> None:
        """Delete a checkpoint."""
        await anyio.to_thread.run_sync(self.store.delete_checkpoint, path, checkpoint_id)
