"""``GET /api/me`` and ``PATCH /api/me``, in jupyter_server's shapes.

GET answers ``{"identity": {...}, "permissions": {resource: [granted actions], ...,
"updatable_fields": [...]}}`` for the permissions asked in ``?permissions=<JSON>``.
PATCH changes the caller's display fields and answers ``{"status": "success",
"identity": {...}}``; it needs write access on the ``users`` resource (not for viewers).
"""

from __future__ import annotations

import re
from typing import Any

from modserver.api.auth import Authorizer, User
from modserver.api.me import granted_permissions, parse_permissions
from modserver.errors import http_error
from modserver.jsonbody import InvalidJSON, loads, read_body
from modserver.routing import current_user, route
from modserver.services import ServiceView
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute

from modserver_auth.runtime import AuthRuntime
from modserver_auth.users import UPDATABLE_FIELDS

MAX_FIELD_LENGTH = 256


def me_routes(runtime: AuthRuntime, services: ServiceView) -> list[BaseRoute]:
    """The identity routes."""

    async def can_update(user: User) -> bool:
        return await services.get(Authorizer).is_authorized(user, "write", "users")

    async def get_me(request: Request) -> JSONResponse:
        asked = parse_permissions(request.query_params.get("permissions", ""))
        user = current_user(request)
        permissions = await granted_permissions(services.get(Authorizer), user, asked)
        permissions["updatable_fields"] = list(UPDATABLE_FIELDS) if await can_update(user) else []
        return JSONResponse({"identity": user.identity_model(), "permissions": permissions})

    async def patch_me(request: Request) -> JSONResponse:
        changes = _parse_changes(await read_body(request))
        user = current_user(request)
        updated = runtime.users.update(user.username, changes)
        if updated is None:
            raise http_error(404, f"User {user.username!r} no longer exists")
        return JSONResponse({"status": "success", "identity": updated.identity_model()})

    return [
        route("/api/me", get_me, methods=["GET"], resource="api", action="read"),
        route("/api/me", patch_me, methods=["PATCH"], resource="users", action="write"),
    ]


#: What ``color`` may be: a hex color, a color name, rgb()/hsl() numbers, or a CSS variable
#: (JupyterLab's own collaborator colors are ``var(--jp-collaborator-color1)``).
CSS_COLOR = re.compile(
    r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,30}|var\(--[a-zA-Z0-9-]{1,60}\)"
    r"|(?:rgb|hsl)a?\([0-9.,%\s/]{1,60}\)"
)


def _parse_changes(body: bytearray) -> dict[str, Any]:
    try:
        data = loads(body) if body else None
    except InvalidJSON:
        raise http_error(400, "Invalid or missing JSON body") from None
    if not isinstance(data, dict) or not data:
        raise http_error(400, "Invalid or missing JSON body")
    for key, value in data.items():
        if key not in UPDATABLE_FIELDS:
            raise http_error(
                400, f"Field {key} is not updatable; updatable: {', '.join(UPDATABLE_FIELDS)}"
            )
        if not isinstance(value, str) or len(value) > MAX_FIELD_LENGTH:
            raise http_error(
                400, f"Field {key} must be a string of at most {MAX_FIELD_LENGTH} characters"
            )
    if (
        "avatar_url" in data
        and data["avatar_url"]
        and not data["avatar_url"].startswith(("https://", "http://", "data:image/"))
    ):
        raise http_error(400, "Field avatar_url must be an http(s) or data:image URL")
    if data.get("color") and not CSS_COLOR.fullmatch(data["color"]):
        # Other users' browsers style this user's cursor with it: a color, nothing more.
        raise http_error(
            400, "Field color must be a CSS color: #rrggbb, a name, rgb(...), or var(--name)"
        )
    return data
