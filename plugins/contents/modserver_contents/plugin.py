"""Declaration of the contents plugin: the ``Contents`` service on the local disk.

Serves ``/api/contents`` (Jupyter's Contents API) and ``/files`` (raw downloads). Other
plugins use the service through ``modserver.api.contents.Contents`` and follow changes
through the ``ContentsHooks`` hooks. Kept light to import: the work lives in modules
imported from the hooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.api.contents import Contents, ContentsHooks
from modserver.api.events import Events
from modserver.openapi import packaged_fragment

from modserver_contents.settings import ContentsSettings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


class ContentsPlugin(Plugin):
    name = "contents"
    version = "0.1.0"
    description = "Files, folders and notebooks on the local disk (/api/contents, /files)."
    provides = (Contents,)
    requires = (Identity, Authorizer)
    optional = (Events,)
    settings = ContentsSettings
    hookspecs = ContentsHooks

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            import anyio

            from modserver_contents.notebooks import compile_checks, import_nbformat
            from modserver_contents.service import LocalContents
            from modserver_contents.store import FileStore

            settings = context.settings_as(ContentsSettings)
            store = FileStore(str(context.core.root_dir), settings)
            service = LocalContents(store, context.hook, context.services.get_optional(Events))
            context.services.provide(Contents, service)
            # The notebook checks are ready before the server listens (~10 ms with the
            # user cache, ~40 ms without): compiled in the background, a notebook opened
            # right after the start waited for them (the first GET took 2x a warm one).
            # nbformat itself (~0.2 s with jsonschema) waits until the server is up.
            await anyio.to_thread.run_sync(compile_checks, abandon_on_cancel=True)
            context.warm_up(import_nbformat)
            with context.keep(service):
                yield

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_contents.files_routes import files_routes
        from modserver_contents.routes import ContentsRoutes
        from modserver_contents.service import LocalContents

        def running_service() -> LocalContents:
            return context.running(LocalContents)

        api = ContentsRoutes(running_service, context.core.base_url)
        return [*api.routes(), *files_routes(running_service)]

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_contents")


plugin = ContentsPlugin()
