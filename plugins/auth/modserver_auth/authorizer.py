"""Role-based authorization over the core's role table (``modserver.api.roles``).

Every guarded route asks this through ``modserver.routing``; the route names its resource
and action, and ``ROLE_GRANTS`` (docs/security.md, "Roles") says which role has it.
"""

from __future__ import annotations

from modserver.api.auth import Action, Authorizer, User
from modserver.api.roles import ROLE_GRANTS, granted

__all__ = ["ROLE_GRANTS", "RoleAuthorizer", "granted"]


class RoleAuthorizer(Authorizer):
    """Grants actions by the user's role and the resource, from ``ROLE_GRANTS``."""

    async def is_authorized(self, user: User, action: Action, resource: str) -> bool:
        """True when the user's role has ``action`` on ``resource``."""
        return action in granted(user.role, resource)
