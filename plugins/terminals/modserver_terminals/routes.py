"""Terminal routes: ``/api/terminals`` REST in jupyter_server's shapes, and the WebSocket.

Starting a terminal, attaching to one and ending one run code: action ``execute`` (the
owner only, docs/security.md); listing is ``read``. The WebSocket lives in connection.py.
"""

from __future__ import annotations

from collections.abc import Callable

from modserver.api.auth import Action
from modserver.errors import http_error, json_object
from modserver.jsonbody import optional_string
from modserver.routing import route, websocket_route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket

from modserver_terminals.connection import serve_terminal
from modserver_terminals.manager import TerminalRegistry, TerminalRequestError
from modserver_terminals.pty_process import SpawnError

RESOURCE = "terminals"
EXECUTE: Action = "execute"


def terminal_routes(registry: Callable[[], TerminalRegistry]) -> list[BaseRoute]:
    """The routes; ``registry`` returns the running registry (it exists after startup)."""

    async def list_terminals(request: Request) -> Response:
        return JSONResponse(registry().list())

    async def create_terminal(request: Request) -> Response:
        body = await json_object(request, empty=True)
        try:
            model = await registry().create(
                optional_string(body, "name"), optional_string(body, "cwd")
            )
        except TerminalRequestError as exc:
            raise http_error(exc.status, exc.message) from None
        except SpawnError as exc:
            raise http_error(500, str(exc)) from None
        # jupyter_server answers 200 (not 201) with the model.
        return JSONResponse(model)

    # TerminalNotFound is a RequestError: the core answers it as a JSON 404.
    async def get_terminal(request: Request) -> Response:
        return JSONResponse(registry().get(request.path_params["terminal_id"]))

    async def delete_terminal(request: Request) -> Response:
        await registry().terminate(request.path_params["terminal_id"])
        return Response(status_code=204)

    async def websocket(websocket: WebSocket) -> None:
        await serve_terminal(websocket, registry())

    return [
        route("/api/terminals", list_terminals, resource=RESOURCE),
        route(
            "/api/terminals", create_terminal, methods=["POST"], resource=RESOURCE, action=EXECUTE
        ),
        route("/api/terminals/{terminal_id}", get_terminal, resource=RESOURCE),
        route(
            "/api/terminals/{terminal_id}",
            delete_terminal,
            methods=["DELETE"],
            resource=RESOURCE,
            action=EXECUTE,
        ),
        websocket_route(
            "/terminals/websocket/{terminal_id}", websocket, resource=RESOURCE, action=EXECUTE
        ),
    ]
