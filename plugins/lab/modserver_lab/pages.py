"""The HTML pages of JupyterLab (``/lab``, ``/doc``) and Notebook 7 (``/tree``, ``/notebooks``...).

Each page is the frontend's own template rendered with the page config (page_config.py),
with what the user disabled for themselves (user_extensions.py).
Pages need a logged-in user (resource ``lab``, read): a browser that is not logged in is
sent to ``/login?next=<page>`` by the auth plugin and comes back after logging in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from modserver.api.contents import Contents, ContentsError
from modserver.errors import http_error
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute

from modserver_lab.page_config import for_lab, for_notebook
from modserver_lab.runtime import LabRuntime

RESOURCE = "lab"

#: Workspace names as JupyterLab accepts them in its URLs.
WORKSPACE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

PAGE_HEADERS = {"cache-control": "no-cache", "x-content-type-options": "nosniff"}


def page_routes(runtime: Callable[[], LabRuntime]) -> list[BaseRoute]:
    """The redirect at ``/`` and every page route of both frontends."""

    async def root(request: Request) -> Response:
        target = runtime().settings.default_page
        return RedirectResponse(app_prefix(request) + target, 302)

    def lab_page(mode: str) -> Callable[[Request], Any]:
        async def page(request: Request) -> Response:
            params = request.path_params
            workspace = params.get("workspace", "default")
            if not WORKSPACE_NAME.match(workspace):
                raise http_error(404, f"No workspace {workspace!r}: use letters, digits, - and _")
            config = for_lab(
                await _user_page_config(runtime(), request),
                mode=mode,
                workspace=workspace,
                tree_path=params.get("path", ""),
            )
            return await _render(runtime(), "lab", config)

        page.__name__ = "doc_page" if mode == "single-document" else "lab_page"
        return page

    async def tree_page(request: Request) -> Response:
        path = request.path_params.get("path", "").strip("/")
        if path:
            model = await _contents_model(runtime(), path)
            if model is None:
                raise http_error(404, f"No such file or directory: {path}")
            if model["type"] == "notebook":
                return _redirect(request, "notebooks", path)
            if model["type"] != "directory":
                return _redirect(request, "files", path)
        config = for_notebook(
            await _user_page_config(runtime(), request), runtime().frontends, tree_path=path
        )
        return await _render(runtime(), "tree.html", config)

    async def notebook_page(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        model = await _contents_model(runtime(), path) if path else None
        if model is not None and model["type"] == "directory":
            return _redirect(request, "tree", path)
        config = for_notebook(await _user_page_config(runtime(), request), runtime().frontends)
        return await _render(runtime(), "notebooks.html", config)

    def notebook_app_page(template: str) -> Callable[[Request], Any]:
        async def page(request: Request) -> Response:
            config = for_notebook(await _user_page_config(runtime(), request), runtime().frontends)
            return await _render(runtime(), template, config)

        page.__name__ = template.removesuffix(".html") + "_page"
        return page

    def page(path: str, endpoint: Callable[[Request], Any]) -> BaseRoute:
        return route(path, endpoint, methods=["GET"], resource=RESOURCE)

    lab, doc = lab_page("multiple-document"), lab_page("single-document")
    return [
        route("/", root, methods=["GET"], public=True),
        page("/lab", lab),
        page("/lab/tree/{path:path}", lab),
        page("/lab/workspaces/{workspace}", lab),
        page("/lab/workspaces/{workspace}/tree/{path:path}", lab),
        page("/doc", doc),
        page("/doc/tree/{path:path}", doc),
        page("/doc/workspaces/{workspace}/tree/{path:path}", doc),
        page("/tree", tree_page),
        page("/tree/{path:path}", tree_page),
        page("/notebooks/{path:path}", notebook_page),
        page("/edit/{path:path}", notebook_app_page("edit.html")),
        page("/consoles/{path:path}", notebook_app_page("consoles.html")),
        # Notebook 7 opens a terminal in a tab of its own; its API and WebSocket come from
        # the terminals plugin (without it the page config hides terminals).
        page("/terminals/{name}", notebook_app_page("terminals.html")),
    ]


async def _user_page_config(runtime: LabRuntime, request: Request) -> dict[str, Any]:
    """The app's page config with the caller's own disabled labextensions and plugins."""
    prefix = app_prefix(request)
    view = await runtime.user_extensions(request, prefix)
    return view.page_config(runtime.page_config(prefix))


async def _render(runtime: LabRuntime, template: str, page_config: dict[str, Any]) -> Response:
    base_url = page_config["baseUrl"]
    compiled = await runtime.template(template)
    html = compiled.render(page_config=page_config, base_url=base_url, ws_url="", custom_css=False)
    return HTMLResponse(html, headers=PAGE_HEADERS)


def app_prefix(request: Request) -> str:
    """The app's URL path, ending in ``/``: base_url under any host app's mount path.

    Routes sit in a Mount at base_url, so ``root_path`` holds both at request time.
    """
    return str(request.scope.get("root_path", "")).rstrip("/") + "/"


def _redirect(request: Request, page: str, path: str) -> Response:
    return RedirectResponse(f"{app_prefix(request)}{page}/{quote(path)}", 302)


async def _contents_model(runtime: LabRuntime, path: str) -> dict[str, Any] | None:
    """The model of ``path`` without content, None if it does not exist."""
    contents = runtime.context.services.get(Contents)
    try:
        model: dict[str, Any] = await contents.get(path, content=False)
    except ContentsError as exc:
        if exc.status == 404:
            return None
        raise http_error(exc.status, exc.message) from None
    return model
