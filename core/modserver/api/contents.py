"""The Contents service: files, folders and notebooks, wherever they are stored.

Models are plain dicts in jupyter_server 2.x's shape (name, path, type, writable, created,
last_modified, mimetype, content, format, size, hash, hash_algorithm). Paths are API paths:
relative to the root, ``/``-separated, no leading slash. Implementations raise
``ContentsError`` with an HTTP status; routes turn it into a JSON error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from modserver.errors import RequestError
from modserver.markers import hookspec

if TYPE_CHECKING:
    from modserver.plugin import PluginContext

ContentsModel = dict[str, Any]
ContentType = Literal["file", "directory", "notebook"]


class ContentsError(RequestError):
    """A contents operation failed because of the request (status 400/403/404/409...).

    Any route that lets it escape answers the JSON error of ``status``.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status_code=status)
        self.status = status


class Contents(ABC):
    """Read and write files, folders and notebooks by API path."""

    @abstractmethod
    async def get(
        self,
        path: str,
        *,
        content: bool = True,
        type: ContentType | None = None,
        format: Literal["text", "base64"] | None = None,
        hash: bool = False,
    ) -> ContentsModel:
        """Return the model at ``path`` (404 if missing, 400 if ``type`` does not match)."""

    @abstractmethod
    async def save(self, model: ContentsModel, path: str) -> ContentsModel:
        """Create or replace ``path`` from ``model``; returns the new model without content."""

    @abstractmethod
    async def new_untitled(
        self, path: str = "", *, type: ContentType = "file", ext: str = ""
    ) -> ContentsModel:
        """Create ``untitled.txt`` / ``Untitled.ipynb`` / ``Untitled Folder`` in folder ``path``."""

    @abstractmethod
    async def copy(self, from_path: str, to_dir: str) -> ContentsModel:
        """Copy a file into folder ``to_dir`` as ``name-Copy1.ext``."""

    @abstractmethod
    async def rename(self, old_path: str, new_path: str) -> ContentsModel:
        """Rename or move; 409 if ``new_path`` exists."""

    @abstractmethod
    async def delete(self, path: str) -> None:
        """Delete a file or folder (to the trash where configured)."""

    @abstractmethod
    async def exists(self, path: str) -> bool:
        """True if a file or folder exists at ``path``."""

    @abstractmethod
    async def dir_exists(self, path: str) -> bool:
        """True if a folder exists at ``path``."""

    async def file_exists(self, path: str) -> bool:
        """True if a file (not a folder) exists at ``path``."""
        return await self.exists(path) and not await self.dir_exists(path)

    async def create(self, model: ContentsModel, path: str) -> ContentsModel:
        """Create ``path`` (PUT of a new name); an empty file or notebook if no content.

        Providers fill in ``content`` for a model without it; the default only saves.
        """
        return await self.save(model, path)

    async def resolve_path(self, path: str) -> str | None:
        """The API path of an existing file or folder that ``path`` names, else None.

        ``path`` is an API path, or (for stores on this machine's disk) an absolute or
        ``~`` path inside the root. Backs ``/api/resolvePath``; the default resolves
        nothing, as jupyter_server's default contents manager does.
        """
        return None

    def local_path(self, path: str) -> Path | None:
        """The folder or file on this machine's disk for ``path``, or None if not on disk.

        Kernels use it to start in a notebook's folder. Must refuse paths outside the root.
        """
        return None

    @abstractmethod
    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """Checkpoints of ``path``: ``[{"id": ..., "last_modified": ...}]``."""

    @abstractmethod
    async def create_checkpoint(self, path: str) -> dict[str, Any]:
        """Save a checkpoint of ``path``."""

    @abstractmethod
    async def restore_checkpoint(self, path: str, checkpoint_id: str) -> None:
        """Restore ``path`` from a checkpoint."""

    @abstractmethod
    async def delete_checkpoint(self, path: str, checkpoint_id: str) -> None:
        """Delete a checkpoint."""


class ContentsHooks:
    """Hooks any Contents provider calls; other plugins implement them (no import needed).

    A Contents provider lists this class as its ``Plugin.hookspecs`` and calls them through
    ``context.hook``; each implementation may take ``context``, its own plugin's context.
    """

    @hookspec
    def contents_pre_save(self, model: ContentsModel, path: str, context: PluginContext) -> None:
        """Called before a save; may change ``model`` in place (e.g. strip outputs)."""

    @hookspec
    def contents_post_save(self, model: ContentsModel, path: str, context: PluginContext) -> None:
        """Called after a save succeeded, with the saved model (content included)."""

    @hookspec
    def contents_post_rename(self, old_path: str, new_path: str, context: PluginContext) -> None:
        """Called after ``old_path`` was renamed or moved to ``new_path``."""

    @hookspec
    def contents_post_delete(self, path: str, context: PluginContext) -> None:
        """Called after ``path`` was deleted."""
