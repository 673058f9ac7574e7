"""modserver: a tiny plugin core for a modular Jupyter server.

The core knows plugins, services, settings, routes, middleware, lifespan, the CLI and
serving; everything Jupyter-specific lives in plugins found through entry points.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from modserver.version import __version__

if TYPE_CHECKING:
    from modserver.app import create_app, lifespan_of, notify_stopping
    from modserver.plugin import Plugin, PluginContext, ServerControl, hookimpl, hookspec

__all__ = [
    "Plugin",
    "PluginContext",
    "ServerControl",
    "__version__",
    "create_app",
    "hookimpl",
    "hookspec",
    "lifespan_of",
    "notify_stopping",
]

# Imported on first use (PEP 562): ``python -m modserver.cli`` imports this package first,
# and the command pauses the garbage collector before the app's imports (modserver.cli).
_LAZY = {
    "create_app": "modserver.app",
    "lifespan_of": "modserver.app",
    "notify_stopping": "modserver.app",
    "Plugin": "modserver.plugin",
    "PluginContext": "modserver.plugin",
    "ServerControl": "modserver.plugin",
    "hookimpl": "modserver.plugin",
    "hookspec": "modserver.plugin",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modserver' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once: later lookups find it without this function
    return value
