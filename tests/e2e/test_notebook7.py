"""Notebook 7: from the file tree to a notebook that runs, saves and reloads."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.lab import (
    expect_output,
    goto_frontend,
    notebook_outputs,
    run_in_new_cell,
    save,
    wait_for_file,
    wait_for_idle_kernel,
)
from tests.e2e.servers import LabServer


def test_notebook_created_from_the_tree_runs_saves_and_shows_output_after_reload(
    page: Page, context: BrowserContext, lab_server: LabServer
) -> None:
    goto_frontend(page, f"{lab_server.url}tree?token={lab_server.token}")
    toolbar = page.get_by_role("toolbar", name="file browser")
    toolbar.get_by_role("menuitem", name="New").click()
    with context.expect_page() as opened:
        page.get_by_role("menu").get_by_role("menuitem", name="Python 3 (ipykernel)").click()
    notebook = opened.value
    expect(notebook).to_have_url(f"{lab_server.url}notebooks/Untitled.ipynb")
    wait_for_idle_kernel(notebook)
    cell = run_in_new_cell(notebook, "print(6*7)")
    expect_output(cell, "42")
    save(notebook)

    text = wait_for_file(
        lab_server.root_dir / "Untitled.ipynb",
        lambda t: "print(6*7)" in t and notebook_outputs(t) != [],
    )
    assert notebook_outputs(text) == ["42\n"]

    notebook.reload()
    expect(notebook.locator(".jp-OutputArea-output").first).to_contain_text("42")
