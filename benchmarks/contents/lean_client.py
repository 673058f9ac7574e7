"""A lean HTTP/1.1 keep-alive GET loop for the small-file rate measurement.

httpx spends about 1.6 ms of client CPU per request here, more than either server spends
answering it, so with httpx the rate measures the client more than the servers (on a
2-core machine the client processes and the server share the CPU). This client sends a
prepared request and parses only what it must (status, ``Content-Length`` or chunked
framing, ``Connection: close``, cookies), at a small fraction of that cost. It behaves
like the httpx client it replaces: one request at a time per connection, keep-alive,
cookies the server sets are sent back, a closed connection is reopened, and any status
but 200 is an error. The same client runs against both servers.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import anyio
from anyio.abc import SocketStream


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.stream: SocketStream | None = None
        self.buffer = b""

    async def open(self) -> SocketStream:
        if self.stream is None:
            self.stream = await anyio.connect_tcp(self.host, self.port)
            self.buffer = b""
        return self.stream

    async def close(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()
            self.stream = None

    async def _fill(self) -> None:
        assert self.stream is not None
        self.buffer += await self.stream.receive(65536)

    async def _line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            await self._fill()
        line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
        return line

    async def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    async def get(self, request: bytes) -> tuple[int, dict[bytes, list[bytes]], bytes]:
        """Send ``request``; ``(status, headers by lower-case name, body)``."""
        stream = await self.open()
        await stream.send(request)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            await self._fill()
        head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
        status_line, *lines = head.split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[bytes, list[bytes]] = {}
        for line in lines:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if b"content-length" in headers:
            body = await self._exactly(int(headers[b"content-length"][0]))
        elif b"chunked" in b",".join(headers.get(b"transfer-encoding", [])).lower():
            chunks = []
            while size := int((await self._line()).split(b";")[0], 16):
                chunks.append(await self._exactly(size))
                await self._line()
            while await self._line():  # trailers, up to the empty line
                pass
            body = b"".join(chunks)
        else:
            raise RuntimeError(f"response without a length: {head!r}")
        if b"close" in b",".join(headers.get(b"connection", [])).lower():
            await self.close()
        return status, headers, body


async def rate(
    url: str, path: str, headers: dict[str, str], concurrency: int, seconds: float
) -> tuple[int, float]:
    """``(requests, seconds)`` of GET ``path`` by ``concurrency`` keep-alive connections."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path.rstrip("/") + "/" + path
    cookies: dict[str, str] = {}  # one jar for all connections, like one httpx client

    def request() -> bytes:
        lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Accept: */*"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    prepared = request()

    async def get(conn: _Connection) -> None:
        nonlocal prepared
        status, response_headers, _body = await conn.get(prepared)
        if status != 200:
            raise RuntimeError(f"GET {target}: {status}")
        if b"set-cookie" in response_headers:
            for value in response_headers[b"set-cookie"]:
                pair = value.split(b";", 1)[0].decode("latin-1")
                name, _, cookie = pair.partition("=")
                cookies[name.strip()] = cookie.strip()
            prepared = request()

    connections = [_Connection(host, port) for _ in range(concurrency)]
    for conn in connections:  # open the connections and warm up
        await get(conn)
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(conn: _Connection) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await get(conn)
            done += 1

    start = time.perf_counter()
    try:
        async with anyio.create_task_group() as group:
            for conn in connections:
                group.start_soon(worker, conn)
        return done, time.perf_counter() - start
    finally:
        for conn in connections:
            await conn.close()
