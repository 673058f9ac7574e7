"""A browser's kernel WebSocket relayed to the kernel gateway, frame for frame.

The gateway's handshake is made first, with the subprotocol the browser offered (v1 or
legacy): the browser is accepted with what the gateway chose, so both ends speak the same
protocol and frames pass through unparsed, text as text and binary as binary. A
gateway that refuses (unknown kernel, wrong token) or cannot be reached refuses the
browser's handshake with a JSON message naming the gateway.
"""

from __future__ import annotations

import contextlib
import logging

import anyio
from modserver.errors import RequestError
from modserver.routing import refuse_websocket
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import WebSocketException

from modserver_kernels.gateway import GatewayKernels
from modserver_kernels.wire import V1_PROTOCOL

log = logging.getLogger("modserver.kernels")

_PEER_GONE = (OSError, RuntimeError, WebSocketDisconnect, WebSocketException)


async def relay_channels(websocket: WebSocket, gateway: GatewayKernels) -> None:
    """Relay one kernel WebSocket between the browser and the gateway until either closes."""
    kernel_id = websocket.path_params["kernel_id"]
    offered = websocket.scope.get("subprotocols") or []
    wanted = [V1_PROTOCOL] if gateway.settings.v1_protocol and V1_PROTOCOL in offered else []
    query = websocket.scope.get("query_string", b"").decode("latin-1")
    try:
        upstream = await gateway.open_channels(kernel_id, query, wanted)
    except RequestError as exc:
        await refuse_websocket(websocket, exc.status_code, exc.message)
        return
    async with upstream:
        await websocket.accept(subprotocol=upstream.subprotocol)
        gateway.relays += 1
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_to_browser, upstream, websocket, group.cancel_scope)
                await _to_gateway(websocket, upstream)
                group.cancel_scope.cancel()
        finally:
            gateway.relays -= 1
    # The gateway closed first (kernel shut down): tell the browser, if it still listens.
    # Codes that only report a missing or broken close frame cannot be sent on.
    code = upstream.close_code
    if code is None or code in (1005, 1006, 1015):
        code = 1011
    with anyio.move_on_after(2), contextlib.suppress(*_PEER_GONE):
        await websocket.close(code=code)


async def _to_gateway(websocket: WebSocket, upstream: ClientConnection) -> None:
    """Browser frames to the gateway until the browser disconnects or the gateway fails."""
    with contextlib.suppress(*_PEER_GONE):
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                return
            data = event.get("bytes")
            if data is None:
                data = event.get("text")
            if data is not None:
                await upstream.send(data)


async def _to_browser(
    upstream: ClientConnection, websocket: WebSocket, scope: anyio.CancelScope
) -> None:
    """Gateway frames to the browser; when the gateway's side ends, the relay ends."""
    try:
        with contextlib.suppress(*_PEER_GONE):
            async for frame in upstream:
                if isinstance(frame, bytes):
                    await websocket.send({"type": "websocket.send", "bytes": frame})
                else:
                    await websocket.send({"type": "websocket.send", "text": frame})
    finally:
        scope.cancel()
