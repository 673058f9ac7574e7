"""JupyterLab's Plugin Manager (Settings > Plugin Manager): ``/lab/api/plugins``.

The frontend knows its plugins itself; the server says which ones are locked
(``{"allLocked": ..., "lockRules": [...]}``) and switches single plugins on and off for the
calling user, in the same list as the Extension Manager (user_extensions.py). Locked are
the settings ``lab.locked_plugins`` / ``lab.lock_all_plugins`` and whatever the server's
configuration disables, which no user can switch on from the browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from modserver.errors import http_error
from modserver.jsonbody import read_json_object
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from modserver_lab.extension_manager import RESOURCE, record_choice
from modserver_lab.pages import app_prefix
from modserver_lab.runtime import LabRuntime
from modserver_lab.user_extensions import ACTION_DONE

#: A plugin id (``package:plugin``) or a package name: npm names, then what plugin ids use.
PLUGIN_ID = re.compile(r"[A-Za-z0-9@_][\w@/.~+-]{0,213}(:[\w@/.~+:-]{1,200})?")


def plugin_manager_routes(runtime: Callable[[], LabRuntime]) -> list[BaseRoute]:
    """``GET`` and ``POST /lab/api/plugins``."""

    async def plugin_locks(request: Request) -> Response:
        lab = runtime()
        view = await lab.user_extensions(request, app_prefix(request))
        rules = view.locks.rules | view.imposed
        return JSONResponse({"allLocked": view.locks.all_locked, "lockRules": sorted(rules)})

    async def change_plugin(request: Request) -> Response:
        lab = runtime()
        body = await read_json_object(request)
        command = body.get("cmd")
        name = body.get("plugin_name")
        if command not in ("enable", "disable") or not isinstance(name, str):
            raise http_error(
                400, 'The body must be {"cmd": "enable"|"disable", "plugin_name": "<plugin id>"}'
            )
        if not PLUGIN_ID.fullmatch(name):
            raise http_error(400, f"Not a plugin id: {name[:100]!r} (expected package:plugin)")
        await record_choice(lab, request, name, disable=command == "disable")
        return JSONResponse(ACTION_DONE, status_code=201)

    return [
        route("/lab/api/plugins", plugin_locks, resource=RESOURCE),
        route("/lab/api/plugins", change_plugin, methods=["POST"], resource=RESOURCE),
    ]
