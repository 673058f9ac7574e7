"""The login cookie: a signed, expiring record of who logged in.

Signed with itsdangerous (``URLSafeTimedSerializer``: the username, the time of signing,
an HMAC-SHA256 of both under a key derived from the secret and this cookie's salt). The
secret comes from ``secret_file``. Cookie attributes: HttpOnly, SameSite=Lax, Secure under
https, path = the app's root path + base_url.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response

XSRF_COOKIE = "_xsrf"
#: Keeps login cookies apart from anything else ever signed with the same secret.
LOGIN_SALT = "modserver-login-cookie"
#: A cookie signed up to this many seconds "in the future" (a clock set back) still counts.
CLOCK_SKEW = 60


@dataclass(frozen=True)
class CookieSigner:
    """Signs and checks login cookies with one secret."""

    secret: bytes
    max_age: float
    _serializer: URLSafeTimedSerializer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        serializer = URLSafeTimedSerializer(
            self.secret, salt=LOGIN_SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )
        object.__setattr__(self, "_serializer", serializer)

    def sign(self, username: str) -> str:
        """A cookie value saying ``username`` logged in now."""
        return self._serializer.dumps(username)

    def verify(self, value: str, now: float | None = None) -> str | None:
        """The username in a valid, unexpired cookie; None for anything else.

        ``now`` (default: the current time) lets tests look at a cookie from the future.
        """
        try:
            username, signed = self._serializer.loads(value, return_timestamp=True)
        except BadData:
            return None
        if not isinstance(username, str):
            return None
        age = (now if now is not None else time.time()) - signed.timestamp()
        return username if -CLOCK_SKEW < age <= self.max_age else None


#: Set by the auth middleware: the app's mount path in a host app plus base_url.
PREFIX_SCOPE_KEY = "modserver.auth.prefix"


def app_prefix(conn: HTTPConnection, base_url: str) -> str:
    """The URL path of our base_url, including the path a host app mounted us at."""
    prefix = conn.scope.get(PREFIX_SCOPE_KEY)
    return prefix if isinstance(prefix, str) else base_url


def cookie_path(conn: HTTPConnection, base_url: str) -> str:
    """The path cookies apply to: base_url under whatever path the app is mounted at."""
    return app_prefix(conn, base_url)


def login_cookie_name(conn: HTTPConnection) -> str:
    """Browsers share cookies between ports of one host: name ours after the port."""
    port = conn.url.port or (443 if conn.url.scheme in ("https", "wss") else 80)
    return f"modserver-login-{port}"


def is_secure(conn: HTTPConnection) -> bool:
    """True when the browser talks https to us (cookies must then be Secure)."""
    return conn.url.scheme in ("https", "wss")


def set_login_cookie(
    response: Response | MutableHeaders,
    conn: HTTPConnection,
    *,
    value: str,
    base_url: str,
    max_age: float,
) -> None:
    """Add the login cookie to a response (or to the headers of one in flight)."""
    _set_cookie(
        response,
        login_cookie_name(conn),
        value,
        path=cookie_path(conn, base_url),
        max_age=int(max_age),
        httponly=True,
        secure=is_secure(conn),
    )


def set_xsrf_cookie(
    response: Response | MutableHeaders, conn: HTTPConnection, *, value: str, base_url: str
) -> None:
    """Add the ``_xsrf`` cookie; not HttpOnly, since the frontend copies it into a header."""
    _set_cookie(
        response,
        XSRF_COOKIE,
        value,
        path=cookie_path(conn, base_url),
        max_age=None,
        httponly=False,
        secure=is_secure(conn),
    )


def clear_login_cookie(response: Response, conn: HTTPConnection, *, base_url: str) -> None:
    """Remove the login cookie from the browser."""
    response.delete_cookie(
        login_cookie_name(conn),
        path=cookie_path(conn, base_url),
        httponly=True,
        secure=is_secure(conn),
        samesite="lax",
    )


def _set_cookie(
    target: Response | MutableHeaders,
    name: str,
    value: str,
    *,
    path: str,
    max_age: int | None,
    httponly: bool,
    secure: bool,
) -> None:
    if isinstance(target, Response):
        target.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            httponly=httponly,
            secure=secure,
            samesite="lax",
        )
        return
    # A response already in flight (middleware): build the same header by hand.
    parts = [f"{name}={value}", f"Path={path}", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if httponly:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    target.append("set-cookie", "; ".join(parts))
