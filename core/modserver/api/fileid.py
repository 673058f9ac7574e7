"""The FileIds service: a stable id for a file, whatever its path becomes.

Collaborative rooms are named by file id, so a document keeps its room (and its users keep
editing) while it is renamed or moved. A provider keeps ids in step with the Contents
service through its hooks (``contents_post_rename``, ``contents_post_delete``); paths are
API paths, as in ``modserver.api.contents``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class FileIds(ABC):
    """Stable ids of files: they survive renames, moves and server restarts."""

    @abstractmethod
    async def get_id(self, path: str) -> str | None:
        """The id of ``path`` if one was given out, else None (never creates one)."""

    @abstractmethod
    async def index(self, path: str) -> tuple[str, bool]:
        """The id of ``path``, created if needed: ``(id, created)``.

        The caller checks that the file exists; an id is given to any path it asks for.
        """

    @abstractmethod
    async def get_path(self, file_id: str) -> str | None:
        """The current path of the file ``file_id`` names, or None if unknown or deleted."""

    @abstractmethod
    async def move(self, old_path: str, new_path: str) -> None:
        """``old_path`` (a file or a folder and all below it) is now ``new_path``."""

    @abstractmethod
    async def copy(self, from_path: str, to_path: str) -> str:
        """``to_path`` is a copy of ``from_path``: a new id for the copy, which it returns."""

    @abstractmethod
    async def delete(self, path: str) -> None:
        """``path`` (a file or a folder and all below it) is gone: forget its ids."""
