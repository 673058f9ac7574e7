"""``GET /api/me``: the hub user's identity (name, groups) and their permissions here.

In jupyter_server's shape: ``{"identity": {...}, "permissions": {resource: [actions]}}``
for the permissions asked in ``?permissions=<JSON>``. Hub users' names and groups are the
hub's to change, so ``updatable_fields`` is empty and there is no ``PATCH``.
"""

from __future__ import annotations

import json
from typing import Any

from modserver.api.auth import ACTIONS, Authorizer
from modserver.errors import http_error
from modserver.routing import current_user, route
from modserver.services import ServiceView
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute


def parse_permissions(raw: str) -> dict[str, list[str]]:
    """The ``permissions`` query argument: ``{"resource": ["action", ...]}``; 400 if not."""
    if not raw:
        return {}
    try:
        asked: Any = json.loads(raw)
    except ValueError:
        asked = None
    if not isinstance(asked, dict) or not all(
        isinstance(actions, list) and all(isinstance(a, str) for a in actions)
        for actions in asked.values()
    ):
        raise http_error(
            400, f'permissions should be a JSON dict of {{"resource": ["action",]}}, got {raw!r}'
        )
    return asked


def me_routes(services: ServiceView) -> list[BaseRoute]:
    """The identity route."""

    async def get_me(request: Request) -> JSONResponse:
        asked = parse_permissions(request.query_params.get("permissions", ""))
        user = current_user(request)
        authorizer = services.get(Authorizer)
        permissions: dict[str, list[str]] = {}
        for resource, actions in asked.items():
            permissions[resource] = [
                action
                for action in actions
                if action in ACTIONS and await authorizer.is_authorized(user, action, resource)
            ]
        permissions["updatable_fields"] = []
        return JSONResponse({"identity": user.identity_model(), "permissions": permissions})

    return [route("/api/me", get_me, methods=["GET"], resource="api", action="read")]
