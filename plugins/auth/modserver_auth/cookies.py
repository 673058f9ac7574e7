"""The login cookie: a signed, expiring record of who logged in.

Format ``<base64 JSON payload>.<base64 HMAC-SHA256>``; the payload holds the username and
the time of login. The secret comes from ``secret_file``. Cookie attributes: HttpOnly,
SameSite=Lax, Secure under https, path = the app's root path + base_url.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response

XSRF_COOKIE = "_xsrf"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class CookieSigner:
    """Signs and checks login cookies with one secret."""

    secret: bytes
    max_age: float

    def sign(self, username: str, now: float | None = None) -> str:
        """A cookie value saying ``username`` logged in now."""
        payload = _b64(json.dumps({"u": username, "t": int(now or time.time())}).encode())
        return f"{payload}.{self._mac(payload)}"

    def verify(self, value: str, now: float | None = None) -> str | None:
        """The username in a valid, unexpired cookie; None for anything else."""
        payload, sep, mac = value.partition(".")
        if not sep or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            data = json.loads(_unb64(payload))
            username, issued = data["u"], data["t"]
        except (ValueError, binascii.Error, KeyError, TypeError):
            return None
        if not isinstance(username, str) or not isinstance(issued, int):
            return None
        age = (now or time.time()) - issued
        return username if 0 <= age <= self.max_age or -60 < age < 0 else None

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, payload.encode(), hashlib.sha256).digest()[:24])


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
