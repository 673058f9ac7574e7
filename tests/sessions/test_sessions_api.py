"""``/api/sessions`` as jupyter_server 2.x serves it, against real kernels (tests that need
files of their own run an in-process app each; the rest share a real server)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer, serve_in_process
from tests.kernels.conftest import install_tiny_kernelspec
from tests.workflow.kernel_ws import run


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for the tests below that need no files: starting one per test is slow.

    Its kernels are "tiny" ones (an ipykernel start costs ~1.5 CPU-s): these tests run no
    code; those that do run an app of their own with the default kernel.
    """
    base = tmp_path_factory.mktemp("sessions")
    root = base / "root"
    root.mkdir()
    server = serve_in_process(
        root,
        "--set",
        "kernels.default_kernel_name=tiny",
        plugins="sessions",
        env=install_tiny_kernelspec(base / "data"),
    )
    yield server
    server.stop()


@pytest.fixture
def server(shared_server: RunningServer) -> Iterator[RunningServer]:
    """The shared server, left with no session and no kernel after each test."""
    yield shared_server
    with shared_server.client() as client:
        for session in client.get("api/sessions").json():
            client.delete(f"api/sessions/{session['id']}")
        for kernel in client.get("api/kernels").json():
            client.delete(f"api/kernels/{kernel['id']}")


def kernel_ids(client: httpx.Client) -> set[str]:
    return {k["id"] for k in client.get("api/kernels").json()}


def new_session(client: httpx.Client, path: str, **extra: object) -> dict:
    response = client.post("api/sessions", json={"path": path, "type": "notebook", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_creating_a_session_starts_a_kernel_and_lists_it(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post(
            "api/sessions",
            json={"path": "a.ipynb", "name": "a.ipynb", "type": "notebook", "kernel": {}},
        )
        assert response.status_code == 201
        model = response.json()
        assert response.headers["location"] == f"/api/sessions/{model['id']}"
        assert model["path"] == "a.ipynb"
        assert model["name"] == "a.ipynb"
        assert model["type"] == "notebook"
        assert model["notebook"] == {"path": "a.ipynb", "name": "a.ipynb"}
        assert model["kernel"]["id"] in kernel_ids(client)
        assert {"id", "name", "last_activity", "execution_state"} <= set(model["kernel"])
        assert client.get(f"api/sessions/{model['id']}").json()["id"] == model["id"]
        assert [s["id"] for s in client.get("api/sessions").json()] == [model["id"]]


def test_posting_a_path_that_has_a_session_returns_that_session(server: RunningServer) -> None:
    with server.client() as client:
        first = new_session(client, "same.ipynb")
        again = client.post("api/sessions", json={"path": "same.ipynb", "type": "notebook"})
        assert again.status_code == 201
        assert again.json()["id"] == first["id"]
        assert again.json()["kernel"]["id"] == first["kernel"]["id"]
        assert len(client.get("api/sessions").json()) == 1
        assert kernel_ids(client) == {first["kernel"]["id"]}


def test_clients_opening_the_same_notebook_at_once_share_one_session(
    server: RunningServer,
) -> None:
    def open_notebook(_: int) -> dict:
        with server.client() as client:
            return new_session(client, "busy.ipynb")

    with ThreadPoolExecutor(3) as pool:
        models = list(pool.map(open_notebook, range(3)))
    assert len({m["id"] for m in models}) == 1
    with server.client() as client:
        assert kernel_ids(client) == {models[0]["kernel"]["id"]}


def test_a_console_session_has_no_notebook_key_and_can_share_a_kernel_by_id(
    server: RunningServer,
) -> None:
    with server.client() as client:
        notebook = new_session(client, "nb.ipynb")
        kernel_id = notebook["kernel"]["id"]
        response = client.post(
            "api/sessions",
            json={"path": "console-1", "type": "console", "kernel": {"id": kernel_id}},
        )
        assert response.status_code == 201
        console = response.json()
        assert "notebook" not in console
        assert console["kernel"]["id"] == kernel_id
        assert kernel_ids(client) == {kernel_id}
        # Deleting one of the two sessions keeps the kernel the other still uses.
        assert client.delete(f"api/sessions/{console['id']}").status_code == 204
        assert kernel_ids(client) == {kernel_id}
        assert client.get(f"api/sessions/{notebook['id']}").status_code == 200


def test_an_unknown_kernel_name_is_a_501_with_a_message(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post(
            "api/sessions",
            json={"path": "x.ipynb", "type": "notebook", "kernel": {"name": "no-such-kernel"}},
        )
        assert response.status_code == 501
        assert "no-such-kernel" in response.json()["message"]
        assert response.json()["short_message"] == "no-such-kernel not found"
        assert client.get("api/sessions").json() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "notebook"}, "path"),
        ({"path": "a.ipynb"}, "type"),
        ({"path": 3, "type": "notebook"}, "path"),
        ({"path": "a.ipynb", "type": "notebook", "kernel": "python3"}, "kernel"),
        ([], "object"),
    ],
)
def test_a_malformed_request_is_a_400_and_starts_nothing(
    server: RunningServer, body: object, message: str
) -> None:
    with server.client() as client:
        response = client.post("api/sessions", json=body)
        assert response.status_code == 400
        assert message in response.json()["message"]
        assert kernel_ids(client) == set()


def test_the_pre_5_notebook_request_shape_is_still_understood(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post("api/sessions", json={"notebook": {"path": "legacy.ipynb"}})
        assert response.status_code == 201
        model = response.json()
        assert (model["path"], model["type"]) == ("legacy.ipynb", "notebook")
        moved = client.patch(f"api/sessions/{model['id']}", json={"notebook": {"path": "l2.ipynb"}})
        assert moved.json()["notebook"]["path"] == "l2.ipynb"


def test_patch_renames_and_retypes_a_session(server: RunningServer) -> None:
    with server.client() as client:
        model = new_session(client, "old.ipynb", name="old.ipynb")
        response = client.patch(
            f"api/sessions/{model['id']}", json={"path": "new.ipynb", "name": "new.ipynb"}
        )
        assert response.status_code == 200
        changed = response.json()
        assert (changed["path"], changed["name"]) == ("new.ipynb", "new.ipynb")
        assert changed["notebook"] == {"path": "new.ipynb", "name": "new.ipynb"}
        assert changed["kernel"]["id"] == model["kernel"]["id"]
        retyped = client.patch(f"api/sessions/{model['id']}", json={"type": "file"}).json()
        assert "notebook" not in retyped


def test_patch_with_a_kernel_name_starts_a_new_kernel_and_shuts_the_old_one(
    server: RunningServer,
) -> None:
    with server.client() as client:
        model = new_session(client, "k.ipynb")
        old = model["kernel"]["id"]
        response = client.patch(f"api/sessions/{model['id']}", json={"kernel": {"name": "tiny"}})
        assert response.status_code == 200
        new = response.json()["kernel"]["id"]
        assert new != old
        assert kernel_ids(client) == {new}


def test_patch_with_a_running_kernel_id_moves_the_session_to_it(server: RunningServer) -> None:
    with server.client() as client:
        first = new_session(client, "one.ipynb")
        second = new_session(client, "two.ipynb")
        response = client.patch(
            f"api/sessions/{second['id']}", json={"kernel": {"id": first["kernel"]["id"]}}
        )
        assert response.status_code == 200
        assert response.json()["kernel"]["id"] == first["kernel"]["id"]
        assert kernel_ids(client) == {first["kernel"]["id"]}


def test_patch_errors(server: RunningServer) -> None:
    with server.client() as client:
        model = new_session(client, "p.ipynb")
        url = f"api/sessions/{model['id']}"
        unknown_kernel = client.patch(url, json={"kernel": {"id": "not-a-kernel"}})
        assert unknown_kernel.status_code == 400
        assert "No such kernel" in unknown_kernel.json()["message"]
        assert client.patch(url, json={"kernel": {"name": "no-such-kernel"}}).status_code == 501
        assert client.patch(url, content=b"{oops").status_code == 400
        missing = client.patch("api/sessions/00000000-0000-0000-0000-000000000000", json={})
        assert missing.status_code == 404
        # Nothing changed on the failed attempts.
        assert client.get(url).json()["kernel"]["id"] == model["kernel"]["id"]


def test_delete_shuts_the_kernel_down(server: RunningServer) -> None:
    with server.client() as client:
        model = new_session(client, "d.ipynb")
        response = client.delete(f"api/sessions/{model['id']}")
        assert response.status_code == 204
        assert kernel_ids(client) == set()
        assert client.get(f"api/sessions/{model['id']}").status_code == 404
        assert client.delete(f"api/sessions/{model['id']}").status_code == 404


def test_delete_after_the_kernel_was_shut_down_is_410(server: RunningServer) -> None:
    with server.client() as client:
        model = new_session(client, "g.ipynb")
        assert client.delete(f"api/kernels/{model['kernel']['id']}").status_code == 204
        response = client.delete(f"api/sessions/{model['id']}")
        assert response.status_code == 410
        assert response.json()["message"]
        assert client.get("api/sessions").json() == []


def test_a_session_whose_kernel_died_disappears_from_the_list(server: RunningServer) -> None:
    with server.client() as client:
        model = new_session(client, "gone.ipynb")
        client.delete(f"api/kernels/{model['kernel']['id']}")
        assert client.get("api/sessions").json() == []
        assert client.get(f"api/sessions/{model['id']}").status_code == 404


def test_sessions_need_authentication(server: RunningServer) -> None:
    with server.client(token="") as client:
        assert client.get("api/sessions").status_code in (401, 403)
        assert client.post("api/sessions", json={"path": "a", "type": "x"}).status_code in (
            401,
            403,
        )


def test_the_kernel_starts_in_the_notebook_folder_and_knows_its_session_name(
    app_factory: Callable[..., RunningServer], root_dir: Path
) -> None:
    (root_dir / "sub").mkdir()
    server = app_factory(plugins="sessions,contents")
    with server.client() as client:
        model = new_session(client, "sub/n.ipynb", name="n.ipynb")
        printed = run(
            server,
            model["kernel"]["id"],
            "import os; print(os.getcwd()); print(os.environ['JPY_SESSION_NAME'])",
        )
    cwd, session_name = printed.splitlines()
    assert Path(cwd).resolve() == (root_dir / "sub").resolve()
    assert Path(session_name).resolve() == (root_dir / "sub" / "n.ipynb").resolve()


def test_renaming_a_notebook_or_its_folder_through_contents_moves_its_session(
    app_factory: Callable[..., RunningServer], root_dir: Path
) -> None:
    (root_dir / "dir").mkdir()
    (root_dir / "dir" / "a.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    server = app_factory(plugins="sessions,contents")
    with server.client() as client:
        model = new_session(client, "dir/a.ipynb", name="a.ipynb")
        renamed = client.patch("api/contents/dir/a.ipynb", json={"path": "dir/b.ipynb"})
        assert renamed.status_code == 200, renamed.text
        after = client.get(f"api/sessions/{model['id']}").json()
        assert (after["path"], after["name"]) == ("dir/b.ipynb", "b.ipynb")
        moved = client.patch("api/contents/dir", json={"path": "other"})
        assert moved.status_code == 200, moved.text
        assert client.get(f"api/sessions/{model['id']}").json()["path"] == "other/b.ipynb"
        # Posting the new path finds the same session.
        again = client.post("api/sessions", json={"path": "other/b.ipynb", "type": "notebook"})
        assert again.json()["id"] == model["id"]


def test_a_session_path_outside_the_root_or_in_a_missing_folder_starts_its_kernel_inside(
    app_factory: Callable[..., RunningServer], root_dir: Path
) -> None:
    (root_dir / "sub").mkdir()
    server = app_factory(plugins="sessions,contents")
    with server.client() as client:
        escaping = new_session(client, "../../etc/x.ipynb", name="x.ipynb")
        missing = new_session(client, "sub/missing/deeper/y.ipynb", name="y.ipynb")
        assert escaping["path"] == "../../etc/x.ipynb"  # kept as given, like jupyter_server
    escaping_cwd = run(server, escaping["kernel"]["id"], "import os; print(os.getcwd())")
    missing_cwd = run(server, missing["kernel"]["id"], "import os; print(os.getcwd())")
    assert Path(escaping_cwd.strip()).resolve() == root_dir.resolve()
    assert Path(missing_cwd.strip()).resolve() == (root_dir / "sub").resolve()


def test_the_location_of_a_new_session_includes_the_base_url(
    app_factory: Callable[..., RunningServer],
) -> None:
    server = app_factory("--base-url", "/jupyter/", plugins="sessions")
    with server.client() as client:
        model = new_session(client, "based.ipynb")
        response = client.post("api/sessions", json={"path": "based.ipynb", "type": "notebook"})
    assert response.headers["location"] == f"/jupyter/api/sessions/{model['id']}"
