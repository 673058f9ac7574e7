"""One real modserver with every plugin for the security tests, plus a folder outside it.

``outside`` is a sibling of the root: tests plant symlinks into it and check that no
request ever wrote there. The tiny kernelspec keeps kernel starts cheap.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer, start_server
from tests.kernels.conftest import install_tiny_kernelspec

_counter = itertools.count()


@dataclass
class Site:
    """The server under test and the folders around it."""

    server: RunningServer
    outside: Path  # never written by the server
    config_dir: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("security")
    root, outside, config = base / "root", base / "outside", base / "config"
    for folder in (root, outside, config):
        folder.mkdir()
    server = start_server(
        root,
        "--set",
        "contents.delete_to_trash=false",
        "--set",
        f"config.config_dir={config}",
        env=install_tiny_kernelspec(base / "data"),
    )
    yield Site(server, outside, config)
    server.stop()


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with site.server.client() as http:
        yield http


@pytest.fixture
def folder(site: Site) -> tuple[str, Path]:
    """A fresh sub-folder of the root: ``(api_path, disk_path)``."""
    name = f"s{next(_counter)}"
    disk = site.server.root_dir / name
    disk.mkdir()
    return name, disk


def server_tracebacks(server: RunningServer) -> list[str]:
    """Tracebacks in the server's output, leaving out the kernel processes' own.

    Kernel processes share the server's output. A kernel shut down mid-import prints a
    ``KeyboardInterrupt`` traceback, and one that found a port taken (by another process,
    between the server picking it free and the kernel binding it) prints its bind error
    and exits; the server restarts it on new ports. Neither says anything about the server.
    """
    blocks = server.log().split("Traceback (most recent call last):")[1:]
    return [
        block[:3000]
        for block in blocks
        if "KeyboardInterrupt" not in block[:6000] and "ipykernel_launcher" not in block[:3000]
    ]


def assert_clean_log(server: RunningServer) -> None:
    """No server traceback and no ASGI error in the server's output."""
    assert server_tracebacks(server) == []
    assert "Error in ASGI" not in server.log()
    assert "unhandled error" not in server.log()
