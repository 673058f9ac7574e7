"""The auth middleware: the first thing every request and WebSocket meets.

In order: refuse a Host that is not local (DNS rebinding) and an Origin that is neither
ours nor allowed (forged cross-site requests, HTTP and WebSocket); turn a valid
``?token=`` on a GET into the login cookie (a page
load is redirected to the same URL without the token); hand out the ``_xsrf`` cookie; send
a browser that gets 401 on a page to the login form. Authentication proper is ``identity``;
CORS headers and preflights for allowed origins are ``cors`` (the next middleware in).
"""

from __future__ import annotations

import json

from modserver.request_headers import header
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modserver_auth.cookies import (
    PREFIX_SCOPE_KEY,
    XSRF_COOKIE,
    app_prefix,
    set_login_cookie,
    set_xsrf_cookie,
)
from modserver_auth.hosts import OriginPolicy, same_origin
from modserver_auth.redirects import local_redirect, login_url, query_without_token
from modserver_auth.runtime import AuthRuntime
from modserver_auth.xsrf import new_xsrf_token

#: The ``_xsrf`` value of this request (sent by the browser, or newly issued).
XSRF_SCOPE_KEY = "modserver.auth.xsrf"

_HOST_CACHE_SIZE = 64


class AuthMiddleware:
    """Host/Origin checks, CORS, token-to-cookie exchange, XSRF cookie, login redirects."""

    def __init__(self, app: ASGIApp, *, runtime: AuthRuntime, policy: OriginPolicy) -> None:
        self.app = app
        self.runtime = runtime
        self.policy = policy
        # Host headers the (immutable) policy allowed: a set lookup instead of parsing the
        # name as an IP address on every request. Bounded; refusals are never cached.
        self._allowed_hosts: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope[PREFIX_SCOPE_KEY] = scope.get("root_path", "").rstrip("/") + self.runtime.base_url
        conn = HTTPConnection(scope)
        host = header(scope, b"host")
        if host is not None and host in self._allowed_hosts:
            pass
        elif not self.policy.host_allowed(host):
            await _refuse(
                scope,
                receive,
                send,
                f"Host {host!r} is not allowed: this server answers only to local host names. "
                "Add it to auth.local_hostnames, or set auth.allow_remote_access = true",
            )
            return
        elif host is not None and len(self._allowed_hosts) < _HOST_CACHE_SIZE:
            self._allowed_hosts.add(host)
        origin = header(scope, b"origin")
        cross_origin = origin is not None and not same_origin(origin, host)
        if cross_origin and not self.policy.origin_allowed(origin or ""):
            await _refuse(
                scope,
                receive,
                send,
                f"Origin {origin!r} is not allowed to call this server; "
                "allow it with auth.allow_origin or auth.allow_origin_pat",
            )
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        await self._http(scope, receive, send, conn)

    async def _http(self, scope: Scope, receive: Receive, send: Send, conn: HTTPConnection) -> None:
        is_get = scope["method"] in ("GET", "HEAD")
        xsrf = conn.cookies.get(XSRF_COOKIE)
        issue_xsrf = is_get and not xsrf
        if issue_xsrf:
            xsrf = new_xsrf_token()
        scope[XSRF_SCOPE_KEY] = xsrf
        login_value = self._token_login(conn) if is_get else None
        navigation = is_get and _is_navigation(conn)
        if login_value is not None and navigation:
            await self._strip_token_redirect(conn, send, login_value, xsrf if issue_xsrf else None)
            return
        redirecting = False
        adds_headers = bool(issue_xsrf and xsrf) or login_value is not None
        if not adds_headers and not navigation:
            # Nothing to add or redirect (most API calls): no wrapper around send.
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            nonlocal redirecting
            if message["type"] == "http.response.start":
                if navigation and message["status"] == 401 and not self.runtime.auth_disabled:
                    redirecting = True
                    message = _redirect_start(self._login_url(conn))
                if adds_headers:
                    headers = MutableHeaders(scope=message)
                    if issue_xsrf and xsrf:
                        set_xsrf_cookie(headers, conn, value=xsrf, base_url=self.runtime.base_url)
                    if login_value is not None:
                        self._set_login(headers, conn, login_value)
            elif redirecting and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # swallow the 401 body; the redirect has none
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _token_login(self, conn: HTTPConnection) -> str | None:
        """A login cookie value for a valid ``?token=`` (None without one)."""
        if not conn.scope.get("query_string"):
            return None  # no query, no token (and no parsing it on every request)
        token = conn.query_params.get("token")
        if not token or self.runtime.auth_disabled:
            return None
        user = self.runtime.users.by_token(token)
        return self.runtime.signer.sign(user.username) if user is not None else None

    def _set_login(self, headers: MutableHeaders, conn: HTTPConnection, value: str) -> None:
        set_login_cookie(
            headers,
            conn,
            value=value,
            base_url=self.runtime.base_url,
            max_age=self.runtime.signer.max_age,
        )

    async def _strip_token_redirect(
        self, conn: HTTPConnection, send: Send, login_value: str, xsrf: str | None
    ) -> None:
        # Keep the token out of the address bar, history and later Referer headers.
        query = query_without_token(conn.url.query)
        prefix = app_prefix(conn, self.runtime.base_url)
        start = _redirect_start(local_redirect(conn.url.path, query, prefix))
        headers = MutableHeaders(scope=start)
        self._set_login(headers, conn, login_value)
        if xsrf:
            set_xsrf_cookie(headers, conn, value=xsrf, base_url=self.runtime.base_url)
        await send(start)
        await send({"type": "http.response.body", "body": b""})

    def _login_url(self, conn: HTTPConnection) -> str:
        prefix = app_prefix(conn, self.runtime.base_url)
        return login_url(prefix + "login", conn.url.path, conn.url.query)


def _is_navigation(conn: HTTPConnection) -> bool:
    """A browser loading a page (not a script's fetch): only those get redirects."""
    mode = header(conn.scope, b"sec-fetch-mode")
    if mode is not None:
        return mode == "navigate"
    return "text/html" in (header(conn.scope, b"accept") or "")


def _redirect_start(location: str) -> Message:
    start: Message = {"type": "http.response.start", "status": 302, "headers": []}
    headers = MutableHeaders(scope=start)
    headers["location"] = location
    headers["content-length"] = "0"
    return start


async def _refuse(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    """403 with a JSON body; for a WebSocket, refuse the handshake."""
    body = json.dumps({"message": message, "reason": "Forbidden"}).encode()
    if scope["type"] == "websocket":
        if "websocket.http.response" in scope.get("extensions", {}):
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
