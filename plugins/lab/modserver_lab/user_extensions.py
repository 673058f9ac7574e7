"""Which labextensions and plugins one user has on: the server's choice, then the user's own.

The server's configuration decides first, for everybody: ``labconfig/page_config.json``
and ``lab.disabled_extensions`` (discovery.py), the plugins a labextension replaces, and
what other plugins add to the page config's ``disabledExtensions``. None of that can be
undone from the browser. On top of it each user disables more for themselves through the
Extension and Plugin Managers (extension_manager.py, plugin_manager.py); the list is kept in
``labconfig/page_config.json`` of the user's settings folder (user_files.py: the owner's is
JupyterLab's folder, others' ``_users/<name>/``), in the shape ``jupyter labextension
disable`` writes. Pages read it at every load (pages.py), so a change applies on reload.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from modserver_lab.discovery import LabExtension, disabled_in
from modserver_lab.user_files import UserFolder

#: The user's own list, relative to their settings folder.
CHOICES_FILE = "labconfig/page_config.json"

#: Longest list a user may keep: every page reads it, and JupyterLab has a few hundred plugins.
MAX_CHOICES = 1000


class Refused(Exception):
    """A change the rules do not allow; ``status`` and ``message`` are for the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_choices(folder: UserFolder) -> frozenset[str]:
    """What the user disabled for themselves (blocking: run in a thread); empty if nothing."""
    try:
        path = folder.path(CHOICES_FILE)
    except ValueError:  # a link leading outside the folder: ignore it, as a missing file
        return frozenset()
    return frozenset(name for name, off in disabled_in(path).items() if off)


def write_choices(folder: UserFolder, disabled: Iterable[str]) -> None:
    """Store the user's own list, atomically and inside their folder (blocking)."""
    document = {"disabledExtensions": {name: True for name in sorted(disabled)}}
    folder.write(CHOICES_FILE, json.dumps(document, indent=2) + "\n")


@dataclass(frozen=True)
class Locks:
    """What no user may switch on or off (settings ``lock_all_plugins``, ``locked_plugins``)."""

    all_locked: bool
    rules: frozenset[str]

    def locked(self, name: str) -> bool:
        """True for a locked plugin id or labextension name.

        A plugin is locked by its own id or its package's name; a package is locked when it
        or any of its plugins is (switching it would switch the locked plugin too).
        """
        if self.all_locked:
            return True
        if ":" in name:
            return name in self.rules or name.split(":", 1)[0] in self.rules
        return any(rule == name or rule.split(":", 1)[0] == name for rule in self.rules)


@dataclass(frozen=True)
class UserExtensions:
    """One user's view: what the server disables, what the user disables, and the locks."""

    installed: Mapping[str, LabExtension]
    #: Disabled by the server's configuration and by other plugins' page config.
    server_disabled: frozenset[str]
    #: Disabled by the user.
    chosen: frozenset[str]
    locks: Locks

    @cached_property
    def imposed(self) -> frozenset[str]:
        """Disabled whatever the user says: the server's list and what enabled extensions replace.

        A plugin that an extension replaces comes back when the user turns that extension off.
        """
        imposed = set(self.server_disabled)
        for extension in self.installed.values():
            if extension.name not in imposed and extension.name not in self.chosen:
                imposed.update(extension.disables)
        return frozenset(imposed)

    @cached_property
    def disabled(self) -> frozenset[str]:
        """Everything off for this user: the page config's ``disabledExtensions``."""
        return self.imposed | self.chosen

    def is_disabled(self, name: str) -> bool:
        """True for a disabled labextension, or a plugin that is off (itself or its package)."""
        package = name.split(":", 1)[0]
        return name in self.disabled or package in self.disabled

    def changed(self, name: str, *, disable: bool) -> frozenset[str]:
        """The user's list after switching ``name`` off (``disable``) or on; ``Refused`` if
        the locks or the server's configuration forbid it."""
        action = "disabled" if disable else "enabled"
        if self.locks.locked(name):
            raise Refused(403, f"{name} is locked: it cannot be {action} here (lab.locked_plugins)")
        if disable:
            if name not in self.chosen and len(self.chosen) >= MAX_CHOICES:
                raise Refused(409, f"You have disabled {MAX_CHOICES} plugins already")
            return self.chosen | {name}
        package = name.split(":", 1)[0]
        if name in self.imposed or package in self.imposed:
            raise Refused(
                409,
                f"{name} is disabled by the server's configuration (labconfig/page_config.json, "
                "lab.disabled_extensions, or an extension replacing it): enable it there "
                f"(jupyter labextension enable {name}) and restart the server",
            )
        if ":" in name and package in self.chosen:
            raise Refused(409, f"{name} belongs to {package}, which you disabled: enable it first")
        return self.chosen - {name}

    def page_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` (the server's page config) for this user: their disabled list, and
        their disabled labextensions left out of ``federated_extensions`` (not loaded)."""
        if not self.chosen:
            return config
        federated = [
            entry
            for entry in config.get("federated_extensions", [])
            if entry.get("name") not in self.disabled
        ]
        return {
            **config,
            "disabledExtensions": sorted(self.disabled),
            "federated_extensions": federated,
        }


ACTION_DONE: dict[str, Any] = {"status": "ok", "message": None, "needs_restart": ["frontend"]}
"""The answer to a change both managers expect: the page must reload to apply it."""
