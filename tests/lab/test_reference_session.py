"""What a real JupyterLab session asks at startup is answered here too (no 404, no 5xx).

REFERENCE is the GET requests (bundles aside: test_static covers them) Chromium made on
jupyter_server 2.x + jupyterlab_server 2.28 + notebook 7.6: JupyterLab 4.6 opening until
the launcher showed, and the browser suite's recorded session (/work/wt/e-endpoints-
reference.json: notebooks, Notebook 7, themes), with our fixture's file names. Left out:
``/api/terminals`` (with ``terminalsAvailable`` false the UI does not ask),
``/lab/api/build`` (likewise with ``buildAvailable`` false), ``/custom/custom.css`` (custom
CSS is off). The ``/api/events/subscribe`` WebSocket JupyterLab opens at startup is
checked on its own below.
"""

from __future__ import annotations

import nbformat
import pytest
from websockets.sync.client import connect

from tests.conftest import RunningServer, serve_in_process

REFERENCE = [
    "lab",
    "lab/tree/analysis.ipynb",
    "notebooks/analysis.ipynb",
    "tree",
    "static/favicons/favicon-busy-1.ico",
    "static/favicons/favicon-notebook.ico",
    "lab/api/themes/@jupyterlab/theme-dark-extension/index.css",
    "api/config/jupyterlabapputilsextensionannouncements",
    "api/contents",
    "api/kernels",
    "api/kernelspecs",
    "api/me",
    "api/nbconvert",
    "api/sessions",
    "kernelspecs/python3/logo-svg.svg",
    "lab/api/themes/@jupyterlab/theme-light-extension/index.css",
    "lsp/status",
    "lab/api/settings",
    "lab/api/settings?ids_only=true",
    "lab/api/settings/@jupyterlab/apputils-extension:themes",
    "lab/api/settings/@jupyterlab/codemirror-extension:plugin",
    "lab/api/settings/@jupyterlab/docmanager-extension:plugin",
    "lab/api/settings/@jupyterlab/notebook-extension:panel",
    "lab/api/translations",
    "lab/api/translations/default",
    "lab/api/workspaces",
    "lab/api/workspaces/default",
]


@pytest.fixture(scope="module")
def full_server(tmp_path_factory: pytest.TempPathFactory, jupyter_dirs):
    root = tmp_path_factory.mktemp("reference") / "root"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "analysis.ipynb")
    server = serve_in_process(root, env=jupyter_dirs)  # every installed plugin, as by default
    yield server
    server.stop()


@pytest.mark.parametrize("path", REFERENCE)
def test_what_jupyterlab_asks_at_startup_is_answered(full_server: RunningServer, path: str):
    with full_server.client() as client:
        response = client.get(path)
    assert response.status_code == 200, (path, response.text[:300])


def test_jupyterlabs_event_bus_websocket_opens(full_server: RunningServer):
    # JupyterLab's EventManager connects with the token in the query, as here.
    url = full_server.ws_url(f"api/events/subscribe?token={full_server.token}")
    with connect(url, open_timeout=30) as ws:
        assert ws.protocol.state.name == "OPEN"
