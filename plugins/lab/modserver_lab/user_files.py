"""Per-user files of the lab API: each user's folder, paths kept inside it, atomic writes.

User settings (user_settings.py) and workspaces (workspaces.py) are stored per user: the
server's owner uses the configured folder itself, as JupyterLab does, so both servers share
it; every other user gets a subfolder of their own under ``_users/``. Every path is checked
against the configured folder with symbolic links resolved, so not even a link planted in a
user's subfolder leads outside it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modserver.api.auth import User

#: The user name modserver's auth plugin gives to whoever holds the server token.
OWNER_USERNAME = "owner"

#: Sub-folder of other users' files. npm package names never start with "_", so it cannot
#: clash with a settings folder such as ``@jupyterlab/`` or ``jupyterlab-git/``.
USERS_FOLDER = "_users"

_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class OutsideFolder(ValueError):
    """A path would leave the storage folder (through ``..`` or a symbolic link)."""


def inside(base: Path, relative: str) -> Path:
    """``base / relative`` resolved, refusing any result outside ``base``.

    Symbolic links are resolved, so a link inside the folder pointing elsewhere is refused
    too. Raises ``OutsideFolder``.
    """
    root = base.resolve()
    target = (base / relative).resolve()
    if target != root and root not in target.parents:
        raise OutsideFolder(f"{relative!r} is outside the storage folder")
    return target


@dataclass(frozen=True)
class UserFolder:
    """One user's part of a storage folder: ``base`` itself or ``base/_users/<name>``."""

    base: Path
    prefix: str

    @classmethod
    def of(cls, base: Path, user: User) -> UserFolder:
        """The folder holding ``user``'s files under ``base``.

        User names that are not plain (an identity plugin may allow anything) are replaced
        by a digest, so a name can never form a path of its own.
        """
        if user.username == OWNER_USERNAME:
            return cls(base, "")
        name = user.username
        if not _PLAIN_NAME.fullmatch(name) or ".." in name:
            name = "u-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
        return cls(base, f"{USERS_FOLDER}/{name}")

    def path(self, relative: str = "") -> Path:
        """The resolved path of ``relative`` in this user's folder; ``OutsideFolder`` if it
        would leave the configured folder."""
        joined = f"{self.prefix}/{relative}" if self.prefix else relative
        return inside(self.base, joined or ".")

    def write(self, relative: str, text: str) -> Path:
        """Write ``text`` to ``relative`` all at once: a temporary file, fsync, rename.

        Parent folders are created. The path is checked before and after they are made, so
        neither a name nor a symbolic link among the folders can lead outside the folder.
        """
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target = self.path(relative)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target
