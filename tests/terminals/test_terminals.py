"""Terminals over the real server: REST in jupyter_server's shapes, the terminado WebSocket."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import pytest
from modserver_auth.tokens import hash_token
from websockets.exceptions import InvalidStatus

from tests.conftest import RunningServer
from tests.raw_websocket import connect_unread
from tests.terminals.conftest import start_terminals_server
from tests.terminals.termclient import (
    TermSocket,
    alive,
    children_of,
    open_fds,
    process_table,
    wait_for,
)

# The file takes ~18 s in all: it starts first (see pytest_collection_modifyitems).
pytestmark = pytest.mark.slow

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def names(server: RunningServer) -> list[str]:
    with server.client() as client:
        return [t["name"] for t in client.get("api/terminals").json()]


def create(server: RunningServer, **body: str) -> str:
    with server.client() as client:
        response = client.post("api/terminals", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


def test_terminals_are_created_listed_fetched_and_deleted_in_jupyter_server_shapes(
    terminal_server: RunningServer,
):
    with terminal_server.client() as client:
        created = client.post("api/terminals")
        assert created.status_code == 200
        model = created.json()
        assert set(model) == {"name", "last_activity"}
        assert model["name"].isdigit() and ISO_UTC.match(model["last_activity"])
        name = model["name"]
        assert name in [t["name"] for t in client.get("api/terminals").json()]
        assert client.get(f"api/terminals/{name}").json()["name"] == name
        assert client.delete(f"api/terminals/{name}").status_code == 204
        missing = client.get(f"api/terminals/{name}")
        assert missing.status_code == 404
        assert missing.json()["message"] == f"Terminal not found: {name}"
        assert client.delete(f"api/terminals/{name}").status_code == 404
        assert name not in [t["name"] for t in client.get("api/terminals").json()]


def test_a_terminal_may_be_named_once(terminal_server: RunningServer):
    with terminal_server.client() as client:
        assert client.post("api/terminals", json={"name": "work"}).json()["name"] == "work"
        again = client.post("api/terminals", json={"name": "work"})
        assert again.status_code == 409
        assert again.json()["message"] == "Terminal 'work' already exists"
        bad = client.post("api/terminals", json={"name": "../x"})
        assert bad.status_code == 400
        assert client.post("api/terminals", json={"name": 3}).status_code == 400
        assert client.delete("api/terminals/work").status_code == 204


def test_typed_command_echoes_its_output(terminal_server: RunningServer):
    term = TermSocket.open(terminal_server, create(terminal_server))
    term.type("echo modserver-$((6*7))\r")
    assert "modserver-42" in term.read_until("modserver-42")
    term.close()


def test_set_size_resizes_the_pty(terminal_server: RunningServer):
    term = TermSocket.open(terminal_server, create(terminal_server))
    term.send("set_size", 33, 111, 600, 900)
    term.type("echo size-$(stty size | tr ' ' x)-end\r")
    term.read_until("size-33x111-end")
    term.close()


def test_exit_ends_the_terminal_and_removes_it_from_the_list(terminal_server: RunningServer):
    name = create(terminal_server)
    term = TermSocket.open(terminal_server, name)
    term.type("exit\r")
    messages = term.messages_until_closed()
    assert messages[-1] == ["disconnect", 1]
    assert name not in names(terminal_server)
    with terminal_server.client() as client:
        assert client.get(f"api/terminals/{name}").status_code == 404


def test_two_clients_on_one_terminal_both_see_its_output(terminal_server: RunningServer):
    name = create(terminal_server)
    first = TermSocket.open(terminal_server, name)
    second = TermSocket.open(terminal_server, name)
    first.type("echo shared-$((40+2))\r")
    assert "shared-42" in first.read_until("shared-42")
    assert "shared-42" in second.read_until("shared-42")
    # And what the second one types, the first one sees.
    second.type("echo back-$((50+5))\r")
    assert "back-55" in first.read_until("back-55")
    first.close()
    second.close()


def test_a_client_that_reconnects_gets_the_recent_output_back(terminal_server: RunningServer):
    name = create(terminal_server)
    term = TermSocket.open(terminal_server, name)
    term.type("echo before-$((6*7))\r")
    term.read_until("before-42")
    term.close()
    again = TermSocket.open(terminal_server, name)
    # The screen so far comes first, before anything new is typed.
    first = again.recv()
    assert first[0] == "stdout" and "before-42" in first[1]
    again.close()


def test_the_shell_starts_in_the_root_with_terminal_variables_and_no_server_secrets(
    tmp_path: Path,
):
    root = tmp_path / "root"
    root.mkdir()
    # Server settings (and secrets) may come from the environment: none may reach the shell.
    secret = {"MODSERVER_TERMINALS__SCROLLBACK_CHARS": "50000"}
    server = start_terminals_server(root, env=secret)
    try:
        term = TermSocket.open(server, create(server))
        term.type('echo "[$TERM|$JUPYTER_SERVER_ROOT|$(pwd)|$(env | grep -c ^MODSERVER_)]"\r')
        real = os.path.realpath(root)
        term.read_until(f"[xterm-256color|{real}|{real}|0]")
        term.close()
    finally:
        server.stop()


def test_default_shell_is_the_users_login_shell(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    from tests.conftest import start_server

    shell = "/bin/sh"
    server = start_server(root, plugins="terminals", env={"SHELL": shell})
    try:
        term = TermSocket.open(server, create(server))
        term.type("echo shell-$(ps -o args= -p $$ | tr -d ' ')-end\r")
        term.read_until("shell-/bin/sh-l-end")
        term.close()
    finally:
        server.stop()


def test_cwd_inside_the_root_is_where_the_shell_starts(terminal_server: RunningServer):
    term = TermSocket.open(terminal_server, create(terminal_server, cwd="sub/deeper"))
    term.type("echo at-$(basename $(pwd))-end\r")
    term.read_until("at-deeper-end")
    term.close()


def test_cwd_outside_the_root_or_not_a_folder_is_refused(
    terminal_server: RunningServer, tmp_path: Path
):
    link = terminal_server.root_dir / "escape"
    if not link.exists():
        link.symlink_to(tmp_path)
    before = names(terminal_server)
    with terminal_server.client() as client:
        for cwd in ("..", "/etc", "sub/../..", "escape", str(tmp_path)):
            response = client.post("api/terminals", json={"cwd": cwd})
            assert response.status_code == 400, cwd
            assert response.json()["message"] == f"cwd {cwd!r} is outside the root folder"
        missing = client.post("api/terminals", json={"cwd": "nowhere"})
        assert missing.status_code == 400
        assert missing.json()["message"] == "cwd 'nowhere' is not a folder"
    assert names(terminal_server) == before


EDITOR_TOKEN = "editor-token-aaaaaaaaaaaaaaaaaaaa"
VIEWER_TOKEN = "viewer-token-bbbbbbbbbbbbbbbbbbbb"
USERS = {
    "ed": {"role": "editor", "token_hash": hash_token(EDITOR_TOKEN)},
    "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
}


def test_editors_and_viewers_may_not_create_attach_or_delete_terminals(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_terminals_server(root, f"auth.users={json.dumps(USERS)}")
    try:
        name = create(server)  # the owner's
        for token, who in ((EDITOR_TOKEN, "'ed' (editor)"), (VIEWER_TOKEN, "'vi' (viewer)")):
            with server.client(token=token) as client:
                refused = client.post("api/terminals")
                assert refused.status_code == 403
                assert refused.json()["message"] == f"User {who} may not execute terminals"
                assert client.delete(f"api/terminals/{name}").status_code == 403
                # The list (names and times) is readable, so the lab can poll it.
                assert [t["name"] for t in client.get("api/terminals").json()] == [name]
            with pytest.raises(InvalidStatus) as info:
                TermSocket.open(server, name, token=token)
            assert info.value.response.status_code == 403
        assert names(server) == [name]
    finally:
        server.stop()


def test_attaching_to_a_missing_terminal_is_a_404(terminal_server: RunningServer):
    with pytest.raises(InvalidStatus) as info:
        TermSocket.open(terminal_server, "nosuch")
    assert info.value.response.status_code == 404


def test_the_page_config_says_terminals_are_available(tmp_path: Path):
    from tests.conftest import serve_in_process
    from tests.lab.pages import page_config

    root = tmp_path / "root"
    root.mkdir()
    for plugins, expected in (("lab,terminals", True), ("lab", False)):
        server = serve_in_process(root, plugins=plugins)
        try:
            with server.client() as client:
                page = client.get("lab")
            assert page_config(page.text)["terminalsAvailable"] is expected
        finally:
            server.stop()


def test_an_idle_terminal_is_culled(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_terminals_server(
        root, "terminals.cull_inactive_timeout=1", "terminals.cull_interval=0.2"
    )
    try:
        name = create(server)
        wait_for(lambda: name not in names(server), "the idle terminal to be culled")
    finally:
        server.stop()


def test_stopping_the_server_ends_every_shell_and_its_jobs(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_terminals_server(root)
    term = TermSocket.open(server, create(server))
    # A job in its own process group (job control), as a user would start one.
    term.type("sleep 1000 &\r")
    term.type("echo pids-$$-$!-$((1+1))end\r")
    match = re.search(r"pids-(\d+)-(\d+)-2end", term.read_until("2end"))
    assert match is not None
    shell, job = int(match.group(1)), int(match.group(2))
    assert alive(shell) and alive(job)
    assert server.stop() == 0
    wait_for(lambda: not alive(shell) and not alive(job), "the shell and its job to end")


def test_fifty_terminals_created_and_deleted_leave_no_descriptor_or_process(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_terminals_server(root, subprocess=True)
    pid = server.proc.pid
    try:
        with server.client() as client:

            def cycle(i: int) -> int:
                name = client.post("api/terminals").json()["name"]
                term = TermSocket.open(server, name)
                term.type(f"echo cycle-$(({i}+1000))\r")
                term.read_until(f"cycle-{i + 1000}")
                shells = [p for p in children_of(pid) if alive(p)]
                assert len(shells) == 1
                term.close()
                assert client.delete(f"api/terminals/{name}").status_code == 204
                return shells[0]

            cycle(0)  # warm up: worker threads, the HTTP connection
            wait_for(lambda: children_of(pid) == [], "the first shell to be reaped")
            baseline = open_fds(pid)
            shells = [cycle(i) for i in range(1, 51)]
            # Every shell reaped (no zombie child), none of their sessions left running,
            # and the server holds no more descriptors than before.
            wait_for(lambda: children_of(pid) == [], "every shell to be reaped")
            table = process_table()
            assert [p for p, (state, _, session) in table.items() if session in shells] == []
            wait_for(lambda: open_fds(pid) <= baseline, f"descriptors back to {baseline}")
    finally:
        server.stop()


def open_stalled_socket(server: RunningServer, name: str) -> socket.socket:
    """A terminal WebSocket on a raw socket, never read."""
    return connect_unread(server, f"terminals/websocket/{name}")


def connections(server: RunningServer) -> int:
    with server.client() as client:
        return int(client.get("api/status").json()["terminal_connections"])


def test_a_stalled_client_is_dropped_and_the_terminal_lives_on(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_terminals_server(root, "terminals.client_queue_chars=65536")
    try:
        name = create(server)
        stalled = open_stalled_socket(server, name)
        reader = TermSocket.open(server, name)
        wait_for(lambda: connections(server) == 2, "both clients to attach")
        # 8 MB of output: far more than the stalled socket's buffers (the server's send
        # buffer grows to 4 MB at most) and its 64 KiB queue.
        reader.type(FLOOD.replace("5000000", "8000000"))
        reader.read_until("flood-2done", timeout=300)
        wait_for(lambda: connections(server) == 1, "the stalled client to be dropped")
        assert name in names(server)
        reader.type("echo still-$((6*7))\r")
        reader.read_until("still-42")
        reader.close()
        stalled.close()
    finally:
        server.stop()


def test_a_lone_stalled_client_holds_the_shell_only_until_the_stall_timeout(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_terminals_server(
        root, "terminals.client_queue_chars=65536", "terminals.stall_timeout=1"
    )
    try:
        name = create(server)
        stalled = open_stalled_socket(server, name)
        wait_for(lambda: connections(server) == 1, "the client to attach")
        stalled.sendall(_masked_text_frame(json.dumps(["stdin", FLOOD])))
        # The shell's output waits for its only (stalled) client, then drops it and goes on.
        wait_for(lambda: connections(server) == 0, "the stalled client to be dropped")
        later = TermSocket.open(server, name)
        later.type("echo after-$((6*7))\r")
        later.read_until("after-42")
        assert "flood-2done" in later.output
        later.close()
        stalled.close()
    finally:
        server.stop()


FLOOD = "head -c 5000000 /dev/zero | tr '\\0' x; echo; echo flood-$((1+1))done\r"


def _masked_text_frame(text: str) -> bytes:
    """One client-to-server WebSocket text frame (clients must mask)."""
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = len(payload)
    header = bytes([0x81]) + (
        bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + length.to_bytes(2, "big")
    )
    return header + mask + masked


def test_the_server_stops_cleanly_while_an_exited_shell_is_still_being_ended(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    # Long enough to see the job outlive the shell's exit; the stop waits it out, then kills.
    server = start_terminals_server(root, "terminals.shutdown_wait=2", subprocess=True)
    term = TermSocket.open(server, create(server))
    # A job that ignores the hangup and holds no PTY descriptor: the shell's exit closes
    # the PTY, and ending the session then waits shutdown_wait before SIGKILL.
    term.type("(trap '' HUP; exec sleep 600) </dev/null >/dev/null 2>&1 &\r")
    term.type("echo job-$!-$((1+1))end\r")
    match = re.search(r"job-(\d+)-2end", term.read_until("2end"))
    assert match is not None
    job = int(match.group(1))
    term.type("exit\r")
    assert term.messages_until_closed()[-1] == ["disconnect", 1]
    assert alive(job)  # still within shutdown_wait
    assert server.stop() == 0, server.log()
    wait_for(lambda: not alive(job), "the job that ignored SIGHUP to be killed")
