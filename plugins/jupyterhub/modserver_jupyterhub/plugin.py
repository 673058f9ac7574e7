"""Declaration of the jupyterhub plugin (kept light: heavy imports happen inside hooks).

Provides ``Identity`` and ``Authorizer`` in place of ``auth`` for a single-user server
spawned by JupyterHub: it detects the spawner's ``JUPYTERHUB_*`` environment
(``detect``), takes base_url, host and port from it (``core_defaults``), logs users in
through the hub's OAuth flow, accepts hub tokens and reports activity to the hub.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.openapi import packaged_fragment
from modserver.settings import SettingsError

from modserver_jupyterhub.settings import JupyterHubSettings

if TYPE_CHECKING:
    from starlette.middleware import Middleware
    from starlette.routing import BaseRoute

    from modserver_jupyterhub.activity import Activity
    from modserver_jupyterhub.cookies import CookieSigner
    from modserver_jupyterhub.environment import HubEnvironment

_RUNTIME = "runtime"


@dataclass(frozen=True)
class HubRuntime:
    """What one app needs from assembly on: the hub's environment, cookie key, activity."""

    env: HubEnvironment
    signer: CookieSigner
    activity: Activity


def _runtime(context: PluginContext) -> HubRuntime:
    """The per-app ``HubRuntime``, made on first use (assembly comes before startup)."""
    from modserver_jupyterhub.activity import Activity
    from modserver_jupyterhub.cookies import CookieSigner
    from modserver_jupyterhub.environment import HubEnvironment, HubEnvironmentError

    runtime = context.state.get(_RUNTIME)
    if not isinstance(runtime, HubRuntime):
        try:
            env = HubEnvironment.from_environ(os.environ)
            env.callback_path  # noqa: B018 -- checked now: it becomes a route
        except HubEnvironmentError as exc:
            raise SettingsError(str(exc)) from None
        runtime = HubRuntime(env, CookieSigner(), Activity())
        context.state[_RUNTIME] = runtime
    return runtime


class JupyterHubPlugin(Plugin):
    name = "jupyterhub"
    version = "0.1.0"
    description = "JupyterHub single-user server: hub OAuth login, hub tokens, activity."
    provides = (Identity, Authorizer)
    settings = JupyterHubSettings
    # The server's OAuth client secret: kernels and terminals get no copy of it.
    secret_environment = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")

    def detect(self, environ: Mapping[str, str]) -> bool | None:
        """True inside a server JupyterHub spawned, False anywhere else."""
        from modserver_jupyterhub.environment import in_hub

        return in_hub(environ)

    def core_defaults(self, environ: Mapping[str, str]) -> Mapping[str, Any]:
        """base_url from ``JUPYTERHUB_SERVICE_PREFIX``, host and port from ``..._SERVICE_URL``."""
        from modserver_jupyterhub.environment import core_defaults

        return core_defaults(environ)

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            from modserver_jupyterhub.activity import report_activity
            from modserver_jupyterhub.authorizer import HubRoleAuthorizer
            from modserver_jupyterhub.hub_client import HubClient
            from modserver_jupyterhub.identity import HubIdentity

            settings = context.settings_as(JupyterHubSettings)
            runtime = _runtime(context)
            # httpx logs every request at INFO: an activity report every few minutes.
            logging.getLogger("httpx").setLevel(logging.WARNING)
            hub = HubClient(runtime.env, settings.hub_timeout)
            identity = HubIdentity(
                env=runtime.env,
                hub=hub,
                signer=runtime.signer,
                base_url=context.core.base_url,
                shared_role=settings.shared_role,
                check_interval=settings.token_check_interval,
            )
            context.services.provide(Identity, identity)
            context.services.provide(Authorizer, HubRoleAuthorizer())
            context.log.info(
                "JupyterHub single-user server of %r at %s",
                runtime.env.user,
                runtime.env.service_prefix,
            )

            async def kernel_activity() -> list[datetime]:
                # The kernels plugin's status hook (cheap, no I/O) has its latest activity.
                answers = context.hook.modserver_status()
                return [
                    a["last_activity"]
                    for a in answers
                    if isinstance(a.get("last_activity"), datetime)
                ]

            reporting = anyio.CancelScope()

            async def report() -> None:
                with reporting:
                    await report_activity(
                        hub, runtime.activity, settings.activity_interval, kernel_activity
                    )

            try:
                context.task_group.start_soon(report)
                with context.keep(identity):
                    yield
            finally:
                reporting.cancel()
                with anyio.CancelScope(shield=True):
                    await hub.aclose()

        return lifespan()

    @hookimpl
    def modserver_middleware(self, context: PluginContext) -> list[Middleware]:
        from starlette.middleware import Middleware

        from modserver_jupyterhub.middleware import HubMiddleware

        runtime = _runtime(context)
        return [
            Middleware(HubMiddleware, activity=runtime.activity, base_url=context.core.base_url)
        ]

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_jupyterhub.identity import HubIdentity
        from modserver_jupyterhub.me_routes import me_routes
        from modserver_jupyterhub.oauth_routes import oauth_routes

        runtime = _runtime(context)
        return [
            *oauth_routes(lambda: context.running(HubIdentity), runtime.env.callback_path),
            *me_routes(context.services),
        ]

    @hookimpl
    def frontend_page_config(
        self, page_config: dict[str, Any], context: PluginContext
    ) -> dict[str, Any]:
        # JupyterLab's hub extension reads these: "Hub Control Panel" and "Log Out" in
        # the File menu, and the hub's pages when the server has stopped.
        env = _runtime(context).env
        return {
            "hubHost": env.hub_host,
            "hubPrefix": env.hub_prefix,
            "hubUser": env.user,
            "hubServerName": env.server_name,
        }

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        fragment = packaged_fragment("modserver_jupyterhub")
        # The callback's path is the hub's choice: document it where it really is.
        paths = fragment.get("paths", {})
        documented = paths.pop("/oauth_callback", None)
        if documented is not None:
            paths[_runtime(context).env.callback_path] = documented
        return fragment


plugin = JupyterHubPlugin()
