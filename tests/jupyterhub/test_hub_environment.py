"""What the jupyterhub plugin reads from a spawn's environment, and when it is chosen.

No hub here: the environment a spawner sets, given as a dict.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from modserver.app import build
from modserver.plugins import discover, resolve
from modserver.settings import SettingsError, gather
from modserver_jupyterhub.environment import HubEnvironment, HubEnvironmentError
from modserver_jupyterhub.identity import has_access
from modserver_jupyterhub.oauth_routes import safe_next

SPAWN = {
    "JUPYTERHUB_API_TOKEN": "secret-token",
    "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
    "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-alice",
    "JUPYTERHUB_USER": "alice",
    "JUPYTERHUB_SERVER_NAME": "",
    "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
    "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:41234/user/alice/",
    "JUPYTERHUB_OAUTH_CALLBACK_URL": "/user/alice/oauth_callback",
    "JUPYTERHUB_OAUTH_ACCESS_SCOPES": '["access:servers!server=alice/", "access:servers!user=alice"]',
    "JUPYTERHUB_BASE_URL": "/",
    "JUPYTERHUB_HOST": "",
}


def names(plugins: list) -> list[str]:
    return [p.name for p in plugins]


def test_inside_a_hub_spawn_jupyterhub_replaces_auth_by_default():
    inside = names(resolve([], discover(), SPAWN))
    assert "jupyterhub" in inside and "auth" not in inside
    outside = names(resolve([], discover(), {}))
    assert "auth" in outside and "jupyterhub" not in outside


def test_a_partial_selection_gets_the_identity_provider_of_its_environment():
    assert "jupyterhub" in names(resolve(["kernels"], discover(), SPAWN))
    assert "auth" in names(resolve(["kernels"], discover(), {}))


def test_base_url_host_and_port_come_from_the_spawn(tmp_path: Path):
    raw = gather(env=SPAWN, cli={"root_dir": str(tmp_path), "plugins": "contents"})
    settings = build(raw).settings
    assert (settings.base_url, settings.host, settings.port) == ("/user/alice/", "127.0.0.1", 41234)
    # Still a default: the user's own settings win.
    raw = gather(env={**SPAWN, "MODSERVER_PORT": "9999"}, cli={"root_dir": str(tmp_path)})
    assert build(raw).settings.port == 9999


def test_naming_jupyterhub_outside_a_hub_says_what_is_missing(tmp_path: Path):
    from modserver.app import assemble

    raw = gather(env={}, cli={"root_dir": str(tmp_path), "plugins": "jupyterhub"})
    with pytest.raises(SettingsError, match="JUPYTERHUB_API_TOKEN"):
        assemble(build(raw))


def test_the_environment_is_read_without_showing_the_token():
    env = HubEnvironment.from_environ(SPAWN)
    assert env.hub_url == "/hub/"
    assert env.callback_path == "/oauth_callback"
    assert env.activity_url == "http://127.0.0.1:8081/hub/api/users/alice/activity"
    assert "secret-token" not in repr(env)
    with pytest.raises(HubEnvironmentError, match="ACCESS_SCOPES"):
        HubEnvironment.from_environ({**SPAWN, "JUPYTERHUB_OAUTH_ACCESS_SCOPES": "nope"})


def test_only_scopes_for_this_server_grant_access():
    env = HubEnvironment.from_environ(SPAWN)
    assert has_access(frozenset({"access:servers!user=alice"}), env.access_scopes)
    assert has_access(frozenset({"access:servers"}), env.access_scopes)  # an admin's
    assert not has_access(frozenset({"access:servers!user=bob"}), env.access_scopes)
    assert not has_access(frozenset({"read:users"}), env.access_scopes)


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/",
        "https://evil.example/user/alice/",
        "/user/bob/lab",
        "/user/alice/../bob/lab",
        "/user/alice/%2E%2E/bob/",
        "/user/alice/\\evil",
        "/\tuser/alice/",
        "/user/alice//evil",
    ],
)
def test_login_returns_only_to_pages_of_this_server(next_url: str):
    assert safe_next(next_url, "/user/alice/") == "/user/alice/"


def test_login_returns_to_the_page_it_started_from():
    assert safe_next("/user/alice/lab?reset", "/user/alice/") == "/user/alice/lab?reset"
