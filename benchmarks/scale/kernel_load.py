"""Many kernels and many WebSockets on one server: what the server itself pays for them.

Servers come from the kernels suite (``benchmarks.kernels.targets``: modserver with the
``kernels`` plugin, jupyter_server with its iopub rate limit off, each isolated and stopped
with its kernels at the end). Only the server process is measured (RSS, CPU): the kernels
are separate processes whatever the server. Kernels start in small parallel batches, as
ipykernel's start is CPU-heavy and the machine has few cores.
"""

from __future__ import annotations

import contextlib
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import psutil
from websockets.exceptions import ConnectionClosed

from benchmarks.kernels.clients import WebSocketClient, wait_until_ready
from benchmarks.kernels.targets import TOKEN, ServerTarget, cpu_seconds, rss_mib

# Stop starting kernels when the machine has less than this left (the machine is shared).
MIN_AVAILABLE_MIB = 2048
CONNECT_CONCURRENCY = 25  # WebSocket handshakes in flight at once (below listen backlogs)
READY_TIMEOUT_S = 180


def available_mib() -> float:
    """Memory the machine still has available, in MiB."""
    return float(psutil.virtual_memory().available) / 2**20


def kernels_rss_mib(server: ServerTarget) -> float:
    """Resident memory of every process below the server (its kernels), in MiB."""
    total = 0
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(server.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
    return total / 2**20


async def in_batches(count: int, batch: int, work: Callable[[int], Awaitable[None]]) -> None:
    """Run ``work(i)`` for ``i < count`` with at most ``batch`` running at once."""
    limit = anyio.Semaphore(batch)

    async def one(index: int) -> None:
        async with limit:
            await work(index)

    async with anyio.create_task_group() as group:
        for index in range(count):
            group.start_soon(one, index)


async def start_kernels(server: ServerTarget, count: int, batch: int) -> dict[str, Any]:
    """Start ``count`` kernels, ``batch`` at a time; stops early if memory runs low."""
    started: list[str] = []
    errors: list[str] = []
    low_memory = False

    async def start(_index: int) -> None:
        nonlocal low_memory
        if low_memory or available_mib() < MIN_AVAILABLE_MIB:
            low_memory = True
            return
        try:
            started.append(await server.start_kernel())
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])

    began = time.perf_counter()
    await in_batches(count, batch, start)
    return {
        "ids": started,
        "seconds": time.perf_counter() - began,
        "errors": sorted(set(errors))[:5],
        "stopped_for_low_memory": low_memory,
    }


async def delete_kernels(server: ServerTarget, ids: list[str], batch: int) -> None:
    """Shut the kernels down, ``batch`` at a time (errors ignored: this is cleanup)."""
    await in_batches(len(ids), batch, lambda index: server.delete_kernel(ids[index]))


async def time_list(server: ServerTarget, repeats: int) -> dict[str, Any]:
    """``GET /api/kernels`` ``repeats`` times (after one untimed): median/p90 ms, count seen."""
    samples: list[float] = []
    seen = 0
    async with httpx.AsyncClient(timeout=120, headers=server.headers()) as client:
        await client.get(f"{server.http}/api/kernels")
        for _ in range(repeats):
            began = time.perf_counter()
            response = await client.get(f"{server.http}/api/kernels")
            samples.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
            seen = len(response.json())
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered),
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
        "kernels_listed": seen,
        "response_repeats": repeats,
    }


async def idle_kernels(server: ServerTarget, count: int, batch: int) -> dict[str, Any]:
    """``count`` idle kernels: the server's RSS per kernel, and the time to list them.

    One kernel is started and shut down first, so what the server loads for its first
    kernel (jupyter_client, the kernelspec) is not counted per kernel.
    """
    warm = await server.start_kernel()
    await server.delete_kernel(warm)
    await anyio.sleep(2)
    rss_before = rss_mib(server.pid)
    ids: list[str] = []
    try:
        started = await start_kernels(server, count, batch)
        ids = started.pop("ids")
        await anyio.sleep(5)  # let the last kernels finish starting and the server settle
        rss_after = rss_mib(server.pid)
        cpu_before = cpu_seconds(server.pid)
        await anyio.sleep(10)
        idle_cpu = (cpu_seconds(server.pid) - cpu_before) / 10
        listing = await time_list(server, 20)
        return {
            "kernels_asked": count,
            "kernels_started": len(ids),
            "start_batch": batch,
            "seconds_to_start_all": started["seconds"],
            "start_errors": started["errors"],
            "stopped_for_low_memory": started["stopped_for_low_memory"],
            "server_log_tail": server.log_tail(10) if started["errors"] else "",
            "server_rss_mib_before": rss_before,
            "server_rss_mib_after": rss_after,
            "server_rss_mib_per_kernel": (rss_after - rss_before) / max(1, len(ids)),
            "server_cpu_percent_while_idle": idle_cpu * 100,
            "kernels_rss_mib_total": kernels_rss_mib(server),
            "list": listing,
        }
    finally:
        with anyio.CancelScope(shield=True):
            await delete_kernels(server, ids, batch)


class Answers:
    """Counts the sockets that were answered (or closed); wakes up when all of them were."""

    def __init__(self) -> None:
        self.count = 0
        self.expected: int | None = None
        self.all_in = anyio.Event()

    def one_more(self) -> None:
        self.count += 1
        self._check()

    def expect(self, expected: int) -> None:
        """All sockets are open: ``expected`` of them must answer."""
        self.expected = expected
        self._check()

    def _check(self) -> None:
        if self.expected is not None and self.count >= self.expected:
            self.all_in.set()


@dataclass
class HeldSocket:
    """One kernel WebSocket held open, its messages read as they come (as a browser does)."""

    client: WebSocketClient
    kernel_id: str
    answers: Answers
    messages: int = 0
    replied: bool = False  # a kernel_info_reply to its own request
    status_seen: bool = False  # any iopub status
    closed: bool = False
    waiting: dict[str, anyio.Event] = field(default_factory=dict)

    async def read(self) -> None:
        """Read until the socket closes; note replies and wake up waiting requests."""
        try:
            while True:
                msg = await self.client.recv()
                self.messages += 1
                answered = self.replied or self.status_seen
                if msg.msg_type == "kernel_info_reply":
                    self.replied = True
                elif msg.msg_type == "status":
                    self.status_seen = True
                elif msg.msg_type == "execute_reply" and msg.parent_id in self.waiting:
                    self.waiting.pop(msg.parent_id).set()
                if not answered and (self.replied or self.status_seen):
                    self.answers.one_more()
        except ConnectionClosed:
            if not (self.replied or self.status_seen):
                self.answers.one_more()  # will never answer: do not wait for it
            self.closed = True

    async def round_trip_ms(self) -> float:
        """``execute_request`` of ``pass`` to its ``execute_reply``, in ms."""
        done = anyio.Event()
        msg_id = uuid.uuid4().hex
        self.waiting[msg_id] = done  # before sending: the reader may see the reply first
        began = time.perf_counter()
        await self.client.send("shell", "execute_request", execute_content(), msg_id=msg_id)
        with anyio.fail_after(60):
            await done.wait()
        return (time.perf_counter() - began) * 1000


def execute_content(code: str = "pass") -> dict[str, Any]:
    """The content of an ``execute_request`` running ``code`` (no history, no stdin)."""
    return {
        "code": code,
        "silent": False,
        "store_history": False,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }


async def baseline_round_trips(server: ServerTarget, kernel_id: str, count: int) -> list[float]:
    """Round trips on one WebSocket, nothing else connected: the unloaded reference."""
    client = await WebSocketClient.open(
        f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels", TOKEN, "v1"
    )
    try:
        await wait_until_ready(client)
        samples = []
        for _ in range(count):
            began = time.perf_counter()
            msg_id = await client.send("shell", "execute_request", execute_content())
            while True:
                msg = await client.recv()
                if msg.msg_type == "execute_reply" and msg.parent_id == msg_id:
                    break
            samples.append((time.perf_counter() - began) * 1000)
        return samples
    finally:
        await client.aclose()


async def many_websockets(
    server: ServerTarget, sockets: int, kernels: int, hold_s: float, batch: int
) -> dict[str, Any]:
    """``sockets`` WebSockets spread over ``kernels`` kernels, held ``hold_s`` seconds.

    Each socket sends ``kernel_info_request`` and counts as answered on its reply or any
    iopub status. During the hold the server's RSS and CPU are sampled every second;
    then a few sockets (on different kernels) each run ``pass`` round trips while all
    the others stay connected.
    """
    ids: list[str] = []
    held: list[HeldSocket] = []
    try:
        started = await start_kernels(server, kernels, batch)
        ids = started["ids"]
        if not ids:
            raise RuntimeError(f"no kernel started: {started['errors']}")
        # Fresh kernels finish importing for a few seconds: let them, so the reference
        # round trip does not measure a machine busy with kernel startups.
        await anyio.sleep(10)
        baseline = await baseline_round_trips(server, ids[0], 30)
        await anyio.sleep(2)
        rss_before = rss_mib(server.pid)
        connect_errors: list[str] = []
        answers = Answers()
        async with anyio.create_task_group() as readers:
            limit = anyio.Semaphore(CONNECT_CONCURRENCY)

            async def connect(index: int) -> None:
                kernel_id = ids[index % len(ids)]
                url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels"
                try:
                    async with limit:
                        client = await WebSocketClient.open(url, TOKEN, "v1")
                    socket = HeldSocket(client, kernel_id, answers)
                    held.append(socket)
                    readers.start_soon(socket.read)
                    await client.send("shell", "kernel_info_request", {})
                except Exception as exc:
                    connect_errors.append(f"{type(exc).__name__}: {exc}"[:300])

            began = time.perf_counter()
            async with anyio.create_task_group() as connecting:
                for index in range(sockets):
                    connecting.start_soon(connect, index)
            answers.expect(len(held))
            with anyio.move_on_after(READY_TIMEOUT_S):
                await answers.all_in.wait()
            ready_s = time.perf_counter() - began
            answered = sum(1 for s in held if s.replied or s.status_seen)
            rss_connected = rss_mib(server.pid)

            hold = await _hold(server, hold_s)
            sample = _spread(held, 10)
            loaded: list[float] = []
            for socket in sample:
                for _ in range(5):
                    loaded.append(await socket.round_trip_ms())
            still_open = sum(1 for s in held if not s.closed)
            readers.cancel_scope.cancel()
        return {
            "websockets_asked": sockets,
            "kernels": len(ids),
            "opened": len(held),
            "answered": answered,
            "got_kernel_info_reply": sum(1 for s in held if s.replied),
            "all_answered": answered == sockets,
            "seconds_until_all_answered": ready_s,
            "connect_errors": sorted(set(connect_errors))[:5],
            "connect_error_count": len(connect_errors),
            # Why the server refused or dropped sockets, in its own words.
            "server_log_tail": server.log_tail(10) if answered < sockets else "",
            "still_open_after_hold": still_open,
            "messages_received": sum(s.messages for s in held),
            "server_rss_mib_before": rss_before,
            "server_rss_mib_connected": rss_connected,
            "server_rss_mib_per_websocket": (rss_connected - rss_before) / max(1, len(held)),
            **hold,
            "round_trip_ms_unloaded_median": statistics.median(baseline),
            "round_trip_ms_loaded_median": statistics.median(loaded) if loaded else None,
            "round_trip_ms_loaded_max": max(loaded) if loaded else None,
            "round_trip_samples_loaded": len(loaded),
        }
    finally:
        with anyio.CancelScope(shield=True):
            await _close_all(held)
            await delete_kernels(server, ids, batch)


async def _hold(server: ServerTarget, seconds: float) -> dict[str, Any]:
    """Sample the server's RSS every second for ``seconds``; its CPU share over the hold."""
    cpu_before = cpu_seconds(server.pid)
    began = time.perf_counter()
    rss: list[float] = []
    while time.perf_counter() - began < seconds:
        await anyio.sleep(1)
        rss.append(rss_mib(server.pid))
    elapsed = time.perf_counter() - began
    return {
        "hold_seconds": elapsed,
        "server_rss_mib_hold_max": max(rss),
        "server_rss_mib_hold_end": rss[-1],
        "server_cpu_percent_during_hold": (cpu_seconds(server.pid) - cpu_before) / elapsed * 100,
    }


def _spread(held: list[HeldSocket], count: int) -> list[HeldSocket]:
    """Up to ``count`` open sockets, each on a different kernel where possible."""
    chosen: list[HeldSocket] = []
    kernels: set[str] = set()
    for socket in held:
        if not socket.closed and socket.kernel_id not in kernels:
            chosen.append(socket)
            kernels.add(socket.kernel_id)
        if len(chosen) == count:
            break
    return chosen


async def _close_all(held: list[HeldSocket]) -> None:
    async def close(index: int) -> None:
        try:
            with anyio.move_on_after(10):
                await held[index].client.aclose()
        except Exception:
            pass

    await in_batches(len(held), 100, close)
