"""``GET /api/me`` and ``PATCH /api/me`` in jupyter_server's shapes, bad input included."""

from __future__ import annotations

import json

import pytest

from tests.conftest import RunningServer

IDENTITY_KEYS = {"username", "name", "display_name", "initials", "avatar_url", "color"}
UPDATABLE = ["name", "display_name", "initials", "avatar_url", "color"]


@pytest.fixture(scope="module")
def server(module_apps) -> RunningServer:
    return module_apps(plugins="hello")


def test_me_without_permissions_returns_identity_and_updatable_fields(server: RunningServer):
    response = server.client().get("api/me")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"identity", "permissions"}
    assert set(body["identity"]) == IDENTITY_KEYS
    assert body["identity"]["username"] == "owner"
    assert body["permissions"] == {"updatable_fields": UPDATABLE}


def test_me_returns_granted_subset_of_asked_permissions(server: RunningServer):
    asked = {"contents": ["read", "write"], "kernels": ["execute", "fly"], "sessions": []}
    response = server.client().get("api/me", params={"permissions": json.dumps(asked)})
    assert response.status_code == 200
    assert response.json()["permissions"] == {
        "contents": ["read", "write"],
        "kernels": ["execute"],
        "sessions": [],
        "updatable_fields": UPDATABLE,
    }


@pytest.mark.parametrize(
    "permissions",
    ["not json", "[1, 2]", '"contents"', '{"contents": "read"}', '{"contents": [1]}', "{"],
)
def test_me_with_bad_permissions_is_400(server: RunningServer, permissions: str):
    response = server.client().get("api/me", params={"permissions": permissions})
    assert response.status_code == 400
    assert response.json()["message"].startswith("permissions should be a JSON dict")


def test_me_needs_authentication(server: RunningServer):
    assert server.client(token="").get("api/me").status_code == 401


def test_patch_me_changes_display_fields(server: RunningServer):
    client = server.client()
    response = client.patch("api/me", json={"display_name": "Grace Hopper", "color": "#ff0000"})
    assert response.status_code == 200
    assert response.json()["status"] == "success"
    identity = response.json()["identity"]
    assert identity["display_name"] == "Grace Hopper" and identity["color"] == "#ff0000"
    assert identity["username"] == "owner"
    assert client.get("api/me").json()["identity"]["display_name"] == "Grace Hopper"
    # JupyterLab's own collaborator colors are CSS variables.
    for color in ("var(--jp-collaborator-color3)", "rgb(10, 20, 30)", "teal"):
        assert client.patch("api/me", json={"color": color}).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "Invalid or missing JSON body"),
        (b"not json", "Invalid or missing JSON body"),
        (b"{}", "Invalid or missing JSON body"),
        (b"[]", "Invalid or missing JSON body"),
        (b'{"username": "root"}', "Field username is not updatable"),
        (b'{"role": "owner"}', "Field role is not updatable"),
        (b'{"display_name": 5}', "must be a string"),
        (b'{"avatar_url": "javascript:alert(1)"}', "avatar_url"),
        (b'{"color": "red; background:url(//evil.example/x)"}', "must be a CSS color"),
    ],
)
def test_patch_me_bad_input_is_400(server: RunningServer, body: bytes, message: str):
    response = server.client().patch(
        "api/me", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_spec_describes_me_and_login(server: RunningServer):
    import yaml

    spec = yaml.safe_load(server.client().get("api/spec.yaml").text)
    assert {"get", "patch"} <= set(spec["paths"]["/api/me"])
    assert {"get", "post"} <= set(spec["paths"]["/login"])
    assert "Identity" in spec["components"]["schemas"]
