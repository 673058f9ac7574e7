"""The folder both servers serve, and the four measurements, with one httpx client code.

* listing: ``GET /api/contents/many`` of a folder of N small files (median of runs);
* notebook GET and PUT: a ~5 MB notebook (median of runs);
* small file: requests per second for a tiny text file, 8 concurrent clients on
  keep-alive connections (in two client processes), via ``/api/contents`` and ``/files``;
  also requests per CPU second of the server, which the client's speed does not bound.
  The clients are ``lean_client``'s by default (``--client httpx`` for httpx's).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import anyio
import httpx
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from benchmarks.contents import lean_client
from benchmarks.contents.servers import TOKEN

HEADERS = {"Authorization": f"token {TOKEN}"}


def prepare(root: Path, files: int, notebook_mb: float) -> dict[str, Any]:
    """Write the folder of ``files`` files, a notebook of about ``notebook_mb`` MB, a small file."""
    many = root / "many"
    many.mkdir()
    for index in range(files):
        suffix = ".ipynb" if index % 10 == 0 else ".txt"
        (many / f"file{index:05d}{suffix}").write_text("x" * (index % 100))
    nb = new_notebook()
    text = "".join(f"output line {i} with some text to make it longer\n" for i in range(200))
    while len(nbformat.writes(nb)) < notebook_mb * 1e6:
        nb.cells.append(new_markdown_cell("## Section\nSome *markdown* text.\n"))
        cell = new_code_cell("for i in range(200):\n    print(i)\n", execution_count=1)
        cell.outputs = [new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    (root / "big.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    (root / "small.txt").write_text("hello, small file\n")
    return {
        "files": files,
        "notebook_bytes": (root / "big.ipynb").stat().st_size,
        "notebook_cells": len(nb.cells),
    }


def _interleaved(clients: dict[str, httpx.Client], runs: int, send: Any) -> dict[str, float]:
    """Median seconds of ``send`` per server, runs alternating between the servers.

    Alternating keeps a change in the machine's load (it is shared) from landing on one
    server's runs only. One warm-up call each first.
    """
    samples: dict[str, list[float]] = {name: [] for name in clients}
    for client in clients.values():
        send(client).raise_for_status()
    for _ in range(runs):
        for name, client in clients.items():
            start = time.perf_counter()
            response = send(client)
            samples[name].append(time.perf_counter() - start)
            response.raise_for_status()
    return {name: statistics.median(values) for name, values in samples.items()}


async def _rate(url: str, path: str, concurrency: int, seconds: float) -> tuple[int, float]:
    """``(requests, seconds)`` of GET ``path`` by ``concurrency`` clients for ``seconds``."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, limits=limits) as client:
        for _ in range(concurrency):  # open the connections and warm up
            (await client.get(path)).raise_for_status()
        done = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await client.get(path)
                response.raise_for_status()
                done += 1

        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(worker)
        return done, time.perf_counter() - start


def _rate_in_process(
    url: str, path: str, concurrency: int, seconds: float, client: str = "lean"
) -> tuple[int, float]:
    if client == "httpx":
        return anyio.run(_rate, url, path, concurrency, seconds)
    return anyio.run(lean_client.rate, url, path, HEADERS, concurrency, seconds)


def _server_cpu(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used (psutil, or /proc on Linux)."""
    try:
        import psutil
    except ImportError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def small_file_rate(
    targets: dict[str, tuple[str, int]],
    path: str,
    seconds: float,
    windows: int,
    processes: int = 2,
    concurrency: int = 8,
    client: str = "lean",
) -> dict[str, dict[str, float]]:
    """Throughput for ``path`` on each server, in ``windows`` alternating time windows.

    ``concurrency`` clients are spread over client ``processes``: one Python client
    process saturates long before either server does. ``client`` is ``lean`` (the
    prepared-request client of ``lean_client``) or ``httpx`` (which spends more CPU per
    request than either server, so it measures mostly itself). Besides requests per second
    (bounded by whatever else the machine runs) this records each server's CPU time
    during its windows: requests per server CPU second is what one core of server
    could serve, independent of the client's speed.
    """
    per_process = concurrency // processes
    totals = {name: [0, 0.0, 0.0] for name in targets}  # requests, seconds, server CPU
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        for _ in range(windows):
            for name, (url, pid) in targets.items():
                cpu_before = _server_cpu(pid)
                jobs = [(url, path, per_process, seconds / windows, client)] * processes
                runs = list(pool.map(_rate_in_process, *zip(*jobs, strict=True)))
                totals[name][0] += sum(count for count, _ in runs)
                totals[name][1] += max(took for _, took in runs)
                totals[name][2] += _server_cpu(pid) - cpu_before
    return {
        name: {"rps": done / took, "per_cpu_second": done / cpu if cpu else 0.0}
        for name, (done, took, cpu) in totals.items()
    }


def measure(
    targets: dict[str, tuple[str, int]], runs: int, rate_seconds: float, rate_client: str = "lean"
) -> dict[str, dict[str, float]]:
    """The measurements for every server in ``targets`` (name: (URL, pid)), interleaved."""
    results: dict[str, dict[str, float]] = {name: {} for name in targets}

    def record(metric: str, values: dict[str, float]) -> None:
        for name, value in values.items():
            results[name][metric] = value

    clients = {
        name: httpx.Client(base_url=url, headers=HEADERS, timeout=300)
        for name, (url, _pid) in targets.items()
    }
    try:
        record(
            "listing_s",
            _interleaved(
                clients, runs, lambda c: c.get("api/contents/many", params={"content": 1})
            ),
        )
        record(
            "notebook_get_s", _interleaved(clients, runs, lambda c: c.get("api/contents/big.ipynb"))
        )
        first = next(iter(clients.values()))
        model = first.get("api/contents/big.ipynb").json()
        # Encoded once: the timing is the server's work plus the transfer, not json.dumps.
        body = json.dumps({"type": "notebook", "format": "json", "content": model["content"]})
        record(
            "notebook_put_s",
            _interleaved(
                clients,
                runs,
                lambda c: c.put(
                    "api/contents/big.ipynb",
                    content=body.encode(),
                    headers={"Content-Type": "application/json"},
                ),
            ),
        )
    finally:
        for client in clients.values():
            client.close()
    windows = max(2, int(rate_seconds))
    for label, path in (("api", "api/contents/small.txt"), ("files", "files/small.txt")):
        rates = small_file_rate(targets, path, rate_seconds, windows, client=rate_client)
        record(f"small_file_{label}_rps", {n: r["rps"] for n, r in rates.items()})
        record(f"small_file_{label}_per_cpu_s", {n: r["per_cpu_second"] for n, r in rates.items()})
    return results
