"""Kernel routes: ``/api/kernels`` REST in jupyter_server 2.x's shapes, and the WebSocket.

Endpoints parse the request, call the ``KernelRegistry`` (manager.py) and turn its
exceptions into JSON errors; the WebSocket lives in connection.py and uses only the
public ``Kernels`` service.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from modserver import ServerControl
from modserver.api.auth import Action
from modserver.api.contents import ContentsError
from modserver.api.kernels import Kernels
from modserver.errors import http_error, json_object
from modserver.jsonbody import optional_string
from modserver.routing import route, websocket_route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket

from modserver_kernels.connection import OpenSessions, serve_channels
from modserver_kernels.manager import KernelBusy, KernelRegistry, KernelStartError
from modserver_kernels.settings import KernelsSettings

if TYPE_CHECKING:
    from modserver_kernels.gateway import GatewayKernels

RESOURCE = "kernels"
EXECUTE: Action = "execute"


def _check_relative(path: str) -> None:
    """400 unless ``path`` is a plain relative API path (a kernel never starts outside root)."""
    parts = path.replace("\\", "/").split("/")
    if len(path) > 4096:
        raise http_error(400, "Invalid kernel path: longer than 4096 characters")
    if "\x00" in path or path.startswith("~") or ".." in parts or os.path.isabs(path):
        raise http_error(400, f"Invalid kernel path {path!r}: use a path inside the root")


def kernel_routes(
    registry: Callable[[], KernelRegistry | GatewayKernels],
    kernels: Callable[[], Kernels],
    settings: KernelsSettings,
    base_url: str,
    server: ServerControl,
) -> list[BaseRoute]:
    """The routes; ``registry`` returns the running registry (it exists after startup).

    The WebSocket talks to local kernels through ``kernels``, the public service.
    """
    sessions = OpenSessions()
    # Open WebSockets would hold the server's graceful stop until its time limit.
    server.on_stopping(sessions.close_all)

    async def list_kernels(request: Request) -> Response:
        return JSONResponse(await registry().list())

    async def start_kernel(request: Request) -> Response:
        body = await json_object(request, empty=True)
        name = optional_string(body, "name")
        path = optional_string(body, "path")
        if path is not None:
            _check_relative(path)
        try:
            model = await registry().start(name, path)
        except ContentsError as exc:  # the contents service refused the kernel's folder
            raise http_error(exc.status, exc.message) from None
        except KernelStartError as exc:
            raise http_error(exc.status_code, str(exc)) from None
        location = f"{base_url}api/kernels/{model['id']}"
        return JSONResponse(model, status_code=201, headers={"Location": location})

    # KernelNotFound and NoSuchKernelSpec are RequestErrors: the core answers them as JSON
    # 404s, so only the errors whose status is decided here are caught.
    async def get_kernel(request: Request) -> Response:
        return JSONResponse(await registry().get(request.path_params["kernel_id"]))

    async def delete_kernel(request: Request) -> Response:
        await registry().shutdown(request.path_params["kernel_id"])
        return Response(status_code=204)

    async def interrupt_kernel(request: Request) -> Response:
        try:
            await registry().interrupt(request.path_params["kernel_id"])
        except KernelBusy as exc:
            raise http_error(409, str(exc)) from None
        return Response(status_code=204)

    async def restart_kernel(request: Request) -> Response:
        try:
            model = await registry().restart(request.path_params["kernel_id"])
        except KernelBusy as exc:
            raise http_error(409, str(exc)) from None
        except KernelStartError as exc:
            raise http_error(exc.status_code, f"Exception restarting kernel: {exc}") from None
        return JSONResponse(model)

    async def channels(websocket: WebSocket) -> None:
        service = registry()
        if isinstance(service, KernelRegistry):
            await serve_channels(websocket, kernels(), settings, sessions)
        else:
            # Frame for frame to the gateway's own WebSocket (see gateway_relay.py).
            # Imported here: the gateway client (httpx, websockets) would add about a
            # tenth of a second to every server's start, and few servers use a gateway.
            from modserver_kernels.gateway_relay import relay_channels

            await relay_channels(websocket, service)

    # Starting, stopping, interrupting and restarting a kernel run or control code:
    # "execute", whatever the HTTP method (editors may write files, not run them).
    return [
        route("/api/kernels", list_kernels, resource=RESOURCE),
        route("/api/kernels", start_kernel, methods=["POST"], resource=RESOURCE, action=EXECUTE),
        route("/api/kernels/{kernel_id}", get_kernel, resource=RESOURCE),
        route(
            "/api/kernels/{kernel_id}",
            delete_kernel,
            methods=["DELETE"],
            resource=RESOURCE,
            action=EXECUTE,
        ),
        route(
            "/api/kernels/{kernel_id}/interrupt",
            interrupt_kernel,
            methods=["POST"],
            resource=RESOURCE,
            action=EXECUTE,
        ),
        route(
            "/api/kernels/{kernel_id}/restart",
            restart_kernel,
            methods=["POST"],
            resource=RESOURCE,
            action=EXECUTE,
        ),
        websocket_route(
            "/api/kernels/{kernel_id}/channels", channels, resource=RESOURCE, action=EXECUTE
        ),
    ]
