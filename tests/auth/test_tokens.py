"""Tokens: where they come from, how they are accepted, and that they never leak."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.auth.conftest import browser, wait_for_log
from tests.conftest import TOKEN, RunningServer, start_server

OPEN_LINE = re.compile(r"open: \S+\?token=(\S+)")


def printed_token(server: RunningServer) -> str:
    """The token of the "open:" line, printed just after the line the fixture waits for."""
    deadline = time.monotonic() + 10
    while (match := OPEN_LINE.search(server.log())) is None:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.02)
    return match.group(1)


@pytest.fixture(scope="module")
def server(module_servers) -> RunningServer:
    return module_servers(plugins="hello")


def test_request_without_token_is_refused_with_json_401(server: RunningServer):
    response = server.client(token="").get("api/status")
    assert response.status_code == 401
    assert response.json()["reason"] == "Unauthorized"
    assert "token" in response.json()["message"]


@pytest.mark.parametrize(
    "header",
    [
        "token wrong-token",
        "Bearer wrong-token",
        f"token {TOKEN}x",
        f"token {TOKEN[:-1]}",
        "token",
        "Basic abc",
    ],
)
def test_wrong_token_is_refused_and_not_echoed(server: RunningServer, header: str):
    response = server.client(token="").get("api/status", headers={"Authorization": header})
    assert response.status_code == 401
    assert "wrong-token" not in response.text and TOKEN not in response.text


@pytest.mark.parametrize("scheme", ["token", "Bearer", "bearer"])
def test_token_accepted_in_authorization_header(server: RunningServer, scheme: str):
    client = server.client(token="")
    response = client.get("hello", headers={"Authorization": f"{scheme} {TOKEN}"})
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, owner!"}


def test_token_accepted_as_query_argument_and_sets_login_cookie(server: RunningServer):
    client = browser(server)
    response = client.get("hello", params={"token": TOKEN})
    assert response.status_code == 200
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("modserver-login-")
    )
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    # The cookie alone now authenticates.
    assert client.get("hello").json() == {"message": "Hello, owner!"}


def test_page_load_with_token_redirects_to_same_url_without_it(server: RunningServer):
    client = browser(server)
    response = client.get(
        "hello", params={"token": TOKEN, "x": "1"}, headers={"Sec-Fetch-Mode": "navigate"}
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/hello?x=1"
    assert client.get("hello", headers={"Sec-Fetch-Mode": "navigate"}).status_code == 200


def test_wrong_query_token_sets_no_cookie(server: RunningServer):
    client = browser(server)
    response = client.get("hello", params={"token": "nope"})
    assert response.status_code == 401
    assert not any(
        c.startswith("modserver-login-") for c in response.headers.get_list("set-cookie")
    )


def test_token_is_printed_once_and_never_logged_after(server: RunningServer):
    client = server.client()
    client.get("api/status")
    client.get("hello", params={"token": TOKEN})
    server.client(token="").get("api/status", headers={"Authorization": "token wrong"})
    assert wait_for_log(server, "open: ").count(TOKEN) == 1  # the "open:" line only


def test_random_token_per_start_and_old_token_is_refused(tmp_path: Path):
    first = start_server(tmp_path, token="", plugins="auth")
    try:
        old = printed_token(first)
        assert first.client(token=old).get("api/status").status_code == 200
    finally:
        first.stop()
    second = start_server(tmp_path, token="", plugins="auth")
    try:
        new = printed_token(second)
        assert new != old and len(new) >= 32
        assert second.client(token=old).get("api/status").status_code == 401
        assert second.client(token=new).get("api/status").status_code == 200
    finally:
        second.stop()


def test_token_from_environment_variable(tmp_path: Path):
    server = start_server(
        tmp_path, token="", env={"MODSERVER_TOKEN": "env-token-123"}, plugins="auth"
    )
    try:
        assert server.client(token="env-token-123").get("api/status").status_code == 200
        assert printed_token(server) == "env-token-123"
    finally:
        server.stop()


def test_token_from_file(tmp_path: Path):
    token_file = tmp_path / "token.txt"
    token_file.write_text("file-token-456\n")
    root = tmp_path / "root"
    root.mkdir()
    server = start_server(root, "--set", f"auth.token_file={token_file}", token="", plugins="auth")
    try:
        assert server.client(token="file-token-456").get("api/status").status_code == 200
        assert server.client(token="file-token-45").get("api/status").status_code == 401
    finally:
        server.stop()


def test_unreadable_token_file_stops_startup_naming_the_setting(tmp_path: Path):
    with pytest.raises(AssertionError, match=r"auth.token_file .*missing.txt"):
        start_server(
            tmp_path,
            "--set",
            f"auth.token_file={tmp_path / 'missing.txt'}",
            token="",
            plugins="auth",
        )


def test_empty_token_setting_is_an_error_pointing_at_auth_mode(tmp_path: Path):
    with pytest.raises(AssertionError, match=r"auth.token.*auth.mode = 'none'"):
        start_server(tmp_path, "--set", "auth.token=", token="", plugins="auth")
