"""The contents plugin's OpenAPI fragment: every route it serves, merged into /api/spec.yaml."""

from __future__ import annotations

from typing import Any

_PATH = {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
_CHECKPOINT = {
    "name": "checkpoint_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}
_MODEL = {"$ref": "#/components/schemas/Contents"}
_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"type": "object"}}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _contents_ops() -> dict[str, Any]:
    model_response = _json(_MODEL, "The model (no content)")
    body = {"content": {"application/json": {"schema": {"type": "object"}}}, "required": False}
    return {
        "get": {
            "summary": "Get a file, notebook or folder model",
            "parameters": [
                {"name": "type", "in": "query", "schema": {"type": "string"}},
                {"name": "format", "in": "query", "schema": {"enum": ["text", "base64"]}},
                {"name": "content", "in": "query", "schema": {"enum": ["0", "1"]}},
                {"name": "hash", "in": "query", "schema": {"enum": ["0", "1"]}},
            ],
            "responses": {"200": _json(_MODEL, "The model"), "400": _ERROR, "404": _ERROR},
        },
        "post": {
            "summary": "Create an untitled file, notebook or folder, or copy (copy_from)",
            "requestBody": body,
            "responses": {"201": model_response, "400": _ERROR, "404": _ERROR},
        },
        "put": {
            "summary": "Save (200) or create (201); chunked upload with chunk 1..n, -1 last",
            "requestBody": body,
            "responses": {"200": model_response, "201": model_response, "400": _ERROR},
        },
        "patch": {
            "summary": "Rename or move (body: {path})",
            "requestBody": body,
            "responses": {"200": model_response, "404": _ERROR, "409": _ERROR},
        },
        "delete": {
            "summary": "Delete (to the trash when configured)",
            "responses": {"204": {"description": "Deleted"}, "400": _ERROR, "404": _ERROR},
        },
    }


def _with_errors(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation may answer 400 (bad path or body), 403 (outside root) or 404."""
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                for status in ("400", "403", "404"):
                    operation["responses"].setdefault(status, _ERROR)
    return paths


def fragment() -> dict[str, Any]:
    """The paths and schemas of /api/contents and /files."""
    checkpoint = {"type": "object", "properties": {"id": {}, "last_modified": {}}}
    root_ops = _contents_ops()
    ops = _contents_ops()
    for op in ops.values():
        op["parameters"] = [*op.get("parameters", []), _PATH]
    return {
        "paths": _with_errors(
            {
                "/api/contents": root_ops,
                "/api/contents/{path}": ops,
                "/api/contents/{path}/checkpoints": {
                    "parameters": [_PATH],
                    "get": {
                        "summary": "List checkpoints",
                        "responses": {"200": _json({"type": "array", "items": checkpoint}, "List")},
                    },
                    "post": {
                        "summary": "Create a checkpoint",
                        "responses": {"201": _json(checkpoint, "The checkpoint"), "404": _ERROR},
                    },
                },
                "/api/contents/{path}/checkpoints/{checkpoint_id}": {
                    "parameters": [_PATH, _CHECKPOINT],
                    "post": {
                        "summary": "Restore a checkpoint",
                        "responses": {"204": {"description": "Restored"}, "404": _ERROR},
                    },
                    "delete": {
                        "summary": "Delete a checkpoint",
                        "responses": {"204": {"description": "Deleted"}, "404": _ERROR},
                    },
                },
                "/files/{path}": {
                    "parameters": [_PATH],
                    "get": {
                        "summary": "Raw file bytes (attachment with ?download)",
                        "responses": {"200": {"description": "The file"}, "404": _ERROR},
                    },
                },
            }
        ),
        "components": {
            "schemas": {
                "Contents": {
                    "type": "object",
                    "required": ["name", "path", "type", "writable", "created", "last_modified"],
                    "properties": {
                        "name": {"type": "string"},
                        "path": {"type": "string"},
                        "type": {"enum": ["directory", "file", "notebook"]},
                        "writable": {"type": "boolean"},
                        "created": {"type": "string", "format": "date-time"},
                        "last_modified": {"type": "string", "format": "date-time"},
                        "size": {"type": ["integer", "null"]},
                        "mimetype": {"type": ["string", "null"]},
                        "content": {},
                        "format": {"type": ["string", "null"]},
                        "hash": {"type": ["string", "null"]},
                        "hash_algorithm": {"type": ["string", "null"]},
                    },
                }
            }
        },
    }
