"""Real-time collaboration in JupyterLab: the jupyter-collaboration frontend, unchanged, on
modserver's ``yjs`` plugin.

The frontend extensions come from PyPI (``jupyter-docprovider``, ``jupyter-collaboration-ui``;
the e2e session installs them). Several people are several browser profiles, each logged in
with its own token from the users table: the owner, an editor and a viewer. These scenarios
always run against modserver (the users table is modserver's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from modserver_auth.tokens import hash_token
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.conftest import ALLOWED_ERRORS
from tests.e2e.lab import goto_frontend, save, wait_for_file
from tests.e2e.recorder import Allowed
from tests.e2e.servers import TOKEN, LabServer, start_modserver

EDITOR_TOKEN = "e2e-editor-token-0123456789abcdef"
VIEWER_TOKEN = "e2e-viewer-token-0123456789abcdef"
USERS = {
    "ed": {"role": "editor", "token_hash": hash_token(EDITOR_TOKEN), "display_name": "Ed Itor"},
    "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN), "display_name": "Vi Ewer"},
}
NOTEBOOK = "shared.ipynb"
CELLS = ".jp-NotebookPanel .jp-Notebook .jp-Cell"


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """modserver with an editor and a viewer besides the owner, serving one two-cell notebook.

    Opening a notebook starts no kernel: editors and viewers may not run kernels, and typing
    together needs none.
    """
    root = tmp_path / "root"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(""), nbformat.v4.new_code_cell("")]
    nbformat.write(notebook, root / NOTEBOOK)
    server = start_modserver(
        root,
        tmp_path / "scratch",
        "--set",
        f"auth.users={json.dumps(USERS)}",
        "--set",
        "lab.notebook_starts_kernel=false",
        collaboration=True,
    )
    yield server
    server.stop()


@pytest.fixture
def allowed_errors() -> tuple[Allowed, ...]:
    """The viewer's JupyterLab tries writes it may not make; the server refuses them (403)."""
    return (
        *ALLOWED_ERRORS,
        Allowed(
            "PUT",
            re.compile(r"^/lab/api/workspaces/"),
            403,
            "JupyterLab saves the open tabs of its workspace on every layout change; a viewer "
            "may not write workspaces",
        ),
    )


def open_notebook(page: Page, server: LabServer, token: str) -> None:
    """Log in with ``token`` and open the shared notebook; wait until its cells show."""
    goto_frontend(page, f"{server.url}lab/tree/{NOTEBOOK}?token={token}")
    expect(page.locator(CELLS)).to_have_count(2)


def cell_editor(page: Page, index: int) -> Locator:
    """The code editor of the notebook's cell number ``index``."""
    return page.locator(CELLS).nth(index).locator(".cm-content")


def type_into_cell(page: Page, index: int, text: str) -> None:
    """Click at the end of cell ``index`` and type ``text`` as a person does."""
    editor = cell_editor(page, index)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def cell_sources(path: Path) -> list[str]:
    """The sources of the notebook file's cells."""
    return [cell["source"] for cell in nbformat.read(path, as_version=4).cells]


def expect_no_dialog(page: Page) -> None:
    """No dialog is open: no load timeout, session expired, conflict or error."""
    expect(page.get_by_role("dialog")).to_have_count(0)


def new_page(more_contexts: Callable[[], BrowserContext]) -> Page:
    """A page in a fresh browser profile: another person."""
    return more_contexts().new_page()


def test_owner_and_editor_see_each_others_typing_and_cursor_and_the_save_keeps_both(
    page: Page, lab_server: LabServer, more_contexts: Callable[[], BrowserContext]
) -> None:
    owner = page
    editor = new_page(more_contexts)
    open_notebook(owner, lab_server, TOKEN)
    open_notebook(editor, lab_server, EDITOR_TOKEN)

    type_into_cell(owner, 0, "typed_by_owner = 1")
    expect(cell_editor(editor, 0)).to_have_text("typed_by_owner = 1")
    type_into_cell(editor, 1, "typed_by_editor = 2")
    expect(cell_editor(owner, 1)).to_have_text("typed_by_editor = 2")

    # The owner sees where Ed is: his cursor in the cell he typed into, and him online.
    expect(owner.locator(CELLS).nth(1).locator(".jp-remote-cursor")).to_have_count(1)
    owner.locator(".jp-SideBar [data-id='jp-collaboration-panel']").click()
    expect(owner.locator(".jp-CollaboratorsList")).to_contain_text("Ed Itor")

    save(owner)
    on_disk = lab_server.root_dir / NOTEBOOK
    wait_for_file(on_disk, lambda text: "typed_by_editor" in text and "typed_by_owner" in text)
    assert cell_sources(on_disk) == ["typed_by_owner = 1", "typed_by_editor = 2"]
    expect_no_dialog(owner)
    expect_no_dialog(editor)


def test_a_viewers_typing_reaches_neither_the_others_nor_the_file(
    page: Page, lab_server: LabServer, more_contexts: Callable[[], BrowserContext]
) -> None:
    owner = page
    viewer = new_page(more_contexts)
    open_notebook(owner, lab_server, TOKEN)
    open_notebook(viewer, lab_server, VIEWER_TOKEN)

    type_into_cell(viewer, 0, "typed_by_viewer = 3")
    type_into_cell(owner, 1, "typed_by_owner = 1")
    # The viewer still follows the document live.
    expect(cell_editor(viewer, 1)).to_have_text("typed_by_owner = 1")
    expect(cell_editor(owner, 0)).to_have_text("")

    save(owner)
    on_disk = lab_server.root_dir / NOTEBOOK
    wait_for_file(on_disk, lambda text: "typed_by_owner" in text)
    assert cell_sources(on_disk) == ["", "typed_by_owner = 1"]
    # A fresh look at the shared document (a reload) has no trace of the viewer's text either.
    owner.reload()
    expect(owner.locator(CELLS)).to_have_count(2)
    expect(cell_editor(owner, 1)).to_have_text("typed_by_owner = 1")
    expect(cell_editor(owner, 0)).to_have_text("")


def test_the_document_timeline_looks_back_and_restores_an_earlier_version(
    page: Page, lab_server: LabServer, more_contexts: Callable[[], BrowserContext]
) -> None:
    owner = page
    editor = new_page(more_contexts)
    open_notebook(owner, lab_server, TOKEN)
    open_notebook(editor, lab_server, EDITOR_TOKEN)
    type_into_cell(owner, 0, "typed_then_undone = 1")
    expect(cell_editor(editor, 0)).to_have_text("typed_then_undone = 1")
    save(owner)
    on_disk = lab_server.root_dir / NOTEBOOK
    wait_for_file(on_disk, lambda text: "typed_then_undone" in text)

    # The status bar's history button opens the slider on a fork of the document.
    owner.locator("[title='Document Timeline']").click()
    slider = owner.locator(".jp-timestampDisplay input[type='range']")
    expect(slider).to_be_visible()
    # Its oldest position is the notebook as it was opened: the typing is gone there...
    slider.fill("0")
    expect(cell_editor(owner, 0)).to_have_text("")
    # ...and only there: the shared document and the other person are untouched.
    expect(cell_editor(editor, 0)).to_have_text("typed_then_undone = 1")

    owner.get_by_role("button", name=re.compile("Restore version")).click()
    expect(cell_editor(editor, 0)).to_have_text("")
    wait_for_file(on_disk, lambda text: "typed_then_undone" not in text)
    # Typing after the restore is shared again.
    type_into_cell(owner, 1, "after_restore = 2")
    expect(cell_editor(editor, 1)).to_have_text("after_restore = 2")
    expect_no_dialog(owner)
    expect_no_dialog(editor)
