"""Two apps made by ``create_app()`` in one process run side by side and never mix.

A plugin object is loaded once per process; each app keeps its running state (contents
root, tokens, kernels, sessions, config sections) in its own plugin contexts. Both apps'
lifespans run at the same time, each served in-process through ``httpx.ASGITransport``.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx
import modserver
import pytest
from starlette.applications import Starlette

from tests.kernels.conftest import install_tiny_kernelspec

PLUGINS = ["auth", "contents", "kernels", "sessions", "config"]


def make_app(base: Path, token: str) -> Starlette:
    """An app serving ``base/root`` with its own token, runtime and config folders."""
    root = base / "root"
    root.mkdir(parents=True)
    return modserver.create_app(
        plugins=PLUGINS,
        settings={
            "root_dir": str(root),
            "runtime_dir": str(base / "runtime"),
            "auth": {"token": token},
            "contents": {"delete_to_trash": False},
            "config": {"config_dir": str(base / "serverconfig")},
        },
        use_env=False,
    )


def client(app: Starlette, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://127.0.0.1",
        headers={"Authorization": f"token {token}"},
        timeout=60,
    )


def names(listing: dict[str, Any]) -> set[str]:
    return {entry["name"] for entry in listing["content"]}


@pytest.fixture
def jupyter_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tiny kernelspec for both apps; connection files in a scratch folder."""
    for key, value in install_tiny_kernelspec(tmp_path / "data").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))


def test_two_apps_in_one_process_keep_roots_tokens_kernels_sessions_and_config_apart(
    tmp_path: Path, jupyter_env: None
) -> None:
    first = make_app(tmp_path / "first", "token-one")
    second = make_app(tmp_path / "second", "token-two")
    (tmp_path / "first" / "root" / "only-in-first.txt").write_text("1")
    (tmp_path / "second" / "root" / "only-in-second.txt").write_text("2")

    async def main() -> None:
        async with AsyncExitStack() as stack:
            # Both apps run at once: the second starts while the first serves.
            await stack.enter_async_context(modserver.lifespan_of(first))
            await stack.enter_async_context(modserver.lifespan_of(second))
            one = await stack.enter_async_context(client(first, "token-one"))
            two = await stack.enter_async_context(client(second, "token-two"))

            # Each lists only its own root.
            assert names((await one.get("/api/contents")).json()) == {"only-in-first.txt"}
            assert names((await two.get("/api/contents")).json()) == {"only-in-second.txt"}

            # Each accepts only its own token.
            wrong = {"Authorization": "token token-two"}
            assert (await one.get("/api/contents", headers=wrong)).status_code == 401
            wrong = {"Authorization": "token token-one"}
            assert (await two.get("/api/contents", headers=wrong)).status_code == 401

            # A kernel started in the first app is the first app's only.
            started = await one.post("/api/kernels", json={"name": "tiny"})
            assert started.status_code == 201, started.text
            kernel_id = started.json()["id"]
            assert [k["id"] for k in (await one.get("/api/kernels")).json()] == [kernel_id]
            assert (await two.get("/api/kernels")).json() == []
            assert (await two.get(f"/api/kernels/{kernel_id}")).status_code == 404
            assert (await one.get("/api/status")).json()["kernels"] == 1
            assert (await two.get("/api/status")).json()["kernels"] == 0

            # A session made in the second app lives there only, and follows a rename
            # made through the second app's contents.
            notebook = {"type": "notebook", "format": "json", "content": EMPTY_NOTEBOOK}
            assert (await two.put("/api/contents/a.ipynb", json=notebook)).status_code == 201
            body = {"path": "a.ipynb", "type": "notebook", "name": "", "kernel": {"name": "tiny"}}
            created = await two.post("/api/sessions", json=body)
            assert created.status_code == 201, created.text
            assert (await one.get("/api/sessions")).json() == []
            moved = await two.patch("/api/contents/a.ipynb", json={"path": "b.ipynb"})
            assert moved.status_code == 200
            sessions = (await two.get("/api/sessions")).json()
            assert [s["path"] for s in sessions] == ["b.ipynb"]
            assert sessions[0]["kernel"]["id"] != kernel_id

            # Config sections are stored per app.
            patched = await one.patch("/api/config/notebook", json={"theme": "dark"})
            assert patched.status_code == 200
            assert (await one.get("/api/config/notebook")).json() == {"theme": "dark"}
            assert (await two.get("/api/config/notebook")).json() == {}

    anyio.run(main)
    assert not (tmp_path / "second" / "serverconfig" / "notebook.json").exists()


EMPTY_NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
