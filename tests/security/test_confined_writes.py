"""Nothing is written outside the root, whatever symlink sits inside it (issue 11, item 2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from modserver.confined import OutsideRoot, confined_entry, confined_path

from tests.security.conftest import Site


def _nothing_in(folder: Path) -> None:
    assert list(folder.iterdir()) == [], f"written outside the root: {list(folder.iterdir())}"


def test_a_checkpoints_folder_linking_out_cannot_receive_a_checkpoint(
    client: httpx.Client, site: Site, folder: tuple[str, Path]
) -> None:
    api, disk = folder
    target = site.outside / "checkpoints-target"
    target.mkdir()
    (disk / ".ipynb_checkpoints").symlink_to(target)
    (disk / "a.txt").write_text("secret plan")
    response = client.post(f"api/contents/{api}/a.txt/checkpoints")
    assert response.status_code == 403
    assert "outside" in response.json()["message"]
    _nothing_in(target)


def test_a_partial_upload_file_linking_out_is_not_appended_to(
    client: httpx.Client, site: Site, folder: tuple[str, Path]
) -> None:
    api, disk = folder
    victim = site.outside / "victim.txt"
    victim.write_text("original")
    # Plant links under every name the partial file could have.
    from modserver_contents.uploads import partial_path

    os.symlink(victim, partial_path(str(disk / "big.bin")))
    model = {"type": "file", "format": "text", "content": "evil", "chunk": 1}
    response = client.put(f"api/contents/{api}/big.bin", json=model)
    assert response.status_code == 403
    assert victim.read_text() == "original"


def test_a_config_section_linking_out_is_neither_read_nor_written(
    client: httpx.Client, site: Site
) -> None:
    victim = site.outside / "victim.json"
    victim.write_text('{"secret": 1}')
    (site.config_dir / "linked.json").symlink_to(victim)
    assert client.get("api/config/linked").status_code == 403
    assert client.put("api/config/linked", json={"a": 1}).status_code == 403
    assert client.patch("api/config/linked", json={"a": 1}).status_code == 403
    assert json.loads(victim.read_text()) == {"secret": 1}


def test_confined_path_resolves_links_and_refuses_what_leads_out(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "root-x"
    root.mkdir()
    outside.mkdir()
    (root / "in").mkdir()
    (root / "link").symlink_to(outside)
    real_root = os.path.realpath(root)
    assert confined_path(real_root, str(root / "in" / "new.txt")) == str(root / "in" / "new.txt")
    with pytest.raises(OutsideRoot):
        confined_path(real_root, str(root / "link" / "new.txt"))
    with pytest.raises(OutsideRoot):
        confined_path(real_root, str(root / ".." / "root-x" / "f"))
    # The link itself may be acted on (deleted, moved): only its folder must be inside.
    assert confined_entry(real_root, str(root / "link")) == str(root / "link")


def test_saving_a_notebook_beside_a_checkpoints_link_saves_it_and_writes_nothing_outside(
    client: httpx.Client, site: Site, folder: tuple[str, Path]
) -> None:
    api, disk = folder
    target = site.outside / "nb-checkpoints-target"
    target.mkdir()
    (disk / ".ipynb_checkpoints").symlink_to(target)
    response = client.put(f"api/contents/{api}/n.ipynb", json={"type": "notebook"})
    assert response.status_code == 201
    assert (disk / "n.ipynb").is_file()
    _nothing_in(target)
