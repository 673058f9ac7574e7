"""JupyterLab's Extension Manager sidebar lists the installed labextensions and turns one off."""

from __future__ import annotations

import json

from playwright.sync_api import Locator, Page, expect

from tests.e2e.lab import menu, open_lab, wait_for_launcher
from tests.e2e.servers import LabServer, target

PANEL = "#extensionmanager\\.main-view"
NIGHT = "jupyterlab-night"  # a prebuilt labextension from PyPI, in the test extras


def installed_entry(page: Page, name: str) -> Locator:
    """The Installed list's row of ``name``."""
    return page.locator(
        f"{PANEL} .jp-extensionmanager-installedlist .jp-extensionmanager-entry"
    ).filter(has=page.locator(".jp-extensionmanager-entry-name", has_text=name))


def open_extension_manager(page: Page, *, first_time: bool) -> None:
    """Show the Extension Manager sidebar; the first time, accept its disclaimer (the answer
    is a user setting, so it is not asked again).

    Through View > Extension Manager, which shows the panel: its sidebar tab toggles it, and
    after a reload the restored layout may already show it.
    """
    menu(page, "View", "Extension Manager")
    if first_time:
        page.locator(f"{PANEL} .jp-extensionmanager-disclaimer-enable").click()


def test_the_extension_manager_lists_installed_extensions_and_disables_one(
    page: Page, lab_server: LabServer
) -> None:
    open_lab(page, lab_server)
    open_extension_manager(page, first_time=True)
    expect(page.locator(f"{PANEL} .jp-extensionmanager-title")).to_contain_text("read-only Manager")
    pygments = installed_entry(page, "jupyterlab_pygments")
    expect(pygments).to_be_visible()
    expect(
        pygments.locator(
            ".jp-extensionmanager-entry-content .jp-extensionmanager-entry-description"
        )
    ).to_contain_text("Pygments theme")
    expect(installed_entry(page, NIGHT)).to_be_visible()
    expect(page.locator(f"{PANEL} .jp-extensionmanager-error")).to_have_count(0)
    if target() == "modserver":
        # Nothing to install from here: no registry search, no Install or Uninstall buttons.
        expect(page.locator(f"{PANEL} .jp-extensionmanager-searchresults")).to_have_count(0)
        expect(page.locator(PANEL).get_by_role("button", name="Uninstall")).to_have_count(0)

    # Turn jupyterlab-night off: the frontend asks for a reload, which applies it.
    installed_entry(page, NIGHT).get_by_role("button", name="Disable").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("refresh the web page")
    dialog.get_by_role("button", name="Ok").click()
    expect(installed_entry(page, NIGHT).get_by_role("button", name="Enable")).to_be_visible()
    expect(page.locator(f"{PANEL} .jp-extensionmanager-error")).to_have_count(0)

    page.reload()
    wait_for_launcher(page)
    config = json.loads(page.locator("script#jupyter-config-data").text_content() or "{}")
    assert NIGHT in config["disabledExtensions"]
    open_extension_manager(page, first_time=False)
    expect(installed_entry(page, NIGHT).get_by_role("button", name="Enable")).to_be_visible()
    expect(installed_entry(page, "jupyterlab_pygments")).to_be_visible()
