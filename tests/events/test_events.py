"""The event bus as jupyter_server 2.x serves it: ``/api/events/subscribe`` and ``POST /api/events``.

Real server, real WebSocket subscribers: contents saves, renames and deletes and kernel
starts and shutdowns reach them in jupyter_server's shapes; POST validates against the
registered schemas; roles decide who follows and who emits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from modserver_auth.tokens import hash_token
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import RunningServer, serve_in_process
from tests.kernels.conftest import install_tiny_kernelspec

CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
KERNELS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
EDITOR_TOKEN = "editor-token-aaaaaaaaaaaaaaaaaaaa"
VIEWER_TOKEN = "viewer-token-bbbbbbbbbbbbbbbbbbbb"
USERS = {
    "ed": {"role": "editor", "token_hash": hash_token(EDITOR_TOKEN)},
    "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("events")
    root = base / "root"
    root.mkdir()
    running = serve_in_process(
        root,
        "--set",
        f"auth.users={json.dumps(USERS)}",
        "--set",
        "contents.delete_to_trash=false",
        plugins="events,contents,kernels",
        env=install_tiny_kernelspec(base / "data"),
    )
    yield running
    running.stop()


def subscribe(server: RunningServer, token: str | None = None) -> ClientConnection:
    return connect(
        server.ws_url("api/events/subscribe"),
        additional_headers={"Authorization": f"token {token or server.token}"},
        open_timeout=30,
    )


def next_event(ws: ClientConnection, schema_id: str) -> dict[str, Any]:
    """The next event of ``schema_id`` (others, from other tests' actions, are skipped)."""
    while True:
        event = json.loads(ws.recv(timeout=30))
        if event["schema_id"] == schema_id:
            return event


def test_a_subscriber_receives_a_save_event_after_a_put(server: RunningServer):
    with subscribe(server) as ws, server.client() as client:
        response = client.put(
            "api/contents/saved.txt", json={"type": "file", "format": "text", "content": "hi"}
        )
        assert response.status_code == 201
        assert next_event(ws, CONTENTS) == {
            "schema_id": CONTENTS,
            "action": "save",
            "path": "saved.txt",
        }


def test_renames_copies_and_deletes_are_events_too(server: RunningServer):
    with subscribe(server) as ws, server.client() as client:
        client.put("api/contents/a.txt", json={"type": "file", "format": "text", "content": "a"})
        assert next_event(ws, CONTENTS)["action"] == "save"
        assert client.patch("api/contents/a.txt", json={"path": "b.txt"}).status_code == 200
        assert next_event(ws, CONTENTS) == {
            "schema_id": CONTENTS,
            "action": "rename",
            "path": "b.txt",
            "source_path": "a.txt",
        }
        copied = client.post("api/contents", json={"copy_from": "b.txt"})
        assert copied.status_code == 201
        event = next_event(ws, CONTENTS)
        assert event["action"] == "copy"
        assert event["source_path"] == "b.txt"
        assert event["path"] == copied.json()["path"]
        assert client.delete("api/contents/b.txt").status_code == 204
        assert next_event(ws, CONTENTS) == {
            "schema_id": CONTENTS,
            "action": "delete",
            "path": "b.txt",
        }


def test_kernel_starts_and_shutdowns_are_events(server: RunningServer):
    with subscribe(server) as ws, server.client() as client:
        kernel = client.post("api/kernels", json={"name": "tiny"}).json()
        started = next_event(ws, KERNELS)
        assert started == {
            "schema_id": KERNELS,
            "action": "start",
            "kernel_id": kernel["id"],
            "kernel_name": "tiny",
            "status": "success",
            "msg": f"Kernel {kernel['id']} was started.",
        }
        assert client.delete(f"api/kernels/{kernel['id']}").status_code == 204
        stopped = next_event(ws, KERNELS)
        assert stopped["action"] == "shutdown"
        assert stopped["kernel_id"] == kernel["id"]


def test_every_subscriber_receives_a_posted_event(server: RunningServer):
    body = {"schema_id": CONTENTS, "version": "1", "data": {"action": "get", "path": "x.txt"}}
    with subscribe(server) as first, subscribe(server) as second, server.client() as client:
        assert client.post("api/events", json=body).status_code == 204
        for ws in (first, second):
            assert next_event(ws, CONTENTS) == {
                "schema_id": CONTENTS,
                "action": "get",
                "path": "x.txt",
            }


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"schema_id": "https://example.org/nothing/v1", "version": "1", "data": {}},
            "Unregistered event schema",
        ),
        (
            {"schema_id": CONTENTS, "version": "1", "data": {"action": "explode", "path": "x"}},
            "Invalid data",
        ),
        ({"schema_id": CONTENTS, "version": "1", "data": {"action": "save"}}, "Invalid data"),
        (
            {"schema_id": CONTENTS, "version": "7", "data": {"action": "save", "path": "x"}},
            "Unregistered version",
        ),
        ({"schema_id": CONTENTS, "data": {"action": "save", "path": "x"}}, "Missing `version`"),
        (
            {
                "schema_id": CONTENTS,
                "version": "1",
                "data": {"action": "save", "path": "x"},
                "timestamp": "yesterday",
            },
            "timestamp",
        ),
    ],
)
def test_an_invalid_posted_event_is_a_400_and_reaches_nobody(
    server: RunningServer, body: dict[str, Any], says: str
):
    with subscribe(server) as ws, server.client() as client:
        response = client.post("api/events", json=body)
        assert response.status_code == 400
        assert says in response.json()["message"]
        # The next event a subscriber sees is a later, valid one.
        valid = {"schema_id": CONTENTS, "version": "1", "data": {"action": "get", "path": "ok"}}
        assert client.post("api/events", json=valid).status_code == 204
        assert next_event(ws, CONTENTS)["path"] == "ok"


def test_a_posted_timestamp_in_jupyter_servers_format_is_accepted(server: RunningServer):
    body = {
        "schema_id": CONTENTS,
        "version": "1",
        "data": {"action": "get", "path": "then"},
        "timestamp": "2022-05-26T13:50:00+05:00Z",
    }
    with server.client() as client:
        assert client.post("api/events", json=body).status_code == 204


@pytest.mark.parametrize("token", [EDITOR_TOKEN, VIEWER_TOKEN])
def test_every_role_may_follow_events(server: RunningServer, token: str):
    with subscribe(server, token) as ws, server.client() as client:
        client.put("api/contents/seen.txt", json={"type": "file", "format": "text", "content": ""})
        assert next_event(ws, CONTENTS)["path"] == "seen.txt"


@pytest.mark.parametrize("token", [EDITOR_TOKEN, VIEWER_TOKEN])
def test_only_the_owner_posts_events(server: RunningServer, token: str):
    body = {"schema_id": CONTENTS, "version": "1", "data": {"action": "get", "path": "x"}}
    with server.client(token=token) as client:
        assert client.post("api/events", json=body).status_code == 403


def test_no_subscription_without_authentication(server: RunningServer):
    with pytest.raises(InvalidStatus) as refused:
        connect(server.ws_url("api/events/subscribe"), open_timeout=30)
    assert refused.value.response.status_code in (401, 403)
