"""Guarded routes: every plugin route names the resource it touches, and is checked.

The app refuses plain Starlette routes from plugins, so no route can forget
authentication and authorization. A guard asks the ``Identity`` service for the caller
and the ``Authorizer`` for permission: read for GET/HEAD, write otherwise, unless the
route names its action; WebSockets default to execute.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from modserver.api.auth import Action, Authorizer, Identity, User
from modserver.errors import json_error
from modserver.services import ServiceRegistry

USER_SCOPE_KEY = "modserver.user"
SERVICES_SCOPE_KEY = "modserver.services"
PATH_ROUTE_SCOPE_KEY = "modserver.path_route"
INDEXED_ROUTE_SCOPE_KEY = "modserver.indexed_route"

HttpEndpoint = Callable[[Request], Awaitable[Response]]
WebSocketEndpoint = Callable[[WebSocket], Awaitable[None]]


def current_user(conn: HTTPConnection) -> User:
    """The authenticated caller of a guarded route."""
    user = conn.scope.get(USER_SCOPE_KEY)
    if not isinstance(user, User):
        raise HTTPException(401, "Authentication required")
    return user


def _services(conn: HTTPConnection) -> ServiceRegistry:
    registry = conn.scope.get(SERVICES_SCOPE_KEY)
    if not isinstance(registry, ServiceRegistry):
        raise RuntimeError("modserver routes must run inside a modserver app")
    return registry


async def authorize(conn: HTTPConnection, resource: str, action: Action) -> User:
    """Authenticate the caller and check ``action`` on ``resource``; raise 401/403 if not."""
    registry = _services(conn)
    identity = registry.find(Identity)
    authorizer = registry.find(Authorizer)
    if identity is None or authorizer is None:
        raise HTTPException(403, "No authentication plugin is enabled; enable the 'auth' plugin")
    user = await identity.authenticate(conn)
    if user is None:
        raise HTTPException(
            401, "Authentication required: log in, or pass a token (Authorization: token <t>)"
        )
    if not await authorizer.is_authorized(user, action, resource):
        raise HTTPException(
            403, f"User {user.username!r} ({user.role}) may not {action} {resource}"
        )
    conn.scope[USER_SCOPE_KEY] = user
    return user


def _method_action(method: str) -> Action:
    return "read" if method in ("GET", "HEAD", "OPTIONS") else "write"


def _head_as_get(endpoint: HttpEndpoint) -> HttpEndpoint:
    """``endpoint``, given a GET request in place of a HEAD (the server sends no body)."""

    async def as_get(request: Request) -> Response:
        if request.method == "HEAD":
            request = Request({**request.scope, "method": "GET"}, request.receive)
        return await endpoint(request)

    as_get.__name__ = getattr(endpoint, "__name__", "endpoint")
    return as_get


class GuardedRoute(Route):
    """An HTTP route whose endpoint runs only for an authorized caller (or is public)."""

    def __init__(
        self,
        path: str,
        endpoint: HttpEndpoint,
        *,
        methods: Sequence[str],
        resource: str | None,
        action: Action | None = None,
        public: bool = False,
        name: str | None = None,
    ) -> None:
        if resource is None and not public:
            raise ValueError(f"route {path}: name a resource, or pass public=True")
        self.resource = resource
        self.action = action
        self.public = public
        upper = [method.upper() for method in methods]
        if "GET" in upper and "HEAD" not in upper:
            # Starlette answers HEAD on every GET route: the endpoint, written for the
            # methods it names, sees a GET (a handler that takes every method but GET for
            # a write must not write on a HEAD). Routes that name HEAD handle it themselves.
            endpoint = _head_as_get(endpoint)
        guarded = endpoint if public else self._guard(endpoint)
        super().__init__(path, guarded, methods=list(methods), name=name or endpoint.__name__)
        # The literal start of the path, up to its first parameter. The path a route
        # matches against is a part of scope["path"], so a request path not containing
        # it cannot match: the router, trying every route in turn, skips the regex.
        self._literal = path.split("{", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """As ``Route.matches``, answering NONE early for a path without the literal start."""
        if scope["type"] == "http" and self._literal not in scope["path"]:
            return Match.NONE, {}
        return super().matches(scope)

    def _guard(self, endpoint: HttpEndpoint) -> HttpEndpoint:
        resource = self.resource
        assert resource is not None

        async def guarded(request: Request) -> Response:
            await authorize(request, resource, self.action or _method_action(request.method))
            return await endpoint(request)

        return guarded


class GuardedWebSocketRoute(WebSocketRoute):
    """A WebSocket route: the caller is authorized (default action execute) before accept."""

    def __init__(
        self,
        path: str,
        endpoint: WebSocketEndpoint,
        *,
        resource: str,
        action: Action = "execute",
        name: str | None = None,
    ) -> None:
        self.resource = resource
        self.action = action

        async def guarded(websocket: WebSocket) -> None:
            try:
                await authorize(websocket, resource, action)
            except HTTPException as exc:
                # Refuse the handshake: the client sees an HTTP 403 and no socket opens.
                await websocket.close(code=1008, reason=str(exc.detail)[:120])
                return
            # Starlette's "the client went away" (from receive_text() and the like, or from
            # a send once the peer is gone under uvicorn) ends the session; it is no error
            # for the ASGI server to log.
            with contextlib.suppress(WebSocketDisconnect):
                await endpoint(websocket)

        super().__init__(path, guarded, name=name or endpoint.__name__)


class GuardedMount(Mount):
    """A mounted ASGI app (static files, say) behind the same guard."""

    def __init__(
        self,
        path: str,
        app: ASGIApp,
        *,
        resource: str | None,
        action: Action = "read",
        public: bool = False,
        name: str | None = None,
    ) -> None:
        if resource is None and not public:
            raise ValueError(f"mount {path}: name a resource, or pass public=True")
        self.resource = resource
        self.public = public
        inner = app

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and resource is not None:
                request = Request(scope, receive)
                try:
                    await authorize(request, resource, action)
                except HTTPException as exc:
                    await json_error(exc.status_code, str(exc.detail))(scope, receive, send)
                    return
            await inner(scope, receive, send)

        super().__init__(path, app=inner if public else guarded, name=name)


def route(
    path: str,
    endpoint: HttpEndpoint,
    *,
    methods: Sequence[str] = ("GET",),
    resource: str | None = None,
    action: Action | None = None,
    public: bool = False,
    name: str | None = None,
) -> GuardedRoute:
    """An HTTP route guarded for ``resource`` (or explicitly ``public``)."""
    return GuardedRoute(
        path, endpoint, methods=methods, resource=resource, action=action, public=public, name=name
    )


def websocket_route(
    path: str,
    endpoint: WebSocketEndpoint,
    *,
    resource: str,
    action: Action = "execute",
    name: str | None = None,
) -> GuardedWebSocketRoute:
    """A WebSocket route guarded for ``resource``; origin checks belong to ``Identity``."""
    return GuardedWebSocketRoute(path, endpoint, resource=resource, action=action, name=name)


def mount(
    path: str,
    app: ASGIApp,
    *,
    resource: str | None = None,
    action: Action = "read",
    public: bool = False,
    name: str | None = None,
) -> GuardedMount:
    """Mount an ASGI app under ``path``, guarded for ``resource`` (or ``public``)."""
    return GuardedMount(path, app, resource=resource, action=action, public=public, name=name)


def is_guarded(item: BaseRoute) -> bool:
    """True for routes built with this module's helpers."""
    return isinstance(item, GuardedRoute | GuardedWebSocketRoute | GuardedMount)


def route_keys(item: BaseRoute) -> list[str]:
    """Keys that two plugins must not both claim, e.g. ``GET /api/x`` or ``WS /api/y``."""
    if isinstance(item, WebSocketRoute):
        return [f"WS {item.path}"]
    if isinstance(item, Mount):
        return [f"MOUNT {item.path}"]
    if isinstance(item, Route):
        return [f"{m} {item.path}" for m in sorted(item.methods or ())]
    return [repr(item)]


class PathRoutes(BaseRoute):
    """Every HTTP route of one path as one route: a method it does not serve gets 405.

    Starlette lets a request whose method one route lacks fall through to a later route
    that also matches the path (``PATCH .../x/checkpoints`` reached the rename route),
    and its 405 lists the methods of one route only. Here, as in tornado and
    jupyter_server, the first path that matches owns the request: the route of its
    method serves it, or the answer is 405 with ``Allow`` listing every method of the path.
    """

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = list(routes)
        self.path = self.routes[0].path
        self.methods = sorted({m for r in self.routes for m in r.methods or ()})

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FULL for any request to this path; which route serves it is in the scope."""
        if scope["type"] != "http":
            return Match.NONE, {}
        partial: Scope | None = None
        for item in self.routes:
            match, child_scope = item.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child_scope, PATH_ROUTE_SCOPE_KEY: item}
            if match is Match.PARTIAL and partial is None:
                partial = child_scope
        if partial is None:
            return Match.NONE, {}
        return Match.FULL, {**partial, PATH_ROUTE_SCOPE_KEY: None}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve with the route of the method, or answer 405 naming every method."""
        item = scope.get(PATH_ROUTE_SCOPE_KEY)
        if not isinstance(item, Route):
            raise HTTPException(405, headers={"Allow": ", ".join(self.methods)})
        await item.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The URL of the named route among this path's routes."""
        return url_path_among(self.routes, name, path_params)

    def __repr__(self) -> str:
        return f"PathRoutes(path={self.path!r}, methods={self.methods!r})"


def url_path_among(routes: Sequence[BaseRoute], name: str, path_params: dict[str, Any]) -> URLPath:
    """The URL of the first of ``routes`` that knows the route ``name``."""
    for item in routes:
        try:
            return item.url_path_for(name, **path_params)
        except NoMatchFound:
            continue
    raise NoMatchFound(name, path_params)


def group_by_path(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The routes with all HTTP routes of one path joined into one ``PathRoutes``.

    Each path's group takes the place of its first route, so the order of paths (the
    more specific first) is kept.
    """
    groups: dict[str, list[Route]] = {}
    order: list[BaseRoute | str] = []
    for item in routes:
        if isinstance(item, Route):
            if item.path not in groups:
                groups[item.path] = []
                order.append(item.path)
            groups[item.path].append(item)
        else:
            order.append(item)
    return [PathRoutes(groups[x]) if isinstance(x, str) else x for x in order]


def first_segment(item: BaseRoute) -> str | None:
    """The literal first segment of the paths ``item`` matches (``api`` for ``/api/x``).

    ``""`` for ``/``; None when the first segment is a parameter or the route has no path
    (it may then match any path).
    """
    path = getattr(item, "path", None)
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    segment = path[1:].split("/", 1)[0]
    return None if "{" in segment else segment


class RouteIndex(BaseRoute):
    """The app's routes, tried only among those that can serve the first path segment.

    Starlette's router tries each route's regex in turn: with every plugin enabled that is
    ~70 routes, most of them paid for by a request to a late one. Here a dict lookup on
    the request's first segment picks the routes with that literal first segment, plus
    those that may match anything (a parameter first, a host route), in their order:
    the first full match wins, else the first partial one, as in Starlette's router.
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = list(routes)
        keyed = [(first_segment(item), item) for item in self.routes]
        self._anywhere = [item for key, item in keyed if key is None]
        self._by_segment = {
            segment: [item for key, item in keyed if key in (segment, None)]
            for segment in {key for key, _ in keyed if key is not None}
        }

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """The match of the first candidate route that matches; which one is in the scope."""
        segment = get_route_path(scope)[1:].split("/", 1)[0]
        partial: tuple[BaseRoute, Scope] | None = None
        for item in self._by_segment.get(segment, self._anywhere):
            match, child_scope = item.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child_scope, INDEXED_ROUTE_SCOPE_KEY: item}
            if match is Match.PARTIAL and partial is None:
                partial = item, child_scope
        if partial is None:
            return Match.NONE, {}
        return Match.PARTIAL, {**partial[1], INDEXED_ROUTE_SCOPE_KEY: partial[0]}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the route ``matches`` picked."""
        item: BaseRoute = scope[INDEXED_ROUTE_SCOPE_KEY]
        await item.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The URL of the named route, as Starlette's router finds it."""
        return url_path_among(self.routes, name, path_params)

    def __repr__(self) -> str:
        return f"RouteIndex({len(self.routes)} routes)"


def describe(item: Any) -> str:
    """A short name for a route in error messages."""
    return getattr(item, "path", repr(item))


async def refuse_websocket(websocket: WebSocket, status: int, message: str) -> None:
    """Refuse a WebSocket handshake with an HTTP ``status`` and a JSON ``{message}`` body.

    Clients see why (e.g. 404 for a kernel or terminal that does not exist). Under an ASGI
    server without the denial-response extension, the socket closes with 1008 instead.
    """
    try:
        await websocket.send_denial_response(
            JSONResponse({"message": message, "reason": None}, status_code=status)
        )
    except RuntimeError:
        await websocket.close(code=1008, reason=message[:120])
