"""Kernel lifecycle hygiene: auto-restart, culling, shutdown with the server, no leaks."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import RunningServer
from tests.kernels.conftest import start_kernels_server
from tests.kernels.wsclient import KernelSocket


def kernel_pid(server: RunningServer, kernel_id: str) -> int:
    """The tiny kernel's process id (it reports it in kernel_info_reply)."""
    ws = KernelSocket.open(server, kernel_id, "v1")
    try:
        ws.send("kernel_info_request", {})
        reply = ws.until(lambda m: m["header"]["msg_type"] == "kernel_info_reply")[-1]
    finally:
        ws.close()
    return int(reply["content"]["implementation_version"])


def alive(pid: int) -> bool:
    """True while ``pid`` runs (zombies count as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def start(server: RunningServer, name: str = "tiny") -> str:
    with server.client() as client:
        response = client.post("api/kernels", json={"name": name})
    assert response.status_code == 201
    return str(response.json()["id"])


def exists(server: RunningServer, kernel_id: str) -> bool:
    with server.client() as client:
        return client.get(f"api/kernels/{kernel_id}").status_code == 200


def is_notice(message: dict[str, Any], state: str) -> bool:
    """Whether ``message`` is a status message saying ``state``."""
    return message["header"]["msg_type"] == "status" and message["content"] == {
        "execution_state": state
    }


def kernel_state(server: RunningServer, kernel_id: str) -> str | None:
    """The kernel's ``execution_state`` in the REST API (None once it is gone)."""
    with server.client() as client:
        response = client.get(f"api/kernels/{kernel_id}")
    return str(response.json()["execution_state"]) if response.status_code == 200 else None


def test_a_dead_kernel_is_restarted_and_clients_hear_restarting(
    kernel_server: RunningServer,
) -> None:
    kernel_id = start(kernel_server)
    try:
        pid = kernel_pid(kernel_server, kernel_id)
        ws = KernelSocket.open(kernel_server, kernel_id, "legacy")
        os.kill(pid, signal.SIGKILL)
        # (The idle status of kernel_pid's request may still be on its way: skip it.)
        notice = ws.until(lambda m: is_notice(m, "restarting"), timeout=30)[-1]
        ws.close()
        assert notice["channel"] == "iopub"
        assert notice["content"] == {"execution_state": "restarting"}
        wait_for(
            lambda: exists(kernel_server, kernel_id) and kernel_pid(kernel_server, kernel_id) != pid
        )
        with kernel_server.client() as client:
            model = client.get(f"api/kernels/{kernel_id}").json()
        assert model["execution_state"] == "idle"
    finally:
        with kernel_server.client() as client:
            client.delete(f"api/kernels/{kernel_id}")


def test_a_kernel_whose_port_was_taken_is_restarted_on_new_ports(
    kernel_server: RunningServer,
) -> None:
    # Ports are picked free, then bound by the kernel: another process may take one in
    # between. The "unlucky" kernel's first process finds its shell port taken (by a
    # process that keeps it) and exits. Restarts on the same ports would fail the same
    # way until the restart limit.
    marker = Path(os.environ["JUPYTER_PATH"]) / "unlucky-port-holder.pid"
    kernel_id = start(kernel_server, "unlucky")
    try:
        wait_for(marker.exists)
        wait_for(lambda: kernel_state(kernel_server, kernel_id) == "idle")
        kernel_pid(kernel_server, kernel_id)  # answers through a WebSocket
    finally:
        with kernel_server.client() as client:
            client.delete(f"api/kernels/{kernel_id}")
        if marker.exists():
            os.kill(int(marker.read_text()), signal.SIGKILL)


def test_kernel_that_cannot_be_restarted_is_reported_dead_and_removed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_kernels_server(
        tmp_path_factory,
        "--set",
        "kernels.restart_limit=0",
        "--set",
        "kernels.restart_poll_interval=0.2",
        name="dead",
        in_process=True,
    )
    try:
        kernel_id = start(server)
        pid = kernel_pid(server, kernel_id)
        ws = KernelSocket.open(server, kernel_id, "v1")
        os.kill(pid, signal.SIGKILL)
        notice = ws.until(lambda m: is_notice(m, "dead"), timeout=30)[-1]
        assert notice["channel"] == "iopub"
        assert notice["content"] == {"execution_state": "dead"}
        with pytest.raises(ConnectionClosed):
            ws.until(lambda m: False, timeout=10)
        wait_for(lambda: not exists(server, kernel_id))
    finally:
        server.stop()


def test_idle_kernels_are_culled_but_connected_ones_stay(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_kernels_server(
        tmp_path_factory,
        "--set",
        "kernels.cull_idle_timeout=1",
        "--set",
        "kernels.cull_interval=0.2",
        name="cull",
        in_process=True,
    )
    try:
        idle = start(server)
        watched = start(server)
        ws = KernelSocket.open(server, watched, "v1")
        wait_for(lambda: not exists(server, idle))
        # Past its idle timeout by several cull passes (as the server counts idle time),
        # the connected kernel is still there.
        wait_for(lambda: idle_seconds(server, watched) > 1 + 3 * 0.2)
        assert exists(server, watched)
        ws.close()
        wait_for(lambda: not exists(server, watched))
    finally:
        server.stop()


def test_stopping_the_server_shuts_every_kernel_down(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_kernels_server(tmp_path_factory, name="stop")
    tiny = [start(server) for _ in range(2)]
    python = start(server, "python3")
    pids = [kernel_pid(server, kernel_id) for kernel_id in tiny]
    ws = KernelSocket.open(server, python, "v1")
    messages = ws.run("import os; print(os.getpid())")
    pids.append(
        int(next(m for m in messages if m["header"]["msg_type"] == "stream")["content"]["text"])
    )
    assert all(alive(pid) for pid in pids)
    # The WebSocket stays open: the server closes it as "going away" instead of
    # waiting for it until its shutdown time limit and then cancelling it.
    assert server.stop() == 0
    with pytest.raises(ConnectionClosed) as closed:
        ws.until(lambda m: False, timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    # No error logged by the server (the tiny kernel's own exit traceback may appear).
    assert "\n[E " not in server.log()
    assert "CancelledError" not in server.log()
    wait_for(lambda: not any(alive(pid) for pid in pids), timeout=10)


def http_socket_inodes(port: int) -> set[str]:
    """Inodes of TCP sockets on the server's HTTP port (hypercorn's, not ours)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def settled_fds(server: RunningServer, timeout: float = 10) -> int:
    """``open_fds`` once it stops changing (three equal counts 0.1 s apart)."""
    deadline = time.monotonic() + timeout
    counts = [open_fds(server)]
    while len(counts) < 3 or len(set(counts[-3:])) > 1:
        assert time.monotonic() < deadline, f"descriptor count never settled: {counts}"
        time.sleep(0.1)
        counts.append(open_fds(server))
    return counts[-1]


def idle_seconds(server: RunningServer, kernel_id: str) -> float:
    """How long the server has seen no activity on the kernel (its ``last_activity``)."""
    with server.client() as client:
        stamp = client.get(f"api/kernels/{kernel_id}").json()["last_activity"]
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (datetime.now(timezone.utc) - moment).total_seconds()


def open_fds(server: RunningServer) -> int:
    """Descriptors the server holds, leaving out HTTP connections.

    HTTP keep-alive connections close on the client's schedule, which is not what this
    test is about: kernels, ZMQ sockets, pipes and files are.
    """
    http = http_socket_inodes(server.port)
    count = 0
    for fd in os.listdir(f"/proc/{server.proc.pid}/fd"):
        try:
            target = os.readlink(f"/proc/{server.proc.pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in http:
            continue
        count += 1
    return count


@pytest.mark.slow
def test_50_kernel_start_stop_cycles_leak_no_file_descriptors(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_kernels_server(tmp_path_factory, name="leaks")

    def cycle(_: int) -> None:
        kernel_id = start(server)
        ws = KernelSocket.open(server, kernel_id, "v1")
        try:
            ws.send("kernel_info_request", {})
            ws.until(lambda m: m["header"]["msg_type"] == "kernel_info_reply")
        finally:
            ws.close()
        with server.client() as client:
            assert client.delete(f"api/kernels/{kernel_id}").status_code == 204

    try:
        with ThreadPoolExecutor(5) as pool:
            list(pool.map(cycle, range(5)))  # warm up: lazily created sockets and threads
            before = settled_fds(server)
            list(pool.map(cycle, range(50)))
        with server.client() as client:
            assert client.get("api/kernels").json() == []
        # Closed ZMQ sockets and reaped kernels release their descriptors shortly after
        # the DELETE answers: wait for that, then count.
        after = settled_fds(server)
    finally:
        server.stop()
    assert after - before <= 3, f"{after - before} file descriptors leaked in 50 cycles"
