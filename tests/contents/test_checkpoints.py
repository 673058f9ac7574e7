"""Checkpoints: create, list, restore, delete, stored where jupyter_server stores them."""

from __future__ import annotations

import httpx


def test_checkpoint_lifecycle(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("first")
    base = f"api/contents/{api}/a.txt/checkpoints"
    assert client.get(base).json() == []

    created = client.post(base)
    assert created.status_code == 201
    checkpoint = created.json()
    assert checkpoint["id"] == "checkpoint"
    assert checkpoint["last_modified"].endswith("Z")
    assert created.headers["Location"] == f"/{base}/checkpoint"
    assert (disk / ".ipynb_checkpoints" / "a-checkpoint.txt").read_text() == "first"
    assert [c["id"] for c in client.get(base).json()] == ["checkpoint"]

    (disk / "a.txt").write_text("second")
    restored = client.post(f"{base}/checkpoint")
    assert restored.status_code == 204
    assert (disk / "a.txt").read_text() == "first"

    deleted = client.delete(f"{base}/checkpoint")
    assert deleted.status_code == 204
    assert client.get(base).json() == []


def test_restoring_or_deleting_a_missing_checkpoint_is_404(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    base = f"api/contents/{api}/a.txt/checkpoints"
    assert client.post(f"{base}/checkpoint").status_code == 404
    assert client.delete(f"{base}/checkpoint").status_code == 404
    assert (disk / "a.txt").read_text() == "x"


def test_a_missing_file_cannot_be_checkpointed_and_lists_none(client: httpx.Client, folder) -> None:
    api, _ = folder
    assert client.post(f"api/contents/{api}/none.txt/checkpoints").status_code == 404
    # As jupyter_server: JupyterLab lists them for a notebook it has just renamed.
    listed = client.get(f"api/contents/{api}/none.txt/checkpoints")
    assert listed.status_code == 200 and listed.json() == []


def test_deleting_a_file_deletes_its_checkpoint(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    client.post(f"api/contents/{api}/a.txt/checkpoints")
    assert client.delete(f"api/contents/{api}/a.txt").status_code == 204
    assert not (disk / ".ipynb_checkpoints" / "a-checkpoint.txt").exists()


def test_the_checkpoint_folder_is_hidden_from_listings(client: httpx.Client, folder) -> None:
    api, disk = folder
    (disk / "a.txt").write_text("x")
    client.post(f"api/contents/{api}/a.txt/checkpoints")
    names = {c["name"] for c in client.get(f"api/contents/{api}").json()["content"]}
    assert names == {"a.txt"}
