"""Kernels kept across server restarts (``kernels.keep_kernels``): records and adoption.

In keep mode each local kernel is started independent of the server (jupyter_client then
sets no ``JPY_PARENT_PID``, so ipykernel's parent poller does not end it with the server,
and the kernel gets its own session, out of reach of the terminal's Ctrl+C), and what it
takes to talk to it again is recorded in the plugin's state store (core
``modserver.state_store``). The next server in keep mode rebuilds a jupyter_client kernel
manager from each record, with ``AdoptedProvisioner`` standing for the process it did not
start, and keeps the kernels that still answer. manager.py decides when; this module says how.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from typing import Any

import anyio
import zmq.asyncio
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from modserver.child_env import child_environment

from modserver_kernels.launch import SafeKernelManager

log = logging.getLogger("modserver.kernels")

#: The store's record kind for kernels.
KERNEL_RECORD = "kernel"
#: Seconds between checks that an adopted kernel's process still runs.
_POLL_INTERVAL = 0.1


def process_alive(pid: int) -> bool:
    """True while a process ``pid`` runs (signal 0 checks without sending anything).

    A zombie counts as gone: an adopted kernel is not our child, and whoever inherited it
    when its server died may never reap it.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, but is not ours: reuse of the pid is told apart by answering
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): signal 0 is all there is
    return state != b"Z"


class AdoptedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner for a kernel process started by an earlier server.

    There is no ``Popen`` handle for it: liveness, signals and waiting work on its pid (and
    process group). Once the kernel is restarted, a process of our own replaces it and
    everything is the local provisioner's again.
    """

    adopted_pid: int | None = None

    def adopt(self, pid: int, pgid: int | None, connection_info: KernelConnectionInfo) -> None:
        """Stand for the running process ``pid`` reached through ``connection_info``."""
        self.adopted_pid = self.pid = pid
        self.pgid = pgid
        self.connection_info = connection_info
        # The ports are taken (by the kernel): a restart must reuse them, not pick new ones.
        self.ports_cached = True

    @property
    def has_process(self) -> bool:
        if self.process is not None:
            return True
        return self.adopted_pid is not None

    async def poll(self) -> int | None:
        if self.process is not None or self.adopted_pid is None:
            result: int | None = await super().poll()
            return result
        if process_alive(self.adopted_pid):
            return None
        self.adopted_pid = None
        return 0  # the exit status of a process that is not our child is unknown

    async def wait(self) -> int | None:
        if self.process is not None or self.adopted_pid is None:
            result: int | None = await super().wait()
            return result
        # Not our child: nothing tells when it exits, so poll it (as jupyter_client does).
        while await self.poll() is None:  # noqa: ASYNC110
            await anyio.sleep(_POLL_INTERVAL)
        return 0

    async def send_signal(self, signum: int) -> None:
        if self.process is not None or self.adopted_pid is None:
            await super().send_signal(signum)
            return
        # The kernel leads its own process group (started in a new session): signal the
        # group, so what the kernel started is interrupted or stopped with it.
        with contextlib.suppress(ProcessLookupError):
            if self.pgid:
                os.killpg(self.pgid, signum)
            else:
                os.kill(self.adopted_pid, signum)

    async def kill(self, restart: bool = False) -> None:
        if self.process is not None or self.adopted_pid is None:
            await super().kill(restart=restart)
            return
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        if self.process is not None or self.adopted_pid is None:
            await super().terminate(restart=restart)
            return
        await self.send_signal(signal.SIGTERM)


async def kernel_record(
    manager: AsyncKernelManager, name: str, cwd: str, env: dict[str, str]
) -> dict[str, Any] | None:
    """What the store keeps of a running kernel; None for a kernel that cannot be kept.

    Only kernels of the local provisioner have a process the next server can adopt.
    ``env`` is the caller's extra environment only: the server's own environment is not
    written down (it may hold secrets), it is taken again when the kernel is restarted.
    """
    provisioner = manager.provisioner
    if not isinstance(provisioner, LocalProvisioner):
        return None
    info = await provisioner.get_provisioner_info()
    if not info.get("pid"):
        return None
    connection = manager.get_connection_info(session=False)
    key = connection.get("key", b"")
    connection["key"] = key.decode() if isinstance(key, bytes) else str(key)
    return {
        "name": name,
        "pid": info["pid"],
        "pgid": info.get("pgid"),
        "connection_info": {k: v for k, v in connection.items() if not k.startswith("curve_")},
        "connection_file": manager.connection_file,
        "cwd": cwd,
        "env": env,
    }


def adopted_manager(
    kernel_id: str,
    record: dict[str, Any],
    spec_manager: KernelSpecManager,
    context: zmq.asyncio.Context,
    shutdown_wait: float,
) -> SafeKernelManager:
    """A kernel manager for the recorded kernel, as if this server had started it.

    Interrupt, restart and shutdown then work through jupyter_client as for any kernel:
    a restart starts a new process (independent again) on the recorded ports.
    """
    manager = SafeKernelManager(
        kernel_name=record["name"],
        kernel_spec_manager=spec_manager,
        context=context,
        shutdown_wait_time=shutdown_wait,
    )
    manager.kernel_id = kernel_id
    manager.load_connection_info(record["connection_info"])
    if record.get("connection_file"):
        manager.connection_file = record["connection_file"]
    provisioner = AdoptedProvisioner(
        kernel_id=kernel_id, kernel_spec=manager.kernel_spec, parent=manager
    )
    provisioner.adopt(record["pid"], record.get("pgid"), manager.get_connection_info())
    manager.provisioner = provisioner
    manager.mark_adopted(
        {"cwd": record["cwd"], "env": child_environment(record["env"]), "independent": True}
    )
    return manager
