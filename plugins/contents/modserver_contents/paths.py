"""API paths to disk paths, and the rules that keep every request inside the root folder.

An API path is ``/``-separated and relative to the root; a leading or trailing ``/`` is
ignored, as Jupyter clients send both forms. Anything that could name a place outside the
root (``..`` in any spelling, NUL bytes, ``~``, drive letters, a symlink leading out) is
refused here, so the store never touches such a path.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from urllib.parse import unquote

from modserver.api.contents import ContentsError
from modserver.confined import is_within


def normalize(path: str) -> str:
    """Return the canonical API path (``a/b``, ``""`` for the root) or raise 400."""
    if "\x00" in path:
        raise ContentsError(400, "Invalid path: NUL bytes are not allowed")
    if len(path) > PATH_MAX:
        raise ContentsError(400, f"Path too long: over {PATH_MAX} characters")
    stripped = path.strip("/")
    if not stripped:
        return ""
    parts = stripped.split("/")
    for part in parts:
        # A part that is "." or ".." once more percent-decoded was double-encoded by the
        # client to slip past a decoder: refuse it like the plain form.
        if part in ("", ".", "..") or unquote(part) in (".", ".."):
            raise ContentsError(400, f"Invalid path {path!r}: empty, '.' or '..' parts")
        if len(part.encode("utf-8", "surrogatepass")) > NAME_MAX:
            raise ContentsError(
                400, f"File name too long: {part[:40]!r}... is over {NAME_MAX} bytes"
            )
        if os.sep != "/" and os.sep in part:
            raise ContentsError(400, f"Invalid path {path!r}: {os.sep!r} is not a separator here")
    if parts[0].startswith("~"):
        raise ContentsError(400, f"Invalid path {path!r}: '~' paths are not allowed")
    if os.path.isabs(parts[0]) or os.path.splitdrive(parts[0])[0]:
        raise ContentsError(400, f"Invalid path {path!r}: absolute paths are not allowed")
    return stripped


def is_hidden_path(api_path: str) -> bool:
    """True when any part of a normalized API path is a dot name."""
    return any(part.startswith(".") for part in api_path.split("/")) if api_path else False


#: The longest file name (one path part) in bytes on Linux, macOS and Windows file systems.
NAME_MAX = 255
#: The longest path the Linux kernel accepts.
PATH_MAX = 4096


def within(real: str, root: str) -> bool:
    """True if resolved ``real`` is ``root`` or inside it (the core's confined-path rule)."""
    return is_within(real, root)


@dataclass(frozen=True)
class Resolver:
    """Maps API paths to disk paths under one resolved root folder."""

    root: str  # absolute, symlinks resolved

    def join(self, api_path: str) -> str:
        """The disk path of a normalized API path, without resolving symlinks."""
        return os.path.join(self.root, *api_path.split("/")) if api_path else self.root

    def resolve(self, path: str) -> tuple[str, str]:
        """Normalize ``path`` and return ``(api_path, disk_path)``; 403 if it leads outside.

        Symlinks are resolved for the check, so a link inside the root that points out of
        it is refused; paths that do not exist yet resolve through their existing parent.
        """
        return self.resolve_with_stat(path)[:2]

    def resolve_with_stat(self, path: str) -> tuple[str, str, os.stat_result | None]:
        """As ``resolve``, plus the file's ``stat`` when the check found it for free.

        The check ``lstat``s each part of the path; when none is a link, the last one's
        result is the file's ``stat``, which spares a reader a system call. None when the
        path is the root, is missing, or goes through a link.
        """
        api_path = normalize(path)
        disk_path = self.join(api_path)
        if not api_path:
            return api_path, disk_path, None
        linked, info = self._through_symlink(api_path)
        if linked and not within(os.path.realpath(disk_path), self.root):
            raise ContentsError(403, f"Permission denied: {api_path!r} leads outside the root")
        return api_path, disk_path, info

    def _through_symlink(self, api_path: str) -> tuple[bool, os.stat_result | None]:
        """Whether an existing part of the path (below the root) is a symbolic link, and
        the last part's ``lstat`` if every part exists and none is a link.

        With no ``..`` and no link, a path cannot leave the root; checking only the parts
        below the root is cheaper than resolving the whole path from ``/`` every request.
        """
        current = self.root
        info = None
        for part in api_path.split("/"):
            current = os.path.join(current, part)
            try:
                info = os.lstat(current)
            except OSError:
                return False, None  # missing: nothing further down exists to follow
            if stat.S_ISLNK(info.st_mode):
                return True, None
        return False, info
