"""JupyterLab's ``TerminalManager`` (``@jupyterlab/services``) against the terminals plugin."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import start_server
from tests.jsclient.test_jupyterlab_services import HERE, js_packages
from tests.npm import tool

__all__ = ["js_packages"]  # the fixture, used by name


def test_a_terminal_through_jupyterlab_services(js_packages: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    shell = json.dumps(["/bin/sh"])
    server = start_server(root, "--set", f"terminals.shell_command={shell}", plugins="terminals")
    try:
        result = subprocess.run(
            [tool("node"), str(HERE / "terminal.mjs"), server.url, server.token],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr + result.stdout + server.log()
        seen = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        server.stop()
    assert seen["echoed"] is True
    assert seen["running"] == [seen["name"]]
    assert seen["messageTypes"] == ["stdout"]
    assert seen["runningAfterExit"] == 0
