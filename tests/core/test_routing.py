"""Guarded routes as a plugin author writes them, called in-process with the lifespan run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from modserver.app import assemble, build, lifespan_of
from modserver.plugins import discover
from modserver.settings import gather

from tests.conftest import TOKEN
from tests.core.test_plugin_resolution import installed


def test_a_client_leaving_a_plugin_websocket_ends_the_session_without_an_error(tmp_path: Path):
    raw = gather(
        env={},
        cli={"root_dir": str(tmp_path), "plugins": "echo_ws,auth"},
        cli_sets=[f"auth.token={TOKEN}"],
    )
    app = assemble(build(raw, {**discover(), **installed("echo_ws")}), manage_lifespan=False)
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "server": ("127.0.0.1", 8888),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8888"), (b"authorization", f"token {TOKEN}".encode())],
        "subprotocols": [],
    }
    # What the client does: connect, send one frame, leave.
    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "ping"},
        {"type": "websocket.disconnect", "code": 1001},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def session() -> None:
        async with lifespan_of(app):
            # An exception escaping the app here is what an ASGI server would log.
            await app(scope, receive, send)

    anyio.run(session)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send"]
    assert sent[1]["text"] == "ping"
