"""Static assets: year-long caching for hashed bundles, revalidation for the rest, gzip."""

from __future__ import annotations

import gzip
import re
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def client(lab_server: RunningServer):
    with lab_server.client() as http:
        yield http


def lab_static_dir() -> Path:
    from modserver_lab.discovery import find_lab_app_dir

    return find_lab_app_dir() / "static"


def main_bundle(client: httpx.Client) -> str:
    page = client.get("lab").text
    match = re.search(r'src="/(static/lab/main\.[0-9a-f]+\.js)', page)
    assert match
    return match.group(1)


def test_hashed_bundles_are_cached_for_a_year(client: httpx.Client):
    response = client.get(main_bundle(client))
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["content-type"].startswith("text/javascript")


def test_unhashed_files_are_revalidated_by_etag(client: httpx.Client):
    first = client.get("static/lab/package.json")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("static/lab/package.json", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    changed = client.get("static/lab/package.json", headers={"if-none-match": '"other"'})
    assert changed.status_code == 200


def test_unhashed_files_are_revalidated_by_date(client: httpx.Client):
    first = client.get("static/lab/package.json")
    since = first.headers["last-modified"]
    assert (
        client.get("static/lab/package.json", headers={"if-modified-since": since}).status_code
        == 304
    )
    long_ago = formatdate(0, usegmt=True)
    assert (
        client.get("static/lab/package.json", headers={"if-modified-since": long_ago}).status_code
        == 200
    )


def test_javascript_is_gzip_compressed_for_clients_that_accept_it(client: httpx.Client):
    path = main_bundle(client)
    on_disk = (lab_static_dir() / path.rsplit("/", 1)[1]).read_bytes()
    with client.stream("GET", path, headers={"accept-encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    # Caches must key on Accept-Encoding (CORS may add Origin beside it).
    assert "Accept-Encoding" in [v.strip() for v in response.headers["vary"].split(",")]
    assert len(raw) < len(on_disk) / 2
    assert gzip.decompress(raw) == on_disk


def test_clients_without_gzip_get_the_plain_file(client: httpx.Client):
    path = main_bundle(client)
    response = client.get(path, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.content == (lab_static_dir() / path.rsplit("/", 1)[1]).read_bytes()


def test_notebook_static_files_are_served(client: httpx.Client):
    page = client.get("tree").text
    match = re.search(r'src="/(static/notebook/main\.[0-9a-f]+\.js)', page)
    assert match
    response = client.get(match.group(1), headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE


def test_static_files_need_no_login_but_pages_do(lab_server: RunningServer):
    with httpx.Client(base_url=lab_server.url) as anonymous:
        assert anonymous.get("static/lab/package.json").status_code == 200
        assert (
            anonymous.get("static/favicons/favicon.ico").headers["content-type"] == "image/x-icon"
        )
        assert anonymous.get("lab").status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "static/lab/../../../etc/passwd",
        "static/lab/%2e%2e/%2e%2e/pyvenv.cfg",
        "static/lab/..%2f..%2fschemas",
        "static/lab/.hidden",
        "static/lab/no-such-file.js",
        "static/favicons/not-an-icon.ico",
    ],
)
def test_nothing_outside_the_static_folders_is_served(client: httpx.Client, path: str):
    response = client.get(path)
    assert response.status_code == 404
    assert "message" in response.json()


def test_head_answers_headers_only(client: httpx.Client):
    response = client.head(main_bundle(client), headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


@pytest.mark.parametrize(
    "name", ["favicon.ico", "favicon-busy-1.ico", "favicon-notebook.ico", "favicon-file.ico"]
)
def test_the_favicons_the_pages_link_are_served(client: httpx.Client, name: str):
    response = client.get(f"static/favicons/{name}")
    assert response.status_code == 200
    assert response.content.startswith(b"\x00\x00\x01\x00")  # an ICO file


@pytest.mark.parametrize(
    ("name", "expected"),
    [("x.mjs", "text/javascript"), ("x.wasm", "application/wasm"), ("x.WOFF2", "font/woff2")],
)
def test_frontend_types_do_not_depend_on_the_systems_tables(
    monkeypatch: pytest.MonkeyPatch, name: str, expected: str
):
    # A system whose media-type tables lack these (no /etc/mime.types entry, an old
    # Python): a browser refuses a module script or a streamed wasm of the wrong type.
    import mimetypes

    from modserver_lab.static_files import media_type

    monkeypatch.setattr(mimetypes, "guess_type", lambda *args, **kwargs: (None, None))
    assert media_type(name) == expected
    assert media_type("x.unknown-kind") == "application/octet-stream"
