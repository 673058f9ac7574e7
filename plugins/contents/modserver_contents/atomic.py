"""Atomic writes: a file is either its old bytes or its new bytes, never half of each.

New bytes go to a temporary file in the same folder (same file system, so the final
rename is atomic), are flushed and fsynced, then renamed over the target. A failure at any
step removes the temporary file and leaves the target untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

TEMP_PREFIX = ".~modserver-"


def _read_umask() -> int:
    # os.umask can only be read by setting it; do that once, at import, before threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _fsync_dir(folder: str) -> None:
    # The rename is durable only once the folder's entry is on disk (POSIX only).
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on folders; the data itself is synced
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(target: str) -> Iterator[BinaryIO]:
    """Yield a binary file; on a clean exit its bytes atomically replace ``target``.

    The new file keeps the permission bits of the file it replaces (or gets the usual
    ``0o666 & ~umask`` when new). ``target`` must already be a resolved path (a symlink
    would otherwise be replaced by a regular file).
    """
    folder, name = os.path.split(target)
    # A short piece of the name: the temporary name must fit where a 255-byte name fits.
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f"{TEMP_PREFIX}{name[:32]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(folder)


def write_bytes(target: str, data: bytes) -> None:
    """Atomically replace ``target`` with ``data``."""
    with replacing(target) as handle:
        handle.write(data)


def copy_file(source: str, target: str, *, keep_times: bool = False) -> None:
    """Atomically replace ``target`` with a copy of ``source``'s bytes (and times if asked)."""
    with replacing(target) as handle, open(source, "rb") as src:
        shutil.copyfileobj(src, handle, 1024 * 1024)
    if keep_times:
        info = os.stat(source)
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
