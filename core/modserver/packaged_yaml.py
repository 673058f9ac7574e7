"""YAML files that ship inside installed packages, parsed once per installed file, not per start.

The plugins' OpenAPI fragments (checked against their routes before the server starts)
and the events plugin's schemas are YAML: importing PyYAML and parsing them took ~30 ms
of every start. What a file parses to depends only on its bytes, so the result is kept
in the user's cache folder (``modserver.user_cache``) in ``marshal`` form, which gives
back exactly the parsed types (``200:`` stays an int key). The entry is named by the
file's resolved path, inode, size and modification time: a file that changes gets a new
entry. A value marshal cannot hold (a YAML date) is simply not cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modserver.user_cache import entry_path, read_value, write_value

#: Changes when what this module stores changes (then older entries are never read).
FORMAT = "1"


def load_packaged_yaml(path: Path) -> Any:
    """The parsed content of the YAML (or JSON) file at ``path``, a fresh object per call.

    Blocking file I/O: call it before the event loop runs or in a worker thread.
    """
    stat = path.stat()
    entry = entry_path(
        "parsed-yaml",
        FORMAT,
        str(path.resolve()),
        str(stat.st_ino),
        str(stat.st_size),
        str(stat.st_mtime_ns),
    )
    cached = read_value(entry)
    if cached is not None:
        return cached
    value = parse_yaml(path.read_text(encoding="utf-8"))
    write_value(entry, value)  # not kept if marshal cannot hold it (a YAML date)
    return value


def parse_yaml(text: str) -> Any:
    """YAML text parsed by PyYAML's safe loader (libyaml's when available)."""
    import yaml

    # libyaml's loader when PyYAML has it: the pure-Python one is ~10x slower.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)
