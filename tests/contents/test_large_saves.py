"""Large file saves (over 4 MB) are streamed from the body to disk: same bytes as any save.

The streaming path decodes the JSON string piece by piece; these check that every kind of
escape, multi-byte character and surrogate pair lands intact, and that bad input is
still a 400 that leaves the old file alone.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
from modserver_contents.large_body import LARGE_BODY, LargeContent, split_content

TRICKY = 'plain é 😀 "quoted" back\\slash\ttab\n\u2028\x01/' * 1000


def _text_of_size(size: int) -> str:
    return (TRICKY * (size // len(TRICKY) + 1))[:size]


def test_a_large_text_save_writes_exactly_the_text(client: httpx.Client, folder) -> None:
    api, disk = folder
    text = _text_of_size(LARGE_BODY * 2)
    for ensure_ascii in (True, False):
        body = json.dumps(
            {"type": "file", "format": "text", "content": text}, ensure_ascii=ensure_ascii
        )
        response = client.put(
            f"api/contents/{api}/big.txt",
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code in (200, 201), response.text
        assert (disk / "big.txt").read_bytes() == text.encode()


def test_a_large_base64_save_writes_exactly_the_bytes(client: httpx.Client, folder) -> None:
    api, disk = folder
    data = os.urandom(LARGE_BODY * 2)
    for wrap in (None, 76):
        encoded = base64.b64encode(data).decode()
        if wrap:
            encoded = "\n".join(encoded[i : i + wrap] for i in range(0, len(encoded), wrap))
        model = {"content": encoded, "format": "base64", "type": "file"}
        response = client.put(f"api/contents/{api}/big.bin", json=model)
        assert response.status_code in (200, 201), response.text
        assert (disk / "big.bin").read_bytes() == data


def test_a_large_save_with_bad_json_in_its_content_is_400_and_keeps_the_old_file(
    client: httpx.Client, folder
) -> None:
    api, disk = folder
    (disk / "big.txt").write_text("old")
    good = json.dumps({"type": "file", "format": "text", "content": "x" * LARGE_BODY})
    for broken in (
        good.replace("xxxx", "x\\qx", 1),  # not an escape
        good.replace("xxxx", "x\x01x", 1),  # raw control character
    ):
        response = client.put(
            f"api/contents/{api}/big.txt",
            content=broken.encode(),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert (disk / "big.txt").read_text() == "old"
    assert [p.name for p in disk.iterdir()] == ["big.txt"]


def test_only_flat_models_with_a_string_content_are_streamed() -> None:
    assert split_content(bytearray(b'{"type": "file", "content": "abc", "chunk": null}'))
    for shape in (
        b'{"content": "a", "content": "b"}',
        b'{"content": {"cells": []}}',
        b'{"a": [1], "content": "x"}',
        b'{"content": "x"} trailing',
        b"[1]",
    ):
        assert split_content(bytearray(shape)) is None, shape


def test_pieces_never_split_an_escape_or_a_character(monkeypatch, tmp_path: Path) -> None:
    import modserver_contents.large_body as large_body

    text = TRICKY[:3000]
    body = bytearray(json.dumps({"content": text}).encode())
    split = split_content(body)
    assert split is not None
    content: LargeContent = split[1]
    for piece in (5, 7, 11, 64):
        monkeypatch.setattr(large_body, "_PIECE", piece)
        with open(tmp_path / "out", "wb") as handle:
            content.write_to(handle, "text", "out")
        assert (tmp_path / "out").read_bytes() == text.encode()
