"""Declaration of the sessions plugin: ``/api/sessions`` and the ``Sessions`` service.

Sessions need a ``Kernels`` provider; ``Contents`` is optional (it tells which folder a
kernel starts in). Renames through any ``Contents`` provider reach us through the
``contents_post_rename`` hook, so session paths follow their documents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.api.contents import Contents
from modserver.api.kernels import Kernels
from modserver.api.sessions import Sessions
from modserver.openapi import packaged_fragment

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


class SessionsPlugin(Plugin):
    name = "sessions"
    version = "0.1.0"
    description = "Sessions: which kernel belongs to which notebook or console (/api/sessions)."
    provides = (Sessions,)
    requires = (Identity, Authorizer, Kernels)
    optional = (Contents,)

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            import anyio
            from modserver.state_store import StateStore, state_store_path

            from modserver_sessions.manager import SessionManager

            kernels = context.services.get(Kernels)
            store = None
            if kernels.outlive_server:
                # The kernels survive a restart: so do the sessions that name them.
                core = context.core
                path = state_store_path(core.runtime_dir, core.root_dir, "sessions")
                store = await StateStore.open(path)
            manager = SessionManager(kernels, context.services.get_optional(Contents), store)
            await manager.restore()
            context.services.provide(Sessions, manager)
            if store is not None:
                context.task_group.start_soon(manager.keep_saved)
            try:
                with context.keep(manager):
                    yield
            finally:
                with anyio.CancelScope(shield=True):
                    await manager.shutdown()
                    if store is not None:
                        await store.close()

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_sessions.manager import SessionManager
        from modserver_sessions.resolve_routes import resolve_path_route
        from modserver_sessions.routes import session_routes

        def running_manager() -> SessionManager:
            return context.running(SessionManager)

        return [
            *session_routes(running_manager, context.core.base_url),
            resolve_path_route(
                lambda: context.services.get(Kernels),
                lambda: context.services.get_optional(Contents),
            ),
        ]

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_sessions")

    @hookimpl
    def contents_post_rename(self, old_path: str, new_path: str, context: PluginContext) -> None:
        """A document (or folder) moved: this app's sessions follow it."""
        from modserver_sessions.manager import SessionManager

        manager = context.running_or_none(SessionManager)
        if manager is not None:
            manager.follow_rename(old_path, new_path)


plugin = SessionsPlugin()
