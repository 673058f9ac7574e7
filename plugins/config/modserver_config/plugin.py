"""Declaration of the config plugin: frontend config sections at ``/api/config/{section}``.

Sections are JSON files in one folder (store.py); JupyterLab and Notebook keep small
frontend settings there, as with jupyter_server's ``serverconfig`` folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.openapi import packaged_fragment

from modserver_config.settings import ConfigSettings, default_config_dir

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


class ConfigPlugin(Plugin):
    name = "config"
    version = "0.1.0"
    description = "Frontend config sections stored as JSON files (/api/config/{section})."
    requires = (Identity, Authorizer)
    settings = ConfigSettings

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            from modserver_config.store import ConfigStore

            settings = context.settings_as(ConfigSettings)
            folder = (settings.config_dir or default_config_dir()).expanduser()
            context.log.debug("config sections in %s", folder)
            with context.keep(ConfigStore(folder)):
                yield

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_config.routes import config_routes
        from modserver_config.store import ConfigStore

        return config_routes(lambda: context.running(ConfigStore))

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return packaged_fragment("modserver_config")


plugin = ConfigPlugin()
