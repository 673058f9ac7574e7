"""The document timeline, as the collaboration frontend's status bar slider uses it.

Clicking the timeline button GETs ``api/collaboration/timeline/{path}``, moves the browser's
document to the fork room it names, and each slider move PUTs
``api/collaboration/undo_redo/{room}?action=undo|redo&&steps=N&&forkRoom=ID`` (the double
``&&`` is the frontend's); "Restore version" PUTs ``action=restore`` and reconnects to the
document's room. Real server, real y-websocket clients (pycrdt), the notebook on disk.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tests.conftest import RunningServer
from tests.yjs.conftest import VIEWER_TOKEN, read_sources, write_notebook
from tests.yjs.test_collaboration import opened, sources, type_into, wait_until
from tests.yjs.yclient import YClient


def timeline(server: RunningServer, path: str, token: str | None = None) -> httpx.Response:
    with server.client(token=token) as http:
        return http.get(f"api/collaboration/timeline/{path}?format=json&&type=notebook")


def undo_redo(
    server: RunningServer, room: str, action: str, steps: int, fork: str, token: str | None = None
) -> httpx.Response:
    query = f"action={action}&&steps={steps}&&forkRoom={fork}"
    with server.client(token=token) as http:
        return http.put(f"api/collaboration/undo_redo/{quote(room, safe='')}?{query}")


def test_the_timeline_walks_a_fork_back_and_forth_and_restore_writes_it_back(
    yjs_server: RunningServer,
) -> None:
    write_notebook(yjs_server.root_dir / "history.ipynb", "x = 1")
    alice = opened(yjs_server, "history.ipynb")
    bob = opened(yjs_server, "history.ipynb")
    for keystroke in "abc":
        type_into(alice, 0, keystroke)
    bob.pump_until(lambda: sources(bob) == ["x = 1abc"])

    reply = timeline(yjs_server, "history.ipynb")
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    # The state the room opened with, then one step per keystroke, oldest first.
    assert len(found["timestamps"]) == 4
    assert found["timestamps"] == sorted(found["timestamps"])
    room, fork_id = found["roomId"], found["forkRoom"]
    assert room.startswith("json:notebook:")

    # The browser moves its own document to the fork room, as the frontend does.
    alice.close()
    fork = YClient.connect(yjs_server, fork_id, session_id=found["sessionId"], doc=alice.doc)
    try:
        fork.pump_until(lambda: fork.synced)
        reply = undo_redo(yjs_server, room, "undo", 2, fork_id)
        assert reply.json() == {"status": "undone", "steps": 2}
        fork.pump_until(lambda: sources(fork) == ["x = 1a"])
        reply = undo_redo(yjs_server, room, "redo", 1, fork_id)
        assert reply.json() == {"status": "redone", "steps": 1}
        fork.pump_until(lambda: sources(fork) == ["x = 1ab"])
        # The oldest position is the document as it was loaded, never an empty one.
        assert undo_redo(yjs_server, room, "undo", 10, fork_id).json()["steps"] == 2
        fork.pump_until(lambda: sources(fork) == ["x = 1"])
        # Looking back changes nothing in the document itself.
        late = opened(yjs_server, "history.ipynb")
        late.close()
        assert sources(late) == ["x = 1abc"]

        # A viewer may look back, but restoring is editing.
        assert undo_redo(yjs_server, room, "restore", 0, fork_id, VIEWER_TOKEN).status_code == 403
        reply = undo_redo(yjs_server, room, "restore", 0, fork_id)
        assert reply.status_code == 200
        assert reply.json()["code"] == 200
    finally:
        fork.close()
    bob.pump_until(lambda: sources(bob) == ["x = 1"])
    wait_until(lambda: read_sources(yjs_server.root_dir / "history.ipynb") == ["x = 1"])
    # The fork is done once restored.
    assert undo_redo(yjs_server, room, "undo", 1, fork_id).status_code == 404
    bob.close()


def test_the_timeline_of_a_document_nobody_has_open_is_404(yjs_server: RunningServer) -> None:
    write_notebook(yjs_server.root_dir / "closed.ipynb", "y = 2")
    reply = timeline(yjs_server, "closed.ipynb")
    assert reply.status_code == 404
    assert "message" in reply.json()
    assert timeline(yjs_server, "no-such-file.ipynb").status_code == 404


def test_undo_redo_refuses_a_bad_action_or_step_count_and_an_unknown_fork(
    yjs_server: RunningServer,
) -> None:
    write_notebook(yjs_server.root_dir / "steps.ipynb", "z = 3")
    client = opened(yjs_server, "steps.ipynb")
    try:
        found = timeline(yjs_server, "steps.ipynb").json()
        room, fork_id = found["roomId"], found["forkRoom"]
        for action, steps, fork in (
            ("rewind", 1, fork_id),
            ("undo", -1, fork_id),
            ("undo", 1, "0" * 32),
            ("undo", 1, ""),
        ):
            reply = undo_redo(yjs_server, room, action, steps, fork)
            assert reply.status_code in (400, 404), (action, steps, fork)
            assert "message" in reply.json()
        # A fork belongs to the document it was made from.
        other = "json:notebook:" + "1" * 32
        assert undo_redo(yjs_server, other, "undo", 1, fork_id).status_code == 404
    finally:
        client.close()
