"""Declaration of the yjs plugin: shared documents for real-time collaboration.

Provides the ``FileIds`` service (fileids.py) and serves what the jupyter-collaboration
frontend (``jupyter-docprovider``, ``jupyter-collaboration-ui``) calls: the session PUT and
the room WebSockets. Documents load from and save to the ``Contents`` service; file ids
follow renames and deletes through the contents hooks. Kept light to import: pycrdt and
jupyter_ydoc load inside the hooks.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.api.contents import Contents
from modserver.api.events import Events
from modserver.api.fileid import FileIds
from modserver.api.kernels import Kernels
from modserver.openapi import packaged_fragment

from modserver_yjs.settings import YjsSettings

if TYPE_CHECKING:
    from anyio.abc import TaskGroup, TaskStatus
    from starlette.routing import BaseRoute


def default_database(root_dir: Path) -> Path:
    """Where the file ids of ``root_dir`` live unless ``file_id_database`` says otherwise."""
    from jupyter_core.paths import jupyter_data_dir

    digest = hashlib.sha256(str(root_dir).encode()).hexdigest()[:16]
    return Path(jupyter_data_dir()) / "modserver" / f"file_ids-{digest}.db"


async def _task_group(*, task_status: TaskStatus[TaskGroup]) -> None:
    """A task group for the plugin's tasks, handed to the lifespan, open until cancelled."""
    import anyio

    async with anyio.create_task_group() as tasks:
        task_status.started(tasks)
        await anyio.sleep_forever()


class YjsPlugin(Plugin):
    name = "yjs"
    version = "0.1.0"
    description = "Real-time collaboration (/api/collaboration) and stable file ids."
    provides = (FileIds,)
    requires = (Identity, Authorizer, Contents)
    optional = (Kernels, Events)
    settings = YjsSettings

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            import anyio

            from modserver_yjs.fileids import SqliteFileIds
            from modserver_yjs.fork_events import register_fork_events
            from modserver_yjs.history import DocumentHistory
            from modserver_yjs.models import document_model
            from modserver_yjs.rooms import RoomRegistry, import_rooms

            settings = context.settings_as(YjsSettings)
            database = settings.file_id_database or default_database(context.core.root_dir)
            file_ids = SqliteFileIds(database)
            context.services.provide(FileIds, file_ids)
            # This plugin's tasks (the file-id worker, one per open room) live in one group
            # inside the server's, which the plugin cancels itself when it stops.
            tasks: TaskGroup = await context.task_group.start(_task_group)
            tasks.start_soon(file_ids.run)
            registry = RoomRegistry(
                settings,
                context.services.get(Contents),
                file_ids,
                tasks,
                DocumentHistory(database),  # the same database, its own table
            )
            # The document models (jupyter_ydoc) and the rooms (pycrdt), imported after the
            # server listens.
            context.warm_up(lambda: document_model("notebook"))
            context.warm_up(import_rooms)
            events = context.services.get_optional(Events)
            if events is not None:
                # Registering checks the schema with jupyter_events (a big import): after
                # the server listens, not before.
                context.warm_up(lambda: register_fork_events(events))
            forget = context.server.on_stopping(registry.disconnect_all)
            try:
                with context.keep(file_ids), context.keep(registry):
                    yield
            finally:
                forget()
                registry.disconnect_all()
                # What clients typed last reaches the files before the server goes.
                with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                    await registry.save_all()
                tasks.cancel_scope.cancel()

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_yjs.rooms import RoomRegistry
        from modserver_yjs.routes import collaboration_routes

        return collaboration_routes(
            lambda: context.running(RoomRegistry),
            lambda: context.services.get(Contents),
            lambda: context.services.get(FileIds),
            lambda: context.services.get(Authorizer),
            lambda: context.services.get_optional(Kernels),
            lambda: context.services.get_optional(Events),
        )

    @hookimpl
    def modserver_status(self, context: PluginContext) -> dict[str, Any]:
        from modserver_yjs.rooms import RoomRegistry

        registry = context.running_or_none(RoomRegistry)
        if registry is None:
            return {"collaboration_rooms": 0, "collaboration_clients": 0}
        return registry.status()

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_yjs")

    @hookimpl(optionalhook=True)
    def contents_post_rename(self, old_path: str, new_path: str, context: PluginContext) -> None:
        from modserver_yjs.fileids import SqliteFileIds

        file_ids = context.running_or_none(SqliteFileIds)
        if file_ids is not None:
            file_ids.moved(old_path, new_path)  # queued: later lookups see the new path

    @hookimpl(optionalhook=True)
    def contents_post_delete(self, path: str, context: PluginContext) -> None:
        from modserver_yjs.fileids import SqliteFileIds

        file_ids = context.running_or_none(SqliteFileIds)
        if file_ids is not None:
            file_ids.deleted(path)

    @hookimpl
    def frontend_page_config(
        self, page_config: dict[str, Any], context: PluginContext
    ) -> dict[str, Any]:
        # What jupyter-server-ydoc puts in the page config: the collaboration frontend
        # opens documents through shared models unless disableRTC is true. With server-side
        # execution it POSTs /api/kernels/{id}/execute and the server writes the outputs
        # into the shared cell (they survive a closed browser, and are never written twice).
        settings = context.settings_as(YjsSettings)
        server_side = settings.server_side_execution and (
            context.services.get_optional(Kernels) is not None
        )
        return {"disableRTC": False, "serverSideExecution": server_side}


plugin = YjsPlugin()
