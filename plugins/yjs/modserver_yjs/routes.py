"""Collaboration routes as jupyter-server-ydoc 3.x serves them to @jupyter/docprovider.

``PUT /api/collaboration/session/{path}`` gives a file's id and this server run's session
id; ``/api/collaboration/room/{room_id}`` is the room WebSocket (connection.py). Both are
``read`` on ``collaboration``, so a viewer opens shared documents; whether a client's edits
count is decided per socket: write on ``contents`` and ``collaboration`` (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable

from modserver.api.auth import Authorizer, User
from modserver.api.contents import Contents
from modserver.api.fileid import FileIds
from modserver.api.kernels import Kernels
from modserver.errors import http_error, json_object
from modserver.routing import current_user, route, websocket_route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket

from modserver_yjs.connection import serve_room
from modserver_yjs.document import RoomOpenError, parse_room_id
from modserver_yjs.execution import CellNotFound
from modserver_yjs.rooms import RoomRegistry

RESOURCE = "collaboration"


async def may_edit(authorizer: Authorizer, user: User) -> bool:
    """True when ``user``'s changes to shared documents are kept (else they are dropped)."""
    return await authorizer.is_authorized(
        user, "write", "contents"
    ) and await authorizer.is_authorized(user, "write", RESOURCE)


def collaboration_routes(
    registry: Callable[[], RoomRegistry],
    contents: Callable[[], Contents],
    file_ids: Callable[[], FileIds],
    authorizer: Callable[[], Authorizer],
    kernels: Callable[[], Kernels | None],
) -> list[BaseRoute]:
    """The routes over this app's running registry and services (found at request time)."""

    async def session(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        body = await json_object(request)
        file_format, file_type = body.get("format"), body.get("type")
        if not isinstance(file_format, str) or not isinstance(file_type, str):
            raise http_error(400, "format and type must be strings")
        if not await contents().file_exists(path):
            raise http_error(404, f"File {path!r} does not exist")
        file_id, created = await file_ids().index(path)
        model = {
            "format": file_format,
            "type": file_type,
            "fileId": file_id,
            "sessionId": registry().session_id,
        }
        return JSONResponse(model, status_code=201 if created else 200)

    async def execute(request: Request) -> Response:
        service = kernels()
        if service is None:
            raise http_error(404, "No kernels plugin is enabled")
        kernel_id = request.path_params["kernel_id"]
        await service.get(kernel_id)  # 404 for an unknown kernel
        body = await json_object(request)
        document_id, cell_id = body.get("document_id"), body.get("cell_id")
        if not isinstance(document_id, str) or not isinstance(cell_id, str):
            raise http_error(400, "document_id and cell_id must be strings")
        if parse_room_id(document_id) is None:
            raise http_error(400, f"{document_id!r} is not a document id (format:type:fileId)")
        user = current_user(request)
        try:
            status = await registry().run_cell(service, kernel_id, document_id, cell_id, user)
        except RoomOpenError as exc:
            raise http_error(404 if exc.code == 4404 else 400, exc.message) from None
        except CellNotFound:
            raise http_error(404, f"No code cell {cell_id!r} in {document_id}") from None
        except ValueError as exc:
            raise http_error(400, str(exc)) from None
        return JSONResponse({"status": status})

    async def room(websocket: WebSocket) -> None:
        user = current_user(websocket)
        writable = await may_edit(authorizer(), user)
        room_id = websocket.path_params["room_id"]
        await serve_room(websocket, registry(), room_id, user, writable=writable)

    return [
        route(
            "/api/collaboration/session/{path:path}",
            session,
            methods=["PUT"],
            resource=RESOURCE,
            action="read",  # opening a shared document changes no file
        ),
        websocket_route(
            "/api/collaboration/room/{room_id}", room, resource=RESOURCE, action="read"
        ),
        # Running code: the owner's alone, as every kernel route that runs code.
        route(
            "/api/kernels/{kernel_id}/execute",
            execute,
            methods=["POST"],
            resource="kernels",
            action="execute",
        ),
    ]
