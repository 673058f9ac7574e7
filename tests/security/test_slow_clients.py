"""A WebSocket client that never reads is dropped once it falls ``ws_queue_bytes`` behind,
counting everything the server holds for it — queued, taken by the writer, in flight — and
the kernel carries on."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import start_server
from tests.kernels.wsclient import KernelSocket, stdout
from tests.security.stalled_client import StalledClient

MB = 1024 * 1024
QUEUE_MB = 48
REPLAY_MB = 64
#: Beyond what is counted: the interpreter's own growth, the frame in flight, allocator slack.
SLACK = 96 * MB


def print_megabytes(count: int, done: str) -> str:
    """Code that prints ``count`` 1 MB stream messages, then creates the file ``done``."""
    return (
        "import sys\n"
        f"for _ in range({count}):\n"
        "    sys.stdout.write('x' * 1_000_000); sys.stdout.flush()\n"
        f"open({done!r}, 'w').close()\n"
    )


def peak_rss(pid: int) -> int:
    """The process's peak resident memory so far, in bytes (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.1)


def test_a_client_that_never_reads_is_dropped_and_memory_stays_bounded(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_server(
        root,
        "--set",
        f"kernels.ws_queue_bytes={QUEUE_MB * MB}",
        "--set",
        f"kernels.replay_bytes={REPLAY_MB * MB}",
        plugins="kernels",
    )
    try:
        client = server.client()
        kernel_id = client.post("api/kernels", json={"name": "python3"}).json()["id"]

        def model() -> dict[str, object]:
            return dict(client.get(f"api/kernels/{kernel_id}").json())

        # A session that left: the server keeps the kernel's output for its return.
        session = KernelSocket.open(server, kernel_id)
        session.run("pass", timeout=300)
        session.close()
        wait_for(lambda: model()["connections"] == 0, "the session to leave")
        reader = KernelSocket.open(server, kernel_id)
        reader.run(print_megabytes(QUEUE_MB - 8, "first"), timeout=300)
        reader.close()
        before = peak_rss(server.proc.pid)

        # It comes back and never reads: what was kept for it is taken by the writer at
        # once, then more output arrives. Each part is under the bound, both are over it.
        stalled = StalledClient(server, kernel_id, session=session.session)
        try:
            stalled.execute(print_megabytes(QUEUE_MB - 8, "second"))
            wait_for(
                lambda: (root / "second").exists() and model()["execution_state"] == "idle",
                "the kernel to finish printing",
            )
            wait_for(lambda: model()["connections"] == 0, "the stalled client to be dropped", 60)
            grown = peak_rss(server.proc.pid) - before
            assert grown < QUEUE_MB * MB + SLACK, f"server peak grew by {grown // MB} MB"
            # The kernel was never the one dropped: it still runs code for others.
            again = KernelSocket.open(server, kernel_id)
            try:
                replies = again.run("print(6 * 7)", timeout=300)
            finally:
                again.close()
            assert stdout(replies) == "42\n"
        finally:
            stalled.close()
    finally:
        server.stop()
