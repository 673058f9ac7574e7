"""A request whose body stops arriving is answered 408 after ``body_timeout``, before any
login too: a client that sends headers and then nothing cannot hold a handler for ever."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.conftest import serve_in_process


def stalled_request(port: int, request: bytes) -> bytes:
    """Send ``request`` (a body shorter than it declares), then read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, _, body = answer.partition(b"\r\n\r\n")
                length = [
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if length and len(body) >= length[0]:
                    break
        return answer


def test_a_stalled_body_is_a_408_before_and_after_login(tmp_path: Path):
    server = serve_in_process(tmp_path, "--set", "body_timeout=0.5", plugins="contents")
    try:
        login = (
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"password=ab"
        )
        put = (
            b"PUT /api/contents/x.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: token " + server.token.encode() + b"\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'5\r\n{"typ\r\n'
        )
        for request in (login, put):
            answer = stalled_request(server.port, request)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), answer[:200]
            assert "body_timeout" in json.loads(body)["message"]
        assert not (tmp_path / "x.txt").exists()
        # A whole body still gets through.
        response = server.client().put(
            "api/contents/y.txt", json={"type": "file", "format": "text", "content": "y"}
        )
        assert response.status_code == 201
    finally:
        server.stop()
