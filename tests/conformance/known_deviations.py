"""Every place where jupyter_server's own OpenAPI file is wrong about jupyter_server.

modserver follows jupyter_server's real behaviour, not its ``services/api/api.yaml``
where the two disagree. Each ``SpecCorrection`` below names the spot, says why the file
is wrong, and corrects a copy of the file before schemathesis reads it; nothing else in
the conformance tests bends the rules. ``NOT_SERVED`` lists the operations of that file
which modserver has no plugin for (yet), with the reason; they are left out of the run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Spec = dict[str, Any]

#: The error body jupyter_server really sends (``APIHandler.write_error``).
REAL_ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "reason": {"type": "string", "x-nullable": True},
    },
}


@dataclass(frozen=True)
class SpecCorrection:
    """One error in jupyter_server's api.yaml, and how the copy we test against is fixed."""

    where: str
    reason: str
    apply: Callable[[Spec], None]


def _responses(spec: Spec) -> list[dict[str, Any]]:
    return [
        response
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
    ]


def _real_error_bodies(spec: Spec) -> None:
    for response in _responses(spec):
        properties = response.get("schema", {}).get("properties", {})
        if "error" in properties:
            response["schema"] = copy.deepcopy(REAL_ERROR)


def _nullable(definition: str, *fields: str) -> Callable[[Spec], None]:
    def apply(spec: Spec) -> None:
        for name in fields:
            spec["definitions"][definition]["properties"][name]["x-nullable"] = True

    return apply


def _contents_content_any_type(spec: Spec) -> None:
    content = spec["definitions"]["Contents"]["properties"]["content"]
    content.pop("type", None)
    content["x-nullable"] = True


def _config_put(spec: Spec) -> None:
    item = spec["paths"]["/api/config/{section_name}"]
    item["put"] = {
        "summary": "Replace a configuration section",
        "tags": ["config"],
        "parameters": [
            {"$ref": "#/parameters/section_name"},
            {"name": "configuration", "in": "body", "schema": {"type": "object"}},
        ],
        "responses": {204: {"description": "Section replaced"}},
    }


def _spec_yaml_is_a_document(spec: Spec) -> None:
    spec["paths"]["/api/spec.yaml"]["get"]["responses"][200].pop("schema", None)


SPEC_CORRECTIONS: list[SpecCorrection] = [
    SpecCorrection(
        "every 400 response documented as {error, reason}",
        "jupyter_server's APIHandler.write_error sends {message, reason} (reason may be "
        "null); no handler sends an 'error' key. The corrected schema requires 'message'.",
        _real_error_bodies,
    ),
    SpecCorrection(
        "definitions/Contents: content",
        "Typed 'string', but the content of a directory is an array of models, of a "
        "notebook an object, and null when content=0 was asked.",
        _contents_content_any_type,
    ),
    SpecCorrection(
        "definitions/Contents: mimetype, format, size, hash, hash_algorithm",
        "Documented as strings/integers, but jupyter_server sends null: no mimetype or size "
        "for directories and notebooks, no format without content, no hash unless asked.",
        _nullable("Contents", "mimetype", "format", "size", "hash", "hash_algorithm"),
    ),
    SpecCorrection(
        "definitions/Session: name, type",
        "A session created without a name (JupyterLab consoles) has name null; the "
        "session table stores whatever the client sent, null included.",
        _nullable("Session", "name", "type"),
    ),
    SpecCorrection(
        "definitions/Identity: initials, avatar_url, color",
        "The file's own descriptions say 'May be null if unavailable', yet the type is a "
        "plain string; GET /api/me sends null for them by default.",
        _nullable("Identity", "initials", "avatar_url", "color"),
    ),
    SpecCorrection(
        "PUT /api/config/{section_name}",
        "jupyter_server's ConfigHandler serves PUT (replace, 204) but the file omits it; "
        "added so the run covers it too.",
        _config_put,
    ),
    SpecCorrection(
        "GET /api/spec.yaml 200: schema type file",
        "The body is a YAML document (text/x-yaml, as documented); a validator that parses "
        "it sees an object, never the 'file' string the schema asks for. The media type "
        "is still checked.",
        _spec_yaml_is_a_document,
    ),
]

#: Statuses with no body: the file's global ``produces: application/json`` does not
#: apply to them (jupyter_server, through tornado, sends no Content-Type with a 204).
BODILESS_STATUSES: dict[int, str] = {
    204: "No Content: no body, hence no Content-Type (RFC 9110 section 15.3.5)",
    304: "Not Modified: no body",
}

#: Path templates of jupyter_server's file that modserver does not serve, and why.
NOT_SERVED: dict[str, str] = {}


def corrected(spec: Spec) -> Spec:
    """A copy of jupyter_server's spec with every correction above applied."""
    fixed = copy.deepcopy(spec)
    for correction in SPEC_CORRECTIONS:
        correction.apply(fixed)
    return fixed
