"""The Identity service inside a hub: the caller's hub token, from a header or our cookie.

A token (``Authorization: token <t>`` / ``Bearer <t>``, or the signed cookie the OAuth
callback set) is shown to the hub (``GET /hub/api/user``), which says whose it is and
which scopes it carries. The answer is cached per token (by its SHA-256) for
``jupyterhub.token_check_interval`` seconds, then asked again, so a token the hub revokes
stops working within that time. Only a token whose scopes include one of
``JUPYTERHUB_OAUTH_ACCESS_SCOPES`` gets in (others: 403). Cookie-authenticated requests
also pass the XSRF check (unsafe methods) and the Origin check (WebSockets).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from modserver.api.auth import Identity, User
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from modserver_jupyterhub.cookies import TOKEN_COOKIE, XSRF_COOKIE, CookieSigner, prefix_of
from modserver_jupyterhub.environment import HubEnvironment
from modserver_jupyterhub.hub_client import HubClient, HubIdentityModel, HubUnavailable

TOKEN_SALT = "modserver-hub-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Bound on remembered tokens; the oldest half is forgotten when it is reached.
CACHE_SIZE = 1024


class HubUser(User):
    """A hub user: the core's ``User`` plus the hub groups they belong to."""

    groups: list[str] = []

    def identity_model(self) -> dict[str, Any]:
        """``GET /api/me``'s identity, with the hub user's groups."""
        return {**super().identity_model(), "groups": list(self.groups)}


def header_token(conn: HTTPConnection) -> str | None:
    """The token of an ``Authorization: token <t>`` or ``Bearer <t>`` header, if any."""
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


def has_access(scopes: frozenset[str], access_scopes: tuple[str, ...]) -> bool:
    """True when ``scopes`` grant access to this server.

    One of the listed access scopes, or the same scope without a filter
    (``access:servers`` for every server, as a hub admin's token may hold).
    """
    bare = {scope.partition("!")[0] for scope in access_scopes}
    return any(scope in scopes for scope in access_scopes) or bool(bare & scopes)


@dataclass
class HubIdentity(Identity):
    """Authenticates hub users by token, asking the hub and caching its answers."""

    env: HubEnvironment
    hub: HubClient
    signer: CookieSigner
    base_url: str
    shared_role: str
    check_interval: float
    _cache: dict[str, tuple[float, HubIdentityModel]] = field(default_factory=dict, repr=False)

    async def authenticate(self, conn: HTTPConnection) -> User | None:
        """The caller; None without a valid token; 403 without access or failed checks."""
        token = header_token(conn)
        from_cookie = token is None
        if token is None:
            token = self.cookie_token(conn)
        if token is None:
            return None
        model = await self.hub_user(token)
        if model is None:
            return None
        if not has_access(model.scopes, self.env.access_scopes):
            raise HTTPException(
                403, f"Hub user {model.name!r} may not access {self.env.user!r}'s server"
            )
        if from_cookie:
            check_cookie_request(conn)
        return self.user_of(model)

    def cookie_token(self, conn: HTTPConnection) -> str | None:
        """The hub token kept in our signed cookie, if valid."""
        text = conn.cookies.get(TOKEN_COOKIE)
        if not text:
            return None
        token = self.signer.verify(text, TOKEN_SALT, self.signer.max_age)
        return token if isinstance(token, str) and token else None

    def user_of(self, model: HubIdentityModel) -> HubUser:
        """The modserver user of a hub user: the server's owner, or the shared role."""
        role = "owner" if model.name == self.env.user else self.shared_role
        return HubUser(username=model.name, name=model.name, role=role, groups=list(model.groups))

    async def hub_user(self, token: str) -> HubIdentityModel | None:
        """Whose ``token`` is, from the cache while fresh, else from the hub (503 if down)."""
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.check_interval:
            return cached[1]
        try:
            model = await self.hub.user_for_token(token)
        except HubUnavailable as exc:
            raise HTTPException(503, f"JupyterHub did not answer: {exc}") from None
        if model is None:
            self._cache.pop(key, None)
            return None
        if len(self._cache) >= CACHE_SIZE:
            for old in sorted(self._cache, key=lambda k: self._cache[k][0])[: CACHE_SIZE // 2]:
                del self._cache[old]
        self._cache[key] = (now, model)
        return model

    def forget(self, token: str) -> None:
        """Drop a token's cached answer (at logout)."""
        self._cache.pop(hashlib.sha256(token.encode()).hexdigest(), None)

    def login_url(self, conn: HTTPConnection) -> str | None:
        """Our login route, which sends the browser to the hub's OAuth authorization."""
        here = conn.url.path + (f"?{conn.url.query}" if conn.url.query else "")
        return prefix_of(conn, self.base_url) + "login?" + urlencode({"next": here})


def check_cookie_request(conn: HTTPConnection) -> None:
    """403 for a cookie-authenticated request a foreign page could have forged.

    Unsafe methods repeat the ``_xsrf`` cookie in ``X-XSRFToken`` (or ``?_xsrf=``), as
    JupyterLab does; a WebSocket's ``Origin``, when sent, is this server's host.
    """
    if conn.scope["type"] == "websocket":
        origin = conn.headers.get("origin")
        if (
            origin is not None
            and urlsplit(origin).netloc.lower() != (conn.headers.get("host") or "").lower()
        ):
            raise HTTPException(403, f"Origin {origin!r} may not open WebSockets here")
        return
    if conn.scope.get("method") not in UNSAFE_METHODS:
        return
    cookie = conn.cookies.get(XSRF_COOKIE, "")
    sent = conn.headers.get("x-xsrftoken") or conn.query_params.get("_xsrf") or ""
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise HTTPException(403, "'_xsrf' argument missing or not matching the _xsrf cookie")
