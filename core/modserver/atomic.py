"""Atomic writes: a file is either its old bytes or its new bytes, never half of each.

New bytes go to a temporary file in the same folder (same file system, so the final
rename is atomic), are flushed and fsynced, then renamed over the target. A failure at any
step removes the temporary file and leaves the target untouched. The one way the core and
every plugin write a file (contents, checkpoints, config sections, secrets, runtime files).
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
def replacing(
    target: str | os.PathLike[str], *, mode: int | None = None, durable: bool = True
) -> Iterator[BinaryIO]:
    """Yield a binary file; on a clean exit its bytes atomically replace ``target``.

    The new file gets permission bits ``mode``; by default those of the file it replaces
    (or the usual ``0o666 & ~umask`` when new). The temporary file is ``0o600`` until the
    rename, so a private file (``mode=0o600``) is never readable by others, not even
    briefly. ``target`` must already be a resolved path (a symlink would otherwise be
    replaced by a regular file). ``durable=False`` skips the two fsyncs (file and folder):
    still atomic for readers, but the new bytes may be lost in a power failure; for files
    that describe the running process only (each fsync can take tens of milliseconds).
    """
    folder, name = os.path.split(os.fspath(target))
    # A short piece of the name: the temporary name must fit where a 255-byte name fits.
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f"{TEMP_PREFIX}{name[:32]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if mode is None:
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
    if durable:
        _fsync_dir(folder)


def write_bytes(
    target: str | os.PathLike[str], data: bytes, *, mode: int | None = None, durable: bool = True
) -> None:
    """Atomically replace ``target`` with ``data`` (``mode``, ``durable``: see ``replacing``)."""
    with replacing(target, mode=mode, durable=durable) as handle:
        handle.write(data)


def write_text(
    target: str | os.PathLike[str], text: str, *, mode: int | None = None, durable: bool = True
) -> None:
    """Atomically replace ``target`` with ``text`` in UTF-8 (see ``replacing``)."""
    write_bytes(target, text.encode("utf-8"), mode=mode, durable=durable)


def copy_file(source: str, target: str, *, keep_times: bool = False) -> None:
    """Atomically replace ``target`` with a copy of ``source``'s bytes (and times if asked)."""
    with replacing(target) as handle, open(source, "rb") as src:
        shutil.copyfileobj(src, handle, 1024 * 1024)
    if keep_times:
        info = os.stat(source)
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
