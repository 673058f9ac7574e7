"""What a plugin is: declarations (name, services, settings) and the context it runs in.

A plugin is an instance of a ``Plugin`` subclass, published under the entry-point group
``modserver.plugins``. Its hook implementations are ``@hookimpl`` methods (see hookspecs.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from anyio.abc import TaskGroup
from pydantic import BaseModel

from modserver.markers import hookimpl, hookspec

if TYPE_CHECKING:
    from modserver.hooks import AppHooks
    from modserver.services import ServiceView
    from modserver.settings import CoreSettings

__all__ = ["Plugin", "PluginContext", "hookimpl", "hookspec"]

SettingsT = TypeVar("SettingsT", bound=BaseModel)
T = TypeVar("T")


class Plugin:
    """Base class for plugins: declare what the plugin is, provides and needs.

    ``provides`` and ``requires`` list service interfaces from ``modserver.api``; the core
    checks the whole graph before anything starts. ``optional`` lists services the plugin
    uses when some enabled plugin provides them, without pulling a provider in.
    ``settings`` is a pydantic model for the plugin's own settings section (named after
    the plugin). ``hookspecs`` is a module or class of ``@hookspec`` functions that this
    plugin calls and other plugins may implement. ``environment`` names the ``MODSERVER_*``
    variables the plugin reads itself besides its settings section (any other
    ``MODSERVER_<KEY>`` that is no core setting is refused as a typo).

    ``secret_environment`` names other variables holding secrets the plugin reads (a
    token): no kernel, terminal or other child process receives them.

    ``detect`` and ``core_defaults`` let a plugin that belongs to a deployment (JupyterHub
    spawning a single-user server, say) switch itself on from that deployment's environment.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0.0.0"
    description: ClassVar[str] = ""
    provides: ClassVar[tuple[type, ...]] = ()
    requires: ClassVar[tuple[type, ...]] = ()
    optional: ClassVar[tuple[type, ...]] = ()
    settings: ClassVar[type[BaseModel] | None] = None
    hookspecs: ClassVar[type | ModuleType | None] = None
    environment: ClassVar[tuple[str, ...]] = ()
    secret_environment: ClassVar[tuple[str, ...]] = ()

    def detect(self, environ: Mapping[str, str]) -> bool | None:
        """Whether the process environment ``environ`` calls for this plugin.

        None (the default): no opinion, the plugin is selected like any other. True: the
        environment asks for it; it is selected by default and takes the place of every
        plugin without an opinion that provides one of the same services (so ``auth``
        steps aside for ``jupyterhub`` inside a hub). False: not this environment; it is
        left out of the default selection and never added as a required provider, but
        ``--plugins <name>`` still enables it. Pure: no I/O, called before anything starts.
        """
        return None

    def core_defaults(self, environ: Mapping[str, str]) -> Mapping[str, Any]:
        """Defaults for core settings (host, port, base_url, ...) implied by ``environ``.

        Called once the plugin is enabled; the values sit below every other source (the
        config file, ``MODSERVER_*``, flags), so a user can still override them.
        """
        return {}

    def __repr__(self) -> str:
        return f"<plugin {self.name} {self.version}>"


class ServerControl:
    """Lets a plugin ask the server to stop (e.g. ``POST /api/shutdown``) and hear it stop."""

    def __init__(self) -> None:
        self._handlers: list[Callable[[], None]] = []
        self._stopping_callbacks: list[Callable[[], None]] = []
        self.stopping = False

    def on_shutdown_request(self, handler: Callable[[], None]) -> None:
        """Register what stopping means for whoever serves the app (core use)."""
        self._handlers.append(handler)

    @property
    def can_shut_down(self) -> bool:
        """False when the app is embedded in a host that owns the process."""
        return bool(self._handlers)

    def request_shutdown(self) -> bool:
        """Stop gracefully, as SIGTERM would; False if the host app does not allow it."""
        for handler in self._handlers:
            handler()
        return bool(self._handlers)

    def on_stopping(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (on the event loop) when the server starts to stop.

        Long-lived connections (WebSockets) use it to close at once: the server waits for
        open connections before plugins shut down. Returns a function that unregisters.
        """
        self._stopping_callbacks.append(callback)
        return lambda: self._stopping_callbacks.remove(callback)

    def notify_stopping(self) -> None:
        """Tell every ``on_stopping`` callback the server is stopping (core use)."""
        if self.stopping:
            return
        self.stopping = True
        for callback in list(self._stopping_callbacks):
            callback()


@dataclass(eq=False)
class PluginContext:
    """Everything a plugin's hooks receive: its settings, services, hooks and task group.

    One context per plugin per app: keep running state here, never on the plugin object,
    which every app in the process shares. The lifespan keeps the objects it makes with
    ``keep(obj)``; routes and hooks find them at request time with ``running(Class)``.
    ``state`` is a free dict for smaller per-app values. ``hook.<name>(**kwargs)`` calls a
    hook on every enabled plugin, each implementation receiving its own plugin's context.
    """

    name: str
    settings: BaseModel | None
    core: CoreSettings
    services: ServiceView
    hook: AppHooks
    log: logging.Logger
    server: ServerControl = field(default_factory=ServerControl)
    _task_group: TaskGroup | None = field(default=None, repr=False)
    state: dict[str, Any] = field(default_factory=dict)
    _running: dict[type, object] = field(default_factory=dict, repr=False)
    _warm_ups: list[Callable[[], object]] = field(default_factory=list, repr=False)

    def settings_as(self, model: type[SettingsT]) -> SettingsT:
        """Return this plugin's settings section, typed as ``model``."""
        if not isinstance(self.settings, model):
            raise TypeError(f"plugin {self.name!r} settings are not a {model.__name__}")
        return self.settings

    @contextmanager
    def keep(self, value: object) -> Iterator[None]:
        """Keep ``value`` as this app's running object of its class while the block runs.

        Used around the lifespan's ``yield``: ``running(type(value))`` finds it until the
        plugin stops. One object per class per plugin and app.
        """
        kind = type(value)
        if kind in self._running:
            raise RuntimeError(f"plugin {self.name!r} already keeps a {kind.__name__}")
        self._running[kind] = value
        try:
            yield
        finally:
            del self._running[kind]

    def running(self, kind: type[T]) -> T:
        """This app's running ``kind`` object (kept by the lifespan with ``keep``).

        Raises RuntimeError naming the plugin when it is not running in this app (before
        startup, after shutdown).
        """
        value = self.running_or_none(kind)
        if value is None:
            raise RuntimeError(
                f"plugin {self.name!r} is not running in this app (no {kind.__name__} yet)"
            )
        return value

    def running_or_none(self, kind: type[T]) -> T | None:
        """This app's running ``kind`` object, or None when the plugin is not running."""
        return cast("T | None", self._running.get(kind))

    def warm_up(self, prepare: Callable[[], object]) -> None:
        """Run ``prepare`` in a background thread once every plugin has started (and the
        server had a quiet moment, see ``Modserver.quiet_moment``).

        For costly preparation that startup need not wait for but a first request should
        not pay: importing a big library, compiling schemas. Call it from the lifespan
        before its ``yield``. Each warm-up runs in a daemon thread of its own; an error is
        logged, and a warm-up still running at shutdown is abandoned: it never delays or
        fails a stop, nor the process's exit. ``prepare`` must be safe to run while
        requests are served (use a lock or an idempotent cache), since a request may need
        the same thing first; both import the library inside
        ``with modserver.imports.late_import("library"):``, so that two threads never
        import it at once.
        """
        self._warm_ups.append(prepare)

    @property
    def task_group(self) -> TaskGroup:
        """The server's task group: background tasks live until shutdown."""
        if self._task_group is None:
            raise RuntimeError("the task group exists only while the server runs (lifespan)")
        return self._task_group
