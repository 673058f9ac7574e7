"""Fixtures of the auth tests: servers shared by a module, the echo WebSocket server,
password hashes, and a browser-like client that keeps cookies and sends XSRF headers.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TOKEN, RunningServer, launch, start_server

ECHO_SCRIPT = Path(__file__).with_name("echo_server.py")


@cache
def password_hash(password: str) -> str:
    """An argon2id hash of ``password`` as ``modserver password`` stores one, but with the
    cheapest parameters: the server verifies a hash with the parameters written in it, so
    each login then costs microseconds instead of ~0.2 CPU-s. (``test_password_command``
    logs in with a hash the real command made.)"""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)


@pytest.fixture(scope="module")
def module_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., RunningServer]]:
    """Start servers shared by every test of a module (each gets its own root folder)."""
    started: list[RunningServer] = []

    def factory(*args: str, **kwargs: Any) -> RunningServer:
        root = tmp_path_factory.mktemp("root")
        server = start_server(root, *args, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


def start_echo_server(root: Path, *sets: str, token: str = TOKEN) -> RunningServer:
    """Start ``echo_server.py`` (modserver + a guarded WebSocket echo) on a free port."""
    # Refused WebSocket handshakes leave idle client sockets; don't wait 10 s for them.
    command = [sys.executable, str(ECHO_SCRIPT), "--set", f"root_dir={root}"]
    command += ["--set", "shutdown_timeout=2"]
    if token:
        command += ["--set", f"auth.token={token}"]
    for item in sets:
        command += ["--set", item]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    env.update(
        {
            "MODSERVER_RUNTIME_DIR": str(root.parent / f".runtime-{root.name}"),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(Path(__file__).parents[2]),
        }
    )
    return launch(command, root, token, env=env)


def wait_for_log(server: RunningServer, text: str) -> str:
    """The server's output once it contains ``text`` (lines after the URL line come later)."""
    deadline = time.monotonic() + 10
    while text not in server.log():
        assert time.monotonic() < deadline, f"{text!r} never printed:\n{server.log()}"
        time.sleep(0.02)
    return server.log()


def browser(server: RunningServer, **kwargs: Any) -> httpx.Client:
    """A client without token that keeps cookies, like a browser tab."""
    return server.client(token="", follow_redirects=False, **kwargs)


def xsrf_headers(client: httpx.Client) -> dict[str, str]:
    """The ``X-XSRFToken`` header JupyterLab would send, from the client's ``_xsrf`` cookie."""
    return {"X-XSRFToken": client.cookies["_xsrf"]}


def login_with_form(
    client: httpx.Client, password: str, *, username: str = "", next_url: str | None = None
) -> httpx.Response:
    """Load the login form (which sets ``_xsrf``), then post it."""
    page = client.get("login")
    assert page.status_code == 200, page.text
    data = {"password": password, "_xsrf": client.cookies["_xsrf"]}
    if username:
        data["username"] = username
    if next_url is not None:
        data["next"] = next_url
    return client.post("login", data=data)
