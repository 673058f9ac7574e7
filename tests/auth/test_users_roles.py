"""Several users with roles: owner does everything, editor no execute, viewer read only."""

from __future__ import annotations

import json

import pytest
from modserver_auth.tokens import hash_token
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.auth.conftest import (
    browser,
    login_with_form,
    password_hash,
    start_echo_server,
    xsrf_headers,
)
from tests.conftest import TOKEN, RunningServer

EDITOR_TOKEN = "editor-token-aaaaaaaaaaaaaaaaaaaa"
VIEWER_TOKEN = "viewer-token-bbbbbbbbbbbbbbbbbbbb"
USERS = {
    "ed": {"role": "editor", "token_hash": hash_token(EDITOR_TOKEN), "display_name": "Ed Itor"},
    "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
    "alice": {"role": "editor", "password_hash": password_hash("alice pw"), "color": "#0a0"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("root")
    server = start_echo_server(root, f"auth.users={json.dumps(USERS)}")
    yield server
    server.stop()


def test_each_user_token_identifies_its_user(server: RunningServer):
    me = server.client(token=EDITOR_TOKEN).get("api/me").json()["identity"]
    assert me["username"] == "ed" and me["display_name"] == "Ed Itor" and me["initials"] == "EI"
    assert server.client(token=VIEWER_TOKEN).get("api/me").json()["identity"]["username"] == "vi"
    assert server.client(token=TOKEN).get("api/me").json()["identity"]["username"] == "owner"


def test_viewer_may_read_but_not_write(server: RunningServer):
    viewer = server.client(token=VIEWER_TOKEN)
    assert viewer.get("api/status").status_code == 200
    response = viewer.patch("api/me", json={"display_name": "V"})
    assert response.status_code == 403
    assert response.json()["message"] == "User 'vi' (viewer) may not write users"
    asked = json.dumps({"contents": ["read", "write", "execute"]})
    permissions = viewer.get("api/me", params={"permissions": asked}).json()["permissions"]
    assert permissions == {"contents": ["read"], "updatable_fields": []}


def test_editor_may_write_but_not_execute(server: RunningServer):
    editor = server.client(token=EDITOR_TOKEN)
    assert editor.patch("api/me", json={"display_name": "Eddie"}).status_code == 200
    response = editor.post("api/shutdown")
    assert response.status_code == 403
    assert response.json()["message"] == "User 'ed' (editor) may not execute server"
    with pytest.raises(InvalidStatus) as info:
        connect(
            server.ws_url("echo"), additional_headers={"Authorization": f"token {EDITOR_TOKEN}"}
        )
    assert info.value.response.status_code == 403


def test_viewer_may_open_a_read_only_websocket_but_not_an_execute_one(server: RunningServer):
    headers = {"Authorization": f"token {VIEWER_TOKEN}"}
    with connect(server.ws_url("watch"), additional_headers=headers) as ws:
        assert ws.recv(timeout=10) == "vi"
    with pytest.raises(InvalidStatus):
        connect(server.ws_url("echo"), additional_headers=headers)


def test_owner_may_execute(server: RunningServer):
    with connect(
        server.ws_url("echo"), additional_headers={"Authorization": f"token {TOKEN}"}
    ) as ws:
        ws.send("run")
        assert ws.recv(timeout=10) == "owner: run"


def test_user_logs_in_with_name_and_password(server: RunningServer):
    client = browser(server)
    page = client.get("login").text
    assert '<label for="username">User name</label>' in page
    assert login_with_form(client, "alice pw", username="alice").status_code == 302
    me = client.get("api/me").json()["identity"]
    assert me["username"] == "alice" and me["color"] == "#0a0"
    response = client.patch("api/me", json={"name": "Alice L."}, headers=xsrf_headers(client))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong"),
        ("bob", "alice pw"),
        ("owner", "alice pw"),
        ("", "alice pw"),
        ("vi", EDITOR_TOKEN),
    ],
)
def test_wrong_user_password_pairs_are_refused(server: RunningServer, username: str, password: str):
    client = browser(server)
    assert login_with_form(client, password, username=username).status_code == 401
    assert client.get("api/me").status_code == 401


def test_invalid_users_table_stops_startup_naming_the_key(tmp_path):
    from tests.conftest import start_server

    bad = {"carol": {"role": "admin", "password_hash": password_hash("x")}}
    with pytest.raises(AssertionError, match=r"auth.*users.*carol.*role"):
        start_server(tmp_path, "--set", f"auth.users={json.dumps(bad)}", plugins="auth")
    no_credential = {"dave": {"role": "viewer"}}
    with pytest.raises(AssertionError, match=r"password_hash or token_hash"):
        start_server(tmp_path, "--set", f"auth.users={json.dumps(no_credential)}", plugins="auth")


def test_refused_writes_leave_the_connection_usable(server: RunningServer):
    # The guard refuses before reading the body; the next request on the same
    # keep-alive connection must still get its answer (it raced a close before).
    viewer = server.client(token=VIEWER_TOKEN)
    for _ in range(150):
        assert viewer.patch("api/me", json={"display_name": "V" * 2000}).status_code == 403
        assert viewer.get("api/status").status_code == 200


def test_refused_large_upload_closes_the_connection(server: RunningServer):
    viewer = server.client(token=VIEWER_TOKEN)
    response = viewer.patch("api/me", content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 403
    assert response.headers["connection"] == "close"
    assert viewer.get("api/status").status_code == 200
