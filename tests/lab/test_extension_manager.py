"""JupyterLab's Extension Manager and Plugin Manager: /lab/api/extensions and /lab/api/plugins.

A real server with the lab plugin, the labextensions of tests/lab/conftest.py (one of them
disabled in labconfig/page_config.json) and those the test extras install from PyPI
(jupyterlab_pygments; jupyter-docprovider, which replaces two core plugins), an editor and a
viewer in the users table, and one plugin locked by the ``lab.locked_plugins`` setting.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import nbformat
import pytest

from tests.conftest import RunningServer, start_server
from tests.lab.conftest import DISABLED_EXT, ENABLED_EXT
from tests.lab.pages import page_config

EDITOR_TOKEN = "editor-token-aaaaaaaaaaaaaaaaaaaa"
VIEWER_TOKEN = "viewer-token-bbbbbbbbbbbbbbbbbbbb"
LOCKED_PLUGIN = "@jupyterlab/apputils-extension:themes"
DOCPROVIDER = "@jupyter/docprovider-extension"
REPLACED_BY_DOCPROVIDER = "@jupyterlab/filebrowser-extension:defaultFileBrowser"
ACTION_DONE = {"status": "ok", "message": None, "needs_restart": ["frontend"]}


@pytest.fixture(scope="module")
def settings_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("user-settings")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, jupyter_dirs: dict[str, str], settings_dir: Path
) -> Iterator[RunningServer]:
    from modserver_auth.tokens import hash_token

    root = tmp_path_factory.mktemp("managers") / "root"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "analysis.ipynb")
    users = {
        "ed": {"role": "editor", "token_hash": hash_token(EDITOR_TOKEN)},
        "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
    }
    running = start_server(
        root,
        "--set",
        f"auth.users={json.dumps(users)}",
        "--set",
        f"lab.locked_plugins={json.dumps([LOCKED_PLUGIN])}",
        plugins="lab",
        env={**jupyter_dirs, "JUPYTERLAB_SETTINGS_DIR": str(settings_dir)},
    )
    yield running
    running.stop()


@pytest.fixture
def owner(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture
def editor(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client(token=EDITOR_TOKEN) as client:
        yield client


@pytest.fixture
def viewer(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client(token=VIEWER_TOKEN) as client:
        yield client


def listed(client: httpx.Client, **params: Any) -> dict[str, dict[str, Any]]:
    response = client.get("lab/api/extensions", params=params)
    assert response.status_code == 200, response.text
    return {entry["name"]: entry for entry in response.json()}


def switch(client: httpx.Client, cmd: str, name: str) -> httpx.Response:
    return client.post("lab/api/extensions", json={"cmd": cmd, "extension_name": name})


def switch_plugin(client: httpx.Client, cmd: str, name: str) -> httpx.Response:
    return client.post("lab/api/plugins", json={"cmd": cmd, "plugin_name": name})


def lab_config(client: httpx.Client) -> dict[str, Any]:
    return page_config(client.get("lab").text)


def last_page(response: httpx.Response) -> int:
    return int(parse_qs(urlsplit(response.links["last"]["url"]).query)["page"][0])


def test_the_page_config_announces_a_read_only_extension_manager(owner):
    config = lab_config(owner)
    assert config["extensionManager"] == {
        "name": "read-only",
        "can_install": False,
        "install_path": None,
    }
    assert "@jupyterlab/extensionmanager-extension" not in config["disabledExtensions"]


def test_every_installed_labextension_is_listed_with_what_its_package_says(owner):
    response = owner.get("lab/api/extensions")
    assert "link" not in response.headers  # the installed list comes in one answer
    extensions = {entry["name"]: entry for entry in response.json()}
    assert list(extensions) == sorted(extensions)
    assert {ENABLED_EXT, DISABLED_EXT, "jupyterlab_pygments"} <= set(extensions)
    # jupyterlab_pygments (a test extra) sits in this environment's data folder.
    package_json = Path(sys.prefix, "share", "jupyter", "labextensions", "jupyterlab_pygments")
    package = json.loads((package_json / "package.json").read_text())
    pygments = extensions["jupyterlab_pygments"]
    assert pygments["installed_version"] == pygments["latest_version"] == package["version"]
    assert pygments["description"] == package["description"]
    assert pygments["homepage_url"] == package["homepage"]
    assert pygments["license"] == package["license"]
    assert pygments["author"] == package["author"]["name"]
    assert pygments["install"]["packageName"] == "jupyterlab_pygments"
    assert (pygments["pkg_type"], pygments["installed"], pygments["status"]) == (
        "prebuilt",
        True,
        "ok",
    )
    assert pygments["enabled"] is True
    # Disabled in labconfig/page_config.json: listed, but off.
    assert extensions[DISABLED_EXT]["enabled"] is False
    assert extensions[ENABLED_EXT]["enabled"] is True


def test_a_query_finds_installed_extensions_only_a_page_at_a_time(owner):
    first = owner.get("lab/api/extensions", params={"query": "modserver-test", "per_page": 1})
    assert first.status_code == 200
    assert [entry["name"] for entry in first.json()] == [ENABLED_EXT]
    assert last_page(first) == 2
    assert set(first.links) == {"last", "next", "first"}
    second = owner.get(first.links["next"]["url"])
    assert [entry["name"] for entry in second.json()] == [DISABLED_EXT]
    assert set(second.links) == {"last", "prev", "first"}
    # Names, descriptions and Python package names match, whatever the case.
    assert set(listed(owner, query="PYGMENTS theme")) == {"jupyterlab_pygments"}
    assert listed(owner, query="jupyterlab-night-that-is-not-installed") == {}
    # The frontend's own "search" (no registry here) asks with an empty query.
    everything = owner.get("lab/api/extensions", params={"query": "", "page": 1, "per_page": 30})
    assert set(e["name"] for e in everything.json()) == set(listed(owner))


@pytest.mark.parametrize(
    "params", [{"page": "0"}, {"page": "x"}, {"per_page": "0"}, {"per_page": "1.5"}]
)
def test_page_arguments_that_are_not_positive_numbers_are_a_400(owner, params):
    response = owner.get("lab/api/extensions", params={"query": "x", **params})
    assert response.status_code == 400
    assert response.json()["message"]


def test_a_disabled_extension_is_off_after_a_reload_for_that_user_only(owner, editor, settings_dir):
    response = switch(editor, "disable", ENABLED_EXT)
    assert (response.status_code, response.json()) == (201, ACTION_DONE)
    try:
        assert listed(editor)[ENABLED_EXT]["enabled"] is False
        config = lab_config(editor)
        assert ENABLED_EXT in config["disabledExtensions"]
        assert ENABLED_EXT not in {e["name"] for e in config["federated_extensions"]}
        # Kept in the editor's own folder, as `jupyter labextension disable` writes it.
        stored = settings_dir / "_users" / "ed" / "labconfig" / "page_config.json"
        assert json.loads(stored.read_text()) == {"disabledExtensions": {ENABLED_EXT: True}}
        # Nobody else's lab changes.
        assert listed(owner)[ENABLED_EXT]["enabled"] is True
        assert ENABLED_EXT not in lab_config(owner)["disabledExtensions"]
    finally:
        assert switch(editor, "enable", ENABLED_EXT).status_code == 201
    assert listed(editor)[ENABLED_EXT]["enabled"] is True
    config = lab_config(editor)
    assert ENABLED_EXT not in config["disabledExtensions"]
    assert ENABLED_EXT in {e["name"] for e in config["federated_extensions"]}


def test_plugins_an_extension_replaces_come_back_when_the_user_turns_it_off(owner):
    assert REPLACED_BY_DOCPROVIDER in lab_config(owner)["disabledExtensions"]
    assert switch(owner, "disable", DOCPROVIDER).status_code == 201
    try:
        disabled = lab_config(owner)["disabledExtensions"]
        assert DOCPROVIDER in disabled
        assert REPLACED_BY_DOCPROVIDER not in disabled
        assert REPLACED_BY_DOCPROVIDER not in owner.get("lab/api/plugins").json()["lockRules"]
    finally:
        assert switch(owner, "enable", DOCPROVIDER).status_code == 201
    assert REPLACED_BY_DOCPROVIDER in lab_config(owner)["disabledExtensions"]


def test_an_extension_the_server_configuration_disables_cannot_be_enabled_here(owner):
    response = switch(owner, "enable", DISABLED_EXT)
    assert response.status_code == 409
    assert "jupyter labextension enable" in response.json()["message"]
    assert listed(owner)[DISABLED_EXT]["enabled"] is False


def test_installing_or_uninstalling_is_refused_with_what_to_do_instead(owner):
    for cmd in ("install", "uninstall"):
        response = switch(owner, cmd, "jupyterlab-git")
        assert response.status_code == 422
        assert "pip" in response.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"cmd": "explode", "extension_name": ENABLED_EXT},
        {"cmd": "disable"},
        {"cmd": "disable", "extension_name": 3},
        [],
    ],
)
def test_a_malformed_change_is_a_400(owner, body):
    response = owner.post("lab/api/extensions", json=body)
    assert response.status_code == 400
    assert response.json()["message"]


def test_switching_an_extension_that_is_not_installed_is_a_404(owner):
    response = switch(owner, "disable", "not-installed-anywhere")
    assert response.status_code == 404
    assert response.json()["message"]


def test_a_viewer_sees_both_managers_but_switches_nothing(viewer):
    assert viewer.get("lab/api/extensions").status_code == 200
    assert viewer.get("lab/api/plugins").status_code == 200
    refused = switch(viewer, "disable", ENABLED_EXT)
    assert refused.status_code == 403
    assert refused.json()["message"]
    assert switch_plugin(viewer, "disable", "jupyterlab_pygments:plugin").status_code == 403
    assert ENABLED_EXT not in lab_config(viewer)["disabledExtensions"]


def test_the_plugin_manager_switches_single_plugins_in_the_same_list(editor):
    locks = editor.get("lab/api/plugins").json()
    assert locks["allLocked"] is False
    # Locked: the setting's plugin, and what the server's configuration disables.
    assert {LOCKED_PLUGIN, DISABLED_EXT, REPLACED_BY_DOCPROVIDER} <= set(locks["lockRules"])
    plugin = "jupyterlab_pygments:plugin"
    response = switch_plugin(editor, "disable", plugin)
    assert (response.status_code, response.json()) == (201, ACTION_DONE)
    try:
        assert plugin in lab_config(editor)["disabledExtensions"]
        # The extension itself stays on: only that plugin is off.
        assert listed(editor)["jupyterlab_pygments"]["enabled"] is True
    finally:
        assert switch_plugin(editor, "enable", plugin).status_code == 201
    assert plugin not in lab_config(editor)["disabledExtensions"]


def test_a_locked_plugin_cannot_be_switched(editor):
    for cmd in ("disable", "enable"):
        response = switch_plugin(editor, cmd, LOCKED_PLUGIN)
        assert response.status_code == 403
        assert "locked" in response.json()["message"]
    assert LOCKED_PLUGIN not in lab_config(editor)["disabledExtensions"]


@pytest.mark.parametrize(
    "body",
    [
        {"cmd": "install", "plugin_name": "a:b"},
        {"cmd": "disable", "plugin_name": "has space:plugin"},
        {"cmd": "disable", "plugin_name": ""},
        {"cmd": "disable"},
    ],
)
def test_a_malformed_plugin_change_is_a_400(editor, body):
    response = editor.post("lab/api/plugins", json=body)
    assert response.status_code == 400
    assert response.json()["message"]


def test_with_every_plugin_locked_nobody_switches_anything(
    tmp_path: Path, jupyter_dirs: dict[str, str]
):
    root = tmp_path / "root"
    root.mkdir()
    env = {**jupyter_dirs, "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")}
    locked = start_server(root, "--set", "lab.lock_all_plugins=true", plugins="lab", env=env)
    try:
        with locked.client() as owner:
            assert owner.get("lab/api/plugins").json()["allLocked"] is True
            assert switch_plugin(owner, "disable", "jupyterlab_pygments:plugin").status_code == 403
            assert switch(owner, "disable", "jupyterlab_pygments").status_code == 403
            assert "jupyterlab_pygments" not in lab_config(owner)["disabledExtensions"]
    finally:
        locked.stop()


def test_a_users_list_is_bounded(owner, settings_dir):
    stored = settings_dir / "labconfig" / "page_config.json"
    stored.parent.mkdir(parents=True, exist_ok=True)
    many = {f"some-package:plugin-{n}": True for n in range(1000)}
    stored.write_text(json.dumps({"disabledExtensions": many}))
    try:
        response = switch_plugin(owner, "disable", "jupyterlab_pygments:plugin")
        assert response.status_code == 409
        assert "1000" in response.json()["message"]
        # Switching one back on still works.
        assert switch_plugin(owner, "enable", "some-package:plugin-7").status_code == 201
        assert "some-package:plugin-7" not in lab_config(owner)["disabledExtensions"]
    finally:
        stored.unlink()
