"""The public ``Kernels`` service as a plugin calls it, on a running app with real kernels.

A probe plugin, installed through an entry point as a third-party plugin would be, takes
``Kernels`` from its context and uses ``subscribe``/``send`` directly. The same app serves
real kernel WebSockets, which go through that service too: sessions, connection counts
and the messages kept for a session that went away are shared by both.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import anyio
import pytest
from modserver import Plugin
from modserver.api.kernels import KernelMessage, KernelNotFound, Kernels
from modserver.app import assemble, build, server_of
from modserver.plugins import ENTRY_POINT_GROUP, InstalledPlugin, discover
from modserver.settings import CORE, gather

from tests.conftest import TOKEN, InProcessServer
from tests.gate import Gate
from tests.kernels.wsclient import KernelSocket, types
from tests.kernels.wsclient import stdout as ws_stdout

# The file takes ~7 s in all: it starts first (see pytest_collection_modifyitems).
pytestmark = pytest.mark.slow


class Probe(Plugin):
    """A plugin that talks to kernels only through the public service."""

    name = "probe"
    requires = (Kernels,)


probe = Probe()


@contextmanager
def serve_with_probe(base: Path, *settings: tuple[str, str, Any]) -> Iterator[InProcessServer]:
    """The kernels plugin and the probe in one app on a loopback port, while the block runs.

    ``settings`` are ``(section, key, value)``, e.g. ``("kernels", "gateway_url", url)``.
    """
    root = base / "root"
    root.mkdir()
    installed = discover()
    entry_point = EntryPoint("probe", f"{__name__}:probe", ENTRY_POINT_GROUP)
    installed["probe"] = InstalledPlugin("probe", entry_point)
    raw = gather(env={})
    raw.set(CORE, "root_dir", str(root), "test")
    raw.set(CORE, "runtime_dir", str(base / "runtime"), "test")
    raw.set(CORE, "plugins", ["auth", "kernels", "probe"], "test")
    raw.set("auth", "token", TOKEN, "test")
    for section, key, value in settings:
        raw.set(section, key, value, "test")
    app = assemble(build(raw, installed), manage_lifespan=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_RUNTIME_DIR", str(base / "jupyter-runtime"))
        running = InProcessServer(root, TOKEN, {}, app=app)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with serve_with_probe(tmp_path_factory.mktemp("service")) as running:
        yield running


def kernels_of(server: InProcessServer) -> Kernels:
    """The service exactly as the probe plugin gets it from its context."""
    return server_of(server.app).contexts["probe"].services.get(Kernels)


@pytest.fixture
def kernel_id(server: InProcessServer) -> Iterator[str]:
    with server.client() as client:
        model = client.post("api/kernels", json={"name": "python3"}).json()
    yield model["id"]
    with server.client() as client:
        client.delete(f"api/kernels/{model['id']}")


def kernel_model(server: InProcessServer, kernel_id: str) -> dict[str, Any]:
    with server.client() as client:
        return dict(client.get(f"api/kernels/{kernel_id}").json())


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def execute_request(code: str, session: str) -> KernelMessage:
    """An ``execute_request`` as a plugin builds it: raw JSON bodies, parsed header."""
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": "execute_request",
        "username": "probe",
        "session": session,
        "date": "2026-01-01T00:00:00Z",
        "version": "5.3",
    }
    content = {"code": code, "silent": False, "store_history": False, "allow_stdin": False}
    return KernelMessage("shell", header, {}, content=json.dumps(content).encode())


@dataclass
class Inbox:
    """What one listener received: ``started`` once the request ``msg_id`` runs (its
    ``execute_input``), ``done`` once it finished (its reply and the idle status)."""

    msg_id: str = ""
    messages: list[KernelMessage] = field(default_factory=list)
    closed: int = 0
    started: anyio.Event = field(default_factory=anyio.Event)
    done: anyio.Event = field(default_factory=anyio.Event)
    _replied: bool = False
    _idle: bool = False

    def __call__(self, message: KernelMessage) -> None:
        self.messages.append(message)
        if message.parent_header.get("msg_id") != self.msg_id:
            return
        if message.msg_type == "execute_input":
            self.started.set()
        if message.msg_type == "execute_reply":
            self._replied = True
        if message.msg_type == "status" and b'"idle"' in message.content:
            self._idle = True
        if self._replied and self._idle:
            self.done.set()

    def on_close(self) -> None:
        self.closed += 1

    def of(self, msg_id: str) -> list[KernelMessage]:
        return [m for m in self.messages if m.parent_header.get("msg_id") == msg_id]


def stdout(messages: list[KernelMessage]) -> str:
    return "".join(
        m.content_json()["text"]
        for m in messages
        if m.msg_type == "stream" and m.channel == "iopub"
    )


def test_a_plugin_starts_a_kernel_and_runs_code_at_once_replies_reach_its_session_only(
    server: InProcessServer,
) -> None:
    kernels = kernels_of(server)

    async def scenario() -> tuple[Inbox, Inbox, str]:
        # Sent right after the start, before the kernel answers: the request waits.
        model = await kernels.start("python3")
        mine, other = Inbox(), Inbox()
        request = execute_request("print('from a plugin')", "probe-session")
        mine.msg_id = other.msg_id = request.header["msg_id"]
        stop_mine = kernels.subscribe(model["id"], mine, session="probe-session")
        stop_other = kernels.subscribe(model["id"], other, session="someone-else")
        try:
            await kernels.send(model["id"], request, session="probe-session")
            with anyio.fail_after(60):
                await mine.done.wait()
        finally:
            stop_mine()
            stop_other()
            await kernels.shutdown(model["id"])
        return mine, other, request.header["msg_id"]

    mine, other, msg_id = server.call(scenario)
    assert stdout(mine.of(msg_id)) == "from a plugin\n"
    reply = next(m for m in mine.of(msg_id) if m.msg_type == "execute_reply")
    assert reply.channel == "shell" and reply.content_json()["status"] == "ok"
    # Another session sees the kernel's output (iopub) but never this request's reply.
    assert "stream" in [m.msg_type for m in other.of(msg_id)]
    assert "execute_reply" not in [m.msg_type for m in other.of(msg_id)]


def test_a_connection_subscriber_counts_in_the_kernel_model_and_a_listener_does_not(
    server: InProcessServer, kernel_id: str
) -> None:
    kernels = kernels_of(server)
    listen = server.call(lambda: kernels.subscribe(kernel_id, Inbox(), session="a"))
    assert kernel_model(server, kernel_id)["connections"] == 0
    connect = server.call(
        lambda: kernels.subscribe(kernel_id, Inbox(), session="b", connection=True)
    )
    assert kernel_model(server, kernel_id)["connections"] == 1
    ws = KernelSocket.open(server, kernel_id, "v1")
    try:
        wait_for(lambda: kernel_model(server, kernel_id)["connections"] == 2)
    finally:
        ws.close()
    wait_for(lambda: kernel_model(server, kernel_id)["connections"] == 1)
    server.call(connect)
    server.call(listen)
    assert kernel_model(server, kernel_id)["connections"] == 0


def test_a_websocket_receives_the_replies_to_what_a_plugin_sent_for_its_session(
    server: InProcessServer, kernel_id: str
) -> None:
    kernels = kernels_of(server)
    ws = KernelSocket.open(server, kernel_id, "legacy")
    try:
        request = execute_request("print(6 * 7)", ws.session)
        # No session argument: replies go to the session the request's header names.
        server.call(lambda: kernels.send(kernel_id, request))
        messages = ws.collect(request.header["msg_id"])
    finally:
        ws.close()
    assert "execute_reply" in types(messages)
    assert ws_stdout(messages) == "42\n"


def test_a_plugin_listener_of_a_websockets_session_gets_the_replies_to_its_requests(
    server: InProcessServer, kernel_id: str
) -> None:
    kernels = kernels_of(server)
    inbox = Inbox()
    ws = KernelSocket.open(server, kernel_id, "v1")
    stop = server.call(lambda: kernels.subscribe(kernel_id, inbox, session=ws.session))
    try:
        inbox.msg_id = ws.execute("print('typed in a browser')")
        ws.collect(inbox.msg_id)
        wait_for(inbox.done.is_set)
    finally:
        server.call(stop)
        ws.close()
    assert stdout(inbox.of(inbox.msg_id)) == "typed in a browser\n"
    assert "execute_reply" in [m.msg_type for m in inbox.of(inbox.msg_id)]


def test_what_a_connection_misses_is_replayed_to_a_websocket_of_its_session(
    server: InProcessServer, kernel_id: str, tmp_path: Path
) -> None:
    kernels = kernels_of(server)
    gate = Gate(tmp_path)
    request = execute_request(gate.wait() + "print('while away')", "hop")
    inbox = Inbox(msg_id=request.header["msg_id"])

    async def start_then_leave() -> None:
        stop = kernels.subscribe(kernel_id, inbox, session="hop", connection=True)
        await kernels.send(kernel_id, request, session="hop")
        with anyio.fail_after(60):
            await inbox.started.wait()
        stop()  # the last connection of "hop" goes: its messages are kept from now on

    server.call(start_then_leave)
    gate.open()  # the cell prints only now, when "hop" has no connection left
    wait_for(lambda: kernel_model(server, kernel_id)["execution_state"] == "idle")
    assert "execute_reply" not in [m.msg_type for m in inbox.messages]
    back = KernelSocket.open(server, kernel_id, "v1", session="hop")
    try:
        replayed = back.collect(request.header["msg_id"], timeout=10)
    finally:
        back.close()
    assert ws_stdout(replayed) == "while away\n"
    assert "execute_reply" in types(replayed)


def test_what_a_websocket_misses_is_replayed_to_a_plugin_connection_of_its_session(
    server: InProcessServer, kernel_id: str, tmp_path: Path
) -> None:
    kernels = kernels_of(server)
    gate = Gate(tmp_path)
    ws = KernelSocket.open(server, kernel_id, "legacy", session="tab")
    msg_id = ws.execute(gate.wait() + "print('kept for you')")
    ws.until(lambda m: m["header"]["msg_type"] == "execute_input")
    ws.close()
    wait_for(lambda: kernel_model(server, kernel_id)["connections"] == 0)
    gate.open()  # the cell prints only now, with no WebSocket of "tab" left
    wait_for(lambda: kernel_model(server, kernel_id)["execution_state"] == "idle")
    inbox = Inbox(msg_id=msg_id)

    def resubscribe() -> int:
        stop = kernels.subscribe(kernel_id, inbox, session="tab", connection=True)
        delivered = len(inbox.messages)  # replayed before subscribe returned
        stop()
        return delivered

    assert server.call(resubscribe) > 0
    assert inbox.done.is_set()
    assert stdout(inbox.of(msg_id)) == "kept for you\n"


def test_a_shut_down_kernel_closes_its_subscribers_and_refuses_more(
    server: InProcessServer,
) -> None:
    kernels = kernels_of(server)
    with server.client() as client:
        kernel_id = client.post("api/kernels", json={"name": "python3"}).json()["id"]
    inbox = Inbox()
    server.call(lambda: kernels.subscribe(kernel_id, inbox, on_close=inbox.on_close))
    with server.client() as client:
        assert client.delete(f"api/kernels/{kernel_id}").status_code == 204
    assert inbox.closed == 1

    async def send_after_shutdown() -> None:
        await kernels.send(kernel_id, execute_request("1", "late"))

    with pytest.raises(KernelNotFound):
        server.call(send_after_shutdown)
    with pytest.raises(KernelNotFound):
        server.call(lambda: kernels.subscribe(kernel_id, Inbox()))
