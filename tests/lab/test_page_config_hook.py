"""``frontend_page_config``: other plugins add keys to every page's config."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import anyio
import httpx
from modserver.app import assemble, build
from modserver.plugins import ENTRY_POINT_GROUP, InstalledPlugin, discover
from modserver.settings import gather

from tests.lab.pages import page_config

MODULE = "tests.lab.page_config_plugins"
TOKEN = "hook-test-token"


def installed(*names: str) -> dict[str, InstalledPlugin]:
    return {
        name: InstalledPlugin(name, EntryPoint(name, f"{MODULE}:{name}", ENTRY_POINT_GROUP))
        for name in names
    }


def pages_of(
    root: Path, label: str, paths: list[str], extra: tuple[str, ...] = ()
) -> tuple[list[dict], int]:
    """Run one app with lab + the sample plugins; return the page configs and hook calls."""
    samples = ("terminals_flag", "silent", *extra)
    raw = gather(
        env={},
        cli={"root_dir": str(root), "plugins": ",".join(("lab", *samples))},
        cli_sets=[f"auth.token={TOKEN}"],
    )
    server = build(raw, {**discover(), **installed(*samples)})
    server.contexts["terminals_flag"].state["label"] = label
    app = assemble(server, manage_lifespan=False)

    async def fetch() -> list[dict]:
        async with server.lifespan():
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"token {TOKEN}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1", headers=headers
            ) as client:
                return [page_config((await client.get(path)).text) for path in paths]

    configs = anyio.run(fetch)
    return configs, server.contexts["terminals_flag"].state["calls"]


def test_plugins_add_keys_to_every_page_config(tmp_path):
    configs, calls = pages_of(tmp_path, "first", ["/lab", "/tree", "/lab/tree/x.txt"])
    for config in configs:
        assert config["terminalsAvailable"] is True
        assert config["seenAppName"] == "JupyterLab"
        assert config["contributor"] == "first"
    assert calls == 1  # built once per app, not per page


def test_each_app_asks_its_own_plugins(tmp_path):
    first, _ = pages_of(tmp_path, "first", ["/lab"])
    second, _ = pages_of(tmp_path, "second", ["/lab"])
    assert (first[0]["contributor"], second[0]["contributor"]) == ("first", "second")


def test_two_frontends_may_declare_the_shared_hook(tmp_path):
    configs, calls = pages_of(tmp_path, "shared", ["/lab"], extra=("other_frontend",))
    assert configs[0]["terminalsAvailable"] is True
    assert calls == 1
