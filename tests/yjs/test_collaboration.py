"""Shared documents over the room WebSocket, with real y-websocket clients (pycrdt).

What two users of the jupyter-collaboration frontend would notice: they see each other's
edits, the file gets them, a rename does not interrupt them, a viewer cannot change
anything, and a browser left open across a server restart is told to reload.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import RunningServer
from tests.yjs.conftest import (
    EDITOR_TOKEN,
    VIEWER_TOKEN,
    notebook,
    read_sources,
    start_yjs_server,
    write_notebook,
)
from tests.yjs.yclient import YClient, put_session


def new_cell(source: str) -> dict[str, object]:
    return {
        "cell_type": "code",
        "source": source,
        "metadata": {},
        "outputs": [],
        "execution_count": None,
    }


def type_into(client: YClient, index: int, text: str) -> None:
    """Type ``text`` at the end of cell ``index``'s source."""
    source = client.model.ycells[index]["source"]
    source.insert(len(source), text)


def sources(client: YClient) -> list[str]:
    return [cell["source"] for cell in client.model.get()["cells"]]


def opened(server: RunningServer, path: str, **kwargs: object) -> YClient:
    """A client of ``path``'s room, synced."""
    client = YClient.open(server, path, **kwargs)  # type: ignore[arg-type]
    client.pump_until(lambda: client.synced and client.model.get()["cells"] != [])
    return client


def saved(client: YClient, request_id: int) -> dict[str, object]:
    """Ask the room to save; returns its reply (sent once the file is written)."""
    client.save(request_id)
    client.pump_until(lambda: any(r.get("responseTo") == request_id for r in client.raw))
    return next(r for r in client.raw if r.get("responseTo") == request_id)


def test_two_clients_typing_into_one_cell_at_once_converge(yjs_server: RunningServer):
    write_notebook(yjs_server.root_dir / "pair.ipynb", "x = 1")
    alice, bob = opened(yjs_server, "pair.ipynb"), opened(yjs_server, "pair.ipynb")
    try:
        # Both type before either hears of the other's keystrokes.
        alice.model.ycells[0]["source"].insert(0, "# alice\n")
        type_into(bob, 0, "\n# bob")
        bob.model.append_cell(new_cell("y = 2"))
        for client in (alice, bob):
            client.pump_until(lambda c=client: sources(c) == ["# alice\nx = 1\n# bob", "y = 2"])
    finally:
        alice.close()
        bob.close()


def test_an_edit_reaches_the_file_when_the_client_saves(yjs_server: RunningServer):
    path = yjs_server.root_dir / "saved.ipynb"
    write_notebook(path, "a")
    client = opened(yjs_server, "saved.ipynb")
    try:
        type_into(client, 0, "bc")
        assert saved(client, 1) == {"type": "save", "responseTo": 1, "status": "success"}
        assert read_sources(path) == ["abc"]
        # Still a notebook jupyter reads: nbformat keys and the cell's id are kept.
        on_disk = json.loads(path.read_text())
        assert on_disk["nbformat"] == 4 and on_disk["cells"][0]["id"] == "cell-0"
    finally:
        client.close()


def test_edits_are_saved_by_themselves_after_a_pause(yjs_server: RunningServer):
    path = yjs_server.root_dir / "autosaved.ipynb"
    write_notebook(path, "1")
    client = opened(yjs_server, "autosaved.ipynb")
    try:
        client.model.append_cell(new_cell("2"))
        client.pump_until(lambda: read_sources(path) == ["1", "2"])
    finally:
        client.close()


def test_a_text_file_is_shared_and_saved_too(yjs_server: RunningServer):
    path = yjs_server.root_dir / "notes.md"
    path.write_text("hello")
    client = YClient.open(yjs_server, "notes.md", file_type="file")
    try:
        client.pump_until(lambda: client.synced and client.model.get() == "hello")
        client.model._ysource += " world"  # type: ignore[union-attr]
        assert saved(client, 1)["status"] == "success"
        assert path.read_text() == "hello world"
    finally:
        client.close()


def test_a_rename_while_the_room_is_open_keeps_the_room_and_its_file_id(
    yjs_server: RunningServer,
):
    write_notebook(yjs_server.root_dir / "before.ipynb", "kept")
    file_id = put_session(yjs_server, "before.ipynb").json()["fileId"]
    client = opened(yjs_server, "before.ipynb")
    try:
        with yjs_server.client() as http:
            moved = http.patch("api/contents/before.ipynb", json={"path": "sub/after.ipynb"})
            assert moved.status_code == 404  # no such folder yet: nothing moved
            assert http.post("api/contents", json={"type": "directory"}).status_code == 201
            assert http.patch("api/contents/Untitled Folder", json={"path": "sub"}).is_success
            assert http.patch(
                "api/contents/before.ipynb", json={"path": "sub/after.ipynb"}
            ).is_success
        # The same room goes on, and its next save lands at the new path.
        client.model.append_cell(new_cell("after the move"))
        assert saved(client, 1)["status"] == "success"
        assert read_sources(yjs_server.root_dir / "sub" / "after.ipynb") == [
            "kept",
            "after the move",
        ]
        assert not (yjs_server.root_dir / "before.ipynb").exists()
        again = put_session(yjs_server, "sub/after.ipynb")
        assert again.status_code == 200 and again.json()["fileId"] == file_id
    finally:
        client.close()


def test_a_change_made_on_disk_is_merged_without_doubling_cells(yjs_server: RunningServer):
    path = yjs_server.root_dir / "disk.ipynb"
    write_notebook(path, "one", "two")
    client = opened(yjs_server, "disk.ipynb")
    try:
        write_notebook(path, "one", "TWO (edited in a terminal)")
        client.pump_until(lambda: sources(client) == ["one", "TWO (edited in a terminal)"])
        # The edited cell is the same cell (same id), updated in place.
        assert [c["id"] for c in client.model.get()["cells"]] == ["cell-0", "cell-1"]
    finally:
        client.close()


def test_a_notebook_with_no_cell_is_never_saved_over_a_good_one(yjs_server: RunningServer):
    path = yjs_server.root_dir / "guarded.ipynb"
    write_notebook(path, "precious")
    client = opened(yjs_server, "guarded.ipynb")
    try:
        client.model.ycells.clear()
        client.pump_until(lambda: client.model.cell_number == 0)
        saved(client, 1)
        assert read_sources(path) == ["precious"]
    finally:
        client.close()


def test_a_viewer_joins_but_its_edits_are_dropped(yjs_server: RunningServer):
    path = yjs_server.root_dir / "readonly.ipynb"
    write_notebook(path, "original")
    viewer = opened(yjs_server, "readonly.ipynb", token=VIEWER_TOKEN)
    try:
        viewer.model.append_cell(new_cell("vandalism"))
        type_into(viewer, 0, " changed")
        saved(viewer, 1)  # answered after the viewer's edits were handled
        assert read_sources(path) == ["original"]
        late = opened(yjs_server, "readonly.ipynb", token=EDITOR_TOKEN)
        try:
            assert sources(late) == ["original"]
        finally:
            late.close()
    finally:
        viewer.close()


def test_an_editor_cannot_mark_a_cell_trusted_for_the_owners_browser(yjs_server: RunningServer):
    # JupyterLab runs the scripts of a trusted cell's HTML outputs. An editor may not run
    # code, so no cell with content from an editor may reach the owner marked trusted.
    write_notebook(yjs_server.root_dir / "trust.ipynb", "a", "b")
    editor = opened(yjs_server, "trust.ipynb", token=EDITOR_TOKEN)
    owner = opened(yjs_server, "trust.ipynb")
    try:
        html = {"text/html": "<img src=x onerror=\"fetch('/api/terminals',{method:'POST'})\">"}
        output = {"output_type": "display_data", "data": html, "metadata": {}}
        with editor.doc.transaction():
            cell = editor.model.ycells[0]
            cell["metadata"]["trusted"] = True
            cell["outputs"].append(output)
            type_into(editor, 0, " + edited")
        # The owner gets the editor's other changes, without the mark.
        owner.pump_until(lambda: sources(owner)[0] == "a + edited")
        owner.pump_until(lambda: owner.model.get()["cells"][0]["outputs"] != [])
        assert "trusted" not in owner.model.get()["cells"][0]["metadata"]
        # The editor's own document hears that the mark was taken back.
        editor.pump_until(lambda: "trusted" not in editor.model.get()["cells"][0]["metadata"])
        # The owner may run code: its own mark stays while the editor edits other cells.
        owner.model.ycells[1]["metadata"]["trusted"] = True
        editor.pump_until(lambda: editor.model.get()["cells"][1]["metadata"].get("trusted"))
        type_into(editor, 0, " again")
        owner.pump_until(lambda: sources(owner)[0] == "a + edited again")
        assert owner.model.get()["cells"][1]["metadata"]["trusted"] is True
        # An editor's script put into the cell the owner trusted ends that trust.
        editor.model.ycells[1]["outputs"].append(output)
        owner.pump_until(lambda: owner.model.get()["cells"][1]["outputs"] != [])
        assert "trusted" not in owner.model.get()["cells"][1]["metadata"]
        # So does a new cell that comes marked.
        editor.model.append_cell({**new_cell("c"), "metadata": {"trusted": True}})
        owner.pump_until(lambda: len(owner.model.get()["cells"]) == 3)
        assert "trusted" not in owner.model.get()["cells"][2]["metadata"]
    finally:
        editor.close()
        owner.close()


def test_awareness_shows_the_identity_the_server_knows(yjs_server: RunningServer):
    write_notebook(yjs_server.root_dir / "aware.ipynb", "")
    editor = opened(yjs_server, "aware.ipynb", token=EDITOR_TOKEN)
    owner = opened(yjs_server, "aware.ipynb")
    try:
        # The editor's browser claims to be someone else; others see who it is.
        editor.set_user(user={"username": "owner", "name": "Not Ed", "color": "#ff0000"})

        def editor_seen() -> bool:
            return any(
                s.get("user", {}).get("username") == "ed" for s in owner.awareness.states.values()
            )

        owner.pump_until(editor_seen)
        user = next(
            s["user"]
            for s in owner.awareness.states.values()
            if s.get("user", {}).get("username") == "ed"
        )
        assert user["display_name"] == "Ed Itor"
        assert user["initials"] == "EI" and user["color"] == "#00aa88"
        # When the editor leaves, its cursor goes from the others' view.
        editor.close()
        owner.pump_until(lambda: not editor_seen())
    finally:
        owner.close()


def test_the_global_awareness_room_needs_no_session(yjs_server: RunningServer):
    first = YClient.connect(yjs_server, "JupyterLab:globalAwareness")
    second = YClient.connect(yjs_server, "JupyterLab:globalAwareness", token=EDITOR_TOKEN)
    try:
        first.set_user(user={"username": "owner"}, current="notebook:a.ipynb")
        second.pump_until(
            lambda: any(
                s.get("current") == "notebook:a.ipynb" for s in second.awareness.states.values()
            )
        )
        # The sender hears its own state back: a lone browser's socket stays alive.
        first.pump_until(lambda: first.awareness_frames >= 1)
    finally:
        first.close()
        second.close()


def test_a_client_of_an_earlier_server_run_is_told_to_reload(yjs_server: RunningServer):
    write_notebook(yjs_server.root_dir / "stale.ipynb", "")
    client = YClient.open(yjs_server, "stale.ipynb", session_id="from-before-the-restart")
    closed = client.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == 1003
    assert json.loads(closed.rcvd.reason) == {
        "reason": "unknown_session",
        "sessionId": "from-before-the-restart",
        "reloadable": True,
    }


def test_a_room_of_an_unknown_file_id_closes_with_4404(yjs_server: RunningServer):
    write_notebook(yjs_server.root_dir / "any.ipynb", "")
    session_id = put_session(yjs_server, "any.ipynb").json()["sessionId"]
    client = YClient.connect(yjs_server, "json:notebook:no-such-id", session_id=session_id)
    closed = client.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == 4404


def test_session_put_gives_a_new_id_201_then_the_same_id_200(yjs_server: RunningServer):
    write_notebook(yjs_server.root_dir / "deep" / "er" / "ids.ipynb", "")
    first = put_session(yjs_server, "deep/er/ids.ipynb")  # sent as deep%2Fer%2Fids.ipynb
    assert first.status_code == 201
    body = first.json()
    assert body["format"] == "json" and body["type"] == "notebook"
    assert body["fileId"] and body["sessionId"]
    second = put_session(yjs_server, "deep/er/ids.ipynb")
    assert second.status_code == 200 and second.json() == body


def test_session_put_of_a_missing_file_or_folder_is_404(yjs_server: RunningServer):
    missing = put_session(yjs_server, "nowhere.ipynb")
    assert missing.status_code == 404
    assert missing.json()["message"] == "File 'nowhere.ipynb' does not exist"
    (yjs_server.root_dir / "a-folder").mkdir()
    assert put_session(yjs_server, "a-folder").status_code == 404


def test_session_put_with_a_bad_body_is_400(yjs_server: RunningServer):
    write_notebook(yjs_server.root_dir / "body.ipynb", "")
    with yjs_server.client() as client:
        reply = client.put("api/collaboration/session/body.ipynb", json={"format": 1})
    assert reply.status_code == 400
    assert reply.json()["message"] == "format and type must be strings"


def test_viewers_and_editors_may_open_shared_documents_but_strangers_may_not(
    yjs_server: RunningServer,
):
    write_notebook(yjs_server.root_dir / "roles.ipynb", "")
    for token in (EDITOR_TOKEN, VIEWER_TOKEN):
        assert put_session(yjs_server, "roles.ipynb", token=token).status_code in (200, 201)
    assert put_session(yjs_server, "roles.ipynb", token="wrong-token").status_code == 401


def test_file_ids_survive_a_server_restart_and_the_room_is_freed_when_idle(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "kept.ipynb").write_text(json.dumps(notebook("x")))
    server = start_yjs_server(root, "yjs.cleanup_delay=0")
    try:
        file_id = put_session(server, "kept.ipynb").json()["fileId"]
        client = opened(server, "kept.ipynb")
        with server.client() as http:
            assert http.get("api/status").json()["collaboration_rooms"] == 1
        client.close()
        wait_until(lambda: _rooms(server) == 0)
    finally:
        server.stop()
    server = start_yjs_server(root)
    try:
        again = put_session(server, "kept.ipynb")
        assert again.status_code == 200 and again.json()["fileId"] == file_id
    finally:
        server.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Poll ``condition`` until it holds (AssertionError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _rooms(server: RunningServer) -> int:
    with server.client() as http:
        rooms: int = http.get("api/status").json()["collaboration_rooms"]
    return rooms


def test_the_page_config_turns_collaboration_and_server_side_execution_on(tmp_path: Path):
    from tests.lab.pages import page_config

    root = tmp_path / "root"
    root.mkdir()
    for settings, server_side in (((), True), (("yjs.server_side_execution=false",), False)):
        server = start_yjs_server(root, *settings, plugins="lab,yjs")
        try:
            with server.client() as client:
                config = page_config(client.get("lab").text)
            # The collaboration frontend shares documents unless disableRTC is true; with
            # serverSideExecution it asks the server to run cells instead of the kernel
            # WebSocket, and the server writes their outputs.
            assert config["disableRTC"] is False
            assert config["serverSideExecution"] is server_side
            # The timeline's routes are served: its status bar button stays, and what the
            # lab disables by itself (the core plugin jupyter-docprovider replaces) stays so.
            disabled = config["disabledExtensions"]
            assert "@jupyter/docprovider-extension:statusBarTimeline" not in disabled
            assert "@jupyterlab/filebrowser-extension:defaultFileBrowser" in disabled
            # ... and the Plugin Manager shows it locked: no user can switch it back on.
            with server.client() as client:
                locks = client.get("lab/api/plugins").json()["lockRules"]
            assert "@jupyterlab/filebrowser-extension:defaultFileBrowser" in locks
        finally:
            server.stop()


def test_a_browser_reconnecting_after_its_room_was_freed_resyncs_without_doubling(
    tmp_path: Path,
):
    root = tmp_path / "root"
    root.mkdir()
    path = root / "resync.ipynb"
    write_notebook(path, "first")
    server = start_yjs_server(root, "yjs.cleanup_delay=0")
    try:
        browser = opened(server, "resync.ipynb")
        browser.model.append_cell(new_cell("second"))
        assert saved(browser, 1)["status"] == "success"
        browser.close()  # the connection drops; the room is freed
        wait_until(lambda: _rooms(server) == 0)
        # Meanwhile the file changes on disk (the second cell edited in place).
        on_disk = json.loads(path.read_text())
        on_disk["cells"][1]["source"] = "second, edited on disk"
        path.write_text(json.dumps(on_disk))
        # The browser comes back with the document it kept, typing while offline.
        type_into(browser, 0, " (offline)")
        back = YClient.open(server, "resync.ipynb", doc=browser.doc)
        expected = ["first (offline)", "second, edited on disk"]
        back.pump_until(lambda: back.synced and sources(back) == expected)
        fresh = opened(server, "resync.ipynb")
        try:
            fresh.pump_until(lambda: sources(fresh) == expected)
        finally:
            fresh.close()
        back.close()
        wait_until(lambda: read_sources(path) == expected)
    finally:
        server.stop()


def test_stopping_the_server_saves_open_documents_and_closes_their_sockets(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    path = root / "unsaved.ipynb"
    write_notebook(path, "before")
    # No autosave before the stop: only the stop can write the edit.
    server = start_yjs_server(
        root, "yjs.save_delay=3600", "yjs.file_poll_interval=0", subprocess=True
    )
    client = opened(server, "unsaved.ipynb")
    type_into(client, 0, " and after")
    client.set_user(user={"username": "owner"})
    client.pump_until(lambda: client.awareness_frames >= 1)  # the edit was handled before it
    assert server.stop() == 0
    closed = client.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == 1001
    assert read_sources(path) == ["before and after"]
    assert "Traceback" not in server.log()


def test_a_client_that_stops_reading_is_dropped_and_the_others_go_on(tmp_path: Path):
    from tests.raw_websocket import connect_unread

    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / "busy.ipynb", "")
    server = start_yjs_server(root, "yjs.client_queue_messages=50")
    try:
        writer = opened(server, "busy.ipynb")
        model = put_session(server, "busy.ipynb").json()
        room = f"json:notebook:{model['fileId']}?sessionId={model['sessionId']}"
        stalled = connect_unread(server, f"api/collaboration/room/{room}")
        try:
            wait_until(lambda: _clients(server) == 2)
            # Big updates: the stalled socket's buffers fill, then its queue. The writer
            # reads each of its updates back from the room, as a browser does. Up to 300
            # (6 MB), until the stalled client is gone.
            for _ in range(300):
                expected = writer.updates_received + 1
                type_into(writer, 0, "x" * 20_000)
                writer.pump_until(lambda n=expected: writer.updates_received >= n)
                if _clients(server) == 1:
                    break
            wait_until(lambda: _clients(server) == 1)
            writer.model.append_cell(new_cell("still served"))
            assert saved(writer, 1)["status"] == "success"
            assert read_sources(root / "busy.ipynb")[-1] == "still served"
        finally:
            stalled.close()
            writer.close()
    finally:
        server.stop()


def _clients(server: RunningServer) -> int:
    with server.client() as http:
        clients: int = http.get("api/status").json()["collaboration_clients"]
    return clients
