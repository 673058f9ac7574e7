"""Tiny plugins for the resolution tests, loaded through real EntryPoint objects."""

from __future__ import annotations

from modserver import Plugin, PluginContext, hookimpl


class Alpha:
    """A service interface."""


class Beta:
    """Another service interface."""


class Gamma:
    """A service nobody provides."""


def make(
    name: str,
    provides: tuple[type, ...] = (),
    requires: tuple[type, ...] = (),
    optional: tuple[type, ...] = (),
) -> Plugin:
    cls = type(
        f"{name.title()}Plugin",
        (Plugin,),
        {"name": name, "provides": provides, "requires": requires, "optional": optional},
    )
    return cls()


alpha = make("alpha", provides=(Alpha,))
alpha_too = make("alpha_too", provides=(Alpha,))
beta = make("beta", provides=(Beta,), requires=(Alpha,))
user = make("user", requires=(Beta,))
lonely = make("lonely", requires=(Gamma,))
cycle_a = make("cycle_a", provides=(Gamma,), requires=(Beta,))
cycle_b = make("cycle_b", provides=(Beta,), requires=(Gamma,))
optional_user = make("optional_user", optional=(Alpha,))
misnamed = make("something_else")


class _DeploymentAlpha(Plugin):
    """Provides Alpha where SAMPLE_DEPLOYMENT is set, and defaults base_url there."""

    name = "deployment_alpha"
    provides = (Alpha,)

    def detect(self, environ):  # type: ignore[no-untyped-def]
        return bool(environ.get("SAMPLE_DEPLOYMENT"))

    def core_defaults(self, environ):  # type: ignore[no-untyped-def]
        return {"base_url": environ["SAMPLE_DEPLOYMENT"]}


deployment_alpha = _DeploymentAlpha()
not_a_plugin = object()


async def _ok(request):  # type: ignore[no-untyped-def]
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("ok")


class _RoutePlugin(Plugin):
    guarded = True

    @hookimpl
    def modserver_routes(self):  # type: ignore[no-untyped-def]
        from modserver.routing import route
        from starlette.routing import Route

        if self.guarded:
            return [route("/x", _ok, resource="api")]
        return [Route("/x", _ok)]


def _route_plugin(name: str, guarded: bool) -> Plugin:
    cls = type(f"{name.title()}Plugin", (_RoutePlugin,), {"name": name, "guarded": guarded})
    return cls()


dup_a = _route_plugin("dup_a", True)
dup_b = _route_plugin("dup_b", True)
unguarded = _route_plugin("unguarded", False)


class _FrontPlugin(Plugin):
    """Serves ``/`` as a frontend plugin would: the core's landing page steps aside."""

    name = "front"

    @hookimpl
    def modserver_routes(self):  # type: ignore[no-untyped-def]
        from modserver.routing import route

        return [route("/", _ok, public=True)]


front = _FrontPlugin()


class _LandingPathPlugin(Plugin):
    """Adds its page to the startup URL, keeping what earlier plugins (the token) put there."""

    name = "landing_path"

    @hookimpl
    def modserver_open_url(self, url: str, context: PluginContext) -> str:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(url)
        page = context.state.get("page", "lab")
        return urlunsplit(parts._replace(path=parts.path + page))


landing_path = _LandingPathPlugin()


async def _echo_until_gone(websocket):  # type: ignore[no-untyped-def]
    """Echo text frames; ``receive_text`` raises WebSocketDisconnect when the client leaves."""
    await websocket.accept()
    while True:
        await websocket.send_text(await websocket.receive_text())


class _EchoPlugin(Plugin):
    """A WebSocket route written the plain Starlette way."""

    name = "echo_ws"

    @hookimpl
    def modserver_routes(self):  # type: ignore[no-untyped-def]
        from modserver.routing import websocket_route

        return [websocket_route("/echo", _echo_until_gone, resource="api")]


echo_ws = _EchoPlugin()
