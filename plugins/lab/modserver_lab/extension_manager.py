"""JupyterLab's Extension Manager: ``/lab/api/extensions`` for the prebuilt labextensions found.

A read-only manager (page config ``extensionManager``: ``can_install`` false): it lists the
labextensions discovery found (discovery.py), the disabled ones too, with what their
``package.json`` and ``install.json`` say, and switches them on and off for the calling
user (user_extensions.py). It never installs: nothing is fetched from the internet, a
search only filters what is installed, and ``install``/``uninstall`` answer 422 (install
the Python package with pip instead). Neighbours: plugin_manager.py (single plugins).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from modserver.errors import http_error
from modserver.jsonbody import read_json_object
from modserver.routing import route
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from modserver_lab.discovery import LabExtension
from modserver_lab.pages import app_prefix
from modserver_lab.runtime import LabRuntime
from modserver_lab.user_extensions import ACTION_DONE, Refused, write_choices
from modserver_lab.user_files import UserFolder

#: Role-table resource of both managers: everyone reads, owner and editors switch.
RESOURCE = "labextensions"

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
COMMANDS = ("install", "uninstall", "enable", "disable")


def extension_manager_routes(runtime: Callable[[], LabRuntime]) -> list[BaseRoute]:
    """``GET`` and ``POST /lab/api/extensions``."""

    async def list_extensions(request: Request) -> Response:
        lab = runtime()
        params = request.query_params
        query = params.get("query")
        page, per_page = _page_arguments(params.get("page"), params.get("per_page"))
        view = await lab.user_extensions(request, app_prefix(request))
        installed = sorted(lab.frontends.installed.values(), key=lambda ext: ext.name)

        def entries() -> list[dict[str, Any]]:
            return [
                extension_entry(ext, enabled=not view.is_disabled(ext.name)) for ext in installed
            ]

        found = await anyio.to_thread.run_sync(entries)
        if query is None:
            # The "Installed" list: everything, in one answer.
            return JSONResponse(found)
        matching = [entry for entry in found if _matches(entry, query)]
        last_page = max(1, math.ceil(len(matching) / per_page))
        shown = matching[(page - 1) * per_page : page * per_page]
        links = _pagination_links(request, query, page, per_page, last_page)
        return JSONResponse(shown, headers={"Link": links})

    async def change_extension(request: Request) -> Response:
        lab = runtime()
        body = await read_json_object(request)
        command = body.get("cmd")
        name = body.get("extension_name")
        if command not in COMMANDS or not isinstance(name, str) or not name:
            raise http_error(
                400,
                'The body must be {"cmd": "enable"|"disable"|"install"|"uninstall", '
                '"extension_name": "<name>"}',
            )
        if command in ("install", "uninstall"):
            raise http_error(
                422,
                f"This server does not {command} labextensions: {command} the Python package "
                f"that ships {name!r} with pip (or conda) in the server's environment, then "
                "restart the server",
            )
        if name not in lab.frontends.installed:
            raise http_error(404, f"No labextension {name!r} is installed")
        await record_choice(lab, request, name, disable=command == "disable")
        return JSONResponse(ACTION_DONE, status_code=201)

    return [
        route("/lab/api/extensions", list_extensions, resource=RESOURCE),
        route("/lab/api/extensions", change_extension, methods=["POST"], resource=RESOURCE),
    ]


async def record_choice(lab: LabRuntime, request: Request, name: str, *, disable: bool) -> None:
    """Switch labextension or plugin ``name`` off or on in the caller's own list.

    One change at a time per app (read, change, write); a refused change is a 4xx answer.
    """
    folder = lab.user_folder(request)
    async with lab.choices_lock:
        view = await lab.user_extensions(request, app_prefix(request))
        try:
            chosen = view.changed(name, disable=disable)
        except Refused as refused:
            raise http_error(refused.status, refused.message) from None
        await save_choices(folder, chosen)


async def save_choices(folder: UserFolder, chosen: frozenset[str]) -> None:
    """Write a user's list in a worker thread; a 4xx JSON answer if it cannot be written."""
    try:
        await anyio.to_thread.run_sync(write_choices, folder, chosen)
    except ValueError as exc:  # OutsideFolder: a planted link
        raise http_error(400, str(exc)) from None
    except OSError as exc:
        raise http_error(409, f"Could not save your choice: {exc.strerror or exc}") from None


def extension_entry(extension: LabExtension, *, enabled: bool) -> dict[str, Any]:
    """One labextension as the Extension Manager shows it (reads package.json, install.json)."""
    package = _read_object(extension.path / "package.json")
    install = _read_object(extension.path / "install.json")
    return {
        "name": extension.name,
        "description": _text(package.get("description")) or "",
        "homepage_url": _text(package.get("homepage")) or "",
        "pkg_type": "prebuilt",
        "allowed": True,
        "approved": False,
        "companion": _companion(extension),
        "core": False,
        "enabled": enabled,
        "install": {
            key: install[key]
            for key in ("packageManager", "packageName", "uninstallInstructions")
            if isinstance(install.get(key), str)
        }
        or None,
        "installed": True,
        "installed_version": extension.version,
        # Nothing is looked up on the internet: the installed version is the latest known.
        "latest_version": extension.version,
        "status": "ok",
        "author": _named(package.get("author")),
        "license": _text(package.get("license")),
        "bug_tracker_url": _url_of(package.get("bugs")),
        "documentation_url": None,
        "package_manager_url": None,
        "repository_url": _url_of(package.get("repository")),
    }


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _named(value: Any) -> str | None:
    """``"Name <mail>"`` or ``{"name": ...}``, as package.json has people."""
    return _text(value.get("name")) if isinstance(value, dict) else _text(value)


def _url_of(value: Any) -> str | None:
    """``"https://..."`` or ``{"url": ...}``, as package.json has bugs and repository."""
    return _text(value.get("url")) if isinstance(value, dict) else _text(value)


def _companion(extension: LabExtension) -> str | None:
    discovery = extension.jupyterlab.get("discovery")
    if not isinstance(discovery, dict):
        return None
    return "server" if "server" in discovery else "kernel" if "kernel" in discovery else None


def _matches(entry: dict[str, Any], query: str) -> bool:
    """Case-insensitive substring of the name, description or Python package name."""
    needle = query.strip().lower()
    install = entry["install"] or {}
    haystack = (entry["name"], entry["description"], install.get("packageName", ""))
    return any(needle in text.lower() for text in haystack)


def _page_arguments(page: str | None, per_page: str | None) -> tuple[int, int]:
    """``page`` (from 1) and ``per_page`` (at most 100, as jupyterlab's); 400 if not numbers."""
    try:
        number = int(page) if page is not None else 1
        size = int(per_page) if per_page is not None else DEFAULT_PER_PAGE
    except ValueError:
        raise http_error(400, "page and per_page must be whole numbers") from None
    if number < 1 or size < 1:
        raise http_error(400, "page and per_page start at 1")
    return number, min(size, MAX_PER_PAGE)


def _pagination_links(request: Request, query: str, page: int, per_page: int, last: int) -> str:
    """The ``Link`` header: first, last, and prev/next where they exist (RFC 8288)."""
    from urllib.parse import urlencode

    def link(number: int, rel: str) -> str:
        arguments = urlencode({"query": query, "page": number, "per_page": per_page})
        return f'<{request.url.replace(query=arguments)}>; rel="{rel}"'

    links = [link(last, "last")]
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    if page < last:
        links.append(link(page + 1, "next"))
    links.append(link(1, "first"))
    return ", ".join(links)
