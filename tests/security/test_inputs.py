"""No input makes the server answer 500 (issue 11, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import nbformat
import pytest
from nbformat.v4 import new_notebook
from websockets.sync.client import connect

from tests.conftest import start_server
from tests.security.conftest import Site, assert_clean_log

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def _session_id(client: httpx.Client, folder: str) -> str:
    body = {"path": f"{folder}/n.ipynb", "type": "notebook", "name": "", "kernel": {"name": "tiny"}}
    response = client.post("api/sessions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "api/kernels"),
        ("POST", "api/sessions"),
        ("PUT", "api/config/deep"),
        ("PATCH", "api/config/deep"),
        ("PATCH", "api/me"),
        ("PUT", "api/contents/deep.txt"),
        ("POST", "api/contents"),
    ],
)
def test_a_body_nested_100000_deep_is_a_400(
    client: httpx.Client, site: Site, method: str, path: str
) -> None:
    for body in (DEEP, DEEP_OBJECT):
        response = client.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert response.json()["message"]
    assert_clean_log(site.server)


def test_patching_a_session_with_a_deep_body_is_a_400(
    client: httpx.Client, site: Site, folder: tuple[str, Path]
) -> None:
    session = _session_id(client, folder[0])
    try:
        response = client.patch(
            f"api/sessions/{session}", content=DEEP, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
    finally:
        client.delete(f"api/sessions/{session}")
    assert_clean_log(site.server)


def test_a_deep_kernel_websocket_frame_is_dropped_and_the_socket_keeps_working(
    client: httpx.Client, site: Site
) -> None:
    kernel = client.post("api/kernels", json={"name": "tiny"}).json()["id"]
    try:
        url = site.server.ws_url(f"api/kernels/{kernel}/channels?session_id=deep")
        headers = {"Authorization": f"token {site.server.token}"}
        with connect(url, additional_headers=headers, max_size=None) as ws:
            ws.send('{"header": ' + "[" * 100_000 + "]" * 100_000 + "}")
            ws.send(json.dumps({"header": [float("nan")]}).replace("NaN", "NaN"))
            ws.send(b"\xff\xfe not utf-8")
        # The server is still answering and logged no traceback.
        assert client.get(f"api/kernels/{kernel}").status_code == 200
    finally:
        client.delete(f"api/kernels/{kernel}")
    assert_clean_log(site.server)


def test_nan_and_infinity_are_refused_and_nothing_is_stored(
    client: httpx.Client, site: Site
) -> None:
    for body in (b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": 1e999}'):
        response = client.put(
            "api/config/numbers", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, body
    assert client.get("api/config/numbers").json() == {}
    assert not (site.config_dir / "numbers.json").exists()


def test_a_config_file_holding_nan_on_disk_is_a_readable_4xx(
    client: httpx.Client, site: Site
) -> None:
    (site.config_dir / "written-by-hand.json").write_text('{"a": NaN}')
    response = client.get("api/config/written-by-hand")
    assert response.status_code == 409
    assert "not valid JSON" in response.json()["message"]


@pytest.mark.parametrize(
    "breakage",
    [
        {"source": [1, 2, 3]},
        {"attachments": ["not", "a", "dict"]},
    ],
)
def test_a_notebook_with_an_unreadable_structure_is_refused_on_save(
    client: httpx.Client, folder: tuple[str, Path], breakage: dict[str, object]
) -> None:
    api, disk = folder
    nb = json.loads(nbformat.writes(new_notebook()))
    cell = {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "x", **breakage}
    nb["cells"] = [cell]
    response = client.put(f"api/contents/{api}/bad.ipynb", json={"type": "notebook", "content": nb})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Notebook validation failed")
    assert not (disk / "bad.ipynb").exists()


def test_a_notebook_with_an_unreadable_structure_on_disk_is_a_readable_400(
    client: httpx.Client, folder: tuple[str, Path]
) -> None:
    api, disk = folder
    nb = json.loads(nbformat.writes(new_notebook()))
    nb["cells"] = [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": [1, 2]}]
    (disk / "bad.ipynb").write_text(json.dumps(nb))
    response = client.get(f"api/contents/{api}/bad.ipynb")
    assert response.status_code == 400
    assert "Unreadable Notebook" in response.json()["message"]
    # The raw file stays available for repair.
    assert client.get(f"files/{api}/bad.ipynb").status_code == 200


def test_a_244_character_name_saves_reads_and_checkpoints(
    client: httpx.Client, folder: tuple[str, Path]
) -> None:
    api, disk = folder
    name = "n" * 238 + ".ipynb"
    assert len(name) == 244
    nb = json.loads(nbformat.writes(new_notebook()))
    response = client.put(f"api/contents/{api}/{name}", json={"type": "notebook", "content": nb})
    assert response.status_code == 201, response.text
    assert client.get(f"api/contents/{api}/{name}").status_code == 200
    text = "t" * 240 + ".txt"
    response = client.put(
        f"api/contents/{api}/{text}", json={"type": "file", "format": "text", "content": "hi"}
    )
    assert response.status_code == 201, response.text
    assert (disk / text).read_text() == "hi"


def test_a_name_over_the_file_system_limit_is_a_400_saying_so(
    client: httpx.Client, site: Site, folder: tuple[str, Path]
) -> None:
    api, _disk = folder
    name = "x" * 300 + ".txt"
    for response in (
        client.put(
            f"api/contents/{api}/{name}", json={"type": "file", "format": "text", "content": ""}
        ),
        client.get(f"api/contents/{api}/{name}"),
        client.patch(f"api/contents/{api}", json={"path": f"{api}/{name}"}),
    ):
        assert response.status_code == 400
        assert "too long" in response.json()["message"]
    assert_clean_log(site.server)


def test_copying_a_folder_into_its_own_subfolder_is_a_400_creating_nothing(
    client: httpx.Client, folder: tuple[str, Path]
) -> None:
    api, disk = folder
    (disk / "a" / "sub").mkdir(parents=True)
    (disk / "a" / "f.txt").write_text("x")
    before = sorted(str(p) for p in disk.rglob("*"))
    response = client.post(f"api/contents/{api}/a/sub", json={"copy_from": f"{api}/a"})
    assert response.status_code == 400
    assert "into itself" in response.json()["message"]
    assert sorted(str(p) for p in disk.rglob("*")) == before


@pytest.mark.parametrize("path", ["../../etc", "/etc", "a/../../..", "~/x"])
def test_a_kernel_path_outside_the_root_is_a_400_and_starts_nothing(
    client: httpx.Client, site: Site, path: str
) -> None:
    before = client.get("api/kernels").json()
    response = client.post("api/kernels", json={"name": "tiny", "path": path})
    assert response.status_code == 400
    assert client.get("api/kernels").json() == before
    assert_clean_log(site.server)


@pytest.mark.parametrize(
    "origin_template",
    ["http://127.0.0.1:{port}.evil.example", "http://127.0.0.1:99999", "http://[::1:{port}"],
)
def test_a_malformed_origin_is_refused_cleanly(
    client: httpx.Client, site: Site, origin_template: str
) -> None:
    origin = origin_template.format(port=site.server.port)
    response = client.get("api/contents", headers={"Origin": origin})
    assert response.status_code in (400, 403)
    assert_clean_log(site.server)


def test_a_wildcard_origin_never_goes_with_credentials(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    server = start_server(
        root,
        "--set",
        "auth.allow_origin=*",
        "--set",
        "auth.allow_credentials=true",
        plugins="contents",
    )
    try:
        with server.client() as http:
            origin = "https://any-site.example"
            for response in (
                http.get("api/contents", headers={"Origin": origin}),
                http.options(
                    "api/contents",
                    headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
                ),
            ):
                assert response.headers.get("access-control-allow-origin") == "*"
                assert "access-control-allow-credentials" not in response.headers
    finally:
        server.stop()
