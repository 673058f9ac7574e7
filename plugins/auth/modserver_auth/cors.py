"""CORS through Starlette's ``CORSMiddleware``, configured from ``[auth]``.

The auth middleware (outside this one) has already refused any cross-origin request
from an origin that is not allowed, so this one only answers preflights and adds the
CORS headers for allowed origins. ``allow_origin_pat`` is fully anchored (Starlette
matches it with ``fullmatch``). A wildcard never goes with credentials: with
``allow_origin = "*"`` responses say ``*`` and never ``Allow-Credentials`` (Starlette
would echo each origin with credentials, letting every site read authenticated
responses).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from modserver_auth.hosts import OriginPolicy

#: How long a browser may cache a preflight's answer, in seconds.
PREFLIGHT_MAX_AGE = 600


def cors_middleware(policy: OriginPolicy) -> Middleware:
    """The CORS middleware for ``policy``'s allowed origins."""
    wildcard = policy.allow_origin == "*"
    return Middleware(
        CORSMiddleware,
        allow_origins=[policy.allow_origin] if policy.allow_origin else [],
        allow_origin_regex=policy.allow_origin_pat.pattern if policy.allow_origin_pat else None,
        allow_credentials=policy.allow_credentials and not wildcard,
        allow_methods=["*"],
        allow_headers=["*"],
        max_age=PREFLIGHT_MAX_AGE,
    )
