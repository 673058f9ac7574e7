"""Reading a request header straight from the ASGI scope, for middleware on every request.

Starlette's ``Headers`` lower-cases and encodes the name, scans the list and raises
``KeyError`` for an absent header (``get`` catches it): a few microseconds a lookup, and
each middleware builds its own. ``header`` scans the raw list once with a bytes name.
ASGI servers give header names in lower case; so do Starlette's lookups.
"""

from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of request header ``name`` (lower-case bytes), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
