"""HTTP routes of ``/api/config/{section}``: GET, PUT (replace, 204), PATCH (deep merge)."""

from __future__ import annotations

from collections.abc import Callable

from modserver.confined import OutsideRoot
from modserver.errors import http_error, json_object
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from modserver_config.store import BrokenSection, ConfigStore, InvalidSection, check_section_name

PATH = "/api/config/{section}"
RESOURCE = "config"


def config_routes(store: Callable[[], ConfigStore]) -> list[BaseRoute]:
    """The routes; ``store`` returns the running store (it exists only after startup)."""

    async def get_section(request: Request) -> Response:
        section = _section(request)
        try:
            return JSONResponse(await store().get(section))
        except BrokenSection as exc:
            raise http_error(409, str(exc)) from None
        except OutsideRoot:
            raise _outside(section) from None

    async def put_section(request: Request) -> Response:
        section = _section(request)
        try:
            await store().set(section, await json_object(request))
        except OutsideRoot:
            raise _outside(section) from None
        return Response(status_code=204)

    async def patch_section(request: Request) -> Response:
        section = _section(request)
        changes = await json_object(request)
        try:
            return JSONResponse(await store().update(section, changes))
        except BrokenSection as exc:
            raise http_error(409, str(exc)) from None
        except OutsideRoot:
            raise _outside(section) from None

    return [
        route(PATH, get_section, methods=["GET"], resource=RESOURCE),
        route(PATH, put_section, methods=["PUT"], resource=RESOURCE),
        route(PATH, patch_section, methods=["PATCH"], resource=RESOURCE),
    ]


def _section(request: Request) -> str:
    try:
        return check_section_name(request.path_params["section"])
    except InvalidSection as exc:
        raise http_error(400, str(exc)) from None


def _outside(section: str) -> Exception:
    return http_error(403, f"Config section {section!r} leads outside the config folder")
