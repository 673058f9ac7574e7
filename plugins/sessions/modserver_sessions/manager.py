"""The session table: which kernel serves which document.

A session links a document path (a notebook, a console's pseudo-path...) to a kernel of
the ``Kernels`` service. Sessions live as long as their kernels: kept in memory (like
jupyter_server's default in-memory database), and also written to this plugin's state
store when the kernels outlive the server (``Kernels.outlive_server``, keep mode), so the
next server serves the same sessions. ``Contents`` is optional: with it, kernels start in
the document's folder and learn the document's file name.
"""

from __future__ import annotations

import logging
import posixpath
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass
from typing import Any

import anyio
from modserver.api.contents import Contents
from modserver.api.kernels import KernelNotFound, Kernels
from modserver.api.sessions import (
    KernelChoice,
    SessionGone,
    SessionModel,
    SessionNotFound,
    Sessions,
)
from modserver.state_store import StateStore

log = logging.getLogger("modserver.sessions")

#: The store's record kind for sessions.
SESSION_RECORD = "session"


@dataclass
class SessionRecord:
    """One row of the session table."""

    id: str
    path: str
    name: str | None
    type: str | None
    kernel_id: str


class SessionManager(Sessions):
    """The ``Sessions`` service: create, look up, change and delete sessions."""

    def __init__(
        self, kernels: Kernels, contents: Contents | None, store: StateStore | None = None
    ) -> None:
        self._kernels = kernels
        self._contents = contents
        self._records: dict[str, SessionRecord] = {}
        # Two clients opening the same notebook at once must get one session, not two.
        self._path_locks: dict[str, anyio.Lock] = {}
        # Persistence (keep mode only): ids changed since the last save, and its waker.
        self._store = store
        self._unsaved: set[str] = set()
        self._save_lock = anyio.Lock()
        self._wake_saver = anyio.Event()
        self._saver: anyio.CancelScope | None = None

    # -- persistence ----------------------------------------------------------------------

    async def restore(self) -> None:
        """Load the sessions an earlier server saved; those whose kernel is gone are dropped."""
        if self._store is None:
            return
        for session_id, data in (await self._store.load(SESSION_RECORD)).items():
            try:
                self._records[session_id] = SessionRecord(**data)
            except TypeError:
                log.warning("ignoring a malformed saved session %s", session_id)
                self._changed(session_id)
        await self.list()  # drops the sessions of kernels that did not survive
        await self.save()
        if self._records:
            log.info("Sessions restored: %d", len(self._records))

    async def keep_saved(self) -> None:
        """Save changes made outside a request (renames, dropped sessions) as they happen.

        Runs in the server's task group until ``shutdown``.
        """
        with anyio.CancelScope() as scope:
            self._saver = scope
            while True:
                await self._wake_saver.wait()
                self._wake_saver = anyio.Event()
                await self.save()

    async def save(self) -> None:
        """Write every changed session to the store (delete the removed ones)."""
        if self._store is None:
            return
        async with self._save_lock:
            changed, self._unsaved = self._unsaved, set()
            for session_id in changed:
                record = self._records.get(session_id)
                try:
                    if record is None:
                        await self._store.delete(SESSION_RECORD, session_id)
                    else:
                        await self._store.put(SESSION_RECORD, session_id, asdict(record))
                except Exception:
                    # The session works all the same; it only may not outlive the server.
                    log.exception("could not save session %s", session_id)

    def _changed(self, session_id: str) -> None:
        if self._store is not None:
            self._unsaved.add(session_id)
            self._wake_saver.set()

    # -- reading --------------------------------------------------------------------------

    async def list(self) -> list[SessionModel]:
        """Every session whose kernel still runs; sessions of vanished kernels are dropped."""
        models = []
        for record in list(self._records.values()):
            model = await self._model_or_drop(record)
            if model is not None:
                models.append(model)
        return models

    async def get(self, session_id: str) -> SessionModel:
        """One session; ``SessionNotFound`` if unknown or if its kernel vanished."""
        record = self._records.get(session_id)
        if record is None:
            raise SessionNotFound(f"Session not found: {session_id}")
        model = await self._model_or_drop(record)
        if model is None:
            raise SessionNotFound(
                f"Session {session_id} was removed: its kernel {record.kernel_id} is gone"
            )
        return model

    async def find_by_path(self, path: str) -> SessionModel | None:
        """The live session of the document at ``path``, if any."""
        for record in list(self._records.values()):
            if record.path == path:
                model = await self._model_or_drop(record)
                if model is not None:
                    return model
        return None

    async def _model_or_drop(self, record: SessionRecord) -> SessionModel | None:
        try:
            kernel = await self._kernels.get(record.kernel_id)
        except KernelNotFound:
            log.warning(
                "kernel %s of session %s is gone (culled or died); removing the session",
                record.kernel_id,
                record.id,
            )
            self._records.pop(record.id, None)
            self._changed(record.id)
            return None
        return session_model(record, kernel)

    # -- changing -------------------------------------------------------------------------

    async def create(
        self,
        *,
        path: str,
        type: str,
        name: str | None = None,
        kernel: KernelChoice | None = None,
    ) -> SessionModel:
        """Return the session of ``path``, creating it (and starting a kernel) if needed.

        An existing kernel is reused when ``kernel.id`` names a running one; otherwise a
        kernel of spec ``kernel.name`` (the default spec if None) starts. Raises
        ``NoSuchKernelSpec`` for an unknown spec name.
        """
        kernel = kernel or KernelChoice()
        async with self._path_lock(path):
            existing = await self.find_by_path(path)
            if existing is not None:
                return existing
            session_id = str(uuid.uuid4())
            # A kernel already in another session is shared, not refused: JupyterLab's
            # "use the kernel of another session" relies on it, as jupyter_server allows.
            kernel_id = await self._existing_kernel(kernel.id)
            if kernel_id is None:
                kernel_id = await self._start_kernel(path, name, kernel.name)
            record = SessionRecord(session_id, path, name, type, kernel_id)
            self._records[session_id] = record
            self._changed(session_id)
            await self.save()
            return await self.get(session_id)

    async def update(
        self, session_id: str, changes: dict[str, Any], kernel: KernelChoice | None
    ) -> SessionModel:
        """Change path, name or type, and/or move the session to another kernel.

        A kernel named by id must be running (``KernelNotFound`` otherwise); a kernel named
        by spec starts first. The previous kernel is shut down once no session uses it.
        """
        await self.get(session_id)
        record = self._records[session_id]
        new_kernel_id: str | None = None
        if kernel is not None and kernel.id is not None:
            await self._kernels.get(kernel.id)  # raises KernelNotFound
            new_kernel_id = kernel.id
        elif kernel is not None:
            new_kernel_id = await self._start_kernel(
                changes.get("path", record.path), changes.get("name", record.name), kernel.name
            )
        for key in ("path", "name", "type"):
            if key in changes:
                setattr(record, key, changes[key])
        self._changed(session_id)
        if new_kernel_id is not None and new_kernel_id != record.kernel_id:
            old_kernel_id = record.kernel_id
            record.kernel_id = new_kernel_id
            await self.save()
            await self._release_kernel(old_kernel_id)
        await self.save()
        return await self.get(session_id)

    async def delete(self, session_id: str) -> None:
        """Delete the session and shut its kernel down (unless another session shares it).

        Raises ``SessionNotFound``, or ``SessionGone`` when the kernel had already vanished
        (the session is removed all the same).
        """
        record = self._records.get(session_id)
        if record is None:
            raise SessionNotFound(f"Session not found: {session_id}")
        shared = any(
            r.kernel_id == record.kernel_id and r.id != session_id for r in self._records.values()
        )
        try:
            if shared:
                await self._kernels.get(record.kernel_id)
            else:
                await self._kernels.shutdown(record.kernel_id)
        except KernelNotFound:
            raise SessionGone(
                f"Kernel {record.kernel_id} was deleted before session {session_id}"
            ) from None
        finally:
            self._records.pop(session_id, None)
            self._changed(session_id)
            await self.save()

    def follow_rename(self, old_path: str, new_path: str) -> None:
        """Keep sessions on a renamed document, or on documents inside a renamed folder."""
        prefix = old_path.rstrip("/") + "/"
        for record in self._records.values():
            if record.path == old_path:
                renamed = new_path
            elif record.path.startswith(prefix):
                renamed = new_path.rstrip("/") + "/" + record.path[len(prefix) :]
            else:
                continue
            # A name that was the file name follows it; a custom session name stays.
            if record.name == posixpath.basename(record.path):
                record.name = posixpath.basename(renamed)
            record.path = renamed
            self._changed(record.id)

    async def shutdown(self) -> None:
        """Forget every session in memory (the kernels plugin stops the kernels themselves).

        Saved sessions stay saved: in keep mode their kernels outlive the server.
        """
        if self._saver is not None:
            self._saver.cancel()
        await self.save()
        self._records.clear()

    # -- kernels --------------------------------------------------------------------------

    async def _existing_kernel(self, kernel_id: str | None) -> str | None:
        if kernel_id is None:
            return None
        try:
            await self._kernels.get(kernel_id)
        except KernelNotFound:
            # jupyter_server starts a fresh kernel when the id is unknown; so do we.
            log.info("kernel %s is not running; starting a new kernel instead", kernel_id)
            return None
        return kernel_id

    async def _start_kernel(self, path: str, name: str | None, kernel_name: str | None) -> str:
        folder = await self._kernel_folder(path)
        env = {"JPY_SESSION_NAME": self._session_file(path, name, folder)}
        model = await self._kernels.start(kernel_name, path=folder, env=env)
        return str(model["id"])

    async def _release_kernel(self, kernel_id: str) -> None:
        if any(r.kernel_id == kernel_id for r in self._records.values()):
            return
        with suppress(KernelNotFound):  # it stopped by itself meanwhile: nothing to do
            await self._kernels.shutdown(kernel_id)

    async def _kernel_folder(self, path: str) -> str:
        """The API folder a kernel for ``path`` starts in: the document's folder.

        A folder that does not exist gives way to its nearest existing parent (a session
        path need not name a file: consoles use made-up paths), and a path that tries to
        leave the root starts the kernel in the root.
        """
        folder = path if await self._is_dir(path) else posixpath.dirname(path)
        parts = [part for part in folder.split("/") if part]
        if any(part in (".", "..") for part in parts):
            return ""
        folder = "/".join(parts)
        if self._contents is None:
            return folder
        while folder and not await self._is_dir(folder):
            folder = posixpath.dirname(folder)
        return folder

    async def _is_dir(self, path: str) -> bool:
        if self._contents is None or not path:
            return False
        try:
            return await self._contents.dir_exists(path)
        except Exception:  # not a valid contents path (outside the root, say): not a folder
            log.debug("cannot tell whether %r is a folder", path, exc_info=True)
            return False

    def _session_file(self, path: str, name: str | None, folder: str) -> str:
        """``JPY_SESSION_NAME``: the document's file on disk where known, else its path."""
        if name is None or self._contents is None:
            return path
        try:
            local = self._contents.local_path(folder)
        except Exception:  # outside the root, say: fall back to the API path
            local = None
        if local is None:
            return path
        return str(local / name)

    @asynccontextmanager
    async def _path_lock(self, path: str) -> AsyncIterator[None]:
        lock = self._path_locks.setdefault(path, anyio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and lock.statistics().tasks_waiting == 0:
                self._path_locks.pop(path, None)


def session_model(record: SessionRecord, kernel: dict[str, Any]) -> SessionModel:
    """The JSON model of a session, in jupyter_server's shape."""
    model: SessionModel = {
        "id": record.id,
        "path": record.path,
        "name": record.name,
        "type": record.type,
        "kernel": kernel,
    }
    if record.type == "notebook":
        # The pre-5.0 notebook API's key, which jupyter_server still sends for notebooks.
        model["notebook"] = {"path": record.path, "name": record.name}
    return model
