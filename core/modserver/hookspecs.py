"""Every hook the core calls: the plugin author's contract.

Hooks take keyword arguments only; an implementation may accept just the arguments it
needs. ``context`` is always the implementing plugin's own ``PluginContext`` for the app
at hand: keep per-app state there, never on the plugin object. ``docs/plugin-hooks.md``
shows each hook with a runnable example. Plugins may add hookspecs of their own
(``Plugin.hookspecs``) for other plugins to implement.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from modserver.markers import hookspec

if TYPE_CHECKING:
    from starlette.middleware import Middleware
    from starlette.routing import BaseRoute

    from modserver.plugin import PluginContext


@hookspec
def modserver_lifespan(context: PluginContext) -> AbstractAsyncContextManager[None] | None:
    """Return an async context manager entered at startup and exited at shutdown.

    Plugins are entered in dependency order, so every service a plugin requires has been
    provided when its lifespan starts. Provide your own services with
    ``context.services.provide(Interface, impl)`` before yielding; start background tasks
    with ``context.task_group.start_soon(...)``. Shutdown runs in reverse order, bounded by
    the ``shutdown_timeout`` setting.
    """


@hookspec
def modserver_routes(context: PluginContext) -> list[BaseRoute] | None:
    """Return the routes this plugin serves, relative to ``base_url``.

    Build them with ``modserver.routing.route`` / ``websocket_route`` / ``mount`` so each
    one names the resource it guards; a plain Starlette route is refused at startup. The
    hook runs before startup: look services up at request time (``context.services``).
    """


@hookspec
def modserver_middleware(context: PluginContext) -> list[Middleware] | None:
    """Return Starlette ``Middleware`` entries to wrap the whole application.

    Middleware from plugins earlier in dependency order sits further out, so it sees a
    request first.
    """


@hookspec
def modserver_status(context: PluginContext) -> dict[str, Any] | None:
    """Return extra fields for ``GET /api/status`` (for example ``{"kernels": 2}``).

    Called on every status request: keep it cheap and do no I/O.
    """


@hookspec
def modserver_open_url(url: str, context: PluginContext) -> str | None:
    """Return the URL to print for users to open, given the URL built so far (or None).

    A chain: each plugin in dependency order receives the previous plugin's URL, starting
    from the server's root URL. The auth plugin adds ``?token=...``; a frontend plugin adds
    its page's path. Edit the URL with ``urllib.parse`` so the other parts are kept.
    """


@hookspec
def modserver_commands() -> list[Any] | None:
    """Return extra ``modserver`` subcommands as ``modserver.cli.Command`` objects.

    Example: the auth plugin adds ``modserver password``.
    """


@hookspec
def modserver_openapi(context: PluginContext) -> dict[str, Any] | None:
    """Return this plugin's part of the OpenAPI document served at ``/api/spec.yaml``.

    A dict with ``paths`` (relative to base_url, e.g. ``/api/contents/{path}``) and
    optionally ``components``; the core merges every enabled plugin's part, so the
    document always describes exactly what this server serves.
    """
