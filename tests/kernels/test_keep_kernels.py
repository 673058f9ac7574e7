"""Keep mode (``--keep-kernels``): kernels and sessions survive a server restart.

Real ``modserver run`` processes on one root and runtime folder, real ipykernels: a
variable set before the server stops (SIGTERM) or dies (SIGKILL) is still there for a
client that reconnects to the next server. Every kernel process a test starts is killed
by pid at teardown, whatever the outcome, so the suite never leaks processes.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningServer, start_server
from tests.kernels.test_lifecycle import alive, wait_for
from tests.kernels.wsclient import KernelSocket

# The file takes ~15 s in all: it starts first (see pytest_collection_modifyitems).
pytestmark = pytest.mark.slow

PLUGINS = "kernels,sessions"


@pytest.fixture
def kernel_pids() -> Iterator[list[int]]:
    """Pids of the kernels a test started: killed at teardown (kept kernels outlive servers)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def servers() -> Iterator[list[RunningServer]]:
    """Servers a test started: killed at teardown if still running."""
    started: list[RunningServer] = []
    yield started
    for server in started:
        server.stop(signal.SIGKILL)


def serve(root: Path, servers: list[RunningServer], *args: str) -> RunningServer:
    server = start_server(root, *args, plugins=PLUGINS)
    servers.append(server)
    return server


def open_session(server: RunningServer, path: str) -> dict[str, Any]:
    with server.client() as client:
        body = {"path": path, "type": "notebook", "kernel": {"name": "python3"}}
        response = client.post("api/sessions", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def output_of(server: RunningServer, kernel_id: str, code: str) -> str:
    """What ``code`` prints, run over a fresh kernel WebSocket."""
    ws = KernelSocket.open(server, kernel_id)
    try:
        messages = ws.run(code)
    finally:
        ws.close()
    return "".join(m["content"]["text"] for m in messages if m["header"]["msg_type"] == "stream")


def start_kernel_with_x(server: RunningServer, path: str, kernel_pids: list[int]) -> dict[str, Any]:
    """A session whose kernel has ``x = 42``; its pid joins ``kernel_pids``."""
    session = open_session(server, path)
    pid = output_of(server, session["kernel"]["id"], "import os; x = 42; print(os.getpid())")
    kernel_pids.append(int(pid))
    return session


def listed(server: RunningServer, what: str) -> list[dict[str, Any]]:
    with server.client() as client:
        response = client.get(f"api/{what}")
    assert response.status_code == 200
    return list(response.json())


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_kernel_and_its_session_survive_a_server_restart(
    root_dir: Path, servers: list[RunningServer], kernel_pids: list[int], sig: int
) -> None:
    first = serve(root_dir, servers, "--keep-kernels")
    session = start_kernel_with_x(first, "notebook.ipynb", kernel_pids)
    code = first.stop(sig)
    assert alive(kernel_pids[0]), "the kernel died with the server"
    if sig == signal.SIGTERM:
        assert code == 0
        assert "\n[E " not in first.log()

    second = serve(root_dir, servers, "--keep-kernels")
    [again] = listed(second, "sessions")
    assert again["id"] == session["id"]
    assert again["path"] == "notebook.ipynb"
    assert again["kernel"]["id"] == session["kernel"]["id"]
    assert output_of(second, session["kernel"]["id"], "print(x)") == "42\n"


def test_an_adopted_kernel_can_be_restarted_and_shut_down(
    root_dir: Path, servers: list[RunningServer], kernel_pids: list[int]
) -> None:
    first = serve(root_dir, servers, "--keep-kernels")
    session = start_kernel_with_x(first, "notebook.ipynb", kernel_pids)
    kernel_id = session["kernel"]["id"]
    first.stop(signal.SIGKILL)

    second = serve(root_dir, servers, "--keep-kernels")
    with second.client() as client:
        assert client.post(f"api/kernels/{kernel_id}/restart").status_code == 200
    assert not alive(kernel_pids[0]), "the adopted process was not replaced"
    fresh, pid_text = output_of(
        second, kernel_id, "import os; print('x' in dir())\nprint(os.getpid())"
    ).split()
    pid = int(pid_text)
    assert fresh == "False"  # a new process: the kernel's variables are gone
    kernel_pids.append(pid)
    with second.client() as client:
        assert client.delete(f"api/sessions/{session['id']}").status_code == 204
    wait_for(lambda: not alive(pid), timeout=30)
    second.stop()

    third = serve(root_dir, servers, "--keep-kernels")
    assert listed(third, "sessions") == []
    assert listed(third, "kernels") == []


def test_a_kernel_killed_while_the_server_was_down_is_dropped(
    root_dir: Path, servers: list[RunningServer], kernel_pids: list[int]
) -> None:
    first = serve(root_dir, servers, "--keep-kernels")
    kept = start_kernel_with_x(first, "kept.ipynb", kernel_pids)
    killed = start_kernel_with_x(first, "killed.ipynb", kernel_pids)
    first.stop(signal.SIGKILL)
    os.kill(kernel_pids[1], signal.SIGKILL)
    wait_for(lambda: not alive(kernel_pids[1]))

    second = serve(root_dir, servers, "--keep-kernels")
    assert [k["id"] for k in listed(second, "kernels")] == [kept["kernel"]["id"]]
    assert [s["id"] for s in listed(second, "sessions")] == [kept["id"]]
    with second.client() as client:
        assert client.get(f"api/sessions/{killed['id']}").status_code == 404
    assert output_of(second, kept["kernel"]["id"], "print(x)") == "42\n"


def test_a_default_shutdown_still_ends_every_kernel(
    root_dir: Path, servers: list[RunningServer], kernel_pids: list[int]
) -> None:
    server = serve(root_dir, servers)
    start_kernel_with_x(server, "notebook.ipynb", kernel_pids)
    assert server.stop() == 0
    wait_for(lambda: not alive(kernel_pids[0]), timeout=30)

    again = serve(root_dir, servers, "--keep-kernels")
    assert listed(again, "sessions") == []
    assert listed(again, "kernels") == []


def test_without_keep_mode_kernels_end_with_a_killed_server(
    root_dir: Path, servers: list[RunningServer], kernel_pids: list[int]
) -> None:
    server = serve(root_dir, servers)
    start_kernel_with_x(server, "notebook.ipynb", kernel_pids)
    server.stop(signal.SIGKILL)
    # ipykernel's parent poller sees its server gone and exits.
    wait_for(lambda: not alive(kernel_pids[0]), timeout=30)


def test_a_second_keep_mode_server_on_the_same_root_is_refused(
    root_dir: Path, servers: list[RunningServer]
) -> None:
    serve(root_dir, servers, "--keep-kernels")
    with pytest.raises(AssertionError, match="in use by another modserver"):
        serve(root_dir, servers, "--keep-kernels")


def test_a_renamed_notebook_keeps_its_session_across_a_restart(
    root_dir: Path, servers: list[RunningServer], kernel_pids: list[int]
) -> None:
    (root_dir / "old.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    first = start_server(root_dir, "--keep-kernels", plugins=PLUGINS + ",contents")
    servers.append(first)
    session = start_kernel_with_x(first, "old.ipynb", kernel_pids)
    with first.client() as client:
        assert client.patch("api/contents/old.ipynb", json={"path": "new.ipynb"}).status_code == 200
        wait_for(lambda: client.get(f"api/sessions/{session['id']}").json()["path"] == "new.ipynb")
    first.stop()

    second = start_server(root_dir, "--keep-kernels", plugins=PLUGINS + ",contents")
    servers.append(second)
    [again] = listed(second, "sessions")
    assert (again["id"], again["path"]) == (session["id"], "new.ipynb")
