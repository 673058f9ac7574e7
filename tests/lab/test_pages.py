"""The pages of JupyterLab and Notebook 7: rendered with the page config the frontend reads."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import RunningServer
from tests.lab.pages import NOTEBOOK_ONLY_KEYS, REFERENCE_KEYS, page_config

BROWSER = {"accept": "text/html,application/xhtml+xml", "sec-fetch-mode": "navigate"}

LAB_PAGES = {
    "lab": ("multiple-document", "default", ""),
    "lab/tree/data/notes.txt": ("multiple-document", "default", "data/notes.txt"),
    "lab/workspaces/mine": ("multiple-document", "mine", ""),
    "lab/workspaces/mine/tree/analysis.ipynb": ("multiple-document", "mine", "analysis.ipynb"),
    "doc/tree/analysis.ipynb": ("single-document", "default", "analysis.ipynb"),
}
NOTEBOOK_PAGES = {
    "tree": "tree",
    "tree/data": "tree",
    "notebooks/analysis.ipynb": "notebooks",
    "edit/notes.txt": "edit",
    "consoles/analysis.ipynb": "consoles",
    "terminals/1": "terminals",
}


@pytest.fixture
def client(lab_server: RunningServer):
    with lab_server.client() as http:
        yield http


@pytest.mark.parametrize("path", sorted(LAB_PAGES))
def test_jupyterlab_pages_carry_the_page_config_jupyterlab_reads(client: httpx.Client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    config = page_config(response.text)
    assert set(config) >= REFERENCE_KEYS, REFERENCE_KEYS - set(config)
    mode, workspace, tree_path = LAB_PAGES[path]
    assert (config["mode"], config["workspace"], config["treePath"]) == (mode, workspace, tree_path)
    assert config["appName"] == "JupyterLab"
    assert config["baseUrl"] == "/"
    assert config["terminalsAvailable"] is False  # no terminals plugin: the UI hides them
    assert config["buildAvailable"] is False
    # The bundle the page loads is one this server serves.
    script = re.search(r'<script defer="defer" src="([^"]+)"', response.text)
    assert script and script.group(1).startswith(config["fullStaticUrl"] + "/main.")
    assert client.get(script.group(1)).status_code == 200


@pytest.mark.parametrize("path", sorted(NOTEBOOK_PAGES))
def test_notebook_pages_carry_the_page_config_notebook_reads(client: httpx.Client, path):
    response = client.get(path)
    assert response.status_code == 200
    config = page_config(response.text)
    assert set(config) >= REFERENCE_KEYS | NOTEBOOK_ONLY_KEYS
    assert config["notebookPage"] == NOTEBOOK_PAGES[path]
    assert config["appName"] == "Jupyter Notebook"
    assert config["fullStaticUrl"] == "/static/notebook"
    script = re.search(r'<script defer="defer" src="([^"]+)"', response.text)
    assert script and client.get(script.group(1)).status_code == 200


def test_tree_page_of_a_folder_names_the_folder(client: httpx.Client):
    assert page_config(client.get("tree/data").text)["treePath"] == "data"


def test_the_token_never_appears_in_a_page(lab_server: RunningServer, client: httpx.Client):
    response = client.get("lab", params={"token": lab_server.token})
    assert response.status_code == 200
    assert lab_server.token not in response.text
    assert page_config(response.text)["token"] == ""


def test_root_redirects_to_jupyterlab(lab_server: RunningServer):
    with httpx.Client(base_url=lab_server.url) as anonymous:
        response = anonymous.get("/")
    assert response.status_code == 302
    assert response.headers["location"] == "/lab"


def test_unauthenticated_browser_goes_to_login_and_comes_back(lab_server: RunningServer):
    with httpx.Client(base_url=lab_server.url, headers=BROWSER) as browser:
        response = browser.get("lab/tree/analysis.ipynb")
        assert response.status_code == 302
        assert response.headers["location"] == "/login?next=%2Flab%2Ftree%2Fanalysis.ipynb"
        login_page = browser.get(response.headers["location"])
        assert login_page.status_code == 200
        # Submit the form as the browser would: its hidden fields plus the token.
        hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', login_page.text))
        assert hidden["next"] == "/lab/tree/analysis.ipynb"
        logged_in = browser.post("login", data={**hidden, "password": lab_server.token})
        assert logged_in.status_code in (302, 303)
        assert logged_in.headers["location"] == "/lab/tree/analysis.ipynb"
        page = browser.get(logged_in.headers["location"])
    assert page.status_code == 200
    assert page_config(page.text)["treePath"] == "analysis.ipynb"


def test_an_api_client_without_token_gets_401_not_a_page(lab_server: RunningServer):
    with httpx.Client(base_url=lab_server.url) as anonymous:
        response = anonymous.get("lab")
    assert response.status_code == 401
    assert "jupyter-config-data" not in response.text


def test_tree_of_a_notebook_opens_the_notebook_page(client: httpx.Client):
    response = client.get("tree/analysis.ipynb")
    assert response.status_code == 302
    assert response.headers["location"] == "/notebooks/analysis.ipynb"


def test_tree_of_a_file_opens_the_raw_file(client: httpx.Client):
    response = client.get("tree/notes.txt")
    assert response.status_code == 302
    assert response.headers["location"] == "/files/notes.txt"


def test_notebooks_page_of_a_folder_opens_the_tree(client: httpx.Client):
    response = client.get("notebooks/data")
    assert response.status_code == 302
    assert response.headers["location"] == "/tree/data"


def test_tree_of_a_missing_path_is_404_with_a_message(client: httpx.Client):
    response = client.get("tree/no/such/folder")
    assert response.status_code == 404
    assert "no/such/folder" in response.json()["message"]


def test_a_workspace_name_jupyterlab_cannot_use_is_404(client: httpx.Client):
    response = client.get("lab/workspaces/bad%20name")
    assert response.status_code == 404
    assert "message" in response.json()


def test_optional_feature_probes_answer_nothing_to_report(client: httpx.Client):
    assert client.get("lab/api/news").json() == {"news": []}
    assert client.get("lab/api/update").json() == {"notification": None}
    assert client.get("lsp/status").json() == {"version": 2, "sessions": {}, "specs": {}}
