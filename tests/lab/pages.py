"""Reading what a page gives the frontend: its ``jupyter-config-data`` JSON."""

from __future__ import annotations

import html
import json
import re
from typing import Any

CONFIG_SCRIPT = re.compile(
    r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S
)

#: Every key of the page config jupyter_server + jupyterlab_server 2.28 + notebook 7.6 wrote
#: for /lab and /tree on a plain local server (dumped from a real session), except:
#: paths on the server's disk (appSettingsDir, schemasDir, staticDir, templatesDir,
#: themesDir, userSettingsDir, workspacesDir, labextensionsPath, extraLabextensionsPath,
#: jupyterConfigDir: the frontend only shows them), ``news`` and ``nbclassic_enabled`` (not
#: read by JupyterLab 4 / Notebook 7).
REFERENCE_KEYS = {
    "allow_hidden_files", "appName", "appNamespace", "appUrl", "appVersion", "baseUrl",
    "buildAvailable", "buildCheck", "cacheFiles", "copyAbsolutePath", "delete_to_trash",
    "devMode", "disabledExtensions", "exposeAppInBrowser", "extensionManager",
    "federated_extensions",
    "fullAppUrl", "fullLabextensionsUrl", "fullLicensesUrl", "fullListingsUrl",
    "fullMathjaxUrl", "fullSettingsUrl", "fullStaticUrl", "fullThemesUrl",
    "fullTranslationsApiUrl", "fullTreeUrl", "fullWorkspacesApiUrl", "ignorePlugins",
    "labextensionsUrl", "licensesUrl", "listingsUrl", "mathjaxConfig", "mode",
    "notebookStartsKernel", "notebookVersion", "preferredPath", "quitButton", "rootUri",
    "serverRoot", "settingsUrl", "store_id", "terminalsAvailable", "themesUrl", "token",
    "translationsApiUrl", "treePath", "treeUrl", "untracked_message_types",
    "virtualDocumentsUri", "workspace", "workspacesApiUrl", "wsUrl",
}  # fmt: skip
NOTEBOOK_ONLY_KEYS = {"frontendUrl", "notebookPage"}


def page_config(page: str) -> dict[str, Any]:
    """The page config embedded in a page's HTML (fails if there is none)."""
    match = CONFIG_SCRIPT.search(page)
    assert match, f"no jupyter-config-data in the page:\n{page[:500]}"
    config: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return config
