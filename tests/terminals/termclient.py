"""A small client for the terminal WebSocket (terminado's JSON protocol), and process probes.

``TermSocket.open`` connects and checks the ``["setup", {}]`` greeting; ``read_until``
collects ``stdout`` text until it contains what the test waits for.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import RunningServer


class TerminalEnded(AssertionError):
    """The server said ``disconnect`` (or closed) before the expected output came."""


class TermSocket:
    """One WebSocket on ``/terminals/websocket/{name}``."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.output = ""

    @classmethod
    def open(
        cls, server: RunningServer, name: str, token: str | None = None, **options: Any
    ) -> TermSocket:
        use = server.token if token is None else token
        ws = connect(
            server.ws_url(f"terminals/websocket/{name}"),
            additional_headers={"Authorization": f"token {use}"} if use else {},
            open_timeout=30,
            max_size=None,
            legacy=True,
            **options,
        )
        first = json.loads(ws.recv(timeout=30))
        assert first == ["setup", {}], first
        return cls(ws)

    def send(self, *message: Any) -> None:
        self.ws.send(json.dumps(list(message)))

    def type(self, text: str) -> None:
        """Type ``text`` (a line ends with ``\\r``, as xterm.js sends Enter)."""
        self.send("stdin", text)

    def recv(self, timeout: float = 30) -> list[Any]:
        message = json.loads(self.ws.recv(timeout=timeout))
        assert isinstance(message, list)
        return message

    def read_until(self, needle: str, timeout: float = 60) -> str:
        """All output received so far once it contains ``needle``."""
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{needle!r} not seen; output: {self.output[-2000:]!r}")
            try:
                message = self.recv(remaining)
            except ConnectionClosed as exc:
                raise TerminalEnded(f"closed before {needle!r}: {exc}") from None
            if message[0] == "stdout":
                self.output += message[1]
            elif message[0] == "disconnect":
                raise TerminalEnded(f"disconnected before {needle!r}: {self.output[-500:]!r}")
        return self.output

    def messages_until_closed(self, timeout: float = 30) -> list[list[Any]]:
        """Every message until the server closes the socket."""
        seen = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                seen.append(self.recv(max(0.1, deadline - time.monotonic())))
        except ConnectionClosed:
            return seen

    def close(self) -> None:
        self.ws.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll ``condition`` until true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def process_table() -> dict[int, tuple[str, int, int]]:
    """pid -> (state, ppid, session) of every process (from /proc)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (fields[0].decode(), int(fields[1]), int(fields[3]))
    return table


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (zombies included)."""
    return [child for child, (_, ppid, _) in process_table().items() if ppid == pid]


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    info = process_table().get(pid)
    return info is not None and info[0] != "Z"


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
