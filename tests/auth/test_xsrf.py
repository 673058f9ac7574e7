"""XSRF: unsafe requests authenticated by the login cookie must repeat the ``_xsrf`` cookie."""

from __future__ import annotations

import pytest

from tests.auth.conftest import browser, xsrf_headers
from tests.conftest import TOKEN, RunningServer


@pytest.fixture(scope="module")
def server(module_apps) -> RunningServer:
    return module_apps(plugins="hello")


def cookie_client(server: RunningServer):
    client = browser(server)
    assert client.get("api/status", params={"token": TOKEN}).status_code == 200
    assert "_xsrf" in client.cookies
    return client


def test_cookie_request_without_xsrf_header_is_refused(server: RunningServer):
    client = cookie_client(server)
    response = client.patch("api/me", json={"display_name": "Mallory"})
    assert response.status_code == 403
    assert "XSRF" in response.json()["message"]


def test_cookie_request_with_mismatched_xsrf_is_refused(server: RunningServer):
    client = cookie_client(server)
    response = client.patch(
        "api/me", json={"display_name": "Mallory"}, headers={"X-XSRFToken": "forged"}
    )
    assert response.status_code == 403
    assert "does not match" in response.json()["message"]


def test_cookie_request_with_xsrf_but_no_xsrf_cookie_is_refused(server: RunningServer):
    client = cookie_client(server)
    value = client.cookies["_xsrf"]
    client.cookies.delete("_xsrf")
    response = client.patch("api/me", json={"display_name": "x"}, headers={"X-XSRFToken": value})
    assert response.status_code == 403


def test_cookie_request_with_matching_xsrf_header_passes(server: RunningServer):
    client = cookie_client(server)
    response = client.patch("api/me", json={"display_name": "Ada"}, headers=xsrf_headers(client))
    assert response.status_code == 200
    assert response.json()["identity"]["display_name"] == "Ada"


def test_xsrf_may_come_as_query_argument(server: RunningServer):
    client = cookie_client(server)
    response = client.patch(
        "api/me", json={"display_name": "Ada"}, params={"_xsrf": client.cookies["_xsrf"]}
    )
    assert response.status_code == 200


def test_token_authenticated_requests_need_no_xsrf(server: RunningServer):
    client = server.client()
    assert client.patch("api/me", json={"color": "#123456"}).status_code == 200


def test_safe_methods_need_no_xsrf(server: RunningServer):
    assert cookie_client(server).get("hello").status_code == 200


def test_xsrf_cookie_is_readable_by_the_page(server: RunningServer):
    response = browser(server).get("login")
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("_xsrf="))
    assert "HttpOnly" not in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie


def test_x_csrftoken_header_is_accepted_too(server: RunningServer):
    client = cookie_client(server)
    headers = {"X-CSRFToken": client.cookies["_xsrf"]}
    assert client.patch("api/me", json={"initials": "AL"}, headers=headers).status_code == 200
