"""JSON error responses: ``{"message": ..., "reason": ...}`` everywhere, never a traceback."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from modserver.jsonbody import read_json_object

log = logging.getLogger("modserver.errors")


def json_error(status: int, message: str, reason: str | None = None) -> JSONResponse:
    """An error response in jupyter_server's shape."""
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = None
    return JSONResponse({"message": message, "reason": reason}, status_code=status)


def http_error(status: int, message: str) -> HTTPException:
    """An exception to raise from an endpoint; it becomes a JSON error response."""
    return HTTPException(status, detail=message)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Render an HTTPException (ours or Starlette's 404/405) as JSON."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    response = json_error(exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Log the traceback; answer 500 with no detail of the server's internals."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_error(500, "Internal server error; the server log has the details.")


async def json_object(request: Request, *, empty: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 JSON error saying what is wrong.

    ``empty=True`` reads an empty body as ``{}`` (for endpoints whose fields are all
    optional). Parsing is ``modserver.jsonbody``'s: strict JSON, nesting bounded.
    """
    return await read_json_object(request, empty=empty)
