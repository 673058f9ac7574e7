"""The extension manager's listings: which extensions are allowed or blocked.

JupyterLab's extension manager asks for ``@jupyterlab/extensionmanager-extension/
listings.json``. modserver installs nothing from the browser, so both lists are empty
(every extension is allowed; none is fetched from a remote listing).
"""

from __future__ import annotations

from typing import Any

LISTINGS_FILE = "@jupyterlab/extensionmanager-extension/listings.json"


def listings() -> dict[str, Any]:
    """The listings document, in jupyterlab_server's shape."""
    return {
        "blocked_extensions_uris": [],
        "allowed_extensions_uris": [],
        "blocked_extensions": [],
        "allowed_extensions": [],
    }
