"""The page config: the JSON every page carries in ``<script id="jupyter-config-data">``.

JupyterLab and Notebook 7 read their URLs, versions, labextensions and feature switches
from it. Most of it is the same for every page of an app, so ``base_page_config`` builds it
once; a page adds only what depends on the request (``mode``, ``workspace``, ``treePath``).
Other plugins add keys through the ``frontend_page_config`` hook (``modserver.api.frontend``).

The token is never put in the page: the browser is logged in by its cookie, and API calls
carry the XSRF cookie's value, so the page can be cached, shared or saved safely.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modserver.api.kernels import UNTRACKED_MESSAGE_TYPES

from modserver_lab.discovery import Frontends
from modserver_lab.settings import LabSettings

#: The jupyter_server REST API level this server speaks; the frontends pick features by it
#: (chunked uploads need >= 5.1 or < 4: 2.x is what jupyter_server 2 reports).
SERVER_API_VERSION = (2, 14, 0)


#: Paths of the lab API, relative to base_url (the frontend joins them to baseUrl).
LAB_URLS = {
    "appUrl": "/lab",
    "labextensionsUrl": "/lab/extensions",
    "licensesUrl": "/lab/api/licenses",
    "listingsUrl": "/lab/api/listings",
    "settingsUrl": "/lab/api/settings",
    "themesUrl": "/lab/api/themes",
    "translationsApiUrl": "/lab/api/translations",
    "treeUrl": "/lab/tree",
    "workspacesApiUrl": "/lab/api/workspaces",
}

LAB_STATIC = "static/lab"
NOTEBOOK_STATIC = "static/notebook"


def base_page_config(
    frontends: Frontends, settings: LabSettings, *, root_dir: Path, can_quit: bool
) -> dict[str, Any]:
    """What every page of this app shares, but its URLs (JupyterLab's values; see
    ``at_prefix`` for the URLs and ``for_notebook`` for Notebook 7's values)."""
    config: dict[str, Any] = {
        "appName": "JupyterLab",
        "appNamespace": "lab",
        "appVersion": frontends.lab_version,
        "wsUrl": "",
        "token": "",
        "notebookVersion": json.dumps(list(SERVER_API_VERSION)),
        "terminalsAvailable": False,
        "buildAvailable": False,
        "buildCheck": False,
        "devMode": False,
        "cacheFiles": True,
        "quitButton": can_quit,
        "exposeAppInBrowser": settings.expose_app_in_browser,
        "notebookStartsKernel": settings.notebook_starts_kernel,
        "copyAbsolutePath": False,
        "delete_to_trash": True,
        "allow_hidden_files": False,
        "ignorePlugins": [],
        "disabledExtensions": list(frontends.disabled),
        # A read-only Extension Manager (extension_manager.py): lists, switches, never installs.
        "extensionManager": {"name": "read-only", "can_install": False, "install_path": None},
        "federated_extensions": [ext.page_config_entry() for ext in frontends.extensions.values()],
        "mathjaxConfig": "TeX-AMS_HTML-full,Safe",
        "fullMathjaxUrl": settings.mathjax_url,
        "preferredPath": "/",
        "serverRoot": root_dir.as_posix(),
        "rootUri": root_dir.as_uri(),
        "virtualDocumentsUri": (root_dir / ".virtual_documents").as_uri(),
        "untracked_message_types": list(UNTRACKED_MESSAGE_TYPES),
        "store_id": 0,
    }
    config.update(LAB_URLS)
    return config


def at_prefix(config: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``config`` with its absolute URLs under ``prefix``: the app's URL path, ending in ``/``.

    The prefix is base_url, under the path a host app mounted us at, if any.
    """
    urls = {"baseUrl": prefix, "fullStaticUrl": prefix + LAB_STATIC}
    for key, path in LAB_URLS.items():
        urls["full" + key[0].upper() + key[1:]] = prefix + path.lstrip("/")
    return {**config, **urls}


def for_lab(base: dict[str, Any], *, mode: str, workspace: str, tree_path: str) -> dict[str, Any]:
    """A JupyterLab page's config: ``mode`` is multiple-document, or single-document (/doc)."""
    return {**base, "mode": mode, "workspace": workspace, "treePath": tree_path}


def for_notebook(
    base: dict[str, Any], frontends: Frontends, *, tree_path: str = ""
) -> dict[str, Any]:
    """A Notebook 7 page's config (its template adds ``notebookPage`` itself)."""
    base_url = base["baseUrl"]
    return {
        **base,
        "appName": "Jupyter Notebook",
        "appNamespace": "notebook",
        "appVersion": frontends.notebook_version,
        "fullStaticUrl": base_url + NOTEBOOK_STATIC,
        "frontendUrl": base_url,
        "mode": "multiple-document",
        "workspace": "default",
        "treePath": tree_path,
    }


def merge_contributions(base: dict[str, Any], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """``base`` with every plugin's answer merged in order (objects merge, later keys win)."""
    merged = dict(base)
    for answer in answers:
        if isinstance(answer, dict):
            _deep_update(merged, answer)
    return merged


def _deep_update(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            copy = dict(current)
            _deep_update(copy, value)
            target[key] = copy
        else:
            target[key] = value
