"""Declaration of the events plugin: the ``Events`` service and jupyter_server's event API.

Serves ``POST /api/events`` and the ``/api/events/subscribe`` WebSocket. Any plugin emits
through ``modserver.api.events.Events`` (contents and kernels do, for their standard
jupyter_server schemas, which this plugin registers at startup).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.api.events import Events
from modserver.openapi import packaged_fragment

from modserver_events.settings import EventsSettings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

#: The standard schemas registered for every app (files in ``schemas/``).
STANDARD_SCHEMAS = ("contents_service.yaml", "kernel_actions.yaml")


class EventsPlugin(Plugin):
    name = "events"
    version = "0.1.0"
    description = "Structured events: the Events service, /api/events and its WebSocket."
    provides = (Events,)
    requires = (Identity, Authorizer)
    settings = EventsSettings

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            from pathlib import Path

            import anyio

            from modserver_events.bus import EventBus, load_shipped_schema

            folder = Path(__file__).parent / "schemas"
            schemas = await anyio.to_thread.run_sync(
                lambda: [load_shipped_schema(folder / name) for name in STANDARD_SCHEMAS]
            )
            bus = EventBus(trusted_schemas=schemas)
            context.warm_up(bus.prepare)
            context.services.provide(Events, bus)
            try:
                with context.keep(bus):
                    yield
            finally:
                bus.close()

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_events.bus import EventBus
        from modserver_events.routes import event_routes

        settings = context.settings_as(EventsSettings)
        return event_routes(
            lambda: context.running(EventBus), settings.subscriber_queue, context.server
        )

    @hookimpl
    def modserver_status(self, context: PluginContext) -> dict[str, Any]:
        from modserver_events.bus import EventBus

        bus = context.running_or_none(EventBus)
        return {"event_subscribers": bus.subscribers if bus else 0}

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_events")


plugin = EventsPlugin()
