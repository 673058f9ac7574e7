"""A small SQLite store for state that outlives one server process (kept kernels, sessions).

Each owner (a plugin) gets its own file per served root in the runtime folder, so two
plugins never share tables and two servers on different roots never share a file. Records
are JSON documents keyed by (kind, id); every write is one SQLite transaction (atomic).
One writer: the connection holds SQLite's exclusive lock for its lifetime, so a second
server on the same root is refused at once instead of both adopting the same kernels; the
operating system releases the lock when the process ends, even on SIGKILL. Every call runs
in a worker thread: SQLite never blocks the event loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import anyio

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS records ("
    " kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id))"
)


class StateStoreBusy(RuntimeError):
    """Another process holds the store (another server runs on the same root)."""


def state_store_path(runtime_dir: Path, root_dir: Path, owner: str) -> Path:
    """Where ``owner`` keeps its state for the server of ``root_dir``."""
    digest = hashlib.sha256(str(root_dir.resolve()).encode()).hexdigest()[:16]
    return runtime_dir / "state" / f"{owner}-{digest}.sqlite3"


class StateStore:
    """JSON records by (kind, id) in one SQLite file, used by one process at a time."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection
        # One statement at a time on the one connection (it moves between worker threads).
        self._lock = anyio.Lock()

    @classmethod
    async def open(cls, path: Path) -> StateStore:
        """Open (creating if needed) the store at ``path``; raises ``StateStoreBusy``."""
        return cls(path, await anyio.to_thread.run_sync(_connect, path))

    async def load(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every record of ``kind``, by id."""
        rows = await self._run("SELECT id, data FROM records WHERE kind = ?", (kind,))
        return {str(row[0]): json.loads(row[1]) for row in rows}

    async def put(self, kind: str, record_id: str, data: dict[str, Any]) -> None:
        """Write (insert or replace) one record."""
        sql = "INSERT OR REPLACE INTO records (kind, id, data) VALUES (?, ?, ?)"
        await self._run(sql, (kind, record_id, json.dumps(data)))

    async def delete(self, kind: str, record_id: str) -> None:
        """Remove one record (nothing happens if there is none)."""
        await self._run("DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id))

    async def close(self) -> None:
        """Close the file (and release the lock)."""
        async with self._lock:
            await anyio.to_thread.run_sync(self._connection.close)

    async def _run(self, sql: str, parameters: tuple[str, ...]) -> list[Any]:
        def run() -> list[Any]:
            with self._connection:  # one transaction: committed whole, or rolled back
                return self._connection.execute(sql, parameters).fetchall()

        async with self._lock:
            return await anyio.to_thread.run_sync(run)


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # The store holds kernels' connection keys: readable by the server's user only.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    connection = sqlite3.connect(path, timeout=0, check_same_thread=False)
    try:
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        # The first write takes the exclusive lock, kept until the connection closes.
        with connection:
            connection.execute(_SCHEMA)
    except sqlite3.OperationalError as exc:
        connection.close()
        if "locked" in str(exc):
            raise StateStoreBusy(
                f"{path} is in use by another modserver on the same root; stop it first"
            ) from None
        raise
    return connection
