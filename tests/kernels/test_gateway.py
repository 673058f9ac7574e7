"""Kernels on a real jupyter-kernel-gateway (``kernels.gateway_url``).

The module starts ``jupyter kernelgateway`` on a free loopback port with an auth token,
then modserver pointed at it: kernelspecs, the kernel lifecycle, the kernel WebSocket and
sessions all go through the gateway, whose own ``/api/kernels`` shows the result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.conftest import RunningServer, start_server
from tests.kernels.wsclient import KernelSocket, stdout, types
from tests.ports import free_port
from tests.yjs.conftest import start_yjs_server, write_notebook
from tests.yjs.test_collaboration import wait_until
from tests.yjs.test_execution import document_id, execute, outputs_on_disk, stream_text

GATEWAY_TOKEN = "gateway-token-5e1f0c2a9b7d"


class Gateway:
    """A running ``jupyter kernelgateway`` process and a client of its own API."""

    def __init__(self, proc: subprocess.Popen[str], url: str, output: list[str]) -> None:
        self.proc = proc
        self.url = url
        self.output = output

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"token {GATEWAY_TOKEN}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def kernel_ids(self) -> set[str]:
        with self.client() as client:
            response = client.get("/api/kernels")
        response.raise_for_status()
        return {k["id"] for k in response.json()}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def wait_until_answering(ws: KernelSocket, timeout: float = 60) -> None:
    """Send ``kernel_info_request`` every 2 s until one is answered on shell and iopub.

    Both, as jupyter_server's "nudge" does: after a restart the gateway may answer on
    shell before its iopub subscription is through, and an execute's idle status sent
    then would be lost.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = ws.send("kernel_info_request", {})
        try:
            ws.collect(msg_id, timeout=2)
        except (AssertionError, TimeoutError):
            continue
        return
    raise AssertionError(f"the kernel did not answer kernel_info within {timeout} s")


def start_gateway(base: Path, timeout: float = 60) -> Gateway:
    """Start the gateway and wait (bounded) until it answers an authenticated request."""
    port = free_port()
    runtime = base / "gateway-runtime"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    env["JUPYTER_RUNTIME_DIR"] = str(runtime)
    command = [
        sys.executable,
        "-m",
        "kernel_gateway",
        "--KernelGatewayApp.ip=127.0.0.1",
        f"--KernelGatewayApp.port={port}",
        f"--KernelGatewayApp.auth_token={GATEWAY_TOKEN}",
        "--KernelGatewayApp.port_retries=0",
        # modserver lists kernels (GET /api/kernels), which this gateway refuses by default.
        "--JupyterWebsocketPersonality.list_kernels=True",
    ]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=base
    )
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)

    threading.Thread(target=pump, daemon=True).start()
    gateway = Gateway(proc, f"http://127.0.0.1:{port}", output)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError("the gateway exited:\n" + "".join(output))
        try:
            with gateway.client() as client:
                if client.get("/api/kernelspecs").status_code == 200:
                    return gateway
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            gateway.stop()
            raise AssertionError("the gateway did not start:\n" + "".join(output))
        time.sleep(0.2)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = start_gateway(tmp_path_factory.mktemp("gateway"))
    yield running
    running.stop()


#: Set where modserver runs, as a deployment does: each start sends it to the gateway.
KERNEL_USER = {"KERNEL_USERNAME": "ada-on-the-gateway"}


def start_on_gateway(
    tmp_path_factory: pytest.TempPathFactory, url: str, token: str, *args: str
) -> RunningServer:
    """modserver (kernels and sessions) whose kernels live on the gateway at ``url``."""
    root = tmp_path_factory.mktemp("gateway-root")
    return start_server(
        root,
        "--set",
        f"kernels.gateway_url={url}",
        "--set",
        f"kernels.gateway_auth_token={token}",
        "--set",
        "kernels.gateway_connect_timeout=5",
        *args,
        plugins="kernels,sessions",
        env=KERNEL_USER,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, gateway: Gateway) -> Iterator[RunningServer]:
    running = start_on_gateway(tmp_path_factory, gateway.url, GATEWAY_TOKEN)
    yield running
    running.stop()


def test_kernelspecs_come_from_the_gateway(server: RunningServer, gateway: Gateway) -> None:
    with gateway.client() as client:
        theirs = client.get("/api/kernelspecs").json()
    with server.client() as client:
        ours = client.get("/api/kernelspecs").json()
        one = client.get("/api/kernelspecs/python3")
        missing = client.get("/api/kernelspecs/no-such-kernel")
        resources = ours["kernelspecs"]["python3"]["resources"]
        logo = client.get(resources["logo-64x64"].removeprefix("/"))
    assert set(ours["kernelspecs"]) == set(theirs["kernelspecs"])
    assert ours["default"] == theirs["default"]
    assert one.status_code == 200
    assert one.json()["spec"]["language"] == "python"
    assert missing.status_code == 404
    # Resources are served by modserver (fetched from the gateway), not linked to it.
    assert resources["logo-64x64"].startswith("/kernelspecs/python3/")
    assert logo.status_code == 200
    assert logo.content.startswith(b"\x89PNG")


def test_a_kernel_started_through_modserver_runs_on_the_gateway(
    server: RunningServer, gateway: Gateway
) -> None:
    with server.client() as client:
        started = client.post("/api/kernels", json={"name": "python3"})
        assert started.status_code == 201, started.text
        kernel_id = started.json()["id"]
        assert kernel_id in gateway.kernel_ids()
        assert kernel_id in {k["id"] for k in client.get("/api/kernels").json()}
        assert client.get(f"/api/kernels/{kernel_id}").json()["name"] == "python3"

        for protocol in ("v1", "legacy"):
            ws = KernelSocket.open(server, kernel_id, protocol=protocol)
            try:
                messages = ws.run("print(6*7)")
            finally:
                ws.close()
            assert stdout(messages) == "42\n", types(messages)

        assert client.post(f"/api/kernels/{kernel_id}/interrupt").status_code == 204
        # A restart on the gateway forgets the kernel's variables.
        ws = KernelSocket.open(server, kernel_id)
        try:
            ws.run("x = 5")
            restarted = client.post(f"/api/kernels/{kernel_id}/restart")
            assert restarted.status_code == 200, restarted.text
            assert restarted.json()["id"] == kernel_id
            # As JupyterLab does after a restart: ask kernel_info until the new kernel
            # answers (a request sent while the gateway reconnects to it can be lost there).
            wait_until_answering(ws)
            assert stdout(ws.run("print('x' in dir())")) == "False\n"
        finally:
            ws.close()

        assert client.delete(f"/api/kernels/{kernel_id}").status_code == 204
        assert kernel_id not in gateway.kernel_ids()
        assert client.get(f"/api/kernels/{kernel_id}").status_code == 404
        assert client.delete(f"/api/kernels/{kernel_id}").status_code == 404


def test_unknown_kernels_and_kernelspecs_are_404s(server: RunningServer) -> None:
    with server.client() as client:
        assert client.post("/api/kernels", json={"name": "no-such-kernel"}).status_code == 404
        assert client.post("/api/kernels/not-a-kernel/interrupt").status_code == 404
    with pytest.raises(Exception, match="404"):
        KernelSocket.open(server, "not-a-kernel")


def test_a_session_on_a_gateway_kernel_executes(server: RunningServer, gateway: Gateway) -> None:
    with server.client() as client:
        created = client.post(
            "/api/sessions",
            json={"path": "notebook.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        )
        assert created.status_code == 201, created.text
        session = created.json()
        kernel_id = session["kernel"]["id"]
        assert kernel_id in gateway.kernel_ids()
        ws = KernelSocket.open(server, kernel_id, session=session["id"])
        try:
            messages = ws.run("print(6*7)")
            # modserver's own KERNEL_* variables went with the start (jupyter_server's way).
            user = stdout(ws.run("import os; print(os.environ.get('KERNEL_USERNAME'))"))
        finally:
            ws.close()
        assert stdout(messages) == "42\n"
        assert user == KERNEL_USER["KERNEL_USERNAME"] + "\n"
        assert client.delete(f"/api/sessions/{session['id']}").status_code == 204
    assert kernel_id not in gateway.kernel_ids()


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def test_a_wrong_gateway_token_is_a_clear_error(
    tmp_path_factory: pytest.TempPathFactory, gateway: Gateway
) -> None:
    server = start_on_gateway(tmp_path_factory, gateway.url, "not-the-token")
    with gateway.client() as direct:
        theirs = direct.post("/api/kernels", json={"name": "python3"}).json()["id"]
    try:
        with server.client() as client:
            specs = client.get("/api/kernelspecs")
            start = client.post("/api/kernels", json={"name": "python3"})
        # The kernel WebSocket is refused at the handshake, with the same reason.
        with pytest.raises(InvalidStatus) as refused:
            KernelSocket.open(server, theirs)
    finally:
        server.stop()
        with gateway.client() as direct:
            direct.delete(f"/api/kernels/{theirs}")
    assert refused.value.response.status_code == 502
    assert b"gateway_auth_token" in refused.value.response.body
    for response in (specs, start):
        assert response.status_code == 502
        message = _error(response)["message"]
        assert gateway.url in message and "gateway_auth_token" in message
    assert "not-the-token" not in server.log()
    assert "Traceback" not in server.log()


def test_a_gateway_that_is_down_is_a_clear_error(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    server = start_on_gateway(tmp_path_factory, down, GATEWAY_TOKEN)
    try:
        with server.client() as client:
            responses = [
                client.get("/api/kernelspecs"),
                client.get("/api/kernels"),
                client.post("/api/kernels", json={}),
            ]
    finally:
        server.stop()
    for response in responses:
        assert response.status_code == 503
        assert f"Kernel gateway {down} is unreachable" in _error(response)["message"]
    assert "Traceback" not in server.log()
    assert GATEWAY_TOKEN not in server.log()


def test_the_gateway_token_is_shown_as_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "modserver.cli",
            "config",
            "show",
            "--set",
            "kernels.gateway_url=http://127.0.0.1:1",
            "--set",
            f"kernels.gateway_auth_token={GATEWAY_TOKEN}",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "gateway_auth_token" in shown.stdout
    assert GATEWAY_TOKEN not in shown.stdout + shown.stderr


def test_the_server_runs_a_collaborative_cell_on_a_gateway_kernel(
    tmp_path_factory: pytest.TempPathFactory, gateway: Gateway
) -> None:
    # Server-side execution (yjs) talks to the kernel through the Kernels service only.
    root = tmp_path_factory.mktemp("gateway-yjs") / "root"
    root.mkdir()
    server = start_yjs_server(
        root,
        f"kernels.gateway_url={gateway.url}",
        f"kernels.gateway_auth_token={GATEWAY_TOKEN}",
        plugins="yjs,kernels",
    )
    try:
        with server.client() as client:
            started = client.post("api/kernels", json={"name": "python3"})
            assert started.status_code == 201, started.text
            kernel_id = started.json()["id"]
        assert kernel_id in gateway.kernel_ids()
        path = root / "run.ipynb"
        write_notebook(path, "print(6*7)")
        reply = execute(server, kernel_id, document_id(server, "run.ipynb"), "cell-0")
        assert reply.status_code == 200 and reply.json() == {"status": "ok"}, reply.text
        wait_until(lambda: stream_text(outputs_on_disk(path)) == "42\n")
    finally:
        server.stop()
    # The kernel it started stopped with it.
    assert kernel_id not in gateway.kernel_ids()


def test_a_plugin_talks_to_a_gateway_kernel_through_the_service_and_hears_it_go(
    tmp_path_factory: pytest.TempPathFactory, gateway: Gateway
) -> None:
    from tests.kernels.test_service import (
        Inbox,
        execute_request,
        kernels_of,
        serve_with_probe,
        wait_for,
    )

    base = tmp_path_factory.mktemp("gateway-probe")
    url = ("kernels", "gateway_url", gateway.url)
    token = ("kernels", "gateway_auth_token", GATEWAY_TOKEN)
    with serve_with_probe(base, url, token) as server:
        kernels = kernels_of(server)
        with server.client() as client:
            kernel_id = client.post("api/kernels", json={"name": "python3"}).json()["id"]
        request = execute_request("print('on the gateway')", "probe")
        inbox = Inbox(msg_id=request.header["msg_id"])

        async def run() -> None:
            kernels.subscribe(kernel_id, inbox, session="probe", on_close=inbox.on_close)
            await kernels.send(kernel_id, request, session="probe")
            with anyio.fail_after(60):
                await inbox.done.wait()

        server.call(run)
        printed = "".join(
            m.content_json()["text"]
            for m in inbox.of(request.header["msg_id"])
            if m.msg_type == "stream"
        )
        assert printed == "on the gateway\n"
        with server.client() as client:
            assert client.delete(f"api/kernels/{kernel_id}").status_code == 204
        # The shared stream to the gateway ends with the kernel: its listeners are told.
        wait_for(lambda: inbox.closed == 1)
