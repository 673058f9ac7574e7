"""JupyterLab: log in with the printed URL, then work in a Python notebook."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.lab import (
    NOTEBOOK_CARD,
    expect_output,
    goto_frontend,
    notebook_outputs,
    open_lab,
    run_in_new_cell,
    save,
    wait_for_file,
    wait_for_idle_kernel,
)
from tests.e2e.servers import LabServer


def test_printed_startup_url_logs_in_and_lands_in_jupyterlab(
    page: Page, lab_server: LabServer
) -> None:
    goto_frontend(page, lab_server.open_url)
    expect(page.locator(NOTEBOOK_CARD).first).to_be_visible()
    assert "/lab" in page.url
    expect(page.get_by_role("menubar").get_by_role("menuitem", name="File")).to_be_visible()
    # Logged in: the next visit needs no token.
    goto_frontend(page, f"{lab_server.url}lab")
    expect(page.locator(NOTEBOOK_CARD).first).to_be_visible()


def test_visit_without_token_goes_through_the_login_page_and_back_to_lab(
    page: Page, lab_server: LabServer
) -> None:
    page.goto(f"{lab_server.url}lab")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)lab"))
    page.locator("input[type='password']").first.fill(lab_server.token)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator(NOTEBOOK_CARD).first).to_be_visible()
    assert urlsplit(page.url).path == "/lab"


def test_notebook_from_launcher_runs_saves_and_shows_output_after_reload(
    page: Page, lab_server: LabServer
) -> None:
    open_lab(page, lab_server)
    page.locator(NOTEBOOK_CARD).first.click()
    wait_for_idle_kernel(page)
    cell = run_in_new_cell(page, "print(6*7)")
    expect_output(cell, "42")
    save(page, first_save_name="answer.ipynb")

    on_disk = lab_server.root_dir / "answer.ipynb"
    text = wait_for_file(on_disk, lambda t: "print(6*7)" in t and notebook_outputs(t) != [])
    assert notebook_outputs(text) == ["42\n"]

    # Reopen by its new name: the address bar still names the untitled file after the rename.
    goto_frontend(page, f"{lab_server.url}lab/tree/answer.ipynb")
    expect(page.locator(".jp-NotebookPanel .jp-OutputArea-output").first).to_contain_text("42")


def test_interrupt_stops_a_running_cell(page: Page, lab_server: LabServer) -> None:
    open_lab(page, lab_server)
    page.locator(NOTEBOOK_CARD).first.click()
    wait_for_idle_kernel(page)
    cell = run_in_new_cell(page, "import time; time.sleep(60)")
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='busy']")).to_be_visible()
    page.locator(".jp-NotebookPanel-toolbar [data-command='notebook:interrupt-kernel']").click()
    expect_output(cell, "KeyboardInterrupt")
    wait_for_idle_kernel(page)


def test_restart_kernel_forgets_variables(page: Page, lab_server: LabServer) -> None:
    open_lab(page, lab_server)
    page.locator(NOTEBOOK_CARD).first.click()
    wait_for_idle_kernel(page)
    expect_output(run_in_new_cell(page, "x = 6*7; print(x)"), "42")
    page.locator(".jp-NotebookPanel-toolbar [data-command='notebook:restart-kernel']").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm Kernel Restart").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    wait_for_idle_kernel(page)
    expect_output(run_in_new_cell(page, "print('x' in globals())"), "False")
