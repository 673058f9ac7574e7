"""A third-party plugin whose routes let services' errors escape, as plugin code will."""

from __future__ import annotations

from typing import Any

from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.api.contents import ContentsError
from modserver.api.kernels import KernelNotFound
from modserver.api.sessions import SessionGone
from modserver.routing import route, websocket_route
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

ERRORS: dict[str, Exception] = {
    "contents": ContentsError(409, "File already exists: a.txt"),
    "kernel": KernelNotFound("Kernel does not exist: k1"),
    "session": SessionGone("The session's kernel was gone"),
    "http": HTTPException(418, "I'm a teapot, said the plugin"),
}


class RaiserPlugin(Plugin):
    name = "raiser"
    requires = (Identity, Authorizer)

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[Any]:
        async def fail(request: Request) -> Response:
            raise ERRORS[request.path_params["kind"]]

        async def fail_socket(websocket: WebSocket) -> None:
            raise ERRORS["kernel"]

        return [
            route("/raiser/{kind}", fail, resource="raiser"),
            websocket_route("/raiser-socket", fail_socket, resource="raiser"),
        ]


raiser = RaiserPlugin()
