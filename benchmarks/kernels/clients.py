"""The three kinds of benchmark client, behind one small interface.

``WebSocketClient`` talks to a server's ``/api/kernels/{id}/channels`` in the v1 binary
subprotocol or the legacy JSON protocol; ``ZmqClient`` talks to the kernel directly with
jupyter_client's ``AsyncKernelClient`` sockets and session (the physical limit). All
three parse the same amount of each message (see ``wire.Incoming``) and add no delays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import uuid
from collections import deque
from typing import Any, Protocol

import anyio
import zmq
import zmq.asyncio
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.kernels.wire import (
    V1_SUBPROTOCOL,
    Incoming,
    decode_json,
    decode_v1,
    encode_json,
    encode_v1,
    new_header,
)


class KernelClient(Protocol):
    """What a scenario needs from a connection to one kernel."""

    session: str
    label: str

    async def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        buffers: list[bytes] | tuple[bytes, ...] = (),
        msg_id: str | None = None,
    ) -> str:
        """Send a request; returns its msg_id."""
        ...

    async def recv(self) -> Incoming:
        """The next message from the kernel, on any channel."""
        ...

    async def aclose(self) -> None:
        """Close the connection."""
        ...


class WebSocketClient:
    """A kernel WebSocket, v1 binary subprotocol or legacy JSON."""

    def __init__(self, ws: ClientConnection, session: str, protocol: str) -> None:
        self.ws = ws
        self.session = session
        self.protocol = protocol
        self.label = f"ws-{protocol}"

    @classmethod
    async def open(
        cls, url: str, token: str, protocol: str, *, deflate: bool = False
    ) -> WebSocketClient:
        """Connect; ``protocol`` is ``"v1"`` or ``"json"``.

        ``deflate`` offers permessage-deflate as browsers do; off by default so the
        numbers measure message handling, not zlib.
        """
        session = uuid.uuid4().hex
        ws = await connect(
            f"{url}?session_id={session}",
            subprotocols=[V1_SUBPROTOCOL] if protocol == "v1" else None,  # type: ignore[list-item]
            additional_headers={"Authorization": f"token {token}"},
            compression="deflate" if deflate else None,
            max_size=None,
            ping_interval=None,
            open_timeout=60,
            close_timeout=5,
        )
        if protocol == "v1" and ws.subprotocol != V1_SUBPROTOCOL:
            await ws.close()
            raise RuntimeError(f"server did not accept {V1_SUBPROTOCOL} (got {ws.subprotocol})")
        return cls(ws, session, protocol)

    def tcp_nodelay(self) -> bool:
        """Whether Nagle's algorithm is off on our end of the socket."""
        sock = self.ws.transport.get_extra_info("socket")
        return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    def negotiated_extensions(self) -> str:
        """The ``Sec-WebSocket-Extensions`` the server accepted (empty if none)."""
        response = self.ws.response
        return response.headers.get("Sec-WebSocket-Extensions", "") if response else ""

    async def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        buffers: list[bytes] | tuple[bytes, ...] = (),
        msg_id: str | None = None,
    ) -> str:
        header = new_header(msg_type, self.session, msg_id)
        if self.protocol == "v1":
            await self.ws.send(encode_v1(channel, header, content, buffers))
        else:
            await self.ws.send(encode_json(channel, header, content, buffers))
        return str(header["msg_id"])

    async def recv(self) -> Incoming:
        frame = await self.ws.recv()
        if self.protocol == "v1":
            if isinstance(frame, str):
                raise RuntimeError(f"text frame on the v1 protocol: {frame[:200]}")
            return decode_v1(frame)
        return decode_json(frame)

    async def aclose(self) -> None:
        await self.ws.close()


class ZmqClient:
    """The kernel's own ZMQ sockets through jupyter_client, no server in between.

    Reads every channel from one poll loop (no extra queue hop) and parses bodies lazily
    like the others. It is the physical limit, so it does only what moving the bytes
    needs: it does not check the kernel's HMAC signatures (``verify=True`` does, as
    jupyter_client's ``Session.deserialize`` would; that costs ~0.13 s per 100 MB here),
    just as the servers' v1 paths forward bodies without hashing them again.
    """

    def __init__(self, kernel_client: Any, *, verify: bool = False) -> None:
        self.kc = kernel_client
        self.session = kernel_client.session.session
        self.label = "zmq"
        self.sockets: dict[str, zmq.asyncio.Socket] = {
            "shell": kernel_client.shell_channel.socket,
            "iopub": kernel_client.iopub_channel.socket,
            "stdin": kernel_client.stdin_channel.socket,
            "control": kernel_client.control_channel.socket,
        }
        self.channel_of = {sock: name for name, sock in self.sockets.items()}
        self.poller = zmq.asyncio.Poller()
        for sock in self.sockets.values():
            self.poller.register(sock, zmq.POLLIN)
        self.pending: deque[tuple[str, list[bytes]]] = deque()
        key = kernel_client.session.key
        self.digest = hmac.new(key, digestmod=hashlib.sha256) if key and verify else None

    async def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        buffers: list[bytes] | tuple[bytes, ...] = (),
        msg_id: str | None = None,
    ) -> str:
        header = new_header(msg_type, self.session, msg_id)
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "msg_id": header["msg_id"],
            "msg_type": msg_type,
        }
        self.kc.session.send(self.sockets[channel], message, buffers=list(buffers) or None)
        return str(header["msg_id"])

    async def recv(self) -> Incoming:
        while not self.pending:
            ready = await self.poller.poll()
            for sock, _event in ready:
                # Drain what is already queued on this socket without waiting again.
                name = self.channel_of[sock]
                while True:
                    try:
                        parts = await sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.pending.append((name, parts))
        channel, parts = self.pending.popleft()
        return self._decode(channel, parts)

    def _decode(self, channel: str, parts: list[bytes]) -> Incoming:
        delimiter = parts.index(b"<IDS|MSG>")
        signature, header, parent, metadata, content, *buffers = parts[delimiter + 1 :]
        if self.digest is not None:
            mac = self.digest.copy()
            for part in (header, parent, metadata, content):
                mac.update(part)
            if not hmac.compare_digest(mac.hexdigest().encode(), signature):
                raise RuntimeError("bad message signature from the kernel")
        return Incoming(
            channel=channel,
            header=json.loads(header),
            parent_header=json.loads(parent),
            raw_content=content,
            buffers=buffers,
        )

    async def aclose(self) -> None:
        self.poller = zmq.asyncio.Poller()
        self.kc.stop_channels()


READY_TIMEOUT_S = 60


async def wait_until_ready(client: KernelClient) -> float:
    """Send ``kernel_info_request`` until the reply and its iopub ``idle`` both arrive.

    Both matter: the reply proves shell works, the idle proves iopub is subscribed (ZMQ
    subscriptions join late). Returns the seconds it took.
    """
    start = time.perf_counter()
    with anyio.fail_after(READY_TIMEOUT_S):
        while True:
            msg_id = await client.send("shell", "kernel_info_request", {})
            got_reply = got_idle = False
            with anyio.move_on_after(1.0):
                while not (got_reply and got_idle):
                    msg = await client.recv()
                    if msg.parent_id != msg_id:
                        continue
                    if msg.msg_type == "kernel_info_reply":
                        got_reply = True
                    elif msg.msg_type == "status":
                        got_idle = got_idle or msg.content_json()["execution_state"] == "idle"
            if got_reply and got_idle:
                return time.perf_counter() - start
