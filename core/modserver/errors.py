"""JSON error responses: ``{"message": ..., "reason": ...}`` everywhere, never a traceback.

``RequestError`` is what services raise when the request is at fault (``ContentsError``,
``KernelNotFound``, ...): whichever plugin's route lets one escape, the app answers it
with its status as a JSON error, as it does an ``HTTPException``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketState

from modserver.jsonbody import read_json_object

log = logging.getLogger("modserver.errors")


class RequestError(Exception):
    """A service refused a request because of the request (a 4xx, usually).

    Raised from any route, it becomes the JSON error ``{"message", "reason"}`` with
    ``status_code``. Subclasses set a class-level ``status_code`` (404 for a missing
    kernel); ``reason`` defaults to the status's phrase.
    """

    status_code: int = 400

    def __init__(
        self, message: str, *, status_code: int | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.reason = reason


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


async def handle_request_error(conn: Request | WebSocket, exc: Exception) -> Response | None:
    """Render a service's ``RequestError`` as the JSON error of its status.

    On a WebSocket, close it (refusing the handshake if it was not accepted yet).
    """
    assert isinstance(exc, RequestError)
    if isinstance(conn, WebSocket):
        if conn.application_state != WebSocketState.DISCONNECTED:
            code = 1011 if exc.status_code >= 500 else 1008
            await conn.close(code=code, reason=exc.message[:120])
        return None
    return json_error(exc.status_code, exc.message, exc.reason)


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
