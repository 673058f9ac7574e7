"""Every route of the lab plugin, assembled in one place.

- pages (pages.py): ``/``, ``/lab...``, ``/doc...``, ``/tree...``, ``/notebooks/...``, ...
- static assets (static_files.py), public like jupyter_server's static files (bundles hold
  no secret): ``/static/lab/``, ``/static/notebook/``, ``/static/favicons/``,
  ``/lab/extensions/{name}/static/...``
- ``/lab/api/themes/...`` (themes.py), public for the same reason
- answers to the frontend's probes for optional features (news, update check, language
  servers): "nothing here", so the UI stays quiet and nothing is fetched from the internet
- the lab API (settings, workspaces, translations, listings, licenses): ``lab_api_routes``
- the Extension and Plugin Managers' ``/lab/api/extensions`` and ``/lab/api/plugins``
  (extension_manager.py, plugin_manager.py)

The routes are built before startup and look the per-app runtime up on each request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from modserver import PluginContext
from modserver.errors import json_error
from modserver.routing import HttpEndpoint, route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from modserver_lab.pages import app_prefix, page_routes
from modserver_lab.runtime import LabRuntime
from modserver_lab.static_files import AssetFiles
from modserver_lab.themes import THEMES_PATH, ThemeFiles, theme_roots

#: The favicon names the frontends ask for (kernel busy, notebook, file, ...).
FAVICONS = frozenset(
    {
        "favicon.ico",
        "favicon-busy-1.ico",
        "favicon-busy-2.ico",
        "favicon-busy-3.ico",
        "favicon-console.ico",
        "favicon-file.ico",
        "favicon-notebook.ico",
        "favicon-terminal.ico",
    }
)


def lab_routes(context: PluginContext, runtime: Callable[[], LabRuntime]) -> list[BaseRoute]:
    """All routes of the plugin (``runtime`` returns the running app's ``LabRuntime``)."""
    return [
        *page_routes(runtime),
        *asset_routes(runtime),
        *optional_feature_routes(),
        *lab_api_call_site(context, runtime),
        *manager_routes(runtime),
    ]


def manager_routes(runtime: Callable[[], LabRuntime]) -> list[BaseRoute]:
    """The Extension Manager's and the Plugin Manager's routes."""
    from modserver_lab.extension_manager import extension_manager_routes
    from modserver_lab.plugin_manager import plugin_manager_routes

    return [*extension_manager_routes(runtime), *plugin_manager_routes(runtime)]


def asset_routes(runtime: Callable[[], LabRuntime]) -> list[BaseRoute]:
    """Static files of both frontends, labextensions, themes and favicons (public)."""

    def served_from(roots: Callable[[LabRuntime], list[Path]]) -> HttpEndpoint:
        async def serve(request: Request) -> Response:
            lab = runtime()
            assets = AssetFiles(roots(lab), lab.gzip_cache)
            return await assets.respond(request, request.path_params["path"])

        return serve

    async def extension_file(request: Request) -> Response:
        lab = runtime()
        name, relative = split_extension_path(request.path_params["rest"])
        extension = lab.frontends.extensions.get(name) if name else None
        if extension is None:
            return json_error(404, f"No enabled labextension {name!r}")
        assets = AssetFiles([extension.path / "static"], lab.gzip_cache)
        return await assets.respond(request, relative)

    async def theme_file(request: Request) -> Response:
        lab = runtime()
        themes_url = app_prefix(request) + THEMES_PATH
        assets = AssetFiles([], lab.gzip_cache)
        themes = ThemeFiles(theme_roots(lab.frontends), assets, themes_url)
        return await themes.respond(request, request.path_params["path"])

    async def favicon(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in FAVICONS:
            return json_error(404, f"No favicon {name!r}")
        return Response(
            runtime().favicon,
            media_type="image/x-icon",
            headers={"cache-control": "public, max-age=86400"},
        )

    lab_static = served_from(lambda lab: [lab.frontends.lab_static])
    notebook_static = served_from(lambda lab: [lab.frontends.notebook_static])
    methods = ["GET", "HEAD"]
    return [
        route("/static/lab/{path:path}", lab_static, methods=methods, public=True),
        route("/static/notebook/{path:path}", notebook_static, methods=methods, public=True),
        route("/static/favicons/{name}", favicon, methods=methods, public=True),
        route("/lab/extensions/{rest:path}", extension_file, methods=methods, public=True),
        route(f"/{THEMES_PATH}/{{path:path}}", theme_file, methods=methods, public=True),
    ]


def split_extension_path(rest: str) -> tuple[str, str]:
    """``@scope/name/static/a/b.js`` -> (``@scope/name``, ``a/b.js``); ("", "") if malformed.

    Package names have at most one ``/`` (after a scope), so the name ends there, whatever
    folders named ``static`` the files themselves sit in.
    """
    parts = rest.split("/")
    size = 2 if parts[0].startswith("@") else 1
    if len(parts) < size + 2 or parts[size] != "static":
        return "", ""
    return "/".join(parts[:size]), "/".join(parts[size + 1 :])


def optional_feature_routes() -> list[BaseRoute]:
    """Answers to the frontend's probes for optional server features it does not need.

    JupyterLab asks ``/lab/api/update`` at every start unless the user turned the check off
    (jupyterlab's own server fetches from the internet there; this one never does), and
    ``/lsp/status`` for language servers (jupyter-lsp's API; retried, then logged as
    missing). Answering "nothing" keeps the network log clean and the UI quiet.
    """

    async def news(request: Request) -> Response:
        return JSONResponse({"news": []})

    async def update(request: Request) -> Response:
        return JSONResponse({"notification": None})

    async def lsp_status(request: Request) -> Response:
        return JSONResponse({"version": 2, "sessions": {}, "specs": {}})

    return [
        route("/lab/api/news", news, resource="lab"),
        route("/lab/api/update", update, resource="lab"),
        route("/lsp/status", lsp_status, resource="lab"),
    ]


def lab_api_call_site(context: PluginContext, runtime: Callable[[], LabRuntime]) -> list[BaseRoute]:
    """The lab API routes (settings, workspaces, translations, listings, licenses).

    They get JupyterLab's application folder (found now: a package-metadata lookup) and the
    enabled labextensions' folders, which discovery finds only at startup: ``LiveExtensions``
    reads them from the running app (empty before startup).
    """
    from modserver_lab.discovery import find_lab_app_dir
    from modserver_lab.lab_api import lab_api_routes

    lab = runtime()
    app_dir = (lab.settings.app_dir or find_lab_app_dir()).expanduser()
    return lab_api_routes(context, app_dir, LiveExtensions(runtime), lab.settings)


class LiveExtensions(Mapping[str, Path]):
    """The running app's enabled labextensions by name (empty until discovery ran)."""

    def __init__(self, runtime: Callable[[], LabRuntime]) -> None:
        self._runtime = runtime

    def _current(self) -> Mapping[str, Path]:
        lab = self._runtime()
        return lab.frontends.extension_dirs if lab.running else {}

    def __getitem__(self, name: str) -> Path:
        return self._current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())
