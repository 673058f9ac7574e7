"""The core's atomic write: old bytes or new bytes, never half; permissions as asked."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from modserver import atomic


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_file_is_written_owner_only(tmp_path: Path):
    target = tmp_path / "secret.json"
    atomic.write_text(target, '{"secret": "s"}', mode=0o600)
    assert target.read_text() == '{"secret": "s"}'
    assert mode_of(target) == 0o600


def test_replacing_keeps_the_permissions_of_the_replaced_file(tmp_path: Path):
    target = tmp_path / "notes.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic.write_bytes(target, b"new")
    assert (target.read_bytes(), mode_of(target)) == (b"new", 0o640)


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path: Path):
    target = tmp_path / "notes.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.replacing(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_long_name_still_gets_a_temporary_file_beside_it(tmp_path: Path):
    target = tmp_path / ("n" * 250)
    atomic.write_text(target, "fits")
    assert target.read_text() == "fits"
