"""The measurements of issue 5, each run side by side on every row.

A *row* is one way of talking to a kernel: ``modserver/v1``, ``modserver/json``,
``jupyter_server/v1``, ``jupyter_server/json`` or ``direct/zmq``. Every scenario gives
each row its own fresh kernel, interleaves the rows' repetitions (so machine noise hits
them alike), and records an error for a row that fails instead of stopping the run.
"""

from __future__ import annotations

import contextlib
import statistics
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel

from benchmarks.kernels.clients import KernelClient, WebSocketClient, wait_until_ready
from benchmarks.kernels.targets import DirectTarget, ServerTarget, cpu_seconds, rss_mib
from benchmarks.kernels.wire import Incoming

Result = dict[str, Any]


@dataclass
class Kernel:
    """A kernel started for one row; ``connect`` opens another client to it."""

    connect: Callable[[], Awaitable[KernelClient]]
    shutdown: Callable[[], Awaitable[None]]
    find_kernel_pid: Callable[[], int | None]
    server_pid: int | None


@dataclass
class Row:
    """One target reached through one protocol."""

    target: str
    protocol: str
    server: ServerTarget | None = None
    direct: DirectTarget | None = None
    deflate: bool = False

    @property
    def label(self) -> str:
        return f"{self.target}/{self.protocol}"

    async def start_kernel(self) -> Kernel:
        """A fresh kernel for this row."""
        if self.server is not None:
            server = self.server
            kernel_id = await server.start_kernel()

            async def connect() -> KernelClient:
                return await server.connect(kernel_id, self.protocol, deflate=self.deflate)

            async def shutdown() -> None:
                await server.delete_kernel(kernel_id)

            return Kernel(connect, shutdown, lambda: server.kernel_pid(kernel_id), server.pid)
        assert self.direct is not None
        direct = self.direct
        handle = await direct.start_kernel()

        async def shutdown_direct() -> None:
            await direct.shutdown_kernel(handle)

        return Kernel(handle.connect, shutdown_direct, lambda: handle.pid, None)


def describe_error(exc: BaseException) -> str:
    """One readable line (plus the innermost frame) for the results file."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}{where}"


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 300 samples is the 297th smallest)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


EXECUTE_CONTENT = {
    "silent": False,
    "store_history": True,
    "user_expressions": {},
    "allow_stdin": False,
    "stop_on_error": True,
}


async def execute(
    client: KernelClient,
    code: str,
    on_message: Callable[[Incoming], None] | None = None,
    msg_id: str | None = None,
) -> tuple[float, float]:
    """Run ``code``; return seconds until ``execute_reply`` and until the ``idle`` status.

    ``on_message`` sees every message whose parent is this request (to count outputs).
    """
    start = time.perf_counter()
    msg_id = await client.send(
        "shell", "execute_request", {**EXECUTE_CONTENT, "code": code}, msg_id=msg_id
    )
    reply_at = idle_at = 0.0
    while not (reply_at and idle_at):
        msg = await client.recv()
        if msg.parent_id != msg_id:
            continue
        kind = msg.msg_type
        if kind == "execute_reply":
            reply_at = time.perf_counter()
            content = msg.content_json()
            if content.get("status") != "ok":
                raise RuntimeError(f"cell failed: {content.get('ename')}: {content.get('evalue')}")
        elif kind == "status":
            if msg.content_json().get("execution_state") == "idle":
                idle_at = time.perf_counter()
        elif on_message is not None:
            on_message(msg)
    return reply_at - start, idle_at - start


async def open_ready(kernel: Kernel) -> KernelClient:
    """Connect to the kernel and wait until shell and iopub both answer."""
    client = await kernel.connect()
    await wait_until_ready(client)
    return client


async def close_quietly(client: KernelClient | None) -> None:
    if client is None:
        return
    with anyio.move_on_after(5, shield=True):
        with contextlib.suppress(Exception):
            await client.aclose()


async def shutdown_quietly(kernel: Kernel | None) -> None:
    if kernel is None:
        return
    with anyio.move_on_after(30, shield=True):
        with contextlib.suppress(Exception):
            await kernel.shutdown()


@dataclass
class Prepared:
    """A row with its kernel and client(s), ready for a scenario."""

    row: Row
    kernel: Kernel
    clients: list[KernelClient]
    runs: list[Any] = field(default_factory=list)
    error: str | None = None


async def prepare(rows: list[Row], results: Result, clients_per_row: int = 1) -> list[Prepared]:
    """Start a kernel and open clients for every row; a row that fails gets an error."""
    prepared: list[Prepared] = []
    for row in rows:
        kernel: Kernel | None = None
        clients: list[KernelClient] = []
        try:
            with anyio.fail_after(120):
                kernel = await row.start_kernel()
                for _ in range(clients_per_row):
                    clients.append(await open_ready(kernel))
                # Warm up: the first executions import things and fill caches.
                for _ in range(5):
                    await execute(clients[0], "pass")
            prepared.append(Prepared(row, kernel, clients))
        except Exception as exc:
            results[row.label] = {"error": describe_error(exc)}
            for client in clients:
                await close_quietly(client)
            await shutdown_quietly(kernel)
    return prepared


async def close_all(clients: list[KernelClient]) -> None:
    """Close clients concurrently (a close waits for the server's close frame)."""
    async with anyio.create_task_group() as group:
        for client in clients:
            group.start_soon(close_quietly, client)


async def release(prepared: list[Prepared]) -> None:
    for item in prepared:
        await close_all(item.clients)
        await shutdown_quietly(item.kernel)


# --- 1. execute round trip -------------------------------------------------------------


async def roundtrip(rows: list[Row], iterations: int, rounds: int) -> Result:
    """``pass`` executed ``iterations`` times in sequence; p50/p99 of the reply latency."""
    results: Result = {}
    prepared = await prepare(rows, results)
    cpu: dict[str, dict[str, float]] = {item.row.label: {} for item in prepared}
    try:
        per_round = max(1, iterations // rounds)
        for _ in range(rounds):
            for item in prepared:
                if item.error:
                    continue
                try:
                    with anyio.fail_after(120):
                        meters = _CpuMeters(item.kernel)
                        for _ in range(per_round):
                            item.runs.append(await execute(item.clients[0], "pass"))
                        for key, value in meters.read().items():
                            cpu[item.row.label][key] = cpu[item.row.label].get(key, 0.0) + value
                except Exception as exc:
                    item.error = describe_error(exc)
        for item in prepared:
            replies = [reply * 1000 for reply, _ in item.runs]
            idles = [idle * 1000 for _, idle in item.runs]
            entry: Result = {"n": len(replies)}
            if replies:
                # CPU per execute (request, reply and the busy/idle status messages), by
                # process: what the server adds is server_cpu_ms_per_execute.
                for key, value in cpu[item.row.label].items():
                    entry[key.removesuffix("_s") + "_ms_per_execute"] = value * 1000 / len(replies)
            if item.error:
                entry["error"] = item.error
            if replies:
                entry.update(
                    p50_ms=statistics.median(replies),
                    p99_ms=percentile(replies, 0.99),
                    mean_ms=statistics.fmean(replies),
                    idle_p50_ms=statistics.median(idles),
                    idle_p99_ms=percentile(idles, 0.99),
                )
            client = item.clients[0]
            if isinstance(client, WebSocketClient):
                entry["client_tcp_nodelay"] = client.tcp_nodelay()
                entry["ws_extensions"] = client.negotiated_extensions()
            results[item.row.label] = entry
    finally:
        await release(prepared)
    return results


# --- 2 and 3. throughput ---------------------------------------------------------------


@dataclass
class Workload:
    """A cell whose outputs are counted until ``expected`` units have arrived."""

    code: str
    payload_bytes: int
    count: Callable[[Incoming], int]
    expected: int


def stream_bytes(msg: Incoming) -> int:
    if msg.msg_type != "stream":
        return 0
    return len(msg.content_json().get("text", ""))


def display_messages(msg: Incoming) -> int:
    return 1 if msg.msg_type == "display_data" else 0


def comm_buffer_bytes(msg: Incoming) -> int:
    if msg.msg_type != "comm_msg":
        return 0
    return sum(len(buffer) for buffer in msg.buffers)


def iopub_workload(lines: int) -> Workload:
    """``lines`` prints of 100 bytes each (200,000 lines = 20 MB)."""
    code = f'line = "x" * 99\nfor _ in range({lines}):\n    print(line)\n'
    return Workload(code, lines * 100, stream_bytes, lines * 100)


def display_workload(count: int, size: int) -> Workload:
    """``count`` display_data messages carrying ``size`` bytes of text each."""
    code = (
        "from IPython.display import display\n"
        f'blob = "x" * {size}\n'
        f"for _ in range({count}):\n"
        '    display({"text/plain": blob}, raw=True)\n'
    )
    return Workload(code, count * size, display_messages, count)


def buffers_workload(count: int, size: int) -> Workload:
    """A comm (ipykernel's comm API) sending ``count`` messages with a ``size`` buffer each."""
    code = (
        "from comm import create_comm\n"
        'bench_comm = create_comm(target_name="modserver-bench")\n'
        f'payload = b"\\x01" * {size}\n'
        f"for i in range({count}):\n"
        '    bench_comm.send(data={"i": i}, buffers=[payload])\n'
        "bench_comm.close()\n"
    )
    return Workload(code, count * size, comm_buffer_bytes, count * size)


async def throughput(rows: list[Row], workload: Workload, repeats: int) -> Result:
    """Run the workload ``repeats`` times per row; MB/s until reply + idle (median run)."""
    results: Result = {}
    prepared = await prepare(rows, results)
    try:
        for _ in range(repeats):
            for item in prepared:
                if item.error:
                    continue
                try:
                    with anyio.fail_after(600):
                        item.runs.append(await _one_throughput_run(item, workload))
                except Exception as exc:
                    item.error = describe_error(exc)
        for item in prepared:
            results[item.row.label] = _summarize_throughput(item, workload)
    finally:
        await release(prepared)
    return results


async def _one_throughput_run(item: Prepared, workload: Workload) -> Result:
    received = 0

    def count(msg: Incoming) -> None:
        nonlocal received
        received += workload.count(msg)

    meters = _CpuMeters(item.kernel)
    reply, idle = await execute(item.clients[0], workload.code, count)
    if received != workload.expected:
        raise RuntimeError(f"received {received} of {workload.expected} expected units")
    return {"seconds": idle, "reply_seconds": reply, **meters.read()}


def _summarize_throughput(item: Prepared, workload: Workload) -> Result:
    entry: Result = {"runs": item.runs}
    if item.error:
        entry["error"] = item.error
    if item.runs:
        seconds = statistics.median(run["seconds"] for run in item.runs)
        entry["seconds"] = seconds
        entry["mb_per_s"] = workload.payload_bytes / 1e6 / seconds
        # The best run shows what the path can do when the (shared) machine is quiet.
        entry["best_mb_per_s"] = (
            workload.payload_bytes / 1e6 / min(run["seconds"] for run in item.runs)
        )
        entry.update(_median_cpu(item.runs))
    return entry


def _median_cpu(runs: list[Result]) -> Result:
    """Median CPU seconds per run of each process (robust to machine load, unlike time)."""
    keys = ("server_cpu_s", "kernel_cpu_s", "client_cpu_s")
    return {
        f"median_{key}": statistics.median(run[key] for run in runs)
        for key in keys
        if all(key in run for run in runs)
    }


class _CpuMeters:
    """CPU seconds spent by the benchmark client, the server and the kernel during a run."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.start = self._sample()

    def _sample(self) -> dict[str, float]:
        sample = {"client_cpu_s": time.process_time()}
        for key, pid in (
            ("server_cpu_s", self.kernel.server_pid),
            ("kernel_cpu_s", self.kernel.find_kernel_pid()),
        ):
            if pid is not None:
                with contextlib.suppress(Exception):
                    sample[key] = cpu_seconds(pid)
        return sample

    def read(self) -> dict[str, float]:
        end = self._sample()
        return {key: end[key] - self.start[key] for key in end if key in self.start}


# --- 4. fan-out ------------------------------------------------------------------------

FANOUT_CODE = "for i in range({n}):\n    print(i, flush=True)\n"


async def fanout(rows: list[Row], listeners: int, messages: int, repeats: int) -> Result:
    """One client runs a cell printing ``messages`` lines (one stream message each) while
    ``listeners`` clients in all listen; seconds until every client has every line.

    The direct row has a single client: the baseline the target compares against.
    """
    results: Result = {}
    code = FANOUT_CODE.format(n=messages)
    prepared: list[Prepared] = []
    for row in rows:
        count = 1 if row.direct is not None else listeners
        prepared += await prepare([row], results, clients_per_row=count)
    try:
        for _ in range(repeats):
            for item in prepared:
                if item.error:
                    continue
                try:
                    with anyio.fail_after(300):
                        item.runs.append(await _one_fanout_run(item, code, messages))
                except Exception as exc:
                    item.error = describe_error(exc)
        for item in prepared:
            entry: Result = {"clients": len(item.clients), "runs": item.runs}
            if item.error:
                entry["error"] = item.error
            if item.runs:
                entry["seconds"] = statistics.median(run["all_clients_s"] for run in item.runs)
                entry["best_seconds"] = min(run["all_clients_s"] for run in item.runs)
                entry["worst_seconds"] = max(run["all_clients_s"] for run in item.runs)
                entry.update(_median_cpu(item.runs))
            results[item.row.label] = entry
    finally:
        await release(prepared)
    return results


async def _one_fanout_run(item: Prepared, code: str, messages: int) -> Result:
    msg_id = uuid.uuid4().hex
    done_at: list[float] = []
    stream_messages: list[int] = []
    start = 0.0

    async def listen(client: KernelClient) -> None:
        lines = count = 0
        idle = False
        while lines < messages or not idle:
            msg = await client.recv()
            if msg.parent_id != msg_id:
                continue
            if msg.msg_type == "stream":
                count += 1
                before = lines
                lines += msg.content_json().get("text", "").count("\n")
                if before < messages <= lines:
                    done_at.append(time.perf_counter())
            elif msg.msg_type == "status":
                idle = msg.content_json().get("execution_state") == "idle"
        stream_messages.append(count)

    meters = _CpuMeters(item.kernel)
    async with anyio.create_task_group() as group:
        for client in item.clients:
            group.start_soon(listen, client)
        await anyio.lowlevel.checkpoint()  # let the listeners reach their first recv
        start = time.perf_counter()
        content = {**EXECUTE_CONTENT, "code": code}
        await item.clients[0].send("shell", "execute_request", content, msg_id=msg_id)
    if len(done_at) != len(item.clients):
        raise RuntimeError(f"only {len(done_at)} of {len(item.clients)} clients got every line")
    return {
        "all_clients_s": max(done_at) - start,
        "first_client_s": min(done_at) - start,
        "stream_messages_per_client": min(stream_messages),
        **meters.read(),
    }


# --- 5. kernel start and many WebSockets -----------------------------------------------


async def kernel_start(rows: list[Row], repeats: int) -> Result:
    """Seconds from asking for a kernel to its first ``kernel_info_reply``."""
    results: Result = {}
    runs: dict[str, list[float]] = {row.label: [] for row in rows}
    errors: dict[str, str] = {}
    for _ in range(repeats):
        for row in rows:
            if row.label in errors:
                continue
            kernel: Kernel | None = None
            client: KernelClient | None = None
            try:
                with anyio.fail_after(120):
                    start = time.perf_counter()
                    kernel = await row.start_kernel()
                    client = await kernel.connect()
                    msg_id = await client.send("shell", "kernel_info_request", {})
                    while True:
                        msg = await client.recv()
                        if msg.msg_type == "kernel_info_reply" and msg.parent_id == msg_id:
                            break
                    runs[row.label].append(time.perf_counter() - start)
            except Exception as exc:
                errors[row.label] = describe_error(exc)
            finally:
                await close_quietly(client)
                await shutdown_quietly(kernel)
    for row in rows:
        entry: Result = {"runs_s": runs[row.label]}
        if row.label in errors:
            entry["error"] = errors[row.label]
        if runs[row.label]:
            entry["seconds"] = statistics.median(runs[row.label])
        results[row.label] = entry
    return results


async def many_websockets(rows: list[Row], count: int) -> Result:
    """``count`` WebSockets on one kernel held open: server RSS before/after, and whether
    every one of them got its ``kernel_info_reply`` (server rows only)."""
    results: Result = {}
    for row in rows:
        if row.server is None:
            continue
        kernel: Kernel | None = None
        clients: list[KernelClient] = []
        try:
            kernel = await row.start_kernel()
            results[row.label] = await _hold_many(row.server, kernel, count, clients)
        except Exception as exc:
            results[row.label] = {"error": describe_error(exc)}
        finally:
            await close_all(clients)
            await shutdown_quietly(kernel)
    return results


async def _hold_many(
    server: ServerTarget, kernel: Kernel, count: int, clients: list[KernelClient]
) -> Result:
    """Open ``count`` clients at once into ``clients`` (the caller closes them)."""
    await close_quietly(await open_ready(kernel))
    await anyio.sleep(1)
    rss_before = rss_mib(server.pid)
    replied = 0
    errors: list[str] = []

    async def one() -> None:
        nonlocal replied
        try:
            client = await kernel.connect()
            clients.append(client)
            msg_id = await client.send("shell", "kernel_info_request", {})
            while True:
                msg = await client.recv()
                if msg.msg_type == "kernel_info_reply" and msg.parent_id == msg_id:
                    replied += 1
                    return
        except Exception as exc:
            errors.append(describe_error(exc))

    start = time.perf_counter()
    with anyio.move_on_after(120):
        async with anyio.create_task_group() as group:
            for _ in range(count):
                group.start_soon(one)
    elapsed = time.perf_counter() - start
    await anyio.sleep(1)  # held open: let the server settle before reading its memory
    rss_after = rss_mib(server.pid)
    entry: Result = {
        "websockets": count,
        "opened": len(clients),
        "got_kernel_info_reply": replied,
        "all_replied": replied == count,
        "seconds_until_all_replied": elapsed,
        "server_rss_mib_before": rss_before,
        "server_rss_mib_after": rss_after,
        "server_rss_mib_per_ws": (rss_after - rss_before) / max(1, len(clients)),
    }
    if errors:
        entry["errors"] = sorted(set(errors))[:5]
    return entry
