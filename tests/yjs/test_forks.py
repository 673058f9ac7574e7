"""Forks of a shared document, as ``@jupyter/docprovider``'s ForkManager calls them.

``PUT /api/collaboration/fork/{room}`` copies an open document into a room of its own,
``GET`` lists a document's forks, ``DELETE /api/collaboration/fork/{fork}?merge=true``
writes a fork's changes back; creating and deleting are events on the event bus. Real
server (yjs and events plugins), real y-websocket clients, the notebook on disk.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import RunningServer
from tests.events.test_events import next_event, subscribe
from tests.yjs.conftest import VIEWER_TOKEN, read_sources, start_yjs_server, write_notebook
from tests.yjs.test_collaboration import opened, sources, type_into, wait_until
from tests.yjs.yclient import YClient

FORK_EVENTS = "https://schema.jupyter.org/jupyter_collaboration/fork/v1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("forks") / "root"
    root.mkdir()
    running = start_yjs_server(root, plugins="yjs,events")
    yield running
    running.stop()


def fork_api(
    server: RunningServer, method: str, room: str, token: str | None = None, **kwargs: object
) -> httpx.Response:
    with server.client(token=token) as http:
        return http.request(method, f"api/collaboration/fork/{room}", **kwargs)  # type: ignore[arg-type]


def test_a_synchronized_fork_follows_the_document_and_merges_back_into_it(
    server: RunningServer,
) -> None:
    write_notebook(server.root_dir / "draft.ipynb", "x = 1")
    alice = opened(server, "draft.ipynb")
    room = f"json:notebook:{alice_file_id(server, 'draft.ipynb')}"
    with subscribe(server) as events:
        body = {"title": "Draft", "description": "try things", "synchronize": True}
        created = fork_api(server, "PUT", room, json=body)
        assert created.status_code == 201, created.text
        model = created.json()
        fork_id = model["fork_roomid"]
        info = {"root_roomid": room, "synchronize": True, "title": "Draft"}
        assert model["fork_info"] == {**info, "description": "try things"}
        event = next_event(events, FORK_EVENTS)
        assert (event["action"], event["fork_roomid"]) == ("create", fork_id)
        assert fork_api(server, "GET", room).json() == {fork_id: model["fork_info"]}

        draft = YClient.connect(server, fork_id, session_id=model["sessionId"])
        try:
            draft.pump_until(lambda: draft.synced and sources(draft) == ["x = 1"])
            # The document's changes flow into the fork...
            type_into(alice, 0, " # shared")
            draft.pump_until(lambda: sources(draft) == ["x = 1 # shared"])
            # ...but the fork's stay there until it is merged.
            type_into(draft, 0, " # drafted")
            peek = YClient.connect(server, fork_id)
            peek.pump_until(lambda: peek.synced and sources(peek) == ["x = 1 # shared # drafted"])
            peek.close()
            late = opened(server, "draft.ipynb")
            late.close()
            assert sources(late) == ["x = 1 # shared"]

            refused = fork_api(server, "DELETE", fork_id, VIEWER_TOKEN, params={"merge": "true"})
            assert refused.status_code == 403
            merged = fork_api(server, "DELETE", fork_id, params={"merge": "true"})
            assert merged.status_code == 204
            event = next_event(events, FORK_EVENTS)
            assert (event["action"], event["fork_roomid"]) == ("delete", fork_id)
            alice.pump_until(lambda: sources(alice) == ["x = 1 # shared # drafted"])
            # The fork's clients are let go; the fork is gone from the list.
            draft.wait_closed()
        finally:
            draft.close()
    assert fork_api(server, "GET", room).json() == {}
    wait_until(
        lambda: read_sources(server.root_dir / "draft.ipynb") == ["x = 1 # shared # drafted"]
    )
    alice.close()


def test_a_fork_deleted_without_merge_leaves_the_document_alone(server: RunningServer) -> None:
    write_notebook(server.root_dir / "scratch.ipynb", "y = 2")
    alice = opened(server, "scratch.ipynb")
    try:
        room = f"json:notebook:{alice_file_id(server, 'scratch.ipynb')}"
        fork_id = fork_api(server, "PUT", room, json={}).json()["fork_roomid"]
        scratch = YClient.connect(server, fork_id)
        scratch.pump_until(lambda: scratch.synced and sources(scratch) == ["y = 2"])
        type_into(scratch, 0, " # thrown away")
        peek = YClient.connect(server, fork_id)
        peek.pump_until(lambda: peek.synced and sources(peek) == ["y = 2 # thrown away"])
        peek.close()
        type_into(alice, 0, " # kept")
        # A fork is shared by the document's users: a viewer neither ends nor makes one.
        refused = fork_api(server, "DELETE", fork_id, VIEWER_TOKEN, params={"merge": "false"})
        assert refused.status_code == 403
        assert fork_api(server, "PUT", room, VIEWER_TOKEN, json={}).status_code == 403
        dropped = fork_api(server, "DELETE", fork_id, params={"merge": "false"})
        assert dropped.status_code == 204
        scratch.close()
        late = opened(server, "scratch.ipynb")
        late.pump_until(lambda: sources(late) == ["y = 2 # kept"])
        late.close()
    finally:
        alice.close()


def test_fork_requests_with_bad_input_are_4xx_with_a_message(server: RunningServer) -> None:
    write_notebook(server.root_dir / "bad.ipynb", "z = 3")
    alice = opened(server, "bad.ipynb")
    try:
        room = f"json:notebook:{alice_file_id(server, 'bad.ipynb')}"
        for method, target, kwargs, status in (
            ("PUT", "json:notebook:" + "0" * 32, {"json": {}}, 404),
            ("PUT", room, {"json": {"synchronize": "yes"}}, 400),
            ("PUT", room, {"json": {"title": 3}}, 400),
            ("DELETE", "0" * 32, {}, 404),
            ("DELETE", room, {"params": {"merge": "maybe"}}, 400),
        ):
            reply = fork_api(server, method, target, **kwargs)
            assert reply.status_code == status, (method, target, kwargs, reply.text)
            assert "message" in reply.json()
    finally:
        alice.close()


def alice_file_id(server: RunningServer, path: str) -> str:
    """The file id the session PUT gave (already indexed: 200)."""
    from tests.yjs.yclient import put_session

    return str(put_session(server, path).json()["fileId"])
