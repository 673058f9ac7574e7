"""Services' errors escaping any plugin's route become JSON errors with their status."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from modserver.app import assemble, build
from modserver.plugins import ENTRY_POINT_GROUP, InstalledPlugin
from modserver.settings import gather
from starlette.websockets import WebSocketDisconnect

with warnings.catch_warnings():
    # Starlette would rather its TestClient ran on httpx2; httpx serves it as well here.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "route-errors-token"


def installed(**targets: str) -> dict[str, InstalledPlugin]:
    return {
        name: InstalledPlugin(name, EntryPoint(name, target, ENTRY_POINT_GROUP))
        for name, target in targets.items()
    }


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The raiser plugin (and auth) in one app, its lifespan run, authenticated as owner."""
    raw = gather(
        env={},
        cli={"root_dir": str(tmp_path), "plugins": "raiser"},
        cli_sets=[f"auth.token={TOKEN}", f"runtime_dir={tmp_path / 'runtime'}"],
    )
    plugins = installed(
        auth="modserver_auth.plugin:plugin", raiser="tests.core.erroring_plugins:raiser"
    )
    app = assemble(build(raw, plugins))
    with TestClient(
        app, base_url="http://127.0.0.1", headers={"Authorization": f"token {TOKEN}"}
    ) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("kind", "status", "message", "reason"),
    [
        ("contents", 409, "File already exists: a.txt", "Conflict"),
        ("kernel", 404, "Kernel does not exist: k1", "Not Found"),
        ("session", 410, "The session's kernel was gone", "Gone"),
        ("http", 418, "I'm a teapot, said the plugin", "I'm a Teapot"),
    ],
)
def test_service_error_in_a_third_party_route_is_a_json_error(
    client: TestClient, kind: str, status: int, message: str, reason: str
):
    response = client.get(f"/raiser/{kind}")
    assert response.status_code == status
    assert response.json() == {"message": message, "reason": reason}


def test_service_error_in_a_websocket_route_closes_it_with_the_message(client: TestClient):
    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect("ws://127.0.0.1/raiser-socket"),
    ):
        pass
    assert info.value.code == 1008
    assert info.value.reason == "Kernel does not exist: k1"
