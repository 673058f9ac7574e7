"""JSON input: the one parser for every request body and WebSocket frame the server reads.

Anything a client sends as JSON goes through ``loads``: strict JSON only (no ``NaN`` or
``Infinity``, which would be stored and then break every later response), valid UTF-8,
and nesting bounded (``MAX_DEPTH``), so a body nested 100,000 deep is a 400 here rather
than a ``RecursionError`` in whatever walks it next. ``read_json_object`` reads a request
body into one buffer (no list of chunks joined at the end) and parses it.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request

#: Deepest nesting of arrays and objects accepted. Real documents (notebooks, settings,
#: widget state, Vega specs) stay far below; serialisers and validators recurse per level.
MAX_DEPTH = 128


class InvalidJSON(ValueError):
    """Input that is not strict, bounded JSON; the message says what is wrong."""


class TooDeep(InvalidJSON):
    """JSON nested deeper than the bound."""


def loads(data: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON nested at most ``max_depth`` deep; ``InvalidJSON`` otherwise."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None
        raise InvalidJSON(f"Invalid JSON: {exc}") from None
    # Depth is at most the number of opening brackets: counting them is a C-speed scan,
    # and walking the parsed value is needed only when there are more than the bound.
    if isinstance(value, (dict, list)) and _brackets(data) > max_depth:
        _check_depth(value, max_depth)
    return value


def _brackets(data: bytes | bytearray | str) -> int:
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    return data.count(b"[") + data.count(b"{")


def _check_depth(value: dict[str, Any] | list[Any], max_depth: int) -> None:
    # Iterative on purpose: the point is to never recurse once per level.
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > max_depth:
            raise TooDeep(f"JSON nested deeper than {max_depth} levels")
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


async def read_body(request: Request) -> bytearray:
    """The request body in one growing buffer.

    Appending to one buffer keeps a large body at about its own size in memory (large
    buffers grow in place), where collecting chunks and joining them holds it twice. The
    body limit (``max_body_size``) is enforced by the core's body-limit middleware.
    """
    buffer = bytearray()
    async for chunk in request.stream():
        buffer += chunk
    return buffer


def parse_body(body: bytes | bytearray) -> Any:
    """A request body parsed by ``loads``; None for an empty body; 400 if not JSON."""
    # Not body.strip(): that would copy the whole body just to test it for emptiness.
    if not body or body.isspace():
        return None
    try:
        return loads(body)
    except TooDeep as exc:
        raise HTTPException(400, detail=f"Invalid JSON in body of request: {exc}") from None
    except InvalidJSON:
        raise HTTPException(400, detail="Invalid JSON in body of request") from None


async def read_json(request: Request) -> Any:
    """The request body parsed by ``loads``; None for an empty body; 400 if not JSON."""
    return parse_body(await read_body(request))


async def read_json_object(request: Request, *, empty: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong.

    ``empty=True`` reads an empty body as ``{}`` (for endpoints whose fields are all
    optional).
    """
    body = await read_json(request)
    if body is None:
        if empty:
            return {}
        raise HTTPException(
            400, detail="No JSON data provided: the request body must be a JSON object"
        )
    if not isinstance(body, dict):
        raise HTTPException(400, detail="The request body must be a JSON object")
    return body


def optional_string(body: dict[str, Any], key: str) -> str | None:
    """``body[key]`` when it is a string, None when it is absent or null; 400 otherwise."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise HTTPException(400, detail=f"Field {key!r} must be a string or null")
    return value
