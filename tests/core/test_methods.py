"""A method a path does not serve gets 405 with ``Allow`` listing every method it serves."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from modserver import create_app

with warnings.catch_warnings():
    # Starlette would rather its TestClient ran on httpx2; httpx serves it as well here.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "methods-token"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Kernels, contents and sessions in one app (lifespan run), authenticated as owner."""
    root = tmp_path_factory.mktemp("root")
    (root / "x").mkdir()
    app = create_app(
        plugins=["kernels", "contents", "sessions"],
        settings={
            "root_dir": str(root),
            "runtime_dir": str(root.parent / "runtime"),
            "auth": {"token": TOKEN},
        },
        use_env=False,
    )
    with TestClient(
        app, base_url="http://127.0.0.1", headers={"Authorization": f"token {TOKEN}"}
    ) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/kernels", "GET, HEAD, POST"),
        ("PUT", "/api/kernels", "GET, HEAD, POST"),
        ("PATCH", "/api/contents/x/checkpoints", "GET, HEAD, POST"),
        ("GET", "/api/contents/x/checkpoints/abc", "DELETE, POST"),
        ("POST", "/api/sessions/abc", "DELETE, GET, HEAD, PATCH"),
        ("DELETE", "/api/status", "GET, HEAD"),
    ],
)
def test_method_a_path_does_not_serve_is_405_allowing_every_method_it_serves(
    client: TestClient, method: str, path: str, allow: str
):
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json() == {"message": "Method Not Allowed", "reason": "Method Not Allowed"}


def test_each_method_of_a_path_still_reaches_its_own_route(client: TestClient):
    assert client.get("/api/kernels").json() == []
    assert client.get("/api/contents/x/checkpoints").json() == []
    assert client.patch("/api/contents/x", json={"path": "y"}).json()["path"] == "y"
    assert client.head("/api/status").status_code == 200


def test_the_spec_under_a_base_url_says_where_its_paths_start(tmp_path: Path) -> None:
    app = create_app(
        plugins=["contents"],
        settings={
            "root_dir": str(tmp_path),
            "runtime_dir": str(tmp_path / "runtime"),
            "base_url": "/x/",
            "auth": {"token": TOKEN},
        },
        use_env=False,
    )
    headers = {"Authorization": f"token {TOKEN}"}
    with TestClient(app, base_url="http://127.0.0.1", headers=headers) as test_client:
        spec = yaml.safe_load(test_client.get("/x/api/spec.yaml").text)
    assert spec["servers"] == [{"url": "/x/"}]
    assert "/api/contents/{path}" in spec["paths"]  # relative to that
