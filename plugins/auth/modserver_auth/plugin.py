"""Declaration of the auth plugin (kept light: heavy imports happen inside hooks)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Action, Authorizer, Identity, User
from modserver.settings import PluginSettings
from starlette.requests import HTTPConnection


class AuthSettings(PluginSettings):
    """Settings of the ``[auth]`` section."""

    mode: Literal["token", "none"] = "token"
    token: str | None = None


class TokenIdentity(Identity):
    """Accepts ``Authorization: token <t>`` / ``Bearer <t>`` or ``?token=<t>``."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def authenticate(self, conn: HTTPConnection) -> User | None:
        header = conn.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        given = (
            value.strip()
            if scheme.lower() in ("token", "bearer")
            else conn.query_params.get("token", "")
        )
        if given and hmac.compare_digest(given.encode(), self.token.encode()):
            return User(username="owner", role="owner")
        return None


class RoleAuthorizer(Authorizer):
    async def is_authorized(self, user: User, action: Action, resource: str) -> bool:
        return user.role == "owner"


class AuthPlugin(Plugin):
    name = "auth"
    version = "0.1.0"
    description = "Token authentication and authorization."
    provides = (Identity, Authorizer)
    settings = AuthSettings

    def __init__(self) -> None:
        self.token = ""

    @hookimpl
    def modserver_lifespan(self, context: PluginContext):  # type: ignore[no-untyped-def]
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            settings = context.settings_as(AuthSettings)
            self.token = settings.token or secrets.token_hex(24)
            context.services.provide(Identity, TokenIdentity(self.token))
            context.services.provide(Authorizer, RoleAuthorizer())
            yield

        return lifespan()

    @hookimpl
    def modserver_open_url(self, url: str) -> str:
        return f"{url}?token={self.token}"


plugin = AuthPlugin()
