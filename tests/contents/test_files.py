"""``/files/{path}``: raw bytes with the headers Jupyter's file handler sends."""

from __future__ import annotations

import os

import httpx
import nbformat
import pytest
from nbformat.v4 import new_notebook


def test_a_file_is_served_raw_in_a_csp_sandbox(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "page.html").write_text("<script>alert(1)</script>")
    response = client.get(f"files/{api}/page.html")
    assert response.status_code == 200
    assert response.text == "<script>alert(1)</script>"
    assert response.headers["Content-Type"].startswith("text/html")
    assert "sandbox allow-scripts" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Content-Disposition" not in response.headers


def test_download_sets_an_attachment_disposition(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "ré sumé.txt").write_text("cv")
    response = client.get(f"files/{api}/ré sumé.txt", params={"download": "1"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename*=utf-8''r%C3%A9%20sum%C3%A9.txt"
    )
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"


def test_notebooks_download_as_ipynb_attachments(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "n.ipynb").write_text(nbformat.writes(new_notebook()))
    response = client.get(f"files/{api}/n.ipynb")
    assert response.headers["Content-Type"] == "application/x-ipynb+json"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.json()["nbformat"] == 4


def test_large_files_stream_whole(client: httpx.Client, folder) -> None:
    api, disk = folder
    data = bytes(range(256)) * 8192  # 2 MiB, past the read-at-once limit
    (disk / "big.bin").write_bytes(data)
    response = client.get(f"files/{api}/big.bin")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_head_gives_headers_without_body(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("12345")
    response = client.head(f"files/{api}/a.txt")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "5"
    assert response.content == b""


def test_unchanged_files_answer_304(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    first = client.get(f"files/{api}/a.txt")
    again = client.get(
        f"files/{api}/a.txt", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert again.status_code == 304


def test_a_file_revalidates_by_etag_until_it_changes(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "e.txt").write_text("one")
    first = client.get(f"files/{api}/e.txt")
    etag = first.headers["ETag"]
    again = client.get(f"files/{api}/e.txt", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    (disk / "e.txt").write_text("two!")
    changed = client.get(f"files/{api}/e.txt", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.text == "two!"
    assert changed.headers["ETag"] != etag


@pytest.mark.parametrize("size", [1024, 2 * 1024 * 1024], ids=["small", "large"])
def test_a_range_request_gets_those_bytes(client: httpx.Client, folder, size: int) -> None:
    api, disk = folder
    data = bytes(range(256)) * (size // 256)
    (disk / "r.bin").write_bytes(data)
    whole = client.get(f"files/{api}/r.bin")
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = client.get(f"files/{api}/r.bin", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert part.headers["ETag"] == whole.headers["ETag"]
    tail = client.get(f"files/{api}/r.bin", headers={"Range": "bytes=-5"})
    assert tail.content == data[-5:]
    beyond = client.get(f"files/{api}/r.bin", headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    assert "Range" in beyond.json()["message"]  # a JSON error, as every error here
    backwards = client.get(f"files/{api}/r.bin", headers={"Range": "bytes=5-1"})
    assert backwards.status_code == 400
    assert "start must be less than end" in backwards.json()["message"]
    # A stale copy's If-Range gets the whole, current file.
    stale = client.get(f"files/{api}/r.bin", headers={"Range": "bytes=0-1", "If-Range": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == data


def test_folders_and_missing_files_are_404(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "d").mkdir()
    assert client.get(f"files/{api}/d").status_code == 404
    assert client.get(f"files/{api}/nope").status_code == 404


def test_a_fifo_is_404_and_does_not_hang_the_reader(client: httpx.Client, folder) -> None:
    api, disk = folder
    os.mkfifo(disk / "pipe")
    assert client.get(f"files/{api}/pipe").status_code == 404
    (disk / "after.txt").write_text("still serving")
    assert client.get(f"files/{api}/after.txt").text == "still serving"


def test_a_file_in_nested_folders_is_served_with_its_etag(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a" / "b").mkdir(parents=True)
    (disk / "a" / "b" / "c.txt").write_bytes(b"deep")
    response = client.get(f"files/{api}/a/b/c.txt")
    assert response.content == b"deep"
    again = client.get(
        f"files/{api}/a/b/c.txt", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
