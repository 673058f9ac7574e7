"""The kernel WebSocket under every ASGI server the tests know, embedded in a host app.

A client that leaves while its kernel is still printing is an ordinary end of a session:
the server logs no error for it, whichever server (and its way of saying "the peer has
gone") runs the app.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import ASGI_SERVERS, RunningServer, start_embed_host
from tests.kernels.wsclient import KernelSocket, stdout

# Prints 20 KB chunks (up to 10 MB/s, so the socket is always busy, yet the server and
# kernel keep up on a busy machine) until the stop file exists.
CHATTY = """
import os, time
stop = {stop!r}
chunk = ("x" * 199 + "\\n") * 100
while not os.path.exists(stop):
    print(chunk, flush=True)
    time.sleep(0.002)
"""


def kernel_model(host: RunningServer, kernel_id: str) -> dict[str, Any]:
    with host.client() as client:
        return client.get(f"api/kernels/{kernel_id}").json()


def wait_for(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("server", ASGI_SERVERS)
def test_a_client_leaving_mid_output_is_not_an_error(server: str, tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    stop = tmp_path / "stop-printing"
    host = start_embed_host(root, server=server, plugins="kernels")
    try:
        with host.client() as client:
            kernel_id = client.post("api/kernels", json={"name": "python3"}).json()["id"]
        ws = KernelSocket.open(host, kernel_id, "legacy")
        ws.execute(CHATTY.format(stop=str(stop)))
        ws.until(lambda m: m["header"]["msg_type"] == "stream")
        ws.close()  # while the kernel keeps printing
        wait_for(lambda: kernel_model(host, kernel_id)["connections"] == 0)
        stop.touch()
        wait_for(lambda: kernel_model(host, kernel_id)["execution_state"] == "idle")
        # The kernel still serves a new client.
        again = KernelSocket.open(host, kernel_id, "legacy")
        try:
            outputs = again.run("print('still here')")
        finally:
            again.close()
        assert stdout(outputs) == "still here\n"
        with host.client() as client:
            assert client.delete(f"api/kernels/{kernel_id}").status_code == 204
    finally:
        host.stop()  # exit codes differ: uvicorn re-raises the SIGTERM it handled
    assert "Traceback" not in host.log(), host.log()
    assert "ERROR" not in host.log(), host.log()


@pytest.mark.slow
def test_a_host_that_calls_notify_stopping_stops_at_once_with_a_kernel_socket_open(
    tmp_path: Path,
):
    # hypercorn waits up to its graceful timeout (here 120 s) for open connections before
    # it stops; the host's call tells modserver to close its WebSockets first.
    root = tmp_path / "root"
    root.mkdir()
    host = start_embed_host(
        root,
        server="hypercorn-program",
        plugins="kernels",
        extra_env={"EMBED_GRACEFUL_TIMEOUT": "120"},
    )
    try:
        with host.client() as client:
            kernel_id = client.post("api/kernels", json={"name": "python3"}).json()["id"]
        ws = KernelSocket.open(host, kernel_id, "v1")
        ws.send("kernel_info_request", {})
        ws.until(lambda m: m["header"]["msg_type"] == "kernel_info_reply")
        assert host.stop(timeout=60) == 0
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # what the kernel sent before (its "idle"), then the close
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001  # going away
    finally:
        host.stop()
    assert "Traceback" not in host.log(), host.log()
