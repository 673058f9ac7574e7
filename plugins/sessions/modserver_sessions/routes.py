"""HTTP routes of ``/api/sessions``, in jupyter_server 2.x's shapes and status codes.

The endpoints validate the request body, call the ``SessionManager`` (manager.py) and
turn its exceptions into JSON errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modserver.api.auth import Action
from modserver.api.kernels import KernelNotFound, NoSuchKernelSpec
from modserver.api.sessions import KernelChoice, SessionGone, SessionNotFound
from modserver.errors import http_error, json_object
from modserver.jsonbody import optional_string
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from modserver_sessions.manager import SessionManager

RESOURCE = "sessions"
EXECUTE: Action = "execute"


def session_routes(manager: Callable[[], SessionManager], base_url: str) -> list[BaseRoute]:
    """The routes; ``manager`` returns the running manager (it exists only after startup)."""

    async def list_sessions(request: Request) -> Response:
        return JSONResponse(await manager().list())

    async def create_session(request: Request) -> Response:
        body = await json_object(request)
        legacy = body.get("notebook")
        if isinstance(legacy, dict):
            # The pre-5.0 notebook API sent {"notebook": {"path": ...}}; jupyter_server
            # still accepts it as a notebook session.
            body["type"] = "notebook"
            if "name" in legacy:
                body["path"] = legacy["name"]
            elif "path" in legacy:
                body["path"] = legacy["path"]
        for required in ("path", "type"):
            if required not in body:
                raise http_error(400, f"Missing field in JSON data: {required}")
        path = _string(body, "path")
        kind = _string(body, "type")
        name = optional_string(body, "name")
        choice = _kernel_choice(body.get("kernel")) or KernelChoice()
        try:
            model = await manager().create(path=path, type=kind, name=name, kernel=choice)
        except NoSuchKernelSpec:
            return _kernel_unavailable(choice.name)
        location = f"{base_url}api/sessions/{model['id']}"
        return JSONResponse(model, status_code=201, headers={"Location": location})

    async def get_session(request: Request) -> Response:
        try:
            return JSONResponse(await manager().get(request.path_params["session_id"]))
        except SessionNotFound as exc:
            raise http_error(404, str(exc)) from None

    async def patch_session(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        body = await json_object(request)
        legacy = body.get("notebook")
        if isinstance(legacy, dict) and "path" in legacy:
            body["path"] = legacy["path"]
            body["type"] = "notebook"
        changes: dict[str, Any] = {}
        for key in ("path", "type"):
            if key in body:
                changes[key] = _string(body, key)
        if "name" in body:
            changes["name"] = optional_string(body, "name")
        choice = _kernel_choice(body.get("kernel"))
        try:
            return JSONResponse(await manager().update(session_id, changes, choice))
        except SessionNotFound as exc:
            raise http_error(404, str(exc)) from None
        except KernelNotFound:
            raise http_error(400, f"No such kernel: {choice.id if choice else ''}") from None
        except NoSuchKernelSpec:
            return _kernel_unavailable(choice.name if choice else None)

    async def delete_session(request: Request) -> Response:
        try:
            await manager().delete(request.path_params["session_id"])
        except SessionNotFound as exc:
            raise http_error(404, str(exc)) from None
        except SessionGone as exc:
            raise http_error(410, str(exc)) from None
        return Response(status_code=204)

    # A session starts, switches and stops kernels: changing one is "execute".
    return [
        route("/api/sessions", list_sessions, methods=["GET"], resource=RESOURCE),
        route("/api/sessions", create_session, methods=["POST"], resource=RESOURCE, action=EXECUTE),
        route("/api/sessions/{session_id}", get_session, methods=["GET"], resource=RESOURCE),
        route(
            "/api/sessions/{session_id}",
            patch_session,
            methods=["PATCH"],
            resource=RESOURCE,
            action=EXECUTE,
        ),
        route(
            "/api/sessions/{session_id}",
            delete_session,
            methods=["DELETE"],
            resource=RESOURCE,
            action=EXECUTE,
        ),
    ]


def _string(body: dict[str, Any], key: str) -> str:
    value = body[key]
    if not isinstance(value, str):
        raise http_error(400, f"Field {key!r} must be a string")
    return value


def _kernel_choice(value: Any) -> KernelChoice | None:
    """The ``kernel`` field: ``{"id": ...}`` (takes precedence) or ``{"name": ...}``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise http_error(400, 'Field \'kernel\' must be an object such as {"name": "python3"}')
    kernel_id = optional_string(value, "id")
    kernel_name = optional_string(value, "name")
    if kernel_id:
        return KernelChoice(id=kernel_id)
    if kernel_name:
        return KernelChoice(name=kernel_name)
    return None


def _kernel_unavailable(kernel_name: str | None) -> Response:
    """jupyter_server's 501 for a kernelspec that is not installed."""
    message = (
        f"Kernel '{kernel_name}' is not installed on this server: choose another kernel, "
        "or install it."
    )
    return JSONResponse(
        {
            "message": message,
            "short_message": f"{kernel_name} not found",
            "reason": "Not Implemented",
        },
        status_code=501,
    )
