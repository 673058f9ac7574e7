"""Auth when modserver is mounted under a sub-path of a host app (tests/core/embed_host.py),
under hypercorn and under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ASGI_SERVERS, TOKEN, embed_host


@pytest.fixture(scope="module", params=ASGI_SERVERS)
def host_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The host app under one ASGI server (hypercorn, uvicorn), shared by this module."""
    with embed_host(tmp_path_factory.mktemp("root"), request.param) as url:
        yield url


def test_token_login_cookie_is_scoped_to_the_mount_path(host_url: str):
    client = httpx.Client(base_url=host_url)
    response = client.get(
        "/jupyter/hello", params={"token": TOKEN}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/jupyter/hello"
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("modserver-login-") and "Path=/jupyter/" in c for c in cookies)
    assert client.get("/jupyter/hello").json() == {"message": "Hello, owner!"}


def test_login_redirects_and_form_stay_under_the_mount_path(host_url: str):
    client = httpx.Client(base_url=host_url)
    response = client.get("/jupyter/hello", headers={"Accept": "text/html"})
    assert response.headers["location"] == "/jupyter/login?next=%2Fjupyter%2Fhello"
    page = client.get("/jupyter/login", params={"next": "/jupyter/hello"})
    assert 'action="/jupyter/login"' in page.text
    response = client.post(
        "/jupyter/login",
        data={"password": TOKEN, "_xsrf": client.cookies["_xsrf"], "next": "/elsewhere"},
    )
    assert response.status_code == 302 and response.headers["location"] == "/jupyter/"
    assert client.get("/jupyter/api/me").json()["identity"]["username"] == "owner"
