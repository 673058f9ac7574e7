"""``GET /api/resolvePath?path=...&kernel=...``: which scopes know a file path.

Frontends use it to turn a path a kernel printed (a traceback, a saved figure) into a
document they can open. As jupyter_server answers: the ``server`` scope resolves through
the Contents service; a ``kernel`` that does not exist is listed under ``unresolved``.
It lives with sessions because sessions are where documents and kernels meet (this
plugin sees both services).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modserver.api.contents import Contents
from modserver.api.kernels import KernelNotFound, Kernels
from modserver.errors import http_error
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute


def resolve_path_route(
    kernels: Callable[[], Kernels], contents: Callable[[], Contents | None]
) -> BaseRoute:
    """The route; the callables return the running services."""

    async def resolve_path(request: Request) -> Response:
        path = request.query_params.get("path")
        if path is None:
            raise http_error(400, "Missing argument path")
        kernel_id = request.query_params.get("kernel")
        result: dict[str, Any] = {"resolved": []}
        store = contents()
        if store is not None:
            resolved = await store.resolve_path(path)
            if resolved is not None:
                result["resolved"].append({"scope": "server", "path": resolved})
        if kernel_id:
            try:
                await kernels().get(kernel_id)
            except KernelNotFound:
                result["unresolved"] = [
                    {"scope": "kernel", "reason": f"Kernel {kernel_id} could not be found"}
                ]
        return JSONResponse(result)

    # Reading it tells whether files exist: contents read, as for a listing.
    return route("/api/resolvePath", resolve_path, resource="contents", action="read")
