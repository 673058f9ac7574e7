"""What a user does in JupyterLab and Notebook 7, as steps the scenarios share.

Selectors prefer what the frontends keep stable for their own UI tests: roles and names,
``data-command`` attributes of toolbar buttons and menu items, ``data-status`` of the kernel
execution indicator, and the few CSS classes that are public theming hooks.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.servers import LabServer

NOTEBOOK_CARD = ".jp-LauncherCard[data-category='Notebook']"
ACTIVE_CELL_EDITOR = ".jp-Cell.jp-mod-active .cm-content"
IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
# The toolbar's debugger button turns on when the kernel answers its kernel_info request over
# the WebSocket: the first sign that a cell run now reaches the kernel. (The execution
# indicator says "idle" for a moment before the notebook even has a kernel; a cell run then is
# silently dropped.)
KERNEL_CONNECTED = ".jp-DebuggerBugButton[aria-disabled='false']"


def goto_frontend(page: Page, url: str) -> None:
    """Open ``url`` and check that it served a Jupyter frontend page (not a landing page).

    Both frontends' HTML carries their page config in ``<script id="jupyter-config-data">``;
    without it nothing else can work, so the test says so at once instead of timing out.
    """
    response = page.goto(url)
    status = response.status if response else None
    assert page.locator("script#jupyter-config-data").count() == 1, (
        f"{url} (-> {page.url}, status {status}) is not a JupyterLab/Notebook page: "
        "it has no <script id='jupyter-config-data'>"
    )


def open_lab(page: Page, server: LabServer) -> None:
    """Open the startup URL the server printed and wait for a usable launcher."""
    goto_frontend(page, server.open_url)
    wait_for_launcher(page)


def wait_for_launcher(page: Page) -> Locator:
    """The launcher's notebook card, once it is shown and can be clicked."""
    card = page.locator(NOTEBOOK_CARD).first
    expect(card).to_be_visible()
    return card


def menu(page: Page, *labels: str) -> None:
    """Open the menu bar item ``labels[0]`` and click through the submenu items that follow."""
    page.get_by_role("menubar").get_by_role("menuitem", name=labels[0], exact=True).click()
    for label in labels[1:]:
        # Submenus are list items, not menu items, to assistive tech: match the label instead.
        page.locator(
            f".lm-Menu:visible .lm-Menu-item:has(.lm-Menu-itemLabel:text-is({label!r}))"
        ).last.click()


def file_item(page: Page, name: str) -> Locator:
    """The file browser's row for ``name``."""
    return page.locator(".jp-DirListing-item", has=page.get_by_text(name, exact=True))


def context_menu(page: Page, item: Locator, label: str) -> None:
    """Right-click ``item`` and choose ``label`` from its context menu."""
    item.click(button="right")
    page.get_by_role("menu").get_by_role("menuitem", name=label).click()


def wait_for_idle_kernel(page: Page) -> None:
    """Wait until the current notebook's kernel is started, connected and idle."""
    expect(page.locator(KERNEL_CONNECTED).first).to_be_visible()
    expect(page.locator(IDLE).first).to_be_visible()


def run_in_new_cell(page: Page, code: str) -> Locator:
    """Type ``code`` into the active cell and run it (Shift+Enter); return that cell."""
    editor = page.locator(ACTIVE_CELL_EDITOR)
    editor.click()
    cell = page.locator(".jp-Cell.jp-mod-active")
    index = cell.get_attribute("data-windowed-list-index")
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    return page.locator(f".jp-Cell[data-windowed-list-index='{index}']")


def expect_output(cell: Locator, text: str) -> None:
    """The cell's output area shows ``text``."""
    expect(cell.locator(".jp-OutputArea-output")).to_contain_text(text)


def save(page: Page, first_save_name: str | None = None) -> None:
    """Save the current document (Ctrl+S) and wait until it is no longer marked dirty.

    A new untitled document asks for a name on its first save: ``first_save_name`` answers.
    """
    page.keyboard.press("Control+s")
    if first_save_name is not None:
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("textbox").fill(first_save_name)
        dialog.get_by_role("button", name="Rename and Save").click()
    expect(page.locator(".jp-mod-current.jp-mod-dirty, .jp-Document.jp-mod-dirty")).to_have_count(0)


def wait_for_file(path: Path, check: Any = None, timeout: float = 30) -> str:
    """Wait until ``path`` exists on disk (and ``check(text)`` holds); return its text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        if path.exists():
            text = path.read_text()
            if check is None or check(text):
                return text
        time.sleep(0.1)
    raise AssertionError(f"{path} never had the expected content; last seen:\n{text}")


def notebook_outputs(text: str) -> list[str]:
    """Every stream output text of a notebook file's code cells."""
    notebook = json.loads(text)
    return [
        "".join(output.get("text", ""))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
    ]
