"""JupyterLab's server API (what jupyterlab_server answers), as guarded routes of the lab plugin.

``lab_api_routes`` builds the routes of ``/lab/api/{settings,workspaces,translations,
listings,licenses}`` for one app; the lab plugin's routes.py mounts them (themes are
assets: themes.py). Settings and workspaces are the caller's own (user_files.py), guarded
as resources ``settings`` and ``workspaces`` (every role may change its own); the rest are
``lab``, read only. Documented in docs/lab-api.md.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from modserver.errors import http_error
from modserver.routing import current_user, route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from modserver_lab import licenses, listings, translations
from modserver_lab.schemas import SchemaCatalog, UnknownSchema
from modserver_lab.settings import LabApiSettings
from modserver_lab.user_files import OutsideFolder, UserFolder
from modserver_lab.user_settings import InvalidSettings, UserSettings
from modserver_lab.workspaces import (
    InvalidWorkspace,
    UnknownWorkspace,
    Workspaces,
    check_workspace,
)

if TYPE_CHECKING:
    from modserver import PluginContext

RESOURCE = "lab"
_QUANTIFIED_GROUP = re.compile(r"\)[*+?{]")


def user_settings_folder(settings: LabApiSettings) -> Path:
    """The configured user-settings folder, or JupyterLab's default."""
    if settings.user_settings_dir is not None:
        return settings.user_settings_dir.expanduser()
    if os.environ.get("JUPYTERLAB_SETTINGS_DIR"):
        return Path(os.environ["JUPYTERLAB_SETTINGS_DIR"]).expanduser()
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()) / "lab" / "user-settings"


def workspaces_folder(settings: LabApiSettings) -> Path:
    """The configured workspaces folder, or JupyterLab's default."""
    if settings.workspaces_dir is not None:
        return settings.workspaces_dir.expanduser()
    if os.environ.get("JUPYTERLAB_WORKSPACES_DIR"):
        return Path(os.environ["JUPYTERLAB_WORKSPACES_DIR"]).expanduser()
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()) / "lab" / "workspaces"


def lab_api_openapi() -> dict[str, Any]:
    """The lab API's OpenAPI fragment, for the lab plugin's ``modserver_openapi`` hook."""
    from modserver.openapi import packaged_fragment

    return packaged_fragment("modserver_lab", "lab_api.yaml")


def lab_api_routes(
    context: PluginContext,
    app_dir: Path,
    extensions: Mapping[str, Path],
    settings: LabApiSettings,
) -> list[BaseRoute]:
    """The routes of JupyterLab's server API for one app.

    ``app_dir`` is JupyterLab's application folder (``schemas/``, ``themes/``,
    ``static/``); ``extensions`` maps each enabled federated labextension to its folder;
    ``settings`` says where users' files go. Nothing is read until the first request.
    """
    catalog = SchemaCatalog(app_dir, extensions, settings.app_settings_dir or app_dir / "settings")
    settings_base = user_settings_folder(settings)
    workspaces_base = workspaces_folder(settings)
    max_bytes = settings.max_document_kb * 1024
    context.log.debug(
        "lab API: user settings in %s, workspaces in %s", settings_base, workspaces_base
    )

    def user_settings(request: Request) -> UserSettings:
        return UserSettings(catalog, UserFolder.of(settings_base, current_user(request)))

    def user_workspaces(request: Request) -> Workspaces:
        return Workspaces(UserFolder.of(workspaces_base, current_user(request)))

    async def get_settings(request: Request) -> Response:
        schema_id = request.path_params.get("schema_name", "")
        ids_only = request.query_params.get("ids_only", "") == "true"
        store = user_settings(request)

        def answer() -> dict[str, Any]:
            if not schema_id and ids_only:
                return {"settings": store.listing(ids_only=True)}
            store.translate = translations.schema_translator(store.display_locale())
            if not schema_id:
                return {"settings": store.listing(ids_only=False)}
            return store.plugin(schema_id)

        try:
            return JSONResponse(await anyio.to_thread.run_sync(answer))
        except UnknownSchema as exc:
            raise http_error(404, str(exc)) from None

    async def put_settings(request: Request) -> Response:
        schema_id = request.path_params["schema_name"]
        body = await _json_body(request, max_bytes)
        raw = body.get("raw")
        if not isinstance(raw, str):
            raise http_error(
                400, 'Invalid format for JSON payload: must be {"raw": "<JSON5 text>"}'
            )
        store = user_settings(request)
        try:
            await anyio.to_thread.run_sync(store.save, schema_id, raw)
        except UnknownSchema as exc:
            raise http_error(404, str(exc)) from None
        except (InvalidSettings, OutsideFolder) as exc:
            raise http_error(400, str(exc)) from None
        except OSError as exc:
            raise http_error(
                409, f"Could not save settings for {schema_id}: {exc.strerror or exc}"
            ) from None
        return Response(status_code=204)

    async def get_workspaces(request: Request) -> Response:
        name = request.path_params.get("space_name", "")
        store = user_workspaces(request)
        if not name:
            values = await anyio.to_thread.run_sync(store.listing)
            ids = [value["metadata"]["id"] for value in values]
            return JSONResponse({"workspaces": {"ids": ids, "values": values}})
        return JSONResponse(await anyio.to_thread.run_sync(store.load, name))

    async def put_workspace(request: Request) -> Response:
        name = _workspace_name(request)
        try:
            document = check_workspace(name, await _json_body(request, max_bytes))
            await anyio.to_thread.run_sync(user_workspaces(request).save, name, document)
        except (InvalidWorkspace, OutsideFolder) as exc:
            raise http_error(400, str(exc)) from None
        except OSError as exc:
            raise http_error(
                409, f"Could not save workspace {name!r}: {exc.strerror or exc}"
            ) from None
        return Response(status_code=204)

    async def delete_workspace(request: Request) -> Response:
        name = _workspace_name(request)
        try:
            await anyio.to_thread.run_sync(user_workspaces(request).delete, name)
        except (UnknownWorkspace, OutsideFolder) as exc:
            raise http_error(404, str(exc)) from None
        except OSError as exc:
            raise http_error(
                409, f"Could not delete workspace {name!r}: {exc.strerror or exc}"
            ) from None
        return Response(status_code=204)

    async def get_translations(request: Request) -> Response:
        code = request.path_params.get("locale", "")
        if not code:
            data, message = await anyio.to_thread.run_sync(translations.language_packs)
        else:
            data, message = await anyio.to_thread.run_sync(translations.language_pack, code)
        return JSONResponse({"data": data, "message": message})

    async def get_listings(request: Request) -> Response:
        if request.path_params["path"] != listings.LISTINGS_FILE:
            raise http_error(
                404, f"No listings here; the extension manager's are at {listings.LISTINGS_FILE}"
            )
        return JSONResponse(listings.listings())

    async def get_licenses(request: Request) -> Response:
        query = request.query_params
        report_format = query.get("format", "json")
        if report_format not in licenses.FORMATS:
            raise http_error(
                400, f"Unsupported report format {report_format!r}: use json, markdown or csv"
            )
        full_text = _flag(query, "full_text", True)
        download = _flag(query, "download", False)
        pattern = _bundles_pattern(query.get("bundles", ".*"))

        def make_report() -> str:
            found = licenses.bundles(app_dir, extensions, pattern)
            return licenses.report(found, report_format, full_text)

        text = await anyio.to_thread.run_sync(make_report)
        headers = {}
        if download:
            suffix = licenses.FILE_SUFFIXES[report_format]
            headers["Content-Disposition"] = f'attachment; filename="jupyterlab-licenses{suffix}"'
        return Response(text, media_type=licenses.FORMATS[report_format], headers=headers)

    return [
        route("/lab/api/settings", get_settings, resource="settings"),
        route("/lab/api/settings/{schema_name:path}", get_settings, resource="settings"),
        route(
            "/lab/api/settings/{schema_name:path}",
            put_settings,
            methods=["PUT"],
            resource="settings",
        ),
        route("/lab/api/workspaces", get_workspaces, resource="workspaces"),
        route("/lab/api/workspaces/{space_name:path}", get_workspaces, resource="workspaces"),
        route(
            "/lab/api/workspaces/{space_name:path}",
            put_workspace,
            methods=["PUT"],
            resource="workspaces",
        ),
        route(
            "/lab/api/workspaces/{space_name:path}",
            delete_workspace,
            methods=["DELETE"],
            resource="workspaces",
        ),
        route("/lab/api/translations", get_translations, resource=RESOURCE),
        route("/lab/api/translations/{locale:path}", get_translations, resource=RESOURCE),
        route("/lab/api/listings/{path:path}", get_listings, resource=RESOURCE),
        route("/lab/api/licenses", get_licenses, resource=RESOURCE),
        route("/lab/api/licenses/", get_licenses, resource=RESOURCE),
    ]


def _workspace_name(request: Request) -> str:
    name: str = request.path_params["space_name"]
    if not name.strip("/"):
        raise http_error(400, "Name the workspace: /lab/api/workspaces/{name}")
    return name


def _bundles_pattern(text: str) -> re.Pattern[str]:
    """The ``bundles`` filter as a regular expression, or a 400.

    A quantified group (``(a+)+``) can backtrack for minutes on a bundle's name, so it is
    refused: bundle names need no more than literals, classes and plain repetition.
    """
    if len(text) > 200 or _QUANTIFIED_GROUP.search(text):
        raise http_error(400, "Invalid 'bundles' pattern: keep it short, without quantified groups")
    try:
        return re.compile(text)
    except re.error as exc:
        raise http_error(400, f"Invalid 'bundles' pattern: {exc}") from None


def _flag(query: Mapping[str, str], key: str, default: bool) -> bool:
    value = query.get(key)
    if value is None:
        return default
    if value.lower() in ("1", "true"):
        return True
    if value.lower() in ("0", "false"):
        return False
    raise http_error(400, f"Invalid {key!r}: use true or false")


async def _json_body(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request's JSON object, refusing (413) a body larger than ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise http_error(
            413, f"The document is larger than {max_bytes // 1024} KiB (lab.max_document_kb)"
        )
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise http_error(
                413, f"The document is larger than {max_bytes // 1024} KiB (lab.max_document_kb)"
            )
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise http_error(400, "No JSON data provided: the request body must be a JSON object")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise http_error(400, "Invalid JSON in request body") from None
    if not isinstance(body, dict):
        raise http_error(400, "The request body must be a JSON object")
    return body
