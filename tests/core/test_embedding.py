"""Embedding: modserver mounted under a sub-path of a host Starlette app, lifespan running,
served by each ASGI server the tests know (hypercorn and uvicorn)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ASGI_SERVERS, TOKEN, embed_host


@pytest.fixture(scope="module", params=ASGI_SERVERS)
def host_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The host app under one ASGI server, shared by this module's tests."""
    with embed_host(tmp_path_factory.mktemp("root"), request.param) as url:
        yield url


def test_mounted_modserver_serves_under_sub_path(host_url: str):
    assert httpx.get(host_url + "/").text == "host home"
    assert httpx.get(host_url + "/jupyter/api").json() == {"version": "0.1.0"}


def test_mounted_modserver_ran_its_plugins_lifespan(host_url: str):
    # /hello needs the Greeter service, which exists only once the plugins started.
    headers = {"Authorization": f"token {TOKEN}"}
    response = httpx.get(host_url + "/jupyter/hello", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, owner!"}
    assert httpx.get(host_url + "/jupyter/api/status", headers=headers).json()["greetings"] == 1


def test_mounted_modserver_still_requires_auth(host_url: str):
    assert httpx.get(host_url + "/jupyter/hello").status_code == 401
