"""JupyterLab's two servers for the browser benchmark: ``modserver run`` and ``jupyter lab``.

Each runs as a subprocess in its own session on a free loopback port, with its own root,
home, Jupyter config/runtime/data, lab settings and workspaces folders, so neither sees
the other's state nor the developer's. Both serve the same JupyterLab build with the same
labextensions: jupyter-collaboration's frontend is turned off in each config folder (as
``jupyter labextension disable`` writes it; jupyter_server here has no collaboration
server extension). On the way out every kernel is shut down and the server stopped, and
any child left behind is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

TOKEN = "bench-token"
STARTUP_TIMEOUT_S = 90
COLLABORATION_EXTENSIONS = ("@jupyter/docprovider-extension", "@jupyter/collaboration-extension")


@dataclass
class LabServer:
    """A running server with JupyterLab: where to reach it and its process."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The root URL (ends with ``/``)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def login_url(self) -> str:
        """The URL a person opens first: JupyterLab with the token, which logs in."""
        return f"{self.url}lab?token={TOKEN}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {TOKEN}"}

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def jupyter_executable(explicit: str | None) -> str:
    """``jupyter`` for the reference server: ``explicit``, else next to this Python, else PATH."""
    if explicit:
        return explicit
    beside = Path(sys.executable).with_name("jupyter")
    if beside.exists():
        return str(beside)
    found = shutil.which("jupyter")
    if not found:
        raise RuntimeError("no jupyter executable: install jupyterlab (nox -s bench does)")
    return found


def isolated_env(folder: Path) -> dict[str, str]:
    """Environment with every per-user Jupyter/modserver folder inside ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODSERVER_", "JUPYTER"))}
    for name, sub in (
        ("HOME", "home"),
        ("JUPYTER_CONFIG_DIR", "jupyter-config"),
        ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("MODSERVER_RUNTIME_DIR", "modserver-runtime"),
        ("IPYTHONDIR", "ipython"),
    ):
        path = folder / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    labconfig = folder / "jupyter-config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    disabled = {name: True for name in COLLABORATION_EXTENSIONS}
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": disabled}))
    return env


def command(name: str, port: int, root: Path, jupyter: str) -> list[str]:
    """The command line of server ``name``: every installed modserver plugin, or jupyter lab."""
    if name == "modserver":
        return [
            sys.executable, "-m", "modserver.cli", "run", "--port", str(port),
            "--root-dir", str(root), "--set", f"auth.token={TOKEN}", "--log-level", "warning",
        ]  # fmt: skip
    return [
        jupyter, "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}", "--log-level=WARN", "--allow-root",
    ]  # fmt: skip


@contextmanager
def running(name: str, root: Path, scratch: Path, jupyter: str) -> Iterator[LabServer]:
    """Run server ``name`` on ``root`` until the block ends; yields it once it answers."""
    folder = scratch / name
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command(name, port, root, jupyter),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=isolated_env(folder),
            cwd=root,
            start_new_session=True,
        )
    server = LabServer(name, proc, port, log_path)
    try:
        _wait_until_up(server)
        yield server
    finally:
        stop(server)


def _wait_until_up(server: LabServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log_tail()}")
        try:
            response = httpx.get(f"{server.url}api/status", headers=server.headers())
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not start:\n{server.log_tail()}")
        time.sleep(0.1)


def stop(server: LabServer) -> None:
    """Shut down the server's kernels, stop it, and kill whatever child it left."""
    if server.proc.poll() is None:
        with (
            contextlib.suppress(httpx.HTTPError, ValueError),
            httpx.Client(timeout=30, headers=server.headers()) as client,
        ):
            response = client.get(f"{server.url}api/kernels")
            for kernel in response.json() if response.status_code == 200 else []:
                client.delete(f"{server.url}api/kernels/{kernel['id']}")
    try:
        leftovers = psutil.Process(server.proc.pid).children(recursive=True)
    except psutil.Error:
        leftovers = []
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(20)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    for child in leftovers:
        with contextlib.suppress(psutil.Error):
            child.kill()
