"""The terminals of one app: create, find, end, cull; every one ended when the app stops.

Names are jupyter_server's: the smallest unused positive integer, or a name the client
chose. Each terminal's reader runs in the server's task group under the terminal's own
cancel scope; a shell that exits (``exit``, Ctrl-D) ends its terminal, which leaves the
list at once.
"""

from __future__ import annotations

import itertools
import logging
import os
import pwd
import re
import sys
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup
from modserver.child_env import child_environment
from modserver.confined import OutsideRoot, confined_path
from modserver.errors import RequestError

from modserver_terminals.pty_process import PtyProcess
from modserver_terminals.settings import TerminalsSettings
from modserver_terminals.terminal import Terminal, utcnow

log = logging.getLogger("modserver.terminals")

#: Names as jupyter_server's routes accept them (``\w+``), bounded.
TERMINAL_NAME = re.compile(r"^\w{1,64}$", re.ASCII)


class TerminalNotFound(RequestError, LookupError):
    """No terminal of that name; a route answers 404 (the core renders RequestError)."""

    status_code = 404


class TerminalRequestError(ValueError):
    """A create request that cannot be honoured (bad name or folder): a 4xx."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def login_shell() -> list[str]:
    """The user's login shell, as jupyter_server picks it: $SHELL, the passwd entry, /bin/sh.

    Run as a login shell (``-l``) when the server has no terminal of its own (started by
    a service manager or a spawner), so the profile sets up the user's environment.
    """
    shell = os.environ.get("SHELL")
    if not shell:
        try:
            shell = pwd.getpwuid(os.getuid()).pw_shell
        except KeyError:
            shell = ""
    command = [shell or "/bin/sh"]
    if not sys.stdout.isatty():
        command.append("-l")
    return command


class TerminalRegistry:
    """The running terminals of one app, by name."""

    def __init__(self, settings: TerminalsSettings, root_dir: Path, task_group: TaskGroup) -> None:
        self.settings = settings
        self.root = os.path.realpath(root_dir)
        self._task_group = task_group
        self._terminals: dict[str, Terminal] = {}
        self._reserved: set[str] = set()
        self._ending: set[Terminal] = set()
        self._closing = False

    # -- queries ---------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        """Every running terminal's model."""
        return [terminal.model() for terminal in self._terminals.values()]

    def find(self, name: str) -> Terminal | None:
        """The running terminal ``name``, or None."""
        return self._terminals.get(name)

    def get(self, name: str) -> dict[str, Any]:
        """The model of terminal ``name``; ``TerminalNotFound`` if there is none."""
        terminal = self._terminals.get(name)
        if terminal is None:
            raise TerminalNotFound(f"Terminal not found: {name}")
        return terminal.model()

    def status(self) -> dict[str, Any]:
        """For ``/api/status``: how many terminals and attached clients."""
        terminals = list(self._terminals.values())
        return {
            "terminals": len(terminals),
            "terminal_connections": sum(len(t.clients) for t in terminals),
        }

    # -- lifecycle -------------------------------------------------------------------

    async def create(self, name: str | None = None, cwd: str | None = None) -> dict[str, Any]:
        """Start a shell named ``name`` (default: the next free number) in ``cwd``.

        ``cwd`` is a folder inside the root, relative to it (as JupyterLab sends it) or
        absolute; ``TerminalRequestError`` (400) if it is outside or not a folder, (409)
        if the name is taken.
        """
        if self._closing:
            raise TerminalRequestError(503, "The server is stopping")
        folder = await anyio.to_thread.run_sync(self.resolve_cwd, cwd)  # stats the disk
        if name is None:
            name = self._next_name()
        elif not TERMINAL_NAME.match(name):
            raise TerminalRequestError(
                400, f"Invalid terminal name {name!r}: use 1 to 64 letters, digits or _"
            )
        elif name in self._terminals or name in self._reserved:
            raise TerminalRequestError(409, f"Terminal {name!r} already exists")
        self._reserved.add(name)
        try:
            process = await PtyProcess.spawn(
                self.settings.shell_command or login_shell(),
                cwd=folder,
                env=self._environment(),
            )
        finally:
            self._reserved.discard(name)
        terminal = Terminal(
            name,
            process,
            self.settings.scrollback_chars,
            self.settings.client_queue_chars,
            self.settings.stall_timeout,
        )
        if self._closing:  # the server began to stop while the shell started
            await process.end(self.settings.shutdown_wait)
            raise TerminalRequestError(503, "The server is stopping")
        self._terminals[name] = terminal
        self._task_group.start_soon(self._read, terminal)
        log.info("Terminal %s started in %s (pid %d)", name, folder, process.pid)
        return terminal.model()

    async def terminate(self, name: str) -> None:
        """End terminal ``name`` and its processes; ``TerminalNotFound`` if there is none."""
        terminal = self._terminals.get(name)
        if terminal is None:
            raise TerminalNotFound(f"Terminal not found: {name}")
        await self._end(terminal)

    async def shutdown_all(self) -> None:
        """End every terminal (the app is stopping); no shell outlives the server."""
        self._closing = True
        async with anyio.create_task_group() as group:
            for terminal in list(self._terminals.values()):
                group.start_soon(self._end, terminal)
        # Terminals whose shell exited by itself may still be ending: wait for them too.
        for terminal in list(self._ending):
            await terminal.ended.wait()

    def disconnect_all(self) -> None:
        """Close every WebSocket at once (the server is stopping; shells end afterwards)."""
        for terminal in self._terminals.values():
            for client in list(terminal.clients):
                client.disconnect()

    async def cull_idle(self) -> None:
        """End terminals without input or output for ``cull_inactive_timeout`` s, forever."""
        timeout = self.settings.cull_inactive_timeout
        while True:
            await anyio.sleep(self.settings.cull_interval)
            now = utcnow()
            for terminal in list(self._terminals.values()):
                idle = (now - terminal.last_activity).total_seconds()
                if idle > timeout:
                    log.info("Culling terminal %s: idle for %.0f s", terminal.name, idle)
                    await self._end(terminal)

    # -- internals -------------------------------------------------------------------

    async def _read(self, terminal: Terminal) -> None:
        with terminal.reader_scope:
            try:
                await terminal.pump()
                log.info("Terminal %s: its shell exited", terminal.name)
            except OSError as exc:  # the PTY failed: end the terminal, never the server
                log.warning("Terminal %s: reading its PTY failed: %s", terminal.name, exc)
        terminal.reading = False
        if not terminal.ending:
            await self._end(terminal)

    async def _end(self, terminal: Terminal) -> None:
        self._ending.add(terminal)
        try:
            await terminal.end(self.settings.shutdown_wait, self._forget)
        finally:
            self._ending.discard(terminal)

    def _forget(self, terminal: Terminal) -> None:
        if self._terminals.get(terminal.name) is terminal:
            del self._terminals[terminal.name]

    def _next_name(self) -> str:
        for number in itertools.count(1):
            name = str(number)
            if name not in self._terminals and name not in self._reserved:
                return name
        raise AssertionError("unreachable")

    def resolve_cwd(self, cwd: str | None) -> str:
        """The real path of folder ``cwd`` (default: the root); 400 unless inside the root."""
        if not cwd:
            return self.root
        if "\x00" in cwd or len(cwd) > 4096:
            raise TerminalRequestError(400, "Invalid cwd")
        candidate = os.path.join(self.root, cwd)  # an absolute cwd replaces the root
        try:
            real = confined_path(self.root, candidate)
        except OutsideRoot:
            raise TerminalRequestError(400, f"cwd {cwd!r} is outside the root folder") from None
        if not os.path.isdir(real):
            raise TerminalRequestError(400, f"cwd {cwd!r} is not a folder")
        return real

    def _environment(self) -> dict[str, str]:
        """The server's environment without its secrets, set up for a terminal."""
        return child_environment({"TERM": "xterm-256color", "JUPYTER_SERVER_ROOT": self.root})
