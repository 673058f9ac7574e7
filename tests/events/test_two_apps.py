"""Two apps in one process have their own event buses: a save in one reaches only its own."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import httpx
import modserver
from modserver.api.events import CONTENTS_SCHEMA_ID, EventMessage, Events
from starlette.applications import Starlette


def make_app(base: Path) -> Starlette:
    root = base / "root"
    root.mkdir(parents=True)
    return modserver.create_app(
        plugins=["events", "contents"],
        settings={
            "root_dir": str(root),
            "runtime_dir": str(base / "runtime"),
            "auth": {"token": "t"},
        },
        use_env=False,
    )


def events_of(app: Starlette) -> Events:
    bus = app.state.modserver.services.find(Events)
    assert bus is not None
    return bus


def test_a_save_in_one_app_is_an_event_of_that_app_only(tmp_path: Path):
    first, second = make_app(tmp_path / "first"), make_app(tmp_path / "second")
    seen: dict[str, list[EventMessage]] = {"first": [], "second": []}

    async def main() -> None:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(modserver.lifespan_of(first))
            await stack.enter_async_context(modserver.lifespan_of(second))
            stack.callback(events_of(first).subscribe(seen["first"].append))
            stack.callback(events_of(second).subscribe(seen["second"].append))
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=first),
                    base_url="http://127.0.0.1",
                    headers={"Authorization": "token t"},
                )
            )
            body = {"type": "file", "format": "text", "content": "x"}
            assert (await client.put("/api/contents/mine.txt", json=body)).status_code == 201

    anyio.run(main)
    assert seen["first"] == [
        {"schema_id": CONTENTS_SCHEMA_ID, "action": "save", "path": "mine.txt"}
    ]
    assert seen["second"] == []
