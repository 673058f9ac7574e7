"""Data frames that modserver writes itself under hypercorn arrive as sent, in every size
class and mix, with a real WebSocket client; other servers get one message at a time.

An app with one WebSocket route sends the same messages twice, first in one
``send_messages`` call (one event where the server advertises it), then one by one, and
finally which scope extensions it saw. It is served in this process by hypercorn (the
adaptation installed, as ``assemble`` does) and by uvicorn (no adaptation there).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from modserver.websocket_frames import (
    BIG_FRAME,
    SEND_MANY,
    adapt_hypercorn_sends,
    advertise,
    send_messages,
)
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from websockets.sync.client import ClientConnection, connect

from tests.ports import free_port

#: Every header size (7-bit, 16-bit and 64-bit lengths) at its edges, text and binary,
#: small ones around a big one so that joined and separate buffers alternate.
MESSAGES: list[bytes | str] = [
    b"",
    "",
    b"a" * 125,
    "é" * 63,  # 126 bytes of UTF-8: the first 16-bit length
    b"b" * 126,
    b"c" * 65535,
    bytes(range(256)) * (BIG_FRAME // 256),  # exactly BIG_FRAME: the 64-bit length
    "small after big",
    b"d" * (3 * 1024 * 1024 + 7),
    b"e",
]
#: One binary message given in parts (as the kernel plugin sends a big v1 frame).
PARTS = [b"table", b"p" * (BIG_FRAME + 1), b"", b"tail"]


#: A frame written as several buffers, two of them big: a control frame written between
#: them (a pong to the client's ping) would corrupt the stream.
SPLIT = [b"s" * (BIG_FRAME * 2), b"-", b"t" * (BIG_FRAME * 3)]
SPLIT_COUNT = 40


async def sender(scope: Scope, receive: Receive, send: Send) -> None:
    """Send MESSAGES in one call, then one by one, then PARTS alone and among others,
    then the scope's extension names. On ``/split``: SPLIT, SPLIT_COUNT times."""
    assert scope["type"] == "websocket"
    advertise(scope, send)
    websocket = WebSocket(scope, receive, send)
    await websocket.accept()
    await send_messages(websocket, [])  # nothing to send: nothing sent, no error
    if scope["path"] == "/split":
        for _ in range(SPLIT_COUNT):
            await send_messages(websocket, [SPLIT])
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # the client closes once it has everything
        return
    await send_messages(websocket, MESSAGES)
    for message in MESSAGES:
        await send_messages(websocket, [message])
    await send_messages(websocket, [PARTS])
    await send_messages(websocket, [b"before", PARTS, "after"])
    await websocket.send_text(json.dumps(sorted(scope.get("extensions") or {})))
    await websocket.close()


@contextmanager
def hypercorn_serving() -> Iterator[int]:
    assert adapt_hypercorn_sends()
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def stopped() -> None:
        await stop.wait()

    def main() -> None:
        loop.run_until_complete(serve(sender, config, shutdown_trigger=stopped))  # type: ignore[arg-type]
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


@contextmanager
def uvicorn_serving() -> Iterator[int]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(sender, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def open_client(port: int, compression: str | None, path: str = "/") -> ClientConnection:
    deadline = time.monotonic() + 30
    while True:
        try:
            return connect(
                f"ws://127.0.0.1:{port}{path}",
                compression=compression,
                max_size=None,
                open_timeout=5,
                ping_interval=None,
            )
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def receive_all(port: int, compression: str | None) -> tuple[list[bytes | str], list[str]]:
    with open_client(port, compression) as ws:
        received = [ws.recv(timeout=30) for _ in range(2 * len(MESSAGES) + 4)]
        extensions = json.loads(ws.recv(timeout=30))
    return received, extensions


SERVERS: dict[str, Callable[[], Iterator[int]]] = {
    "hypercorn": hypercorn_serving,  # type: ignore[dict-item]
    "uvicorn": uvicorn_serving,  # type: ignore[dict-item]
}


@pytest.mark.parametrize("compression", [None, "deflate"], ids=["plain", "client-offers-deflate"])
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_messages_of_every_size_arrive_as_sent(server: str, compression: str | None):
    with SERVERS[server]() as port:  # type: ignore[attr-defined]
        received, extensions = receive_all(port, compression)
    joined = b"".join(PARTS)
    expected = [*MESSAGES, *MESSAGES, joined, b"before", joined, "after"]
    assert [type(m) for m in received] == [type(m) for m in expected]
    assert received == expected
    # Only the adapted hypercorn takes several messages in one event.
    assert (SEND_MANY in extensions) == (server == "hypercorn")


def test_control_frames_never_land_inside_a_frame_written_in_parts():
    # The client pings all the time and reads slowly, so the server's writes wait for the
    # socket mid-frame, while its reader answers each ping with a pong.
    with hypercorn_serving() as port, open_client(port, None, "/split") as ws:
        stop = threading.Event()

        def ping() -> None:
            while not stop.is_set():
                try:
                    ws.ping()
                except Exception:
                    return
                time.sleep(0.001)

        pinger = threading.Thread(target=ping, daemon=True)
        pinger.start()
        try:
            received = []
            for _ in range(SPLIT_COUNT):
                time.sleep(0.01)
                received.append(ws.recv(timeout=30))
        finally:
            stop.set()
            pinger.join(5)
    assert received == [b"".join(SPLIT)] * SPLIT_COUNT
