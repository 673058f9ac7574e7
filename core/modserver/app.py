"""Assemble the ASGI app: plugins, settings, services, routes and middleware, composed once.

``create_app`` is the embedding entry point; ``modserver run`` uses the same function.
The request path, outermost first: activity/services middleware, the body limit, each
plugin's middleware in dependency order, then the routes (core routes and every plugin's,
under base_url, found through a ``RouteIndex`` by their first path segment).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pluggy
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from modserver.bodylimit import BodyLimitMiddleware
from modserver.child_env import hide_from_children
from modserver.core_routes import core_routes
from modserver.errors import (
    RequestError,
    handle_http_exception,
    handle_request_error,
    handle_unexpected,
)
from modserver.hooks import AppHooks, call_plugin_hook
from modserver.landing import landing_route
from modserver.lifecycle import run_plugins
from modserver.plugin import Plugin, PluginContext, ServerControl
from modserver.plugins import (
    InstalledPlugin,
    PluginError,
    discover,
    load,
    plugin_manager,
    resolve,
)
from modserver.routing import (
    SERVICES_SCOPE_KEY,
    RouteIndex,
    describe,
    group_by_path,
    is_guarded,
    route_keys,
)
from modserver.services import ServiceRegistry, ServiceView
from modserver.settings import (
    CORE,
    CoreSettings,
    RawSettings,
    SettingsError,
    check_environment,
    document_layer,
    gather,
    validate_core,
    validate_section,
)
from modserver.version import __version__
from modserver.websocket_compression import adapt_hypercorn, compression_policy, mark_scope
from modserver.websocket_frames import adapt_hypercorn_sends, advertise

log = logging.getLogger("modserver")

STATUS_PATH = "api/status"

#: The plugins' warm-ups wait for this long without an HTTP request in flight after the
#: start (the first requests, a readiness poll, do not compete with them for the CPU:
#: the first answer took ~0.1 s instead of a few ms on a busy 2-core machine) ...
WARM_UP_QUIET = 0.1
#: ... but no longer than this after the start, however busy the server is.
WARM_UP_DELAY_MAX = 1.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(eq=False)
class Modserver:
    """One assembled server: its settings, plugins (in order), services and state."""

    settings: CoreSettings
    raw_settings: RawSettings
    plugins: list[Plugin]
    contexts: dict[str, PluginContext]
    plugin_manager: pluggy.PluginManager
    services: ServiceRegistry
    control: ServerControl = field(default_factory=ServerControl)
    started: datetime | None = None
    last_activity: datetime = field(default_factory=utcnow)
    #: HTTP requests being answered, and when the last one ended (time.monotonic).
    requests_in_flight: int = 0
    last_request_end: float = field(default_factory=time.monotonic)

    def lifespan(self) -> AbstractAsyncContextManager[None]:
        """Start every plugin; on exit stop them in reverse order."""
        return run_plugins(
            self.plugin_manager,
            [(p, self.contexts[p.name]) for p in self.plugins],
            shutdown_timeout=self.settings.shutdown_timeout,
            on_started=self._mark_started,
            warm_ups_after=self.quiet_moment,
            warm_up=self.settings.warm_up,
        )

    def _mark_started(self) -> None:
        self.started = self.last_activity = utcnow()
        self.last_request_end = time.monotonic()

    async def quiet_moment(self) -> None:
        """Return once no HTTP request has been in flight for ``WARM_UP_QUIET`` seconds,
        or ``WARM_UP_DELAY_MAX`` seconds after the call at the latest."""
        import anyio

        deadline = time.monotonic() + WARM_UP_DELAY_MAX
        while True:
            now = time.monotonic()
            quiet_since = now - self.last_request_end
            if now >= deadline or (self.requests_in_flight == 0 and quiet_since >= WARM_UP_QUIET):
                return
            await anyio.sleep(min(WARM_UP_QUIET / 2, deadline - now))

    def status(self) -> dict[str, Any]:
        """The ``/api/status`` body: core fields plus every plugin's contribution."""
        fields: dict[str, Any] = {}
        last = self.last_activity
        for plugin in self.plugins:
            extra = call_plugin_hook(
                self.plugin_manager, plugin, "modserver_status", context=self.contexts[plugin.name]
            )
            for key, value in (extra or {}).items():
                if key == "last_activity" and isinstance(value, datetime):
                    last = max(last, value)
                else:
                    fields[key] = value
        started = self.started or self.last_activity
        return {"started": _iso(started), "last_activity": _iso(last), **fields}

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of the core and every enabled plugin."""
        from modserver.openapi import merge

        fragments = []
        for plugin in self.plugins:
            fragment = call_plugin_hook(
                self.plugin_manager, plugin, "modserver_openapi", context=self.contexts[plugin.name]
            )
            if fragment:
                fragments.append((plugin.name, fragment))
        document = merge(__version__, fragments)
        # Paths are relative to base_url: say where they start, for clients of the document.
        document["servers"] = [{"url": self.settings.base_url}]
        return document

    def open_url(self, url: str) -> str:
        """The URL to print for users: each plugin in turn may add a token or a path."""
        for plugin in self.plugins:
            changed = call_plugin_hook(
                self.plugin_manager,
                plugin,
                "modserver_open_url",
                url=url,
                context=self.contexts[plugin.name],
            )
            if changed:
                url = str(changed)
        return url


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class _ScopeMiddleware:
    """Outermost: lets guarded routes find the services, records API activity, counts the
    HTTP requests in flight, says whether a WebSocket may be compressed (see
    ``websocket_compression``) and whether it may send several messages at once (see
    ``websocket_frames``)."""

    def __init__(self, app: ASGIApp, server: Modserver) -> None:
        self.app = app
        self.server = server
        settings = server.settings
        self.may_compress = compression_policy(settings.base_url, settings.websocket_compression)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            server = self.server
            scope[SERVICES_SCOPE_KEY] = server.services
            if not scope["path"].endswith(STATUS_PATH):
                server.last_activity = utcnow()
            if scope["type"] == "http":
                # Counted for Modserver.quiet_moment (when the warm-ups may begin).
                server.requests_in_flight += 1
                try:
                    await self.app(scope, receive, send)
                finally:
                    server.requests_in_flight -= 1
                    server.last_request_end = time.monotonic()
                return
            mark_scope(scope, self.may_compress(scope))
            advertise(scope, send)
        await self.app(scope, receive, send)


def build(raw: RawSettings, installed: Mapping[str, InstalledPlugin] | None = None) -> Modserver:
    """Validate settings, select and load plugins, and create their contexts.

    Raises ``SettingsError`` or ``PluginError`` before anything starts.
    """
    core = validate_core(raw)
    logging.getLogger("modserver").setLevel(core.log_level.upper())
    available = dict(installed) if installed is not None else discover()
    plugins = resolve(core.plugins, available, raw.environ)
    core = _apply_core_defaults(raw, plugins, core)
    hide_from_children(name for p in plugins for name in p.secret_environment)
    # Now that the sections' models are known, read the environment's values as they ask.
    raw.decode({p.name: p.settings for p in plugins if p.settings is not None})
    _check_sections(raw, plugins, available)
    _check_environment(raw, plugins, available)

    pm = plugin_manager(plugins)
    registry = ServiceRegistry()
    control = ServerControl()
    contexts: dict[str, PluginContext] = {}
    hooks = AppHooks(pm, plugins, contexts)
    for plugin in plugins:
        section = validate_section(plugin.settings, raw, plugin.name) if plugin.settings else None
        contexts[plugin.name] = PluginContext(
            name=plugin.name,
            settings=section,
            core=core,
            services=ServiceView(
                registry, plugin.name, plugin.provides, plugin.requires, plugin.optional
            ),
            hook=hooks,
            log=logging.getLogger(f"modserver.{plugin.name}"),
            server=control,
        )
    return Modserver(core, raw, plugins, contexts, pm, registry, control)


def _apply_core_defaults(
    raw: RawSettings, plugins: list[Plugin], core: CoreSettings
) -> CoreSettings:
    """Put the core defaults enabled plugins derive from the environment below every source."""
    changed = False
    for plugin in plugins:
        defaults = dict(plugin.core_defaults(raw.environ))
        if defaults:
            origin = f"plugin {plugin.name} (from the environment)"
            raw.add_defaults(document_layer(defaults, origin))
            changed = True
    if not changed:
        return core
    core = validate_core(raw)
    logging.getLogger("modserver").setLevel(core.log_level.upper())
    return core


def _check_sections(
    raw: RawSettings, plugins: list[Plugin], installed: Mapping[str, InstalledPlugin]
) -> None:
    enabled = {p.name: p for p in plugins}
    for section in raw.values:
        if section == CORE:
            continue
        if section in enabled and enabled[section].settings is None:
            raise SettingsError(f"plugin {section!r} has no settings, but [{section}] sets some")
        if section not in installed:
            where = raw.section_origin(section)
            raise SettingsError(
                f"settings section [{section}] (from {where}) names no installed plugin; "
                f"installed: {', '.join(installed) or 'none'}"
            )


def _check_environment(
    raw: RawSettings, plugins: list[Plugin], installed: Mapping[str, InstalledPlugin]
) -> None:
    claimed = {name for p in plugins for name in p.environment}
    if set(raw.unclaimed_env) - claimed:
        # Rare (a typo, or a disabled plugin's variable): only now import the others.
        enabled = {p.name for p in plugins}
        for name, item in installed.items():
            if name not in enabled:
                with suppress(PluginError):
                    claimed.update(load(item).environment)
    check_environment(raw.unclaimed_env, claimed)


# Errors a route lets escape, as JSON: HTTPException and services' RequestError with
# their status, anything else a logged 500. (Typed loosely: one handler serves both
# requests and WebSockets, which Starlette's type does not express.)
EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: handle_http_exception,
    RequestError: handle_request_error,
    Exception: handle_unexpected,
}


def assemble(server: Modserver, *, manage_lifespan: bool = True) -> Starlette:
    """Compose the Starlette app of an already built server."""
    adapt_hypercorn()  # so that hypercorn honours websocket_compression (a no-op elsewhere)
    adapt_hypercorn_sends()  # fewer copies and writes for WebSocket frames under hypercorn
    routes = _collect_routes(server)
    if server.settings.base_url != "/":
        routes = [Mount(server.settings.base_url.rstrip("/"), routes=routes)]
    middleware = [
        Middleware(_ScopeMiddleware, server=server),
        Middleware(
            BodyLimitMiddleware,
            limit=server.settings.max_body_size,
            timeout=server.settings.body_timeout,
        ),
    ]
    for plugin in server.plugins:
        contributed = call_plugin_hook(
            server.plugin_manager,
            plugin,
            "modserver_middleware",
            context=server.contexts[plugin.name],
        )
        middleware.extend(contributed or [])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.lifespan():
            yield

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan if manage_lifespan else None,
    )
    app.state.modserver = server
    return app


def _collect_routes(server: Modserver) -> list[BaseRoute]:
    owners: dict[str, str] = {}
    routes: list[BaseRoute] = []
    core = core_routes(status=server.status, openapi=server.openapi, control=server.control)
    for owner, contributed in [("core", core), *_plugin_routes(server)]:
        for item in contributed:
            if owner != "core" and not is_guarded(item):
                raise PluginError(
                    f"plugin {owner!r} contributed route {describe(item)} without a guard: "
                    "build it with modserver.routing.route/websocket_route/mount"
                )
            for key in route_keys(item):
                if key in owners:
                    raise PluginError(
                        f"route {key} is contributed by both {owners[key]!r} and {owner!r}: "
                        "disable one of the plugins"
                    )
                owners[key] = owner
            routes.append(item)
    _check_openapi(server, owners)
    if "GET /" not in owners:
        routes.append(landing_route(server.plugins))
    return [RouteIndex(group_by_path(routes))]


def _check_openapi(server: Modserver, route_keys: Iterable[str]) -> None:
    """Every operation a plugin's OpenAPI fragment documents must be a route it serves,
    and its components must not redefine the core's or another plugin's."""
    from modserver.openapi import component_conflicts, served_operations, unserved_operations

    served = served_operations(route_keys)
    fragments = []
    for plugin in server.plugins:
        fragment = call_plugin_hook(
            server.plugin_manager, plugin, "modserver_openapi", context=server.contexts[plugin.name]
        )
        missing = unserved_operations(fragment or {}, served)
        if missing:
            raise PluginError(
                f"plugin {plugin.name!r} documents {', '.join(missing)} in its OpenAPI "
                "fragment (modserver_openapi), but no route serves it: fix the fragment "
                "(paths relative to base_url, parameters as {name}) or serve the route"
            )
        fragments.append((plugin.name, fragment or {}))
    conflicts = component_conflicts(fragments)
    if conflicts:
        raise PluginError(conflicts[0])


def _plugin_routes(server: Modserver) -> list[tuple[str, list[BaseRoute]]]:
    result = []
    for plugin in server.plugins:
        contributed = call_plugin_hook(
            server.plugin_manager, plugin, "modserver_routes", context=server.contexts[plugin.name]
        )
        result.append((plugin.name, list(contributed or [])))
    return result


def create_app(
    *,
    plugins: list[str] | None = None,
    settings: Mapping[str, Any] | None = None,
    config_file: str | Path | None = None,
    use_env: bool = True,
    manage_lifespan: bool = True,
) -> Starlette:
    """Build modserver as an ASGI app, for embedding in another application.

    ``settings`` takes core keys at the top level and plugin sections as nested dicts,
    e.g. ``{"root_dir": "/srv/notebooks", "auth": {"token": "..."}}``; they override the
    config file and the environment. With ``manage_lifespan`` the app runs its plugins
    in its own ASGI lifespan; when mounting it inside a host app, whose router does not
    run a mounted app's lifespan, enter ``lifespan_of(app)`` from the host's lifespan.
    """
    raw = gather(
        config_file=Path(config_file) if config_file else None,
        env=None if use_env else {},
    )
    document = dict(settings or {})
    if plugins is not None:
        document["plugins"] = plugins
    raw.add(document_layer(document, "create_app"))
    return assemble(build(raw), manage_lifespan=manage_lifespan)


def server_of(app: Starlette) -> Modserver:
    """The ``Modserver`` behind an app made by ``create_app``."""
    server = getattr(app.state, "modserver", None)
    if not isinstance(server, Modserver):
        raise TypeError("not an app made by modserver.create_app")
    return server


def lifespan_of(app: Starlette) -> AbstractAsyncContextManager[None]:
    """The plugins' lifespan of a modserver app, for a host app's lifespan to enter."""
    return server_of(app).lifespan()


def notify_stopping(app: Starlette) -> None:
    """Tell a modserver app that the server serving it has begun to stop.

    The plugins close their long-lived connections (kernel, terminal and document
    WebSockets) at once, so a graceful stop is not held up until the ASGI server's own
    timeout. ``modserver run`` does this on SIGINT/SIGTERM; a host serving an embedded app
    calls it when its own stop begins (docs/embedding.md). Calling it again does nothing.
    """
    server_of(app).control.notify_stopping()
