"""Chunked uploads (``chunk`` 1, 2, ... and -1 for the last): assembled beside the target.

Chunks are appended to a hidden partial file in the target's folder; only the last chunk
renames it over the target, so an interrupted upload never replaces a good file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat

from modserver import atomic
from modserver.api.contents import ContentsError
from modserver.confined import confined_path

PARTIAL_PREFIX = ".~modserver-upload-"


def partial_path(target: str) -> str:
    """The hidden file collecting the chunks for ``target`` (a name of bounded length)."""
    folder, name = os.path.split(target)
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return os.path.join(folder, f"{PARTIAL_PREFIX}{name[:32]}-{digest}")


def write_chunk(root: str, target: str, api_path: str, data: bytes, chunk: int) -> bool:
    """Add chunk number ``chunk`` of ``target``; True once the last chunk (-1) landed.

    ``root`` is the resolved root folder: a partial file that is a symlink leading out of
    it is refused, never appended to.
    """
    if chunk == 0 or chunk < -1:
        raise ContentsError(400, f"Invalid chunk number {chunk}: use 1, 2, ... and -1 last")
    partial = confined_path(root, partial_path(target))
    started = os.path.exists(partial)
    if chunk > 1 and not started:
        raise ContentsError(400, f"Upload of {api_path!r} was not started: send chunk 1 first")
    if chunk == -1 and not started:
        # The whole file in one last chunk: an ordinary atomic write.
        atomic.write_bytes(target, data)
        return True
    with open(partial, "wb" if chunk == 1 else "ab") as handle:
        handle.write(data)
        if chunk == -1:
            handle.flush()
            os.fsync(handle.fileno())
    if chunk != -1:
        return False
    try:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(partial, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return True
