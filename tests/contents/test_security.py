"""Every request stays inside the root folder, whatever the path says; dot files stay hidden.

The root is a folder ``root`` with a sibling ``root-x`` (the sibling-prefix escape) and a
secret beside both; no request may read, write, list or delete anything outside.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer, start_server

SECRET = "top secret outside the root"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("escape")
    root = base / "root"
    root.mkdir()
    (base / "secret.txt").write_text(SECRET)
    (base / "root-x").mkdir()
    (base / "root-x" / "secret.txt").write_text(SECRET)
    (root / "inside.txt").write_text("fine")
    (root / ".hidden.txt").write_text("dot file")
    (root / ".dotdir").mkdir()
    (root / ".dotdir" / "f.txt").write_text("in a dot folder")
    (root / "sub").mkdir()
    os.symlink(base / "secret.txt", root / "link-out.txt")
    os.symlink(base / "root-x", root / "link-out-dir")
    os.symlink(root / "inside.txt", root / "link-in.txt")
    return root


@pytest.fixture(scope="module")
def server(layout: Path) -> Iterator[RunningServer]:
    running = start_server(layout, "--set", "contents.delete_to_trash=false", plugins="contents")
    yield running
    running.stop()


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def raw_get(server: RunningServer, raw_path: str) -> httpx.Response:
    """GET with the path sent exactly as written (httpx would normalise ``..``)."""
    with server.client() as http:
        request = http.build_request("GET", server.url)
        request.url = request.url.copy_with(raw_path=raw_path.encode())
        return http.send(request)


ESCAPES = [
    "/api/contents/../secret.txt",
    "/api/contents/..%2fsecret.txt",
    "/api/contents/%2e%2e/secret.txt",
    "/api/contents/%2e%2e%2fsecret.txt",
    "/api/contents/%252e%252e/secret.txt",
    "/api/contents/sub/../../secret.txt",
    "/api/contents/sub/%2e%2e/%2e%2e/secret.txt",
    "/api/contents/../root-x/secret.txt",
    "/api/contents/%2e%2e/root-x/secret.txt",
    "/api/contents//etc/passwd",
    "/api/contents/%2fetc%2fpasswd",
    "/api/contents/~/secret.txt",
    "/api/contents/~root/.bashrc",
    "/api/contents/inside.txt%00.png",
    "/api/contents/link-out.txt",
    "/api/contents/link-out-dir/secret.txt",
    "/api/contents/link-out-dir",
    "/files/../secret.txt",
    "/files/%2e%2e/secret.txt",
    "/files/%2e%2e/root-x/secret.txt",
    "/files/link-out.txt",
    "/files/link-out-dir/secret.txt",
    "/files/inside.txt%00",
]


@pytest.mark.parametrize("raw_path", ESCAPES)
def test_reads_cannot_escape_the_root(server: RunningServer, raw_path: str) -> None:
    response = raw_get(server, raw_path)
    assert response.status_code in (400, 403, 404), response.text
    assert SECRET not in response.text
    assert "root:" not in response.text  # /etc/passwd


@pytest.mark.parametrize(
    "target",
    [
        "../secret.txt",
        "%2e%2e/escaped.txt",
        "../root-x/new.txt",
        "link-out.txt",
        "link-out-dir/new.txt",
    ],
)
def test_writes_cannot_escape_the_root(server: RunningServer, layout: Path, target: str) -> None:
    body = {"type": "file", "format": "text", "content": "pwned"}
    with server.client() as client:
        put = client.build_request("PUT", f"{server.url}api/contents/x", json=body)
        put.url = put.url.copy_with(raw_path=f"/api/contents/{target}".encode())
        assert client.send(put).status_code in (400, 403, 404)
        for method, json in (
            ("PATCH", {"path": target}),
            ("POST", {"copy_from": target}),
        ):
            source = "inside.txt" if method == "PATCH" else ""
            response = client.request(method, f"api/contents/{source}", json=json)
            assert response.status_code in (400, 403, 404), (method, response.text)
    assert (layout.parent / "secret.txt").read_text() == SECRET
    assert (layout.parent / "root-x" / "secret.txt").read_text() == SECRET
    assert not (layout.parent / "escaped.txt").exists()
    assert not (layout.parent / "root-x" / "new.txt").exists()
    assert (layout / "inside.txt").read_text() == "fine"


def test_deletes_cannot_escape_the_root(client: httpx.Client, layout: Path) -> None:
    for target in ("link-out-dir/secret.txt", "~/x", "%2e%2e/secret.txt"):
        assert client.delete(f"api/contents/{target}").status_code in (400, 403, 404)
    assert (layout.parent / "root-x" / "secret.txt").exists()
    assert (layout.parent / "secret.txt").exists()


def test_a_symlink_inside_the_root_works(client: httpx.Client) -> None:
    response = client.get("api/contents/link-in.txt")
    assert response.status_code == 200
    assert response.json()["content"] == "fine"
    download = client.get("files/link-in.txt")
    assert download.status_code == 200
    assert download.text == "fine"


def test_links_out_of_the_root_are_not_listed(client: httpx.Client) -> None:
    names = {c["name"] for c in client.get("api/contents").json()["content"]}
    assert "link-out.txt" not in names
    assert "link-out-dir" not in names
    assert {"inside.txt", "link-in.txt", "sub"} <= names


def test_dot_files_are_hidden_unless_allowed(client: httpx.Client) -> None:
    names = {c["name"] for c in client.get("api/contents").json()["content"]}
    assert ".hidden.txt" not in names and ".dotdir" not in names
    assert client.get("api/contents/.hidden.txt").status_code == 404
    assert client.get("api/contents/.dotdir/f.txt").status_code == 404
    assert client.get("files/.hidden.txt").status_code == 404
    body = {"type": "file", "format": "text", "content": "x"}
    assert client.put("api/contents/.new", json=body).status_code == 400
    assert client.delete("api/contents/.hidden.txt").status_code == 400
    assert client.patch("api/contents/inside.txt", json={"path": ".renamed"}).status_code == 400


def test_allow_hidden_lists_and_serves_dot_files(server_factory, root_dir: Path) -> None:
    (root_dir / ".env").write_text("dot")
    server = server_factory("--set", "contents.allow_hidden=true", plugins="contents")
    with server.client() as client:
        names = {c["name"] for c in client.get("api/contents").json()["content"]}
        assert ".env" in names
        assert client.get("api/contents/.env").json()["content"] == "dot"
        assert client.get("files/.env").text == "dot"
