"""The Identity service: who is calling, from a token header, ``?token=`` or login cookie.

Called by ``modserver.routing`` for every guarded route, HTTP and WebSocket. A request
authenticated by the login cookie with an unsafe method must also pass the XSRF check
(403 otherwise); token-authenticated requests are exempt, since a foreign page cannot
attach our token. Host and Origin checks happen earlier, in ``middleware``.
"""

from __future__ import annotations

from dataclasses import dataclass

from modserver.api.auth import Identity, User
from starlette.requests import HTTPConnection

from modserver_auth.cookies import CookieSigner, cookie_path, login_cookie_name
from modserver_auth.redirects import login_url
from modserver_auth.users import UserDirectory
from modserver_auth.xsrf import check_xsrf_header


def header_token(conn: HTTPConnection) -> str | None:
    """The token of an ``Authorization: token <t>`` or ``Bearer <t>`` header, if any."""
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


@dataclass
class TokenCookieIdentity(Identity):
    """Authenticates by token (header or query) or by the signed login cookie."""

    users: UserDirectory
    signer: CookieSigner
    base_url: str

    async def authenticate(self, conn: HTTPConnection) -> User | None:
        """The caller, None without valid credentials; 403 for a failed XSRF check."""
        token = header_token(conn)
        if token is not None:
            # An explicit but wrong header is a failure, even if a cookie is also present.
            return self.users.by_token(token)
        query_token = conn.query_params.get("token")
        if query_token:
            user = self.users.by_token(query_token)
            if user is not None:
                return user
        user = self.cookie_user(conn)
        if user is None:
            return None
        check_xsrf_header(conn)
        return user

    def cookie_user(self, conn: HTTPConnection) -> User | None:
        """The user of a valid login cookie (who must still exist), else None."""
        value = conn.cookies.get(login_cookie_name(conn))
        username = self.signer.verify(value) if value else None
        return self.users.user(username) if username else None

    def login_url(self, conn: HTTPConnection) -> str | None:
        """The login page, asked to come back to the current page afterwards."""
        return login_url(cookie_path(conn, self.base_url) + "login", conn.url.path, conn.url.query)


@dataclass
class NoAuthIdentity(Identity):
    """``auth.mode = "none"``: every caller is the owner (loopback only)."""

    users: UserDirectory

    async def authenticate(self, conn: HTTPConnection) -> User | None:
        """Always the owner."""
        return self.users.user("owner")
