"""``GET /api/me``: the hub user's identity (name, groups) and their permissions here.

In jupyter_server's shape: ``{"identity": {...}, "permissions": {resource: [actions]}}``
for the permissions asked in ``?permissions=<JSON>``. Hub users' names and groups are the
hub's to change, so ``updatable_fields`` is empty and there is no ``PATCH``.
"""

from __future__ import annotations

from modserver.api.auth import Authorizer
from modserver.api.me import granted_permissions, parse_permissions
from modserver.routing import current_user, route
from modserver.services import ServiceView
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute


def me_routes(services: ServiceView) -> list[BaseRoute]:
    """The identity route."""

    async def get_me(request: Request) -> JSONResponse:
        asked = parse_permissions(request.query_params.get("permissions", ""))
        user = current_user(request)
        permissions = await granted_permissions(services.get(Authorizer), user, asked)
        permissions["updatable_fields"] = []
        return JSONResponse({"identity": user.identity_model(), "permissions": permissions})

    return [route("/api/me", get_me, methods=["GET"], resource="api", action="read")]
