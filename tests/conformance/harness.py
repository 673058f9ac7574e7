"""Helpers of the conformance tests: which plugins to run, path matching, cleanup."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import requests
import schemathesis
from modserver.plugins import discover, load
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.transport.requests import ManagedCookiesSession

from tests.conformance.known_deviations import BODILESS_STATUSES
from tests.conftest import RunningServer

#: The distribution whose plugins are the built-ins (test fixtures install others).
BUILT_IN = "modserver"


def working_plugins() -> list[str]:
    """Every built-in plugin this environment allows (one that cannot start fails the run).

    Left out: plugins for another deployment (``jupyterhub`` outside a hub), which would
    be a second provider of auth's services.
    """
    return [
        name
        for name, plugin in discover().items()
        if plugin.entry_point.dist is not None
        and plugin.entry_point.dist.name == BUILT_IN
        and load(plugin).detect(os.environ) is not False
    ]


def path_pattern(template: str) -> str:
    """``/api/kernels/{kernel_id}`` -> ``/api/kernels/{}``: compare paths across specs."""
    return re.sub(r"\{[^}]*\}", "{}", template).rstrip("/") or "/"


def remove_leftovers(server: RunningServer) -> None:
    """Delete every session, kernel and terminal a generated request created (they cost)."""
    with server.client() as client:
        sessions = client.get("api/sessions")
        for session in sessions.json() if sessions.status_code == 200 else []:
            client.delete(f"api/sessions/{session['id']}")
        kernels = client.get("api/kernels")
        for kernel in kernels.json() if kernels.status_code == 200 else []:
            client.delete(f"api/kernels/{kernel['id']}")
        terminals = client.get("api/terminals")
        for terminal in terminals.json() if terminals.status_code == 200 else []:
            client.delete(f"api/terminals/{terminal['name']}")


def generated_requests_session() -> requests.Session:
    """The HTTP session that sends a run's generated requests, one after another.

    Its connection stays open between requests (schemathesis would otherwise open one
    per request, and look proxies and netrc up in the environment each time). Requests
    stay as schemathesis sends them: no default headers, no cookies kept from one
    generated request to the next, redirects followed only on the same host.
    """
    session = ManagedCookiesSession()
    session.headers.clear()
    session.trust_env = False
    return session


def jupyter_server_api_yaml() -> Path:
    """jupyter_server's own OpenAPI (Swagger 2.0) file, from the installed package."""
    import jupyter_server

    return Path(jupyter_server.__file__).parent / "services" / "api" / "api.yaml"


#: Which plugin serves each API area of jupyter_server (path up to its first parameter).
OWNERS: dict[str, str] = {
    "/api": "core",
    "/api/status": "core",
    "/api/spec.yaml": "core",
    "/api/me": "auth",
    "/api/config": "config",
    "/api/contents": "contents",
    "/api/kernels": "kernels",
    "/api/kernelspecs": "kernels",
    "/api/sessions": "sessions",
    "/api/resolvePath": "sessions",
    "/api/terminals": "terminals",
}


def owner(path: str) -> str:
    """The plugin serving ``path`` of jupyter_server's file (``core`` for the core)."""
    return OWNERS.get(path_pattern(path).split("/{")[0], "unknown")


#: Generated requests per operation that changes something (kernel-starting ones get a
#: sixth, read-only ones two fifths: they take the same parameters again and again and
#: change nothing that a later request could trip over). The runs are derandomized, so
#: the suite sends the same requests every time: a regression check, ~8 ms of the test
#: worker's CPU per request (hypothesis' generation, most of it). Raise it for a deeper,
#: exploring local run: ``CONFORMANCE_EXAMPLES=500 pytest tests/conformance``.
EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "15"))
KERNEL_EXAMPLES = max(2, EXAMPLES // 6)
READ_EXAMPLES = max(2, EXAMPLES * 2 // 5)
#: Methods that only read: they get ``READ_EXAMPLES``.
READ_ONLY_METHODS = frozenset({"get", "head", "options"})


def content_type_of_a_body(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """``content_type_conformance``, for responses that have a body."""
    if response.status_code in BODILESS_STATUSES:
        return None
    return content_type_conformance(ctx, response, case)
