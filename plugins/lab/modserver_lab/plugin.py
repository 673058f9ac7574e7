"""Declaration of the lab plugin: JupyterLab 4 and Notebook 7 in the browser.

Serves the frontends' pages with their page config, their static assets, the prebuilt
labextensions of the Jupyter data path and the theme CSS; ``/`` redirects to the default
page, and the startup URL opens it logged in. Other plugins add to the page config through
``frontend_page_config`` (``modserver.api.frontend``). Heavy imports happen inside hooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.api.contents import Contents
from modserver.api.frontend import FrontendHooks
from modserver.api.kernels import Kernels
from modserver.api.sessions import Sessions
from modserver.openapi import packaged_fragment

from modserver_lab.settings import LabSettings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


class LabPlugin(Plugin):
    name = "lab"
    version = "0.1.0"
    description = "JupyterLab 4 and Notebook 7: pages, static assets, labextensions, themes."
    # A frontend without files, kernels and sessions cannot do anything useful:
    # `--plugins lab` pulls those in.
    requires = (Identity, Authorizer, Contents, Kernels, Sessions)
    settings = LabSettings
    hookspecs = FrontendHooks

    @hookimpl
    def modserver_lifespan(self, context: PluginContext) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            import anyio

            from modserver_lab.runtime import lab_runtime
            from modserver_lab.static_files import load_media_types

            runtime = lab_runtime(context)
            # Discovery reads hundreds of small files: keep it off the event loop.
            frontends = await anyio.to_thread.run_sync(runtime.prepare)
            runtime.start(frontends)
            # The settings routes check schemas with jsonschema and read JSON5, slow to
            # import; the pages need jinja2 and their compiled templates, the assets the
            # media types: all after the server listens.
            context.warm_up(_import_later("jsonschema"))
            context.warm_up(_import_later("json5"))
            context.warm_up(runtime.compile_templates)
            context.warm_up(load_media_types)
            context.log.info(
                "JupyterLab %s and Notebook %s; labextensions: %s",
                frontends.lab_version,
                frontends.notebook_version,
                ", ".join(frontends.extensions) or "none",
            )
            try:
                yield
            finally:
                runtime.stop()

        return lifespan()

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        from modserver_lab.routes import lab_routes
        from modserver_lab.runtime import lab_runtime

        return lab_routes(context, lambda: lab_runtime(context))

    @hookimpl
    def modserver_open_url(self, url: str, context: PluginContext) -> str:
        from urllib.parse import urlsplit, urlunsplit

        # Keep the query (the auth plugin's ?token=) and add the default page to the path.
        parts = urlsplit(url)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        page = context.settings_as(LabSettings).default_page
        return urlunsplit(parts._replace(path=path + page))

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        # Two files: the pages and assets (openapi.yaml), and the lab API (lab_api.yaml).
        from modserver_lab.lab_api import lab_api_openapi

        fragment = packaged_fragment("modserver_lab")
        lab_api = lab_api_openapi()
        fragment["paths"].update(lab_api["paths"])
        for kind, entries in lab_api.get("components", {}).items():
            fragment.setdefault("components", {}).setdefault(kind, {}).update(entries)
        return fragment


plugin = LabPlugin()


def _import_later(library: str) -> Callable[[], None]:
    """A warm-up importing ``library`` after the server listens (under its import lock)."""

    def load() -> None:
        import importlib

        from modserver.imports import late_import

        with late_import(library):
            importlib.import_module(library)

    return load
