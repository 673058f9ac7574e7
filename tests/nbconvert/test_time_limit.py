"""An export is bounded in time: past ``nbconvert.timeout`` the client gets a 504 JSON."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import nbformat
import pytest

from tests.conftest import RunningServer


def test_an_export_slower_than_the_time_limit_is_a_504_and_the_server_goes_on(
    app_factory, root_dir: Path
):
    nbformat.write(nbformat.v4.new_notebook(), root_dir / "slow.ipynb")
    # No HTML export (templates, nbconvert's first import) finishes within a millisecond.
    server: RunningServer = app_factory("--set", "nbconvert.timeout=0.001", plugins="nbconvert")
    with server.client() as client:
        response = client.get("nbconvert/html/slow.ipynb")
        assert response.status_code == 504
        assert "nbconvert.timeout" in response.json()["message"]
        assert client.get("api/contents/slow.ipynb").status_code == 200


def test_an_export_past_the_time_limit_keeps_its_place_until_nbconvert_ends():
    # A thread cannot be stopped. Were its place freed at the 504, a client could start one
    # conversion after another, past ``max_concurrent``, each abandoned but still running.
    from modserver_nbconvert.converter import Converter, Export, ExportTimedOut

    started: list[str] = []
    release = threading.Event()

    def conversion(format: str, model: Any, folder: Any, sanitize: Any) -> Export:
        started.append(model["path"])
        release.wait(60)  # until the test lets the conversions end
        return Export(b"converted", "text/plain", "n.txt")

    def model(path: str) -> dict[str, Any]:
        return {"path": path, "name": path, "last_modified": "", "content": {}}

    async def scenario() -> None:
        async with anyio.create_task_group() as group:
            converter = Converter(0.5, 1, group, convert=conversion)
            with pytest.raises(ExportTimedOut):
                await converter.export("html", model("first.ipynb"), None)
            # The first conversion still runs: the second request waits, then gives up.
            with pytest.raises(ExportTimedOut):
                await converter.export("html", model("second.ipynb"), None)
            assert started == ["first.ipynb"]
            release.set()
            export = await converter.export("html", model("third.ipynb"), None)
            assert export.body == b"converted"
            assert started == ["first.ipynb", "third.ipynb"]  # the second never ran

    anyio.run(scenario)
