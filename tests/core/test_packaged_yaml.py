"""Packaged YAML files (OpenAPI fragments, event schemas) are parsed once per installed file."""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import pytest
from modserver.packaged_yaml import load_packaged_yaml
from modserver.user_cache import cache_folder

FRAGMENT = """\
paths:
  /api/clock:
    get:
      responses:
        200:
          description: the time
"""


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_second_read_gives_what_parsing_gave_int_keys_included(tmp_path: Path) -> None:
    source = tmp_path / "openapi.yaml"
    source.write_text(FRAGMENT)
    first = load_packaged_yaml(source)
    assert any(cache_folder().iterdir())  # kept for the next start
    second = load_packaged_yaml(source)
    assert second == first
    assert list(second["paths"]["/api/clock"]["get"]["responses"]) == [200]
    second["paths"].clear()  # each call's object is the caller's own
    assert load_packaged_yaml(source) == first


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    source = tmp_path / "openapi.yaml"
    source.write_text(FRAGMENT)
    load_packaged_yaml(source)
    # Same size, other content (as a reinstalled plugin's file may be).
    source.write_text(FRAGMENT.replace("clock", "watch"))
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert "/api/watch" in load_packaged_yaml(source)["paths"]


def test_a_cache_folder_that_cannot_be_written_changes_nothing(
    tmp_path: Path, private_cache: Path
) -> None:
    private_cache.mkdir()
    (private_cache / "modserver").write_text("a file where the folder should be")
    source = tmp_path / "openapi.yaml"
    source.write_text(FRAGMENT)
    assert "/api/clock" in load_packaged_yaml(source)["paths"]
    assert "/api/clock" in load_packaged_yaml(source)["paths"]


def test_a_damaged_entry_is_parsed_again(tmp_path: Path) -> None:
    source = tmp_path / "openapi.yaml"
    source.write_text(FRAGMENT)
    load_packaged_yaml(source)
    for entry in (cache_folder() / "parsed-yaml").iterdir():
        entry.write_bytes(b"\x00garbage")
    assert "/api/clock" in load_packaged_yaml(source)["paths"]


def test_entries_in_a_folder_others_may_write_are_not_trusted(tmp_path: Path) -> None:
    source = tmp_path / "openapi.yaml"
    source.write_text(FRAGMENT)
    load_packaged_yaml(source)
    folder = cache_folder() / "parsed-yaml"
    planted = marshal.dumps({"paths": {"/api/planted": {}}})
    for entry in folder.iterdir():
        entry.write_bytes(planted)
    assert "/api/planted" in load_packaged_yaml(source)["paths"]  # a private folder is read
    folder.chmod(0o777)
    assert list(load_packaged_yaml(source)["paths"]) == ["/api/clock"]
