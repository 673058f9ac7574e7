"""The request body limit (``max_body_size``): over-limit bodies are refused, not read.

A declared ``Content-Length`` over the limit is answered 413 before a byte of the body is
read; a body without one (chunked) is counted as it arrives and refused once it passes the
limit. Outermost but for the scope middleware, so no plugin reads an over-limit body.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _too_large(limit: int) -> str:
    return (
        f"Request body is larger than the server's limit of {limit} bytes (setting max_body_size)"
    )


class BodyLimitMiddleware:
    """Refuse HTTP request bodies larger than ``limit`` bytes with 413."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await _answer(send, 400, "Invalid Content-Length header")
            return
        if declared is not None:
            if declared > self.limit:
                await _answer(send, 413, _too_large(self.limit))
                return
            # The server stops at the declared length: nothing more to count.
            await self.app(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

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
