"""Declaration of the terminals plugin: shells in PTYs, ``/api/terminals``, the WebSocket.

Kept light to import: ptyprocess loads inside the hooks. It tells the frontends
(JupyterLab, Notebook 7) that terminals are available through ``frontend_page_config``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.openapi import packaged_fragment

from modserver_terminals.settings import TerminalsSettings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


class TerminalsPlugin(Plugin):
    name = "terminals"
    version = "0.1.0"
    description = "Terminals: shells in PTYs (/api/terminals, the terminal WebSocket)."
    provides = ()
    requires = (Identity, Authorizer)
    optional = ()
    settings = TerminalsSettings

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            import anyio

            from modserver_terminals.manager import TerminalRegistry

            settings = context.settings_as(TerminalsSettings)
            # Readers live in the server's task group, each under its terminal's scope.
            registry = TerminalRegistry(settings, context.core.root_dir, context.task_group)
            if settings.cull_inactive_timeout > 0:
                context.task_group.start_soon(registry.cull_idle)
            # Open WebSockets would hold the server's graceful stop until its time limit.
            forget = context.server.on_stopping(registry.disconnect_all)
            try:
                with context.keep(registry):
                    yield
            finally:
                forget()
                # Every shell and its jobs end with the server (including those already
                # ending), before the server cancels its task group: no orphan process.
                with anyio.CancelScope(shield=True):
                    await registry.shutdown_all()

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_terminals.manager import TerminalRegistry
        from modserver_terminals.routes import terminal_routes

        return terminal_routes(lambda: context.running(TerminalRegistry))

    @hookimpl
    def modserver_status(self, context: PluginContext) -> dict[str, Any]:
        from modserver_terminals.manager import TerminalRegistry

        registry = context.running_or_none(TerminalRegistry)
        if registry is None:
            return {"terminals": 0, "terminal_connections": 0}
        return registry.status()

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_terminals")

    @hookimpl
    def frontend_page_config(
        self, page_config: dict[str, Any], context: PluginContext
    ) -> dict[str, Any]:
        # JupyterLab and Notebook 7 show terminals only when the page config says so.
        return {"terminalsAvailable": True}


plugin = TerminalsPlugin()
