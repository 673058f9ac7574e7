"""JupyterLab: a terminal opened from the launcher runs what the user types."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.lab import open_lab
from tests.e2e.servers import LabServer

TERMINAL_SETTINGS = "lab/api/settings/@jupyterlab/terminal-extension:plugin"


def test_terminal_from_the_launcher_echoes_what_the_shell_computed(
    page: Page, lab_server: LabServer
) -> None:
    # xterm draws its text on a canvas; in screen-reader mode it also keeps it in the DOM,
    # where the test can read it. Set through the server's settings API, as a user would.
    with httpx.Client(
        base_url=lab_server.url, headers={"Authorization": f"token {lab_server.token}"}
    ) as http:
        saved = http.put(TERMINAL_SETTINGS, json={"raw": '{"screenReaderMode": true}'})
        assert saved.status_code == 204, saved.text

    open_lab(page, lab_server)
    page.locator(".jp-LauncherCard[title='Start a new terminal session']").click()
    screen = page.locator("#jp-main-dock-panel .jp-Terminal .xterm-screen")
    expect(screen).to_be_visible()
    screen.click()
    page.keyboard.type("echo modserver-$((6*7))")
    page.keyboard.press("Enter")
    # The typed line says $((6*7)); only the shell's answer says 42.
    text = page.locator("#jp-main-dock-panel .jp-Terminal .xterm-accessibility-tree")
    expect(text).to_contain_text("modserver-42")
