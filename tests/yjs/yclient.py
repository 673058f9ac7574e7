"""A y-websocket client built from pycrdt, speaking to the rooms as @jupyter/docprovider does.

``YClient.open`` puts the session (``PUT /api/collaboration/session/{path}``), connects to
the room with ``?sessionId=``, sends its state vector (sync step 1) and answers the
server's. ``pump_until`` reads frames until a condition holds (never a fixed sleep); local
changes to ``doc`` are sent as sync updates, as the browser's provider sends them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import (
    Awareness,
    Decoder,
    Doc,
    Encoder,
    TransactionEvent,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    read_message,
)
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import RunningServer


def put_session(
    server: RunningServer, path: str, *, token: str | None = None, file_type: str = "notebook"
) -> Any:
    """``PUT api/collaboration/session/{path}`` as the frontend sends it (path encoded)."""
    from urllib.parse import quote

    file_format = "json" if file_type == "notebook" else "text"
    with server.client(token=token) as client:
        return client.put(
            f"api/collaboration/session/{quote(path, safe='')}",
            json={"format": file_format, "type": file_type},
        )


class YClient:
    """One browser-like client of one room."""

    def __init__(
        self, ws: ClientConnection, file_type: str = "notebook", doc: Doc[Any] | None = None
    ) -> None:
        self.ws = ws
        # A browser that reconnects keeps its document: pass the earlier client's ``doc``.
        self.doc: Doc[Any] = Doc() if doc is None else doc
        self.model: YNotebook | YUnicode = (
            YNotebook(self.doc) if file_type == "notebook" else YUnicode(self.doc)
        )
        self.awareness = Awareness(self.doc)
        self.synced = False
        self.raw: list[dict[str, Any]] = []
        self.awareness_frames = 0
        self.closed: ConnectionClosed | None = None
        self._remote = False
        self.doc.observe(self._on_update)
        try:
            self.ws.send(create_sync_message(self.doc))
        except ConnectionClosed as exc:  # refused at once (e.g. a stale session)
            self.closed = exc

    @classmethod
    def open(
        cls,
        server: RunningServer,
        path: str,
        *,
        token: str | None = None,
        file_type: str = "notebook",
        session_id: str | None = None,
        doc: Doc[Any] | None = None,
    ) -> YClient:
        """Put the session of ``path`` and connect to its room."""
        reply = put_session(server, path, token=token, file_type=file_type)
        assert reply.status_code in (200, 201), reply.text
        model = reply.json()
        room = f"{model['format']}:{model['type']}:{model['fileId']}"
        return cls.connect(
            server,
            room,
            token=token,
            file_type=file_type,
            session_id=model["sessionId"] if session_id is None else session_id,
            doc=doc,
        )

    @classmethod
    def connect(
        cls,
        server: RunningServer,
        room: str,
        *,
        token: str | None = None,
        file_type: str = "notebook",
        session_id: str | None = None,
        doc: Doc[Any] | None = None,
    ) -> YClient:
        use = server.token if token is None else token
        query = "" if session_id is None else f"?sessionId={session_id}"
        ws = connect(
            server.ws_url(f"api/collaboration/room/{room}{query}"),
            additional_headers={"Authorization": f"token {use}"},
            open_timeout=30,
            max_size=None,
            legacy=True,
        )
        return cls(ws, file_type, doc)

    def _on_update(self, event: TransactionEvent) -> None:
        if not self._remote and self.closed is None:
            self.ws.send(create_update_message(event.update))

    def set_user(self, **fields: Any) -> None:
        """Set this client's awareness state and send it, as the lab does on connect."""
        self.awareness.set_local_state(fields)
        update = self.awareness.encode_awareness_update([self.awareness.client_id])
        self.ws.send(create_awareness_message(update))

    def save(self, request_id: int = 1) -> None:
        """Send jupyter's RAW save request."""
        encoder = Encoder()
        encoder.write_var_uint(2)
        encoder.write_var_string("save")
        encoder.write_var_uint(request_id)
        self.ws.send(encoder.to_bytes())

    def _handle(self, message: bytes) -> None:
        kind = message[0]
        if kind == 0:
            self._remote = True
            try:
                reply = handle_sync_message(message[1:], self.doc)
            finally:
                self._remote = False
            if message[1] == YSyncMessageType.SYNC_STEP2:
                self.synced = True
            if reply is not None:
                self.ws.send(reply)
        elif kind == 1:
            self.awareness_frames += 1
            self.awareness.apply_awareness_update(read_message(message[1:]), "remote")
        elif kind == 2:
            decoder = Decoder(message)
            decoder.read_var_uint()
            self.raw.append(json.loads(decoder.read_var_string()))

    def pump_until(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        """Handle frames until ``condition()`` is true (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"condition not reached in time; document: {self.model.get()}")
            try:
                message = self.ws.recv(timeout=min(left, 0.5))
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                self.closed = exc
                if condition():
                    return
                raise
            assert isinstance(message, bytes)
            self._handle(message)

    def wait_closed(self, timeout: float = 30) -> ConnectionClosed:
        """Read until the server closes; returns the close (code and reason)."""
        if self.closed is not None:
            return self.closed
        try:
            self.pump_until(lambda: False, timeout)
        except ConnectionClosed as exc:
            return exc
        raise AssertionError("the server did not close")

    def close(self) -> None:
        self.closed = self.closed or ConnectionClosed(None, None)
        self.ws.close()
