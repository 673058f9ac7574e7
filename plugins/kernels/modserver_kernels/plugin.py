"""Declaration of the kernels plugin: kernelspecs, kernels REST, the kernel WebSocket.

Provides the ``Kernels`` service (manager.py): one jupyter_client kernel manager and one
shared client (client.py) per kernel. Kept light to import: jupyter_client and zmq load
inside the hooks.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.api.contents import Contents
from modserver.api.events import Events
from modserver.api.kernels import Kernels
from modserver.openapi import packaged_fragment

from modserver_kernels.settings import KernelsSettings

if TYPE_CHECKING:
    from modserver.state_store import StateStore
    from starlette.routing import BaseRoute

    from modserver_kernels.gateway import GatewayKernels


log = logging.getLogger("modserver.kernels")


class KernelsPlugin(Plugin):
    name = "kernels"
    version = "0.1.0"
    description = "Kernels and kernelspecs (/api/kernels, /api/kernelspecs, kernel WebSockets)."
    provides = (Kernels,)
    requires = (Identity, Authorizer)
    optional = (Contents, Events)
    settings = KernelsSettings

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            import anyio

            from modserver_kernels.manager import KernelRegistry

            settings = context.settings_as(KernelsSettings)
            if settings.gateway_url:
                async with _gateway_kernels(context, settings):
                    yield
                return
            from modserver_kernels.limits import raise_open_files_limit

            raise_open_files_limit(settings.min_open_files_limit)
            store = await _kept_kernels_store(context) if settings.keep_kernels else None
            # Tasks live in the server's task group (a group opened here could not be
            # exited inside the core's shutdown time limit); the registry's own cancel
            # scopes stop them when this plugin stops.
            registry = KernelRegistry(
                settings,
                context.core.root_dir,
                context.services.get_optional(Contents),
                context.task_group,
                context.services.get_optional(Events),
                store,
            )
            # jupyter_client is imported on first need; do it after the server listens, so
            # that neither the start nor the first kernel waits for it.
            context.warm_up(_import_kernel_machinery)
            # Before anyone asks (sessions load theirs next): the kept kernels are back.
            await registry.adopt_kept()
            context.services.provide(Kernels, registry)
            context.task_group.start_soon(registry.watch_health)
            if settings.cull_idle_timeout > 0:
                context.task_group.start_soon(registry.cull_idle)
            try:
                with context.keep(registry):
                    yield
            finally:
                # Every kernel stops with the server: no orphan processes (in keep mode,
                # recorded kernels stay for the next server to adopt).
                with anyio.CancelScope(shield=True):
                    await registry.shutdown_all()
                    if store is not None:
                        await store.close()

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_kernels.kernelspec_routes import kernelspec_routes
        from modserver_kernels.manager import KernelRegistry
        from modserver_kernels.routes import kernel_routes

        def running_registry() -> KernelRegistry | GatewayKernels:
            # Kernels on a gateway (kernels.gateway_url) or local ones.
            gateway = _running_gateway(context)
            return gateway if gateway is not None else context.running(KernelRegistry)

        base_url = context.core.base_url
        settings = context.settings_as(KernelsSettings)
        return [
            *kernelspec_routes(
                lambda: context.running(KernelRegistry).spec_manager,
                lambda: settings.default_kernel_name,
                base_url,
                lambda: _running_gateway(context),
            ),
            *kernel_routes(
                running_registry,
                lambda: context.services.get(Kernels),
                settings,
                base_url,
                context.server,
            ),
        ]

    @hookimpl
    def modserver_status(self, context: PluginContext) -> dict[str, Any]:
        from modserver_kernels.manager import KernelRegistry

        registry = context.running_or_none(KernelRegistry) or _running_gateway(context)
        if registry is None:
            return {"kernels": 0, "connections": 0}
        return registry.status()

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_kernels")


def _import_kernel_machinery() -> None:
    """Import what starting a kernel needs (jupyter_client, the launcher, pyzmq and the
    kernel client), in a thread."""
    from modserver.imports import late_import

    with late_import("jupyter_client", "zmq"):
        import modserver_kernels.client
        import modserver_kernels.kept
        import modserver_kernels.launch  # noqa: F401


def _running_gateway(context: PluginContext) -> GatewayKernels | None:
    """The gateway's ``Kernels`` service when kernels live on a gateway, else None."""
    from modserver_kernels.manager import KernelRegistry

    if context.running_or_none(KernelRegistry) is not None:
        # Local kernels: the gateway client (httpx, websockets) is not even imported,
        # which takes about a tenth of a second off every server's start.
        return None
    from modserver_kernels.gateway import GatewayKernels

    return context.running_or_none(GatewayKernels)


@asynccontextmanager
async def _gateway_kernels(
    context: PluginContext, settings: KernelsSettings
) -> AsyncIterator[None]:
    """Provide the ``Kernels`` service of a remote gateway while the block runs."""
    import anyio

    from modserver_kernels.gateway import GatewayKernels

    if settings.keep_kernels:
        log.warning("kernels.keep_kernels applies to local kernels: ignored with a gateway_url")
    gateway = GatewayKernels(settings, context.task_group)
    context.services.provide(Kernels, gateway)
    try:
        with context.keep(gateway):
            yield
    finally:
        # The kernels this server started on the gateway stop with it, as local ones do.
        with anyio.CancelScope(shield=True):
            await gateway.shutdown_all()


async def _kept_kernels_store(context: PluginContext) -> StateStore:
    """The store of kept kernels for this server's root, in the runtime folder."""
    from modserver.state_store import StateStore, state_store_path

    path = state_store_path(context.core.runtime_dir, context.core.root_dir, "kernels")
    return await StateStore.open(path)


plugin = KernelsPlugin()
