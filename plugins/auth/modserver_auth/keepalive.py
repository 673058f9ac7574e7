"""Keep connections usable when a request is refused before its body was read.

The guard answers 401/403 (and the router 404/405) without reading the request body.
hypercorn then cannot reuse the connection and closes it right after the response; a
client that already sent its next request on it sees "server disconnected" (measured: about
1 in 100 refused PATCHes). So before the last response message we read and drop what is
left of a small body; for a large one we say ``Connection: close`` instead.
"""

from __future__ import annotations

from modserver.request_headers import header
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bodies up to this size are read and dropped; larger ones close the connection.
DRAIN_LIMIT = 1024 * 1024


class UnreadBodyMiddleware:
    """Drains small unread request bodies; marks the connection closed for large ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        chunked = "chunked" in (header(scope, b"transfer-encoding") or "").lower()
        if not chunked and (length is None or length == "0"):
            await self.app(scope, receive, send)
            return
        # A client waiting for "100 Continue" has not sent its body: do not ask for it.
        waiting = (header(scope, b"expect") or "").lower() == "100-continue"
        small = (
            not chunked
            and not waiting
            and length is not None
            and length.isdigit()
            and int(length) <= DRAIN_LIMIT
        )
        body_done = False

        async def tracking_receive() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_done = True
            return message

        async def draining_send(message: Message) -> None:
            nonlocal body_done
            if message["type"] == "http.response.start" and not body_done and not small:
                MutableHeaders(scope=message)["connection"] = "close"
            elif (
                message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and not body_done
                and small
            ):
                while not body_done:
                    await tracking_receive()
            await send(message)

        await self.app(scope, tracking_receive, draining_send)
