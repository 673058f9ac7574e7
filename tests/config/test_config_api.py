"""``/api/config/{section}``: frontend config sections kept as JSON files.

The app runs in-process (``app_factory``); the restart test restarts a real server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunningServer


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "serverconfig"


@pytest.fixture
def server(app_factory: Callable[..., RunningServer], config_dir: Path) -> RunningServer:
    return app_factory("--set", f"config.config_dir={config_dir}", plugins="config")


def test_a_section_never_written_is_an_empty_object(server: RunningServer) -> None:
    with server.client() as client:
        response = client.get("api/config/notebook")
    assert response.status_code == 200
    assert response.json() == {}


def test_put_replaces_the_section_and_stores_it_as_a_json_file(
    server: RunningServer, config_dir: Path
) -> None:
    with server.client() as client:
        client.put("api/config/notebook", json={"old": True})
        response = client.put("api/config/notebook", json={"load_extensions": {"x": True}})
        assert response.status_code == 204
        assert client.get("api/config/notebook").json() == {"load_extensions": {"x": True}}
    on_disk = json.loads((config_dir / "notebook.json").read_text())
    assert on_disk == {"load_extensions": {"x": True}}
    # Nothing half-written is left next to it.
    assert [p.name for p in config_dir.iterdir()] == ["notebook.json"]


def test_patch_merges_nested_objects_deletes_null_keys_and_returns_the_result(
    server: RunningServer,
) -> None:
    with server.client() as client:
        client.put("api/config/tree", json={"a": {"b": 1, "c": 2}, "gone": 1, "keep": [1]})
        response = client.patch("api/config/tree", json={"a": {"b": None, "d": 3}, "gone": None})
        assert response.status_code == 200
        expected = {"a": {"c": 2, "d": 3}, "keep": [1]}
        assert response.json() == expected
        assert client.get("api/config/tree").json() == expected


def test_patch_of_a_new_section_creates_it(server: RunningServer) -> None:
    with server.client() as client:
        assert client.patch("api/config/fresh", json={"x": {"y": 1}}).json() == {"x": {"y": 1}}
        assert client.get("api/config/fresh").json() == {"x": {"y": 1}}


def test_sections_survive_a_server_restart(
    server_factory: Callable[..., RunningServer], config_dir: Path
) -> None:
    first = server_factory("--set", f"config.config_dir={config_dir}", plugins="config")
    with first.client() as client:
        client.put("api/config/notebook", json={"theme": "dark"})
    first.stop()
    second = server_factory("--set", f"config.config_dir={config_dir}", plugins="config")
    with second.client() as client:
        assert client.get("api/config/notebook").json() == {"theme": "dark"}


@pytest.mark.parametrize("name", [".hidden", "..x", "a..b", "~home", "sp ace"])
def test_section_names_that_could_escape_or_hide_are_refused(
    server: RunningServer, name: str
) -> None:
    with server.client() as client:
        response = client.get(f"api/config/{name}")
        assert response.status_code == 400
        assert "section name" in response.json()["message"]
        assert client.put(f"api/config/{name}", json={}).status_code == 400


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"null", b"not json", b""])
def test_a_body_that_is_not_a_json_object_is_refused(server: RunningServer, body: bytes) -> None:
    with server.client() as client:
        for method in ("PUT", "PATCH"):
            response = client.request(method, "api/config/notebook", content=body)
            assert response.status_code == 400
            assert response.json()["message"]
        assert client.get("api/config/notebook").json() == {}


def test_a_corrupt_section_file_is_reported_not_a_server_error(
    server: RunningServer, config_dir: Path
) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "broken.json").write_text("{not json")
    with server.client() as client:
        response = client.get("api/config/broken")
    assert response.status_code == 409
    assert "broken.json" in response.json()["message"]


def test_config_needs_authentication(server: RunningServer) -> None:
    with server.client(token="") as client:
        assert client.get("api/config/notebook").status_code in (401, 403)
        assert client.put("api/config/notebook", json={}).status_code in (401, 403)
