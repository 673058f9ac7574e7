"""Origins and hosts: forged Origin (HTTP and WebSocket), CORS with preflight, DNS rebinding."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.auth.conftest import start_echo_server
from tests.conftest import TOKEN, RunningServer

AUTH = {"Authorization": f"token {TOKEN}"}


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory):
    root: Path = tmp_path_factory.mktemp("root")
    server = start_echo_server(
        root,
        "auth.allow_origin_pat=https://([a-z]+\\.)?good\\.example",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cors(module_apps) -> RunningServer:
    return module_apps(
        "--set",
        "auth.allow_origin=https://app.example",
        "--set",
        "auth.allow_credentials=true",
        plugins="hello",
    )


def own_origin(server: RunningServer) -> str:
    return server.url.rstrip("/")


def test_forged_origin_on_http_is_refused_even_with_token(echo: RunningServer):
    response = echo.client().get("api/status", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "Origin 'https://evil.example' is not allowed" in response.json()["message"]


def test_same_origin_and_no_origin_are_accepted(echo: RunningServer):
    client = echo.client()
    assert client.get("api/status", headers={"Origin": own_origin(echo)}).status_code == 200
    assert client.get("api/status").status_code == 200


def test_allow_origin_pat_is_fully_anchored(echo: RunningServer):
    client = echo.client()
    assert (
        client.get("api/status", headers={"Origin": "https://lab.good.example"}).status_code == 200
    )
    for origin in (
        "https://good.example.evil.com",
        "https://evil.com/https://good.example",
        "http://good.example",
    ):
        assert client.get("api/status", headers={"Origin": origin}).status_code == 403, origin


def test_websocket_with_own_origin_and_token_connects(echo: RunningServer):
    with connect(echo.ws_url("echo"), additional_headers=AUTH, origin=own_origin(echo)) as ws:
        ws.send("hi")
        assert ws.recv(timeout=10) == "owner: hi"


def test_websocket_with_forged_origin_is_refused(echo: RunningServer):
    with pytest.raises(InvalidStatus) as info:
        connect(echo.ws_url("echo"), additional_headers=AUTH, origin="https://evil.example")
    assert info.value.response.status_code == 403
    assert b"not allowed" in info.value.response.body


def test_websocket_with_forged_origin_and_query_token_is_refused(echo: RunningServer):
    with pytest.raises(InvalidStatus) as info:
        connect(echo.ws_url(f"echo?token={TOKEN}"), origin="http://localhost.evil.example")
    assert info.value.response.status_code == 403


def test_websocket_without_credentials_is_refused(echo: RunningServer):
    with pytest.raises(InvalidStatus) as info:
        connect(echo.ws_url("echo"), origin=own_origin(echo))
    assert info.value.response.status_code == 403


def test_websocket_from_allowed_origin_connects(echo: RunningServer):
    with connect(echo.ws_url(f"echo?token={TOKEN}"), origin="https://good.example") as ws:
        ws.send("x")
        assert ws.recv(timeout=10) == "owner: x"


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8888", "127.0.0.1.nip.io", "10.0.0.5", "[2001:db8::1]:80"],
)
def test_dns_rebinding_host_is_refused(echo: RunningServer, host: str):
    response = echo.client().get("api/status", headers={"Host": host})
    assert response.status_code == 403
    assert "auth.allow_remote_access" in response.json()["message"]


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:1234", "127.0.0.1", "[::1]:99", "127.0.0.2"]
)
def test_local_hosts_are_accepted(echo: RunningServer, host: str):
    assert echo.client().get("api/status", headers={"Host": host}).status_code == 200


def test_dns_rebinding_host_is_refused_on_websocket(echo: RunningServer):
    # Connect to our port, but name the attacker's host, as a rebinding page would.
    sock = socket.create_connection(("127.0.0.1", echo.port))
    with pytest.raises(InvalidStatus) as info:
        connect(f"ws://evil.example:{echo.port}/echo", sock=sock, additional_headers=AUTH)
    assert info.value.response.status_code == 403


def test_configured_local_hostname_and_remote_access(module_apps):
    named = module_apps("--set", 'auth.local_hostnames=["box.lan"]', plugins="hello")
    assert named.client().get("api/status", headers={"Host": "box.lan:80"}).status_code == 200
    assert named.client().get("api/status", headers={"Host": "other.lan"}).status_code == 403
    remote = module_apps("--set", "auth.allow_remote_access=true", plugins="hello")
    assert remote.client().get("api/status", headers={"Host": "other.lan"}).status_code == 200


def test_cors_preflight_for_allowed_origin(cors: RunningServer):
    response = cors.client(token="").options(
        "api/me",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "authorization, content-type"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_cors_preflight_for_other_origin_is_refused(cors: RunningServer):
    response = cors.client(token="").options(
        "api/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"},
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_cors_headers_on_allowed_cross_origin_request(cors: RunningServer):
    response = cors.client().get("hello", headers={"Origin": "https://app.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert "Origin" in response.headers["vary"]
    assert cors.client().get("hello").headers.get("access-control-allow-origin") is None


def test_a_request_without_origin_gets_no_cors_headers_but_vary_origin(cors: RunningServer):
    response = cors.client().get("hello")
    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith("access-control-")]
    # A cache must not hand this answer to a cross-origin request, which gets CORS headers.
    assert response.headers["vary"] == "Origin"


def test_websocket_authenticated_by_login_cookie_from_own_page(echo: RunningServer):
    client = echo.client(token="")
    assert client.get("api/status", params={"token": TOKEN}).status_code == 200
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    with connect(
        echo.ws_url("echo"), additional_headers={"Cookie": cookie}, origin=own_origin(echo)
    ) as ws:
        ws.send("from the page")
        assert ws.recv(timeout=10) == "owner: from the page"
    # The same cookie from a foreign page is refused.
    with pytest.raises(InvalidStatus) as info:
        connect(
            echo.ws_url("echo"),
            additional_headers={"Cookie": cookie},
            origin="https://evil.example",
        )
    assert info.value.response.status_code == 403


def test_a_response_that_already_varies_gets_origin_added_to_its_vary():
    from modserver_auth.cors import _add_vary_origin

    start = {"type": "http.response.start", "status": 200, "headers": ((b"vary", b"Accept"),)}
    _add_vary_origin(start)
    assert start["headers"] == [(b"vary", b"Accept, Origin")]
