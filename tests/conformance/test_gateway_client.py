"""jupyter_server itself as a client: in gateway mode it runs every kernel on modserver.

jupyter_server's ``GatewayClient`` speaks the kernels REST API and the kernel WebSocket
(legacy JSON protocol) to a remote server. Pointed at modserver, a notebook client of
jupyter_server lists kernelspecs, starts, runs, restarts and stops kernels that live in
modserver: a real jupyter_server API client, not our own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import RunningServer, start_server
from tests.ports import free_port

GATEWAY_TOKEN = "gateway-client-token"


@pytest.fixture(scope="module")
def modserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("gateway") / "root"
    root.mkdir()
    server = start_server(root, "--log-level", "warning", plugins="kernels")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def jupyter_server(
    modserver: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A jupyter_server whose kernels are modserver's (``--GatewayClient.url``)."""
    scratch = tmp_path_factory.mktemp("jupyter-server")
    (scratch / "root").mkdir()
    port = free_port()
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(scratch),
        "JUPYTER_CONFIG_DIR": str(scratch / "config"),
        "JUPYTER_DATA_DIR": str(scratch / "data"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--allow-root",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--ServerApp.root_dir={scratch / 'root'}",
        f"--IdentityProvider.token={GATEWAY_TOKEN}",
        f"--GatewayClient.url={modserver.url.rstrip('/')}",
        f"--GatewayClient.auth_token={modserver.token}",
    ]
    log = (scratch / "server.log").open("w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (scratch / "server.log").read_text()
            try:
                if httpx.get(url + "api", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "jupyter_server did not start"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def client(url: str) -> httpx.Client:
    headers = {"Authorization": f"token {GATEWAY_TOKEN}"}
    return httpx.Client(base_url=url, headers=headers, timeout=60)


def run_cell(url: str, kernel_id: str, code: str) -> list[dict[str, Any]]:
    """Execute ``code`` through jupyter_server's kernel WebSocket; messages of the cell."""
    ws_url = url.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
    session = uuid.uuid4().hex
    msg_id = uuid.uuid4().hex
    request = {
        "header": {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "session": session,
            "username": "test",
            "version": "5.3",
            "date": "",
        },
        "parent_header": {},
        "metadata": {},
        "content": {"code": code, "silent": False, "allow_stdin": False},
        "channel": "shell",
        "buffers": [],
    }
    headers = {"Authorization": f"token {GATEWAY_TOKEN}"}
    messages: list[dict[str, Any]] = []
    with connect(f"{ws_url}?session_id={session}", additional_headers=headers) as ws:
        ws.send(json.dumps(request))
        while True:
            try:
                message = json.loads(ws.recv(timeout=60))
            except TimeoutError:
                raise AssertionError(f"no end of cell {code!r}; got {messages}") from None
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(message)
            # iopub's "idle" and shell's reply come on two channels, in either order.
            idle = any(
                m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                for m in messages
            )
            if idle and any(m["msg_type"] == "execute_reply" for m in messages):
                return messages


def test_jupyter_server_runs_its_kernels_on_modserver(
    modserver: RunningServer, jupyter_server: str
) -> None:
    with client(jupyter_server) as js:
        specs = js.get("api/kernelspecs").json()
        assert "python3" in specs["kernelspecs"]
        started = js.post("api/kernels", json={"name": "python3"})
        assert started.status_code == 201, started.text
        kernel_id = started.json()["id"]
        # The kernel lives in modserver: the same id is listed there.
        with modserver.client() as ms:
            assert kernel_id in [k["id"] for k in ms.get("api/kernels").json()]

        messages = run_cell(jupyter_server, kernel_id, "marker = 1\nprint(6 * 7)")
        streams = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        assert streams == "42\n"
        reply = next(m for m in messages if m["msg_type"] == "execute_reply")
        assert reply["content"]["status"] == "ok"

        assert js.post(f"api/kernels/{kernel_id}/restart").status_code == 200
        # A new process: the variable set before the restart is gone.
        messages = run_cell(jupyter_server, kernel_id, "print('marker' in globals())")
        streams = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        assert streams == "False\n"

        assert js.delete(f"api/kernels/{kernel_id}").status_code == 204
        with modserver.client() as ms:
            assert kernel_id not in [k["id"] for k in ms.get("api/kernels").json()]
