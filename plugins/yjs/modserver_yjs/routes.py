"""Collaboration routes as jupyter-server-ydoc 3.x serves them to @jupyter/docprovider.

``PUT /api/collaboration/session/{path}`` gives a file's id and this server run's session
id; ``/api/collaboration/room/{room_id}`` is the room WebSocket (connection.py);
``GET /api/collaboration/timeline/{path}`` and ``PUT /api/collaboration/undo_redo/{room_id}``
serve the document timeline (timeline.py); ``/api/collaboration/fork/{room_id}`` forks
(forks.py). Both are
``read`` on ``collaboration``, so a viewer opens shared documents; whether a client's edits
count is decided per socket: write on ``contents`` and ``collaboration`` (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from modserver.api.auth import Authorizer, User
from modserver.api.contents import Contents
from modserver.api.events import Events
from modserver.api.fileid import FileIds
from modserver.api.kernels import Kernels
from modserver.errors import http_error, json_object
from modserver.jsonbody import optional_string
from modserver.routing import current_user, route, websocket_route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket

from modserver_yjs.fork_events import FORK_EVENTS, register_fork_events
from modserver_yjs.room_ids import CellNotFound, RoomOpenError, parse_room_id
from modserver_yjs.rooms import RoomRegistry, import_rooms

if TYPE_CHECKING:
    from modserver_yjs.forks import DocumentFork

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
    events: Callable[[], Events | None] = lambda: None,
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

    async def timeline(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        file_format = request.query_params.get("format", "")
        file_type = request.query_params.get("type", "")
        if not file_format or not file_type:
            raise http_error(400, "format and type are required query parameters")
        file_id = await file_ids().get_id(path)
        room_id = f"{file_format}:{file_type}:{file_id}"
        try:
            if file_id is None:
                raise LookupError(path)
            fork = await registry().fork(room_id)
        except LookupError:
            raise http_error(404, f"No open document room for {path!r}") from None
        model = {
            "roomId": room_id,
            "timestamps": fork.timestamps,
            "forkRoom": fork.room_id,
            "sessionId": registry().session_id,
        }
        return JSONResponse(model)

    async def undo_redo(request: Request) -> Response:
        room_id = request.path_params["room_id"]
        action = request.query_params.get("action", "")
        if action not in ("undo", "redo", "restore"):
            raise http_error(400, "action must be undo, redo or restore")
        try:
            steps = int(request.query_params.get("steps", "0"))
        except ValueError:
            steps = -1
        if not 0 <= steps <= 1_000_000:
            raise http_error(400, "steps must be a whole number from 0")
        try:
            fork = registry().find_fork(request.query_params.get("forkRoom", ""), room_id)
        except LookupError:
            raise http_error(404, f"No timeline fork of {room_id!r} has that forkRoom") from None
        if action != "restore":
            done = fork.step(action, steps)
            status = "undone" if action == "undo" else "redone"
            return JSONResponse({"status": status, "steps": done})
        # Restoring changes the shared document: an editor's right, as editing it is.
        user = current_user(request)
        if not await may_edit(authorizer(), user):
            raise http_error(403, "Restoring a version needs the right to edit the document")
        try:
            await registry().restore(fork, user)
        except RoomOpenError as exc:
            raise http_error(404 if exc.code == 4404 else 400, exc.message) from None
        return JSONResponse({"code": 200, "status": "Document restored successfully"})

    def announce(fork: DocumentFork, user: User, action: str) -> None:
        bus = events()
        if bus is not None:
            data = {
                "username": user.username,
                "fork_roomid": fork.room_id,
                "fork_info": fork.info,
                "action": action,
            }
            register_fork_events(bus)  # done by the warm-up, unless a fork came first
            bus.emit(FORK_EVENTS, data)

    async def create_fork(request: Request) -> Response:
        root_id = request.path_params["room_id"]
        body = await json_object(request, empty=True)
        title = optional_string(body, "title") or ""
        description = optional_string(body, "description") or ""
        synchronize = body.get("synchronize", False)
        if not isinstance(synchronize, bool):
            raise http_error(400, "synchronize must be true or false")
        try:
            fork = await registry().create_fork(
                root_id, synchronize=synchronize, title=title, description=description
            )
        except LookupError:
            raise http_error(404, f"No open document room {root_id!r}") from None
        announce(fork, current_user(request), "create")
        model = {
            "sessionId": registry().session_id,
            "fork_roomid": fork.room_id,
            "fork_info": fork.info,
        }
        return JSONResponse(model, status_code=201)

    async def list_forks(request: Request) -> Response:
        return JSONResponse(registry().forks_of(request.path_params["room_id"]))

    async def delete_fork(request: Request) -> Response:
        merge = request.query_params.get("merge", "false")
        if merge not in ("true", "false"):
            raise http_error(400, "merge must be true or false")
        try:
            fork = registry().find_document_fork(request.path_params["room_id"])
        except LookupError:
            raise http_error(404, "No such fork") from None
        user = current_user(request)
        if merge == "true" and not await may_edit(authorizer(), user):
            raise http_error(403, "Merging a fork needs the right to edit the document")
        try:
            await registry().delete_fork(fork, merge=merge == "true", user=user)
        except RoomOpenError as exc:
            raise http_error(404 if exc.code == 4404 else 400, exc.message) from None
        announce(fork, user, "delete")
        return Response(status_code=204)

    async def room(websocket: WebSocket) -> None:
        user = current_user(websocket)
        writable = await may_edit(authorizer(), user)
        # Trusting a cell's outputs runs their scripts: only for who may run code.
        may_trust = await authorizer().is_authorized(user, "execute", "kernels")
        room_id = websocket.path_params["room_id"]
        import_rooms()  # pycrdt: imported with the first room (or by the warm-up)
        from modserver_yjs.connection import serve_room

        await serve_room(
            websocket, registry(), room_id, user, writable=writable, may_trust=may_trust
        )

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
        # The document timeline: a fork to look back in; only a restore changes the
        # document, and it checks the right to edit.
        route(
            "/api/collaboration/timeline/{path:path}",
            timeline,
            resource=RESOURCE,
            action="read",
        ),
        # Forks for third-party UIs (ForkManager): shared by everyone in the document, so
        # making or ending one is a write (a viewer only lists them); merging one into its
        # document also checks the right to edit the file, as a restore does.
        route(
            "/api/collaboration/fork/{room_id:path}",
            create_fork,
            methods=["PUT"],
            resource=RESOURCE,
            action="write",
        ),
        route("/api/collaboration/fork/{room_id:path}", list_forks, resource=RESOURCE),
        route(
            "/api/collaboration/fork/{room_id:path}",
            delete_fork,
            methods=["DELETE"],
            resource=RESOURCE,
            action="write",
        ),
        route(
            "/api/collaboration/undo_redo/{room_id:path}",
            undo_redo,
            methods=["PUT"],
            resource=RESOURCE,
            action="read",
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
