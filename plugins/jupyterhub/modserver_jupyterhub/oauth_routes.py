"""``/login``, the OAuth callback and ``/logout``: logging in through the hub.

``/login?next=<page>`` remembers a random ``state`` and the page in a signed cookie and
sends the browser to the hub's ``/hub/api/oauth2/authorize``. The hub, once the user is
logged in there and allowed on this server, sends the browser back to the callback
(``JUPYTERHUB_OAUTH_CALLBACK_URL``) with a code and the state: the state must match the
cookie's, the code is exchanged for the user's token, which goes into our signed cookie,
and the browser returns to its page. ``/logout`` drops that cookie and logs out of the hub.
"""

from __future__ import annotations

import hmac
import posixpath
import secrets
from collections.abc import Callable
from urllib.parse import unquote, urlencode, urlsplit

from modserver.errors import http_error
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from modserver_jupyterhub.cookies import (
    STATE_COOKIE,
    STATE_MAX_AGE,
    TOKEN_COOKIE,
    clear_cookie,
    prefix_of,
    set_cookie,
)
from modserver_jupyterhub.hub_client import HubUnavailable
from modserver_jupyterhub.identity import TOKEN_SALT, HubIdentity, has_access

STATE_SALT = "modserver-hub-oauth-state"


def safe_next(next_url: str, prefix: str) -> str:
    """``next_url`` if it is a plain path on this server under ``prefix``, else ``prefix``.

    No scheme or host, no backslash, control character or whitespace (browsers strip or
    turn them into slashes), no empty or dot segments, before or after decoding: the
    result can only be read as a path on this server.
    """
    for form in (next_url, unquote(next_url)):
        parts = urlsplit(form)
        path = parts.path
        if (
            parts.scheme
            or parts.netloc
            or not path.startswith(prefix)
            or "//" in path
            or "\\" in form
            or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in form)
            or posixpath.normpath(path) != path.rstrip("/")
        ):
            return prefix
    return next_url


def oauth_routes(identity: Callable[[], HubIdentity], callback_path: str) -> list[BaseRoute]:
    """The login, callback and logout routes over this app's running ``HubIdentity``."""

    async def login(request: Request) -> Response:
        hub = identity()
        prefix = prefix_of(request, hub.base_url)
        state = secrets.token_urlsafe(32)
        saved = {"state": state, "next": safe_next(request.query_params.get("next", ""), prefix)}
        query = urlencode(
            {
                "client_id": hub.env.client_id,
                "redirect_uri": hub.env.oauth_callback_url,
                "response_type": "code",
                "state": state,
            }
        )
        response = RedirectResponse(f"{hub.env.hub_url}api/oauth2/authorize?{query}", 302)
        set_cookie(
            response,
            request,
            STATE_COOKIE,
            hub.signer.sign(saved, STATE_SALT),
            path=prefix,
            max_age=STATE_MAX_AGE,
        )
        return response

    async def callback(request: Request) -> Response:
        hub = identity()
        prefix = prefix_of(request, hub.base_url)
        error = request.query_params.get("error")
        if error:
            raise http_error(403, f"The hub did not log you in: {error}")
        code = request.query_params.get("code", "")
        state = request.query_params.get("state", "")
        saved = hub.signer.verify(request.cookies.get(STATE_COOKIE, ""), STATE_SALT, STATE_MAX_AGE)
        if (
            not code
            or not isinstance(saved, dict)
            or not isinstance(saved.get("state"), str)
            or not hmac.compare_digest(saved["state"].encode(), state.encode())
        ):
            raise http_error(400, "OAuth state does not match this browser's login: log in again")
        try:
            token = await hub.hub.token_for_code(code)
        except PermissionError:
            raise http_error(403, "The hub refused the login code: log in again") from None
        except HubUnavailable as exc:
            raise http_error(503, f"JupyterHub did not answer: {exc}") from None
        model = await hub.hub_user(token)
        if model is None:
            raise http_error(403, "The hub does not know the token it issued: log in again")
        if not has_access(model.scopes, hub.env.access_scopes):
            raise http_error(403, f"Hub user {model.name!r} may not access this server")
        next_url = saved.get("next")
        response = RedirectResponse(
            safe_next(next_url, prefix) if isinstance(next_url, str) else prefix, 302
        )
        set_cookie(
            response,
            request,
            TOKEN_COOKIE,
            hub.signer.sign(token, TOKEN_SALT),
            path=prefix,
            max_age=int(hub.signer.max_age),
        )
        clear_cookie(response, request, STATE_COOKIE, path=prefix)
        return response

    async def logout(request: Request) -> Response:
        hub = identity()
        token = hub.cookie_token(request)
        if token:
            hub.forget(token)
        response = RedirectResponse(f"{hub.env.hub_url}logout", 302)
        clear_cookie(response, request, TOKEN_COOKIE, path=prefix_of(request, hub.base_url))
        return response

    return [
        route("/login", login, public=True),
        route(callback_path, callback, public=True),
        route("/logout", logout, public=True),
    ]
