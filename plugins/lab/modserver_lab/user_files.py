"""Per-user files of the lab API: each user's folder, paths kept inside it, atomic writes.

User settings (user_settings.py) and workspaces (workspaces.py) are stored per user: the
server's owner uses the configured folder itself, as JupyterLab does, so both servers share
it; every other user gets a subfolder of their own under ``_users/``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from modserver.api.auth import User

#: The user name modserver's auth plugin gives to whoever holds the server token.
OWNER_USERNAME = "owner"

#: Sub-folder of other users' files. npm package names never start with "_", so it cannot
#: clash with a settings folder such as ``@jupyterlab/`` or ``jupyterlab-git/``.
USERS_FOLDER = "_users"

_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class OutsideFolder(ValueError):
    """A path would leave the user's folder (through ``..`` or a symbolic link)."""


def user_folder(base: Path, user: User) -> Path:
    """The folder holding ``user``'s files under ``base``.

    User names that are not plain (an identity plugin may allow anything) are replaced by a
    digest, so a name can never form a path of its own.
    """
    if user.username == OWNER_USERNAME:
        return base
    name = user.username
    if not _PLAIN_NAME.fullmatch(name) or ".." in name:
        name = "u-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
    return base / USERS_FOLDER / name


def inside(base: Path, relative: str) -> Path:
    """``base / relative``, refusing any result that resolves outside ``base``.

    Symbolic links are resolved, so a link inside the folder pointing elsewhere is refused
    too. Raises ``OutsideFolder``.
    """
    root = base.resolve()
    target = (base / relative).resolve()
    if target != root and root not in target.parents:
        raise OutsideFolder(f"{relative!r} is outside the storage folder")
    return target


def write_atomically(base: Path, relative: str, text: str) -> Path:
    """Write ``text`` to ``base / relative`` all at once: a temporary file, fsync, rename.

    Parent folders are created. The path is checked before and after they are made, so
    neither a name nor a symbolic link among the folders can lead outside ``base``.
    Returns the file's resolved path.
    """
    target = inside(base, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    target = inside(base, relative)
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
