"""The hub middleware: records activity, hands out ``_xsrf``, sends browsers to log in.

Activity is a request answered below 400 or an accepted WebSocket (``/api/status`` polls
excepted): what the hub's culler should count as use.

A GET without the ``_xsrf`` cookie gets one (JupyterLab copies it into ``X-XSRFToken``).
A page load answered 401 becomes a redirect to ``login?next=<page>``, which starts the
hub's OAuth flow; scripts keep the JSON 401.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modserver_jupyterhub.activity import Activity
from modserver_jupyterhub.cookies import PREFIX_SCOPE_KEY, XSRF_COOKIE, prefix_of, set_cookie

STATUS_SUFFIX = "api/status"


def is_navigation(conn: HTTPConnection) -> bool:
    """A browser loading a page (not a script's fetch): only those get redirects."""
    mode = conn.headers.get("sec-fetch-mode")
    if mode is not None:
        return mode == "navigate"
    return "text/html" in conn.headers.get("accept", "")


class HubMiddleware:
    """Activity, the ``_xsrf`` cookie and login redirects for a server inside a hub."""

    def __init__(self, app: ASGIApp, *, activity: Activity, base_url: str) -> None:
        self.app = app
        self.activity = activity
        self.base_url = base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope[PREFIX_SCOPE_KEY] = prefix_of(HTTPConnection(scope), self.base_url)
        counts = not scope["path"].endswith(STATUS_SUFFIX)
        if scope["type"] == "websocket":

            async def send_accepted(message: Message) -> None:
                # Only a WebSocket the guard let in is someone using the server.
                if counts and message["type"] == "websocket.accept":
                    self.activity.touch()
                await send(message)

            await self.app(scope, receive, send_accepted)
            return
        conn = HTTPConnection(scope)
        is_get = scope["method"] in ("GET", "HEAD")
        new_xsrf = (
            secrets.token_urlsafe(32) if is_get and not conn.cookies.get(XSRF_COOKIE) else None
        )
        navigation = is_get and is_navigation(conn)
        redirecting = False

        async def send_wrapper(message: Message) -> None:
            nonlocal redirecting
            if message["type"] == "http.response.start":
                # Refused requests (anyone may knock) do not keep an idle server alive.
                if counts and message["status"] < 400:
                    self.activity.touch()
                if navigation and message["status"] == 401:
                    redirecting = True
                    message = {"type": "http.response.start", "status": 302, "headers": []}
                    headers = MutableHeaders(scope=message)
                    headers["location"] = self._login_url(conn)
                    headers["content-length"] = "0"
                if new_xsrf:
                    path = prefix_of(conn, self.base_url)
                    set_cookie(
                        MutableHeaders(scope=message),
                        conn,
                        XSRF_COOKIE,
                        new_xsrf,
                        path=path,
                        max_age=None,
                        httponly=False,
                    )
            elif redirecting and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the 401's body; the redirect has none
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _login_url(self, conn: HTTPConnection) -> str:
        here = conn.url.path + (f"?{conn.url.query}" if conn.url.query else "")
        return prefix_of(conn, self.base_url) + "login?" + urlencode({"next": here})
