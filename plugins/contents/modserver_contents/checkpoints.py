"""File checkpoints, stored as Jupyter stores them: ``.ipynb_checkpoints/name-checkpoint.ext``.

One checkpoint per file, id ``checkpoint``, next to the file; so a folder opened with
jupyter_server and with modserver shares its checkpoints.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil

from modserver import atomic
from modserver.api.contents import ContentsError
from modserver.confined import OutsideRoot, confined_path

from modserver_contents.models import iso_timestamp

CHECKPOINT_ID = "checkpoint"


class FileCheckpoints:
    """Checkpoints of files under one root, in a folder named ``checkpoint_dir`` beside each."""

    def __init__(self, checkpoint_dir: str, root: str) -> None:
        self.checkpoint_dir = checkpoint_dir
        self.root = root  # resolved: checkpoints are read and written only inside it

    def path_of(self, disk_path: str, checkpoint_id: str = CHECKPOINT_ID) -> str:
        """Where the checkpoint of the file at ``disk_path`` lives (resolved, in the root).

        ``OutsideRoot`` if the checkpoint folder (or file) is a symlink leading out.
        """
        folder, name = os.path.split(disk_path)
        base, ext = os.path.splitext(name)
        where = os.path.join(folder, self.checkpoint_dir, f"{base}-{checkpoint_id}{ext}")
        return confined_path(self.root, where)

    def _model(self, checkpoint_path: str, checkpoint_id: str) -> dict[str, str]:
        return {
            "id": checkpoint_id,
            "last_modified": iso_timestamp(os.stat(checkpoint_path).st_mtime),
        }

    def create(self, disk_path: str, api_path: str) -> dict[str, str]:
        """Copy the file at ``disk_path`` into its checkpoint; return the checkpoint model."""
        if os.path.isdir(disk_path):
            raise ContentsError(400, f"Cannot checkpoint a directory: {api_path!r}")
        if not os.path.isfile(disk_path):
            raise ContentsError(404, f"file or directory does not exist: {api_path!r}")
        target = self.path_of(disk_path)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            atomic.copy_file(disk_path, target, keep_times=True)
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise
            raise ContentsError(
                400, f"Cannot checkpoint {api_path!r}: its checkpoint's name would be too long"
            ) from None
        return self._model(target, CHECKPOINT_ID)

    def list(self, disk_path: str) -> list[dict[str, str]]:
        """The checkpoints of the file at ``disk_path`` (zero or one)."""
        try:
            target = self.path_of(disk_path)
        except OutsideRoot:
            return []  # a checkpoint folder leading out of the root holds none of ours
        if not os.path.isfile(target):
            return []
        return [self._model(target, CHECKPOINT_ID)]

    def restore(self, disk_path: str, api_path: str, checkpoint_id: str) -> None:
        """Put the checkpoint's bytes back into the file (atomically)."""
        source = self.path_of(disk_path, checkpoint_id)
        if not os.path.isfile(source):
            raise ContentsError(404, f"Checkpoint does not exist: {api_path}@{checkpoint_id}")
        atomic.copy_file(source, os.path.realpath(disk_path), keep_times=True)

    def delete(self, disk_path: str, api_path: str, checkpoint_id: str) -> None:
        """Remove one checkpoint; 404 if there is none."""
        target = self.path_of(disk_path, checkpoint_id)
        if not os.path.isfile(target):
            raise ContentsError(404, f"Checkpoint does not exist: {api_path}@{checkpoint_id}")
        os.unlink(target)

    def delete_all(self, disk_path: str) -> None:
        """Remove the checkpoint of a file that was deleted, if any."""
        with contextlib.suppress(FileNotFoundError, OutsideRoot):
            os.unlink(self.path_of(disk_path))

    def move_all(self, old_disk_path: str, new_disk_path: str) -> None:
        """Carry a file's checkpoint along when the file is renamed or moved."""
        try:
            source = self.path_of(old_disk_path)
        except OutsideRoot:
            return
        if not os.path.isfile(source):
            return
        try:
            target = self.path_of(new_disk_path)
        except OutsideRoot:
            return  # the file moved; its checkpoint stays rather than leave the root
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(source, target)
