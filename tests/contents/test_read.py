"""Reading: models shaped as jupyter_server 2.x shapes them, for files, notebooks, folders."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

MODEL_KEYS = {
    "name",
    "path",
    "type",
    "writable",
    "created",
    "last_modified",
    "mimetype",
    "content",
    "format",
    "size",
    "hash",
    "hash_algorithm",
}


def write_notebook(path: Path) -> None:
    nb = new_notebook()
    cell = new_code_cell("print('hi')\nprint(2)\n", execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text="hi\n2\n")]
    nb.cells.append(cell)
    path.write_text(nbformat.writes(nb), encoding="utf-8")


def test_a_text_file_comes_with_its_text_and_model_fields(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("héllo\n", encoding="utf-8")
    response = client.get(f"api/contents/{api}/a.txt")
    assert response.status_code == 200
    model = response.json()
    assert set(model) >= MODEL_KEYS
    assert model["name"] == "a.txt"
    assert model["path"] == f"{api}/a.txt"
    assert model["type"] == "file"
    assert model["format"] == "text"
    assert model["content"] == "héllo\n"
    assert model["mimetype"] == "text/plain"
    assert model["size"] == len("héllo\n".encode())
    assert model["writable"] is True
    assert model["hash"] is None


def test_timestamps_are_iso_8601_with_a_timezone(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    model = client.get(f"api/contents/{api}/a.txt").json()
    for key in ("created", "last_modified"):
        moment = datetime.fromisoformat(model[key].replace("Z", "+00:00"))
        assert moment.tzinfo is not None
    modified = datetime.fromisoformat(model["last_modified"].replace("Z", "+00:00"))
    assert abs(modified.timestamp() - (disk / "a.txt").stat().st_mtime) < 0.001


def test_get_sends_a_last_modified_header_matching_the_model(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    response = client.get(f"api/contents/{api}/a.txt")
    header = parsedate_to_datetime(response.headers["Last-Modified"])
    modified = datetime.fromisoformat(response.json()["last_modified"].replace("Z", "+00:00"))
    assert abs(header.timestamp() - modified.timestamp()) < 1


def test_binary_file_falls_back_to_base64(client: httpx.Client, folder) -> None:
    api, disk = folder
    data = bytes(range(256))
    (disk / "blob.bin").write_bytes(data)
    model = client.get(f"api/contents/{api}/blob.bin").json()
    assert model["format"] == "base64"
    assert base64.b64decode(model["content"]) == data
    assert model["mimetype"] == "application/octet-stream"


def test_format_text_on_binary_file_is_a_400(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "blob.bin").write_bytes(b"\xff\xfe\x00")
    response = client.get(f"api/contents/{api}/blob.bin", params={"format": "text"})
    assert response.status_code == 400
    assert "UTF-8" in response.json()["message"]


def test_format_base64_on_text_file_gives_base64(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("abc")
    model = client.get(f"api/contents/{api}/a.txt", params={"format": "base64"}).json()
    assert model["format"] == "base64"
    assert base64.b64decode(model["content"]) == b"abc"


def test_invalid_query_values_are_400(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("abc")
    for params in ({"format": "xml"}, {"content": "2"}, {"hash": "yes"}):
        response = client.get(f"api/contents/{api}/a.txt", params=params)
        assert response.status_code == 400, params
        assert response.json()["message"]


def test_unknown_query_parameters_are_ignored(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("abc")
    # JupyterLab adds a bare cache-buster such as ?1700000000000
    response = client.get(f"api/contents/{api}/a.txt?content=1&1700000000000&foo=bar")
    assert response.status_code == 200
    assert response.json()["content"] == "abc"


def test_content_0_leaves_content_and_format_null(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("abc")
    model = client.get(f"api/contents/{api}/a.txt", params={"content": "0"}).json()
    assert model["content"] is None
    assert model["format"] is None


def test_hash_1_gives_the_sha256_of_the_bytes(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_bytes(b"abc\n")
    for content in ("0", "1"):
        model = client.get(
            f"api/contents/{api}/a.txt", params={"hash": "1", "content": content}
        ).json()
        assert model["hash"] == hashlib.sha256(b"abc\n").hexdigest()
        assert model["hash_algorithm"] == "sha256"


def test_a_notebook_comes_parsed_with_joined_sources(client: httpx.Client, folder) -> None:
    api, disk = folder
    write_notebook(disk / "n.ipynb")
    model = client.get(f"api/contents/{api}/n.ipynb").json()
    assert model["type"] == "notebook"
    assert model["format"] == "json"
    assert model["mimetype"] is None
    cell = model["content"]["cells"][0]
    assert cell["source"] == "print('hi')\nprint(2)\n"
    assert cell["outputs"][0]["text"] == "hi\n2\n"
    assert model["content"]["nbformat"] == 4
    assert "message" not in model


def test_a_notebook_can_be_read_as_a_file(client: httpx.Client, folder) -> None:
    api, disk = folder
    write_notebook(disk / "n.ipynb")
    model = client.get(f"api/contents/{api}/n.ipynb", params={"type": "file"}).json()
    assert model["type"] == "file"
    assert model["format"] == "text"
    assert json.loads(model["content"])["nbformat"] == 4


def test_an_old_v3_notebook_is_converted_to_v4(client: httpx.Client, folder) -> None:
    api, disk = folder
    from nbformat.v3 import new_code_cell as v3_cell
    from nbformat.v3 import new_notebook as v3_notebook
    from nbformat.v3 import new_worksheet

    old = v3_notebook(worksheets=[new_worksheet(cells=[v3_cell(input="1+1")])])
    (disk / "old.ipynb").write_text(nbformat.v3.writes_json(old))
    model = client.get(f"api/contents/{api}/old.ipynb").json()
    assert model["content"]["nbformat"] == 4
    assert model["content"]["cells"][0]["source"] == "1+1"


def test_a_notebook_that_breaks_the_schema_is_returned_with_a_message(
    client: httpx.Client, folder
) -> None:
    api, disk = folder
    cell = {"cell_type": "code", "id": "c1", "metadata": {}, "outputs": [], "source": "1"}
    cell["execution_count"] = "one"  # must be an integer or null
    broken = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    (disk / "bad.ipynb").write_text(json.dumps(broken))
    response = client.get(f"api/contents/{api}/bad.ipynb")
    assert response.status_code == 200
    model = response.json()
    assert model["message"].startswith("Notebook validation failed")
    assert "'one'" in model["message"]
    assert model["content"]["cells"][0]["execution_count"] == "one"


def test_a_notebook_that_is_not_json_is_a_400_saying_so(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "bad.ipynb").write_text("{not json")
    response = client.get(f"api/contents/{api}/bad.ipynb")
    assert response.status_code == 400
    assert "Unreadable Notebook" in response.json()["message"]


def test_a_folder_lists_children_without_content(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    (disk / "sub").mkdir()
    (disk / "bad.ipynb").write_text("{not json")  # listed as a notebook, never read
    model = client.get(f"api/contents/{api}").json()
    assert model["type"] == "directory"
    assert model["format"] == "json"
    assert model["size"] is None
    children = {child["name"]: child for child in model["content"]}
    assert set(children) == {"a.txt", "sub", "bad.ipynb"}
    assert children["bad.ipynb"]["type"] == "notebook"
    assert children["sub"]["type"] == "directory"
    assert children["sub"]["size"] is None
    assert children["a.txt"]["size"] == 1
    assert children["a.txt"]["mimetype"] == "text/plain"
    for child in children.values():
        assert set(child) >= MODEL_KEYS
        assert child["content"] is None
        assert child["format"] is None
        assert child["path"] == f"{api}/{child['name']}"


def test_the_root_is_a_folder_with_an_empty_name(client: httpx.Client) -> None:
    for url in ("api/contents", "api/contents/"):
        model = client.get(url, params={"content": "0"}).json()
        assert model["type"] == "directory"
        assert model["name"] == ""
        assert model["path"] == ""


def test_listing_leaves_out_hide_globs(client: httpx.Client, folder) -> None:
    api, disk = folder
    for name in ("__pycache__", "x.pyc", "backup~", "keep.py"):
        (disk / name).write_text("x")
    names = {c["name"] for c in client.get(f"api/contents/{api}").json()["content"]}
    assert names == {"keep.py"}


def test_a_missing_path_is_404_naming_it(client: httpx.Client, folder) -> None:
    api, _ = folder
    response = client.get(f"api/contents/{api}/nope.txt")
    assert response.status_code == 404
    assert response.json()["message"] == f"file or directory '{api}/nope.txt' does not exist"


def test_type_mismatch_is_400(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    assert client.get(f"api/contents/{api}/a.txt", params={"type": "directory"}).status_code == 400
    assert client.get(f"api/contents/{api}", params={"type": "file"}).status_code == 400


def test_requests_without_a_token_are_refused(contents_server, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("secret")
    with contents_server.client(token="") as anonymous:
        assert anonymous.get(f"api/contents/{api}/a.txt").status_code in (401, 403)
        assert anonymous.put(f"api/contents/{api}/b.txt", json={}).status_code in (401, 403)
        assert anonymous.get(f"files/{api}/a.txt").status_code in (401, 403)
    assert not (disk / "b.txt").exists()
