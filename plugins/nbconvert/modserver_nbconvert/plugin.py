"""Declaration of the nbconvert plugin: exports notebooks (``/nbconvert``, ``/api/nbconvert``).

Reads notebooks through the ``Contents`` service and runs nbconvert in worker threads
(``converter``); light to import: nbconvert loads at the first export.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.api.contents import Contents
from modserver.openapi import packaged_fragment

from modserver_nbconvert.settings import NbconvertSettings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


class NbconvertPlugin(Plugin):
    name = "nbconvert"
    version = "0.1.0"
    description = "Export notebooks with nbconvert (/nbconvert/{format}/{path}, /api/nbconvert)."
    requires = (Identity, Authorizer, Contents)
    settings = NbconvertSettings

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            from modserver_nbconvert.converter import Converter

            settings = context.settings_as(NbconvertSettings)
            converter = Converter(settings.timeout, settings.max_concurrent, context.task_group)
            with context.keep(converter):
                yield

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_nbconvert.converter import Converter
        from modserver_nbconvert.routes import nbconvert_routes

        return nbconvert_routes(
            lambda: context.running(Converter),
            lambda: context.services.get(Contents),
            context.core.base_url,
        )

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_nbconvert")


plugin = NbconvertPlugin()
