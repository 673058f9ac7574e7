"""The ``Kernels`` service: kernel processes (through jupyter_client) and their clients.

Each kernel is a jupyter_client ``AsyncKernelManager`` (so kernel provisioners, local or
remote, work unchanged) plus one shared ``KernelClient``. This module also runs the two
watchers of kernel health: auto-restart of kernels that die, and culling of idle ones.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from modserver.api.contents import Contents
from modserver.api.events import KERNEL_ACTIONS_SCHEMA_ID, Events
from modserver.api.kernels import (
    KernelListener,
    KernelMessage,
    KernelModel,
    KernelNotFound,
    Kernels,
    NoSuchKernelSpec,
)
from modserver.child_env import child_environment
from modserver.errors import RequestError
from modserver.imports import late_import
from modserver.state_store import StateStore

from modserver_kernels.limits import out_of_files
from modserver_kernels.settings import KernelsSettings

if TYPE_CHECKING:
    import zmq.asyncio
    from anyio.abc import TaskGroup
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from modserver_kernels.client import KernelClient

log = logging.getLogger("modserver.kernels")

#: Seconds between checks that a restarting kernel's process is still alive.
_EXIT_POLL_INTERVAL = 0.1


class KernelStartError(RuntimeError):
    """A kernel process could not be started, or did not come back from a restart."""

    #: The HTTP status the REST API answers with (the name ``RequestError`` uses).
    status_code = 500


class KernelResourcesExhausted(KernelStartError, RequestError):
    """No kernel can start now: the server ran out of open files (or ZMQ sockets).

    A ``RequestError`` too, so that every route that starts kernels (sessions as well)
    answers it as a JSON 503 with the message.
    """

    status_code = 503

    def __init__(self, message: str) -> None:
        RequestError.__init__(self, message)


def _out_of_files_error(name: str, error: BaseException) -> KernelResourcesExhausted:
    return KernelResourcesExhausted(
        f"Kernel {name} failed to start: the server has too many open files ({error}). "
        "Stop kernels you no longer use, or raise the open-files limit (ulimit -n, or "
        "the kernels.min_open_files_limit setting)"
    )


class KernelBusy(RuntimeError):
    """Another lifecycle operation on the kernel (restart, shutdown) is under way."""


@dataclass(eq=False)
class PendingRestart:
    """A restart under way, which concurrent restart requests join."""

    done: anyio.Event = field(default_factory=anyio.Event)
    error: Exception | None = None


def isoformat(moment: Any) -> str:
    """ISO 8601 in UTC with a ``Z``, as jupyter_server writes timestamps."""
    return str(moment.isoformat()).replace("+00:00", "Z")


@dataclass(eq=False)
class RunningKernel:
    """A kernel process and its shared client.

    ``lock`` serializes lifecycle operations (restart, auto-restart, interrupt, shutdown):
    jupyter_client's manager is not safe against two at once, and a restart racing a
    shutdown would otherwise leave the restarted process running untracked.
    """

    id: str
    name: str
    manager: AsyncKernelManager
    client: KernelClient
    reason: str = ""
    restarting: bool = False
    stopping: bool = False
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    pending_restart: PendingRestart | None = None
    #: Cancels the restart under way: a shutdown does not wait for a restart to finish.
    restart_scope: anyio.CancelScope | None = None
    #: The folder it runs in and the caller's extra environment (kept mode records them).
    cwd: str = ""
    env: dict[str, str] = field(default_factory=dict)
    #: Recorded in the state store: in keep mode it outlives this server.
    kept: bool = False


class KernelRegistry(Kernels):
    """Every running kernel of this server."""

    def __init__(
        self,
        settings: KernelsSettings,
        root_dir: Path,
        contents: Contents | None,
        task_group: TaskGroup,
        events: Events | None = None,
        store: StateStore | None = None,
    ) -> None:
        self.settings = settings
        # Where kept kernels are recorded: given in keep mode only.
        self.store = store
        self.root_dir = root_dir
        self.contents = contents
        self.events = events  # jupyter_server's kernel action events, when a provider is enabled
        self._spec_manager: KernelSpecManager | None = None
        self._group = task_group
        self._zmq_context: zmq.asyncio.Context | None = None
        self._kernels: dict[str, RunningKernel] = {}
        # Cancelled at shutdown: they end the watchers started in the server's task group.
        self._watchers: list[anyio.CancelScope] = []

    @property
    def _context(self) -> zmq.asyncio.Context:
        """The ZMQ context of every kernel's sockets, made with the first kernel.

        pyzmq and the client built on it are imported then (or by the warm-up after the
        server listens), not at startup.
        """
        if self._zmq_context is None:
            with late_import("zmq"):
                import zmq.asyncio

                from modserver_kernels.limits import socket_limit

            context = zmq.asyncio.Context()
            # ZMQ's default of 1,023 sockets stopped this server at 92 kernels (each holds
            # its channels plus socket monitors): the open-files limit is the real bound.
            context.set(zmq.MAX_SOCKETS, socket_limit(context))
            self._zmq_context = context
        return self._zmq_context

    @property
    def spec_manager(self) -> KernelSpecManager:
        """jupyter_client's kernelspec finder, made on first use.

        jupyter_client (with traitlets and its provisioner entry points) is the kernels
        plugin's heaviest import: made here, not at startup, it is imported after the
        server listens (the plugin's warm-up) rather than before.
        """
        if self._spec_manager is None:
            with late_import("jupyter_client"):
                from jupyter_client.kernelspec import KernelSpecManager

            self._spec_manager = KernelSpecManager()
        return self._spec_manager

    # -- lookups --------------------------------------------------------------------------

    def running(self, kernel_id: str) -> RunningKernel:
        """The running kernel ``kernel_id``; raises ``KernelNotFound``."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None or kernel.stopping:
            raise KernelNotFound(f"Kernel does not exist: {kernel_id}")
        return kernel

    def find(self, kernel_id: str) -> RunningKernel | None:
        """The running kernel ``kernel_id`` or None."""
        kernel = self._kernels.get(kernel_id)
        return None if kernel is None or kernel.stopping else kernel

    def model(self, kernel: RunningKernel) -> KernelModel:
        """The REST model of a kernel, as jupyter_server shapes it."""
        model: KernelModel = {
            "id": kernel.id,
            "name": kernel.name,
            "last_activity": isoformat(kernel.client.last_activity),
            "execution_state": kernel.client.execution_state,
            "connections": kernel.client.connections,
        }
        if kernel.reason:
            model["reason"] = kernel.reason
        return model

    async def list(self) -> list[KernelModel]:
        return [self.model(k) for k in list(self._kernels.values()) if not k.stopping]

    async def get(self, kernel_id: str) -> KernelModel:
        return self.model(self.running(kernel_id))

    @property
    def outlive_server(self) -> bool:
        return self.store is not None

    def status(self) -> dict[str, Any]:
        """``/api/status`` fields: kernels, connections and the latest kernel activity."""
        live = [k for k in self._kernels.values() if not k.stopping]
        fields: dict[str, Any] = {
            "kernels": len(live),
            "connections": sum(k.client.connections for k in live),
        }
        if live:
            fields["last_activity"] = max(k.client.last_activity for k in live)
        return fields

    # -- lifecycle ------------------------------------------------------------------------

    async def start(
        self, name: str | None = None, path: str | None = None, env: dict[str, str] | None = None
    ) -> KernelModel:
        with late_import("jupyter_client"):
            from jupyter_client.kernelspec import NoSuchKernel

            from modserver_kernels.launch import SafeKernelManager

        name = name or self.settings.default_kernel_name
        try:
            await anyio.to_thread.run_sync(self.spec_manager.get_kernel_spec, name)
            cwd = await anyio.to_thread.run_sync(self._cwd_for, path or "")
        except NoSuchKernel:
            raise NoSuchKernelSpec(f"No such kernel named {name}") from None
        except OSError as exc:
            if out_of_files(exc):
                raise _out_of_files_error(name, exc) from exc
            raise
        kernel_id = str(uuid.uuid4())
        manager = SafeKernelManager(
            # The API's id, so provisioners (gateway-provisioners name pods by it) and
            # jupyter_client's logs speak of the same kernel as the REST API.
            kernel_id=kernel_id,
            kernel_name=name,
            kernel_spec_manager=self.spec_manager,
            context=self._context,
            shutdown_wait_time=self.settings.shutdown_wait,
        )
        # The kernel runs user code: it gets no server setting or secret (MODSERVER_*).
        full_env = child_environment(env)
        client = self._new_client(kernel_id)
        kernel = RunningKernel(kernel_id, name, manager, client, cwd=str(cwd), env=dict(env or {}))
        try:
            # Independent in keep mode: no JPY_PARENT_PID, so ipykernel's parent poller does
            # not end the kernel with this server, and a session of its own.
            await manager.start_kernel(
                cwd=str(cwd), env=full_env, independent=self.settings.keep_kernels
            )
            self._kernels[kernel_id] = kernel
            await self._group.start(
                client.run,
                manager.get_connection_info(session=False),
                self.settings.kernel_info_timeout,
            )
            await self._remember(kernel)
        except Exception as exc:
            log.exception("Kernel %s (%s) failed to start", kernel_id, name)
            self._kernels.pop(kernel_id, None)
            client.close()
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await manager.shutdown_kernel(now=True)
            if out_of_files(exc):
                raise _out_of_files_error(name, exc) from exc
            raise KernelStartError(f"Kernel {name} failed to start: {exc}") from exc
        log.info("Kernel started: %s (%s) in %s", kernel_id, name, cwd)
        self._emit("start", kernel, "started")
        return self.model(kernel)

    def _new_client(self, kernel_id: str) -> KernelClient:
        """The shared client of a kernel, holding replay messages as the settings say."""
        with late_import("zmq"):
            from modserver_kernels.client import KernelClient

        return KernelClient(
            kernel_id,
            self._context,
            hold_messages=self.settings.replay_messages,
            hold_bytes=self.settings.replay_bytes,
            hold_sessions=self.settings.replay_sessions,
        )

    def _cwd_for(self, path: str) -> Path:
        # The nearest existing folder at or above the API path, never outside the root.
        local = self.contents.local_path(path) if self.contents is not None else None
        root = self.root_dir.resolve()
        if local is None:
            candidate = (root / path.strip("/")).resolve()
            local = candidate if candidate.is_relative_to(root) else root
        while not local.is_dir() and local != root and local.parent != local:
            local = local.parent
        return local if local.is_dir() else root

    async def shutdown(self, kernel_id: str) -> None:
        kernel = self.running(kernel_id)
        await self._stop(kernel, now=False)

    async def _stop(self, kernel: RunningKernel, now: bool) -> None:
        # Marked first: from now on the kernel is gone for every caller, and a restart
        # under way is cancelled; the lock then waits for it to unwind, so the process
        # stopped below is the one that is actually running.
        kernel.stopping = True
        if kernel.restart_scope is not None:
            kernel.restart_scope.cancel()
        kernel.client.close()
        with anyio.CancelScope(shield=True):
            async with kernel.lock:
                try:
                    await kernel.manager.shutdown_kernel(now=now)
                except Exception:
                    log.exception("kernel %s did not shut down cleanly", kernel.id)
                finally:
                    self._kernels.pop(kernel.id, None)
                    await self._forget(kernel)
                    log.info("Kernel shutdown: %s", kernel.id)
        self._emit("shutdown", kernel, "shutdown")

    async def shutdown_all(self) -> None:
        """Stop every kernel at once (server shutdown); in keep mode, leave kept ones running."""
        for scope in self._watchers:
            scope.cancel()
        async with anyio.create_task_group() as group:
            for kernel in list(self._kernels.values()):
                if kernel.stopping:
                    continue
                if self.store is not None and kernel.kept:
                    # Only our sockets close: the next server in keep mode adopts it.
                    kernel.client.close()
                    log.info("Kernel kept running: %s", kernel.id)
                else:
                    group.start_soon(self._stop, kernel, False)
        if self._zmq_context is not None:
            self._zmq_context.destroy(linger=0)

    # -- kept kernels ---------------------------------------------------------------------

    async def _remember(self, kernel: RunningKernel) -> None:
        """Record the kernel (again: a restart changes its process) in keep mode."""
        if self.store is None or kernel.stopping:
            return
        with late_import("jupyter_client"):
            from modserver_kernels.kept import KERNEL_RECORD, kernel_record

        try:
            record = await kernel_record(kernel.manager, kernel.name, kernel.cwd, kernel.env)
            if record is None:
                log.info("Kernel %s has no local process: it stops with the server", kernel.id)
            else:
                await self.store.put(KERNEL_RECORD, kernel.id, record)
            kernel.kept = record is not None
        except Exception:
            # The kernel works all the same; it only will not outlive this server.
            log.exception("could not record kernel %s", kernel.id)
            kernel.kept = False

    async def _forget(self, kernel: RunningKernel) -> None:
        if self.store is None:
            return
        with late_import("jupyter_client"):
            from modserver_kernels.kept import KERNEL_RECORD

        try:
            await self.store.delete(KERNEL_RECORD, kernel.id)
        except Exception:
            log.exception("could not forget kernel %s", kernel.id)

    async def adopt_kept(self) -> None:
        """Take back every kernel an earlier server kept that still answers; forget the rest."""
        if self.store is None:
            return
        with late_import("jupyter_client"):
            from modserver_kernels.kept import KERNEL_RECORD

        records = await self.store.load(KERNEL_RECORD)
        async with anyio.create_task_group() as group:
            for kernel_id, record in records.items():
                group.start_soon(self._adopt, kernel_id, record)
        if records:
            log.info("Kept kernels: %d of %d adopted", len(self._kernels), len(records))

    async def _adopt(self, kernel_id: str, record: dict[str, Any]) -> None:
        with late_import("jupyter_client"):
            from modserver_kernels.kept import KERNEL_RECORD, adopted_manager, process_alive

        client: KernelClient | None = None
        kernel: RunningKernel | None = None
        try:
            pid = record.get("pid")
            if not isinstance(pid, int) or not process_alive(pid):
                log.info("Kept kernel %s is gone; forgetting it", kernel_id)
                await self.store.delete(KERNEL_RECORD, kernel_id)  # type: ignore[union-attr]
                return
            manager = adopted_manager(
                kernel_id, record, self.spec_manager, self._context, self.settings.shutdown_wait
            )
            client = self._new_client(kernel_id)
            kernel = RunningKernel(
                kernel_id,
                str(record["name"]),
                manager,
                client,
                cwd=str(record["cwd"]),
                env=dict(record["env"]),
                kept=True,
            )
            await self._group.start(
                client.run,
                manager.get_connection_info(session=False),
                self.settings.kernel_info_timeout,
            )
            with anyio.move_on_after(self.settings.kernel_info_timeout):
                await client.answered.wait()
        except Exception:
            log.exception("Kept kernel %s could not be adopted", kernel_id)
        if kernel is None or client is None or not client.answered.is_set():
            if client is not None:
                client.close()
                # Not killed: a process that does not answer may not even be that kernel
                # any more (its pid reused); it is only forgotten.
                log.warning(
                    "Kept kernel %s (pid %s) does not answer; forgetting it",
                    kernel_id,
                    record.get("pid"),
                )
            await self.store.delete(KERNEL_RECORD, kernel_id)  # type: ignore[union-attr]
            return
        self._kernels[kernel_id] = kernel
        log.info("Kernel adopted: %s (%s, pid %s)", kernel_id, kernel.name, record["pid"])

    async def interrupt(self, kernel_id: str) -> None:
        kernel = self.running(kernel_id)
        if kernel.lock.locked():
            raise KernelBusy(f"Kernel {kernel_id} is restarting or shutting down")
        async with kernel.lock:
            self.running(kernel_id)
            await kernel.manager.interrupt_kernel()
        self._emit("interrupt", kernel, "interrupted")

    async def restart(self, kernel_id: str) -> KernelModel:
        """Restart the kernel; a restart already under way is joined, not repeated.

        Raises ``KernelBusy`` when the kernel is shut down meanwhile, ``KernelStartError``
        when it does not come back.
        """
        kernel = self.running(kernel_id)
        pending = kernel.pending_restart
        if pending is None:
            pending = kernel.pending_restart = PendingRestart()
            try:
                await self._restart_once(kernel, pending)
            finally:
                kernel.pending_restart = None
                pending.done.set()
            if pending.error is None:
                self._emit("restart", kernel, "restarted")
        else:
            await pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return self.model(kernel)

    async def _restart_once(self, kernel: RunningKernel, pending: PendingRestart) -> None:
        async with kernel.lock:
            if kernel.stopping:
                pending.error = KernelBusy(f"Kernel {kernel.id} was shut down")
                return
            answered = await self._restart(kernel, now=False)
        if kernel.stopping:
            pending.error = KernelBusy(f"Kernel {kernel.id} was shut down during its restart")
        elif not answered:
            pending.error = KernelStartError(kernel.reason)

    async def _restart(self, kernel: RunningKernel, now: bool, newports: bool = False) -> bool:
        """Restart under the kernel's lock (held by the caller); False if it did not answer.

        ``newports``: the new process listens on new random ports (the client follows).
        A shutdown cancels it through ``restart_scope`` (then False, ``stopping`` set).
        """
        # Requests from clients wait in the queue while the kernel is away.
        kernel.restarting = True
        kernel.client.ready = False
        kernel.client.answering = False
        kernel.client.execution_state = "restarting"
        answered = False
        try:
            with anyio.CancelScope() as scope:
                kernel.restart_scope = scope
                if kernel.stopping:
                    scope.cancel()
                await kernel.manager.restart_kernel(now=now, newports=newports)
                if newports:
                    kernel.client.retarget(kernel.manager.get_connection_info(session=False))
                answered, exited = await self._answering_or_exited(kernel)
        finally:
            kernel.restart_scope = None
            kernel.restarting = False
        if kernel.stopping:
            return False
        if exited:
            # The health watcher revives it, maybe on new ports: requests wait in the
            # client's queue meanwhile. Sent now, they would sit in the sockets' queues
            # for the old ports, and a retarget drops those.
            kernel.reason = "the restarted kernel exited before it answered"
        else:
            await kernel.client.resume()
            kernel.reason = (
                "" if answered else "the restarted kernel did not answer kernel_info_request"
            )
        await self._remember(kernel)
        return answered

    async def _answering_or_exited(self, kernel: RunningKernel) -> tuple[bool, bool]:
        """Wait until the new process answers, or exits: (answered, exited).

        A kernel that dies while starting fails its restart at once, instead of after
        ``kernel_info_timeout``; the health watcher then takes over.
        """
        exited = False
        answered = False
        async with anyio.create_task_group() as group:

            async def watch_process() -> None:
                nonlocal exited
                # jupyter_client offers no event for the process's exit: poll it.
                while await kernel.manager.is_alive():  # noqa: ASYNC110
                    await anyio.sleep(_EXIT_POLL_INTERVAL)
                exited = True
                group.cancel_scope.cancel()

            group.start_soon(watch_process)
            answered = await kernel.client.wait_until_answering(self.settings.kernel_info_timeout)
            group.cancel_scope.cancel()
        return answered, exited and not answered

    def _emit(self, action: str, kernel: RunningKernel, done: str) -> None:
        """Emit jupyter_server's kernel action event for an action that succeeded."""
        if self.events is not None:
            data = {
                "action": action,
                "kernel_id": kernel.id,
                "kernel_name": kernel.name,
                "status": "success",
                "msg": f"Kernel {kernel.id} was {done}.",
            }
            self.events.emit(KERNEL_ACTIONS_SCHEMA_ID, data)

    # -- messages -------------------------------------------------------------------------

    def subscribe(
        self,
        kernel_id: str,
        listener: KernelListener,
        *,
        session: str | None = None,
        connection: bool = False,
        on_close: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        return self.running(kernel_id).client.subscribe(
            listener, session=session, connection=connection, on_close=on_close
        )

    async def send(
        self, kernel_id: str, message: KernelMessage, *, session: str | None = None
    ) -> None:
        await self.running(kernel_id).client.send(message, session)

    def status_notice(self, kernel: RunningKernel, state: str) -> None:
        """Tell every listener the kernel is ``restarting`` or ``dead`` (iopub status)."""
        content = f'{{"execution_state": "{state}"}}'.encode()
        kernel.client.notify(kernel.client.new_message("status", content, channel="iopub"))

    # -- watchers -------------------------------------------------------------------------

    async def watch_health(self) -> None:
        """Restart kernels that died on their own, up to ``restart_limit`` times in a row."""
        with anyio.CancelScope() as scope:
            self._watchers.append(scope)
            await self._watch_health({})

    async def _watch_health(self, failures: dict[str, int]) -> None:
        # Each dead kernel is revived in its own task: one restart that hangs (up to
        # kernel_info_timeout) must not keep the watcher from noticing other deaths.
        reviving: set[str] = set()

        async def revive(kernel: RunningKernel) -> None:
            try:
                await self._revive(kernel, failures)
            finally:
                reviving.discard(kernel.id)

        async with anyio.create_task_group() as group:
            while True:
                await anyio.sleep(self.settings.restart_poll_interval)
                for kernel in list(self._kernels.values()):
                    if kernel.id in reviving or kernel.stopping or kernel.lock.locked():
                        continue
                    try:
                        alive = await kernel.manager.is_alive()
                    except Exception:
                        alive = False
                    if alive:
                        failures.pop(kernel.id, None)
                        continue
                    reviving.add(kernel.id)
                    group.start_soon(revive, kernel)
                for gone in set(failures) - set(self._kernels):
                    failures.pop(gone, None)

    async def _revive(self, kernel: RunningKernel, failures: dict[str, int]) -> None:
        count = failures.get(kernel.id, 0)
        if not self.settings.autorestart or count >= self.settings.restart_limit:
            log.warning("Kernel %s died; giving up on it", kernel.id)
            kernel.reason = "Kernel died and could not be restarted"
            kernel.client.execution_state = "dead"
            self.status_notice(kernel, "dead")
            await self._stop(kernel, now=True)
            return
        failures[kernel.id] = count + 1
        # A process that died before it ever answered most likely found one of its ports
        # taken (the ports are picked free, then bound by the kernel: another process may
        # come between). The same ports would fail the same way: pick new ones, as
        # jupyter_client's own restarter does.
        newports = not kernel.client.answering
        log.warning(
            "Kernel %s died; restarting (%d/%d)%s",
            kernel.id,
            count + 1,
            self.settings.restart_limit,
            " on new ports" if newports else "",
        )
        self.status_notice(kernel, "restarting")
        try:
            async with kernel.lock:
                if not kernel.stopping:
                    await self._restart(kernel, now=True, newports=newports)
        except Exception:
            log.exception("restarting kernel %s failed", kernel.id)

    async def cull_idle(self) -> None:
        """Shut down kernels idle for longer than ``cull_idle_timeout``."""
        with anyio.CancelScope() as scope:
            self._watchers.append(scope)
            await self._cull_idle()

    async def _cull_idle(self) -> None:
        settings = self.settings
        while True:
            await anyio.sleep(settings.cull_interval)
            now = datetime.now(timezone.utc)
            for kernel in list(self._kernels.values()):
                if kernel.stopping or kernel.restarting:
                    continue
                client = kernel.client
                idle = (now - client.last_activity).total_seconds()
                if (
                    idle > settings.cull_idle_timeout
                    and (settings.cull_busy or client.execution_state != "busy")
                    and (settings.cull_connected or client.connections == 0)
                ):
                    log.warning(
                        "Culling kernel %s (%s, %d connections) after %ds idle",
                        kernel.id,
                        client.execution_state,
                        client.connections,
                        idle,
                    )
                    await self._stop(kernel, now=False)
