"""File ids follow the Contents service: renames and moves keep them, deletes end them."""

from __future__ import annotations

from tests.conftest import RunningServer
from tests.yjs.conftest import write_notebook
from tests.yjs.yclient import put_session


def file_id(server: RunningServer, path: str) -> tuple[int, str]:
    reply = put_session(server, path)
    return reply.status_code, reply.json()["fileId"]


def test_renaming_a_folder_keeps_the_ids_of_the_files_inside(yjs_server: RunningServer):
    write_notebook(yjs_server.root_dir / "project" / "deep" / "a.ipynb", "")
    write_notebook(yjs_server.root_dir / "project-other" / "b.ipynb", "")
    _, inside = file_id(yjs_server, "project/deep/a.ipynb")
    _, beside = file_id(yjs_server, "project-other/b.ipynb")
    with yjs_server.client() as http:
        assert http.patch("api/contents/project", json={"path": "renamed"}).is_success
    assert file_id(yjs_server, "renamed/deep/a.ipynb") == (200, inside)
    # A folder whose name only starts the same is not inside it.
    assert file_id(yjs_server, "project-other/b.ipynb") == (200, beside)


def test_a_deleted_file_loses_its_id_and_a_new_file_there_gets_a_new_one(
    yjs_server: RunningServer,
):
    path = yjs_server.root_dir / "gone.ipynb"
    write_notebook(path, "")
    _, old = file_id(yjs_server, "gone.ipynb")
    with yjs_server.client() as http:
        assert http.delete("api/contents/gone.ipynb").status_code == 204
    write_notebook(path, "")
    status, new = file_id(yjs_server, "gone.ipynb")
    assert status == 201 and new != old


def test_a_copy_gets_its_own_id(yjs_server: RunningServer):
    write_notebook(yjs_server.root_dir / "original.ipynb", "")
    _, original = file_id(yjs_server, "original.ipynb")
    with yjs_server.client() as http:
        copied = http.post("api/contents", json={"copy_from": "original.ipynb"})
    assert copied.status_code == 201
    status, copy_id = file_id(yjs_server, copied.json()["path"])
    assert status == 201 and copy_id != original
    assert file_id(yjs_server, "original.ipynb") == (200, original)
