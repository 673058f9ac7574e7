"""File ids in SQLite: the ``FileIds`` service this plugin provides.

One table maps ids to API paths. Every operation runs in order on one worker (a task that
takes jobs from a queue and runs each in a thread), so a rename the contents hook reports
is applied before any later lookup, and SQLite never runs on the event loop. The database
is created at the first id given out: a server nobody collaborates on writes nothing, and
nothing walks the tree at start.
"""

from __future__ import annotations

import math
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from modserver.api.fileid import FileIds

T = TypeVar("T")

SCHEMA = "CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE)"


class _Job:
    """One database operation and, once run, its result or error."""

    def __init__(self, work: Callable[[sqlite3.Connection], Any], wanted: bool) -> None:
        self.work = work
        self.done = anyio.Event() if wanted else None
        self.result: Any = None
        self.error: BaseException | None = None


def _below(path: str) -> tuple[str, int]:
    """The prefix of everything inside folder ``path`` and its length (for SQL substr)."""
    prefix = path.rstrip("/") + "/"
    return prefix, len(prefix)


class SqliteFileIds(FileIds):
    """File ids kept in the SQLite database at ``database``; one per app."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self._connection: sqlite3.Connection | None = None
        self._send: MemoryObjectSendStream[_Job]
        self._receive: MemoryObjectReceiveStream[_Job]
        # Unbounded: the contents hooks (plain functions) must be able to queue at once.
        self._send, self._receive = anyio.create_memory_object_stream[_Job](math.inf)

    async def run(self) -> None:
        """Run queued operations one after the other until cancelled (the app's stop)."""
        try:
            async with self._receive:
                async for job in self._receive:
                    try:
                        job.result = await anyio.to_thread.run_sync(self._run_job, job)
                    except Exception as exc:
                        job.error = exc
                    if job.done is not None:
                        job.done.set()
        finally:
            if self._connection is not None:
                self._connection.close()

    def _run_job(self, job: _Job) -> Any:
        connection = self._connect(create=job.done is not None)
        if connection is None:
            return None  # no database yet: no id was ever given out, nothing to update
        with connection:
            return job.work(connection)

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        if self._connection is None:
            if not create and not self.database.exists():
                return None
            self.database.parent.mkdir(parents=True, exist_ok=True)
            # One worker uses it at a time, from whichever thread anyio picks.
            self._connection = sqlite3.connect(self.database, check_same_thread=False)
            self._connection.execute(SCHEMA)
            self._connection.commit()
        return self._connection

    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        job = _Job(work, wanted=True)
        await self._send.send(job)
        assert job.done is not None
        await job.done.wait()
        if job.error is not None:
            raise job.error
        result: T = job.result
        return result

    def _queue(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        """Queue an update from a synchronous hook; later lookups run after it."""
        self._send.send_nowait(_Job(work, wanted=False))

    # -- FileIds -----------------------------------------------------------------------

    async def get_id(self, path: str) -> str | None:
        """The id of ``path``, or None."""

        def work(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
            return None if row is None else str(row[0])

        return await self._call(work)

    async def index(self, path: str) -> tuple[str, bool]:
        """The id of ``path``, created if needed, and whether it was created."""

        def work(db: sqlite3.Connection) -> tuple[str, bool]:
            row = db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
            if row is not None:
                return str(row[0]), False
            file_id = str(uuid.uuid4())
            db.execute("INSERT INTO files (id, path) VALUES (?, ?)", (file_id, path))
            return file_id, True

        return await self._call(work)

    async def get_path(self, file_id: str) -> str | None:
        """The current path of ``file_id``, or None."""

        def work(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT path FROM files WHERE id = ?", (file_id,)).fetchone()
            return None if row is None else str(row[0])

        return await self._call(work)

    async def move(self, old_path: str, new_path: str) -> None:
        """Move the ids of ``old_path`` and everything below it to ``new_path``."""
        await self._call(_mover(old_path, new_path))

    async def copy(self, from_path: str, to_path: str) -> str:
        """A new id for the copy ``to_path`` (the original keeps its own)."""
        await self.delete(to_path)
        file_id, _ = await self.index(to_path)
        return file_id

    async def delete(self, path: str) -> None:
        """Forget the ids of ``path`` and everything below it."""
        await self._call(_deleter(path))

    # -- from the contents hooks (synchronous) -----------------------------------------

    def moved(self, old_path: str, new_path: str) -> None:
        """The contents hook saw a rename: queue the move of the ids."""
        self._queue(_mover(old_path, new_path))

    def deleted(self, path: str) -> None:
        """The contents hook saw a delete: queue forgetting the ids."""
        self._queue(_deleter(path))


def _mover(old_path: str, new_path: str) -> Callable[[sqlite3.Connection], None]:
    def work(db: sqlite3.Connection) -> None:
        old_prefix, old_len = _below(old_path)
        new_prefix, _ = _below(new_path)
        # Whatever had an id at the target was replaced: its id goes.
        _deleter(new_path)(db)
        db.execute("UPDATE files SET path = ? WHERE path = ?", (new_path, old_path))
        db.execute(
            "UPDATE files SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
            (new_prefix, old_len + 1, old_len, old_prefix),
        )

    return work


def _deleter(path: str) -> Callable[[sqlite3.Connection], None]:
    def work(db: sqlite3.Connection) -> None:
        prefix, length = _below(path)
        db.execute(
            "DELETE FROM files WHERE path = ? OR substr(path, 1, ?) = ?", (path, length, prefix)
        )

    return work
