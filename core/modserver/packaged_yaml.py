"""YAML files that ship inside installed packages, parsed once per installed file, not per start.

The plugins' OpenAPI fragments (checked against their routes before the server starts)
and the events plugin's schemas are YAML: importing PyYAML and parsing them took ~30 ms
of every start. What a file parses to depends only on its bytes, so, as Python keeps
bytecode, the result is kept in the user's cache folder (``$XDG_CACHE_HOME/modserver``,
else ``~/.cache/modserver``) in ``marshal`` form, which gives back exactly the parsed
types (``200:`` stays an int key). The entry's name is a digest of the file's resolved
path, inode, size and modification time and of the Python version: a file that changes gets a
new entry. A cache that cannot be read or written is passed over (the file is parsed as
before); a value marshal cannot hold (a YAML date) is simply not cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

#: Changes when what this module stores changes (then older entries are never read).
FORMAT = "1"


def cache_folder() -> Path:
    """Where parsed files are kept: the user's cache folder, private to the user."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "modserver" / "parsed-yaml"


def load_packaged_yaml(path: Path) -> Any:
    """The parsed content of the YAML (or JSON) file at ``path``, a fresh object per call.

    Blocking file I/O: call it before the event loop runs or in a worker thread.
    """
    stat = path.stat()
    key = "\0".join(
        (
            FORMAT,
            str(path.resolve()),
            str(stat.st_ino),
            str(stat.st_size),
            str(stat.st_mtime_ns),
            sys.version,
        )
    )
    entry = cache_folder() / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".marshal")
    try:
        return marshal.loads(entry.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        pass  # not cached yet (or unreadable): parse it
    value = _parse(path.read_text(encoding="utf-8"))
    _store(entry, value)
    return value


def _parse(text: str) -> Any:
    import yaml

    # libyaml's loader when PyYAML has it: the pure-Python one is ~10x slower.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def _store(entry: Path, value: Any) -> None:
    try:
        data = marshal.dumps(value)
    except ValueError:
        return  # a type marshal cannot hold: parse this file at every start
    # Written aside, then renamed: a reader sees the whole entry or none. No fsync: an
    # entry lost in a crash is parsed again.
    partial = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial.write_bytes(data)
        os.replace(partial, entry)
    except OSError:  # a read-only or full home: no cache, same result
        with contextlib.suppress(OSError):
            partial.unlink()
