"""Other plugins take part in saves, renames and deletes through the contents hooks.

Runs the real app in-process (with ``create_app``) so a test plugin object can register
its hook implementations next to the built-in plugins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import modserver
import nbformat
from modserver import hookimpl
from modserver.app import server_of
from nbformat.v4 import new_code_cell, new_notebook, new_output


class Recorder:
    """A plugin that strips outputs before saving and records every hook call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def contents_pre_save(self, model: dict[str, Any], path: str) -> None:
        self.calls.append(("pre_save", path))
        if model.get("type") == "notebook":
            for cell in model["content"]["cells"]:
                if cell.get("cell_type") == "code":
                    cell["outputs"] = []

    @hookimpl
    def contents_post_save(self, model: dict[str, Any], path: str) -> None:
        self.calls.append(("post_save", (path, model["content"] is not None)))

    @hookimpl
    def contents_post_rename(self, old_path: str, new_path: str) -> None:
        self.calls.append(("post_rename", (old_path, new_path)))

    @hookimpl
    def contents_post_delete(self, path: str) -> None:
        self.calls.append(("post_delete", path))


def run_with_app(root: Path, recorder: Recorder, scenario: Any) -> None:
    app = modserver.create_app(
        plugins=["contents"],
        settings={
            "root_dir": str(root),
            "auth": {"token": "t"},
            "contents": {"delete_to_trash": False},
        },
        use_env=False,
        manage_lifespan=False,
    )
    server_of(app).plugin_manager.register(recorder, name="recorder")

    async def main() -> None:
        async with modserver.lifespan_of(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://127.0.0.1",
                headers={"Authorization": "token t"},
            ) as client:
                await scenario(client)

    anyio.run(main)


def test_a_pre_save_hook_can_strip_outputs_before_they_reach_the_disk(root_dir: Path) -> None:
    recorder = Recorder()
    nb = new_notebook()
    cell = new_code_cell("print(1)", execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text="1\n")]
    nb.cells.append(cell)

    async def scenario(client: httpx.AsyncClient) -> None:
        body = {"type": "notebook", "format": "json", "content": nb}
        response = await client.put("/api/contents/n.ipynb", json=body)
        assert response.status_code == 201

    run_with_app(root_dir, recorder, scenario)
    saved = nbformat.read(root_dir / "n.ipynb", as_version=4)
    assert saved.cells[0].outputs == []
    assert recorder.calls == [("pre_save", "n.ipynb"), ("post_save", ("n.ipynb", True))]


def test_renames_and_deletes_are_announced(root_dir: Path) -> None:
    recorder = Recorder()
    (root_dir / "a.txt").write_text("x")

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.patch("/api/contents/a.txt", json={"path": "b.txt"})
        assert response.status_code == 200
        assert (await client.delete("/api/contents/b.txt")).status_code == 204
        # A failed rename announces nothing.
        assert (await client.patch("/api/contents/b.txt", json={"path": "c"})).status_code == 404

    run_with_app(root_dir, recorder, scenario)
    assert recorder.calls == [("post_rename", ("a.txt", "b.txt")), ("post_delete", "b.txt")]
