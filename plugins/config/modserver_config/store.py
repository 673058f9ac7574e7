"""Config sections as JSON files: ``<config_dir>/<section>.json``.

Frontends keep small settings here through ``/api/config/{section}`` (routes.py). Writes
are atomic (temporary file, fsync, rename), so a crash never leaves half a file, and one
lock serialises read-modify-write updates. File I/O runs in worker threads.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import anyio
from modserver import atomic
from modserver.confined import confined_path
from modserver.jsonbody import InvalidJSON, loads

SECTION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")

Section = dict[str, Any]


class InvalidSection(ValueError):
    """The section name is not allowed (it could escape the config folder, say)."""


class BrokenSection(ValueError):
    """The section's file exists but does not hold a JSON object."""


def check_section_name(name: str) -> str:
    """Return ``name`` if it is a valid section name; raise ``InvalidSection`` if not."""
    if not SECTION_NAME.match(name) or ".." in name:
        raise InvalidSection(
            f"Invalid config section name {name!r}: use letters, digits, '_', '-' and '.', "
            "not starting with '.'"
        )
    return name


def deep_merge(target: Section, changes: Section) -> Section:
    """Merge ``changes`` into ``target`` in place: objects merge, ``null`` deletes a key."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            deep_merge(current, value)
        else:
            target[key] = value
    return target


class ConfigStore:
    """Reads and writes config sections in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = anyio.Lock()

    def _file(self, section: str) -> Path:
        """The section's file; ``OutsideRoot`` if a symlink there leads out of the folder."""
        name = f"{check_section_name(section)}.json"
        root = os.path.realpath(self.folder)
        return Path(confined_path(root, os.path.join(root, name)))

    async def get(self, section: str) -> Section:
        """The section's content; ``{}`` if it was never written."""
        return await anyio.to_thread.run_sync(lambda: self._read(self._file(section)))

    async def set(self, section: str, data: Section) -> None:
        """Replace the section's content."""
        check_section_name(section)
        async with self._lock:
            await anyio.to_thread.run_sync(lambda: self._write(self._file(section), data))

    async def update(self, section: str, changes: Section) -> Section:
        """Deep-merge ``changes`` into the section and return the result."""
        check_section_name(section)
        async with self._lock:
            path = await anyio.to_thread.run_sync(self._file, section)
            data = await anyio.to_thread.run_sync(self._read, path)
            deep_merge(data, changes)
            await anyio.to_thread.run_sync(self._write, path, data)
        return data

    @staticmethod
    def _read(path: Path) -> Section:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = loads(text) if text.strip() else {}
        except InvalidJSON:
            raise BrokenSection(f"{path.name} is not valid JSON; fix or delete it") from None
        if not isinstance(data, dict):
            raise BrokenSection(f"{path.name} does not hold a JSON object; fix or delete it")
        return data

    @staticmethod
    def _write(path: Path, data: Section) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        atomic.write_text(path, text)
