"""modserver: a tiny plugin core for a modular Jupyter server.

The core knows plugins, services, settings, routes, middleware, lifespan, the CLI and
serving; everything Jupyter-specific lives in plugins found through entry points.
"""

from modserver.app import create_app, lifespan_of
from modserver.plugin import Plugin, PluginContext, ServerControl, hookimpl, hookspec
from modserver.version import __version__

__all__ = [
    "Plugin",
    "PluginContext",
    "ServerControl",
    "__version__",
    "create_app",
    "hookimpl",
    "hookspec",
    "lifespan_of",
]
