"""``GET /api/nbconvert`` (the formats) and ``GET /nbconvert/{format}/{path}`` (an export).

Shapes as jupyter_server 2.x: the listing is ``{name: {"output_mimetype": ...}}``; an
export answers the converted file (``?download=true``: as an attachment named after the
notebook), a zip when it has extra files, and redirects a non-notebook to ``/files``.
Reading a notebook to export it is reading: resource "nbconvert", action read.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import anyio
from modserver.api.contents import Contents
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute

from modserver_nbconvert.converter import Converter

RESOURCE = "nbconvert"
#: Exported HTML may carry scripts: they run in a sandbox, never as this origin.
SANDBOX_CSP = "frame-ancestors 'self'; sandbox allow-scripts"


def nbconvert_routes(
    converter: Callable[[], Converter], contents: Callable[[], Contents], base_url: str
) -> list[BaseRoute]:
    """The routes over the running ``converter()`` and ``contents()`` of the app."""

    async def list_formats(request: Request) -> Response:
        return JSONResponse(await converter().formats())

    async def export(request: Request) -> Response:
        format = request.path_params["format"]
        path = request.path_params["path"].strip("/")
        running = converter()
        await running.check(format)  # before reading the notebook: 404 / 422 at once
        store = contents()
        model = await store.get(path, content=False)  # 404 for a missing file
        if model["type"] != "notebook":
            return RedirectResponse(f"{base_url}files/{quote(path)}", status_code=302)
        model = await store.get(path, type="notebook")
        local = await anyio.to_thread.run_sync(store.local_path, path)  # resolves links
        folder = str(local.parent) if local is not None else None
        result = await running.export(
            format, model, folder, sanitize_html=_flag(request, "sanitize_html")
        )
        headers = {
            "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
            "Content-Security-Policy": SANDBOX_CSP,
        }
        if result.media_type == "application/zip" or _flag(request, "download"):
            headers["Content-Disposition"] = _attachment(result.filename)
        return Response(result.body, media_type=result.media_type, headers=headers)

    return [
        route("/api/nbconvert", list_formats, resource=RESOURCE),
        route("/nbconvert/{format}/{path:path}", export, resource=RESOURCE),
    ]


def _flag(request: Request, name: str) -> bool | None:
    """A ``true``/``false`` query argument (None when absent)."""
    value = request.query_params.get(name)
    return None if value is None else value.lower() == "true"


def _attachment(filename: str) -> str:
    """``Content-Disposition`` for ``filename``, non-ASCII names per RFC 6266."""
    if filename.isascii() and '"' not in filename and "\\" not in filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=utf-8''{quote(filename)}"
