"""The core's own routes: ``GET /api`` (version, public), ``GET /api/status``,
``GET /api/spec.yaml`` and ``POST /api/shutdown``.

They get what they serve as functions from ``app.py``, and know nothing else of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from modserver.errors import json_error
from modserver.plugin import ServerControl
from modserver.routing import route
from modserver.version import __version__


def core_routes(
    *,
    status: Callable[[], dict[str, Any]],
    openapi: Callable[[], dict[str, Any]],
    control: ServerControl,
) -> list[BaseRoute]:
    """Routes every modserver serves, whatever plugins are enabled.

    ``status`` and ``openapi`` make the bodies of ``/api/status`` and ``/api/spec.yaml``;
    ``control`` stops the server for ``/api/shutdown``.
    """

    async def api_version(request: Request) -> JSONResponse:
        return JSONResponse({"version": __version__})

    async def api_status(request: Request) -> JSONResponse:
        return JSONResponse(status())

    async def api_spec(request: Request) -> Response:
        # Plugins' fragments may be read from files on first use, and the dump is CPU work:
        # both stay off the event loop.
        text = await anyio.to_thread.run_sync(_spec_yaml, openapi)
        # jupyter_server's media type for this document; clients and tools expect it.
        return Response(text, media_type="text/x-yaml")

    async def api_shutdown(request: Request) -> Response:
        if not control.can_shut_down:
            return json_error(409, "This server is embedded in another app and cannot stop itself")
        # Stop only after the response went out, so the caller gets its 202.
        return JSONResponse(
            {"message": "Shutting down"},
            status_code=202,
            background=BackgroundTask(control.request_shutdown),
        )

    return [
        route("/api", api_version, public=True),
        route("/api/status", api_status, resource="api"),
        route("/api/spec.yaml", api_spec, resource="api"),
        # execute on "server": owners only (editors may write but never run or stop things).
        route("/api/shutdown", api_shutdown, methods=["POST"], resource="server", action="execute"),
    ]


def _spec_yaml(openapi: Callable[[], dict[str, Any]]) -> str:
    """The OpenAPI document as YAML (reads fragment files: call in a thread)."""
    import yaml

    return yaml.safe_dump(openapi(), sort_keys=False, allow_unicode=True)
