"""``/api/kernels`` REST: start, list, get, interrupt, restart, delete (jupyter_server 2.x)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import RunningServer
from tests.kernels.wsclient import KernelSocket, stdout, types


@pytest.fixture(scope="module")
def python_kernel(kernel_server: RunningServer) -> Iterator[dict[str, Any]]:
    """One ipykernel shared by the tests of this module."""
    with kernel_server.client() as client:
        model = client.post("api/kernels", json={"name": "python3", "path": "sub/deeper"}).json()
    yield model
    with kernel_server.client() as client:
        client.delete(f"api/kernels/{model['id']}")


def wait_state(server: RunningServer, kernel_id: str, state: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    with server.client() as client:
        while True:
            model = client.get(f"api/kernels/{kernel_id}").json()
            if model.get("execution_state") == state or time.monotonic() > deadline:
                return model
            time.sleep(0.1)


def test_start_returns_201_with_model_and_location(kernel_server: RunningServer) -> None:
    with kernel_server.client() as client:
        response = client.post("api/kernels", json={"name": "tiny"})
        model = response.json()
        try:
            assert response.status_code == 201
            assert response.headers["location"] == f"/api/kernels/{model['id']}"
            assert set(model) == {"id", "name", "last_activity", "execution_state", "connections"}
            assert model["name"] == "tiny"
            assert model["connections"] == 0
            assert model["last_activity"].endswith("Z")
            assert model["id"] in [k["id"] for k in client.get("api/kernels").json()]
            assert wait_state(kernel_server, model["id"], "idle")["execution_state"] == "idle"
        finally:
            assert client.delete(f"api/kernels/{model['id']}").status_code == 204
        assert client.get(f"api/kernels/{model['id']}").status_code == 404
        assert model["id"] not in [k["id"] for k in client.get("api/kernels").json()]


def test_start_without_body_uses_the_default_kernelspec(python_kernel: dict[str, Any]) -> None:
    assert python_kernel["name"] == "python3"


def test_kernel_starts_in_the_requested_folder(
    kernel_server: RunningServer, python_kernel: dict[str, Any]
) -> None:
    ws = KernelSocket.open(kernel_server, python_kernel["id"])
    try:
        messages = ws.run("import os; print(os.getcwd())")
    finally:
        ws.close()
    out = "".join(m["content"]["text"] for m in messages if m["header"]["msg_type"] == "stream")
    expected = kernel_server.root_dir / "sub" / "deeper"
    assert out.strip() == str(expected.resolve())


def test_unknown_kernelspec_is_404(kernel_server: RunningServer) -> None:
    with kernel_server.client() as client:
        response = client.post("api/kernels", json={"name": "no-such-kernel"})
    assert response.status_code == 404
    assert "no-such-kernel" in response.json()["message"]


def test_a_kernel_that_cannot_start_is_a_500_json_error(kernel_server: RunningServer) -> None:
    with kernel_server.client() as client:
        before = {k["id"] for k in client.get("api/kernels").json()}
        response = client.post("api/kernels", json={"name": "broken"})
        after = {k["id"] for k in client.get("api/kernels").json()}
    assert response.status_code == 500
    assert "broken" in response.json()["message"]
    assert after == before


def test_bad_body_is_400(kernel_server: RunningServer) -> None:
    with kernel_server.client() as client:
        assert client.post("api/kernels", content=b"{nope").status_code == 400
        assert client.post("api/kernels", json=[1]).status_code == 400
        assert client.post("api/kernels", json={"name": 3}).status_code == 400


def test_unknown_kernel_id_is_404_everywhere(kernel_server: RunningServer) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    with kernel_server.client() as client:
        assert client.get(f"api/kernels/{missing}").status_code == 404
        assert client.delete(f"api/kernels/{missing}").status_code == 404
        assert client.post(f"api/kernels/{missing}/interrupt").status_code == 404
        response = client.post(f"api/kernels/{missing}/restart")
    assert response.status_code == 404
    assert response.json()["message"] == f"Kernel does not exist: {missing}"


def test_interrupt_stops_a_running_cell(
    kernel_server: RunningServer, python_kernel: dict[str, Any]
) -> None:
    ws = KernelSocket.open(kernel_server, python_kernel["id"])
    try:
        msg_id = ws.execute("import time; time.sleep(60)")
        ws.until(lambda m: m["header"]["msg_type"] == "execute_input")
        assert wait_state(kernel_server, python_kernel["id"], "busy")["execution_state"] == "busy"
        with kernel_server.client() as client:
            assert client.post(f"api/kernels/{python_kernel['id']}/interrupt").status_code == 204
        messages = ws.collect(msg_id, timeout=30)
    finally:
        ws.close()
    reply = next(m for m in messages if m["header"]["msg_type"] == "execute_reply")
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert wait_state(kernel_server, python_kernel["id"], "idle")["execution_state"] == "idle"


def test_restart_waits_for_the_kernel_and_keeps_the_websocket(
    kernel_server: RunningServer, python_kernel: dict[str, Any]
) -> None:
    ws = KernelSocket.open(kernel_server, python_kernel["id"], protocol="legacy")
    try:
        ws.run("x = 41")
        with kernel_server.client() as client:
            response = client.post(f"api/kernels/{python_kernel['id']}/restart")
        assert response.status_code == 200
        model = response.json()
        assert model["id"] == python_kernel["id"]
        assert model["execution_state"] == "idle"
        messages = ws.run("print('x' in dir())")
    finally:
        ws.close()
    assert stdout(messages) == "False\n"
    assert "execute_reply" in types(messages)


def test_status_reports_kernels_and_connections(
    kernel_server: RunningServer, python_kernel: dict[str, Any]
) -> None:
    ws = KernelSocket.open(kernel_server, python_kernel["id"])
    try:
        ws.run("1")
        with kernel_server.client() as client:
            status = client.get("api/status").json()
            model = client.get(f"api/kernels/{python_kernel['id']}").json()
    finally:
        ws.close()
    assert status["kernels"] >= 1
    assert status["connections"] >= 1
    assert model["connections"] == 1
