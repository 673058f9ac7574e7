"""Start modserver or jupyter_server on a folder, each isolated, and stop it afterwards.

Both run as subprocesses on a free loopback port with their own runtime, config and data
folders, at their default log levels, serving the same root folder with the same token.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TOKEN = "bench-token"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODSERVER_", "JUPYTER_"))}
    for name in ("MODSERVER_RUNTIME_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR"):
        path = scratch / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["JUPYTER_DATA_DIR"] = str(scratch / "jupyter-data")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env


def command(name: str, port: int, root: Path) -> list[str]:
    """The command line that serves ``root`` on ``port`` with server ``name``."""
    if name == "modserver":
        return [
            sys.executable, "-m", "modserver.cli", "run", "--port", str(port),
            "--root-dir", str(root), "--plugins", "contents", "--set", f"auth.token={TOKEN}",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "jupyter_server", f"--ServerApp.token={TOKEN}",
        "--port", str(port), "--no-browser", f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]  # fmt: skip


@contextmanager
def running(name: str, root: Path, scratch: Path) -> Iterator[tuple[str, int]]:
    """Run server ``name`` on ``root``; yields ``(base URL, pid)`` once it answers."""
    port = free_port()
    log = (scratch / f"{name}.log").open("w")
    proc = subprocess.Popen(
        command(name, port, root), stdout=log, stderr=subprocess.STDOUT, env=_env(scratch / name)
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited; see {log.name}")
            try:
                response = httpx.get(
                    url + "api/status", headers={"Authorization": f"token {TOKEN}"}
                )
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; see {log.name}")
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
