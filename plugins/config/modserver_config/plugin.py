"""Declaration of the config plugin: frontend config sections at ``/api/config/{section}``.

Sections are JSON files in one folder (store.py); JupyterLab and Notebook keep small
frontend settings there, as with jupyter_server's ``serverconfig`` folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.settings import PluginSettings
from pydantic import Field

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


class ConfigSettings(PluginSettings):
    """Settings of the ``[config]`` section."""

    config_dir: Path | None = Field(
        None,
        description="Folder of the section files; default: <jupyter config dir>/serverconfig.",
    )


def default_config_dir() -> Path:
    """``serverconfig`` in the user's Jupyter config folder, where jupyter_server writes."""
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()) / "serverconfig"


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
            import anyio

            from modserver_config.openapi import fragment
            from modserver_config.store import ConfigStore

            settings = context.settings_as(ConfigSettings)
            folder = (settings.config_dir or default_config_dir()).expanduser()
            await anyio.to_thread.run_sync(fragment)  # read the YAML off the event loop
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
        from modserver_config.openapi import fragment

        return fragment()


plugin = ConfigPlugin()
