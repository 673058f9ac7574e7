"""Declaration of the auth plugin (kept light: heavy imports happen inside hooks).

Provides ``Identity`` (token, password, cookie) and ``Authorizer`` (roles); adds the
auth middleware (hosts, origins, CORS, token-to-cookie, XSRF cookie, login redirects),
``/login``, ``/logout``, ``/api/me`` and the ``modserver password`` command.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.openapi import packaged_fragment
from modserver.settings import SettingsError

from modserver_auth.settings import AuthSettings

if TYPE_CHECKING:
    from modserver.cli import Command
    from starlette.middleware import Middleware
    from starlette.routing import BaseRoute

    from modserver_auth.cookies import CookieSigner
    from modserver_auth.runtime import AuthRuntime
    from modserver_auth.users import UserDirectory

log = logging.getLogger("modserver.auth")

_RUNTIME = "runtime"


def _runtime(context: PluginContext) -> AuthRuntime:
    """The per-app ``AuthRuntime``, made on first use (assembly comes before startup)."""
    from modserver_auth.runtime import AuthRuntime

    runtime = context.state.get(_RUNTIME)
    if not isinstance(runtime, AuthRuntime):
        runtime = AuthRuntime(context.settings_as(AuthSettings), context.core.base_url)
        context.state[_RUNTIME] = runtime
    return runtime


def _check_mode(context: PluginContext) -> None:
    from modserver_auth.hosts import is_loopback_host

    settings = context.settings_as(AuthSettings)
    if settings.mode == "none" and not is_loopback_host(context.core.host):
        raise SettingsError(
            f'auth.mode = "none" is refused because host = {context.core.host!r} is not a '
            "loopback address: anyone on the network could run code. Bind to 127.0.0.1 "
            "or remove auth.mode"
        )


class AuthPlugin(Plugin):
    name = "auth"
    version = "0.1.0"
    description = "Token/password login, cookies, XSRF, origin checks, roles, several users."
    provides = (Identity, Authorizer)
    settings = AuthSettings
    environment = ("MODSERVER_TOKEN",)

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            from modserver_auth.authorizer import RoleAuthorizer
            from modserver_auth.identity import NoAuthIdentity, TokenCookieIdentity

            _check_mode(context)
            runtime = _runtime(context)
            users, signer = await anyio.to_thread.run_sync(_prepare, context)
            runtime.start(users, signer)
            identity: Identity
            if runtime.auth_disabled:
                log.warning(
                    "AUTHENTICATION IS OFF (auth.mode = 'none'): every local process and "
                    "every web page you visit can read your files and run code here"
                )
                identity = NoAuthIdentity(users)
            else:
                identity = TokenCookieIdentity(users, signer, context.core.base_url)
            context.services.provide(Identity, identity)
            context.services.provide(Authorizer, RoleAuthorizer())
            yield

        return lifespan()

    @hookimpl
    def modserver_middleware(self, context: PluginContext) -> list[Middleware]:
        from starlette.middleware import Middleware

        from modserver_auth.cors import cors_middleware
        from modserver_auth.hosts import OriginPolicy
        from modserver_auth.keepalive import UnreadBodyMiddleware
        from modserver_auth.middleware import AuthMiddleware

        # Checked at assembly too, so `modserver run` stops before binding (exit status 2).
        _check_mode(context)
        policy = OriginPolicy.from_settings(context.settings_as(AuthSettings), context.core.host)
        return [
            Middleware(UnreadBodyMiddleware),
            Middleware(AuthMiddleware, runtime=_runtime(context), policy=policy),
            cors_middleware(policy),
        ]

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_auth.login_routes import login_routes
        from modserver_auth.me_routes import me_routes

        runtime = _runtime(context)
        return [*login_routes(runtime), *me_routes(runtime, context.services)]

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_auth")

    @hookimpl
    def modserver_open_url(self, url: str, context: PluginContext) -> str | None:
        from urllib.parse import urlencode, urlsplit, urlunsplit

        runtime = _runtime(context)
        token = runtime.users.token if runtime.started else None
        if not token:
            return None
        parts = urlsplit(url)
        query = "&".join(q for q in (parts.query, urlencode({"token": token})) if q)
        return urlunsplit(parts._replace(query=query))

    @hookimpl
    def modserver_commands(self) -> list[Command]:
        from modserver_auth.cli import password_command

        return [password_command()]


def _prepare(context: PluginContext) -> tuple[UserDirectory, CookieSigner]:
    """Resolve the owner token and the cookie secret (file I/O: runs in a thread)."""
    from modserver_auth.cookies import CookieSigner
    from modserver_auth.secret_file import SECRET_FILE_NAME, credentials_fingerprint, load_or_rotate
    from modserver_auth.tokens import owner_token
    from modserver_auth.users import UserDirectory

    settings = context.settings_as(AuthSettings)
    owner = owner_token(settings)
    token = None if settings.mode == "none" else owner.value
    configured = [settings.password_hash or ""]
    if owner.configured:
        configured.append("token:" + (owner.value or ""))
    for name, entry in settings.users.items():
        configured += [f"{name}:{entry.role}", entry.password_hash or "", entry.token_hash or ""]
    path = settings.cookie_secret_file or context.core.runtime_dir / SECRET_FILE_NAME
    secret = load_or_rotate(path.expanduser(), credentials_fingerprint(configured))
    return UserDirectory(settings, token), CookieSigner(
        secret, settings.cookie_max_age_days * 86400
    )


plugin = AuthPlugin()
