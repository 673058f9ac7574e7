"""What a plugin is: declarations (name, services, settings) and the context it runs in.

A plugin is an instance of a ``Plugin`` subclass, published under the entry-point group
``modserver.plugins``. Its hook implementations are ``@hookimpl`` methods (see hookspecs.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from anyio.abc import TaskGroup
from pydantic import BaseModel

from modserver.markers import hookimpl, hookspec

if TYPE_CHECKING:
    import pluggy

    from modserver.services import ServiceView
    from modserver.settings import CoreSettings

__all__ = ["Plugin", "PluginContext", "hookimpl", "hookspec"]

SettingsT = TypeVar("SettingsT", bound=BaseModel)


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
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0.0.0"
    description: ClassVar[str] = ""
    provides: ClassVar[tuple[type, ...]] = ()
    requires: ClassVar[tuple[type, ...]] = ()
    optional: ClassVar[tuple[type, ...]] = ()
    settings: ClassVar[type[BaseModel] | None] = None
    hookspecs: ClassVar[object | None] = None
    environment: ClassVar[tuple[str, ...]] = ()

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
    """Everything a plugin's hooks receive: its settings, services, hooks and task group."""

    name: str
    settings: BaseModel | None
    core: CoreSettings
    services: ServiceView
    hook: pluggy.HookRelay
    log: logging.Logger
    server: ServerControl = field(default_factory=ServerControl)
    _task_group: TaskGroup | None = field(default=None, repr=False)
    state: dict[str, Any] = field(default_factory=dict)

    def settings_as(self, model: type[SettingsT]) -> SettingsT:
        """Return this plugin's settings section, typed as ``model``."""
        if not isinstance(self.settings, model):
            raise TypeError(f"plugin {self.name!r} settings are not a {model.__name__}")
        return self.settings

    @property
    def task_group(self) -> TaskGroup:
        """The server's task group: background tasks live until shutdown."""
        if self._task_group is None:
            raise RuntimeError("the task group exists only while the server runs (lifespan)")
        return self._task_group
