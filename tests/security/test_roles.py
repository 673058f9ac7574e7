"""Roles hold on every path to code execution: editors and viewers never run, steer or
stop a kernel, whatever the route (docs/security.md, "Roles")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from modserver_auth.tokens import hash_token
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import TOKEN, RunningServer, start_server
from tests.kernels.conftest import install_tiny_kernelspec

EDITOR_TOKEN = "editor-token-aaaaaaaaaaaaaaaaaaaa"
VIEWER_TOKEN = "viewer-token-bbbbbbbbbbbbbbbbbbbb"
USERS = {
    "ed": {"role": "editor", "token_hash": hash_token(EDITOR_TOKEN)},
    "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
}
NOT_OWNERS = [("ed", EDITOR_TOKEN), ("vi", VIEWER_TOKEN)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("roles")
    root = base / "root"
    root.mkdir()
    (root / "nb.ipynb").write_text("")
    env = install_tiny_kernelspec(base / "data")
    server = start_server(
        root,
        "--set",
        f"auth.users={json.dumps(USERS)}",
        "--set",
        "kernels.default_kernel_name=tiny",
        plugins="kernels,sessions,contents,config",
        env=env,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owners_kernel(server: RunningServer) -> str:
    """A kernel the owner started."""
    response = server.client().post("api/kernels", json={"name": "tiny"})
    assert response.status_code == 201
    return str(response.json()["id"])


def kernel_ids(server: RunningServer) -> set[str]:
    return {k["id"] for k in server.client().get("api/kernels").json()}


@pytest.mark.parametrize(("username", "token"), NOT_OWNERS)
def test_only_the_owner_starts_a_kernel(server: RunningServer, username: str, token: str):
    before = kernel_ids(server)
    response = server.client(token=token).post("api/kernels", json={"name": "tiny"})
    assert response.status_code == 403
    assert response.json()["message"].startswith(f"User {username!r}")
    assert kernel_ids(server) == before


@pytest.mark.parametrize(("username", "token"), NOT_OWNERS)
def test_only_the_owner_starts_a_session_with_a_new_kernel(
    server: RunningServer, username: str, token: str
):
    before = kernel_ids(server), server.client().get("api/sessions").json()
    body = {"path": "nb.ipynb", "type": "notebook", "kernel": {"name": "tiny"}}
    response = server.client(token=token).post("api/sessions", json=body)
    assert response.status_code == 403
    assert (kernel_ids(server), server.client().get("api/sessions").json()) == before


@pytest.mark.parametrize(("username", "token"), NOT_OWNERS)
@pytest.mark.parametrize("action", ["interrupt", "restart"])
def test_only_the_owner_interrupts_or_restarts_a_kernel(
    server: RunningServer, owners_kernel: str, username: str, token: str, action: str
):
    response = server.client(token=token).post(f"api/kernels/{owners_kernel}/{action}")
    assert response.status_code == 403
    model = server.client().get(f"api/kernels/{owners_kernel}").json()
    assert model["execution_state"] != "restarting"


@pytest.mark.parametrize(("username", "token"), NOT_OWNERS)
def test_only_the_owner_shuts_a_kernel_down(
    server: RunningServer, owners_kernel: str, username: str, token: str
):
    response = server.client(token=token).delete(f"api/kernels/{owners_kernel}")
    assert response.status_code == 403
    assert owners_kernel in kernel_ids(server)


@pytest.mark.parametrize(("username", "token"), NOT_OWNERS)
def test_only_the_owner_opens_a_kernel_websocket(
    server: RunningServer, owners_kernel: str, username: str, token: str
):
    url = server.ws_url(f"api/kernels/{owners_kernel}/channels")
    with pytest.raises(InvalidStatus) as info:
        connect(url, additional_headers={"Authorization": f"token {token}"}, open_timeout=30)
    assert info.value.response.status_code == 403
    with connect(url, additional_headers={"Authorization": f"token {TOKEN}"}, open_timeout=30):
        pass


@pytest.mark.parametrize(("username", "token"), NOT_OWNERS)
def test_only_the_owner_changes_or_ends_a_session(
    server: RunningServer, owners_kernel: str, username: str, token: str
):
    owner = server.client()
    body = {"path": "nb.ipynb", "type": "notebook", "kernel": {"id": owners_kernel}}
    session = owner.post("api/sessions", json=body).json()
    try:
        other = server.client(token=token)
        patched = other.patch(f"api/sessions/{session['id']}", json={"kernel": {"name": "tiny"}})
        assert patched.status_code == 403
        assert other.delete(f"api/sessions/{session['id']}").status_code == 403
        assert owner.get(f"api/sessions/{session['id']}").json()["kernel"]["id"] == owners_kernel
        assert owners_kernel in kernel_ids(server)
    finally:
        # Forget the session, keep the kernel for the other tests.
        owner.patch(f"api/sessions/{session['id']}", json={"path": "elsewhere.ipynb"})


def test_editor_reads_and_writes_files_and_sees_kernels(server: RunningServer, owners_kernel):
    editor = server.client(token=EDITOR_TOKEN)
    saved = editor.put(
        "api/contents/ed.txt", json={"type": "file", "format": "text", "content": "x"}
    )
    assert saved.status_code in (200, 201)
    assert editor.get("api/contents/ed.txt").status_code == 200
    assert owners_kernel in {k["id"] for k in editor.get("api/kernels").json()}
    assert editor.get("api/kernelspecs").status_code == 200
    assert editor.get("api/sessions").status_code == 200


def test_viewer_reads_but_writes_no_file(server: RunningServer):
    viewer = server.client(token=VIEWER_TOKEN)
    assert viewer.get("api/contents").status_code == 200
    body = {"type": "file", "format": "text", "content": "x"}
    assert viewer.put("api/contents/vi.txt", json=body).status_code == 403


def test_a_head_request_reads_like_a_get_and_writes_nothing(server: RunningServer):
    # HEAD is a read: on a path whose handler treats "not GET" as a write (checkpoints:
    # POST creates one), a viewer's HEAD must not create a checkpoint over the owner's.
    (server.root_dir / "doc.txt").write_text("good version")
    assert server.client().post("api/contents/doc.txt/checkpoints").status_code == 201
    (server.root_dir / "doc.txt").write_text("bad edit")
    viewer = server.client(token=VIEWER_TOKEN)
    assert viewer.head("api/contents/doc.txt/checkpoints").status_code == 200
    assert viewer.head("api/contents").status_code == 200  # was a 500
    assert viewer.head("api/contents/doc.txt").status_code == 200
    checkpoint = server.client().get("api/contents/doc.txt/checkpoints").json()[0]["id"]
    restore = server.client().post(f"api/contents/doc.txt/checkpoints/{checkpoint}")
    assert restore.status_code == 204
    assert (server.root_dir / "doc.txt").read_text() == "good version"


@pytest.mark.parametrize(("username", "token"), NOT_OWNERS)
def test_only_the_owner_changes_the_shared_frontend_config(
    server: RunningServer, username: str, token: str
):
    other = server.client(token=token)
    assert other.get("api/config/notebook").status_code == 200
    assert other.put("api/config/notebook", json={"a": 1}).status_code == 403
    assert other.patch("api/config/notebook", json={"a": 1}).status_code == 403
    assert server.client().patch("api/config/notebook", json={"a": 1}).status_code == 200


def test_me_reports_the_role_table(server: RunningServer):
    asked = json.dumps({r: ["read", "write", "execute"] for r in ("kernels", "contents")})

    def permissions(token: str) -> dict[str, list[str]]:
        got = server.client(token=token).get("api/me", params={"permissions": asked}).json()
        return {k: v for k, v in got["permissions"].items() if k != "updatable_fields"}

    assert permissions(EDITOR_TOKEN) == {"kernels": ["read"], "contents": ["read", "write"]}
    assert permissions(VIEWER_TOKEN) == {"kernels": ["read"], "contents": ["read"]}
    everything = ["read", "write", "execute"]
    assert permissions(TOKEN) == {"kernels": everything, "contents": everything}
