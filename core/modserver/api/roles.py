"""The role model: which role may do what, per resource — one table for every Identity.

Every guarded route names its resource and action (docs/security.md, "Roles", is this
table in prose). Anything that runs code — starting, restarting, interrupting or stopping
a kernel, a kernel WebSocket, a session (sessions start and stop kernels), a terminal,
shutting the server down — is ``execute``, and only the owner has ``execute``. Plugins
that authorize users (``auth``, ``jupyterhub``) share it, so a role means the same
whoever logged the user in.
"""

from __future__ import annotations

from collections.abc import Mapping

from modserver.api.auth import ACTIONS, Action

ROLES: tuple[str, ...] = ("owner", "editor", "viewer")

Grants = Mapping[str, frozenset[Action]]

_NONE: frozenset[Action] = frozenset()
_READ: frozenset[Action] = frozenset({"read"})
_READ_WRITE: frozenset[Action] = frozenset({"read", "write"})
_ALL: frozenset[Action] = frozenset(ACTIONS)

#: Resource → actions, for each role. A resource missing from a role's table is refused,
#: so a plugin's new resource is owner-only until someone decides otherwise here.
ROLE_GRANTS: dict[str, Grants] = {
    "editor": {
        "api": _READ,
        "contents": _READ_WRITE,
        "kernelspecs": _READ,
        "kernels": _READ,
        "sessions": _READ,
        # Shared front-end configuration changes the owner's browser too.
        "config": _READ,
        # The lab: pages and assets; each user's own settings and workspaces.
        "lab": _READ,
        "settings": _READ_WRITE,
        "workspaces": _READ_WRITE,
        # Switching labextensions and plugins on and off in their own lab.
        "labextensions": _READ_WRITE,
        "collaboration": _READ_WRITE,
        "users": frozenset({"write"}),  # their own display fields (PATCH /api/me)
        # Names and activity times only, so the lab can poll the list; starting or
        # attaching is execute, the owner's alone.
        "terminals": _READ,
        "events": _READ,
        "nbconvert": _READ,
    },
    "viewer": {
        "api": _READ,
        "contents": _READ,
        "kernelspecs": _READ,
        "kernels": _READ,
        "sessions": _READ,
        "config": _READ,
        "lab": _READ,
        "settings": _READ_WRITE,
        "workspaces": _READ_WRITE,
        # A viewer's lab stays as the owner set it up: listed, not switched.
        "labextensions": _READ,
        "collaboration": _READ,
        "terminals": _READ,
        "events": _READ,
        "nbconvert": _READ,
    },
}


def granted(role: str, resource: str) -> frozenset[Action]:
    """The actions ``role`` has on ``resource`` (unknown roles get nothing)."""
    if role == "owner":
        return _ALL
    return ROLE_GRANTS.get(role, {}).get(resource, _NONE)
