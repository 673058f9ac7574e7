"""JupyterLab: settings persist on the server, and a pip-installed labextension shows up."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.lab import menu, open_lab, wait_for_launcher
from tests.e2e.servers import LabServer


def test_dark_theme_chosen_in_the_menu_survives_a_reload(page: Page, lab_server: LabServer) -> None:
    open_lab(page, lab_server)
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", "JupyterLab Light")
    menu(page, "Settings", "Theme", "JupyterLab Dark")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", "JupyterLab Dark")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")

    page.reload()
    wait_for_launcher(page)
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", "JupyterLab Dark")


def test_pip_installed_theme_extension_is_offered_and_applies(
    page: Page, lab_server: LabServer
) -> None:
    # jupyterlab-night (a prebuilt labextension from PyPI, in the test extras) adds this theme.
    open_lab(page, lab_server)
    menu(page, "Settings", "Theme", "JupyterLab Night")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", "JupyterLab Night")
    # The splash screen covers the switch until the theme's CSS (from the extension) has loaded.
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)
