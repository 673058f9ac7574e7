"""Shared test fixtures: the servers tests talk to (see docs/testing.md).

``start_server`` runs the real ``modserver run`` in a subprocess on a free port, for what
only the process shows (output, signals, exit codes, environment, kernels' descriptors);
``serve_in_process`` runs an app made by ``create_app`` inside the test process, for
what a user sees over HTTP, in milliseconds; ``start_embed_host`` serves modserver
mounted in a host app under hypercorn or uvicorn.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

TOKEN = "test-token-0123456789abcdef"
URL_LINE = re.compile(r"modserver is listening on (http://\S+)")
#: One TLS context for every test client of a real server. The servers under test speak
#: plain HTTP, but httpx builds a context (loading the CA bundle, ~25 ms of CPU) for each
#: new client that has no transport of its own.
TLS = ssl.create_default_context()


@dataclass
class RunningServer:
    """A ``modserver run`` subprocess and how to talk to it."""

    proc: subprocess.Popen[str]
    url: str  # root URL including base_url, ends with "/"
    root_dir: Path
    token: str
    output: list[str] = field(default_factory=list)

    def client(self, *, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An HTTP client on the server's root URL, authenticated with the token by default."""
        headers = dict(kwargs.pop("headers", {}))
        use = self.token if token is None else token
        if use:
            headers.setdefault("Authorization", f"token {use}")
        kwargs.setdefault("verify", TLS)
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def ws_url(self, path: str) -> str:
        """``ws://`` URL of ``path`` (relative to the root URL)."""
        return self.url.replace("http://", "ws://", 1) + path.lstrip("/")

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the server and wait for it to exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop in time:\n" + self.log()) from None
        return self.proc.returncode

    def log(self) -> str:
        return "".join(self.output)


def start_server(
    root_dir: Path,
    *args: str,
    plugins: str | None = None,
    token: str = TOKEN,
    env: dict[str, str] | None = None,
    runtime_dir: Path | None = None,
    timeout: float = 30,
    port: int | None = 0,
) -> RunningServer:
    """Start ``modserver run`` (default: on a free loopback port) and wait until it listens.

    ``port=None`` leaves the port unset, so the server picks 8888 or the next free one.
    """
    command = [sys.executable, "-m", "modserver.cli", "run", "--root-dir", str(root_dir)]
    if port is not None:
        command += ["--port", str(port)]
    if plugins is not None:
        command += ["--plugins", plugins]
    if token:
        command += ["--set", f"auth.token={token}"]
    command += list(args)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    scratch = runtime_dir or root_dir.parent / f".runtime-{root_dir.name}"
    full_env.update(
        {
            "MODSERVER_RUNTIME_DIR": str(scratch),
            "JUPYTER_RUNTIME_DIR": str(scratch / "jupyter"),
            "PYTHONUNBUFFERED": "1",
            # Most test servers live a few seconds: the warm-ups' ~0.4 CPU-s each would
            # only compete with the tests. Tests of the warm-ups turn them back on.
            "MODSERVER_WARM_UP": "false",
        }
    )
    full_env.update(env or {})
    return launch(command, root_dir, token, env=full_env, timeout=timeout)


def launch(
    command: list[str], root_dir: Path, token: str, *, env: dict[str, str], timeout: float = 30
) -> RunningServer:
    """Run ``command``, a modserver serving ``root_dir``, until it announces its URL.

    Fails with the server's output if it exits or does not announce in time.
    """
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=root_dir,
    )
    output: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            match = URL_LINE.search(line)
            if match and not url:
                url.append(match.group(1))
            # The announcement ends with this line: by then the whole of it is in ``output``.
            if url and line.startswith("Press Ctrl+C"):
                found.set()
        found.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found.wait(0.05):
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("server did not start:\n" + "".join(output))
    if not url:
        proc.wait(5)
        raise AssertionError(f"server exited ({proc.returncode}):\n" + "".join(output))
    return RunningServer(proc, url[0], root_dir, token, output)


class InProcessServer(RunningServer):
    """A modserver app made by ``create_app`` and run inside the test process.

    Its lifespan runs in a background event loop (an anyio blocking portal). ``client()``
    calls the app through ``httpx.ASGITransport``, without sockets; the app also listens
    on a loopback port through hypercorn, so ``url`` and ``ws_url`` work for raw HTTP
    and WebSocket clients. ``output`` collects the ``modserver`` log records. There is
    no process: ``proc`` is None and ``stop()`` returns 0 once the lifespan has ended.
    ``env`` goes into the test process's environment until the app stops (where the
    app and its kernels look up kernelspecs or labextensions): one such app at a time.
    """

    def __init__(
        self,
        root_dir: Path,
        token: str,
        settings: dict[str, Any],
        env: dict[str, str] | None = None,
        app: Any = None,
    ) -> None:
        """Serve ``app`` if given (e.g. with test plugins), else ``create_app(settings)``."""
        import anyio
        from anyio.from_thread import start_blocking_portal
        from hypercorn.asyncio import serve
        from hypercorn.config import Config
        from modserver import create_app, lifespan_of
        from modserver.app import server_of

        self._stack = ExitStack()
        output: list[str] = []
        try:
            if env:
                self._stack.enter_context(_environment(env))
            handler = _ListHandler(output)
            logger = logging.getLogger("modserver")
            logger.addHandler(handler)
            self._stack.callback(logger.removeHandler, handler)
            self.app = app or create_app(settings=settings, use_env=False, manage_lifespan=False)
            self._portal = self._stack.enter_context(start_blocking_portal())
            self._stack.enter_context(
                self._portal.wrap_async_context_manager(lifespan_of(self.app))
            )
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            port = sock.getsockname()[1]
            config = Config()
            config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) it now
            config.accesslog = None
            config.errorlog = logging.getLogger("hypercorn.error")
            config.graceful_timeout = 2
            stopped = self._portal.call(anyio.Event)
            serving = self._portal.start_task_soon(
                partial(serve, self.app, config, shutdown_trigger=stopped.wait)  # type: ignore[arg-type]
            )

            control = server_of(self.app).control

            def stop_serving() -> None:
                # As `modserver run` does on SIGTERM: plugins close their WebSockets at
                # once, instead of hypercorn waiting for them until its graceful timeout.
                self._portal.call(control.notify_stopping)
                self._portal.call(stopped.set)
                serving.result(30)

            self._stack.callback(stop_serving)
        except BaseException:
            self._stack.close()
            raise
        base_url = str(settings.get("base_url", "/"))
        super().__init__(
            None,  # type: ignore[arg-type]
            f"http://127.0.0.1:{port}{base_url}",
            root_dir,
            token,
            output,
        )

    def client(self, *, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An HTTP client that calls the app in-process (no socket), authenticated with the
        token by default; cookies, redirects and headers behave as over the network."""
        headers = dict(kwargs.pop("headers", {}))
        use = self.token if token is None else token
        if use:
            headers.setdefault("Authorization", f"token {use}")
        transport = _PortalTransport(self._portal, self.app)
        kwargs.setdefault("verify", TLS)
        return httpx.Client(
            base_url=self.url, headers=headers, timeout=30, transport=transport, **kwargs
        )

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func(*args)`` (sync or async) in the app's event loop; its result."""
        return self._portal.call(func, *args)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Stop listening and end the app's lifespan (plugins stop in reverse order)."""
        self._stack.close()
        return 0


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """Set ``env`` in ``os.environ``, then put back what was there."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _ListHandler(logging.Handler):
    """Collects formatted log records, as a server's output would show them."""

    def __init__(self, output: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.output = output
        self.setFormatter(logging.Formatter("[%(levelname).1s %(name)s] %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.output.append(self.format(record) + "\n")


class _PortalTransport(httpx.BaseTransport):
    """A sync httpx transport that runs ``httpx.ASGITransport`` in the app's event loop.

    The app runs exactly as under a server: one event loop (the portal's) for the
    lifespan and every request, and errors come back as responses (500), not exceptions.
    """

    def __init__(self, portal: Any, app: Any) -> None:
        self.portal = portal
        self.inner = httpx.ASGITransport(
            app=app, raise_app_exceptions=False, client=("127.0.0.1", 54321)
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # the body as bytes, which the ASGI transport reads asynchronously

        async def call() -> tuple[int, httpx.Headers, bytes]:
            response = await self.inner.handle_async_request(request)
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            return response.status_code, response.headers, raw

        status, headers, raw = self.portal.call(call)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(raw))


def serve_in_process(
    root_dir: Path,
    *args: str,
    plugins: str | None = None,
    token: str = TOKEN,
    env: dict[str, str] | None = None,
) -> InProcessServer:
    """Like ``start_server`` but in the test process (see ``InProcessServer``).

    ``args`` take the command line's ``--set SECTION.KEY=VALUE``, ``--base-url`` and
    ``--log-level``. For tests of what a user sees over HTTP; the real ``modserver run``
    (signals, printed URL, exit codes, environment) needs ``start_server``.
    """
    settings: dict[str, Any] = {
        "root_dir": str(root_dir),
        "runtime_dir": str(root_dir.parent / f".runtime-{root_dir.name}"),
        "warm_up": False,  # as start_server
    }
    if plugins is not None:
        settings["plugins"] = [name for name in plugins.split(",") if name]
    sets = list(args)
    if token:
        sets[:0] = ["--set", f"auth.token={token}"]
    flags = {"--base-url": "base_url", "--log-level": "log_level"}
    while sets:
        flag, value = sets.pop(0), sets.pop(0)
        if flag in flags:
            settings[flags[flag]] = value
            continue
        assert flag == "--set", f"serve_in_process does not take {flag}"
        dotted, _, text = value.partition("=")
        section, _, key = dotted.rpartition(".")
        parsed = _setting_value(text)
        if section:
            settings.setdefault(section, {})[key] = parsed
        else:
            settings[key] = parsed
    return InProcessServer(root_dir, token, settings, env)


def _setting_value(text: str) -> Any:
    """As the command line reads ``--set`` values: JSON for lists, objects and literals."""
    if text[:1] in '[{"' or text in ("true", "false", "null"):
        return json.loads(text)
    return text


def pytest_configure(config: pytest.Config) -> None:
    """Keep the servers under test out of the developer's own JupyterLab folders.

    Without a setting, the lab plugin keeps users' settings and workspaces where JupyterLab
    does (``~/.jupyter/lab``): tests that save workspaces or switch labextensions off (the
    conformance fuzzing does) would write there. Tests that care set their own folders.

    Also spares each test process jsonschema's IRI grammar (~1.8 CPU-s), as the server's
    late imports do: test modules import nbformat (and so jsonschema) directly. And keeps
    the files' order under pytest-xdist (below).
    """
    from modserver.imports import defer_iri_grammar

    defer_iri_grammar()
    # pytest-xdist hands out files with the most tests first, which sent the one-test
    # conformance file (~14 s) last, to a worker the other then waited for: keep the order
    # that pytest_collection_modifyitems gives instead (long files first).
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    scratch = Path(tempfile.mkdtemp(prefix="modserver-tests-lab-"))
    os.environ.setdefault("JUPYTERLAB_SETTINGS_DIR", str(scratch / "user-settings"))
    os.environ.setdefault("JUPYTERLAB_WORKSPACES_DIR", str(scratch / "workspaces"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run files that hold a test marked ``slow`` first, keeping every file's tests together.

    With parallel workers (``--dist loadfile``) the long files then start at once
    instead of finishing last on one worker while the other waits.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
    # schemathesis gives every operation of a test the test's own node id; pytest-xdist
    # schedules by node id and would run one operation per test. Make each id unique,
    # as pytest would for a parametrized test: "test_x[GET /api/contents/{path}]".
    from _pytest.nodeid import NodeId

    ids = [item.nodeid for item in items]
    for item in items:
        if ids.count(item.nodeid) > 1 and item.parent is not None:
            item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")  # type: ignore[attr-defined]


@pytest.fixture
def root_dir(tmp_path: Path) -> Path:
    """An empty folder to serve."""
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def app_factory(root_dir: Path) -> Iterator[Callable[..., InProcessServer]]:
    """Like ``server_factory``, but each app runs in the test process (``serve_in_process``)."""
    started: list[InProcessServer] = []

    def factory(*args: str, **kwargs: Any) -> InProcessServer:
        kwargs.setdefault("root_dir", root_dir)
        server = serve_in_process(kwargs.pop("root_dir"), *args, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in reversed(started):
        server.stop()


@pytest.fixture(scope="module")
def module_apps(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., InProcessServer]]:
    """In-process apps shared by every test of a module (each gets its own root folder)."""
    started: list[InProcessServer] = []

    def factory(*args: str, **kwargs: Any) -> InProcessServer:
        root = tmp_path_factory.mktemp("root")
        server = serve_in_process(root, *args, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in reversed(started):
        server.stop()


@pytest.fixture
def server_factory(root_dir: Path) -> Iterator[Callable[..., RunningServer]]:
    """Start servers on demand; every one is stopped after the test."""
    started: list[RunningServer] = []

    def factory(*args: str, **kwargs: Any) -> RunningServer:
        kwargs.setdefault("root_dir", root_dir)
        server = start_server(kwargs.pop("root_dir"), *args, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


ASGI_SERVERS = ["hypercorn", "uvicorn"]
# The line each ASGI server prints once it listens (after the app's lifespan started).
RUNNING = re.compile(r"(?:Running on|Uvicorn running on) (http://127\.0\.0\.1:\d+)")


def start_embed_host(
    root_dir: Path,
    *,
    server: str = "hypercorn",
    plugins: str = "hello",
    token: str = TOKEN,
    extra_env: dict[str, str] | None = None,
) -> RunningServer:
    """Serve ``tests/core/embed_host.py`` (modserver mounted at ``/jupyter`` in a host
    Starlette app) with the ``server`` ASGI server's own command line, or with
    ``hypercorn-program``: hypercorn's ``serve`` called by ``tests/core/embed_serve.py``.

    The returned ``url`` is modserver's, ``<host>/jupyter/``; stop it with ``stop()``.
    ``extra_env`` adds environment variables.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
    env.update(
        {
            "EMBED_ROOT": str(root_dir),
            "EMBED_TOKEN": token,
            "EMBED_PLUGINS": plugins,
            "PYTHONUNBUFFERED": "1",
            "MODSERVER_RUNTIME_DIR": str(root_dir.parent / f".runtime-{root_dir.name}"),
            "JUPYTER_RUNTIME_DIR": str(root_dir.parent / f".runtime-{root_dir.name}" / "jupyter"),
        }
    )
    env.update(extra_env or {})
    target = "tests.core.embed_host:host"
    if server == "hypercorn-program":
        command = [sys.executable, "-m", "tests.core.embed_serve"]
    elif server == "hypercorn":
        command = [sys.executable, "-m", "hypercorn", target, "--bind", "127.0.0.1:0"]
    elif server == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", target, "--port", "0"]
    else:
        raise ValueError(f"unknown ASGI server {server!r}")
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).parents[1],
    )
    output: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            match = RUNNING.search(line)
            if match and not url:
                url.append(match.group(1))
                found.set()
        found.set()

    threading.Thread(target=pump, daemon=True).start()
    if not found.wait(60) or not url:
        proc.kill()
        proc.wait(5)
        raise AssertionError(f"host app did not start under {server}:\n" + "".join(output))
    return RunningServer(proc, url[0] + "/jupyter/", root_dir, token, output)


@contextmanager
def embed_host(root_dir: Path, server: str = "hypercorn") -> Iterator[str]:
    """Serve ``tests/core/embed_host.py`` with ``server``; yield the host's root URL.

    The host is a Starlette app with modserver mounted at ``/jupyter``; it stops on exit.
    """
    host = start_embed_host(root_dir, server=server)
    try:
        yield host.url.removesuffix("/jupyter/")
    finally:
        host.stop()
