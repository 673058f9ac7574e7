"""Two apps in one process keep their own terminals: each lists, starts and ends its own."""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import httpx
import modserver
from starlette.applications import Starlette


def make_app(base: Path, token: str) -> Starlette:
    root = base / "root"
    root.mkdir(parents=True)
    return modserver.create_app(
        plugins=["terminals"],
        settings={
            "root_dir": str(root),
            "runtime_dir": str(base / "runtime"),
            "auth": {"token": token},
            "terminals": {"shell_command": ["/bin/sh"]},
        },
        use_env=False,
    )


def test_two_apps_never_see_each_others_terminals(tmp_path: Path):
    first, second = make_app(tmp_path / "a", "token-a"), make_app(tmp_path / "b", "token-b")

    def client(app: Starlette, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1",
            headers={"Authorization": f"token {token}"},
            timeout=60,
        )

    outside = os.path.realpath(tmp_path / "a" / "root")

    async def main() -> None:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(modserver.lifespan_of(first))
            await stack.enter_async_context(modserver.lifespan_of(second))
            a = await stack.enter_async_context(client(first, "token-a"))
            b = await stack.enter_async_context(client(second, "token-b"))
            assert (await a.post("/api/terminals")).json()["name"] == "1"
            assert (await b.get("/api/terminals")).json() == []
            # Both number from 1: the names are per app.
            assert (await b.post("/api/terminals")).json()["name"] == "1"
            assert (await a.delete("/api/terminals/1")).status_code == 204
            assert [t["name"] for t in (await b.get("/api/terminals")).json()] == ["1"]
            # A cwd is checked against the app's own root.
            assert (await b.post("/api/terminals", json={"cwd": outside})).status_code == 400
            assert (await b.get("/api/status")).json()["terminals"] == 1

    anyio.run(main)
