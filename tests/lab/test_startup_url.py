"""The printed URL opens JupyterLab logged in; ``lab.default_page`` and ``base_url`` apply."""

from __future__ import annotations

import re

import httpx

from tests.lab.pages import page_config

OPEN_LINE = re.compile(r"open: (\S+)")
BROWSER = {"accept": "text/html", "sec-fetch-mode": "navigate"}


def printed_url(server) -> str:
    match = OPEN_LINE.search(server.log())
    assert match, server.log()
    return match.group(1)


def test_printed_url_opens_jupyterlab_logged_in(server_factory, jupyter_dirs):
    server = server_factory(plugins="lab", env=jupyter_dirs)
    url = printed_url(server)
    # auth (earlier in the chain) added the token; lab added its page and kept it.
    assert url == f"{server.url}lab?token={server.token}"
    with httpx.Client(headers=BROWSER, follow_redirects=True) as browser:
        response = browser.get(url)
    assert response.status_code == 200
    assert str(response.url) == f"{server.url}lab"  # the token left the address bar
    assert page_config(response.text)["appName"] == "JupyterLab"


def test_default_page_setting_opens_notebook_7(server_factory, jupyter_dirs):
    server = server_factory("--set", "lab.default_page=tree", plugins="lab", env=jupyter_dirs)
    assert printed_url(server) == f"{server.url}tree?token={server.token}"
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get("/").headers["location"] == "/tree"


def test_pages_and_assets_live_under_base_url(server_factory, jupyter_dirs):
    server = server_factory("--base-url", "/jupyter/", plugins="lab", env=jupyter_dirs)
    assert server.url.endswith("/jupyter/")
    assert printed_url(server) == f"{server.url}lab?token={server.token}"
    with server.client() as client:
        config = page_config(client.get("lab").text)
        assert config["baseUrl"] == "/jupyter/"
        assert config["fullStaticUrl"] == "/jupyter/static/lab"
        assert config["fullSettingsUrl"] == "/jupyter/lab/api/settings"
        assert client.get("static/lab/package.json").status_code == 200
        assert client.get("").headers["location"] == "/jupyter/lab"
        notebook = page_config(client.get("tree").text)
        assert notebook["fullStaticUrl"] == "/jupyter/static/notebook"
        assert notebook["frontendUrl"] == "/jupyter/"
