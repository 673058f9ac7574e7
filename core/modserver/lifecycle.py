"""Start plugins in dependency order inside one task group; stop them in reverse.

A plugin that fails to start stops everything already started (reverse order) and
surfaces as one ``PluginStartupError`` naming it. Each shutdown is bounded in time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from types import TracebackType

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import pluggy

from modserver.hooks import call_plugin_hook
from modserver.plugin import Plugin, PluginContext
from modserver.services import ServiceError

log = logging.getLogger("modserver.lifecycle")


class PluginStartupError(Exception):
    """A plugin raised while starting; everything started before it was shut down."""

    def __init__(self, plugin: str, error: BaseException) -> None:
        self.plugin = plugin
        self.error = error
        super().__init__(f"plugin {plugin!r} failed to start: {type(error).__name__}: {error}")


@asynccontextmanager
async def run_plugins(
    pm: pluggy.PluginManager,
    plugins: list[tuple[Plugin, PluginContext]],
    *,
    shutdown_timeout: float,
    on_started: Callable[[], None] = lambda: None,
    warm_ups_after: Callable[[], Awaitable[None]] | None = None,
    warm_up: bool = True,
) -> AsyncIterator[None]:
    """Run every plugin's lifespan; yield while the server serves.

    The plugins' warm-ups (``context.warm_up``) begin once every plugin has started and,
    with ``warm_ups_after``, once that returns (the server waits for a quiet moment).
    Without ``warm_up`` they never run: what they prepare is made on first use.
    """
    async with anyio.create_task_group() as task_group:
        for _, context in plugins:
            context._task_group = task_group
            context._warm_ups.clear()  # each lifespan asks again
        try:
            async with AsyncExitStack() as stack:
                for plugin, context in plugins:
                    await _start_one(stack, pm, plugin, context, shutdown_timeout)
                    _check_provided(plugin, context)
                on_started()
                if warm_up:
                    task_group.start_soon(_start_warm_ups, task_group, plugins, warm_ups_after)
                yield
        finally:
            # Background tasks end with the plugins that started them.
            task_group.cancel_scope.cancel()
            for _, context in plugins:
                context._task_group = None


async def _start_warm_ups(
    task_group: anyio.abc.TaskGroup,
    plugins: list[tuple[Plugin, PluginContext]],
    after: Callable[[], Awaitable[None]] | None,
) -> None:
    if after is not None:
        await after()
    # Side by side: a late import waits only for others of the same library.
    for plugin, context in plugins:
        for prepare in context._warm_ups:
            task_group.start_soon(_warm_up, plugin, prepare)


async def _warm_up(plugin: Plugin, prepare: Callable[[], object]) -> None:
    """Run one ``context.warm_up`` preparation in a thread of its own; log a failure.

    A daemon thread, not a worker of anyio's pool: the process must not wait for an import
    to finish before it exits, so a stop right after the start stays quick. Awaited here
    (the task ends with the work, or is cancelled when the server stops, abandoning it).
    """
    token = anyio.lowlevel.current_token()
    finished = anyio.Event()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            prepare()  # whose late imports take their library's lock (modserver.imports)
        except Exception as exc:
            failure.append(exc)
        finally:
            # The loop may have stopped meanwhile: then nobody waits for the news.
            with contextlib.suppress(Exception):
                anyio.from_thread.run_sync(finished.set, token=token)

    name = f"modserver warm-up ({plugin.name})"
    threading.Thread(target=work, name=name, daemon=True).start()
    await finished.wait()
    if failure:
        log.error(
            "plugin %s failed to warm up; it prepares on first use",
            plugin.name,
            exc_info=failure[0],
        )
    else:
        log.debug("plugin %s warmed up (%s)", plugin.name, _name(prepare))


def _name(prepare: Callable[[], object]) -> str:
    return getattr(prepare, "__qualname__", repr(prepare))


def _check_provided(plugin: Plugin, context: PluginContext) -> None:
    try:
        context.services.check_provided()
    except ServiceError as exc:
        raise PluginStartupError(plugin.name, exc) from None


async def _start_one(
    stack: AsyncExitStack,
    pm: pluggy.PluginManager,
    plugin: Plugin,
    context: PluginContext,
    shutdown_timeout: float,
) -> None:
    try:
        manager = call_plugin_hook(pm, plugin, "modserver_lifespan", context=context)
        if manager is None:
            return
        if not isinstance(manager, AbstractAsyncContextManager):
            raise TypeError("modserver_lifespan must return an async context manager")
        await manager.__aenter__()
    except Exception as exc:
        raise PluginStartupError(plugin.name, exc) from exc
    log.debug("plugin %s started", plugin.name)

    async def stop(
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        with anyio.move_on_after(shutdown_timeout, shield=True) as scope:
            try:
                await manager.__aexit__(exc_type, exc, tb)
            except Exception:
                log.exception("plugin %s failed while shutting down", plugin.name)
        if scope.cancelled_caught:
            log.warning(
                "plugin %s did not shut down within %.1fs; moving on", plugin.name, shutdown_timeout
            )
        return False

    stack.push_async_exit(stop)
