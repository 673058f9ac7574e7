"""JupyterLab's server API: settings, workspaces, translations, listings, licenses.

The lab plugin's declaration is another module's; these tests serve ``lab_api_routes``
through a small plugin installed with a real entry point, next to the real auth plugin
(the owner's token, an editor and a viewer from the users table), with JupyterLab's real
schemas from the ``jupyterlab-js`` package and a federated extension made on disk.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Awaitable, Callable, Iterator
from importlib.metadata import EntryPoint, distribution
from pathlib import Path
from typing import Any

import anyio
import httpx
import modserver
import pytest
import yaml
from modserver import Plugin, PluginContext, hookimpl
from modserver.api.auth import Authorizer, Identity
from modserver.app import assemble, build
from modserver.plugins import ENTRY_POINT_GROUP, InstalledPlugin, discover
from modserver.settings import CORE, gather
from modserver_auth.tokens import hash_token
from modserver_lab.lab_api import (
    LabApiSettings,
    lab_api_openapi,
    lab_api_routes,
)
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

OWNER_TOKEN = "owner-token-0123456789abcdef"
EDITOR_TOKEN = "editor-token-aaaaaaaaaaaaaaaaaaaa"
VIEWER_TOKEN = "viewer-token-bbbbbbbbbbbbbbbbbbbb"
USERS = {
    "ed": {"role": "editor", "token_hash": hash_token(EDITOR_TOKEN)},
    "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
}
THEMES = "@jupyterlab/apputils-extension:themes"
EXTENSION = "@acme/lab-theme"
DARK_WITH_COMMENTS = """{
    // The theme everybody in this lab prefers.
    "theme": "JupyterLab Dark", /* trailing comma next */
}"""


class ProbeSettings(LabApiSettings):
    """The probe's section: the lab API's settings plus what the lab plugin would find."""

    app_dir: Path
    extensions: dict[str, Path] = {}


class LabApiProbe(Plugin):
    """Serves the lab API as the lab plugin's routes.py does."""

    name = "labapi"
    requires = (Identity, Authorizer)
    settings = ProbeSettings

    @hookimpl
    def modserver_routes(self, context: PluginContext) -> list[BaseRoute]:
        settings = context.settings_as(ProbeSettings)
        return lab_api_routes(context, settings.app_dir, settings.extensions, settings)

    @hookimpl
    def modserver_openapi(self, context: PluginContext) -> dict[str, Any]:
        return lab_api_openapi()


probe = LabApiProbe()


def jupyterlab_app_dir() -> Path:
    """JupyterLab's application folder as the jupyterlab-js package installs it."""
    dist = distribution("jupyterlab-js")
    for file in dist.files or []:
        if file.as_posix().endswith("share/jupyter/lab/static/package.json"):
            return Path(str(dist.locate_file(file))).resolve().parent.parent
    raise AssertionError("jupyterlab-js ships no share/jupyter/lab")


@pytest.fixture
def extension(tmp_path: Path) -> Path:
    """A federated labextension folder: a schema, a license list and a theme."""
    folder = tmp_path / "labextensions" / EXTENSION
    schemas = folder / "schemas" / EXTENSION
    schemas.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": EXTENSION, "version": "1.2.3"}))
    (schemas / "package.json.orig").write_text(json.dumps({"name": EXTENSION, "version": "1.2.3"}))
    schema = {
        "title": "Acme",
        "type": "object",
        "properties": {"accent": {"type": "string", "default": "blue"}},
        "additionalProperties": False,
    }
    (schemas / "plugin.json").write_text(json.dumps(schema))
    (folder / "static").mkdir()
    licenses = {"packages": [{"name": "left-pad", "versionInfo": "1.3.0", "licenseId": "WTFPL"}]}
    (folder / "static" / "third-party-licenses.json").write_text(json.dumps(licenses))
    (folder / "themes" / EXTENSION).mkdir(parents=True)
    (folder / "themes" / EXTENSION / "index.css").write_text(":root { --acme: red; }\n")
    return folder


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    found = {name: tmp_path / name for name in ("user-settings", "workspaces", "app-settings")}
    found["app-settings"].mkdir()
    return found


def make_app(
    tmp_path: Path, dirs: dict[str, Path], extension: Path, base_url: str = "/"
) -> Starlette:
    """The app: the probe (lab API) and the auth plugin it pulls in, three users."""
    installed = discover()
    entry_point = EntryPoint("labapi", f"{__name__}:probe", ENTRY_POINT_GROUP)
    installed["labapi"] = InstalledPlugin("labapi", entry_point)
    raw = gather(env={})
    raw.set(CORE, "root_dir", str(tmp_path), "test")
    raw.set(CORE, "plugins", ["labapi"], "test")
    raw.set(CORE, "base_url", base_url, "test")
    raw.set("auth", "token", OWNER_TOKEN, "test")
    raw.set("auth", "users", USERS, "test")
    raw.set("labapi", "app_dir", str(jupyterlab_app_dir()), "test")
    raw.set("labapi", "extensions", {EXTENSION: str(extension)}, "test")
    raw.set("labapi", "user_settings_dir", str(dirs["user-settings"]), "test")
    raw.set("labapi", "workspaces_dir", str(dirs["workspaces"]), "test")
    raw.set("labapi", "app_settings_dir", str(dirs["app-settings"]), "test")
    return assemble(build(raw, installed), manage_lifespan=False)


@pytest.fixture
def app(tmp_path: Path, dirs: dict[str, Path], extension: Path) -> Starlette:
    return make_app(tmp_path, dirs, extension)


Clients = dict[str, httpx.AsyncClient]
Scenario = Callable[[Clients], Awaitable[None]]


def run(app: Starlette, scenario: Scenario) -> None:
    """Start the app (lifespan), then run ``scenario`` with a client per user (and none)."""

    async def main() -> None:
        async with modserver.lifespan_of(app):
            transport = httpx.ASGITransport(app=app)
            tokens = {"owner": OWNER_TOKEN, "editor": EDITOR_TOKEN, "viewer": VIEWER_TOKEN}
            clients = {
                who: httpx.AsyncClient(
                    transport=transport,
                    base_url="http://127.0.0.1",
                    headers={"Authorization": f"token {token}"},
                )
                for who, token in tokens.items()
            }
            clients["anonymous"] = httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1"
            )
            try:
                await scenario(clients)
            finally:
                for client in clients.values():
                    await client.aclose()

    anyio.run(main)


def settings_file(folder: Path, schema_id: str = THEMES) -> Path:
    package, plugin = schema_id.split(":")
    return folder / package / f"{plugin}.jupyterlab-settings"


# --- settings ---------------------------------------------------------------------------


def test_a_theme_setting_with_comments_is_saved_verbatim_and_read_back(
    app: Starlette, dirs: dict[str, Path]
) -> None:
    async def scenario(c: Clients) -> None:
        put = await c["owner"].put(f"/lab/api/settings/{THEMES}", json={"raw": DARK_WITH_COMMENTS})
        assert put.status_code == 204, put.text
        got = (await c["owner"].get(f"/lab/api/settings/{THEMES}")).json()
        assert got["id"] == THEMES
        assert got["raw"] == DARK_WITH_COMMENTS
        assert got["settings"] == {"theme": "JupyterLab Dark"}
        assert got["schema"]["title"] == "Theme"
        assert got["schema"]["properties"]["theme"]["default"] == "JupyterLab Light"
        assert got["version"] == distribution("jupyterlab-js").version
        assert got["last_modified"] and got["created"]

    run(app, scenario)
    # JupyterLab's own layout and file name, comments included: both servers share it.
    assert settings_file(dirs["user-settings"]).read_text() == DARK_WITH_COMMENTS


def test_a_value_the_schema_refuses_is_a_400_naming_the_setting(
    app: Starlette, dirs: dict[str, Path]
) -> None:
    async def scenario(c: Clients) -> None:
        owner = c["owner"]
        url = f"/lab/api/settings/{THEMES}"
        bad_type = await owner.put(url, json={"raw": '{"theme": 42}'})
        assert bad_type.status_code == 400
        message = bad_type.json()["message"]
        assert THEMES in message and "theme" in message and "not of type 'string'" in message
        bad_json5 = await owner.put(url, json={"raw": '{"theme": "JupyterLab Dark"'})
        assert bad_json5.status_code == 400
        assert "JSON5" in bad_json5.json()["message"]
        not_object = await owner.put(url, json={"raw": "[1, 2]"})
        assert not_object.status_code == 400
        no_raw = await owner.put(url, json={"settings": {"theme": "JupyterLab Dark"}})
        assert no_raw.status_code == 400 and "raw" in no_raw.json()["message"]
        not_json = await owner.put(url, content=b"{raw: nope")
        assert not_json.status_code == 400
        unknown = await owner.put("/lab/api/settings/@acme/nothing:here", json={"raw": "{}"})
        assert unknown.status_code == 404 and "Schema not found" in unknown.json()["message"]
        no_colon = await owner.get("/lab/api/settings/not-a-schema-id")
        assert no_colon.status_code == 404

    run(app, scenario)
    assert not settings_file(dirs["user-settings"]).exists()


def test_the_settings_list_carries_every_schema_with_user_values_and_ids_only_just_ids(
    app: Starlette,
) -> None:
    async def scenario(c: Clients) -> None:
        owner = c["owner"]
        raw = '{"accent": "green"}'
        ext_url = f"/lab/api/settings/{EXTENSION}:plugin"
        assert (await owner.put(ext_url, json={"raw": raw})).status_code == 204
        listing = (await owner.get("/lab/api/settings")).json()["settings"]
        by_id = {item["id"]: item for item in listing}
        assert len(by_id) > 50  # JupyterLab's own plugins
        assert by_id[THEMES]["settings"] == {} and by_id[THEMES]["raw"] == "{}"
        extension = by_id[f"{EXTENSION}:plugin"]
        assert extension["settings"] == {"accent": "green"} and extension["version"] == "1.2.3"
        ids = (await owner.get("/lab/api/settings/", params={"ids_only": "true"})).json()
        assert [item["id"] for item in ids["settings"]] == [item["id"] for item in listing]
        assert all(set(item) == {"id"} for item in ids["settings"])

    run(app, scenario)


def test_each_user_has_own_settings_and_a_viewer_saves_only_their_own(
    app: Starlette, dirs: dict[str, Path]
) -> None:
    async def scenario(c: Clients) -> None:
        url = f"/lab/api/settings/{THEMES}"
        assert (await c["owner"].put(url, json={"raw": DARK_WITH_COMMENTS})).status_code == 204
        light = '{"theme": "JupyterLab Light"}'
        assert (await c["editor"].put(url, json={"raw": light})).status_code == 204
        assert (await c["owner"].get(url)).json()["settings"]["theme"] == "JupyterLab Dark"
        assert (await c["editor"].get(url)).json()["settings"]["theme"] == "JupyterLab Light"
        viewer_get = await c["viewer"].get(url)
        assert viewer_get.status_code == 200 and viewer_get.json()["settings"] == {}
        # Settings are per user, not shared: a viewer's own choice changes nobody else's.
        saved = await c["viewer"].put(url, json={"raw": light})
        assert saved.status_code == 204
        assert (await c["owner"].get(url)).json()["settings"]["theme"] == "JupyterLab Dark"

    run(app, scenario)
    assert "Dark" in settings_file(dirs["user-settings"]).read_text()
    assert "Light" in settings_file(dirs["user-settings"] / "_users" / "ed").read_text()
    assert "Light" in settings_file(dirs["user-settings"] / "_users" / "vi").read_text()


def test_overrides_json_changes_the_defaults_the_schema_announces(
    app: Starlette, dirs: dict[str, Path]
) -> None:
    overrides = {THEMES: {"theme": "JupyterLab Dark"}}
    (dirs["app-settings"] / "overrides.json").write_text(json.dumps(overrides))

    async def scenario(c: Clients) -> None:
        got = (await c["owner"].get(f"/lab/api/settings/{THEMES}")).json()
        assert got["schema"]["properties"]["theme"]["default"] == "JupyterLab Dark"

    run(app, scenario)


def test_settings_never_land_outside_the_folder_through_a_symbolic_link(
    app: Starlette, dirs: dict[str, Path], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dirs["user-settings"].mkdir()
    (dirs["user-settings"] / "@jupyterlab").symlink_to(elsewhere, target_is_directory=True)

    async def scenario(c: Clients) -> None:
        put = await c["owner"].put(f"/lab/api/settings/{THEMES}", json={"raw": "{}"})
        assert put.status_code == 400 and "outside" in put.json()["message"]

    run(app, scenario)
    assert list(elsewhere.rglob("*")) == []


def test_a_link_planted_as_a_users_folder_leads_nowhere_outside(
    app: Starlette, dirs: dict[str, Path], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (elsewhere / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings").write_text(
        '{"theme": "JupyterLab Dark"}'
    )
    for folder in (dirs["user-settings"], dirs["workspaces"]):
        (folder / "_users").mkdir(parents=True)
        (folder / "_users" / "ed").symlink_to(elsewhere, target_is_directory=True)
    before = sorted(elsewhere.rglob("*"))

    async def scenario(c: Clients) -> None:
        editor = c["editor"]
        url = f"/lab/api/settings/{THEMES}"
        assert (await editor.get(url)).json()["settings"] == {}  # the file outside is not read
        assert (await editor.put(url, json={"raw": "{}"})).status_code == 400
        put = await editor.put("/lab/api/workspaces/w", json=workspace("w"))
        assert put.status_code == 400 and "outside" in put.json()["message"]
        assert (await editor.get("/lab/api/workspaces")).json()["workspaces"]["ids"] == []

    run(app, scenario)
    assert sorted(elsewhere.rglob("*")) == before


def test_user_settings_the_schema_no_longer_accepts_fall_back_to_defaults(
    app: Starlette, dirs: dict[str, Path]
) -> None:
    path = settings_file(dirs["user-settings"])
    path.parent.mkdir(parents=True)
    path.write_text('{"theme": 7}')

    async def scenario(c: Clients) -> None:
        got = await c["owner"].get(f"/lab/api/settings/{THEMES}")
        assert got.status_code == 200
        assert got.json()["settings"] == {} and got.json()["raw"] == "{}"

    run(app, scenario)


# --- workspaces -------------------------------------------------------------------------


def workspace(name: str, **data: object) -> dict[str, object]:
    return {"data": data, "metadata": {"id": name}}


def test_several_named_workspaces_are_saved_listed_and_deleted(
    app: Starlette, dirs: dict[str, Path]
) -> None:
    async def scenario(c: Clients) -> None:
        owner = c["owner"]
        new = (await owner.get("/lab/api/workspaces/analysis")).json()
        assert new == {"data": {}, "metadata": {"id": "/analysis"}}
        layout = {"main": {"current": "notebook:a.ipynb"}}
        put = await owner.put("/lab/api/workspaces/default", json=workspace("default", **layout))
        assert put.status_code == 204
        put = await owner.put("/lab/api/workspaces/analysis", json=workspace("/analysis"))
        assert put.status_code == 204
        saved = (await owner.get("/lab/api/workspaces/default")).json()
        assert saved["data"] == layout and saved["metadata"]["last_modified"]
        listed = (await owner.get("/lab/api/workspaces")).json()["workspaces"]
        assert sorted(listed["ids"]) == ["/analysis", "default"]
        assert len(listed["values"]) == 2
        assert (await owner.delete("/lab/api/workspaces/analysis")).status_code == 204
        gone = await owner.delete("/lab/api/workspaces/analysis")
        assert gone.status_code == 404 and "analysis" in gone.json()["message"]
        assert (await owner.get("/lab/api/workspaces/")).json()["workspaces"]["ids"] == ["default"]

    run(app, scenario)
    assert [p.suffix for p in dirs["workspaces"].iterdir()] == [".jupyterlab-workspace"]


def test_a_malformed_or_misnamed_workspace_is_a_400(app: Starlette) -> None:
    async def scenario(c: Clients) -> None:
        owner = c["owner"]
        url = "/lab/api/workspaces/default"
        misnamed = await owner.put(url, json=workspace("other"))
        assert misnamed.status_code == 400 and "mismatch" in misnamed.json()["message"]
        no_data = await owner.put(url, json={"metadata": {"id": "default"}})
        assert no_data.status_code == 400 and "data" in no_data.json()["message"]
        no_id = await owner.put(url, json={"data": {}, "metadata": {}})
        assert no_id.status_code == 400
        not_json = await owner.put(url, content=b"<xml/>")
        assert not_json.status_code == 400
        too_big = await owner.put(url, content=b"x" * (4097 * 1024))
        assert too_big.status_code == 413
        nameless = await owner.put("/lab/api/workspaces/", json=workspace(""))
        assert nameless.status_code == 400
        assert (await owner.get("/lab/api/workspaces")).json()["workspaces"]["ids"] == []

    run(app, scenario)


def test_workspaces_belong_to_their_user_and_nobody_changes_another_users(
    app: Starlette,
) -> None:
    async def scenario(c: Clients) -> None:
        put = await c["editor"].put("/lab/api/workspaces/mine", json=workspace("mine"))
        assert put.status_code == 204
        assert (await c["owner"].get("/lab/api/workspaces")).json()["workspaces"]["ids"] == []
        listed = (await c["editor"].get("/lab/api/workspaces")).json()["workspaces"]["ids"]
        assert listed == ["mine"]
        assert (await c["viewer"].get("/lab/api/workspaces")).status_code == 200
        # JupyterLab saves the layout by itself: every role keeps its own workspaces.
        saved = await c["viewer"].put("/lab/api/workspaces/v", json=workspace("v"))
        assert saved.status_code == 204
        assert (await c["viewer"].delete("/lab/api/workspaces/mine")).status_code == 404
        listed = (await c["editor"].get("/lab/api/workspaces")).json()["workspaces"]["ids"]
        assert listed == ["mine"]

    run(app, scenario)


# --- translations -----------------------------------------------------------------------


def write_mo(path: Path, messages: dict[str, str]) -> None:
    """A gettext catalogue (GNU .mo) of ``messages``, UTF-8, as msgfmt writes one."""
    entries = {"": "Content-Type: text/plain; charset=UTF-8\n", **messages}
    keys = sorted(entries)
    ids = b"".join(key.encode() + b"\0" for key in keys)
    texts = b"".join(entries[key].encode() + b"\0" for key in keys)
    count = len(keys)
    ids_start = 7 * 4 + 16 * count
    texts_start = ids_start + len(ids)
    header = struct.pack("<7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, 0)
    id_table, text_table = b"", b""
    id_offset = text_offset = 0
    for key in keys:
        raw_id, raw_text = key.encode(), entries[key].encode()
        id_table += struct.pack("<2I", len(raw_id), ids_start + id_offset)
        text_table += struct.pack("<2I", len(raw_text), texts_start + text_offset)
        id_offset += len(raw_id) + 1
        text_offset += len(raw_text) + 1
    path.write_bytes(header + id_table + text_table + ids + texts)


@pytest.fixture
def french_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An installed language pack: a package and its dist-info with the entry point."""
    site = tmp_path / "site"
    package = site / "jupyterlab_language_pack_fr_FR"
    messages = package / "locale" / "fr_FR" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    data = {"": {"domain": "jupyterlab", "language": "fr_FR"}, "Theme": ["Thème"]}
    (messages / "jupyterlab.json").write_text(json.dumps(data, ensure_ascii=False))
    info = site / "jupyterlab_language_pack_fr_FR-4.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jupyterlab-language-pack-fr-FR\nVersion: 4.0.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[jupyterlab.languagepack]\nfr_FR = jupyterlab_language_pack_fr_FR\n"
    )
    write_mo(
        messages / "jupyterlab.mo",
        {"schema\x04Theme": "Thème", "settings\x04Selected Theme": "Thème choisi"},
    )
    # An extension that ships its own French messages (a ``jupyterlab.locale`` entry point).
    extension_messages = site / "acme_lab" / "locale" / "fr_FR" / "LC_MESSAGES"
    extension_messages.mkdir(parents=True)
    (site / "acme_lab" / "__init__.py").write_text("")
    (extension_messages / "acme-lab.json").write_text(json.dumps({"Accent": ["Accent"]}))
    acme_info = site / "acme_lab-1.0.dist-info"
    acme_info.mkdir()
    (acme_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-lab\nVersion: 1.0\n")
    (acme_info / "entry_points.txt").write_text("[jupyterlab.locale]\nacme-lab = acme_lab\n")
    monkeypatch.syspath_prepend(str(site))
    yield


def test_english_is_always_offered_and_has_no_pack(app: Starlette) -> None:
    async def scenario(c: Clients) -> None:
        listed = (await c["viewer"].get("/lab/api/translations")).json()
        assert listed["message"] == "" and "en" in listed["data"]
        assert listed["data"]["en"]["nativeName"] == "English"
        english = (await c["viewer"].get("/lab/api/translations/en")).json()
        assert english == {"data": {}, "message": "Language pack 'en' not installed!"}
        bogus = (await c["viewer"].get("/lab/api/translations/no such locale!")).json()
        assert bogus["data"] == {} and "not valid" in bogus["message"]

    run(app, scenario)


def test_an_installed_language_pack_is_listed_and_served(app: Starlette, french_pack: None) -> None:
    async def scenario(c: Clients) -> None:
        listed = (await c["owner"].get("/lab/api/translations/")).json()
        assert set(listed["data"]) == {"en", "fr_FR"}
        french = (await c["owner"].get("/lab/api/translations/fr_FR")).json()
        assert french["message"] == ""
        assert french["data"]["jupyterlab"]["Theme"] == ["Thème"]
        assert french["data"]["acme-lab"] == {"Accent": ["Accent"]}

    run(app, scenario)


# --- listings, licenses -----------------------------------------------------------------


def test_the_extension_manager_listings_allow_everything(app: Starlette) -> None:
    async def scenario(c: Clients) -> None:
        url = "/lab/api/listings/@jupyterlab/extensionmanager-extension/listings.json"
        got = (await c["viewer"].get(url)).json()
        assert got["blocked_extensions"] == [] and got["allowed_extensions"] == []
        assert got["blocked_extensions_uris"] == [] and got["allowed_extensions_uris"] == []
        other = await c["viewer"].get("/lab/api/listings/whatever.json")
        assert other.status_code == 404 and "message" in other.json()

    run(app, scenario)


def test_licenses_report_the_app_and_extension_bundles_in_three_formats(app: Starlette) -> None:
    async def scenario(c: Clients) -> None:
        viewer = c["viewer"]
        report = (await viewer.get("/lab/api/licenses/")).json()["bundles"]
        assert set(report) == {"@jupyterlab/application-top", EXTENSION}
        app_packages = report["@jupyterlab/application-top"]["packages"]
        assert any(p["name"] == "@lumino/widgets" for p in app_packages)
        only_ext = await viewer.get("/lab/api/licenses", params={"bundles": "@acme"})
        assert list(only_ext.json()["bundles"]) == [EXTENSION]
        markdown = await viewer.get(
            "/lab/api/licenses", params={"format": "markdown", "bundles": "@acme"}
        )
        assert markdown.headers["content-type"].startswith("text/markdown")
        assert "# @acme/lab-theme" in markdown.text and "**left-pad**" in markdown.text
        csv = await viewer.get(
            "/lab/api/licenses", params={"format": "csv", "bundles": "@acme", "download": "1"}
        )
        assert csv.text.splitlines()[1].startswith("@acme/lab-theme,left-pad,1.3.0,WTFPL")
        assert "attachment" in csv.headers["content-disposition"]
        for params in (
            {"format": "pdf"},
            {"bundles": "("},
            {"bundles": "(.*)*x"},  # would backtrack for minutes
            {"full_text": "maybe"},
        ):
            bad = await viewer.get("/lab/api/licenses", params=params)
            assert bad.status_code == 400 and bad.json()["message"]

    run(app, scenario)


def test_every_lab_api_route_requires_a_login(app: Starlette) -> None:
    async def scenario(c: Clients) -> None:
        for url in (
            "/lab/api/settings",
            f"/lab/api/settings/{THEMES}",
            "/lab/api/workspaces",
            "/lab/api/translations",
            "/lab/api/listings/@jupyterlab/extensionmanager-extension/listings.json",
            "/lab/api/licenses",
        ):
            assert (await c["anonymous"].get(url)).status_code == 401, url
        put = await c["anonymous"].put(f"/lab/api/settings/{THEMES}", json={"raw": "{}"})
        assert put.status_code == 401

    run(app, scenario)


def test_the_served_api_document_describes_every_lab_route(app: Starlette) -> None:
    async def scenario(c: Clients) -> None:
        spec = yaml.safe_load((await c["owner"].get("/api/spec.yaml")).text)
        documented = {
            (path, method.upper())
            for path, item in spec["paths"].items()
            if path.startswith("/lab/")
            for method in item
            if method != "parameters"
        }
        # The core keeps its routes in one RouteIndex, and serves the routes of one path
        # as one PathRoutes (for 405 + Allow).
        routes = [
            r
            for index in app.router.routes
            for item in getattr(index, "routes", [index])
            for r in getattr(item, "routes", [item])
        ]
        served = {
            (re.sub(r":path}", "}", route.path).rstrip("/"), method)
            for route in routes
            if isinstance(route, Route) and route.path.startswith("/lab/")
            for method in route.methods or ()
            if method != "HEAD"
        }
        assert documented == served

    run(app, scenario)


def test_settings_schemas_speak_the_language_the_user_chose(
    app: Starlette, french_pack: None
) -> None:
    async def scenario(c: Clients) -> None:
        language = "/lab/api/settings/@jupyterlab/translation-extension:plugin"
        put = await c["owner"].put(language, json={"raw": '{"locale": "fr_FR"}'})
        assert put.status_code == 204
        french = (await c["owner"].get(f"/lab/api/settings/{THEMES}")).json()["schema"]
        assert french["title"] == "Thème"
        assert french["properties"]["theme"]["title"] == "Thème choisi"
        listed = (await c["owner"].get("/lab/api/settings")).json()["settings"]
        assert next(p for p in listed if p["id"] == THEMES)["schema"]["title"] == "Thème"
        # Another user chose English.
        put = await c["editor"].put(language, json={"raw": '{"locale": "en"}'})
        assert put.status_code == 204
        english = (await c["editor"].get(f"/lab/api/settings/{THEMES}")).json()["schema"]
        assert english["title"] == "Theme"

    run(app, scenario)
