"""A cell's outputs reach the shared document on the server, with or without a browser open.

With jupyter-collaboration's frontend on modserver's ``yjs`` plugin, a cell keeps printing into
the notebook after its page is closed: reopened later, the cell shows everything it printed,
and so does the file on disk.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.lab import expect_output, goto_frontend, wait_for_file, wait_for_idle_kernel
from tests.e2e.servers import TOKEN, LabServer, start_modserver

NOTEBOOK = "ticks.ipynb"
TICKS = 10
# Prints one line a second for ten seconds.
CODE = f"import time\nfor i in range({TICKS}):\n    print('tick', i, flush=True)\n    time.sleep(1)"
OUTPUT = "".join(f"tick {i}\n" for i in range(TICKS))


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """modserver with the collaboration frontend, serving a notebook whose cell prints ticks."""
    root = tmp_path / "root"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(CODE)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, root / NOTEBOOK)
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
    outputs = reopened.locator(".jp-NotebookPanel .jp-Cell").first.locator(".jp-OutputArea-output")
    expect(outputs.last).to_contain_text(f"tick {TICKS - 1}")
    assert " ".join(outputs.all_inner_texts()).split() == OUTPUT.split()

    on_disk = lab_server.root_dir / NOTEBOOK
    wait_for_file(on_disk, lambda text: f"tick {TICKS - 1}" in text)
    assert stream_text(on_disk) == OUTPUT
