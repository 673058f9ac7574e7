"""The Authorizer inside a hub: the core's role table, for the roles ``identity`` assigns.

The server's owner (``JUPYTERHUB_USER``) is ``owner``; any other hub user the hub lets in
gets ``jupyterhub.shared_role`` (default ``editor``: files yes, running code no).
"""

from __future__ import annotations

from modserver.api.auth import Action, Authorizer, User
from modserver.api.roles import granted


class HubRoleAuthorizer(Authorizer):
    """Grants actions by role and resource, from ``modserver.api.roles.ROLE_GRANTS``."""

    async def is_authorized(self, user: User, action: Action, resource: str) -> bool:
        """True when the user's role has ``action`` on ``resource``."""
        return action in granted(user.role, resource)
