"""JupyterLab on modserver behind a real JupyterHub, in the browser, once.

alice signs in on the hub's own login page; the hub spawns her modserver, the browser
follows the hub's OAuth flow into her lab, and a notebook cell runs there. The hub and
its proxy come from tests/jupyterhub (npm's configurable-http-proxy, DummyAuthenticator).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import UI_TIMEOUT_MS, VIEWPORT
from tests.e2e.lab import NOTEBOOK_CARD, expect_output, run_in_new_cell, wait_for_idle_kernel
from tests.e2e.recorder import NetworkRecorder
from tests.jupyterhub.hub import PASSWORD, Hub, start_hub

# Spawning takes longer than any UI step: the hub waits for the server, then redirects.
SPAWN_TIMEOUT_MS = 180_000


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    # Every built-in plugin the lab talks to, as a real deployment would run (the
    # collaboration frontend is installed with the test extras: yjs must serve it).
    plugins = "lab,contents,kernels,sessions,config,events,nbconvert,terminals,yjs"
    running = start_hub(tmp_path / "hub", plugins=plugins)
    yield running
    running.stop()


@pytest.fixture
def context(
    browser: Browser, recorder: NetworkRecorder, hub: Hub, request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    """A fresh browser profile, recorded like every e2e page; closed before the hub stops."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=False)
    ctx.set_default_timeout(UI_TIMEOUT_MS)
    ctx.on("page", lambda page: recorder.attach(page, request.node.nodeid))
    recorder.watch_websockets(ctx, request.node.nodeid)
    yield ctx
    ctx.close()


def test_alice_signs_in_at_the_hub_and_runs_a_notebook_in_her_lab(page: Page, hub: Hub) -> None:
    page.goto(f"{hub.url}hub/login?next=%2Fhub%2Fuser-redirect%2Flab")
    page.locator("input[name='username']").fill("alice")
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[type='submit'], button[type='submit']").first.click()
    # The hub spawns modserver, then the browser goes through the hub's OAuth into the lab.
    expect(page).to_have_url(re.compile(r"/user/alice/lab"), timeout=SPAWN_TIMEOUT_MS)
    card = page.locator(NOTEBOOK_CARD).first
    expect(card).to_be_visible()
    card.click()
    wait_for_idle_kernel(page)
    cell = run_in_new_cell(page, "print(6*7)")
    expect_output(cell, "42")
