"""The users this server knows: the owner (server token or ``auth.password_hash``) and
the ``[auth.users]`` table. Turns credentials into a ``User``; keeps display changes
made through ``PATCH /api/me`` (in memory, until the server stops).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import anyio
from modserver.api.auth import User

from modserver_auth.passwords import check_password_async, hash_password
from modserver_auth.settings import OWNER, AuthSettings, UserEntry
from modserver_auth.tokens import same_secret, token_matches_hash

#: Fields a user may change about themselves (jupyter_server's "updatable fields").
UPDATABLE_FIELDS = ("name", "display_name", "initials", "avatar_url", "color")

#: Colours for users who did not choose one (JupyterLab's collaborator palette names).
_PALETTE = tuple(f"var(--jp-collaborator-color{i})" for i in range(1, 8))


@dataclass
class UserDirectory:
    """Looks users up by token, password or name."""

    settings: AuthSettings
    token: str | None
    _overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Built users by name: asked on every request, they change only through ``update``.
    _built: dict[str, User] = field(default_factory=dict)

    @property
    def has_passwords(self) -> bool:
        """True when some user logs in with a password (the form then asks for one)."""
        return self.settings.password_hash is not None or any(
            entry.password_hash for entry in self.settings.users.values()
        )

    @property
    def multi_user(self) -> bool:
        """True when the users table is in use (the form then asks for a user name)."""
        return bool(self.settings.users)

    def by_token(self, given: str) -> User | None:
        """The user whose token ``given`` is (owner's or a user's), else None."""
        if not given:
            return None
        if self.token is not None and same_secret(given, self.token):
            return self.user(OWNER)
        for username, entry in self.settings.users.items():
            if entry.token_hash and token_matches_hash(given, entry.token_hash):
                return self.user(username)
        return None

    async def by_password(self, username: str, password: str) -> User | None:
        """The user if ``password`` is theirs (``username`` empty or "owner": the owner)."""
        if not password:
            return None
        if username in ("", OWNER):
            owner_hash = self.settings.password_hash
            if owner_hash and await check_password_async(password, owner_hash):
                return self.user(OWNER)
            return None
        entry = self.settings.users.get(username)
        if entry is None or entry.password_hash is None:
            # Spend the same time as for a real user, so timing does not reveal user names.
            await check_password_async(password, await _dummy_hash())
            return None
        if await check_password_async(password, entry.password_hash):
            return self.user(username)
        return None

    def user(self, username: str) -> User | None:
        """The current ``User`` named ``username``, or None if there is no such user now.

        A copy of the built user: a caller changing it changes no other request's user.
        """
        built = self._built.get(username)
        if built is None:
            if username == OWNER:
                built = self._build(OWNER, "owner", None)
            else:
                entry = self.settings.users.get(username)
                if entry is None:
                    return None
                built = self._build(username, entry.role, entry)
            self._built[username] = built
        return built.model_copy()

    def update(self, username: str, changes: dict[str, Any]) -> User | None:
        """Apply display changes (already validated) to ``username``; return the new user."""
        self._overrides.setdefault(username, {}).update(changes)
        self._built.pop(username, None)
        return self.user(username)

    def _build(self, username: str, role: str, entry: UserEntry | None) -> User:
        fields: dict[str, Any] = {"name": username, "display_name": username}
        if entry is not None:
            for key in UPDATABLE_FIELDS:
                value = getattr(entry, key)
                if value:
                    fields[key] = value
        fields.update(self._overrides.get(username, {}))
        if not fields.get("initials"):
            fields["initials"] = _initials(fields.get("display_name") or username)
        if not fields.get("color"):
            fields["color"] = _PALETTE[sum(username.encode()) % len(_PALETTE)]
        return User(username=username, role=role, **fields)


_dummy: list[str] = []


async def _dummy_hash() -> str:
    """A hash of nothing in particular, made once, to verify against for unknown users."""
    if not _dummy:
        _dummy.append(await anyio.to_thread.run_sync(hash_password, secrets.token_hex(8)))
    return _dummy[0]


def _initials(name: str) -> str:
    words = [w for w in name.replace(".", " ").replace("_", " ").split() if w]
    letters = "".join(w[0] for w in words[:2]) or name[:1]
    return letters.upper()
