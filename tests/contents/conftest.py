"""One modserver (contents plugin) per test module, on a fresh folder per module.

The app runs in the test process (``serve_in_process``: create_app with its lifespan,
called through httpx's ASGI transport). Tests in a module share it but each works in its
own sub-folder (``folder`` fixture), so they do not see each other's files. The escape
tests (test_security.py) keep a real ``modserver run``: raw paths go through its parser.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer, serve_in_process

_counter = itertools.count()


@pytest.fixture(scope="module")
def contents_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("contents") / "root"
    root.mkdir()
    server = serve_in_process(root, "--set", "contents.delete_to_trash=false", plugins="contents")
    yield server
    server.stop()


@pytest.fixture
def client(contents_server: RunningServer) -> Iterator[httpx.Client]:
    with contents_server.client() as http:
        yield http


@pytest.fixture
def folder(contents_server: RunningServer) -> tuple[str, Path]:
    """A fresh sub-folder: ``(api_path, disk_path)``."""
    name = f"t{next(_counter)}"
    disk = contents_server.root_dir / name
    disk.mkdir()
    return name, disk
