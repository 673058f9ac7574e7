"""What JupyterHub tells a server it spawns, through ``JUPYTERHUB_*`` variables.

Read once per app from the process environment. The hub's API token is the server's
OAuth client secret: it is kept here and sent only to the hub's API, never logged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

#: The variables every spawned single-user server receives; all present means "in a hub".
REQUIRED = (
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_API_URL",
    "JUPYTERHUB_CLIENT_ID",
    "JUPYTERHUB_USER",
    "JUPYTERHUB_SERVICE_PREFIX",
)


class HubEnvironmentError(ValueError):
    """The ``JUPYTERHUB_*`` environment is incomplete or malformed."""


def in_hub(environ: Mapping[str, str]) -> bool:
    """True when a hub spawned this process (every required variable is set)."""
    return all(environ.get(name) for name in REQUIRED)


def _slashed(path: str) -> str:
    """``path`` with exactly one leading and one trailing slash."""
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


@dataclass(frozen=True)
class HubEnvironment:
    """The hub's view of this server: who owns it, where it lives, how to reach the hub."""

    api_token: str = field(repr=False)
    api_url: str
    client_id: str
    user: str
    server_name: str
    service_prefix: str
    oauth_callback_url: str
    access_scopes: tuple[str, ...]
    hub_url: str
    activity_url: str
    service_url: str = ""
    #: The hub's host for browsers ("" when it shares ours) and its path (``/hub/``).
    hub_host: str = ""
    hub_prefix: str = "/hub/"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> HubEnvironment:
        """Read the environment; ``HubEnvironmentError`` names what is missing."""
        missing = [name for name in REQUIRED if not environ.get(name)]
        if missing:
            raise HubEnvironmentError(
                f"the jupyterhub plugin needs {', '.join(missing)}: start modserver from "
                "JupyterHub's spawner, or leave jupyterhub out of --plugins"
            )
        user = environ["JUPYTERHUB_USER"]
        server_name = environ.get("JUPYTERHUB_SERVER_NAME", "")
        prefix = _slashed(environ["JUPYTERHUB_SERVICE_PREFIX"])
        api_url = environ["JUPYTERHUB_API_URL"].rstrip("/")
        # Where browsers reach the hub: its public URL if the hub has one, else its
        # host (empty: the same origin as this server) and base URL.
        hub_url = environ.get("JUPYTERHUB_PUBLIC_HUB_URL") or (
            environ.get("JUPYTERHUB_HOST", "")
            + _slashed(environ.get("JUPYTERHUB_BASE_URL", "/"))
            + "hub/"
        )
        return cls(
            api_token=environ["JUPYTERHUB_API_TOKEN"],
            api_url=api_url,
            client_id=environ["JUPYTERHUB_CLIENT_ID"],
            user=user,
            server_name=server_name,
            service_prefix=prefix,
            oauth_callback_url=environ.get("JUPYTERHUB_OAUTH_CALLBACK_URL")
            or prefix + "oauth_callback",
            access_scopes=_access_scopes(environ, user, server_name),
            hub_url=hub_url if hub_url.endswith("/") else hub_url + "/",
            activity_url=environ.get("JUPYTERHUB_ACTIVITY_URL")
            or f"{api_url}/users/{user}/activity",
            service_url=environ.get("JUPYTERHUB_SERVICE_URL", ""),
            hub_host=environ.get("JUPYTERHUB_HOST", ""),
            hub_prefix=_slashed(environ.get("JUPYTERHUB_BASE_URL", "/")) + "hub/",
        )

    @property
    def callback_path(self) -> str:
        """The OAuth callback's path relative to the service prefix (a route of ours)."""
        path = urlsplit(self.oauth_callback_url).path
        if not path.startswith(self.service_prefix):
            raise HubEnvironmentError(
                f"JUPYTERHUB_OAUTH_CALLBACK_URL {self.oauth_callback_url!r} is not under "
                f"JUPYTERHUB_SERVICE_PREFIX {self.service_prefix!r}"
            )
        return "/" + path[len(self.service_prefix) :]


def _access_scopes(environ: Mapping[str, str], user: str, server_name: str) -> tuple[str, ...]:
    """The scopes that grant access to this server (``JUPYTERHUB_OAUTH_ACCESS_SCOPES``)."""
    text = environ.get("JUPYTERHUB_OAUTH_ACCESS_SCOPES")
    if text:
        try:
            scopes: Any = json.loads(text)
        except json.JSONDecodeError:
            scopes = None
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise HubEnvironmentError(
                f"JUPYTERHUB_OAUTH_ACCESS_SCOPES should be a JSON list of scopes, got {text!r}"
            )
        return tuple(scopes)
    return (f"access:servers!server={user}/{server_name}", f"access:servers!user={user}")


def core_defaults(environ: Mapping[str, str]) -> dict[str, Any]:
    """Core settings the hub decides: base_url, host and port, the root folder."""
    defaults: dict[str, Any] = {}
    prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        defaults["base_url"] = _slashed(prefix)
    service_url = environ.get("JUPYTERHUB_SERVICE_URL")
    if service_url:
        parts = urlsplit(service_url)
        if parts.hostname:
            defaults["host"] = parts.hostname
        if parts.port:
            defaults["port"] = parts.port
    root = environ.get("JUPYTERHUB_ROOT_DIR")
    if root:
        defaults["root_dir"] = root
    return defaults
