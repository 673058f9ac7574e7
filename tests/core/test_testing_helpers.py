"""``modserver.testing``, the helpers a plugin's own tests use (docs/writing-a-plugin.md)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from modserver.testing import app_client, serve


def test_app_client_talks_to_the_app_with_its_plugins_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The user's own environment is not the test's (read, this would be a settings error).
    monkeypatch.setenv("MODSERVER_PORT", "not-a-port")
    (tmp_path / "note.txt").write_text("hi")

    async def scenario() -> None:
        async with app_client(["hello", "contents"], tmp_path) as client:
            # /hello needs the Greeter service, which exists only while the plugins run.
            assert (await client.get("/hello")).json() == {"message": "Hello, owner!"}
            response = await client.get("/api/contents/note.txt")
            assert (response.status_code, response.json()["content"]) == (200, "hi")
            unauthenticated = await client.get("/hello", headers={"Authorization": ""})
            assert unauthenticated.status_code == 401

    anyio.run(scenario)


def test_serve_runs_the_real_server_until_the_block_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MODSERVER_PORT", "not-a-port")
    with serve(["hello"], tmp_path, settings={"hello.greeting": "Howdy"}) as server:
        with server.client() as client:
            assert client.get("hello").json() == {"message": "Howdy, owner!"}
        assert server.ws_url("api/x").startswith("ws://127.0.0.1:")
    assert server.process.returncode == 0  # stopped cleanly at the end of the block


def test_serve_says_what_the_server_printed_when_it_cannot_start(tmp_path: Path):
    settings = {"hello.greting": "typo"}
    with (
        pytest.raises(RuntimeError, match=r"unknown setting hello\.greting"),
        serve(["hello"], tmp_path, settings=settings),
    ):
        pass
