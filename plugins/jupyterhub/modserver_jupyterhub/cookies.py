"""The cookies of a hub login: the user's hub token, the pending OAuth state, ``_xsrf``.

The token and state cookies are signed (itsdangerous, HMAC-SHA256) with a secret made per
app at startup, HttpOnly, SameSite=Lax, Secure under https, and scoped to this server's
prefix (``/user/<name>/``), so another user's server never receives them. A restarted
server no longer accepts its old cookies: the browser goes through the hub's OAuth flow
again, which the hub completes without asking anything.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response

TOKEN_COOKIE = "modserver-hub-token"
STATE_COOKIE = "modserver-hub-oauth-state"
XSRF_COOKIE = "_xsrf"
#: A login must come back from the hub within this many seconds.
STATE_MAX_AGE = 600


#: Set by the hub middleware, outside base_url's mount: this server's URL path prefix.
PREFIX_SCOPE_KEY = "modserver.jupyterhub.prefix"


def prefix_of(conn: HTTPConnection, base_url: str) -> str:
    """This server's URL path prefix (a host app's mount path included).

    Inside base_url's mount, ``root_path`` already ends with base_url: the middleware,
    which runs outside it, records the prefix for the routes.
    """
    recorded = conn.scope.get(PREFIX_SCOPE_KEY)
    if isinstance(recorded, str):
        return recorded
    return str(conn.scope.get("root_path", "")).rstrip("/") + base_url


@dataclass(frozen=True)
class CookieSigner:
    """Signs and checks this app's cookie values; ``max_age`` bounds a token cookie."""

    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    max_age: float = 14 * 86400

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            self.secret, salt=salt, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def sign(self, value: Any, salt: str) -> str:
        """A signed, timestamped cookie value holding ``value`` (JSON-able)."""
        return self._serializer(salt).dumps(value)

    def verify(self, text: str, salt: str, max_age: float) -> Any:
        """The value of a valid cookie younger than ``max_age`` seconds, else None."""
        try:
            return self._serializer(salt).loads(text, max_age=int(max_age))
        except BadData:
            return None


def set_cookie(
    target: Response | MutableHeaders,
    conn: HTTPConnection,
    name: str,
    value: str,
    *,
    path: str,
    max_age: int | None,
    httponly: bool = True,
) -> None:
    """Add one cookie (SameSite=Lax, Secure under https) to a response or its headers."""
    parts = [f"{name}={value}", f"Path={path}", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if httponly:
        parts.append("HttpOnly")
    if conn.url.scheme in ("https", "wss"):
        parts.append("Secure")
    headers = target.headers if isinstance(target, Response) else target
    headers.append("set-cookie", "; ".join(parts))


def clear_cookie(target: Response, conn: HTTPConnection, name: str, *, path: str) -> None:
    """Make the browser drop a cookie."""
    set_cookie(target, conn, name, "", path=path, max_age=0)
