"""The path rules on their own: what counts as inside the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from modserver.api.contents import ContentsError
from modserver_contents.paths import Resolver, normalize, within


def test_a_sibling_folder_sharing_the_prefix_is_outside() -> None:
    assert not within("/srv/root-x/file", "/srv/root")
    assert not within("/srv/rootfile", "/srv/root")
    assert within("/srv/root/file", "/srv/root")
    assert within("/srv/root", "/srv/root")
    assert within("/anything", "/")


@pytest.mark.parametrize(
    "path", ["..", "a/../..", "a/./b", "a//b", "%2e%2e/x", "x/%2E%2E", "~", "~user/x", "a\x00b"]
)
def test_paths_that_could_escape_are_refused(path: str) -> None:
    with pytest.raises(ContentsError) as error:
        normalize(path)
    assert error.value.status == 400


def test_leading_and_trailing_slashes_are_ignored() -> None:
    assert normalize("/a/b/") == "a/b"
    assert normalize("/") == ""
    assert normalize("a~b/c~") == "a~b/c~"


def test_a_symlink_to_a_sibling_with_the_same_prefix_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "root-x").mkdir()
    os.symlink(tmp_path / "root-x", root / "sneaky")
    resolver = Resolver(str(root))
    with pytest.raises(ContentsError) as error:
        resolver.resolve("sneaky/new.txt")
    assert error.value.status == 403
    assert resolver.resolve("fine/new.txt") == ("fine/new.txt", str(root / "fine" / "new.txt"))
