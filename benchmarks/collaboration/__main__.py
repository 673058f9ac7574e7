"""Many clients editing one shared notebook: modserver's yjs plugin against jupyter-collaboration.

Each server serves a fresh copy of a one-cell notebook on a free loopback port: modserver
with the ``yjs`` plugin, and (when ``--jupyter-python`` names a Python that has
jupyter_server and jupyter-server-ydoc) jupyter_server with jupyter-collaboration's
server extension. ``--clients`` y-websocket clients (pycrdt documents over asyncio
``websockets``, as @jupyter/docprovider speaks) put the session, join the room and sync;
then each types ``--edits`` characters into the cell, one update per keystroke, all at
once. Measured: seconds from the first keystroke until every client's copy holds every
keystroke (converged), the server's CPU time for it, and its RSS then. Results:
``benchmarks/results/collaboration.json``.
Run: ``python -m benchmarks.collaboration [--clients N] [--edits N] [--jupyter-python PY]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import websockets
from jupyter_ydoc import YNotebook
from pycrdt import (
    Doc,
    TransactionEvent,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)

TOKEN = "bench-token"
RESULTS = Path(__file__).resolve().parents[1] / "results"
NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "id": "c0",
            "source": "",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def modserver_command(port: int, root: Path, data: Path) -> list[str]:
    return [
        sys.executable, "-m", "modserver.cli", "run", "--port", str(port),
        "--root-dir", str(root), "--plugins", "yjs", "--set", f"auth.token={TOKEN}",
        "--set", f"yjs.file_id_database={data / 'ids.db'}", "--log-level", "warning",
    ]  # fmt: skip


def jupyter_command(python: str, port: int, root: Path) -> list[str]:
    return [
        python, "-m", "jupyter_server", "--port", str(port), "--no-browser",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}",
        "--ServerApp.port_retries=0", "--log-level=WARN", "--allow-root",
        "--ServerApp.jpserver_extensions={'jupyter_server_ydoc': True}",
    ]  # fmt: skip


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """One y-websocket client of the notebook's room."""

    def __init__(self, ws: Any, progress: asyncio.Event) -> None:
        self.ws = ws
        self.progress = progress  # set whenever any client's copy changes
        self.doc: Doc[Any] = Doc()
        self.notebook = YNotebook(self.doc)
        self.synced = asyncio.Event()
        self.outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._remote = False
        self.doc.observe(self._local_change)

    def _local_change(self, event: TransactionEvent) -> None:
        if not self._remote:
            self.outbox.put_nowait(create_update_message(event.update))

    def length(self) -> int:
        return len(self.notebook.ycells[0]["source"]) if self.notebook.cell_number else -1

    async def run(self) -> None:
        await self.ws.send(create_sync_message(self.doc))

        async def send() -> None:
            while True:
                await self.ws.send(await self.outbox.get())

        sender = asyncio.create_task(send())
        try:
            async for message in self.ws:
                if message[0] != 0:
                    continue  # awareness and the rest
                self._remote = True
                try:
                    reply = handle_sync_message(message[1:], self.doc)
                finally:
                    self._remote = False
                self.progress.set()
                if reply is not None:
                    await self.ws.send(reply)
                if message[1] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()
        finally:
            sender.cancel()


async def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    headers = {"Authorization": f"token {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5) as client:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if (await client.get("api/status")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            await asyncio.sleep(0.1)


async def until(condition: Any, progress: asyncio.Event, timeout: float) -> None:
    """Wait until ``condition()`` holds, checking each time a client's copy changed."""
    deadline = time.monotonic() + timeout
    while not condition():
        progress.clear()
        await asyncio.wait_for(progress.wait(), max(0.001, deadline - time.monotonic()))


async def measure(
    name: str, proc: subprocess.Popen[bytes], port: int, clients: int, edits: int
) -> dict[str, Any]:
    progress = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    sockets: list[Any] = []
    try:
        base = f"http://127.0.0.1:{port}/"
        await wait_ready(base, proc)
        headers = {"Authorization": f"token {TOKEN}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            reply = await http.put(
                "api/collaboration/session/shared.ipynb",
                json={"format": "json", "type": "notebook"},
            )
            reply.raise_for_status()
            session = reply.json()
        room = f"json:notebook:{session['fileId']}?sessionId={session['sessionId']}"
        url = f"ws://127.0.0.1:{port}/api/collaboration/room/{room}"
        peers = []
        for _ in range(clients):
            ws = await websockets.connect(url, additional_headers=headers, max_size=None)
            sockets.append(ws)
            peer = Client(ws, progress)
            peers.append(peer)
            tasks.append(asyncio.create_task(peer.run()))
        await asyncio.wait_for(asyncio.gather(*(p.synced.wait() for p in peers)), 60)
        await until(lambda: all(p.length() == 0 for p in peers), progress, 60)
        rss_before = rss_mb(proc.pid)
        cpu_before = cpu_seconds(proc.pid)
        start = time.perf_counter()
        for _ in range(edits):
            for peer in peers:
                source = peer.notebook.ycells[0]["source"]
                source.insert(len(source), "x")  # one keystroke, one update
            await asyncio.sleep(0)
        total = clients * edits
        await until(lambda: all(p.length() == total for p in peers), progress, 300)
        converged = time.perf_counter() - start
        return {
            "clients": clients,
            "edits_per_client": edits,
            "converge_seconds": converged,
            "updates_per_second": total / converged,
            # The clients share this process, so convergence may be client-bound: the
            # server's own CPU time for the same work compares the servers.
            "server_cpu_seconds": cpu_seconds(proc.pid) - cpu_before,
            "rss_mb_before_edits": rss_before,
            "rss_mb_converged": rss_mb(proc.pid),
        }
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        for task in tasks:
            task.cancel()
        for ws in sockets:
            await ws.close()
        print(f"{name}: done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument(
        "--jupyter-python",
        default=None,
        help="a Python with jupyter_server and jupyter-server-ydoc, to compare with",
    )
    parser.add_argument("--quick", action="store_true", help="5 clients, 20 edits")
    args = parser.parse_args()
    clients, edits = (5, 20) if args.quick else (args.clients, args.edits)
    results: dict[str, Any] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        targets: list[tuple[str, Any]] = [("modserver", None)]
        if args.jupyter_python:
            targets.append(("jupyter_server + jupyter-collaboration", args.jupyter_python))
        for name, python in targets:
            folder = Path(scratch) / name.split()[0]
            root, data = folder / "root", folder / "data"
            root.mkdir(parents=True)
            data.mkdir()
            (root / "shared.ipynb").write_text(json.dumps(NOTEBOOK))
            env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
            env.update(
                MODSERVER_RUNTIME_DIR=f"{folder}/rt",
                JUPYTER_RUNTIME_DIR=f"{folder}/jrt",
                JUPYTER_CONFIG_DIR=f"{folder}/jcfg",
                JUPYTER_DATA_DIR=str(data),
            )
            port = free_port()
            command = (
                modserver_command(port, root, data)
                if python is None
                else jupyter_command(python, port, root)
            )
            proc = subprocess.Popen(
                # cwd: jupyter-server-ydoc writes its .jupyter_ystore.db there.
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=folder,
            )
            try:
                results[name] = asyncio.run(measure(name, proc, port, clients, edits))
            finally:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    summary = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores {platform.machine()}",
        "python": platform.python_version(),
        "versions": {name: version(name) for name in ("pycrdt", "jupyter-ydoc", "websockets")},
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("collaboration-quick.json" if args.quick else "collaboration.json")
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'server':<42}{'converge (s)':>13}{'server CPU (s)':>15}{'RSS (MB)':>10}")
    for name, row in results.items():
        if "error" in row:
            print(f"{name:<42} failed: {row['error']}")
            continue
        print(
            f"{name:<42}{row['converge_seconds']:>13.2f}{row['server_cpu_seconds']:>15.2f}"
            f"{row['rss_mb_converged']:>10.1f}"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
