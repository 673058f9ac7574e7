"""CORS through Starlette's ``CORSMiddleware``, configured from ``[auth]``.

The auth middleware (outside this one) has already refused any cross-origin request
from an origin that is not allowed, so this one only answers preflights and adds the
CORS headers for allowed origins. ``allow_origin_pat`` is fully anchored (Starlette
matches it with ``fullmatch``). A wildcard never goes with credentials: with
``allow_origin = "*"`` responses say ``*`` and never ``Allow-Credentials`` (Starlette
would echo each origin with credentials, letting every site read authenticated
responses).

Most requests carry no ``Origin`` (same-origin GETs, scripts, the benchmarks' clients):
those skip Starlette's per-response header parsing and only get ``Vary: Origin``, as
Starlette would add.
"""

from __future__ import annotations

from modserver.request_headers import header
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from modserver_auth.hosts import OriginPolicy

#: How long a browser may cache a preflight's answer, in seconds.
PREFLIGHT_MAX_AGE = 600


def cors_middleware(policy: OriginPolicy) -> Middleware:
    """The CORS middleware for ``policy``'s allowed origins."""
    wildcard = policy.allow_origin == "*"
    return Middleware(
        _OriginCORSMiddleware,
        allow_origins=[policy.allow_origin] if policy.allow_origin else [],
        allow_origin_regex=policy.allow_origin_pat.pattern if policy.allow_origin_pat else None,
        allow_credentials=policy.allow_credentials and not wildcard,
        allow_methods=["*"],
        allow_headers=["*"],
        max_age=PREFLIGHT_MAX_AGE,
    )


class _OriginCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a short path for requests without an ``Origin`` header."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or header(scope, b"origin") is not None:
            await super().__call__(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_vary_origin(message)
            await send(message)

        await self.app(scope, receive, send_varying)


def _add_vary_origin(message: Message) -> None:
    """Add ``Origin`` to the response's ``Vary`` (the common case: no ``Vary`` yet)."""
    headers = message.get("headers", ())
    for key, _ in headers:
        if key.lower() == b"vary":
            message["headers"] = list(headers)
            mutable = MutableHeaders(scope=message)
            mutable["Vary"] = ", ".join([*mutable.getlist("Vary"), "Origin"])
            return
    message["headers"] = [*headers, (b"vary", b"Origin")]
