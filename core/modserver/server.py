"""Serve an assembled app with hypercorn: bind, start plugins, print the URL, stop on signal.

We bind the socket ourselves (so port 0 and "next free port" work and the printed URL is
true) and run the plugins' lifespan here rather than through ASGI lifespan events, so a
failed start is one clear error and a clean exit code.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskStatus
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config
from starlette.applications import Starlette

from modserver.app import Modserver, utcnow
from modserver.plugin import ServerControl
from modserver.runtime_file import remove_runtime_file, write_runtime_file

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

log = logging.getLogger("modserver.server")

PORT_RETRIES = 50


class BindError(Exception):
    """The server could not listen where asked."""


def bind_socket(host: str, port: int, *, port_is_explicit: bool) -> socket.socket:
    """Listen on host:port; if the port is busy and was not chosen, try the next ones."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    attempts = 1 if port_is_explicit or port == 0 else PORT_RETRIES
    for offset in range(attempts):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Kernel messages are small and latency-bound: never wait for Nagle/delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _keep_alive(sock)
        try:
            sock.bind((host, port + offset))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE and offset + 1 < attempts:
                log.info("port %d is in use, trying %d", port + offset, port + offset + 1)
                continue
            hint = "choose another with --port" if exc.errno == errno.EADDRINUSE else "check --host"
            raise BindError(
                f"cannot listen on {host}:{port + offset}: {exc.strerror}; {hint}"
            ) from None
        sock.listen(1024)
        sock.set_inheritable(True)
        return sock
    raise AssertionError("unreachable")


def _keep_alive(sock: socket.socket) -> None:
    """TCP keepalive, inherited by accepted connections (Linux, macOS).

    It finds dead peers without WebSocket pings (off by default, see ``serve``): idle
    peers are probed after a minute; a dead one is dropped about 1.5 minutes later.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 6)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def display_host(host: str) -> str:
    """The host part of a URL users can open."""
    if host in ("", "0.0.0.0", "::"):
        return "localhost"
    return f"[{host}]" if ":" in host else host


async def serve(
    server: Modserver, app: Starlette, on_listening: Callable[[], None] = lambda: None
) -> None:
    """Start plugins, serve until SIGINT/SIGTERM or an explicit shutdown, stop plugins.

    ``on_listening`` is called once every plugin started, as the server announces its URL.
    """
    settings = server.settings
    sock = bind_socket(
        settings.host,
        settings.port,
        port_is_explicit=server.raw_settings.origin("core", "port") != "default",
    )
    port = sock.getsockname()[1]
    root_url = f"http://{display_host(settings.host)}:{port}{settings.base_url}"
    config = Config()
    # hypercorn closes the descriptor it is given; hand it a duplicate and close ours.
    config.bind = [f"fd://{os.dup(sock.fileno())}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = settings.shutdown_timeout
    # Off by default: hypercorn's ping task keeps a closed WebSocket's connection (and a
    # graceful stop) waiting until its next ping; _keep_alive finds dead peers instead.
    config.websocket_ping_interval = settings.websocket_ping_interval or None
    shutdown = anyio.Event()
    # An API shutdown takes exactly the SIGTERM path (and is safe from any thread).
    server.control.on_shutdown_request(lambda: os.kill(os.getpid(), signal.SIGTERM))
    try:
        async with anyio.create_task_group() as tg:
            # Listen for signals before plugins start: a SIGTERM during startup then still
            # stops every started plugin (and its kernels) instead of killing the process.
            await tg.start(_watch_signals, shutdown, server.control)
            try:
                async with server.lifespan():
                    open_url = server.open_url(root_url)
                    _announce(server, root_url, open_url, port)
                    on_listening()
                    try:
                        await _serve_in_own_task(app, config, shutdown)
                    finally:
                        remove_runtime_file(settings.runtime_dir)
                    log.info("shutting down plugins")
            finally:
                tg.cancel_scope.cancel()
    finally:
        sock.close()


async def _serve_in_own_task(app: Starlette, config: Config, shutdown: anyio.Event) -> None:
    """Run hypercorn in a task of its own until ``shutdown`` is set.

    hypercorn (0.18, Python 3.11) returns with a cancellation request still pending on the
    task that ran it (``task.cancelling() == 1``: its shutdown aborts an
    ``asyncio.TaskGroup``, which cancels the parent task). Left on this task, that request
    made the plugins' task group re-raise CancelledError at stop, and ``modserver run``
    exit 1, whenever a background task was still running
    (tests/core/test_server.py). A throw-away task absorbs it instead.
    """

    async def serve_until_shutdown() -> None:
        await hypercorn_serve(app, config, shutdown_trigger=shutdown.wait)  # type: ignore[arg-type]

    async with anyio.create_task_group() as serving:
        serving.start_soon(serve_until_shutdown)


def _announce(server: Modserver, root_url: str, open_url: str, port: int) -> None:
    info: dict[str, Any] = {
        "pid": os.getpid(),
        "url": root_url,
        "open_url": open_url,
        "host": server.settings.host,
        "port": port,
        "base_url": server.settings.base_url,
        "root_dir": str(server.settings.root_dir),
        "plugins": [p.name for p in server.plugins],
        "started": utcnow().isoformat(),
    }
    write_runtime_file(server.settings.runtime_dir, info)
    plugins = ", ".join(f"{p.name} {p.version}" for p in server.plugins) or "none"
    log.info("plugins: %s", plugins)
    log.info("serving %s", server.settings.root_dir)
    # One write, so a reader of the output never sees the URL without the line to open.
    print(
        f"modserver is listening on {root_url}\n    open: {open_url}\nPress Ctrl+C to stop.",
        flush=True,
    )


async def _watch_signals(
    shutdown: anyio.Event,
    control: ServerControl,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for signum in signals:
            log.info("received %s, shutting down", signal.Signals(signum).name)
            shutdown.set()
            # hypercorn waits for open connections before it returns: close WebSockets now.
            control.notify_stopping()
            return


def run(server: Modserver, app: Starlette, on_listening: Callable[[], None] = lambda: None) -> int:
    """Serve until stopped; return the process exit code (see ``serve``)."""
    from modserver.lifecycle import PluginStartupError

    try:
        try:
            anyio.run(serve, server, app, on_listening)
        except BaseExceptionGroup as group:
            raise _sole_error(group) from None
    except PluginStartupError as exc:
        log.debug("startup failure", exc_info=exc.error)
        print(f"modserver: error: {exc}", file=sys.stderr)
        return 1
    except BindError as exc:
        print(f"modserver: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _sole_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """Task groups wrap errors; report the first real one."""
    first = group.exceptions[0]
    return _sole_error(first) if isinstance(first, BaseExceptionGroup) else first
