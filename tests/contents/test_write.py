"""Writing: create, save, upload in chunks, copy, rename, delete, as Jupyter clients expect."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output


def post(client: httpx.Client, api: str, body: dict | None = None) -> httpx.Response:
    return (
        client.post(f"api/contents/{api}", json=body)
        if body
        else client.post(f"api/contents/{api}")
    )


def test_post_creates_untitled_files_numbered_like_jupyter(client: httpx.Client, folder) -> None:
    api, disk = folder
    names = [post(client, api, {"type": "file", "ext": ".txt"}).json()["name"] for _ in range(3)]
    assert names == ["untitled.txt", "untitled1.txt", "untitled2.txt"]
    assert (disk / "untitled1.txt").read_text() == ""


def test_post_answers_201_with_a_location(client: httpx.Client, folder) -> None:
    api, _ = folder
    response = post(client, api, {"type": "notebook"})
    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/contents/{api}/Untitled.ipynb"
    assert response.json()["type"] == "notebook"
    assert response.json()["content"] is None


def test_post_creates_notebooks_and_folders(client: httpx.Client, folder) -> None:
    api, disk = folder
    assert post(client, api, {"type": "notebook"}).json()["name"] == "Untitled.ipynb"
    assert post(client, api, {"type": "notebook"}).json()["name"] == "Untitled1.ipynb"
    assert post(client, api, {"type": "directory"}).json()["name"] == "Untitled Folder"
    assert post(client, api, {"type": "directory"}).json()["name"] == "Untitled Folder 1"
    assert (disk / "Untitled Folder 1").is_dir()
    nb = nbformat.read(disk / "Untitled.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.cells == []


def test_post_without_body_creates_an_untitled_file(client: httpx.Client, folder) -> None:
    api, disk = folder
    response = post(client, api)
    assert response.status_code == 201
    assert response.json()["name"] == "untitled"
    assert (disk / "untitled").is_file()


def test_post_in_a_missing_folder_is_404(client: httpx.Client, folder) -> None:
    api, _ = folder
    assert post(client, f"{api}/nope", {"type": "file"}).status_code == 404


def test_post_to_an_existing_file_is_400(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    response = post(client, f"{api}/a.txt", {"type": "file"})
    assert response.status_code == 400
    assert "use PUT" in response.json()["message"]


def test_copy_names_the_copy_like_jupyter(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "foo.ipynb").write_text(nbformat.writes(new_notebook()))
    (disk / "data.tar.gz").write_bytes(b"tgz")
    first = post(client, api, {"copy_from": f"{api}/foo.ipynb"})
    assert first.status_code == 201
    assert first.json()["name"] == "foo-Copy1.ipynb"
    again = post(client, api, {"copy_from": f"{api}/foo-Copy1.ipynb"})
    assert again.json()["name"] == "foo-Copy2.ipynb"
    assert post(client, api, {"copy_from": f"{api}/data.tar.gz"}).json()["name"] == (
        "data-Copy1.tar.gz"
    )
    assert (disk / "data-Copy1.tar.gz").read_bytes() == b"tgz"


def test_copy_into_another_folder_keeps_the_name(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    (disk / "sub").mkdir()
    response = post(client, f"{api}/sub", {"copy_from": f"{api}/a.txt"})
    assert response.json()["path"] == f"{api}/sub/a.txt"
    assert (disk / "sub" / "a.txt").read_text() == "x"


def test_copy_of_a_folder_copies_its_files(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "d").mkdir()
    (disk / "d" / "f.txt").write_text("inside")
    response = post(client, api, {"copy_from": f"{api}/d"})
    assert response.status_code == 201
    assert response.json()["name"] == "d-Copy1"
    assert (disk / "d-Copy1" / "f.txt").read_text() == "inside"


def test_put_saves_an_existing_file_with_200(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("old")
    body = {"type": "file", "format": "text", "content": "new"}
    response = client.put(f"api/contents/{api}/a.txt", json=body)
    assert response.status_code == 200
    assert response.headers["Location"] == f"/api/contents/{api}/a.txt"
    assert response.json()["content"] is None
    assert (disk / "a.txt").read_text() == "new"


def test_put_creates_a_new_file_with_201(client: httpx.Client, folder) -> None:
    api, disk = folder
    body = {"type": "file", "format": "base64", "content": base64.b64encode(b"\x00\x01").decode()}
    response = client.put(f"api/contents/{api}/b.bin", json=body)
    assert response.status_code == 201
    assert (disk / "b.bin").read_bytes() == b"\x00\x01"


def test_put_with_a_directory_model_creates_the_folder(client: httpx.Client, folder) -> None:
    api, disk = folder
    response = client.put(f"api/contents/{api}/newdir", json={"type": "directory"})
    assert response.status_code == 201
    assert response.json()["type"] == "directory"
    assert (disk / "newdir").is_dir()


def test_put_keeps_the_file_permissions(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "run.sh").write_text("echo 1")
    os.chmod(disk / "run.sh", 0o751)
    body = {"type": "file", "format": "text", "content": "echo 2"}
    assert client.put(f"api/contents/{api}/run.sh", json=body).status_code == 200
    assert (disk / "run.sh").stat().st_mode & 0o777 == 0o751


def test_saving_a_notebook_writes_what_nbformat_writes(client: httpx.Client, folder) -> None:
    api, disk = folder
    nb = new_notebook()
    cell = new_code_cell("a = 1\nprint(a)\n", execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text="1\n")]
    cell.metadata["trusted"] = True  # transient: never stored
    nb.cells.append(cell)
    body = {"type": "notebook", "format": "json", "content": nb}
    response = client.put(f"api/contents/{api}/n.ipynb", json=body)
    assert response.status_code == 201
    assert response.json()["type"] == "notebook"
    assert "message" not in response.json()
    assert (disk / "n.ipynb").read_text(encoding="utf-8") == nbformat.writes(nb) + "\n"
    # Jupyter keeps a checkpoint of every saved notebook to revert to.
    assert (disk / ".ipynb_checkpoints" / "n-checkpoint.ipynb").is_file()


def test_saving_an_invalid_notebook_saves_it_and_says_what_is_wrong(
    client: httpx.Client, folder
) -> None:
    api, disk = folder
    nb = json.loads(nbformat.writes(new_notebook()))
    nb["cells"] = [{"cell_type": "code", "id": "x", "metadata": {}, "source": "1"}]  # no outputs
    response = client.put(
        f"api/contents/{api}/n.ipynb", json={"type": "notebook", "content": nb, "format": "json"}
    )
    assert response.status_code == 201
    message = response.json()["message"]
    assert message.startswith("Notebook validation failed")
    assert "outputs" in message
    assert (disk / "n.ipynb").exists()


def test_saving_invalid_json_is_400(client: httpx.Client, folder) -> None:
    api, disk = folder
    response = client.put(
        f"api/contents/{api}/n.ipynb",
        content=b'{"type": "notebook", "content": {',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid JSON in body of request"
    assert not (disk / "n.ipynb").exists()


def test_saving_a_notebook_whose_content_is_not_an_object_is_400(
    client: httpx.Client, folder
) -> None:
    api, disk = folder
    (disk / "n.ipynb").write_text(nbformat.writes(new_notebook()))
    before = (disk / "n.ipynb").read_bytes()
    response = client.put(
        f"api/contents/{api}/n.ipynb", json={"type": "notebook", "content": "nope"}
    )
    assert response.status_code == 400
    assert (disk / "n.ipynb").read_bytes() == before


def test_a_file_model_without_format_is_400(client: httpx.Client, folder) -> None:
    api, disk = folder
    response = client.put(f"api/contents/{api}/a.txt", json={"type": "file", "content": "x"})
    assert response.status_code == 400
    assert "format" in response.json()["message"]
    assert not (disk / "a.txt").exists()


def test_a_failed_save_leaves_the_old_file_and_no_temp_file(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.bin").write_bytes(b"good")
    body = {"type": "file", "format": "base64", "content": "!!!not base64"}
    response = client.put(f"api/contents/{api}/a.bin", json=body)
    assert response.status_code == 400
    assert (disk / "a.bin").read_bytes() == b"good"
    assert sorted(p.name for p in disk.iterdir()) == ["a.bin"]


def test_chunked_upload_replaces_the_file_only_when_complete(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "big.bin").write_bytes(b"the good old file")
    url = f"api/contents/{api}/big.bin"

    def chunk(number: int, data: bytes) -> httpx.Response:
        body = {
            "type": "file",
            "format": "base64",
            "chunk": number,
            "content": base64.b64encode(data).decode(),
        }
        return client.put(url, json=body)

    assert chunk(1, b"part1-").status_code in (200, 201)
    assert chunk(2, b"part2-").status_code in (200, 201)
    # Half uploaded: the old file is still whole, and listings do not show the partial.
    assert (disk / "big.bin").read_bytes() == b"the good old file"
    listed = {c["name"] for c in client.get(f"api/contents/{api}").json()["content"]}
    assert listed == {"big.bin"}
    last = chunk(-1, b"end")
    assert last.status_code == 200
    assert last.json()["size"] == len(b"part1-part2-end")
    assert (disk / "big.bin").read_bytes() == b"part1-part2-end"
    assert sorted(p.name for p in disk.iterdir()) == ["big.bin"]


def test_a_chunk_without_its_start_is_400(client: httpx.Client, folder) -> None:
    api, disk = folder
    body = {"type": "file", "format": "base64", "chunk": 3, "content": "eA=="}
    response = client.put(f"api/contents/{api}/x.bin", json=body)
    assert response.status_code == 400
    assert not (disk / "x.bin").exists()


def test_patch_renames_and_answers_the_new_model(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    response = client.patch(f"api/contents/{api}/a.txt", json={"path": f"{api}/b.txt"})
    assert response.status_code == 200
    assert response.json()["path"] == f"{api}/b.txt"
    assert response.headers["Location"] == f"/api/contents/{api}/b.txt"
    assert not (disk / "a.txt").exists()
    assert (disk / "b.txt").read_text() == "x"


def test_patch_moves_into_another_folder_with_the_checkpoint(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "n.ipynb").write_text(nbformat.writes(new_notebook()))
    (disk / "sub").mkdir()
    assert client.post(f"api/contents/{api}/n.ipynb/checkpoints").status_code == 201
    response = client.patch(f"api/contents/{api}/n.ipynb", json={"path": f"{api}/sub/n.ipynb"})
    assert response.status_code == 200
    checkpoints = client.get(f"api/contents/{api}/sub/n.ipynb/checkpoints").json()
    assert [c["id"] for c in checkpoints] == ["checkpoint"]


def test_patch_onto_an_existing_name_is_409_and_changes_nothing(
    client: httpx.Client, folder
) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("a")
    (disk / "b.txt").write_text("b")
    response = client.patch(f"api/contents/{api}/a.txt", json={"path": f"{api}/b.txt"})
    assert response.status_code == 409
    assert (disk / "a.txt").read_text() == "a"
    assert (disk / "b.txt").read_text() == "b"


def test_patch_without_body_is_400(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("a")
    assert client.patch(f"api/contents/{api}/a.txt").status_code == 400


def test_patch_of_a_missing_file_is_404(client: httpx.Client, folder) -> None:
    api, _ = folder
    response = client.patch(f"api/contents/{api}/no.txt", json={"path": f"{api}/b.txt"})
    assert response.status_code == 404


def test_delete_answers_204_and_removes_the_file(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("a")
    response = client.delete(f"api/contents/{api}/a.txt")
    assert response.status_code == 204
    assert not (disk / "a.txt").exists()
    assert client.delete(f"api/contents/{api}/a.txt").status_code == 404


def test_delete_of_a_non_empty_folder_is_refused_when_deleting_for_good(
    client: httpx.Client, folder
) -> None:
    api, disk = folder
    (disk / "d").mkdir()
    (disk / "d" / "f").write_text("x")
    (disk / "e").mkdir()
    (disk / "e" / ".ipynb_checkpoints").mkdir()  # only leftovers: counts as empty
    assert client.delete(f"api/contents/{api}/d").status_code == 400
    assert (disk / "d" / "f").exists()
    assert client.delete(f"api/contents/{api}/e").status_code == 204
    assert not (disk / "e").exists()


def test_delete_of_the_root_is_refused(client: httpx.Client) -> None:
    assert client.delete("api/contents/").status_code == 400


def test_delete_to_trash_moves_the_file_to_the_trash(server_factory, root_dir: Path) -> None:
    data_home = root_dir.parent / "xdg-data"
    data_home.mkdir()
    (root_dir / "gone.txt").write_text("bye")
    server = server_factory(plugins="contents", env={"XDG_DATA_HOME": str(data_home)})
    with server.client() as client:
        assert client.delete("api/contents/gone.txt").status_code == 204
    assert not (root_dir / "gone.txt").exists()
    trashed = list(data_home.rglob("gone.txt"))
    assert trashed and trashed[0].read_text() == "bye"
