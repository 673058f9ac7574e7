"""The kernels plugin's part of ``/api/spec.yaml``; keep it true to routes.py and specs.py."""

from __future__ import annotations

from typing import Any


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/KernelsError"}, description)


_KERNEL = {"$ref": "#/components/schemas/Kernel"}
_KERNEL_ID = {"name": "kernel_id", "in": "path", "required": True, "schema": {"type": "string"}}
_SPEC_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


def fragment() -> dict[str, Any]:
    """A fresh fragment (the core merges it into a shared document)."""
    missing = _error("No such kernel")
    return {
        "paths": {
            "/api/kernels": {
                "get": {
                    "summary": "List running kernels",
                    "tags": ["kernels"],
                    "responses": {"200": _json({"type": "array", "items": _KERNEL}, "Kernels")},
                },
                "post": {
                    "summary": "Start a kernel (name: kernelspec; path: folder to start in)",
                    "tags": ["kernels"],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "name": {"type": "string"},
                                        "path": {"type": "string"},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "201": _json(_KERNEL, "The started kernel"),
                        "400": _error("Bad request body"),
                        "404": _error("No such kernelspec"),
                    },
                },
            },
            "/api/kernels/{kernel_id}": {
                "parameters": [_KERNEL_ID],
                "get": {
                    "summary": "A kernel's model",
                    "tags": ["kernels"],
                    "responses": {"200": _json(_KERNEL, "The kernel"), "404": missing},
                },
                "delete": {
                    "summary": "Shut a kernel down",
                    "tags": ["kernels"],
                    "responses": {"204": {"description": "Shut down"}, "404": missing},
                },
            },
            "/api/kernels/{kernel_id}/interrupt": {
                "parameters": [_KERNEL_ID],
                "post": {
                    "summary": "Interrupt a kernel",
                    "tags": ["kernels"],
                    "responses": {
                        "204": {"description": "Interrupted"},
                        "404": missing,
                        "409": _error("The kernel is restarting or shutting down"),
                    },
                },
            },
            "/api/kernels/{kernel_id}/restart": {
                "parameters": [_KERNEL_ID],
                "post": {
                    "summary": "Restart a kernel and wait until it answers",
                    "description": (
                        "A restart already under way is joined: concurrent requests all "
                        "answer with its outcome."
                    ),
                    "tags": ["kernels"],
                    "responses": {
                        "200": _json(_KERNEL, "The restarted kernel"),
                        "404": missing,
                        "409": _error("The kernel was shut down before or during the restart"),
                        "500": _error("The kernel did not come back"),
                    },
                },
            },
            "/api/kernels/{kernel_id}/channels": {
                "parameters": [
                    _KERNEL_ID,
                    {"name": "session_id", "in": "query", "schema": {"type": "string"}},
                ],
                "get": {
                    "summary": "Kernel WebSocket (v1.kernel.websocket.jupyter.org or legacy JSON)",
                    "tags": ["kernels"],
                    "responses": {
                        "101": {"description": "Switching to the WebSocket protocol"},
                        "404": missing,
                    },
                },
            },
            "/api/kernelspecs": {
                "get": {
                    "summary": "Installed kernelspecs and the default",
                    "tags": ["kernelspecs"],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "default": {"type": "string"},
                                    "kernelspecs": {
                                        "type": "object",
                                        "additionalProperties": {
                                            "$ref": "#/components/schemas/KernelSpec"
                                        },
                                    },
                                },
                            },
                            "Kernelspecs",
                        )
                    },
                }
            },
            "/api/kernelspecs/{name}": {
                "parameters": [_SPEC_NAME],
                "get": {
                    "summary": "One kernelspec",
                    "tags": ["kernelspecs"],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/KernelSpec"}, "Kernelspec"),
                        "404": _error("No such kernelspec"),
                    },
                },
            },
            "/kernelspecs/{name}/{file}": {
                "parameters": [
                    _SPEC_NAME,
                    {"name": "file", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "get": {
                    "summary": "A kernelspec resource file (logo, kernel.js)",
                    "tags": ["kernelspecs"],
                    "responses": {"200": {"description": "The file"}, "404": _error("No file")},
                },
            },
        },
        "components": {
            "schemas": {
                "Kernel": {
                    "type": "object",
                    "required": ["id", "name", "last_activity", "execution_state", "connections"],
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "last_activity": {"type": "string", "format": "date-time"},
                        "execution_state": {"type": "string"},
                        "connections": {"type": "integer"},
                        "reason": {"type": "string"},
                    },
                },
                "KernelSpec": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "spec": {"type": "object"},
                        "resources": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                    },
                },
                "KernelsError": {
                    "type": "object",
                    "properties": {"message": {"type": "string"}, "reason": {"type": "string"}},
                },
            }
        },
    }
