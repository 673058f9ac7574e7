"""What the auth plugin knows while the server runs, shared by its middleware and routes.

Created empty when the app is assembled (middleware and routes exist before startup) and
filled by the plugin's lifespan; one per app, so two embedded apps never share a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modserver_auth.cookies import CookieSigner
from modserver_auth.settings import AuthSettings
from modserver_auth.throttle import LoginThrottle
from modserver_auth.users import UserDirectory


@dataclass
class AuthRuntime:
    """The plugin's per-app state."""

    settings: AuthSettings
    base_url: str
    throttle: LoginThrottle = field(init=False)
    _users: UserDirectory | None = None
    _signer: CookieSigner | None = None

    def __post_init__(self) -> None:
        self.throttle = LoginThrottle(
            self.settings.login_attempts, self.settings.login_window_seconds
        )

    @property
    def auth_disabled(self) -> bool:
        """True in ``auth.mode = "none"``."""
        return self.settings.mode == "none"

    def start(self, users: UserDirectory, signer: CookieSigner) -> None:
        """Called once the token and the cookie secret are known."""
        self._users = users
        self._signer = signer

    @property
    def started(self) -> bool:
        """True once the lifespan has loaded the token and the cookie secret."""
        return self._users is not None

    @property
    def users(self) -> UserDirectory:
        """The user directory (only while the server runs)."""
        if self._users is None:
            raise RuntimeError("the auth plugin has not started")
        return self._users

    @property
    def signer(self) -> CookieSigner:
        """The login cookie signer (only while the server runs)."""
        if self._signer is None:
            raise RuntimeError("the auth plugin has not started")
        return self._signer
