"""The three things benchmarked: modserver, jupyter_server, and the kernel over ZMQ.

Each server runs as a subprocess on a free loopback port with its own temporary root,
runtime, config and data folders, and is stopped with all its kernels on the way out,
even after a failure. ``DirectTarget`` starts the same ipykernel with jupyter_client's
``AsyncKernelManager`` and talks to it with no server in between.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import psutil
from anyio.abc import Process

from benchmarks.kernels.clients import KernelClient, WebSocketClient, ZmqClient

TOKEN = "bench-token"
KERNEL_NAME = "python3"
STARTUP_TIMEOUT_S = 60


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_env(scratch: Path) -> dict[str, str]:
    """Environment for servers and kernels: private Jupyter/IPython/modserver folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODSERVER_", "JUPYTER_"))}
    for name, sub in (
        ("MODSERVER_RUNTIME_DIR", "modserver-runtime"),
        ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
        ("JUPYTER_CONFIG_DIR", "jupyter-config"),
        ("JUPYTER_DATA_DIR", "jupyter-data"),
        ("IPYTHONDIR", "ipython"),
    ):
        path = scratch / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env


def rss_mib(pid: int) -> float:
    """Resident memory of one process (not its children), in MiB."""
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


@dataclass
class ServerTarget:
    """A running Jupyter-compatible server we reach over HTTP and WebSockets."""

    name: str
    process: Process
    port: int
    log_path: Path
    kernel_pids: dict[str, int] = field(default_factory=dict)
    children_before: dict[str, set[int]] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {TOKEN}"}

    def log_tail(self, lines: int = 15) -> str:
        """The end of the server's log, for error reports."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def start_kernel(self) -> str:
        """POST /api/kernels; returns the kernel id."""
        before = self._child_pids()
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.post(
                f"{self.http}/api/kernels", json={"name": KERNEL_NAME}, headers=self.headers()
            )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST /api/kernels: {response.status_code} {response.text[:300]}")
        kernel_id = str(response.json()["id"])
        self.children_before[kernel_id] = before
        return kernel_id

    def _child_pids(self) -> set[int]:
        try:
            return {child.pid for child in psutil.Process(self.pid).children(recursive=True)}
        except psutil.Error:
            return set()

    def _remember_kernel_pid(self, kernel_id: str) -> None:
        # The kernel is the server's child whose command line names the kernel id (as
        # jupyter_server's connection file does), else the one ipykernel child that
        # appeared when this kernel started and belongs to no other kernel.
        known = set(self.kernel_pids.values())
        before = self.children_before.get(kernel_id, set())
        fresh = []
        try:
            for child in psutil.Process(self.pid).children(recursive=True):
                command = " ".join(child.cmdline())
                if kernel_id in command:
                    self.kernel_pids[kernel_id] = child.pid
                    return
                if child.pid not in before and child.pid not in known and "ipykernel" in command:
                    fresh.append(child.pid)
        except psutil.Error:
            return
        if len(fresh) == 1:
            self.kernel_pids[kernel_id] = fresh[0]

    def kernel_pid(self, kernel_id: str) -> int | None:
        """The kernel's process id, if it is a child we could identify."""
        if kernel_id not in self.kernel_pids:
            self._remember_kernel_pid(kernel_id)
        return self.kernel_pids.get(kernel_id)

    async def delete_kernel(self, kernel_id: str) -> None:
        """DELETE /api/kernels/{id} (errors ignored: used in cleanup)."""
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                await client.delete(f"{self.http}/api/kernels/{kernel_id}", headers=self.headers())
        except httpx.HTTPError:
            pass

    async def connect(
        self, kernel_id: str, protocol: str, *, deflate: bool = False
    ) -> KernelClient:
        """A WebSocket to the kernel's channels in ``protocol`` (``v1`` or ``json``)."""
        url = f"ws://127.0.0.1:{self.port}/api/kernels/{kernel_id}/channels"
        return await WebSocketClient.open(url, TOKEN, protocol, deflate=deflate)

    async def delete_all_kernels(self) -> None:
        """Shut down every kernel the server still runs."""
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                response = await client.get(f"{self.http}/api/kernels", headers=self.headers())
                kernels = response.json() if response.status_code == 200 else []
                for kernel in kernels:
                    await client.delete(
                        f"{self.http}/api/kernels/{kernel['id']}", headers=self.headers()
                    )
        except (httpx.HTTPError, ValueError):
            pass


def modserver_command(port: int, root: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "modserver.cli",
        "run",
        "--port",
        str(port),
        "--root-dir",
        str(root),
        "--plugins",
        "kernels",
        "--set",
        f"auth.token={TOKEN}",
        "--log-level",
        "warning",
    ]


def jupyter_server_command(port: int, root: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyter_server",
        "--port",
        str(port),
        "--ip=127.0.0.1",
        "--no-browser",
        "--allow-root",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={TOKEN}",
        # The iopub rate limit would throttle the throughput tests: off.
        "--ZMQChannelsWebsocketConnection.limit_rate=False",
        "--ZMQChannelsWebsocketConnection.iopub_msg_rate_limit=0",
        "--ZMQChannelsWebsocketConnection.iopub_data_rate_limit=0",
        "--log-level=WARN",
    ]


COMMANDS = {"modserver": modserver_command, "jupyter_server": jupyter_server_command}


@asynccontextmanager
async def launch_server(
    name: str, scratch: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[ServerTarget]:
    """Start server ``name``; on exit shut its kernels down and stop it (and any orphans).

    ``extra_env`` is added to the server's environment (for experiments).
    """
    folder = scratch / name
    root = folder / "root"
    root.mkdir(parents=True, exist_ok=True)
    env = isolated_env(folder)
    env.update(extra_env or {})
    port = free_port()
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = await anyio.open_process(
            COMMANDS[name](port, root),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
            start_new_session=True,
        )
    server = ServerTarget(name, process, port, log_path)
    try:
        await _wait_until_up(server)
        yield server
    finally:
        with anyio.CancelScope(shield=True):
            await _stop_server(server)


async def _wait_until_up(server: ServerTarget) -> None:
    """Poll ``/api/status`` until it answers 200; errors carry the server's log tail."""
    last = ["no answer"]  # what the server said last, for the error message
    with anyio.move_on_after(STARTUP_TIMEOUT_S):
        await _poll_status(server, last)
        return
    raise RuntimeError(
        f"{server.name} not up after {STARTUP_TIMEOUT_S}s (last: {last[0]}):\n" + server.log_tail()
    )


async def _poll_status(server: ServerTarget, last: list[str]) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if server.process.returncode is not None:
                raise RuntimeError(
                    f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
                )
            try:
                response = await client.get(f"{server.http}/api/status", headers=server.headers())
                if response.status_code == 200:
                    return
                last[0] = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:
                last[0] = repr(exc)
            await anyio.sleep(0.05)


async def _stop_server(server: ServerTarget) -> None:
    if server.process.returncode is None:
        await server.delete_all_kernels()
    try:
        leftovers = psutil.Process(server.pid).children(recursive=True)
    except psutil.Error:
        leftovers = []
    if server.process.returncode is None:
        server.process.send_signal(signal.SIGTERM)
        with anyio.move_on_after(20):
            await server.process.wait()
        if server.process.returncode is None:
            server.process.kill()
            await server.process.wait()
    # Anything the server left behind (a kernel it did not shut down) goes too.
    for child in leftovers:
        with contextlib.suppress(psutil.Error):
            child.kill()


@dataclass
class DirectKernel:
    """One kernel started by jupyter_client, reached over ZMQ."""

    manager: Any

    @property
    def pid(self) -> int | None:
        provisioner = self.manager.provisioner
        process = getattr(provisioner, "process", None)
        return int(process.pid) if process is not None else None

    async def connect(self) -> KernelClient:
        """A fresh AsyncKernelClient with its own sockets to this kernel."""
        kernel_client = self.manager.client()
        kernel_client.start_channels()
        return ZmqClient(kernel_client)


class DirectTarget:
    """Kernels started and driven by jupyter_client, no server: the physical limit."""

    name = "direct"

    def __init__(self, scratch: Path) -> None:
        self.folder = scratch / "direct"
        self.root = self.folder / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.env = isolated_env(self.folder)
        self.kernels: list[DirectKernel] = []

    async def start_kernel(self) -> DirectKernel:
        """Start a kernel from the same kernelspec the servers use."""
        from jupyter_client.manager import AsyncKernelManager

        connection_file = self.folder / f"kernel-{len(self.kernels)}-{os.getpid()}.json"
        manager = AsyncKernelManager(kernel_name=KERNEL_NAME, connection_file=str(connection_file))
        kernel = DirectKernel(manager)
        self.kernels.append(kernel)
        # The kernel's own output goes to a log, as a server would keep it off our terminal.
        with (self.folder / "kernels.log").open("ab") as log:
            await manager.start_kernel(cwd=str(self.root), env=self.env, stdout=log, stderr=log)
        return kernel

    async def shutdown_kernel(self, kernel: DirectKernel) -> None:
        """Shut the kernel down (forcefully if it does not answer)."""
        if kernel in self.kernels:
            self.kernels.remove(kernel)
        try:
            with anyio.fail_after(20):
                await kernel.manager.shutdown_kernel(now=False)
        except Exception:
            await kernel.manager.shutdown_kernel(now=True)

    async def shutdown_all(self) -> None:
        for kernel in list(self.kernels):
            await self.shutdown_kernel(kernel)


@asynccontextmanager
async def launch_direct(scratch: Path) -> AsyncIterator[DirectTarget]:
    """The direct target; every kernel it started is shut down on exit."""
    target = DirectTarget(scratch)
    try:
        yield target
    finally:
        with anyio.CancelScope(shield=True):
            await target.shutdown_all()
