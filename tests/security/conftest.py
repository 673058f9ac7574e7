"""One real modserver with every plugin for the security tests, plus a folder outside it.

The server is shared by the whole package (a start with every plugin costs ~1 CPU-s):
tests work in their own folders (``folder``) and names. After each test that uses it,
the part of its log written meanwhile must hold no server traceback, so a traceback is
reported at the test that caused it, whichever module that is.

``outside`` is a sibling of the root: tests plant symlinks into it and check that no
request ever wrote there. The tiny kernelspec, the default kernel, keeps kernel starts
cheap (the fuzzing starts one for each body the kernels or sessions API accepts).
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
    checked: int = 0  # lines of the server's output checked clean so far


@pytest.fixture(scope="package")
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
        "--set",
        "kernels.default_kernel_name=tiny",
        env=install_tiny_kernelspec(base / "data"),
    )
    site = Site(server, outside, config)
    yield site
    assert_clean_log(server, since=site.checked)
    server.stop()


@pytest.fixture(autouse=True)
def site_log_stays_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the shared site: no server traceback in what it logged."""
    yield
    if "site" not in request.fixturenames:
        return
    site: Site = request.getfixturevalue("site")
    since, site.checked = site.checked, settled_end(site.server.output, site.checked)
    assert_clean_log(site.server, since=since)


def settled_end(output: list[str], since: int) -> int:
    """Where the output from ``since`` on can be judged: its end, or the start of a
    traceback still being printed (the next check judges that one whole: a kernel's own
    is known by its last lines)."""
    end = len(output)
    pending = None
    for index in range(since, end):
        line = output[index]
        if line.startswith("Traceback (most recent call last):"):
            pending = index
        elif pending is not None and line.strip() and not line[0].isspace():
            pending = None  # the exception line: that traceback is complete
    return end if pending is None else pending


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


def server_tracebacks(server: RunningServer, since: int = 0) -> list[str]:
    """Tracebacks in the server's output (from line ``since`` on), leaving out the kernel
    processes' own.

    Kernel processes share the server's output. A kernel shut down mid-import prints a
    ``KeyboardInterrupt`` traceback, and one that found a port taken (by another process,
    between the server picking it free and the kernel binding it) prints its bind error
    and exits; the server restarts it on new ports. Neither says anything about the server.
    """
    blocks: list[str] = []
    for part in log_since(server, since).split("Traceback (most recent call last):")[1:]:
        if blocks and blocks[-1].rstrip().endswith(_CHAINED):
            blocks[-1] += part  # one chain of exceptions is one traceback
        else:
            blocks.append(part)
    return [
        block[:3000]
        for block in blocks
        if "KeyboardInterrupt" not in block and "ipykernel_launcher" not in block
    ]


# How Python ends a traceback that the next one in the output continues.
_CHAINED = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)


def log_since(server: RunningServer, since: int) -> str:
    """The server's output from line ``since`` on."""
    return "".join(server.output[since:])


def assert_clean_log(server: RunningServer, since: int = 0) -> None:
    """No server traceback and no ASGI error in the server's output (from line ``since``)."""
    assert server_tracebacks(server, since) == []
    log = log_since(server, since)
    assert "Error in ASGI" not in log
    assert "unhandled error" not in log
