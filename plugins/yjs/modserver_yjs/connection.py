"""One room WebSocket: ``/api/collaboration/room/{room_id}`` as @jupyter/docprovider uses it.

The client of a document room passes the server run's ``sessionId`` (from the session
PUT); one from an earlier run is closed with 1003 and a JSON reason the frontend turns into
"Session expired, reload". A document that cannot be loaded closes with 4404/4400/4500,
which the frontend shows before the first sync. Frames go to the room; the room's messages
for this client leave through its bounded queue, drained by a sender task.
"""

from __future__ import annotations

import json
import logging

import anyio
from modserver.api.auth import User
from starlette.websockets import WebSocket, WebSocketDisconnect

from modserver_yjs import protocol
from modserver_yjs.room import Client, Room
from modserver_yjs.room_ids import RoomOpenError, parse_room_id
from modserver_yjs.rooms import RoomRegistry

log = logging.getLogger("modserver.yjs")

SESSION_EXPIRED = 1003
GOING_AWAY = 1001
TOO_SLOW = 1013  # "try again later": the client fell too far behind


async def serve_room(
    websocket: WebSocket,
    registry: RoomRegistry,
    room_id: str,
    user: User,
    *,
    writable: bool,
    may_trust: bool = False,
) -> None:
    """Serve one client of room ``room_id`` until either side closes."""
    await websocket.accept()
    session_id = websocket.query_params.get("sessionId", "")
    if parse_room_id(room_id) is not None and session_id != registry.session_id:
        # The client's document came from another server run: its Yjs history is not ours,
        # and merging it would double the content. The frontend offers a reload.
        reason = {"reason": "unknown_session", "sessionId": session_id[:64], "reloadable": True}
        await websocket.close(SESSION_EXPIRED, json.dumps(reason, separators=(",", ":")))
        return
    client = Client(
        user,
        writable=writable,
        queue_messages=registry.settings.client_queue_messages,
        may_trust=may_trust,
    )
    try:
        room = await registry.join(room_id, client)
    except RoomOpenError as exc:
        client.dispose()
        await websocket.close(exc.code, exc.message[:120])
        return
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_send_queued, websocket, client, tg.cancel_scope)
            tg.start_soon(_drop_when_behind, room, client, tg.cancel_scope)
            await _receive(websocket, room, client)
            tg.cancel_scope.cancel()
    finally:
        room.leave(client)


async def _receive(websocket: WebSocket, room: Room, client: Client) -> None:
    while True:
        try:
            message = await websocket.receive()
        except WebSocketDisconnect:
            return
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes")
        if not data:
            continue  # y-websocket sends binary frames only
        try:
            request = room.receive(client, data)
        except protocol.ProtocolError as exc:
            log.info("room %s: dropping a malformed message (%s)", room.room_id, exc)
            continue
        if request is not None and request.name == "save":
            status = await room.save_request()
            reply = {"type": "save", "responseTo": request.request_id, "status": status}
            client.send(protocol.raw_json(reply))


async def _drop_when_behind(room: Room, client: Client, scope: anyio.CancelScope) -> None:
    # A client that stopped reading may hold its sender in a send that never drains: leave
    # the room at once rather than after the queue it will never read.
    await client.dropped.wait()
    log.info("room %s: dropping a client of %s too far behind", room.room_id, client.user.username)
    scope.cancel()


async def _send_queued(websocket: WebSocket, client: Client, scope: anyio.CancelScope) -> None:
    try:
        async with client.outbox:
            async for message in client.outbox:
                await websocket.send_bytes(message)
        # The queue was closed: the client is too slow, or the server is stopping.
        code = TOO_SLOW if client.overflowed else GOING_AWAY
        await websocket.close(code)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client is gone
    scope.cancel()
