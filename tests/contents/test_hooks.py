"""Other plugins take part in saves, renames and deletes through the contents hooks.

Runs the real app in-process with a test plugin installed through a real entry point, next
to the built-in plugins; the plugin keeps its record in its per-app context.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import anyio
import httpx
import modserver
import nbformat
from modserver import Plugin, PluginContext, hookimpl
from modserver.app import assemble, build, server_of
from modserver.plugins import ENTRY_POINT_GROUP, InstalledPlugin, discover
from modserver.settings import CORE, gather
from nbformat.v4 import new_code_cell, new_notebook, new_output
from starlette.applications import Starlette


class Recorder(Plugin):
    """A plugin that strips outputs before saving and records every hook call.

    The record lives in the plugin's per-app context, as a real plugin keeps its state: the
    one plugin object serves every app in the process.
    """

    name = "recorder"

    @staticmethod
    def calls(context: PluginContext) -> list[tuple[str, Any]]:
        return context.state.setdefault("calls", [])

    @hookimpl
    def contents_pre_save(self, model: dict[str, Any], path: str, context: PluginContext) -> None:
        self.calls(context).append(("pre_save", path))
        if model.get("type") == "notebook":
            for cell in model["content"]["cells"]:
                if cell.get("cell_type") == "code":
                    cell["outputs"] = []

    @hookimpl
    def contents_post_save(self, model: dict[str, Any], path: str, context: PluginContext) -> None:
        self.calls(context).append(("post_save", (path, model["content"] is not None)))

    @hookimpl
    def contents_post_rename(self, old_path: str, new_path: str, context: PluginContext) -> None:
        self.calls(context).append(("post_rename", (old_path, new_path)))

    @hookimpl
    def contents_post_delete(self, path: str, context: PluginContext) -> None:
        self.calls(context).append(("post_delete", path))


recorder = Recorder()


def recorder_app(root: Path, token: str = "t") -> Starlette:
    """An app with the contents plugin and the recorder, installed through an entry point."""
    installed = discover()
    entry_point = EntryPoint("recorder", f"{__name__}:recorder", ENTRY_POINT_GROUP)
    installed["recorder"] = InstalledPlugin("recorder", entry_point)
    raw = gather(env={})
    raw.set(CORE, "root_dir", str(root), "test")
    raw.set(CORE, "plugins", ["contents", "recorder"], "test")
    raw.set("auth", "token", token, "test")
    raw.set("contents", "delete_to_trash", False, "test")
    return assemble(build(raw, installed), manage_lifespan=False)


def recorded(app: Starlette) -> list[tuple[str, Any]]:
    return Recorder.calls(server_of(app).contexts["recorder"])


def run_with_app(app: Starlette, scenario: Any, token: str = "t") -> None:
    async def main() -> None:
        async with modserver.lifespan_of(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://127.0.0.1",
                headers={"Authorization": f"token {token}"},
            ) as client:
                await scenario(client)

    anyio.run(main)


def notebook_with_output() -> Any:
    """A notebook of one code cell that printed ``1``."""
    nb = new_notebook()
    cell = new_code_cell("print(1)", execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text="1\n")]
    nb.cells.append(cell)
    return nb


def test_a_pre_save_hook_can_strip_outputs_before_they_reach_the_disk(root_dir: Path) -> None:
    app = recorder_app(root_dir)
    nb = notebook_with_output()

    async def scenario(client: httpx.AsyncClient) -> None:
        body = {"type": "notebook", "format": "json", "content": nb}
        response = await client.put("/api/contents/n.ipynb", json=body)
        assert response.status_code == 201

    run_with_app(app, scenario)
    saved = nbformat.read(root_dir / "n.ipynb", as_version=4)
    assert saved.cells[0].outputs == []
    assert recorded(app) == [("pre_save", "n.ipynb"), ("post_save", ("n.ipynb", True))]


def test_new_untitled_items_and_copies_are_saves_the_hooks_see(root_dir: Path) -> None:
    # As in jupyter_server: a hook that strips outputs strips them from copies too.
    app = recorder_app(root_dir)
    nbformat.write(notebook_with_output(), root_dir / "n.ipynb")
    (root_dir / "folder").mkdir()

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.post("/api/contents", json={"type": "notebook"})
        assert (response.status_code, response.json()["path"]) == (201, "Untitled.ipynb")
        response = await client.post("/api/contents", json={"copy_from": "n.ipynb"})
        assert (response.status_code, response.json()["path"]) == (201, "n-Copy1.ipynb")
        # A folder is copied as it is: not a save.
        response = await client.post("/api/contents", json={"copy_from": "folder"})
        assert (response.status_code, response.json()["path"]) == (201, "folder-Copy1")

    run_with_app(app, scenario)
    assert nbformat.read(root_dir / "n-Copy1.ipynb", as_version=4).cells[0].outputs == []
    assert nbformat.read(root_dir / "n.ipynb", as_version=4).cells[0].outputs != []
    assert recorded(app) == [
        ("pre_save", "Untitled.ipynb"),
        ("post_save", ("Untitled.ipynb", True)),
        ("pre_save", "n-Copy1.ipynb"),
        ("post_save", ("n-Copy1.ipynb", True)),
    ]


def test_renames_and_deletes_are_announced(root_dir: Path) -> None:
    app = recorder_app(root_dir)
    (root_dir / "a.txt").write_text("x")

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.patch("/api/contents/a.txt", json={"path": "b.txt"})
        assert response.status_code == 200
        assert (await client.delete("/api/contents/b.txt")).status_code == 204
        # A failed rename announces nothing.
        assert (await client.patch("/api/contents/b.txt", json={"path": "c"})).status_code == 404

    run_with_app(app, scenario)
    assert recorded(app) == [("post_rename", ("a.txt", "b.txt")), ("post_delete", "b.txt")]


def test_two_apps_in_one_process_each_hear_only_their_own_saves(tmp_path: Path) -> None:
    first_root, second_root = tmp_path / "one", tmp_path / "two"
    first_root.mkdir()
    second_root.mkdir()
    first, second = recorder_app(first_root, "t1"), recorder_app(second_root, "t2")

    async def save_in_first(client: httpx.AsyncClient) -> None:
        response = await client.put("/api/contents/one.txt", json=TEXT_FILE)
        assert response.status_code == 201

    async def save_in_second(client: httpx.AsyncClient) -> None:
        response = await client.put("/api/contents/two.txt", json=TEXT_FILE)
        assert response.status_code == 201

    run_with_app(first, save_in_first, "t1")
    run_with_app(second, save_in_second, "t2")
    assert recorded(first) == [("pre_save", "one.txt"), ("post_save", ("one.txt", True))]
    assert recorded(second) == [("pre_save", "two.txt"), ("post_save", ("two.txt", True))]


TEXT_FILE = {"type": "file", "format": "text", "content": "x"}
