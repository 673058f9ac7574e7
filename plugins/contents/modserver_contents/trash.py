"""Deleting: to the system trash when configured, else for good (folders only when empty).

A folder holding nothing but leftover checkpoints counts as empty, as in Jupyter.
"""

from __future__ import annotations

import os
import shutil

from modserver.api.contents import ContentsError


def _non_empty(disk_path: str, checkpoint_dir: str) -> bool:
    with os.scandir(disk_path) as entries:
        return any(entry.name != checkpoint_dir for entry in entries)


def delete(
    disk_path: str,
    api_path: str,
    *,
    to_trash: bool,
    always_delete_dir: bool,
    checkpoint_dir: str,
    writable: bool,
) -> None:
    """Delete the file or folder at ``disk_path`` (which exists)."""
    if to_trash:
        if not writable:
            raise ContentsError(403, f"Permission denied: {api_path}")
        from send2trash import send2trash

        try:
            send2trash(disk_path)
        except OSError as exc:
            raise ContentsError(
                400, f"send2trash failed: {exc} (set contents.delete_to_trash=false to delete)"
            ) from exc
        return
    is_dir = os.path.isdir(disk_path) and not os.path.islink(disk_path)
    if is_dir and not always_delete_dir and _non_empty(disk_path, checkpoint_dir):
        raise ContentsError(400, f"Directory {api_path} not empty")
    try:
        if is_dir:
            shutil.rmtree(disk_path)
        else:
            os.unlink(disk_path)
    except PermissionError as exc:
        raise ContentsError(403, f"Permission denied: {api_path}") from exc
