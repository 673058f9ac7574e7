"""How kernel processes are started: a kernel manager that cannot be hijacked from the root.

A kernel runs in the notebook's folder, which editors may write. ``python -m
ipykernel_launcher`` puts that folder first on ``sys.path`` before importing the launcher,
so a planted ``ipykernel_launcher.py`` (or ``runpy.py``, ...) would run as the server's
user when the owner next starts a kernel there. Python kernelspecs started with ``-m`` are
therefore run through a two-line bootstrap that drops the folder from ``sys.path`` first
(``sys`` is built in, so nothing is imported from the folder before), then runs the module
as ``-m`` would. Works on every Python 3; unlike ``-P``/``PYTHONSAFEPATH`` it leaves
``sys.flags.safe_path`` off, so IPython adds the folder back after startup and user code
imports its local modules as in Jupyter.
"""

from __future__ import annotations

import os
import re
from typing import Any

import anyio
from jupyter_client.connect import LocalPortCache, port_names
from jupyter_client.manager import AsyncKernelManager

#: Runs ``sys.argv[1]`` as ``python -m`` would, after removing the working folder from the
#: path (``-c`` puts it first, as "").
BOOTSTRAP = (
    "import sys\n"
    "if sys.path and sys.path[0] in ('', '.'): del sys.path[0]\n"
    "import runpy\n"
    "runpy.run_module(sys.argv.pop(1), run_name='__main__', alter_sys=True)\n"
)

#: The first wait between two checks that a stopping kernel has exited (then doubling).
_FIRST_POLL = 0.005

_PYTHON = re.compile(r"python(\d+(\.\d+)?)?w?(\.exe)?", re.IGNORECASE)
#: Interpreter options that take their value as the next argument.
_OPTION_WITH_VALUE = {"-X", "-W", "--check-hash-based-pycs"}


def is_python(executable: str) -> bool:
    """True when ``executable`` names a Python interpreter (python, python3.11, ...)."""
    return bool(_PYTHON.fullmatch(os.path.basename(executable)))


def safe_kernel_command(argv: list[str]) -> list[str]:
    """``argv`` with ``python [options] -m module args`` run through ``BOOTSTRAP``.

    Any other command (a script path, a non-Python kernel) is returned unchanged: only
    ``-m`` (and ``-c``) put the working folder first on the path.
    """
    if not argv or not is_python(argv[0]):
        return list(argv)
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg == "-m" and index + 1 < len(argv):
            module = argv[index + 1]
            return [*argv[:index], "-c", BOOTSTRAP, module, *argv[index + 2 :]]
        if arg in _OPTION_WITH_VALUE:
            index += 2
        elif arg.startswith("-") and arg not in ("-", "-c"):
            index += 1
        else:
            break
    return list(argv)


class SafeKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, starting kernels as ``safe_kernel_command`` says."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The kernelspec's command, made safe to run in a folder others may write."""
        return safe_kernel_command(super().format_kernel_cmd(extra_arguments))

    def mark_adopted(self, launch_args: dict[str, Any]) -> None:
        """Treat the kernel as started by this manager, with ``launch_args``.

        For a kernel an earlier server started: jupyter_client restarts a kernel with the
        arguments of its own ``start_kernel`` call, and tracks that a start happened (its
        restart would otherwise settle the same "ready" future twice and fail), and it
        owns the connection file.
        (jupyter_client 8.x private attributes; test_keep_kernels covers the behaviour.)
        """
        self._launch_args = dict(launch_args)
        self._attempted_start = True
        # The earlier server's connection file is ours now: removed when the kernel stops.
        self._connection_file_written = bool(self.connection_file) and os.path.exists(
            self.connection_file
        )

    def cleanup_random_ports(self) -> None:
        """Forget the kernel's ports, so that its next start picks new free ones.

        ``restart_kernel(newports=True)`` calls this. jupyter_client's own version does
        nothing when the ports came from its port cache (the default for tcp): a kernel
        that lost one of its ports to another process would be restarted on the same
        ports until the restart limit. (jupyter_client 8.x: the provisioner's
        ``ports_cached`` flag; test_lifecycle covers the behaviour.)
        """
        if self.transport != "tcp":
            return
        cache = LocalPortCache.instance()
        for name in port_names:
            port = getattr(self, name)
            if port:
                cache.return_port(port)
            setattr(self, name, 0)
        if self.provisioner is not None and hasattr(self.provisioner, "ports_cached"):
            self.provisioner.ports_cached = False
        self.cleanup_connection_file()

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        """Return once the kernel process has exited (shutdown and kill wait on this).

        jupyter_client polls every ``pollinterval`` (0.1 s): a kernel that exits 10 ms
        after its ``shutdown_request`` still cost 100 ms, on every DELETE, restart and
        server stop. Polled from 5 ms, doubling up to ``pollinterval``: as cheap for a
        slow exit, quick for a fast one. (jupyter_client 8.x private method, called with
        a timeout by its callers; test_lifecycle's start/stop cycles cover it.)
        """
        delay = min(_FIRST_POLL, pollinterval)
        while await self._async_is_alive():
            await anyio.sleep(delay)
            delay = min(delay * 2, pollinterval)

    def _close_control_socket(self) -> None:
        # jupyter_client closes the control socket with a 100 ms linger. A shutdown_request
        # that a dying kernel never read stays queued meanwhile and, when a restart starts
        # the new kernel on the same ports, is delivered to *it*: the new kernel exits at
        # once and the restart waits for an answer that never comes. Drop unsent messages.
        # (jupyter_client 8.x private method; test_lifecycle_races covers the behaviour.)
        # A socket already closed (its ZMQ context ended with the app, before this manager
        # was collected: ``__del__`` calls here too) takes no option.
        if self._control_socket is not None and not self._control_socket.closed:
            self._control_socket.linger = 0
        super()._close_control_socket()
