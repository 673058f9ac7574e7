"""Role-based authorization: owner may do everything, editor may read and write but not
execute, viewer may only read. Every guarded route asks this through ``modserver.routing``.
"""

from __future__ import annotations

from modserver.api.auth import Action, Authorizer, User

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "owner": frozenset({"read", "write", "execute"}),
    "editor": frozenset({"read", "write"}),
    "viewer": frozenset({"read"}),
}


class RoleAuthorizer(Authorizer):
    """Grants actions by the user's role, for every resource alike."""

    async def is_authorized(self, user: User, action: Action, resource: str) -> bool:
        """True when the user's role includes ``action`` (unknown roles get nothing)."""
        return action in ROLE_ACTIONS.get(user.role, frozenset())
