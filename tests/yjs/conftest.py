"""Fixtures for the collaboration tests: a server with the yjs plugin and notebooks on disk.

The servers run in the test process (``serve_in_process``, listening on a loopback port
for the WebSocket clients); a stop that must save and close everything keeps the real
``modserver run`` (``subprocess=True``).

Saves, cleanup and disk checks are fast here (``save_delay`` 0.1 s and so on) so tests wait
on conditions briefly; the file-id database lives next to the root, not in the user's data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modserver_auth.tokens import hash_token

from tests.conftest import RunningServer, serve_in_process, start_server

EDITOR_TOKEN = "editor-token-aaaaaaaaaaaaaaaaaaaa"
VIEWER_TOKEN = "viewer-token-bbbbbbbbbbbbbbbbbbbb"
USERS = {
    "ed": {
        "role": "editor",
        "token_hash": hash_token(EDITOR_TOKEN),
        "display_name": "Ed Itor",
        "initials": "EI",
        "color": "#00aa88",
    },
    "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
}


def notebook(*sources: str) -> dict[str, Any]:
    """An nbformat 4.5 notebook with one code cell per source."""
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "source": source,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for i, source in enumerate(sources)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebook(path: Path, *sources: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook(*sources)), encoding="utf-8")


def read_sources(path: Path) -> list[str]:
    """The cell sources of the notebook at ``path`` (joined, as nbformat allows lists)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def start_yjs_server(
    root: Path, *settings: str, plugins: str = "yjs", subprocess: bool = False
) -> RunningServer:
    """A server with the yjs plugin (and auth, contents) serving ``root``; fast timings.

    In the test process unless ``subprocess`` asks for the real ``modserver run``.
    """
    args: list[str] = [
        "--set",
        f"yjs.file_id_database={root.parent / ('ids-' + root.name + '.db')}",
        "--set",
        "yjs.save_delay=0.1",
        "--set",
        "yjs.file_poll_interval=0.2",
        "--set",
        f"auth.users={json.dumps(USERS)}",
    ]
    for setting in settings:
        args += ["--set", setting]
    if subprocess:
        return start_server(root, *args, plugins=plugins)
    return serve_in_process(root, *args, plugins=plugins)


@pytest.fixture(scope="module")
def yjs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server shared by the tests of one module."""
    root = tmp_path_factory.mktemp("yjs") / "root"
    root.mkdir()
    server = start_yjs_server(root)
    yield server
    server.stop()
