"""Kernel lifecycle under races: restart racing delete, concurrent restarts, and one
kernel's hanging auto-restart never leave a process behind or hide another kernel's death.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import RunningServer, start_server
from tests.kernels.conftest import HERE, install_tiny_kernelspec


def install_hang_kernelspec(data_dir: Path) -> None:
    spec_dir = data_dir / "kernels" / "hang"
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(HERE / "hang_kernel.py"), "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Hangs on restart", "language": "text"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("races")
    root = base / "root"
    root.mkdir()
    env = install_tiny_kernelspec(base / "data")
    install_hang_kernelspec(base / "data")
    server = start_server(
        root,
        "--set",
        "kernels.restart_poll_interval=0.2",
        "--set",
        "kernels.kernel_info_timeout=600",
        plugins="kernels",
        env=env,
    )
    yield server
    server.stop()


def kernel_processes(server: RunningServer, folder: Path) -> list[psutil.Process]:
    """Live processes under the server whose working folder is ``folder``."""
    found = []
    for child in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and Path(child.cwd()) == folder:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def start_in(server: RunningServer, folder: str, name: str = "tiny") -> tuple[str, Path]:
    path = server.root_dir / folder
    path.mkdir(exist_ok=True)
    response = server.client().post("api/kernels", json={"name": name, "path": f"{folder}/x"})
    assert response.status_code == 201, response.text
    return response.json()["id"], path.resolve()


def all_at_once(calls: list[Callable[[], httpx.Response]]) -> list[int]:
    """Run the calls in threads released together; their status codes, in order."""
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = [0] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        statuses[index] = calls[index]().status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.1)


@pytest.mark.parametrize("round_", range(5))
def test_restart_racing_delete_leaves_no_kernel_process(server: RunningServer, round_: int):
    kernel_id, folder = start_in(server, f"race{round_}")
    assert len(kernel_processes(server, folder)) == 1
    restarter, deleter = server.client(), server.client()
    restart, delete = all_at_once(
        [
            lambda: restarter.post(f"api/kernels/{kernel_id}/restart"),
            lambda: deleter.delete(f"api/kernels/{kernel_id}"),
        ]
    )
    assert delete == 204
    assert restart in (200, 404, 409)
    assert server.client().get(f"api/kernels/{kernel_id}").status_code == 404
    assert kernel_processes(server, folder) == []


def test_concurrent_restarts_join_one_restart(server: RunningServer):
    kernel_id, folder = start_in(server, "tenfold")
    clients = [server.client() for _ in range(10)]
    statuses = all_at_once(
        [lambda c=c: c.post(f"api/kernels/{kernel_id}/restart") for c in clients]
    )
    assert sorted(set(statuses)) in ([200], [200, 409], [409])
    assert 200 in statuses
    assert len(kernel_processes(server, folder)) == 1
    model = server.client().get(f"api/kernels/{kernel_id}").json()
    assert model["execution_state"] != "restarting"
    assert server.client().delete(f"api/kernels/{kernel_id}").status_code == 204
    assert kernel_processes(server, folder) == []


def test_a_kernel_that_dies_while_restarting_fails_the_restart_at_once(server: RunningServer):
    # The server waits up to kernel_info_timeout (600 s here) for a live kernel to answer;
    # a dead one must not be waited for.
    kernel_id, folder = start_in(server, "dies", name="hang")
    (folder / "exit").write_text("")
    response = server.client().post(f"api/kernels/{kernel_id}/restart")
    assert response.status_code == 500
    assert "exited before it answered" in response.json()["message"]
    (folder / "exit").unlink()
    # The health watcher then restarts it, and it answers again.
    client = server.client()
    wait_for(
        lambda: client.get(f"api/kernels/{kernel_id}").json()["execution_state"] == "idle",
        "the kernel to be revived",
    )
    assert len(kernel_processes(server, folder)) == 1
    assert client.delete(f"api/kernels/{kernel_id}").status_code == 204


def test_a_hanging_auto_restart_does_not_hide_another_kernels_death(server: RunningServer):
    hanging_id, hanging = start_in(server, "hanging", name="hang")
    other_id, other = start_in(server, "other")
    (hanging / "hang").write_text("")
    (first,) = kernel_processes(server, hanging)
    first.kill()
    # The hanging kernel's auto-restart starts, and waits for an answer that never comes.
    wait_for(
        lambda: [p.pid for p in kernel_processes(server, hanging)] not in ([], [first.pid]),
        "the auto-restart of the hanging kernel",
    )
    (before,) = kernel_processes(server, other)
    before.kill()
    wait_for(
        lambda: [p.pid for p in kernel_processes(server, other)] not in ([], [before.pid]),
        "the other kernel to be restarted",
    )
    client = server.client()
    wait_for(
        lambda: client.get(f"api/kernels/{other_id}").json()["execution_state"] == "idle",
        "the other kernel to answer again",
    )
    assert client.get(f"api/kernels/{hanging_id}").json()["execution_state"] == "restarting"
    assert client.delete(f"api/kernels/{hanging_id}").status_code == 204
    assert kernel_processes(server, hanging) == []
