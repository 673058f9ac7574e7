"""A server with few open files: the limit is raised where it can be, and running out of
files is a clear 503, never a 500 (each kernel holds about a dozen ZMQ sockets)."""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TOKEN, RunningServer, launch

# Sets the open-files limit (soft, hard), then runs modserver's CLI with the rest of argv.
LIMITED = (
    "import resource, runpy, sys; "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), int(sys.argv[2]))); "
    "sys.argv = ['modserver', *sys.argv[3:]]; "
    "runpy.run_module('modserver.cli', run_name='__main__')"
)


def limited_server(tmp_path: Path, soft: int, hard: int) -> RunningServer:
    root = tmp_path / "root"
    root.mkdir()
    runtime = tmp_path / "runtime"
    command = [sys.executable, "-c", LIMITED, str(soft), str(hard)]
    command += ["run", "--root-dir", str(root), "--port", "0", "--plugins", "kernels"]
    command += ["--set", f"auth.token={TOKEN}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    env.update(
        MODSERVER_RUNTIME_DIR=str(runtime),
        JUPYTER_RUNTIME_DIR=str(runtime / "jupyter"),
        PYTHONUNBUFFERED="1",
    )
    return launch(command, root, TOKEN, env=env)


def open_files_limit(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open-files line in /proc/<pid>/limits")


@pytest.fixture
def stopped_at_end() -> Iterator[list[RunningServer]]:
    servers: list[RunningServer] = []
    yield servers
    for server in servers:
        server.stop()


def test_a_low_open_files_limit_is_raised_for_kernels(tmp_path: Path, stopped_at_end) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    server = limited_server(tmp_path, 256, hard)
    stopped_at_end.append(server)
    expected = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    assert open_files_limit(server.proc.pid)[0] == expected
    assert "open-files limit raised from 256" in server.log()


def test_running_out_of_open_files_is_a_503_that_says_what_to_do(
    tmp_path: Path, stopped_at_end
) -> None:
    # A hard limit the server cannot lift: a few kernels fit, then the files run out.
    server = limited_server(tmp_path, 96, 96)
    stopped_at_end.append(server)
    started: list[str] = []
    with server.client() as client:
        for _ in range(10):
            response = client.post("api/kernels", json={"name": "python3"})
            if response.status_code != 201:
                break
            started.append(response.json()["id"])
        else:
            raise AssertionError("ten kernels started on 96 open files")
        assert response.status_code == 503, response.text
        assert "too many open files" in response.json()["message"]
        assert "kernels.min_open_files_limit" in response.json()["message"]
        # Nothing was lost: the kernels that started are all still there.
        assert {k["id"] for k in client.get("api/kernels").json()} == set(started)
        assert started, "not even one kernel fits: the limit in this test is too low"
