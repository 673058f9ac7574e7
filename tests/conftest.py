"""Shared test fixtures: start the real ``modserver run`` in a subprocess on a free port.

Every end-to-end test talks HTTP/WebSocket to a real hypercorn server on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

TOKEN = "test-token-0123456789abcdef"
URL_LINE = re.compile(r"modserver is listening on (http://\S+)")


@dataclass
class RunningServer:
    """A ``modserver run`` subprocess and how to talk to it."""

    proc: subprocess.Popen[str]
    url: str  # root URL including base_url, ends with "/"
    root_dir: Path
    token: str
    output: list[str] = field(default_factory=list)

    def client(self, *, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An HTTP client on the server's root URL, authenticated with the token by default."""
        headers = dict(kwargs.pop("headers", {}))
        use = self.token if token is None else token
        if use:
            headers.setdefault("Authorization", f"token {use}")
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def ws_url(self, path: str) -> str:
        """``ws://`` URL of ``path`` (relative to the root URL)."""
        return self.url.replace("http://", "ws://", 1) + path.lstrip("/")

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the server and wait for it to exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop in time:\n" + self.log()) from None
        return self.proc.returncode

    def log(self) -> str:
        return "".join(self.output)


def start_server(
    root_dir: Path,
    *args: str,
    plugins: str | None = None,
    token: str = TOKEN,
    env: dict[str, str] | None = None,
    runtime_dir: Path | None = None,
    timeout: float = 30,
    port: int | None = 0,
) -> RunningServer:
    """Start ``modserver run`` (default: on a free loopback port) and wait until it listens.

    ``port=None`` leaves the port unset, so the server picks 8888 or the next free one.
    """
    command = [sys.executable, "-m", "modserver.cli", "run", "--root-dir", str(root_dir)]
    if port is not None:
        command += ["--port", str(port)]
    if plugins is not None:
        command += ["--plugins", plugins]
    if token:
        command += ["--set", f"auth.token={token}"]
    command += list(args)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    scratch = runtime_dir or root_dir.parent / f".runtime-{root_dir.name}"
    full_env.update(
        {
            "MODSERVER_RUNTIME_DIR": str(scratch),
            "JUPYTER_RUNTIME_DIR": str(scratch / "jupyter"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    full_env.update(env or {})
    return launch(command, root_dir, token, env=full_env, timeout=timeout)


def launch(
    command: list[str], root_dir: Path, token: str, *, env: dict[str, str], timeout: float = 30
) -> RunningServer:
    """Run ``command``, a modserver serving ``root_dir``, until it announces its URL.

    Fails with the server's output if it exits or does not announce in time.
    """
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=root_dir,
    )
    output: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            match = URL_LINE.search(line)
            if match and not url:
                url.append(match.group(1))
            # The announcement ends with this line: by then the whole of it is in ``output``.
            if url and line.startswith("Press Ctrl+C"):
                found.set()
        found.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found.wait(0.05):
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("server did not start:\n" + "".join(output))
    if not url:
        proc.wait(5)
        raise AssertionError(f"server exited ({proc.returncode}):\n" + "".join(output))
    return RunningServer(proc, url[0], root_dir, token, output)


@pytest.fixture
def root_dir(tmp_path: Path) -> Path:
    """An empty folder to serve."""
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def server_factory(root_dir: Path) -> Iterator[Callable[..., RunningServer]]:
    """Start servers on demand; every one is stopped after the test."""
    started: list[RunningServer] = []

    def factory(*args: str, **kwargs: Any) -> RunningServer:
        kwargs.setdefault("root_dir", root_dir)
        server = start_server(kwargs.pop("root_dir"), *args, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


ASGI_SERVERS = ["hypercorn", "uvicorn"]
# The line each ASGI server prints once it listens (after the app's lifespan started).
RUNNING = re.compile(r"(?:Running on|Uvicorn running on) (http://127\.0\.0\.1:\d+)")


def start_embed_host(
    root_dir: Path, *, server: str = "hypercorn", plugins: str = "hello", token: str = TOKEN
) -> RunningServer:
    """Serve ``tests/core/embed_host.py`` (modserver mounted at ``/jupyter`` in a host
    Starlette app) with the ``server`` ASGI server's own command line.

    The returned ``url`` is modserver's, ``<host>/jupyter/``; stop it with ``stop()``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    env.update(
        {
            "EMBED_ROOT": str(root_dir),
            "EMBED_TOKEN": token,
            "EMBED_PLUGINS": plugins,
            "PYTHONUNBUFFERED": "1",
            "MODSERVER_RUNTIME_DIR": str(root_dir.parent / f".runtime-{root_dir.name}"),
            "JUPYTER_RUNTIME_DIR": str(root_dir.parent / f".runtime-{root_dir.name}" / "jupyter"),
        }
    )
    target = "tests.core.embed_host:host"
    if server == "hypercorn":
        command = [sys.executable, "-m", "hypercorn", target, "--bind", "127.0.0.1:0"]
    elif server == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", target, "--port", "0"]
    else:
        raise ValueError(f"unknown ASGI server {server!r}")
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).parents[1],
    )
    output: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            match = RUNNING.search(line)
            if match and not url:
                url.append(match.group(1))
                found.set()
        found.set()

    threading.Thread(target=pump, daemon=True).start()
    if not found.wait(60) or not url:
        proc.kill()
        proc.wait(5)
        raise AssertionError(f"host app did not start under {server}:\n" + "".join(output))
    return RunningServer(proc, url[0] + "/jupyter/", root_dir, token, output)


@contextmanager
def embed_host(root_dir: Path, server: str = "hypercorn") -> Iterator[str]:
    """Serve ``tests/core/embed_host.py`` with ``server``; yield the host's root URL.

    The host is a Starlette app with modserver mounted at ``/jupyter``; it stops on exit.
    """
    host = start_embed_host(root_dir, server=server)
    try:
        yield host.url.removesuffix("/jupyter/")
    finally:
        host.stop()
