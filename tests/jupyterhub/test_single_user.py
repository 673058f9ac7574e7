"""modserver as a JupyterHub single-user server, against a real hub and proxy.

One hub for the module (starting it and a server takes a while): alice logs in at the
hub, spawns her server (``python -m modserver.cli run``), opens her lab through the
hub's OAuth flow and runs code over the kernel WebSocket through the proxy; bob is
refused; the hub hears of alice's activity; stopping her server from the hub stops
modserver and its kernel. The tests run in file order: the last one stops the server.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.jupyterhub.hub import (
    WAIT,
    Hub,
    cookie,
    hub_xsrf_headers,
    json_of,
    login,
    start_hub,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    running = start_hub(tmp_path_factory.mktemp("hub"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def alice(hub: Hub) -> Iterator[httpx.Client]:
    """alice, logged in at the hub, with her server started and ready."""
    client = login(hub, "alice")
    response = client.post("hub/api/users/alice/server", headers=hub_xsrf_headers(client))
    assert response.status_code in (201, 202), response.text

    def ready() -> bool | None:
        server = hub.server("alice")
        assert hub.process.poll() is None, hub.log()
        return True if server and server.get("ready") else None

    wait_for("alice's server to be ready", ready)
    yield client
    client.close()


@pytest.fixture
def alice_at_her_server(alice: httpx.Client) -> httpx.Client:
    """alice, also logged in to her server (the hub's OAuth done), as after opening her lab.

    So that a test does not depend on an earlier one having opened the lab.
    """
    page = open_lab(alice, "alice")
    assert page.status_code == 200, [str(r.url) for r in [*page.history, page]]
    return alice


def open_lab(client: httpx.Client, user: str) -> httpx.Response:
    """Load ``/user/<user>/lab`` as a browser does, following every redirect."""
    return client.get(
        f"user/{user}/lab", headers={"Sec-Fetch-Mode": "navigate"}, follow_redirects=True
    )


def execute(hub: Hub, client: httpx.Client, kernel_id: str, code: str) -> str:
    """Run ``code`` over the kernel WebSocket through the proxy; its stdout."""
    ws_url = hub.url.replace("http://", "ws://") + f"user/alice/api/kernels/{kernel_id}/channels"
    session = uuid.uuid4().hex
    cookies = "; ".join(
        f"{c.name}={c.value}" for c in client.cookies.jar if c.path.startswith("/user/alice")
    )
    msg_id = uuid.uuid4().hex
    request = {
        "header": {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "alice",
            "session": session,
            "version": "5.3",
            "date": datetime.now().astimezone().isoformat(),
        },
        "parent_header": {},
        "metadata": {},
        "content": {"code": code, "silent": False, "store_history": False},
        "channel": "shell",
        "buffers": [],
    }
    output = []
    with connect(
        f"{ws_url}?session_id={session}",
        additional_headers={"Cookie": cookies},
        origin=hub.url.rstrip("/"),  # type: ignore[arg-type]
        open_timeout=WAIT,
    ) as ws:
        ws.send(json.dumps(request))
        while True:
            message: dict[str, Any] = json.loads(ws.recv(timeout=WAIT))
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["header"]["msg_type"]
            if kind == "stream":
                output.append(message["content"]["text"])
            elif kind == "error":
                raise AssertionError(message["content"])
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                return "".join(output)


def start_kernel(client: httpx.Client) -> str:
    response = client.post(
        "user/alice/api/kernels",
        json={"name": "python3"},
        headers={"X-XSRFToken": cookie(client, "_xsrf", "/user/alice/")},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_alice_opens_her_lab_through_the_hub_login_and_runs_code(hub: Hub, alice: httpx.Client):
    # A client of her own: its first visit goes through the OAuth dance, whatever ran before.
    browser = login(hub, "alice")
    try:
        opens_lab_and_runs_code(hub, browser)
    finally:
        browser.close()


def opens_lab_and_runs_code(hub: Hub, alice: httpx.Client) -> None:
    """alice's first visit to her lab goes through the hub's OAuth; then she runs code."""
    page = open_lab(alice, "alice")
    assert page.status_code == 200, [str(r.url) for r in [*page.history, page]]
    assert page.url.path == "/user/alice/lab"
    assert "jupyter-config-data" in page.text
    # JupyterLab's hub extension (Hub Control Panel, Log Out) learns where the hub is.
    assert re.search(r'"hubUser":\s*"alice"', page.text)
    assert re.search(r'"hubPrefix":\s*"/hub/"', page.text)
    # The lab came through the hub's OAuth authorization and our callback.
    hops = [str(r.url) for r in page.history]
    assert any("/hub/api/oauth2/authorize" in hop for hop in hops), hops
    assert any("/user/alice/oauth_callback" in hop for hop in hops), hops

    kernel_id = start_kernel(alice)
    assert execute(hub, alice, kernel_id, "print(6*7)") == "42\n"
    # The server's hub token (its OAuth client secret) is not handed to user code.
    seen = execute(hub, alice, kernel_id, "import os; print(sorted(os.environ))")
    assert "JUPYTERHUB_USER" in seen
    assert "JUPYTERHUB_API_TOKEN" not in seen and "JPY_API_TOKEN" not in seen


def test_cookie_requests_a_foreign_page_could_forge_are_refused(
    hub: Hub, alice_at_her_server: httpx.Client
):
    alice = alice_at_her_server
    # No X-XSRFToken header: a form posted by another site would look like this.
    response = alice.post("user/alice/api/kernels", json={"name": "python3"})
    assert response.status_code == 403
    assert "_xsrf" in response.json()["message"]
    kernel_id = start_kernel(alice)
    cookies = "; ".join(
        f"{c.name}={c.value}" for c in alice.cookies.jar if c.path.startswith("/user/alice")
    )
    ws_url = hub.url.replace("http://", "ws://") + f"user/alice/api/kernels/{kernel_id}/channels"
    with pytest.raises(InvalidStatus) as refused:
        connect(
            ws_url,
            additional_headers={"Cookie": cookies},
            origin="http://evil.example",  # type: ignore[arg-type]
            open_timeout=WAIT,
        )
    assert refused.value.response.status_code == 403


def test_me_is_the_hub_user_with_groups(alice_at_her_server: httpx.Client):
    response = alice_at_her_server.get(
        "user/alice/api/me", params={"permissions": json.dumps({"kernels": ["execute"]})}
    )
    body = json_of(response)
    assert body["identity"]["username"] == "alice"
    assert body["identity"]["groups"] == ["team"]
    assert body["permissions"]["kernels"] == ["execute"]


def test_a_hub_token_of_alice_is_accepted_in_the_authorization_header(
    hub: Hub, alice: httpx.Client
):
    created = alice.post("hub/api/users/alice/tokens", json={}, headers=hub_xsrf_headers(alice))
    token = json_of(created)["token"]
    response = httpx.get(
        f"{hub.url}user/alice/api/contents", headers={"Authorization": f"token {token}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "directory"


def test_a_token_revoked_at_the_hub_stops_working(hub: Hub, alice: httpx.Client):
    created = json_of(
        alice.post("hub/api/users/alice/tokens", json={}, headers=hub_xsrf_headers(alice))
    )
    headers = {"Authorization": f"token {created['token']}"}
    contents = f"{hub.url}user/alice/api/contents"
    assert httpx.get(contents, headers=headers).status_code == 200
    revoked = alice.delete(
        f"hub/api/users/alice/tokens/{created['id']}", headers=hub_xsrf_headers(alice)
    )
    assert revoked.status_code == 204, revoked.text
    # The server trusts the hub's answer for jupyterhub.token_check_interval (2 s here).
    wait_for(
        "the revoked token to be refused",
        lambda: True if httpx.get(contents, headers=headers).status_code == 401 else None,
    )


def test_bob_is_refused_alices_server(hub: Hub, alice: httpx.Client):
    bob = login(hub, "bob")
    try:
        # In a browser: the hub's OAuth authorization refuses bob for alice's server.
        assert open_lab(bob, "alice").status_code == 403
        # With a token of his own: alice's server asks the hub whose it is, and refuses.
        created = bob.post("hub/api/users/bob/tokens", json={}, headers=hub_xsrf_headers(bob))
        token = json_of(created)["token"]
        response = httpx.get(
            f"{hub.url}user/alice/api/contents", headers={"Authorization": f"token {token}"}
        )
        assert response.status_code == 403
        assert "bob" in response.json()["message"]
    finally:
        bob.close()


def test_the_hub_sees_alices_activity(hub: Hub, alice_at_her_server: httpx.Client):
    before = hub.server("alice")
    assert before is not None
    assert alice_at_her_server.get("user/alice/api/contents").status_code == 200

    def newer() -> str | None:
        server = hub.server("alice")
        latest = server and server.get("last_activity")
        return latest if latest and latest > before["last_activity"] else None

    wait_for("alice's server to report activity", newer)


def test_logout_forgets_the_login_and_logs_out_of_the_hub(hub: Hub):
    carol = login(hub, "carol")
    try:
        response = carol.post("hub/api/users/carol/server", headers=hub_xsrf_headers(carol))
        assert response.status_code in (201, 202), response.text
        wait_for(
            "carol's server to be ready",
            lambda: True if (hub.server("carol") or {}).get("ready") else None,
        )
        assert open_lab(carol, "carol").status_code == 200
        response = carol.get("user/carol/logout", follow_redirects=True)
        assert response.url.path.startswith("/hub/login")
        gone = carol.get("user/carol/api/contents", headers={"Accept": "application/json"})
        assert gone.status_code == 401
    finally:
        carol.close()
        hub.api("DELETE", "users/carol/server")


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" not in status.read_text()
    except FileNotFoundError:
        return False


def test_stopping_the_server_from_the_hub_stops_modserver_and_its_kernel(
    hub: Hub, alice: httpx.Client
):
    kernel_id = start_kernel(alice)
    pids = execute(hub, alice, kernel_id, "import os; print(os.getpid(), os.getppid())")
    kernel_pid, server_pid = (int(p) for p in pids.split())
    assert alive(kernel_pid) and alive(server_pid)

    response = hub.api("DELETE", "users/alice/server")
    assert response.status_code in (202, 204), response.text
    wait_for(
        "the hub to see alice's server stopped",
        lambda: True if hub.server("alice") is None else None,
    )
    wait_for("modserver to exit", lambda: None if alive(server_pid) else True)
    wait_for("the kernel to exit", lambda: None if alive(kernel_pid) else True)
    log = hub.log()
    # The spawner's interrupt was enough: modserver shut down its plugins and kernels.
    assert "received SIGINT, shutting down" in log
    assert "shutting down plugins" in log
    assert "Traceback" not in log
