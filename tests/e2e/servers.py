"""The server under test for the browser suite: modserver (default) or jupyter_server (reference).

``E2E_TARGET=jupyter`` starts ``jupyter lab`` from a reference install (``E2E_JUPYTER``, else
``.venv-ref/bin/jupyter`` in the checkout, else ``jupyter`` on PATH) so that every scenario can be
checked against real JupyterLab 4 / Notebook 7 on jupyter_server; anything else starts
``modserver run`` with all installed plugins, which must include the ``lab`` frontend plugin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import start_server
from tests.ports import free_port

TOKEN = "e2e-token-0123456789abcdef"
#: jupyter-collaboration's frontend (pip-installed by the e2e session). Most scenarios run with
#: it disabled, as ``jupyter labextension disable`` would; the collaboration scenarios, and
#: every scenario under ``E2E_COLLABORATION=all``, run with it on.
COLLABORATION_EXTENSIONS = ("@jupyter/docprovider-extension", "@jupyter/collaboration-extension")
REPO = Path(__file__).parents[2]
OPEN_LINE = re.compile(r"^\s*open: (http://\S+)", re.MULTILINE)


def target() -> str:
    """Which server the suite drives: ``modserver`` (default) or ``jupyter``."""
    return os.environ.get("E2E_TARGET", "modserver")


@dataclass
class LabServer:
    """A running server with a browser frontend, and the URL its startup message printed."""

    proc: subprocess.Popen[str]
    url: str  # root URL, ends with "/"
    open_url: str  # the URL a user opens first: logs in with the token
    root_dir: Path
    token: str
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        """Everything the server printed so far."""
        return "".join(self.output)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 20 s); kernels go with it."""
        if self.proc.poll() is None:
            # jupyter_server asks for confirmation on the first SIGINT; SIGTERM stops both servers.
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def isolated_env(scratch: Path) -> dict[str, str]:
    """Environment with the user's Jupyter and modserver state redirected into ``scratch``.

    Settings, workspaces, config and runtime files of one test never leak into another, nor
    into the developer's home folder.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODSERVER_", "JUPYTER"))}
    dirs = {
        "HOME": "home",  # whatever a server keeps under ~ (user settings, data) stays per test
        "JUPYTER_CONFIG_DIR": "jupyter-config",
        "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
        "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
        "MODSERVER_RUNTIME_DIR": "modserver-runtime",
    }
    for name, sub in dirs.items():
        path = scratch / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def collaboration_everywhere() -> bool:
    """True under ``E2E_COLLABORATION=all``: every scenario runs with real-time collaboration."""
    return os.environ.get("E2E_COLLABORATION") == "all"


def disable_collaboration(env: dict[str, str]) -> None:
    """Turn the collaboration labextensions off in this server's Jupyter config folder."""
    labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    disabled = {name: True for name in COLLABORATION_EXTENSIONS}
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": disabled}))


def server_env(scratch: Path, collaboration: bool) -> dict[str, str]:
    """The isolated environment, with the collaboration frontend on only if asked for."""
    env = isolated_env(scratch)
    if not (collaboration or collaboration_everywhere()):
        disable_collaboration(env)
    return env


def start_modserver(
    root_dir: Path, scratch: Path, *args: str, collaboration: bool = False, port: int = 0
) -> LabServer:
    """``modserver run --root-dir ROOT --set auth.token=... ARGS`` on ``port`` (0: a free
    one), all plugins.

    ``collaboration`` turns jupyter-collaboration's frontend on (see COLLABORATION_EXTENSIONS).
    """
    env = server_env(scratch, collaboration)
    env["MODSERVER_WARM_UP"] = "true"  # as users run it: the browser's first opens are timed
    runtime = scratch / "runtime"
    server = start_server(root_dir, *args, token=TOKEN, env=env, runtime_dir=runtime, port=port)
    match = OPEN_LINE.search(server.log())
    assert match, "modserver printed no startup URL:\n" + server.log()
    return LabServer(server.proc, server.url, match.group(1), root_dir, TOKEN, server.output)


def jupyter_command() -> str:
    """The reference ``jupyter`` executable (see the module docstring)."""
    explicit = os.environ.get("E2E_JUPYTER")
    if explicit:
        return explicit
    local = REPO / ".venv-ref" / "bin" / "jupyter"
    if local.exists():
        return str(local)
    found = shutil.which("jupyter")
    assert found, (
        "E2E_TARGET=jupyter needs jupyterlab and notebook installed (see docs/e2e-tests.md)"
    )
    return found


def wait_for_port(port: int, deadline: float) -> None:
    """Wait until something accepts connections on ``127.0.0.1:port``.

    jupyter_server prints its URL a moment before its socket accepts connections.
    """
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on port {port}") from None
            time.sleep(0.05)


def start_jupyter(root_dir: Path, scratch: Path, timeout: float = 60) -> LabServer:
    """``jupyter lab`` (jupyter_server with JupyterLab and Notebook 7) on a free port."""
    port = free_port()
    command = [
        jupyter_command(),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root_dir}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=server_env(scratch, collaboration=False),
        cwd=root_dir,
    )
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if f"http://127.0.0.1:{port}/" in line:
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1):
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("jupyter lab did not start:\n" + "".join(output))
    if proc.poll() is not None:
        raise AssertionError(f"jupyter lab exited ({proc.returncode}):\n" + "".join(output))
    wait_for_port(port, deadline)
    root = f"http://127.0.0.1:{port}/"
    # jupyter_server prints an explicitly set token as "...": rebuild the URL it stands for.
    return LabServer(proc, root, f"{root}lab?token={TOKEN}", root_dir, TOKEN, output)


def start(root_dir: Path, scratch: Path) -> LabServer:
    """Start the server the suite targets (see :func:`target`)."""
    if target() == "jupyter":
        return start_jupyter(root_dir, scratch)
    return start_modserver(root_dir, scratch)
