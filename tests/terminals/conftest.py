"""Fixtures for the terminals tests: a server with the terminals plugin and a plain shell.

The shared server runs bash without profile or rc files, so what a user's profile does
(prompts, background jobs) does not leak into the assertions; one test uses the default.
Servers run in the test process (``serve_in_process``); what only a process shows (its
environment, its children and descriptors, its exit) uses ``subprocess=True``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, serve_in_process, start_server

SHELL = json.dumps([shutil.which("bash") or "/bin/sh", "--noprofile", "--norc", "-i"])


def start_terminals_server(
    root: Path, *settings: str, subprocess: bool = False, env: dict[str, str] | None = None
) -> RunningServer:
    """A server with the terminals plugin (and auth) serving ``root``: in the test process
    unless ``subprocess`` (or an ``env`` for the server) asks for the real ``modserver run``.
    """
    args: list[str] = ["--set", f"terminals.shell_command={SHELL}"]
    for setting in settings:
        args += ["--set", setting]
    if subprocess or env is not None:
        return start_server(root, *args, plugins="terminals", env=env)
    return serve_in_process(root, *args, plugins="terminals")


@pytest.fixture(scope="module")
def terminal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server shared by the tests of one module."""
    root = tmp_path_factory.mktemp("terminals") / "root"
    (root / "sub" / "deeper").mkdir(parents=True)
    server = start_terminals_server(root)
    yield server
    server.stop()
