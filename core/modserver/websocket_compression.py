"""Which WebSockets may negotiate permessage-deflate: the app decides, hypercorn obeys.

Browsers offer permessage-deflate on every WebSocket and hypercorn (0.17-0.18) accepts it
whenever it is offered, with no setting: every kernel frame would then be compressed,
which costs more CPU and latency than it saves on the small, latency-bound messages of a
kernel (jupyter_server does not compress kernel WebSockets either). So compression is
off unless the core setting ``websocket_compression`` lists the route family.

The app records its decision in the connection's ASGI scope (``mark_scope``, called by the
core's outermost middleware), under ``scope["extensions"][SCOPE_KEY]``; the one adaptation
of hypercorn (``adapt_hypercorn``) reads it when the app accepts the WebSocket and drops
the client's extension offer before hypercorn answers the handshake. A connection whose
scope holds no decision (another app served by the same hypercorn) keeps hypercorn's own
behaviour. Note for upstream: an ASGI-level way for the app to refuse extensions (e.g. an
``extensions`` key in ``websocket.accept``) would make this adaptation unnecessary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from starlette.types import Scope

from modserver.hypercorn_version import note_if_untested

log = logging.getLogger("modserver.websocket_compression")

#: The key under the scope's ``extensions`` holding the app's decision (a bool).
SCOPE_KEY = "modserver.websocket.permessage_deflate"

#: hypercorn versions whose ``WSStream._accept`` / ``Handshake.extensions`` this adapts,
#: checked by tests/core/test_websocket_compression.py.
TESTED_HYPERCORN = ("0.17", "0.18")

_ADAPTED = "_modserver_compression_policy"


def compression_policy(base_url: str, families: Iterable[str]) -> Callable[[Scope], bool]:
    """Return ``allowed(scope)``: may this WebSocket negotiate permessage-deflate?

    ``families`` are path prefixes under ``base_url`` (``api/terminals``, ``/`` for
    all); ``api/terminals`` matches ``api/terminals`` and ``api/terminals/...``.
    """
    prefixes = tuple(family.strip("/") for family in families)
    if not prefixes:
        return lambda scope: False
    base = base_url.rstrip("/")

    def allowed(scope: Scope) -> bool:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]  # mounted in a host app: the path as the app routes it
        if base and path.startswith(base):
            path = path[len(base) :]
        path = path.strip("/")
        return any(
            not prefix or path == prefix or path.startswith(prefix + "/") for prefix in prefixes
        )

    return allowed


def mark_scope(scope: Scope, allowed: bool) -> None:
    """Record the app's decision where the adapted hypercorn finds it."""
    extensions = scope.get("extensions")
    if isinstance(extensions, dict):
        extensions[SCOPE_KEY] = allowed


def adapt_hypercorn() -> bool:
    """Make hypercorn respect the scope's decision (once per process); False if it cannot.

    Wraps ``hypercorn.protocol.ws_stream.WSStream._accept``: before hypercorn answers the
    handshake, a refused connection forgets the client's ``Sec-WebSocket-Extensions``
    offer, so wsproto negotiates no extension and frames go out uncompressed.
    """
    try:
        from hypercorn.protocol import ws_stream
    except ImportError:  # pragma: no cover - hypercorn is a dependency
        return False
    stream = getattr(ws_stream, "WSStream", None)
    original = getattr(stream, "_accept", None)
    if stream is None or original is None:
        _warn_untested("no WSStream._accept")
        return False
    if getattr(original, _ADAPTED, False):
        return True
    note_if_untested(TESTED_HYPERCORN, log)

    async def _accept(self: Any, message: Any) -> None:
        decision = (self.scope.get("extensions") or {}).get(SCOPE_KEY)
        if decision is False and hasattr(self.handshake, "extensions"):
            self.handshake.extensions = None  # as if the client had offered none
        await original(self, message)

    setattr(_accept, _ADAPTED, True)
    stream._accept = _accept
    return True


def _warn_untested(reason: str) -> None:
    log.warning(
        "cannot control WebSocket compression with this hypercorn (%s); tested on %s: "
        "clients offering permessage-deflate will get it on every route",
        reason,
        ", ".join(TESTED_HYPERCORN),
    )
