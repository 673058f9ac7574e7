"""Body limit (item 5), redirects and /files headers (item 6)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import RunningServer, start_server
from tests.security.conftest import Site


def _raw_request(server: RunningServer, head: str) -> bytes:
    """Send only a request head (no body) and return what the server answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode())
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and b"}" in data:
                break
        return b"".join(chunks)


def test_a_declared_10_gb_body_is_refused_413_before_it_is_sent(site: Site) -> None:
    server = site.server
    head = (
        "PUT /api/contents/huge.bin HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: token {server.token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {10 * 1024**3}\r\n\r\n"
    )
    answer = _raw_request(server, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"max_body_size" in answer


def _chunks(size: int) -> Iterator[bytes]:
    yield b'{"type": "file", "format": "text", "content": "'
    for _ in range(size // 1024):
        yield b"x" * 1024
    yield b'"}'


def test_a_chunked_body_over_the_limit_is_refused_413(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    server = start_server(root, "--set", "max_body_size=100000", plugins="contents")
    try:
        with server.client() as http:
            response = http.put("api/contents/big.txt", content=_chunks(200_000))
            assert response.status_code == 413
            assert "max_body_size" in response.json()["message"]
            assert not (root / "big.txt").exists()
            small = http.put("api/contents/small.txt", content=_chunks(10_000))
            assert small.status_code == 201
    finally:
        server.stop()


def test_the_token_login_redirect_never_leaves_the_site(site: Site) -> None:
    with site.server.client(token="") as http:
        for path in ("/%2Fevil.com/", "/%2F%2Fevil.com/x", "/%5Cevil.com/", "//evil.com/"):
            response = http.get(
                f"{site.server.url.rstrip('/')}{path}?token={site.server.token}",
                headers={"Sec-Fetch-Mode": "navigate"},
            )
            assert response.status_code == 302, path
            location = response.headers["location"]
            assert location.startswith("/") and not location.startswith(("//", "/\\")), location
            assert "token=" not in location


def test_files_are_served_with_nosniff(client: httpx.Client, folder: tuple[str, Path]) -> None:
    api, disk = folder
    (disk / "page.txt").write_text("<script>alert(1)</script>")
    response = client.get(f"files/{api}/page.txt")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
