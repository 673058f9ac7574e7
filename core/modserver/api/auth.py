"""Identity and Authorizer: who is calling, and may they do this.

Every guarded route (``modserver.routing``) asks ``Identity`` for the caller and
``Authorizer`` for permission before the endpoint runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

from pydantic import BaseModel
from starlette.requests import HTTPConnection

Action = Literal["read", "write", "execute"]
ACTIONS: tuple[Action, ...] = ("read", "write", "execute")


class User(BaseModel):
    """An authenticated caller, in jupyter_server's identity shape plus a role."""

    username: str
    name: str = ""
    display_name: str = ""
    initials: str | None = None
    avatar_url: str | None = None
    color: str | None = None
    role: str = "owner"

    def identity_model(self) -> dict[str, str | None]:
        """The ``identity`` object of ``GET /api/me``."""
        return {
            "username": self.username,
            "name": self.name or self.username,
            "display_name": self.display_name or self.name or self.username,
            "initials": self.initials,
            "avatar_url": self.avatar_url,
            "color": self.color,
        }


class Identity(ABC):
    """Authenticates requests and WebSockets."""

    @abstractmethod
    async def authenticate(self, conn: HTTPConnection) -> User | None:
        """Return the caller, or None when the request carries no valid credentials.

        May raise ``starlette.exceptions.HTTPException`` (e.g. 403 for a forbidden
        Origin or a missing XSRF token) when the request must be refused outright.
        """

    def login_url(self, conn: HTTPConnection) -> str | None:
        """Where a browser should go to log in, or None if there is no login page."""
        return None


class Authorizer(ABC):
    """Decides whether a user may perform an action on a resource."""

    @abstractmethod
    async def is_authorized(self, user: User, action: Action, resource: str) -> bool:
        """Return True when ``user`` may perform ``action`` on ``resource``."""
