"""The core's own routes: ``GET /api`` (version, public) and ``GET /api/status``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from modserver.errors import json_error
from modserver.routing import route

if TYPE_CHECKING:
    from modserver.app import Modserver


def core_routes(server: Modserver) -> list[BaseRoute]:
    """Routes every modserver serves, whatever plugins are enabled."""
    from modserver import __version__

    async def api_version(request: Request) -> JSONResponse:
        return JSONResponse({"version": __version__})

    async def api_status(request: Request) -> JSONResponse:
        return JSONResponse(server.status())

    async def api_spec(request: Request) -> Response:
        # Plugins' fragments may be read from files on first use, and the dump is CPU work:
        # both stay off the event loop.
        text = await anyio.to_thread.run_sync(_spec_yaml, server)
        # jupyter_server's media type for this document; clients and tools expect it.
        return Response(text, media_type="text/x-yaml")

    async def api_shutdown(request: Request) -> Response:
        if not server.control.can_shut_down:
            return json_error(409, "This server is embedded in another app and cannot stop itself")
        # Stop only after the response went out, so the caller gets its 202.
        return JSONResponse(
            {"message": "Shutting down"},
            status_code=202,
            background=BackgroundTask(server.control.request_shutdown),
        )

    return [
        route("/api", api_version, public=True),
        route("/api/status", api_status, resource="api"),
        route("/api/spec.yaml", api_spec, resource="api"),
        # execute on "server": owners only (editors may write but never run or stop things).
        route("/api/shutdown", api_shutdown, methods=["POST"], resource="server", action="execute"),
    ]


def _spec_yaml(server: Modserver) -> str:
    """The OpenAPI document of ``server`` as YAML (reads fragment files: call in a thread)."""
    import yaml

    return yaml.safe_dump(server.openapi(), sort_keys=False, allow_unicode=True)
