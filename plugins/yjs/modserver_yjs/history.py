"""The Yjs history of each document, kept in SQLite when its room is freed.

A room that opens again starts from its file's stored history, then merges the file in
place: a browser that kept its copy of the document (a dropped connection, a laptop lid)
reconnects and resyncs from its state vector, and nothing is doubled, even if the file was
changed on disk meanwhile. Stored once per room close, as one merged update, keyed by file
id (so it follows renames), in the table ``documents`` of the plugin's database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio

SCHEMA = "CREATE TABLE IF NOT EXISTS documents (room_id TEXT PRIMARY KEY, history BLOB NOT NULL)"


class DocumentHistory:
    """Stored histories of documents, by room id; one per app."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self._lock = anyio.Lock()  # one connection at a time from this app

    def _connect(self) -> sqlite3.Connection:
        self.database.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.database, timeout=10)
        connection.execute(SCHEMA)
        return connection

    async def load(self, room_id: str) -> bytes | None:
        """The stored history of ``room_id`` (a Yjs update), or None."""

        def read() -> bytes | None:
            if not self.database.exists():
                return None
            connection = self._connect()
            try:
                row = connection.execute(
                    "SELECT history FROM documents WHERE room_id = ?", (room_id,)
                ).fetchone()
            finally:
                connection.close()
            return None if row is None else bytes(row[0])

        async with self._lock:
            return await anyio.to_thread.run_sync(read)

    async def store(self, room_id: str, history: bytes) -> None:
        """Keep ``history`` (the document's whole state as one update) for ``room_id``."""

        def write() -> None:
            connection = self._connect()
            try:
                with connection:
                    connection.execute(
                        "INSERT OR REPLACE INTO documents (room_id, history) VALUES (?, ?)",
                        (room_id, history),
                    )
            finally:
                connection.close()

        async with self._lock:
            await anyio.to_thread.run_sync(write)
