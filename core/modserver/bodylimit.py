"""The request body limits: over-limit bodies are refused, not read; stalled ones end.

A declared ``Content-Length`` over the limit (``max_body_size``) is answered 413 before a
byte of the body is read; a body without one (chunked) is counted as it arrives and
refused once it passes the limit. A body that goes ``body_timeout`` seconds without data
is answered 408: a client that sends its headers and then nothing (before any login, too)
cannot hold a connection and its handler for ever. Outermost but for the scope
middleware, so no plugin reads an over-limit or stalled body.
"""

from __future__ import annotations

import json

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _too_large(limit: int) -> str:
    return (
        f"Request body is larger than the server's limit of {limit} bytes (setting max_body_size)"
    )


class BodyLimitMiddleware:
    """Refuse HTTP request bodies larger than ``limit`` bytes with 413, and bodies that go
    ``timeout`` seconds without data (0: never) with 408."""

    def __init__(self, app: ASGIApp, *, limit: int, timeout: float = 0) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await _answer(send, 400, "Invalid Content-Length header")
            return
        # Only a request that has a body to wait for (most, GETs, have none): no timer
        # on the path of every request.
        if self.timeout and (declared or (declared is None and _chunked(scope))):
            receive = self._timed(receive)
        if declared is not None:
            if declared > self.limit:
                await _answer(send, 413, _too_large(self.limit))
                return
            # The server stops at the declared length: nothing more to count.
            await self.app(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _timed(self, receive: Receive) -> Receive:
        complete = stalled = False

        async def timed() -> Message:
            nonlocal complete, stalled
            if stalled:  # answered 408: whoever reads on (draining it) hears the end
                return {"type": "http.disconnect"}
            if complete:  # after the body: waiting for a disconnect is no stall
                return await receive()
            with anyio.move_on_after(self.timeout):
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    complete = True
                return message
            stalled = True
            # Raised into the reader: the app's error handling answers 408.
            raise HTTPException(
                408,
                detail=f"The request body sent no data for {self.timeout:g} s "
                "(setting body_timeout)",
            )

        return timed

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Raised into the reader: the app's error handling answers 413.
                    raise HTTPException(413, detail=_too_large(self.limit))
            return message

        return counted


def _chunked(scope: Scope) -> bool:
    """True if the body comes in chunks (``Transfer-Encoding: chunked``)."""
    return any(
        name == b"transfer-encoding" and b"chunked" in value.lower()
        for name, value in scope["headers"]
    )


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None if not declared, -1 if not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


async def _answer(send: Send, status: int, message: str) -> None:
    reason = "Payload Too Large" if status == 413 else "Bad Request"
    body = json.dumps({"message": message, "reason": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
