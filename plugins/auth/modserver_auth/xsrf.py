"""XSRF: a browser logged in by cookie must prove that the page it runs is ours.

Double-submit: the server sets a random ``_xsrf`` cookie (readable by the page); unsafe
requests authenticated by the login cookie must repeat it in the ``X-XSRFToken`` header
or an ``_xsrf`` form field, as JupyterLab and our login form do. A page on another site
can neither read the cookie nor set the header, so its forged request fails.
"""

from __future__ import annotations

import secrets

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from modserver_auth.cookies import XSRF_COOKIE
from modserver_auth.tokens import same_secret

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
XSRF_HEADER = "x-xsrftoken"
#: Also accepted, as tornado (jupyter_server) does.
CSRF_HEADER = "x-csrftoken"
XSRF_FIELD = "_xsrf"


def new_xsrf_token() -> str:
    """A fresh value for the ``_xsrf`` cookie."""
    return secrets.token_urlsafe(24)


def xsrf_cookie(conn: HTTPConnection) -> str | None:
    """The ``_xsrf`` cookie the browser sent, if any."""
    return conn.cookies.get(XSRF_COOKIE) or None


def check_xsrf(conn: HTTPConnection, submitted: str | None) -> None:
    """Raise 403 unless ``submitted`` (header or form field) equals the ``_xsrf`` cookie."""
    cookie = xsrf_cookie(conn)
    if not submitted or not cookie:
        raise HTTPException(
            403,
            "XSRF check failed: a request authenticated by cookie must send the _xsrf "
            "cookie's value in the X-XSRFToken header or an _xsrf form field",
        )
    if not same_secret(submitted, cookie):
        raise HTTPException(
            403, "XSRF check failed: the X-XSRFToken value does not match the _xsrf cookie"
        )


def check_xsrf_header(conn: HTTPConnection) -> None:
    """The XSRF check of an API request (unsafe method, cookie-authenticated).

    The value may come in the ``X-XSRFToken`` (or ``X-CSRFToken``) header or an ``_xsrf``
    query argument (forms posting to our own routes read their ``_xsrf`` field themselves).
    """
    if conn.scope.get("method", "GET") in SAFE_METHODS:
        return
    submitted = (
        conn.headers.get(XSRF_HEADER)
        or conn.headers.get(CSRF_HEADER)
        or conn.query_params.get(XSRF_FIELD)
    )
    check_xsrf(conn, submitted)
