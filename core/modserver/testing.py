"""Test a plugin against the real server: in the test process, or as ``modserver run``.

- ``app_client``: the app ``create_app`` makes, with its plugins' lifespan running, and an
  httpx client logged in as the owner that talks to it in the test process (HTTP only).
- ``serve``: the real ``modserver run`` on a free loopback port, for WebSockets and for
  what only a real process shows (signals, exit codes, the printed URL).

Both keep the test away from the user's own setup: no ``MODSERVER_*`` variable is read,
and the runtime folder (tokens, cookie key, runtime files) is a temporary one, so a test
never logs the user's browser out or finds their running servers. ``settings`` override a
``modserver.toml`` in the current folder. See docs/writing-a-plugin.md, "Test it".
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from modserver.app import create_app, lifespan_of

#: The owner's token in both helpers unless a test gives its own.
TOKEN = "modserver-test-token"

_LISTENING = re.compile(r"modserver is listening on (http://\S+)")


@asynccontextmanager
async def app_client(
    plugins: Sequence[str],
    root_dir: str | Path,
    *,
    settings: Mapping[str, Any] | None = None,
    token: str = TOKEN,
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of an in-process app of ``plugins`` (and the ones they require)
    serving ``root_dir``, logged in as the owner with ``token``.

    ``settings`` as for ``create_app`` (core keys, and plugin sections as dicts). An error
    the app does not answer is a 500 the test sees, not an exception raised into it.
    """
    with tempfile.TemporaryDirectory(prefix="modserver-test-") as runtime:
        merged: dict[str, Any] = {"root_dir": str(root_dir), "runtime_dir": runtime}
        merged.update(settings or {})
        auth = dict(merged.get("auth") or {})
        auth.setdefault("token", token)
        merged["auth"] = auth
        app = create_app(plugins=list(plugins), settings=merged, use_env=False)
        async with lifespan_of(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://127.0.0.1",  # the auth plugin answers local host names
                headers={"Authorization": f"token {auth['token']}"},
            ) as client:
                yield client


@dataclass
class Served:
    """A running ``modserver run``: where it listens and what it printed."""

    url: str  # the root URL, ending in "/"
    token: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def client(self) -> httpx.Client:
        """An httpx client of the server, logged in as the owner."""
        headers = {"Authorization": f"token {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def ws_url(self, path: str) -> str:
        """The ``ws://`` URL of ``path`` (relative to the root URL)."""
        return "ws://" + self.url.removeprefix("http://") + path.lstrip("/")

    def log(self) -> str:
        """Everything the server printed so far (standard output and error)."""
        return "".join(self.output)


@contextmanager
def serve(
    plugins: Sequence[str] | None,
    root_dir: str | Path,
    *,
    settings: Mapping[str, str] | None = None,
    token: str = TOKEN,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[Served]:
    """``modserver run`` with ``plugins`` (None: every installed one) on a free loopback
    port, until the block ends: then stopped with SIGTERM (and killed if it hangs).

    ``settings`` are ``--set`` values, ``{"section.key": "value"}``; ``env`` adds
    environment variables. Raises RuntimeError, with what the server printed, if it does
    not listen within ``timeout`` seconds.
    """
    environ = {key: value for key, value in os.environ.items() if not key.startswith("MODSERVER_")}
    environ.update(env or {})
    environ["PYTHONUNBUFFERED"] = "1"
    with tempfile.TemporaryDirectory(prefix="modserver-test-") as runtime:
        command = [sys.executable, "-m", "modserver.cli", "run", "--port", "0"]
        command += ["--root-dir", str(root_dir), "--runtime-dir", runtime]
        command += ["--set", f"auth.token={token}"]
        if plugins is not None:
            command += ["--plugins", ",".join(plugins)]
        for key, value in (settings or {}).items():
            command += ["--set", f"{key}={value}"]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=environ,
        )
        served = Served("", token, process)
        listening = threading.Event()

        def read_output() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                served.output.append(line)
                match = _LISTENING.search(line)
                if match and not listening.is_set():
                    served.url = match.group(1).rstrip("/") + "/"
                    listening.set()
            listening.set()  # the server ended: stop waiting

        reader = threading.Thread(target=read_output, daemon=True)
        reader.start()
        try:
            if not listening.wait(timeout) or not served.url:
                raise RuntimeError(f"modserver run did not start listening:\n{served.log()}")
            yield served
        finally:
            _stop(process)
            reader.join(5)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
