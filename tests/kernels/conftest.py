"""Fixtures for the kernels tests: one server per module where tests allow it.

Kernel starts are slow, so most tests share a module-scoped server (in the test process)
and start the kernels they need; tests of the server process itself (its descriptors, its
log, its stop) use the real ``modserver run``. ``install_tiny_kernelspec`` installs a
minimal kernelspec ("tiny") for tests that start many kernels, and "unlucky", the same
kernel losing its shell port to another process on its first start.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, serve_in_process, start_server

HERE = Path(__file__).parent


def install_tiny_kernelspec(data_dir: Path) -> dict[str, str]:
    """Write the "tiny" kernelspec under ``data_dir``; returns the env that finds it."""
    spec_dir = data_dir / "kernels" / "tiny"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, str(HERE / "tiny_kernel.py"), "-f", "{connection_file}"],
        "display_name": "Tiny",
        "language": "text",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    (spec_dir / "logo-64x64.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (spec_dir.parent / "secret.txt").write_text("outside the spec folder")
    broken = data_dir / "kernels" / "broken"
    broken.mkdir(exist_ok=True)
    argv = ["/nonexistent/kernel-binary", "-f", "{connection_file}"]
    (broken / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Broken", "language": "text"})
    )
    unlucky = data_dir / "kernels" / "unlucky"
    unlucky.mkdir(exist_ok=True)
    marker = str(data_dir / "unlucky-port-holder.pid")
    argv = [*spec["argv"], "--lose-port-once", marker]
    (unlucky / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Unlucky", "language": "text"})
    )
    return {"JUPYTER_PATH": str(data_dir)}


def start_kernels_server(
    tmp_path_factory: pytest.TempPathFactory,
    *args: str,
    name: str = "kernels",
    in_process: bool = False,
) -> RunningServer:
    """A server with the kernels plugin (and auth), the tiny kernelspec installed: the real
    ``modserver run``, or an app in the test process (``in_process``)."""
    base = tmp_path_factory.mktemp(name)
    root = base / "root"
    root.mkdir()
    (root / "sub" / "deeper").mkdir(parents=True)
    env = install_tiny_kernelspec(base / "data")
    if in_process:
        return serve_in_process(root, *args, plugins="kernels", env=env)
    return start_server(root, *args, plugins="kernels", env=env)


@pytest.fixture(scope="module")
def kernel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """An in-process server shared by the tests of one module (quick auto-restart checks)."""
    server = start_kernels_server(
        tmp_path_factory, "--set", "kernels.restart_poll_interval=0.2", in_process=True
    )
    yield server
    server.stop()
