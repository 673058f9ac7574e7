"""A headless kernel client for tests: run code over ``/api/kernels/{id}/channels``.

Speaks the legacy JSON WebSocket protocol (no subprotocol), as documented by
jupyter_server, and turns iopub messages into nbformat v4 outputs.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.conftest import RunningServer


def open_channels(server: RunningServer, kernel_id: str) -> ClientConnection:
    """A WebSocket on the kernel's channels, authenticated with the server's token."""
    session = uuid.uuid4().hex
    url = server.ws_url(f"api/kernels/{kernel_id}/channels?session_id={session}")
    return connect(
        url, additional_headers={"Authorization": f"token {server.token}"}, open_timeout=30
    )


def request(msg_type: str, content: dict[str, Any], session: str = "test") -> dict[str, Any]:
    """A shell-channel message in the legacy JSON wire shape."""
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "username": "test",
            "session": session,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": "shell",
        "buffers": [],
    }


def execute(ws: ClientConnection, code: str, timeout: float = 60) -> tuple[dict[str, Any], list]:
    """Run ``code``; return the execute_reply content and the outputs (nbformat v4 dicts)."""
    message = request(
        "execute_request",
        {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    )
    msg_id = message["header"]["msg_id"]
    ws.send(json.dumps(message))
    outputs: list[dict[str, Any]] = []
    reply: dict[str, Any] | None = None
    idle = False
    deadline = time.monotonic() + timeout
    while reply is None or not idle:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no reply to {code!r} within {timeout}s")
        incoming = json.loads(ws.recv(timeout=remaining))
        if incoming.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = incoming["header"]["msg_type"]
        content = incoming["content"]
        if incoming.get("channel") == "shell" and kind == "execute_reply":
            reply = content
        elif kind == "status" and content.get("execution_state") == "idle":
            idle = True
        elif kind == "stream":
            last = outputs[-1] if outputs else {}
            if last.get("output_type") == "stream" and last["name"] == content["name"]:
                # A kernel may send one print in several messages; a notebook joins them.
                last["text"] += content["text"]
            else:
                outputs.append(
                    {"output_type": "stream", "name": content["name"], "text": content["text"]}
                )
        elif kind in ("execute_result", "display_data"):
            output = {"output_type": kind, "data": content["data"], "metadata": content["metadata"]}
            if kind == "execute_result":
                output["execution_count"] = content["execution_count"]
            outputs.append(output)
        elif kind == "error":
            outputs.append(
                {
                    "output_type": "error",
                    "ename": content["ename"],
                    "evalue": content["evalue"],
                    "traceback": content["traceback"],
                }
            )
    return reply, outputs


def run(server: RunningServer, kernel_id: str, code: str) -> str:
    """Run ``code`` on a fresh connection and return everything it printed to stdout."""
    with open_channels(server, kernel_id) as ws:
        reply, outputs = execute(ws, code)
    assert reply["status"] == "ok", reply
    return "".join(o["text"] for o in outputs if o["output_type"] == "stream")
