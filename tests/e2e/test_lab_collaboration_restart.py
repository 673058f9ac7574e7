"""A server restart under an open collaborative notebook: the page is told to reload, and does.

The shared document of the new server run has a history of its own; a page still holding the
old one must not merge it in (every cell would double). The server closes the page's room
socket with 1003 and a reloadable reason; jupyter-collaboration's frontend shows "Session
expired" with a Reload button, and after the reload the notebook is back, cells not doubled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ALLOWED_ERRORS
from tests.e2e.lab import goto_frontend
from tests.e2e.recorder import Allowed
from tests.e2e.servers import TOKEN, LabServer, start_modserver

NOTEBOOK = "restart.ipynb"
CELLS = ".jp-NotebookPanel .jp-Notebook .jp-Cell"
# Opening a notebook starts no kernel: the scenario is about the shared document only.
SETTINGS = ("--set", "lab.notebook_starts_kernel=false")


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """modserver with the collaboration frontend, serving a two-cell notebook."""
    root = tmp_path / "root"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("first = 1"), nbformat.v4.new_code_cell("")]
    nbformat.write(notebook, root / NOTEBOOK)
    server = start_modserver(root, tmp_path / "scratch", *SETTINGS, collaboration=True)
    yield server
    server.stop()


@pytest.fixture
def allowed_errors() -> tuple[Allowed, ...]:
    """While the server is down, the page's sockets try to reconnect and find nobody."""
    return (
        *ALLOWED_ERRORS,
        Allowed(
            "WS",
            re.compile(r"^/api/(collaboration/room|events/subscribe)"),
            None,
            "y-websocket and the event bus reconnect every few hundred ms while the server "
            "restarts; until it listens again, nothing accepts the handshake",
        ),
    )


def restart(server: LabServer, scratch: Path) -> None:
    """Stop ``server`` and start a new run on the same port, folder and runtime files."""
    port = urlsplit(server.url).port
    assert port is not None
    server.stop()
    again = start_modserver(server.root_dir, scratch, *SETTINGS, collaboration=True, port=port)
    # The fixture stops whatever process the LabServer holds: now the new one.
    server.proc, server.output = again.proc, again.output


def test_after_a_server_restart_the_page_offers_a_reload_and_reloads_without_doubling(
    page: Page, lab_server: LabServer, tmp_path: Path
) -> None:
    goto_frontend(page, f"{lab_server.url}lab/tree/{NOTEBOOK}?token={TOKEN}")
    expect(page.locator(CELLS)).to_have_count(2)

    restart(lab_server, tmp_path / "scratch")
    session_expired = page.locator(".jp-Dialog", has_text="Session expired")
    unreachable = page.locator(".jp-Dialog", has_text="Server Connection Error")
    expect(session_expired.or_(unreachable).first).to_be_visible()
    if unreachable.count():
        # A request of the page met the server while it was down; the user closes the notice.
        unreachable.get_by_role("button", name="Close").click()
    expect(session_expired).to_have_count(1)
    session_expired.get_by_role("button", name="Reload").click()

    expect(page.locator(CELLS)).to_have_count(2)
    expect(page.locator(CELLS).first.locator(".cm-content")).to_have_text("first = 1")
    expect(page.get_by_role("dialog")).to_have_count(0)
