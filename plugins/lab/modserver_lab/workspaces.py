"""Named workspaces (the layout of JupyterLab's panels), one JSON file each per user.

File names follow JupyterLab's own scheme (a slug of the name plus a short digest, with
the ``.jupyterlab-workspace`` extension), so the owner's workspaces are shared with a
jupyter_server running on the same machine. Writes are atomic and stay in the user's
folder (user_files.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from modserver_lab.user_files import OutsideFolder, UserFolder

log = logging.getLogger("modserver.lab")

WORKSPACE_EXTENSION = ".jupyterlab-workspace"
_MAX_FILE_NAME = 128


class InvalidWorkspace(ValueError):
    """The workspace document is malformed, or names another workspace."""


class UnknownWorkspace(LookupError):
    """No workspace of that name was saved."""


def workspace_file_name(name: str) -> str:
    """The file name of workspace ``name``: readable slug, then 4 hex digits of its digest."""
    bare = name.lstrip("/")
    signature = "-" + hashlib.sha256(bare.encode("utf-8")).hexdigest()[:4]
    text = unicodedata.normalize("NFKC", unquote(bare.lower()))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip()
    text = re.sub(r"[-\s]+", "-", text)
    room = _MAX_FILE_NAME - len(WORKSPACE_EXTENSION) - len(signature)
    return text[:room] + signature + WORKSPACE_EXTENSION


def workspace_id(name: str) -> str:
    """The id a workspace carries in ``metadata.id``: its name with one leading slash."""
    return "/" + name.lstrip("/")


def _iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).replace(tzinfo=None).isoformat()


def check_workspace(name: str, document: Any) -> dict[str, Any]:
    """Return ``document`` if it is a workspace named ``name``; raise ``InvalidWorkspace``."""
    if not isinstance(document, dict):
        raise InvalidWorkspace("A workspace must be a JSON object")
    data, metadata = document.get("data"), document.get("metadata")
    if not isinstance(data, dict):
        raise InvalidWorkspace("A workspace needs a 'data' object")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("id"), str):
        raise InvalidWorkspace("A workspace needs 'metadata' with a string 'id'")
    given = unquote(workspace_id(metadata["id"]))
    if given != workspace_id(name):
        raise InvalidWorkspace(
            f"Workspace metadata ID mismatch: expected {workspace_id(name)!r}, got {given!r}"
        )
    return document


@dataclass
class Workspaces:
    """One user's workspaces, in one folder."""

    folder: UserFolder

    def load(self, name: str) -> dict[str, Any]:
        """The saved workspace, or an empty one (as JupyterLab expects for a new name)."""
        try:
            path = self.folder.path(workspace_file_name(name))
            document = self._read(path)
        except (OSError, ValueError):
            document = None
        if document is None or unquote(workspace_id(document["metadata"]["id"])) != (
            workspace_id(name)
        ):
            # A file of another name whose digest collides is not this workspace.
            return {"data": {}, "metadata": {"id": workspace_id(name)}}
        return document

    def listing(self) -> list[dict[str, Any]]:
        """Every saved workspace, by file name; unreadable files are logged and skipped."""
        try:
            folder = self.folder.path()
        except OutsideFolder:
            return []
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.glob("*" + WORKSPACE_EXTENSION)):
            try:
                document = self._read(self.folder.path(path.name))
            except (OSError, ValueError) as exc:
                log.warning("skipping workspace file %s: %s", path, exc)
                continue
            if document is not None:
                found.append(document)
        return found

    def save(self, name: str, document: dict[str, Any]) -> None:
        """Store a checked workspace (``check_workspace``) under ``name``."""
        text = json.dumps(document, ensure_ascii=False)
        self.folder.write(workspace_file_name(name), text)

    def delete(self, name: str) -> None:
        """Remove the workspace; ``UnknownWorkspace`` if it was never saved."""
        path = self.folder.path(workspace_file_name(name))
        try:
            document = self._read(path)
        except ValueError:
            document = None  # a broken file of this name: remove it as asked
        else:
            if document is None or unquote(workspace_id(document["metadata"]["id"])) != (
                workspace_id(name)
            ):
                raise UnknownWorkspace(f"Workspace {name!r} not found")
        try:
            path.unlink()
        except FileNotFoundError:
            raise UnknownWorkspace(f"Workspace {name!r} not found") from None

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        """The workspace at ``path`` with file times in its metadata; None if missing."""
        try:
            stat = path.stat()
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        if not isinstance(document, dict):
            raise ValueError("not a workspace document")
        metadata = document.get("metadata")
        if not isinstance(metadata, dict) or not isinstance(metadata.get("id"), str):
            raise ValueError("not a workspace document")
        metadata["last_modified"] = _iso_time(stat.st_mtime)
        metadata["created"] = _iso_time(stat.st_ctime)
        checked: dict[str, Any] = document
        return checked
