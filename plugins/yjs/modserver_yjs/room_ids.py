"""Room ids and the errors of asking for a room or a cell, without pycrdt.

Kept apart from the rooms themselves (``document``, ``execution``, built on pycrdt) so that
the routes and the registry can be built at startup without importing pycrdt: it is
imported with the first room, or by the plugin's warm-up once the server listens.
"""

from __future__ import annotations


class RoomOpenError(Exception):
    """A document room could not load its file; ``code`` is the WebSocket close code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_room_id(room_id: str) -> tuple[str, str, str] | None:
    """``(format, type, file_id)`` of a document room id, None for other rooms."""
    parts = room_id.split(":", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


class CellNotFound(LookupError):
    """The document has no cell of that id."""
