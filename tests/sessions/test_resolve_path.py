"""``GET /api/resolvePath``: which scopes know a file path, as jupyter_server answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, serve_in_process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("resolve")
    root = base / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "table.csv").write_text("a,b\n")
    (root / ".secret").write_text("hidden")
    (base / "outside.txt").write_text("not served")
    (root / "escape").symlink_to(base / "outside.txt")
    running = serve_in_process(root, plugins="sessions,contents")
    yield running
    running.stop()


def resolve(server: RunningServer, **params: str) -> dict:
    with server.client() as client:
        response = client.get("api/resolvePath", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_existing_api_path_resolves_in_the_server_scope(server: RunningServer) -> None:
    assert resolve(server, path="data/table.csv") == {
        "resolved": [{"scope": "server", "path": "data/table.csv"}]
    }


def test_an_absolute_path_inside_the_root_resolves_to_its_api_path(
    server: RunningServer,
) -> None:
    absolute = str(Path(server.root_dir).resolve() / "data" / "table.csv")
    assert resolve(server, path=absolute)["resolved"] == [
        {"scope": "server", "path": "data/table.csv"}
    ]


@pytest.mark.parametrize(
    "path",
    ["data/missing.csv", "../outside.txt", "/etc/passwd", "escape", ".secret", "~/x"],
)
def test_missing_outside_and_hidden_paths_resolve_nowhere(server: RunningServer, path: str) -> None:
    assert resolve(server, path=path) == {"resolved": []}


def test_an_unknown_kernel_is_reported_unresolved(server: RunningServer) -> None:
    kernel = "00000000-0000-0000-0000-000000000000"
    assert resolve(server, path="data", kernel=kernel) == {
        "resolved": [{"scope": "server", "path": "data"}],
        "unresolved": [{"scope": "kernel", "reason": f"Kernel {kernel} could not be found"}],
    }


def test_path_is_required_and_auth_too(server: RunningServer) -> None:
    with server.client() as client:
        missing = client.get("api/resolvePath")
    assert missing.status_code == 400
    assert "path" in missing.json()["message"]
    with server.client(token="") as anonymous:
        assert anonymous.get("api/resolvePath", params={"path": "data"}).status_code == 401
