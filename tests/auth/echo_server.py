"""A modserver with one extra plugin serving a guarded WebSocket echo at ``/echo``.

Run as a script by the auth tests (arguments: ``--set section.key=value`` ...): the
other plugins with WebSockets are written elsewhere, and the origin and role checks of
WebSockets must be tested through a real server all the same.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import EntryPoint

from modserver import Plugin, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.routing import current_user, websocket_route
from starlette.websockets import WebSocket


class EchoPlugin(Plugin):
    name = "echo"
    version = "0.0.1"
    description = "Echoes WebSocket text frames, prefixed with the user's name."
    requires = (Identity, Authorizer)

    @hookimpl
    def modserver_routes(self):  # type: ignore[no-untyped-def]
        async def echo(websocket: WebSocket) -> None:
            await websocket.accept()
            user = current_user(websocket)
            async for text in websocket.iter_text():
                await websocket.send_text(f"{user.username}: {text}")

        async def watch(websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_text(current_user(websocket).username)
            await websocket.close()

        return [
            websocket_route("/echo", echo, resource="kernels"),
            websocket_route("/watch", watch, resource="kernels", action="read"),
        ]


plugin = EchoPlugin()


def main(argv: list[str]) -> int:
    from modserver.app import assemble, build
    from modserver.plugins import InstalledPlugin, discover
    from modserver.server import run
    from modserver.settings import gather

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    sets = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--set"]
    raw = gather(cli={"port": 0, "plugins": "echo"}, cli_sets=sets)
    installed = dict(discover())
    entry = EntryPoint(name="echo", value="__main__:plugin", group="modserver.plugins")
    installed["echo"] = InstalledPlugin("echo", entry)
    server = build(raw, installed)
    return run(server, assemble(server, manage_lifespan=False))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
