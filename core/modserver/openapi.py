"""Merge the OpenAPI fragments of the core and every enabled plugin into one document."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

CORE_PATHS: dict[str, Any] = {
    "/api": {
        "get": {
            "summary": "Server version (no authentication needed)",
            "security": [],
            "responses": {
                "200": {
                    "description": "Version",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"version": {"type": "string"}},
                            }
                        }
                    },
                }
            },
        }
    },
    "/api/status": {
        "get": {
            "summary": "Server status: start time, last activity, plugin fields",
            "responses": {
                "200": {
                    "description": "Status",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["started", "last_activity"],
                                "properties": {
                                    "started": {"type": "string", "format": "date-time"},
                                    "last_activity": {"type": "string", "format": "date-time"},
                                },
                            }
                        }
                    },
                },
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        }
    },
    "/api/spec.yaml": {
        "get": {
            "summary": "This OpenAPI document",
            "responses": {"200": {"description": "OpenAPI document (YAML)"}},
        }
    },
    "/api/shutdown": {
        "post": {
            "summary": "Shut the server down gracefully (owner only)",
            "responses": {
                "202": {"description": "Shutting down"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
            },
        }
    },
}

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}, "reason": {"type": ["string", "null"]}},
}


#: A path parameter, with Starlette's optional convertor: ``{path:path}`` documents as ``{path}``.
PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class ServedOperations:
    """What an app's routes serve, as OpenAPI names operations (``GET /api/x/{id}``)."""

    operations: frozenset[str]
    #: Mounted paths, ending in ``/``: every path under one is served.
    mounts: tuple[str, ...]


def served_operations(route_keys: Iterable[str]) -> ServedOperations:
    """The operations of an app's routes, as ``modserver.routing.route_keys`` names them.

    A WebSocket route serves GET (its handshake), a mount every path under it. Made once
    per app and checked against every plugin's fragment.
    """
    served: set[str] = set()
    mounts: list[str] = []
    for key in route_keys:
        kind, _, path = key.partition(" ")
        path = PARAMETER.sub(r"{\1}", path)
        if kind == "MOUNT":
            mounts.append(path.rstrip("/") + "/")
        else:
            served.add(f"{'GET' if kind == 'WS' else kind} {path}")
    return ServedOperations(frozenset(served), tuple(mounts))


def unserved_operations(fragment: dict[str, Any], served: ServedOperations) -> list[str]:
    """The operations of an OpenAPI fragment (``GET /api/x``) that no route serves."""
    missing = []
    for path, item in (fragment.get("paths") or {}).items():
        documented = PARAMETER.sub(r"{\1}", str(path))
        for method in item or {}:
            if method not in HTTP_METHODS:
                continue
            operation = f"{method.upper()} {documented}"
            if operation not in served.operations and not documented.startswith(served.mounts):
                missing.append(operation)
    return missing


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def component_conflicts(fragments: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One message per component a plugin defines that the core or another plugin defines
    differently: the merged document keeps one, so the others' ``$ref`` would change."""
    owners: dict[tuple[str, str], tuple[str, Any]] = {
        (kind, name): ("the core", value)
        for kind, items in _core_document("0")["components"].items()
        for name, value in items.items()
    }
    problems = []
    for plugin, fragment in fragments:
        for kind, items in (fragment.get("components") or {}).items():
            for name, value in (items or {}).items():
                owner = owners.setdefault((kind, name), (f"plugin {plugin!r}", value))
                if owner[1] != value:
                    problems.append(
                        f"plugin {plugin!r} defines components.{kind}.{name} in its OpenAPI "
                        f"fragment, which {owner[0]} defines differently: give yours its own "
                        f"name (e.g. {_camel(plugin)}{name}), or $ref the existing one"
                    )
    return problems


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name))


def merge(version: str, fragments: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One OpenAPI 3.0 document from the core's paths and each plugin's fragment.

    Path items merge per method: two plugins may document different methods of one path.
    """
    document = _core_document(version)
    for _plugin, fragment in fragments:
        for path, item in (fragment.get("paths") or {}).items():
            document["paths"].setdefault(path, {}).update(item or {})
        for kind, items in fragment.get("components", {}).items():
            document["components"].setdefault(kind, {}).update(items)
    _document_guard_errors(document["paths"])
    return document


def _core_document(version: str) -> dict[str, Any]:
    """The document before any plugin's fragment: the core's paths and components."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "modserver", "version": version},
        "security": [{"token": []}],
        "paths": copy.deepcopy(CORE_PATHS),
        "components": {
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "schemas": {"Error": ERROR_SCHEMA},
            "responses": {
                "BadRequest": _error("Invalid input"),
                "Unauthorized": _error("Authentication required"),
                "Forbidden": _error("Not allowed"),
                "NotFound": _error("No such resource"),
                "Conflict": _error("Conflicts with the current state"),
            },
        },
    }


def _document_guard_errors(paths: dict[str, Any]) -> None:
    """Every guarded operation may answer 401 or 403 (the guard runs before the endpoint)."""
    for item in paths.values():
        for method, operation in item.items():
            if method not in HTTP_METHODS or operation.get("security") == []:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", {"$ref": "#/components/responses/Unauthorized"})
            responses.setdefault("403", {"$ref": "#/components/responses/Forbidden"})


@cache
def _packaged(package: str, resource: str) -> dict[str, Any]:
    from pathlib import Path

    from modserver.packaged_yaml import load_packaged_yaml, parse_yaml

    found = files(package).joinpath(resource)
    if isinstance(found, Path):
        # Parsed once per installed file and kept on disk: read at every start (to check
        # the fragments against the routes), YAML parsing took ~30 ms of it.
        document = load_packaged_yaml(found)
    else:  # a package in a zip file: parse it here
        document = parse_yaml(found.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{package}/{resource} is not an OpenAPI fragment (a mapping)")
    return document


def packaged_fragment(package: str, resource: str = "openapi.yaml") -> dict[str, Any]:
    """A fresh copy of the OpenAPI fragment a plugin ships as a file in its package.

    Read once; the copy is the caller's (the core merges fragments into one document).
    A plugin's ``modserver_openapi`` hook can simply return
    ``packaged_fragment("my_plugin")``.
    """
    return copy.deepcopy(_packaged(package, resource))
