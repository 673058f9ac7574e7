"""The kernel WebSocket: both protocols, one shared kernel client, routing and replay."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.conftest import RunningServer
from tests.gate import Gate
from tests.kernels.wsclient import V1, KernelSocket, stdout, types
from tests.raw_websocket import connect_unread

PROTOCOLS = ["v1", "legacy"]

ECHO_COMM = """
from comm import get_comm_manager
def _target(comm, open_msg):
    @comm.on_msg
    def _echo(msg):
        comm.send({"sizes": [len(b) for b in msg["buffers"]]}, buffers=msg["buffers"])
get_comm_manager().register_target("echo", _target)
"""


@pytest.fixture(scope="module")
def kernel_id(kernel_server: RunningServer) -> Iterator[str]:
    """One ipykernel shared by the tests of this module."""
    with kernel_server.client() as client:
        model = client.post("api/kernels", json={"name": "python3"}).json()
    ws = KernelSocket.open(kernel_server, model["id"])
    ws.run(ECHO_COMM)
    ws.close()
    yield model["id"]
    with kernel_server.client() as client:
        client.delete(f"api/kernels/{model['id']}")


def kernel_model(server: RunningServer, kernel_id: str) -> dict[str, Any]:
    with server.client() as client:
        return client.get(f"api/kernels/{kernel_id}").json()


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_execute_gives_stream_result_and_reply(
    kernel_server: RunningServer, kernel_id: str, protocol: str
) -> None:
    ws = KernelSocket.open(kernel_server, kernel_id, protocol)
    try:
        if protocol == "v1":
            assert ws.ws.subprotocol == V1
        else:
            assert ws.ws.subprotocol is None
        messages = ws.run("print('hello'); 6 * 7")
    finally:
        ws.close()
    # iopub and shell are separate channels: the reply and the idle status may swap.
    iopub = [m for m in messages if m["channel"] == "iopub"]
    # One print may come as several stream messages ("hello", then "\n").
    kinds = [kind for i, kind in enumerate(types(iopub)) if types(iopub)[i - 1 : i] != [kind]]
    assert kinds == ["status", "execute_input", "stream", "execute_result", "status"]
    assert types([m for m in messages if m["channel"] == "shell"]) == ["execute_reply"]
    by_type = {m["header"]["msg_type"]: m for m in messages}
    assert by_type["stream"]["content"]["name"] == "stdout"
    assert stdout(messages) == "hello\n"
    assert by_type["execute_result"]["content"]["data"]["text/plain"] == "42"
    assert by_type["execute_reply"]["channel"] == "shell"
    assert by_type["execute_reply"]["content"]["status"] == "ok"
    assert by_type["stream"]["channel"] == "iopub"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_binary_buffers_travel_both_ways(
    kernel_server: RunningServer, kernel_id: str, protocol: str
) -> None:
    ws = KernelSocket.open(kernel_server, kernel_id, protocol)
    comm_id = uuid.uuid4().hex
    payload = [bytes(range(256)) * 4096, b"", b"\x00tail"]
    try:
        ws.send("comm_open", {"comm_id": comm_id, "target_name": "echo", "data": {}})
        ws.send("comm_msg", {"comm_id": comm_id, "data": {}}, buffers=payload)
        echoed = ws.until(
            lambda m: m["header"]["msg_type"] == "comm_msg" and m["channel"] == "iopub"
        )[-1]
    finally:
        ws.close()
    assert echoed["content"]["data"] == {"sizes": [len(b) for b in payload]}
    assert [bytes(b) for b in echoed["buffers"]] == payload


BIG_DISPLAY = """
from IPython.display import display
blob = "".join(chr(32 + (i * 7919) % 2000) for i in range(1_000_000))
display({"text/plain": blob, "application/json": {"n": len(blob)}}, raw=True)
"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_big_display_data_arrives_intact(
    kernel_server: RunningServer, kernel_id: str, protocol: str
) -> None:
    # 1,000,000 characters, most of them non-ASCII: ~2 MB of UTF-8 in one message.
    expected = "".join(chr(32 + (i * 7919) % 2000) for i in range(1_000_000))
    ws = KernelSocket.open(kernel_server, kernel_id, protocol)
    try:
        messages = ws.run(BIG_DISPLAY)
    finally:
        ws.close()
    [display] = [m for m in messages if m["header"]["msg_type"] == "display_data"]
    assert display["content"]["data"]["application/json"] == {"n": len(expected)}
    assert display["content"]["data"]["text/plain"] == expected


def test_two_connections_share_iopub_but_replies_go_to_the_requester(
    kernel_server: RunningServer, kernel_id: str
) -> None:
    first = KernelSocket.open(kernel_server, kernel_id, "v1")
    second = KernelSocket.open(kernel_server, kernel_id, "legacy")
    try:
        wait_for(lambda: kernel_model(kernel_server, kernel_id)["connections"] == 2)
        msg_id = first.execute("print('shared')")
        first.collect(msg_id)
        seen = second.until(
            lambda m: (
                m["parent_header"].get("msg_id") == msg_id
                and m["header"]["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"
            )
        )
        # The second connection's own request proves anything pending has arrived.
        second.collect(second.execute("1"))
        mine = [m for m in seen if m["parent_header"].get("msg_id") == msg_id]
    finally:
        first.close()
        second.close()
    assert "stream" in types(mine)
    assert all(m["channel"] == "iopub" for m in mine), "replies leaked to another client"
    wait_for(lambda: kernel_model(kernel_server, kernel_id)["connections"] == 0)


def test_input_request_reaches_only_the_requesting_client(
    kernel_server: RunningServer, kernel_id: str
) -> None:
    asker = KernelSocket.open(kernel_server, kernel_id, "v1")
    watcher = KernelSocket.open(kernel_server, kernel_id, "v1")
    try:
        msg_id = asker.send(
            "execute_request",
            {
                "code": "answer = input('name? '); print('hi', answer)",
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": True,
                "stop_on_error": True,
            },
        )
        request = asker.until(lambda m: m["header"]["msg_type"] == "input_request")[-1]
        assert request["channel"] == "stdin"
        assert request["content"]["prompt"] == "name? "
        asker.send("input_reply", {"value": "ada"}, channel="stdin")
        messages = asker.collect(msg_id)
        watched = watcher.until(
            lambda m: (
                m["parent_header"].get("msg_id") == msg_id
                and m["header"]["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"
            )
        )
    finally:
        asker.close()
        watcher.close()
    assert stdout(messages) == "hi ada\n"
    assert "input_request" not in types(watched)
    assert "execute_reply" not in types(watched)


@pytest.mark.slow
def test_input_right_after_a_kernel_starts_is_not_lost(kernel_server: RunningServer) -> None:
    # The kernel drops an input_request for a stdin socket it has not met yet; ZMQ may
    # connect stdin up to 100 ms after shell. Fresh kernels, asked at once, 9 times
    # (three at a time: each waits mostly for its kernel to start).
    def ask_a_fresh_kernel(_: int) -> None:
        with kernel_server.client() as client:
            model = client.post("api/kernels", json={"name": "python3"}).json()
        ws = KernelSocket.open(kernel_server, model["id"], "v1")
        try:
            ws.run("pass")  # as a frontend does first: the kernel answers on shell
            ws.execute("value = input('now? ')", timeout=30, allow_stdin=True)
            request = ws.until(lambda m: m["header"]["msg_type"] == "input_request", timeout=10)
            assert request[-1]["content"]["prompt"] == "now? "
        finally:
            ws.close()
            with kernel_server.client() as client:
                client.delete(f"api/kernels/{model['id']}")

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(ask_a_fresh_kernel, range(9)))


def test_same_session_replaces_the_stale_connection(
    kernel_server: RunningServer, kernel_id: str
) -> None:
    session = uuid.uuid4().hex
    stale = KernelSocket.open(kernel_server, kernel_id, "v1", session=session)
    fresh = KernelSocket.open(kernel_server, kernel_id, "v1", session=session)
    try:
        with pytest.raises(ConnectionClosed):
            stale.until(lambda m: False, timeout=10)
        messages = fresh.run("'still works'")
        assert "execute_reply" in types(messages)
        assert kernel_model(kernel_server, kernel_id)["connections"] == 1
    finally:
        fresh.close()
        stale.close()


def test_messages_missed_while_disconnected_are_replayed_on_reconnect(
    kernel_server: RunningServer, kernel_id: str, tmp_path: Path
) -> None:
    session = uuid.uuid4().hex
    gate = Gate(tmp_path)
    ws = KernelSocket.open(kernel_server, kernel_id, "legacy", session=session)
    msg_id = ws.execute(gate.wait() + "print('while you were away')")
    ws.until(lambda m: m["header"]["msg_type"] == "execute_input")
    ws.close()
    # The cell finishes while nobody is connected: the server sees the kernel go idle.
    wait_for(lambda: kernel_model(kernel_server, kernel_id)["connections"] == 0)
    gate.open()
    wait_for(lambda: kernel_model(kernel_server, kernel_id)["execution_state"] == "idle")
    back = KernelSocket.open(kernel_server, kernel_id, "legacy", session=session)
    try:
        replayed = back.collect(msg_id, timeout=10)
    finally:
        back.close()
    assert stdout(replayed) == "while you were away\n"
    assert "execute_reply" in types(replayed)


def test_requests_sent_while_the_kernel_starts_are_delivered(
    kernel_server: RunningServer,
) -> None:
    with kernel_server.client() as client:
        model = client.post("api/kernels", json={"name": "python3"}).json()
    try:
        ws = KernelSocket.open(kernel_server, model["id"], "v1")
        try:
            messages = ws.run("'early bird'")
        finally:
            ws.close()
    finally:
        with kernel_server.client() as client:
            client.delete(f"api/kernels/{model['id']}")
    result = next(m for m in messages if m["header"]["msg_type"] == "execute_result")
    assert result["content"]["data"]["text/plain"] == "'early bird'"


def test_websocket_closes_when_the_kernel_is_shut_down(kernel_server: RunningServer) -> None:
    with kernel_server.client() as client:
        model = client.post("api/kernels", json={"name": "tiny"}).json()
        ws = KernelSocket.open(kernel_server, model["id"], "v1")
        ws.send("kernel_info_request", {})
        ws.until(lambda m: m["header"]["msg_type"] == "kernel_info_reply")
        assert client.delete(f"api/kernels/{model['id']}").status_code == 204
    with pytest.raises(ConnectionClosed):
        ws.until(lambda m: False, timeout=10)


def test_unknown_kernel_websocket_is_refused_with_404(kernel_server: RunningServer) -> None:
    url = kernel_server.ws_url("api/kernels/00000000-0000-0000-0000-000000000000/channels")
    headers = {"Authorization": f"token {kernel_server.token}"}
    with pytest.raises(InvalidStatus) as info:
        connect(url, additional_headers=headers, open_timeout=10)
    assert info.value.response.status_code == 404


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_websocket_without_a_valid_token_is_refused(
    kernel_server: RunningServer, kernel_id: str, token: str
) -> None:
    with pytest.raises(InvalidStatus) as info:
        KernelSocket.open(kernel_server, kernel_id, "v1", token=token)
    assert info.value.response.status_code in (401, 403)
    assert kernel_model(kernel_server, kernel_id)["connections"] == 0


def open_stalled_socket(server: RunningServer, kernel_id: str) -> socket.socket:
    """A kernel WebSocket (v1 protocol) on a raw socket, never read again."""
    return connect_unread(server, f"api/kernels/{kernel_id}/channels?session_id=stalled", V1)


def test_slow_client_is_dropped_without_slowing_the_others(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.kernels.conftest import start_kernels_server

    server = start_kernels_server(
        tmp_path_factory, "--set", "kernels.ws_queue_bytes=1000000", name="slow"
    )
    try:
        with server.client() as client:
            kernel = client.post("api/kernels", json={"name": "python3"}).json()["id"]
        stalled = open_stalled_socket(server, kernel)
        fast = KernelSocket.open(server, kernel, "v1")
        wait_for(lambda: kernel_model(server, kernel)["connections"] == 2)
        # 12 MB of display_data, paced so a reading client keeps up even on a busy
        # machine (tests run in parallel): far more than the stalled client's socket
        # buffers (the server's send buffer grows to 4 MB at most) plus a 1 MB queue hold.
        code = (
            "import time\n"
            "from IPython.display import display\n"
            "for i in range(60):\n"
            "    display({'text/plain': str(i) + 'x' * 200_000}, raw=True)\n"
            "    time.sleep(0.02)"
        )
        messages = fast.run(code, timeout=120)
        shown = [m for m in messages if m["header"]["msg_type"] == "display_data"]
        assert len(shown) == 60
        # The server dropped the stalled client, and the reading one keeps working.
        wait_for(lambda: kernel_model(server, kernel)["connections"] == 1)
        assert "execute_reply" in types(fast.run("1"))
        fast.close()
        stalled.close()
    finally:
        server.stop()
