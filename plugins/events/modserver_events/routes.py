"""``POST /api/events`` (emit) and the ``/api/events/subscribe`` WebSocket, as jupyter_server 2.x.

POST takes ``{"schema_id", "version", "data", "timestamp"?}`` and answers 204, or 400 for
a missing field, an unregistered schema or version, invalid data or a bad timestamp. A
subscriber receives each event as a JSON text frame ``{"schema_id": ..., **data}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from modserver import ServerControl
from modserver.errors import http_error, json_object
from modserver.routing import route, websocket_route
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket

from modserver_events.bus import EventBus
from modserver_events.subscriber import OpenSubscribers, serve_subscriber

RESOURCE = "events"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%zZ"  # jupyter_server's, e.g. 2022-05-26T13:50:00+05:00Z


def event_routes(
    bus: Callable[[], EventBus], queue_limit: int, server: ServerControl
) -> list[BaseRoute]:
    """The routes over ``bus()``, the running bus of the app serving them."""
    subscribers = OpenSubscribers()
    # Open subscriber sockets would hold the server's graceful stop until its time limit.
    server.on_stopping(subscribers.close_all)

    async def post_event(request: Request) -> Response:
        body = await json_object(request)
        for key in ("schema_id", "version", "data"):
            if key not in body:
                raise http_error(400, f"Missing `{key}` in the JSON request body.")
        schema_id, data = body["schema_id"], body["data"]
        if not isinstance(schema_id, str):
            raise http_error(400, "`schema_id` must be a string")
        if not isinstance(data, dict):
            raise http_error(400, "`data` must be a JSON object")
        running = bus()
        registered = running.schema_version(schema_id)  # 400 when unregistered
        if str(body["version"]) != registered:
            raise http_error(
                400, f"Unregistered version: {body['version']!r}≠{registered!r} for `{schema_id}`"
            )
        running.emit(schema_id, data, timestamp=_timestamp(body))  # 400 when invalid
        return Response(status_code=204)

    async def subscribe(websocket: WebSocket) -> None:
        await serve_subscriber(websocket, bus(), queue_limit, subscribers)

    # Emitting speaks for the server to every subscriber: "write" (owner-only unless the
    # role table grants more); following the events is reading.
    return [
        route("/api/events", post_event, methods=["POST"], resource=RESOURCE),
        websocket_route("/api/events/subscribe", subscribe, resource=RESOURCE, action="read"),
    ]


def _timestamp(body: dict[str, Any]) -> datetime | None:
    value = body.get("timestamp")
    if value is None:
        return None
    try:
        return datetime.strptime(str(value), TIMESTAMP_FORMAT)
    except ValueError:
        raise http_error(
            400,
            "Failed to parse the timestamp: an ISO datetime with a UTC offset is expected, "
            "e.g. 2022-05-26T13:50:00+05:00Z",
        ) from None
