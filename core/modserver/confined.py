"""Confined paths: the one check every write makes that its target stays inside a folder.

A plugin that writes files under a folder it owns (the contents root, the config folder,
lab settings or workspaces to come) passes each target through ``confined_path`` right
before writing: symlinks are resolved, so a link planted inside the folder that leads out
of it (a ``.ipynb_checkpoints`` symlink, a partial-upload file) is refused, not followed.
"""

from __future__ import annotations

import os


class OutsideRoot(PermissionError):
    """A path that resolves (through symlinks) to a place outside its allowed folder."""


def is_within(real: str, root: str) -> bool:
    """True if resolved ``real`` is ``root`` or inside it (not a sibling like ``root-x``)."""
    return real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep)


def confined_path(root: str, path: str) -> str:
    """The resolved form of ``path``; ``OutsideRoot`` if that is not inside ``root``.

    ``root`` must already be resolved (``os.path.realpath``). ``path`` need not exist:
    the missing tail resolves through its nearest existing parent, so the check holds for
    a file about to be created as well as for one about to be replaced.
    """
    real = os.path.realpath(path)
    if not is_within(real, root):
        raise OutsideRoot(f"{path!r} leads outside {root!r}")
    return real


def confined_entry(root: str, path: str) -> str:
    """``path`` with its folder resolved, for acting on the entry itself (delete, move).

    A symlink named by ``path`` is the thing acted on, not its target, so only the folder
    holding it must be inside ``root``; ``OutsideRoot`` if it is not.
    """
    folder, name = os.path.split(path)
    return os.path.join(confined_path(root, folder), name)
