"""The user's cache folder: what modserver derives from installed files, kept between starts.

Parsed YAML files (``packaged_yaml``) and compiled notebook checks (the contents plugin)
are pure derivations of installed files that each start used to derive again. Entries
are named by a digest of everything they derive from, so a changed source gets a new
entry and an old one is simply never read again. A missing or unreadable entry reads as
None and an entry that cannot be written is skipped: the caller derives the value as
before. The folder (``$XDG_CACHE_HOME/modserver``, else ``~/.cache/modserver``) is made
private to the user, as Python's own bytecode caches are the user's.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any


def cache_folder() -> Path:
    """modserver's folder in the user's cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "modserver"


def entry_path(kind: str, *key: str) -> Path:
    """The entry of ``kind`` (a subfolder) for the derivation named by ``key``.

    The Python version is always part of the key (marshal's format follows it).
    """
    digest = hashlib.sha256("\0".join((*key, sys.version)).encode()).hexdigest()[:40]
    return cache_folder() / kind / f"{digest}.marshal"


def private_folder(folder: Path) -> bool:
    """True when ``folder`` and the cache folder above it belong to this user and nobody
    else may write them: only then is what they hold trusted (it may be code the server
    runs, as with ``__pycache__``)."""
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    for path in (cache_folder(), folder):
        try:
            status = os.stat(path)
        except OSError:
            return False
        if (uid is not None and status.st_uid != uid) or status.st_mode & 0o022:
            return False
    return True


def read_value(entry: Path) -> Any:
    """The value stored in the entry (``marshal``), or None when there is none to trust:
    missing, unreadable, damaged, or in a folder not private to this user."""
    data = read_entry(entry)
    if data is None:
        return None
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None  # damaged: the caller derives the value again


def write_value(entry: Path, value: Any) -> None:
    """Store ``value`` (``marshal``: plain data or a code object); a value marshal cannot
    hold, or an entry that cannot be written, is skipped."""
    try:
        data = marshal.dumps(value)
    except ValueError:
        return
    write_entry(entry, data)


def read_entry(entry: Path) -> bytes | None:
    """The entry's bytes, or None when it is missing or unreadable, or when its folder is
    not private to this user (see ``private_folder``)."""
    if not private_folder(entry.parent):
        return None
    try:
        return entry.read_bytes()
    except OSError:
        return None


def write_entry(entry: Path, data: bytes) -> None:
    """Store an entry, whole or not at all; a failure (read-only or full home) is ignored."""
    # Atomic, so a reader sees the whole entry or none; not durable: an entry lost in a
    # crash is derived again. Imported here: only a cache miss writes.
    from modserver import atomic

    with contextlib.suppress(OSError):
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic.write_bytes(entry, data, durable=False)
