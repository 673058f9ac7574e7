"""Prebuilt labextensions: listed in the page config, served, disabled ones left out; themes."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import RunningServer
from tests.lab.conftest import DISABLED_EXT, ENABLED_EXT, ENTRY
from tests.lab.pages import page_config


@pytest.fixture
def client(lab_server: RunningServer):
    with lab_server.client() as http:
        yield http


def federated(client: httpx.Client, page: str = "lab") -> dict[str, dict]:
    return {ext["name"]: ext for ext in page_config(client.get(page).text)["federated_extensions"]}


def test_labextensions_of_the_data_path_are_listed_as_the_frontend_loads_them(client):
    extensions = federated(client)
    assert extensions[ENABLED_EXT] == {
        "name": ENABLED_EXT,
        "load": ENTRY,
        "extension": "./extension",
        "style": "./style",
        "entrypoints": None,
    }
    # Installed from PyPI into this environment (a test extra), and Notebook 7's own.
    assert "jupyterlab_pygments" in extensions
    assert "@jupyter-notebook/lab-extension" in extensions
    assert federated(client, "tree").keys() == extensions.keys()


def test_a_listed_labextension_is_served_at_its_load_url(client):
    for name, extension in federated(client).items():
        response = client.get(f"lab/extensions/{name}/{extension['load']}")
        assert response.status_code == 200, name
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_unhashed_labextension_files_are_revalidated(client):
    response = client.get(f"lab/extensions/{ENABLED_EXT}/static/style.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


def test_files_in_nested_static_folders_are_served(client):
    response = client.get(f"lab/extensions/{ENABLED_EXT}/static/lib/static/deep.js")
    assert response.status_code == 200
    assert response.text == "/* deep */"


@pytest.mark.parametrize(
    "path",
    [
        f"lab/extensions/{ENABLED_EXT}/package.json",  # only static/ is served
        f"lab/extensions/{ENABLED_EXT}/static/../package.json",
        f"lab/extensions/{ENABLED_EXT}/static/%2e%2e/package.json",
        "lab/extensions/no-such-extension/static/x.js",
        "lab/extensions/@modserver-test/static/x.js",
    ],
)
def test_only_the_static_folder_of_an_enabled_labextension_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "message" in response.json()


def test_a_disabled_labextension_is_neither_listed_nor_served(client):
    assert DISABLED_EXT not in federated(client)
    assert DISABLED_EXT in page_config(client.get("lab").text)["disabledExtensions"]
    assert client.get(f"lab/extensions/{DISABLED_EXT}/{ENTRY}").status_code == 404


def test_the_extension_manager_is_on_by_default(client):
    # /lab/api/extensions answers it (tests/lab/test_extension_manager.py).
    assert (
        "@jupyterlab/extensionmanager-extension"
        not in page_config(client.get("lab").text)["disabledExtensions"]
    )


def test_core_themes_are_served(client):
    response = client.get("lab/api/themes/@jupyterlab/theme-light-extension/index.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "--jp-layout-color0" in response.text


def test_labextension_themes_are_served_with_absolute_urls(client):
    response = client.get(f"lab/api/themes/{ENABLED_EXT}/index.css")
    assert response.status_code == 200
    # Relative URLs resolve against the page once the CSS is in a <style>: made absolute.
    assert f"url('/lab/api/themes/{ENABLED_EXT}/images/dot.svg')" in response.text
    assert "url(https://cdn.example/f.woff)" in response.text
    image = client.get(f"lab/api/themes/{ENABLED_EXT}/images/dot.svg")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/svg+xml"


def test_themes_of_a_disabled_labextension_are_not_served(client):
    assert client.get(f"lab/api/themes/{DISABLED_EXT}/index.css").status_code == 404
