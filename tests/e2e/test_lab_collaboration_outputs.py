"""A cell's outputs reach the shared document on the server, with or without a browser open.

With jupyter-collaboration's frontend on modserver's ``yjs`` plugin, a cell keeps printing into
the notebook after its page is closed: reopened later, the cell shows everything it printed,
and so does the file on disk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.lab import (
    expect_output,
    goto_frontend,
    notebook_outputs,
    wait_for_file,
    wait_for_idle_kernel,
)
from tests.e2e.servers import TOKEN, LabServer, start_modserver

NOTEBOOK = "ticks.ipynb"
TICKS = 10
# Prints one line a second for ten seconds.
CODE = f"import time\nfor i in range({TICKS}):\n    print('tick', i, flush=True)\n    time.sleep(1)"


def ticks_text(ticks: int) -> str:
    """What a cell prints in ``ticks`` ticks."""
    return "".join(f"tick {i}\n" for i in range(ticks))


OUTPUT = ticks_text(TICKS)
LIVE_NOTEBOOK = "live.ipynb"
# Ticks until the test creates the file "stop" in the notebook's folder.
LIVE_CODE = (
    "import os, time\n"
    "i = 0\n"
    "while not os.path.exists('stop'):\n"
    "    print('tick', i, flush=True)\n"
    "    i += 1\n"
    "    time.sleep(0.2)\n"
    "print('done')"
)


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """modserver with the collaboration frontend, serving notebooks whose cell prints ticks."""
    root = tmp_path / "root"
    root.mkdir()
    for name, code in ((NOTEBOOK, CODE), (LIVE_NOTEBOOK, LIVE_CODE)):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(code)]
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(notebook, root / name)
    server = start_modserver(root, tmp_path / "scratch", collaboration=True)
    yield server
    server.stop()


def wait_until_kernels_idle(server: LabServer, timeout: float = 60) -> None:
    """Wait until every kernel of the server reports it is idle (the run has finished)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, headers={"Authorization": f"token {TOKEN}"}) as http:
        while True:
            kernels = http.get("api/kernels").json()
            if kernels and all(k["execution_state"] == "idle" for k in kernels):
                return
            assert time.monotonic() < deadline, f"kernels still busy: {kernels}"
            time.sleep(0.2)


def first_cell_outputs(page: Page) -> Locator:
    """The output elements of the notebook's first cell."""
    return page.locator(".jp-NotebookPanel .jp-Cell").first.locator(".jp-OutputArea-output")


def shown_ticks(page: Page) -> list[str]:
    """The words the first cell's outputs show, in order."""
    return " ".join(first_cell_outputs(page).all_inner_texts()).split()


def stream_text(path: Path) -> str:
    """All stream output text of the notebook file's first cell."""
    cell = nbformat.read(path, as_version=4).cells[0]
    return "".join(out.get("text", "") for out in cell.get("outputs", []))


def test_output_printed_while_the_page_is_closed_is_in_the_cell_and_on_disk(
    page: Page, context: BrowserContext, lab_server: LabServer
) -> None:
    goto_frontend(page, f"{lab_server.url}lab/tree/{NOTEBOOK}?token={TOKEN}")
    wait_for_idle_kernel(page)
    cell = page.locator(".jp-NotebookPanel .jp-Cell").first
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    # Close the page about three seconds into the run: once the third tick shows.
    expect_output(cell, "tick 2")
    page.close()

    wait_until_kernels_idle(lab_server)
    reopened = context.new_page()
    goto_frontend(reopened, f"{lab_server.url}lab/tree/{NOTEBOOK}")
    expect(first_cell_outputs(reopened).last).to_contain_text(f"tick {TICKS - 1}")
    assert shown_ticks(reopened) == OUTPUT.split()

    on_disk = lab_server.root_dir / NOTEBOOK
    wait_for_file(on_disk, lambda text: f"tick {TICKS - 1}" in text)
    assert stream_text(on_disk) == OUTPUT


def test_a_second_window_sees_the_outputs_live_and_each_only_once(
    page: Page, lab_server: LabServer, more_contexts: Callable[[], BrowserContext]
) -> None:
    url = f"{lab_server.url}lab/tree/{LIVE_NOTEBOOK}?token={TOKEN}"
    goto_frontend(page, url)
    wait_for_idle_kernel(page)
    # The same person on another computer: a second browser profile watching the notebook.
    watcher = more_contexts().new_page()
    goto_frontend(watcher, url)
    expect(watcher.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible()

    page.locator(".jp-NotebookPanel .jp-Cell").first.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    # Live: the cell runs until told to stop, and the watcher already sees it ticking.
    expect(first_cell_outputs(watcher).first).to_contain_text("tick 1")
    (lab_server.root_dir / "stop").touch()

    for window in (page, watcher):
        expect(first_cell_outputs(window).last).to_contain_text("done")
    wait_until_kernels_idle(lab_server)
    shown = shown_ticks(page)
    ticks = (len(shown) - 1) // 2  # "tick N" is two words, "done" one
    assert shown == [*ticks_text(ticks).split(), "done"]  # in order, none twice, none lost
    assert shown_ticks(watcher) == shown

    # The server saves what it wrote: the file has it, and no window shows unsaved changes.
    on_disk = lab_server.root_dir / LIVE_NOTEBOOK
    wait_for_file(on_disk, lambda text: "done" in "".join(notebook_outputs(text)))
    assert stream_text(on_disk).split() == shown
    for window in (page, watcher):
        expect(window.locator(".jp-Document.jp-mod-dirty")).to_have_count(0)
