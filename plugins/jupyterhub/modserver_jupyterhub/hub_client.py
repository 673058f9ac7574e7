"""The hub's REST API, as this server uses it: OAuth code exchange, users, activity.

One ``httpx.AsyncClient`` per app. Tokens travel only in headers and form bodies to the
hub's API URL; error messages name the endpoint and status, never a token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from modserver_jupyterhub.environment import HubEnvironment


class HubUnavailable(Exception):
    """The hub did not answer, or answered something unexpected."""


@dataclass(frozen=True)
class HubIdentityModel:
    """What the hub says about a token's owner: name, groups and the token's scopes."""

    name: str
    groups: tuple[str, ...] = ()
    scopes: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False

    @classmethod
    def from_json(cls, data: Any) -> HubIdentityModel:
        """Read ``GET /hub/api/user``'s answer; ``HubUnavailable`` if it is malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise HubUnavailable("the hub's /user answer has no user name")
        groups = data.get("groups") or []
        scopes = data.get("scopes") or []
        return cls(
            name=data["name"],
            groups=tuple(g for g in groups if isinstance(g, str)),
            scopes=frozenset(s for s in scopes if isinstance(s, str)),
            admin=bool(data.get("admin")),
        )


def iso_utc(moment: datetime) -> str:
    """A timestamp the hub parses: ISO 8601 in UTC with a ``Z``."""
    text = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


class HubClient:
    """Calls the hub's API for one app, with the server's credentials from its environment."""

    def __init__(self, env: HubEnvironment, timeout: float) -> None:
        self.env = env
        self.http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        """Close the connections to the hub."""
        await self.http.aclose()

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            # The exception's text may hold the URL only (no query here), never a header.
            raise HubUnavailable(f"{method} {url}: {type(exc).__name__}") from None

    async def token_for_code(self, code: str) -> str:
        """Exchange an OAuth code for the user's token (``POST .../oauth2/token``).

        ``PermissionError`` when the hub refuses the code (expired, used, forged).
        """
        url = f"{self.env.api_url}/oauth2/token"
        response = await self._request(
            "POST",
            url,
            data={
                "client_id": self.env.client_id,
                "client_secret": self.env.api_token,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.env.oauth_callback_url,
            },
        )
        if response.status_code in (400, 401, 403):
            raise PermissionError("the hub refused the login code")
        if response.status_code != 200:
            raise HubUnavailable(f"POST {url}: status {response.status_code}")
        token = _json(response, url).get("access_token")
        if not isinstance(token, str) or not token:
            raise HubUnavailable(f"POST {url}: no access_token in the answer")
        return token

    async def user_for_token(self, token: str) -> HubIdentityModel | None:
        """The owner of ``token`` and its scopes (``GET .../user``); None if the hub refuses it."""
        url = f"{self.env.api_url}/user"
        response = await self._request("GET", url, headers={"Authorization": f"token {token}"})
        if response.status_code in (401, 403, 404):
            return None
        if response.status_code != 200:
            raise HubUnavailable(f"GET {url}: status {response.status_code}")
        return HubIdentityModel.from_json(_json(response, url))

    async def report_activity(self, last_activity: datetime) -> None:
        """Tell the hub when this server was last used (``POST .../users/{user}/activity``)."""
        when = iso_utc(last_activity)
        response = await self._request(
            "POST",
            self.env.activity_url,
            headers={"Authorization": f"token {self.env.api_token}"},
            json={
                "servers": {self.env.server_name: {"last_activity": when}},
                "last_activity": when,
            },
        )
        if response.status_code >= 400:
            raise HubUnavailable(f"POST {self.env.activity_url}: status {response.status_code}")


def _json(response: httpx.Response, url: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise HubUnavailable(f"{url}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise HubUnavailable(f"{url}: the answer is not a JSON object")
    return data
